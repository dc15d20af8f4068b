//! The leak scanner behind `keyward scan`: walks files in parallel
//! (respecting `.gitignore`, skipping binaries and huge files), finds
//! credentials ([`Detector`]), and names Keyward API keys through the vault
//! ([`KeyLookup`]) with their state and the command that retires them.
//!
//! It must never return, print or log a whole secret: findings carry a
//! masked form (prefix, `…`, last four characters), and a Keyward key read
//! from a file lives only in a zeroizing [`ApiKey`] until the vault has been
//! asked about it. It never writes to the vault: the lookup does not count as
//! a use of the key.

mod detect;
mod sarif;
mod walk;

pub use detect::{fake_github_token, mask, Detection, Detector, JwtFacts, Kind};
pub use sarif::sarif;

use crate::error::{Error, Result};
use crate::keys::apikey::ApiKey;
use crate::keys::state::KeyState;
use crate::vault::query::ApiKeyMatch;
use crate::vault::Vault;
use chrono::{DateTime, Utc};
use serde::Serialize;
use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// Files larger than this are skipped unless the caller raises it.
pub const DEFAULT_MAX_FILE_SIZE: u64 = 10 * 1024 * 1024;
/// A NUL byte in this many leading bytes makes a file binary (as in git and ripgrep).
pub const BINARY_SNIFF_LEN: usize = 8 * 1024;

/// What to scan and how.
#[derive(Debug, Clone)]
pub struct ScanOptions {
    /// Files and directories; each must exist.
    pub paths: Vec<PathBuf>,
    /// Larger files are skipped (and counted).
    pub max_file_size: u64,
    /// Worker threads; 0 picks one per core.
    pub threads: usize,
    /// Honour `.gitignore`, `.ignore` and `.keywardignore` files.
    pub respect_ignore_files: bool,
    /// The instant JWT times are judged against.
    pub now: DateTime<Utc>,
}

impl ScanOptions {
    /// Defaults: 10 MiB limit, one thread per core, ignore files honoured.
    pub fn new(paths: Vec<PathBuf>) -> Self {
        ScanOptions {
            paths,
            max_file_size: DEFAULT_MAX_FILE_SIZE,
            threads: 0,
            respect_ignore_files: true,
            now: Utc::now(),
        }
    }
}

/// Who can say which key a Keyward API key is: the vault, or a test double.
pub trait KeyLookup {
    /// The key's owner and state, `None` when it is not known here.
    fn identify(&self, key: &ApiKey) -> Result<Option<ApiKeyMatch>>;
}

impl KeyLookup for Vault {
    fn identify(&self, key: &ApiKey) -> Result<Option<ApiKeyMatch>> {
        self.identify_api_key(key)
    }
}

/// How bad a finding is (SARIF's levels).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ts_rs::TS)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    /// A credential that may work.
    Error,
    /// A credential that probably does not (revoked key, test key, JWT).
    Warning,
}

impl Level {
    /// The SARIF `level`.
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Error => "error",
            Level::Warning => "warning",
        }
    }
}

/// Whether the vault could name a Keyward key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ts_rs::TS)]
#[serde(rename_all = "snake_case")]
pub enum Lookup {
    /// The vault knows it: id, name and state are filled in.
    Found,
    /// Checksum-valid, but not a key of this vault.
    NotInVault,
    /// No vault was given (none exists yet).
    NoVault,
    /// The vault failed to answer (see the report's warnings).
    Failed,
}

/// What the vault says about a Keyward key found in a file.
#[derive(Debug, Clone, Serialize, ts_rs::TS)]
pub struct KeywardKey {
    pub lookup: Lookup,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub state: Option<KeyState>,
    /// Whether the leaked version is still accepted (pending, active, grace).
    pub live: bool,
}

