//! The [`Vault`] façade: the one owner of the secret store, the database and
//! the audit log. Every state change goes through it and writes its audit
//! event in the same database transaction.
//!
//! - [`lifecycle`]: create, import, rotate, revoke, delete, restore, reveal,
//!   export — and the crash-safety protocol that ties the keychain to SQLite.
//! - [`query`]: list, show, JWKS, API-key verification.
//! - [`check`]: `vault check [--repair]`.

pub mod audit_log;
pub mod check;
pub mod desktop;
pub mod known;
pub mod lifecycle;
pub mod model;
pub mod policy;
pub mod query;
pub mod team;
pub mod tokens;

pub use check::{CheckReport, Problem};
pub use lifecycle::{
    CreatedSigningKey, Export, ExportFormat, IssuedApiKey, NewApiKey, NewSigningKey, Rotated,
    SecretUse,
};
pub use model::{KeyDetail, KeyFilter, KeySummary, Policy, VersionInfo};
pub use policy::{DueItem, DueReport, PolicyChange};
pub use query::ApiKeyMatch;
pub use tokens::{KidMatch, RevokedToken};

use crate::audit::{self, NewEvent, Outcome};
use crate::clock::{Clock, SystemClock};
use crate::db;
use crate::duration::rfc3339;
use crate::error::{Error, Result};
use crate::secrets::keychain::KeychainStore;
use crate::secrets::SecretStore;
use ring::rand::{SecureRandom, SystemRandom};
use rusqlite::{Connection, OptionalExtension};
use serde::Serialize;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Which shell is acting (recorded in the audit log).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Source {
    Cli,
    Desktop,
}

impl Source {
    fn as_str(self) -> &'static str {
        match self {
            Source::Cli => "cli",
            Source::Desktop => "desktop",
        }
    }
}

/// How to open a vault.
pub struct VaultOptions {
    /// The data directory (database and settings; never secrets).
    pub dir: PathBuf,
    /// Which shell is acting.
    pub source: Source,
    /// The clock used for expiry and grace (the system clock by default).
    pub clock: Arc<dyn Clock>,
    /// The secret store; `None` selects the OS keychain.
    pub store: Option<Box<dyn SecretStore>>,
}

impl VaultOptions {
    /// A vault in `dir`, on the OS keychain and the system clock.
    pub fn new(dir: impl Into<PathBuf>, source: Source) -> Self {
        VaultOptions {
            dir: dir.into(),
            source,
            clock: Arc::new(SystemClock),
            store: None,
        }
    }

    /// Uses `clock` instead of the system clock.
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }
}

/// The platform's default vault directory (`$XDG_DATA_HOME/keyward`, ...).
pub fn default_dir() -> Result<PathBuf> {
    let base = if cfg!(windows) {
        std::env::var_os("APPDATA").map(PathBuf::from)
    } else if cfg!(target_os = "macos") {
        std::env::var_os("HOME").map(|h| PathBuf::from(h).join("Library/Application Support"))
    } else {
        std::env::var_os("XDG_DATA_HOME")
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
            .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".local/share")))
    };
    base.map(|b| b.join("keyward")).ok_or_else(|| {
        Error::Io("cannot find a home directory for the default vault: pass --vault DIR or set KEYWARD_VAULT".into())
    })
}

/// A personal or team vault, open.
pub struct Vault {
    dir: PathBuf,
    db_path: PathBuf,
    conn: Connection,
    store: Box<dyn SecretStore>,
    clock: Arc<dyn Clock>,
    source: Source,
    actor: String,
    vault_id: String,
    genesis: Vec<u8>,
    /// The audit checkpoint MAC key, read from the keychain once per
    /// process, and whether this handle created it (the vault's first checkpoint).
    mac_key: std::cell::OnceCell<(crate::SecretBytes, bool)>,
    /// A team vault's link to OpenBao (`team.json`); `None` for a personal vault.
    team: Option<team::TeamState>,
}

/// `vault info`.
#[derive(Debug, Clone, Serialize, ts_rs::TS)]
pub struct VaultInfo {
    pub vault_id: String,
    pub data_dir: String,
    pub database: String,
    pub schema_version: u32,
    pub keychain_backend: String,
    pub keychain_namespace: String,
    pub keychain_reachable: bool,
    pub keychain_error: Option<String>,
    pub keys: i64,
    pub events: i64,
}

