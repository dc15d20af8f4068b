//! What the desktop app needs beyond the CLI's commands, kept here so the
//! Tauri shell stays a thin layer: the app's settings file in the vault
//! directory, the bounds and action list that let the audit view page over
//! millions of events, token reports that name the vault key behind a `kid`,
//! verification against a vault key or pasted key material, and signing from
//! a form.
//!
//! Nothing here returns a secret: reveal and export stay in `lifecycle`.

use super::model::resolve;
use super::tokens::KidMatch;
use super::Vault;
use crate::audit::Outcome;
use crate::crack::{weak_secret_check, WeakSecret};
use crate::crypto::Alg;
use crate::db::Transaction;
use crate::duration::{parse_duration, parse_time};
use crate::error::{Error, Result};
use crate::jwt::{
    self, Candidate, HeaderAlg, InspectOptions, Inspection, KeySource, SignRequest, Verification,
    VerifyOptions,
};
use serde::{Deserialize, Serialize};
use serde_json::json;
use std::path::Path;
use ts_rs::TS;

/// The settings file, beside `vault.db`.
pub const SETTINGS_FILE: &str = "desktop-settings.json";

/// Colour scheme of the desktop window.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, TS)]
#[serde(rename_all = "lowercase")]
pub enum Theme {
    /// Follow the OS.
    #[default]
    System,
    Light,
    Dark,
}

/// The desktop app's settings, per vault. Durations are strings as the CLI
/// takes them (`24h`, `14d`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(default)]
pub struct DesktopSettings {
    /// Grace period offered by the rotate dialog.
    pub default_grace: String,
    /// Seconds before a copied secret is cleared from the clipboard.
    pub clipboard_clear_seconds: u32,
    /// Seconds before a revealed secret is masked again.
    pub reveal_hide_seconds: u32,
    /// Token lifetimes longer than this are flagged by the inspector.
    pub max_token_lifetime: String,
    /// Keys expiring within this many days get a badge.
    pub expiring_soon_days: u32,
    /// Grace periods ending within this many days get a badge.
    pub grace_ending_soon_days: u32,
    /// The window of the Due view and of the start-up check.
    pub due_window: String,
    pub theme: Theme,
}

impl Default for DesktopSettings {
    fn default() -> Self {
        DesktopSettings {
            default_grace: "24h".into(),
            clipboard_clear_seconds: 30,
            reveal_hide_seconds: 20,
            max_token_lifetime: "24h".into(),
            expiring_soon_days: 14,
            grace_ending_soon_days: 3,
            due_window: "14d".into(),
            theme: Theme::System,
        }
    }
}

impl DesktopSettings {
    /// Refuses values the app could not use, naming the setting.
    pub fn validate(&self) -> Result<()> {
        let duration = |v: &str, what: &str, zero_ok: bool| -> Result<()> {
            let d = parse_duration(v)
                .map_err(|e| Error::invalid("bad_setting", format!("{what}: {e}")))?;
            if !zero_ok && d.is_zero() {
                return Err(Error::invalid(
                    "bad_setting",
                    format!("{what} must be longer than 0s"),
                ));
            }
            Ok(())
        };
        duration(&self.default_grace, "default grace period", true)?;
        duration(&self.max_token_lifetime, "longest token lifetime", false)?;
        duration(&self.due_window, "due window", true)?;
        let range = |v: u32, lo: u32, hi: u32, what: &str| -> Result<()> {
            if (lo..=hi).contains(&v) {
                Ok(())
            } else {
                Err(Error::invalid(
                    "bad_setting",
                    format!("{what} must be between {lo} and {hi}"),
                ))
            }
        };
        range(
            self.clipboard_clear_seconds,
            5,
            600,
            "clipboard clear delay (seconds)",
        )?;
        range(self.reveal_hide_seconds, 3, 300, "reveal time (seconds)")?;
        range(self.expiring_soon_days, 1, 365, "expiring soon (days)")?;
        range(
            self.grace_ending_soon_days,
            1,
            365,
            "grace ending soon (days)",
        )?;
        Ok(())
    }

    /// The default grace period.
    pub fn grace(&self) -> chrono::Duration {
        parse_duration(&self.default_grace).unwrap_or_else(|_| chrono::Duration::hours(24))
    }