/// One credential in one file.
#[derive(Debug, Clone, Serialize, ts_rs::TS)]
pub struct Finding {
    /// The path as walked, `/`-separated, without a leading `./`.
    pub file: String,
    #[serde(skip)]
    pub path: PathBuf,
    pub line: u64,
    pub column: u64,
    pub kind: Kind,
    pub level: Level,
    /// Prefix, `…`, last four characters.
    pub masked: String,
    /// One line for people: what it is and what to do.
    pub message: String,
    /// The format's variant (`GitHub OAuth access token`, `RSA PRIVATE KEY`...).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub variant: Option<String>,
    /// For Keyward API keys: whose key, in which state.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key: Option<KeywardKey>,
    /// The command to run, for a live Keyward key.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub suggestion: Option<String>,
    /// For JWTs: alg, kid and lint findings.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub jwt: Option<JwtFacts>,
}

/// Files left out, by reason.
#[derive(Debug, Clone, Default, Serialize, ts_rs::TS)]
pub struct Skipped {
    pub binary: u64,
    pub too_large: u64,
    pub unreadable: u64,
}

/// The result of a scan.
#[derive(Debug, Clone, Serialize, ts_rs::TS)]
pub struct ScanReport {
    pub findings: Vec<Finding>,
    pub files_scanned: u64,
    pub bytes_scanned: u64,
    pub skipped: Skipped,
    /// Files or directories that could not be read, and vault failures: one line each.
    pub warnings: Vec<String>,
}

/// Scans `opts.paths`; with a `lookup`, Keyward keys are named. A path that
/// does not exist or cannot be read is bad input; files deeper down that
/// cannot be read become warnings.
pub fn scan(opts: &ScanOptions, lookup: Option<&dyn KeyLookup>) -> Result<ScanReport> {
    if opts.paths.is_empty() {
        return Err(Error::invalid("no_paths", "nothing to scan: give a path"));
    }
    for p in &opts.paths {
        check_readable(p)?;
    }
    let detector = Detector::new(opts.now);
    let walked = walk::walk(opts, &detector);
    let mut warnings = walked.warnings;
    let mut cache: HashMap<[u8; 32], Option<ApiKeyMatch>> = HashMap::new();
    let mut lookup_failed = false;
    let mut findings = Vec::with_capacity(walked.hits.len());
    for (path, d) in walked.hits {
        let file = display_path(&path);
        let kind = d.kind;
        let (level, message, variant, key, suggestion, jwt) = match d.extra {
            detect::Extra::ApiKey(api_key) => {
                let (key, failed) = match lookup {
                    None => (no_match(Lookup::NoVault), false),
                    Some(l) => {
                        let hash = api_key.hash();
                        match cache.get(&hash) {
                            Some(m) => (from_match(m.as_ref()), false),
                            None => match l.identify(&api_key) {
                                Ok(m) => {
                                    let k = from_match(m.as_ref());
                                    cache.insert(hash, m);
                                    (k, false)
                                }
                                Err(e) => {
                                    if !lookup_failed {
                                        warnings.push(format!(
                                            "the vault could not name Keyward keys: {e}"
                                        ));
                                    }
                                    (no_match(Lookup::Failed), true)
                                }
                            },
                        }
                    }
                };
                lookup_failed |= failed;
                // `api_key` (the secret) is dropped, and zeroized, here.
                drop(api_key);
                let suggestion = key
                    .live
                    .then(|| key.id.as_ref().map(|id| format!("keyward key rotate {id}")))
                    .flatten();
                let level = if key.lookup == Lookup::Found && !key.live {
                    Level::Warning
                } else {
                    Level::Error
                };
                (
                    level,
                    keyward_message(&key, suggestion.as_deref()),
                    None,
                    Some(key),
                    suggestion,
                    None,
                )
            }
            detect::Extra::Jwt(facts) => {
                let message = jwt_message(&facts);
                (Level::Warning, message, None, None, None, Some(facts))
            }
            detect::Extra::Variant(v) => {
                let level = if v.contains("test") {
                    Level::Warning
                } else {
                    Level::Error
                };
                let message = format!("{v}: {}", kind.action());
                (level, message, Some(v.to_string()), None, None, None)
            }
            detect::Extra::PemLabel(label) => {
                let message = format!(
                    "{label} block{}: {}",
                    if label.contains("ENCRYPTED") {
                        " (encrypted, still a leak: its passphrase may be weak)"
                    } else {
                        ""
                    },
                    kind.action()
                );
                (Level::Error, message, Some(label), None, None, None)
            }
            detect::Extra::None => {
                let message = format!("{}: {}", kind.title(), kind.action());
                (Level::Error, message, None, None, None, None)
            }
        };
        findings.push(Finding {
            file,
            path,
            line: d.line,
            column: d.column,
            kind,
            level,
            masked: d.masked,
            message,
            variant,
            key,
            suggestion,
            jwt,
        });
    }
    findings.sort_by(|a, b| (&a.file, a.line, a.column).cmp(&(&b.file, b.line, b.column)));
    Ok(ScanReport {
        findings,
        files_scanned: walked.files_scanned,
        bytes_scanned: walked.bytes_scanned,
        skipped: walked.skipped,
        warnings,
    })
}