impl Vault {
    /// Opens the vault in `opts.dir`, creating the directory (when its parent
    /// exists) and the database on first use.
    pub fn open(opts: VaultOptions) -> Result<Vault> {
        let dir = opts.dir;
        ensure_dir(&dir)?;
        let db_path = dir.join("vault.db");
        let conn = db::open(&db_path)?;
        let (vault_id, genesis, created) = init_meta(&conn, opts.source, opts.clock.as_ref())?;
        // A team vault keeps key material in OpenBao (vault/team.rs).
        let link = crate::team::TeamLink::attach(&dir)?.map(Arc::new);
        let store: Box<dyn SecretStore> = match (opts.store, &link) {
            (Some(s), _) => s,
            (None, Some(l)) => Box::new(crate::secrets::openbao::OpenBaoStore::new(
                l.clone(),
                KeychainStore::new(&l.config.client_id),
            )),
            (None, None) => Box::new(KeychainStore::new(&vault_id)),
        };
        let vault = Vault {
            dir,
            db_path,
            conn,
            store,
            clock: opts.clock,
            source: opts.source,
            actor: os_user(),
            vault_id,
            genesis,
            mac_key: std::cell::OnceCell::new(),
            team: link.map(team::TeamState::new),
        };
        if created {
            // `vault.create` committed with the vault's first rows.
            vault.refresh_checkpoint();
        }
        // The database is readable from here on: a failed open is recorded.
        if let Err(e) = vault.team_pull(false) {
            vault.record_failure("vault.open", None, &e);
            return Err(e);
        }
        Ok(vault)
    }

    /// Opens the vault for a session of the desktop app (at start, or on a
    /// switch to another vault) and records `vault.open`: the secret store
    /// must answer and the audit checkpoint key must be there. A failure
    /// once the database is readable (keychain locked, denied or
    /// unreachable, checkpoint key missing) is recorded with its error code
    /// and returned. The CLI does not record an open per command: every
    /// change and every reveal is an event of its own, and logging each read
    /// would turn reads into writes.
    pub fn open_session(opts: VaultOptions) -> Result<Vault> {
        let vault = Vault::open(opts)?;
        let ready = vault
            .store
            .probe()
            .and_then(|_| vault.check_audit_mac_key());
        if let Err(e) = ready {
            vault.record_failure("vault.open", None, &e);
            return Err(e);
        }
        let tx = db::Transaction::immediate(&vault.conn)?;
        vault.record(
            &tx,
            "vault.open",
            None,
            Outcome::Success,
            serde_json::json!({
                "backend": vault.store.backend(),
                "team": vault.team.is_some(),
            }),
        )?;
        vault.commit(tx)?;
        Ok(vault)
    }

    /// The vault's random id (the keychain namespace).
    pub fn id(&self) -> &str {
        &self.vault_id
    }

    /// The data directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The current instant by the vault's clock.
    pub fn now(&self) -> chrono::DateTime<chrono::Utc> {
        self.clock.now()
    }

    /// `vault info`: where things are and whether the keychain answers.
    pub fn info(&self) -> Result<VaultInfo> {
        let probe = self.store.probe();
        let keys: i64 = self.conn.query_row(
            "SELECT COUNT(*) FROM keys WHERE destroyed_at IS NULL",
            [],
            |r| r.get(0),
        )?;
        Ok(VaultInfo {
            vault_id: self.vault_id.clone(),
            data_dir: self.dir.display().to_string(),
            database: self.db_path.display().to_string(),
            schema_version: db::schema_version(&self.conn)?,
            keychain_backend: self.store.backend().to_string(),
            keychain_namespace: format!("keyward:{}", self.vault_id),
            keychain_reachable: probe.is_ok(),
            keychain_error: probe.err().map(|e| e.to_string()),
            keys,
            events: audit::log::count(&self.conn)?,
        })
    }

    /// Lists audit events.
    pub fn audit_list(&self, filter: &audit::AuditFilter) -> Result<Vec<audit::AuditEvent>> {
        audit::log::list(&self.conn, filter)
    }

    /// Appends an audit event inside the caller's transaction.
    pub(crate) fn record(
        &self,
        conn: &Connection,
        action: &str,
        key: Option<(&str, Option<u32>)>,
        outcome: Outcome,
        details: Value,
    ) -> Result<i64> {
        if let Some((id, _)) = key {
            self.team_touch(id);
        }
        let at = rfc3339(self.clock.now());
        audit::log::append(
            conn,
            &self.genesis,
            &NewEvent {
                at: &at,
                actor: &self.actor,
                source: self.source.as_str(),
                action,
                key_id: key.map(|k| k.0),
                version: key.and_then(|k| k.1),
                outcome,
                details,
            },
        )
    }

    /// Records a failed operation in a transaction of its own (best effort:
    /// the original error is what the user must see).
    pub(crate) fn record_failure(
        &self,
        action: &str,
        key: Option<(&str, Option<u32>)>,
        err: &Error,
    ) {
        let Ok(tx) = db::Transaction::immediate(&self.conn) else {
            return;
        };
        let outcome = if err.class() == crate::error::ExitClass::Environment {
            Outcome::Failure
        } else {
            Outcome::Denied
        };
        let details = serde_json::json!({"error": err.code(), "message": err.to_string()});
        if self.record(&tx, action, key, outcome, details).is_ok() {
            let _ = self.commit(tx);
        }
    }
}