    /// The Due window.
    pub fn due_window(&self) -> chrono::Duration {
        parse_duration(&self.due_window).unwrap_or_else(|_| chrono::Duration::days(14))
    }

    /// The inspector's lifetime threshold.
    pub fn max_token_lifetime(&self) -> chrono::Duration {
        parse_duration(&self.max_token_lifetime).unwrap_or_else(|_| chrono::Duration::hours(24))
    }
}

/// Reads the settings of the vault in `dir`; a missing file gives the defaults.
pub fn read_settings(dir: &Path) -> Result<DesktopSettings> {
    let path = dir.join(SETTINGS_FILE);
    match std::fs::read(&path) {
        Ok(bytes) => serde_json::from_slice(&bytes).map_err(|e| {
            Error::invalid(
                "bad_settings_file",
                format!(
                    "{} is not valid settings ({e}): fix or delete it",
                    path.display()
                ),
            )
        }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(DesktopSettings::default()),
        Err(e) => Err(Error::Io(format!("cannot read {}: {e}", path.display()))),
    }
}

pub(crate) fn write_atomically(path: &Path, bytes: &[u8]) -> Result<()> {
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, bytes)
        .and_then(|_| std::fs::rename(&tmp, path))
        .map_err(|e| Error::Io(format!("cannot write {}: {e}", path.display())))
}

/// What the audit view needs to map rows to sequence numbers.
#[derive(Debug, Clone, Serialize, TS)]
pub struct AuditBounds {
    pub first_seq: Option<i64>,
    pub last_seq: Option<i64>,
    /// Events in the table.
    pub count: i64,
}

/// `jwt inspect` plus which vault key the token's `kid` names.
#[derive(Debug, Clone, Serialize, TS)]
pub struct TokenReport {
    pub inspection: Inspection,
    pub kid_match: Option<KidMatch>,
    /// True for HS256/384/512 tokens: the weak-secret check applies.
    pub hmac: bool,
}

/// Which key a verification uses.
#[derive(Debug, Clone, Deserialize, TS)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum VerifyKey {
    /// A vault signing key (its versions and the jti denylist).
    Vault { id: String },
    /// Pasted PEM, certificate, JWK or JWK Set.
    Material { text: String },
    /// A pasted HMAC secret (its exact bytes).
    Secret { text: String },
}

/// The verify panel's form.
#[derive(Debug, Clone, Deserialize, TS)]
pub struct VerifyForm {
    pub token: String,
    pub key: VerifyKey,
    /// Narrow the algorithms the key allows.
    #[serde(default)]
    pub algs: Vec<String>,
    #[serde(default)]
    pub iss: Option<String>,
    #[serde(default)]
    pub aud: Vec<String>,
    /// Seconds of clock skew tolerated.
    #[serde(default)]
    pub leeway: u32,
    #[serde(default)]
    pub require: Vec<String>,
    #[serde(default)]
    pub jws: bool,
}

/// The verify panel's result.
#[derive(Debug, Clone, Serialize, TS)]
pub struct VerifyReport {
    pub verification: Verification,
    /// For a pasted HMAC secret: why it is guessable (empty when it is not).
    pub weak_secret: Vec<WeakSecret>,
}

/// The token signer's form.
#[derive(Debug, Clone, Deserialize, TS)]
pub struct SignForm {
    pub key: String,
    /// A JSON object (empty for none).
    #[serde(default)]
    pub claims: String,
    #[serde(default)]
    pub sub: Option<String>,
    #[serde(default)]
    pub iss: Option<String>,
    #[serde(default)]
    pub aud: Vec<String>,
    /// `15m`, `1h`; none: 1 hour unless the claims set `exp`.
    #[serde(default)]
    pub ttl: Option<String>,
    /// RFC 3339 or Unix seconds.
    #[serde(default)]
    pub not_before: Option<String>,
}

/// A token the signer made.
#[derive(Debug, Clone, Serialize, TS)]
pub struct SignedTokenView {
    pub token: String,
    pub jti: String,
    pub iat: i64,
    pub exp: Option<i64>,
}

fn blank(s: &Option<String>) -> Option<String> {
    s.as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
}