/// A path given by the user must exist and be readable: anything else is bad input.
fn check_readable(p: &Path) -> Result<()> {
    std::fs::metadata(p)
        .and_then(|m| {
            if m.is_dir() {
                std::fs::read_dir(p).map(drop)
            } else {
                std::fs::File::open(p).map(drop)
            }
        })
        .map_err(|e| {
            Error::invalid(
                "unreadable_path",
                format!("cannot read {}: {}", p.display(), io_reason(&e)),
            )
        })
}

/// An I/O error's cause without the OS error number.
pub(crate) fn io_reason(e: &std::io::Error) -> String {
    match e.kind() {
        std::io::ErrorKind::NotFound => "no such file or directory".into(),
        std::io::ErrorKind::PermissionDenied => "permission denied".into(),
        _ => {
            let text = e.to_string();
            match text.find(" (os error") {
                Some(i) => text[..i].to_string(),
                None => text,
            }
        }
    }
}

/// `/`-separated, without a leading `./`.
fn display_path(path: &Path) -> String {
    let p = path.strip_prefix(".").unwrap_or(path);
    let text = p.to_string_lossy();
    if std::path::MAIN_SEPARATOR == '/' {
        text.into_owned()
    } else {
        text.replace(std::path::MAIN_SEPARATOR, "/")
    }
}

fn no_match(lookup: Lookup) -> KeywardKey {
    KeywardKey {
        lookup,
        id: None,
        name: None,
        version: None,
        state: None,
        live: false,
    }
}

fn from_match(m: Option<&ApiKeyMatch>) -> KeywardKey {
    match m {
        None => no_match(Lookup::NotInVault),
        Some(m) => KeywardKey {
            lookup: Lookup::Found,
            id: Some(m.id.clone()),
            name: Some(m.name.clone()),
            version: Some(m.version),
            state: Some(m.state),
            live: m.state.verifies(),
        },
    }
}

fn keyward_message(key: &KeywardKey, suggestion: Option<&str>) -> String {
    match (key.lookup, &key.id, &key.name, key.version, key.state) {
        (Lookup::Found, Some(id), Some(name), Some(v), Some(state)) => {
            let what = format!("Keyward API key {name:?} ({id}) v{v}, {}", state.as_str());
            match suggestion {
                Some(cmd) => format!(
                    "{what}: the key still works; rotate it now ({cmd}) and revoke the leaked version"
                ),
                None => format!(
                    "{what}: the key no longer works; remove it from the file and its history"
                ),
            }
        }
        (Lookup::NotInVault, ..) => {
            "Keyward API key (checksum valid) that this vault does not know: find its owner and rotate it".into()
        }
        (Lookup::Failed, ..) => {
            "Keyward API key (checksum valid); the vault could not be asked whose it is".into()
        }
        _ => "Keyward API key (checksum valid); no vault here to say whose it is: run the scan where the vault is".into(),
    }
}

fn jwt_message(facts: &JwtFacts) -> String {
    let kid = facts
        .kid
        .as_ref()
        .map(|k| format!(", kid {k:?}"))
        .unwrap_or_default();
    let lints = if facts.lints.is_empty() {
        "no lint findings".to_string()
    } else {
        let ids: Vec<&str> = facts.lints.iter().map(|l| l.id).collect();
        format!("lints: {}", ids.join(", "))
    };
    format!(
        "JWT ({}{kid}), {lints}: a bearer credential until it expires",
        facts.alg
    )
}