/// Creates the vault directory when its parent exists; refuses otherwise so a
/// typo in `--vault` does not scatter directories.
fn ensure_dir(dir: &Path) -> Result<()> {
    if dir.is_dir() {
        return Ok(());
    }
    if dir.exists() {
        return Err(Error::Io(format!(
            "the vault path {} exists but is not a directory: choose another --vault",
            dir.display()
        )));
    }
    let parent = dir.parent().filter(|p| !p.as_os_str().is_empty());
    if let Some(p) = parent {
        if !p.is_dir() {
            // The default locations' parents (~/.local/share, and the
            // desktop's folder of team caches) may be missing on a fresh account.
            let default = default_dir().ok().as_deref() == Some(dir)
                || known::teams_dir().ok().as_deref() == Some(p);
            if !default {
                return Err(Error::Io(format!(
                    "the vault directory's parent {} does not exist: create it or choose another --vault",
                    p.display()
                )));
            }
        }
    }
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        builder.mode(0o700);
    }
    builder.create(dir).map_err(|e| {
        Error::Io(format!(
            "cannot create the vault directory {} ({e}): check its permissions or choose another --vault",
            dir.display()
        ))
    })
}

/// Reads the vault id and audit genesis, creating them for a new vault
/// (with its `vault.create` event, in the same transaction); says whether
/// it created them.
fn init_meta(
    conn: &Connection,
    source: Source,
    clock: &dyn Clock,
) -> Result<(String, Vec<u8>, bool)> {
    let read = |conn: &Connection| -> Result<Option<(String, String)>> {
        let id: Option<String> = conn
            .query_row("SELECT v FROM meta WHERE k = 'vault_id'", [], |r| r.get(0))
            .optional()?;
        let genesis: Option<String> = conn
            .query_row("SELECT v FROM meta WHERE k = 'audit_genesis'", [], |r| {
                r.get(0)
            })
            .optional()?;
        Ok(id.zip(genesis))
    };
    let (existing, created) = match read(conn)? {
        Some(v) => (v, false),
        None => {
            let tx = db::Transaction::immediate(conn)?;
            // Another process may have initialised it while we waited.
            match read(&tx)? {
                Some(v) => (v, false),
                None => {
                    let id = format!("v_{}", random_hex(8)?);
                    let genesis = random_bytes(32)?;
                    let at = rfc3339(clock.now());
                    tx.execute(
                        "INSERT INTO meta (k, v) VALUES ('vault_id', ?1), ('audit_genesis', ?2), ('created_at', ?3)",
                        rusqlite::params![id, audit::log::hex(&genesis), at],
                    )?;
                    audit::log::append(
                        &tx,
                        &genesis,
                        &NewEvent {
                            at: &at,
                            actor: &os_user(),
                            source: source.as_str(),
                            action: "vault.create",
                            key_id: None,
                            version: None,
                            outcome: Outcome::Success,
                            details: serde_json::json!({"vault_id": id}),
                        },
                    )?;
                    tx.commit()?;
                    ((id, audit::log::hex(&genesis)), true)
                }
            }
        }
    };
    let genesis = audit::log::from_hex(&existing.1).ok_or_else(|| {
        Error::Database(
            "the vault's audit genesis value is corrupted: restore the database from a backup"
                .into(),
        )
    })?;
    Ok((existing.0, genesis, created))
}

/// `n` random bytes from the OS CSPRNG.
pub(crate) fn random_bytes(n: usize) -> Result<Vec<u8>> {
    let mut buf = vec![0u8; n];
    SystemRandom::new()
        .fill(&mut buf)
        .map_err(|_| Error::Io("the OS random number generator failed".into()))?;
    Ok(buf)
}

/// `n` random bytes from the OS CSPRNG, as lowercase hex.
pub(crate) fn random_hex(n: usize) -> Result<String> {
    Ok(audit::log::hex(&random_bytes(n)?))
}

/// The OS user acting, for the audit log.
fn os_user() -> String {
    ["USER", "LOGNAME", "USERNAME"]
        .iter()
        .find_map(|v| std::env::var(v).ok().filter(|s| !s.is_empty()))
        .or_else(passwd_user)
        .unwrap_or_else(|| "unknown".into())
}

/// The name of the process's uid from /etc/passwd (services and CI often run
/// without USER set).
#[cfg(target_os = "linux")]
fn passwd_user() -> Option<String> {
    use std::os::unix::fs::MetadataExt;
    let uid = std::fs::metadata("/proc/self").ok()?.uid();
    let passwd = std::fs::read_to_string("/etc/passwd").ok()?;
    passwd.lines().find_map(|l| {
        let mut f = l.split(':');
        let name = f.next()?;
        let id: u32 = f.nth(1)?.parse().ok()?;
        (id == uid).then(|| name.to_string())
    })
}

#[cfg(not(target_os = "linux"))]
fn passwd_user() -> Option<String> {
    None
}