impl Vault {
    /// This vault's desktop settings (defaults when none were saved).
    pub fn desktop_settings(&self) -> Result<DesktopSettings> {
        read_settings(&self.dir)
    }

    /// Validates and saves the desktop settings; the change is audited.
    pub fn save_desktop_settings(&self, settings: &DesktopSettings) -> Result<()> {
        settings.validate()?;
        let text = serde_json::to_string_pretty(settings).unwrap_or_default();
        write_atomically(&self.dir.join(SETTINGS_FILE), text.as_bytes())?;
        let tx = Transaction::immediate(&self.conn)?;
        self.record(
            &tx,
            "settings.change",
            None,
            Outcome::Success,
            json!({"settings": settings}),
        )?;
        self.commit(tx)
    }

    /// What the desktop app does first with every vault it opens, at start
    /// and on each switch to another vault: opens the session (recorded as
    /// `vault.open`, see [`Vault::open_session`]) and applies what is due
    /// ([`Vault::apply_due_now`], actor `system`).
    ///
    /// A session that cannot open (keychain locked, checkpoint key missing)
    /// has its failure recorded, and the vault is then opened plainly, with
    /// the same directory, source and clock on its default secret store, so
    /// the report still says what is due (or the reason applying it failed).
    pub fn open_session_and_apply_due(opts: super::VaultOptions) -> Result<super::DueReport> {
        let (dir, source, clock) = (opts.dir.clone(), opts.source, opts.clock.clone());
        let mut v = match Vault::open_session(opts) {
            Ok(v) => v,
            Err(_) => Vault::open(super::VaultOptions::new(dir, source).with_clock(clock))?,
        };
        v.apply_due_now()
    }

    /// `key due --apply` within the settings' window, then what is still due:
    /// the report lists what remains (not the items just applied) and says in
    /// `applied` what was done. The app runs this at start.
    pub fn apply_due_now(&mut self) -> Result<super::DueReport> {
        let within = self.desktop_settings()?.due_window();
        let applied = self.due(within, true)?.applied;
        let mut after = self.due(within, false)?;
        after.applied = applied;
        Ok(after)
    }

    /// The first and last sequence numbers of the audit log and its size.
    pub fn audit_bounds(&self) -> Result<AuditBounds> {
        let (first_seq, last_seq): (Option<i64>, Option<i64>) =
            self.conn
                .query_row("SELECT MIN(seq), MAX(seq) FROM audit", [], |r| {
                    Ok((r.get(0)?, r.get(1)?))
                })?;
        // Events are appended with consecutive numbers and only ever removed
        // from the start (archive): the span is the count, without a scan.
        let count = match (first_seq, last_seq) {
            (Some(a), Some(b)) => b - a + 1,
            _ => 0,
        };
        Ok(AuditBounds {
            first_seq,
            last_seq,
            count,
        })
    }

    /// Every distinct audit action, by a walk of the action index (fast on
    /// millions of events).
    pub fn audit_actions(&self) -> Result<Vec<String>> {
        let mut stmt = self.conn.prepare(
            "WITH RECURSIVE a(x) AS (
                 SELECT MIN(action) FROM audit
                 UNION ALL
                 SELECT (SELECT MIN(action) FROM audit WHERE action > a.x) FROM a WHERE a.x IS NOT NULL
             ) SELECT x FROM a WHERE x IS NOT NULL",
        )?;
        let rows = stmt.query_map([], |r| r.get(0))?;
        Ok(rows.collect::<rusqlite::Result<Vec<String>>>()?)
    }

    /// Inspects a pasted token and names the vault key behind its `kid`.
    pub fn token_report(&self, text: &str, max_lifetime: chrono::Duration) -> Result<TokenReport> {
        let token = jwt::parse(text)?;
        let mut opts = InspectOptions::at(self.now());
        opts.max_lifetime = max_lifetime.num_seconds();
        let inspection = jwt::inspect(&token, &opts);
        let kid_match = self.describe_kid(&token)?;
        let hmac = matches!(token.alg(), HeaderAlg::Known(a) if a.is_hmac());
        Ok(TokenReport {
            inspection,
            kid_match,
            hmac,
        })
    }

    /// Runs the verify panel's form: every check, step by step.
    pub fn verify_form(&mut self, form: VerifyForm) -> Result<VerifyReport> {
        let token = jwt::parse(&form.token)?;
        let mut weak = Vec::new();
        let keys = match &form.key {
            VerifyKey::Vault { .. } => KeySource::set(Vec::new()),
            VerifyKey::Material { text } => {
                jwt::key_source_from_file(text.as_bytes(), "pasted key")?
            }
            VerifyKey::Secret { text } => {
                if text.is_empty() {
                    return Err(Error::invalid("empty_secret", "the pasted secret is empty"));
                }
                if let HeaderAlg::Known(a) = token.alg() {
                    if a.is_hmac() {
                        weak = weak_secret_check(text.as_bytes(), *a);
                    }
                }
                KeySource::Single(Candidate::hmac_secret(text.as_bytes(), "pasted secret"))
            }
        };
        let mut opts = VerifyOptions::new(keys, self.now());
        opts.algs = form
            .algs
            .iter()
            .map(|a| a.parse::<Alg>())
            .collect::<Result<_>>()?;
        opts.iss = blank(&form.iss);
        opts.aud = form
            .aud
            .iter()
            .map(|a| a.trim().to_string())
            .filter(|a| !a.is_empty())
            .collect();
        opts.leeway = i64::from(form.leeway);
        opts.require = form
            .require
            .iter()
            .map(|a| a.trim().to_string())
            .filter(|a| !a.is_empty())
            .collect();
        opts.jws = form.jws;
        let verification = match &form.key {
            VerifyKey::Vault { id } => self.verify_token(id, &token, opts)?,
            _ => jwt::verify(&token, &opts),
        };
        Ok(VerifyReport {
            verification,
            weak_secret: weak,
        })
    }

    /// Signs a token from the signer's form with the key's active version.
    pub fn sign_form(&mut self, form: SignForm) -> Result<SignedTokenView> {
        let claims = if form.claims.trim().is_empty() {
            serde_json::Map::new()
        } else {
            jwt::parse_json_object(form.claims.as_bytes(), "claims")?
        };
        let ttl = match blank(&form.ttl) {
            Some(t) => Some(crate::duration::parse_positive(&t)?),
            None => None,
        };
        let not_before = match blank(&form.not_before) {
            Some(t) => Some(parse_time(&t)?),
            None => None,
        };
        let req = SignRequest {
            claims,
            sub: blank(&form.sub),
            iss: blank(&form.iss),
            aud: form
                .aud
                .iter()
                .map(|a| a.trim().to_string())
                .filter(|a| !a.is_empty())
                .collect(),
            ttl,
            not_before,
            header: serde_json::Map::new(),
        };
        // Resolve first, so a missing key is reported before anything else.
        resolve(&self.conn, &form.key)?;
        let signed = self.sign_token(&form.key, req)?;
        Ok(SignedTokenView {
            token: signed.token,
            jti: signed.jti,
            iat: signed.iat,
            exp: signed.exp,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_defaults_validate_and_bad_values_are_named() {
        assert!(DesktopSettings::default().validate().is_ok());
        let bad = DesktopSettings {
            clipboard_clear_seconds: 1,
            ..DesktopSettings::default()
        };
        let e = bad.validate().unwrap_err().to_string();
        assert!(e.contains("clipboard"), "{e}");
        let bad = DesktopSettings {
            default_grace: "soon".into(),
            ..DesktopSettings::default()
        };
        assert!(bad.validate().unwrap_err().to_string().contains("grace"));
    }

    #[test]
    fn missing_settings_file_gives_defaults_and_partial_files_fill_in() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(
            read_settings(dir.path()).unwrap(),
            DesktopSettings::default()
        );
        std::fs::write(
            dir.path().join(SETTINGS_FILE),
            r#"{"clipboard_clear_seconds": 45, "theme": "dark"}"#,
        )
        .unwrap();
        let s = read_settings(dir.path()).unwrap();
        assert_eq!(s.clipboard_clear_seconds, 45);
        assert_eq!(s.theme, Theme::Dark);
        assert_eq!(s.default_grace, "24h");
        std::fs::write(dir.path().join(SETTINGS_FILE), "{").unwrap();
        assert_eq!(
            read_settings(dir.path()).unwrap_err().code(),
            "bad_settings_file"
        );
    }
}
