//! Key lifecycle: create, import, rotate, revoke, delete (scheduled or now),
//! restore, reveal and export.
//!
//! # Crash-safety protocol
//!
//! A key version lives in two places that share no transaction: its secret
//! in the secret store (keychain) and its row in SQLite. Every operation that
//! touches both follows a write-ahead intent:
//!
//! 1. **Intent** — one SQLite transaction records a `pending_ops` row naming
//!    the keychain entry, the operation and the process id. Nothing else changes.
//! 2. **Keychain** — the secret is written (create) or deleted (destroy).
//! 3. **Commit** — one SQLite transaction writes the key/version rows, the
//!    audit event, and deletes the intent.
//!
//! A process killed before step 1 commits changed nothing. Killed between 1
//! and 3, it leaves an intent whose process is gone: `vault check` reports it
//! and `--repair` finishes it — a *create* is rolled back (the entry, if
//! written, is deleted: the new key was never handed to anyone, and the old
//! versions were never touched), a *destroy* is rolled forward (the user
//! asked for it; the entry is deleted and the version becomes a tombstone).
//! Killed after 3, the operation is complete. So at every instant the vault
//! holds the old state, the new state, or an intent that names exactly the
//! keychain entry to clean up: no key is lost and no secret is orphaned.
//! State changes that touch only SQLite (revoke, schedule, restore) are one
//! transaction with their audit event.

use super::model::{current, parse_ts, pick_versions, resolve, versions, KeyRow, VersionRow};
use super::{random_hex, Vault};
use crate::audit::Outcome;
use crate::crypto::{parse_signing_key, Alg, KeyFamily, ParsedKey, PrivateKey, PublicKey};
use crate::db::Transaction;
use crate::duration::rfc3339;
use crate::error::{Error, Result};
use crate::failpoint;
use crate::keys::apikey::{self, ApiKey};
use crate::keys::state::{KeyState, Transition};
use crate::keys::KeyKind;
use crate::secret::SecretBytes;
use crate::secrets::entry_name;
use base64::Engine;
use chrono::{DateTime, Duration, Utc};
use rusqlite::params;
use serde::Serialize;
use serde_json::json;

/// `key new --kind api`.
#[derive(Debug, Clone, Default)]
pub struct NewApiKey {
    pub name: String,
    pub prefix: Option<String>,
    pub scopes: Vec<String>,
    pub expires_in: Option<Duration>,
    pub note: Option<String>,
}

/// `key new --kind signing`.
#[derive(Debug, Clone)]
pub struct NewSigningKey {
    pub name: String,
    pub alg: Alg,
    pub bits: Option<usize>,
    pub expires_in: Option<Duration>,
    pub scopes: Vec<String>,
    pub note: Option<String>,
}

/// A newly issued API key: the only time its secret is shown.
#[derive(Debug, Serialize)]
pub struct IssuedApiKey {
    pub id: String,
    pub name: String,
    pub version: u32,
    pub prefix: String,
    pub expires_at: Option<String>,
    #[serde(skip)]
    pub secret: SecretBytes,
}

/// A newly created or imported signing key.
#[derive(Debug, Clone, Serialize, ts_rs::TS)]
pub struct CreatedSigningKey {
    pub id: String,
    pub name: String,
    pub alg: String,
    pub version: u32,
    pub kid: String,
    pub thumbprint: Option<String>,
    pub public_only: bool,
}

/// The result of `key rotate`.
#[derive(Debug, Serialize, ts_rs::TS)]
pub struct Rotated {
    pub id: String,
    pub name: String,
    pub version: u32,
    pub previous_version: u32,
    /// `active`, or `pending` for a staged rotation.
    pub state: KeyState,
    /// Until when the previous version verifies (not for a staged rotation).
    pub grace_until: Option<String>,
    pub kid: Option<String>,
    pub thumbprint: Option<String>,
    /// The new API key (API keys only): shown once.
    #[serde(skip)]
    pub secret: Option<SecretBytes>,
}

/// Where a revealed secret goes: it decides the audited action.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SecretUse {
    /// Shown to the user (`key.reveal`).
    Reveal,
    /// Put on the clipboard by the desktop app (`key.copy`).
    Copy,
}

impl SecretUse {
    fn action(self) -> &'static str {
        match self {
            SecretUse::Reveal => "key.reveal",
            SecretUse::Copy => "key.copy",
        }
    }
}

/// `key export --format`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExportFormat {
    Pem,
    Jwk,
}

/// Exported key text; secret unless `public`.
#[derive(Debug)]
pub struct Export {
    pub text: SecretBytes,
    pub public: bool,
}

/// Material of a version about to be created.
enum Material {
    Api(ApiKey),
    Private(PrivateKey),
    Public(PublicKey),
}

/// What the version row records about its material (never the secret).
pub(super) struct VersionMeta {
    pub(super) kid: Option<String>,
    pub(super) thumbprint: Option<String>,
    public_der: Option<Vec<u8>>,
    api_hash: Option<[u8; 32]>,
    api_last4: Option<String>,
    secret: Option<SecretBytes>,
}

impl VersionMeta {
    /// A version whose private half is held elsewhere (transit custody).
    pub(super) fn public(public: &PublicKey) -> VersionMeta {
        VersionMeta {
            kid: Some(public.thumbprint()),
            thumbprint: Some(public.thumbprint()),
            public_der: Some(public.to_der()),
            api_hash: None,
            api_last4: None,
            secret: None,
        }
    }
}

impl Material {
    fn meta(&self) -> Result<VersionMeta> {
        Ok(match self {
            Material::Api(k) => VersionMeta {
                kid: None,
                thumbprint: None,
                public_der: None,
                api_hash: Some(k.hash()),
                api_last4: Some(k.last4()),
                secret: Some(k.secret().clone()),
            },
            Material::Private(p) => match p.public_key() {
                Some(public) => VersionMeta {
                    kid: Some(public.thumbprint()),
                    thumbprint: Some(public.thumbprint()),
                    public_der: Some(public.to_der()),
                    api_hash: None,
                    api_last4: None,
                    secret: Some(p.to_storage()),
                },
                // HMAC: a thumbprint would be a hash of the secret (CLI.md),
                // so the kid is random.
                None => VersionMeta {
                    kid: Some(random_hex(8)?),
                    thumbprint: None,
                    public_der: None,
                    api_hash: None,
                    api_last4: None,
                    secret: Some(p.to_storage()),
                },
            },
            Material::Public(public) => VersionMeta {
                kid: Some(public.thumbprint()),
                thumbprint: Some(public.thumbprint()),
                public_der: Some(public.to_der()),
                api_hash: None,
                api_last4: None,
                secret: None,
            },
        })
    }
}

/// Checks a key name given by the user.
pub(super) fn validate_name(name: &str) -> Result<()> {
    let n = name.trim();
    if n.is_empty() {
        return Err(Error::invalid(
            "bad_name",
            "the key name is empty: give --name NAME",
        ));
    }
    if n != name || name.chars().count() > 128 || name.chars().any(char::is_control) {
        return Err(Error::invalid(
            "bad_name",
            "invalid key name: use 1 to 128 printable characters without leading or trailing spaces",
        ));
    }
    Ok(())
}

pub(super) fn validate_scopes(scopes: &[String]) -> Result<()> {
    for s in scopes {
        if s.is_empty() || s.len() > 128 || s.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(Error::invalid(
                "bad_scope",
                format!("invalid scope {s:?}: use 1 to 128 characters without spaces"),
            ));
        }
    }
    Ok(())
}

impl Vault {
    pub(super) fn ensure_name_free(&self, name: &str) -> Result<()> {
        let taken: bool = self.conn.query_row(
            "SELECT EXISTS(SELECT 1 FROM keys WHERE name = ?1 AND destroyed_at IS NULL)",
            [name],
            |r| r.get(0),
        )?;
        if taken {
            return Err(Error::conflict(
                "duplicate_name",
                format!("a key named {name:?} already exists: choose another --name"),
            ));
        }
        Ok(())
    }

    fn new_key_id(&self) -> Result<String> {
        for _ in 0..16 {
            let id = format!("k_{}", random_hex(3)?);
            let taken: bool = self.conn.query_row(
                "SELECT EXISTS(SELECT 1 FROM keys WHERE id = ?1)",
                [&id],
                |r| r.get(0),
            )?;
            if !taken {
                return Ok(id);
            }
        }
        // 16 collisions in a 24-bit space means a huge vault: widen the id.
        Ok(format!("k_{}", random_hex(8)?))
    }

    pub(super) fn expiry(&self, expires_in: Option<i64>) -> Option<String> {
        expires_in.map(|s| rfc3339(self.clock.now() + Duration::seconds(s)))
    }

    /// Issues a new API key.
    pub fn create_api_key(&mut self, req: NewApiKey) -> Result<IssuedApiKey> {
        validate_name(&req.name)?;
        validate_scopes(&req.scopes)?;
        let prefix = req
            .prefix
            .clone()
            .unwrap_or_else(|| apikey::DEFAULT_PREFIX.into());
        apikey::validate_prefix(&prefix)?;
        positive(req.expires_in, "--expires-in")?;
        self.ensure_name_free(&req.name)?;
        let key = ApiKey::generate(&prefix)?;
        let secret = key.secret().clone();
        let row = KeyRow {
            id: self.new_key_id()?,
            name: req.name,
            kind: KeyKind::Api,
            alg: None,
            prefix: Some(prefix.clone()),
            scopes: req.scopes,
            note: req.note,
            created_at: rfc3339(self.clock.now()),
            expires_in: req.expires_in.map(|d| d.num_seconds()),
            grace: None,
            destroy_at: None,
            destroyed_at: None,
            auto_rotate: None,
            max_token_ttl: None,
            custody: None,
        };
        let expires_at = self.expiry(row.expires_in);
        self.create_key(
            &row,
            Material::Api(key),
            "key.create",
            json!({"kind": "api", "prefix": prefix}),
        )?;
        Ok(IssuedApiKey {
            id: row.id,
            name: row.name,
            version: 1,
            prefix,
            expires_at,
            secret,
        })
    }

    /// Creates a signing key with fresh material.
    pub fn create_signing_key(&mut self, req: NewSigningKey) -> Result<CreatedSigningKey> {
        validate_name(&req.name)?;
        validate_scopes(&req.scopes)?;
        positive(req.expires_in, "--expires-in")?;
        if req.bits.is_some() && req.alg.family() != KeyFamily::Rsa {
            return Err(Error::invalid(
                "bad_bits",
                format!("--bits applies to RSA keys only, not {}", req.alg),
            ));
        }
        self.ensure_name_free(&req.name)?;
        let private = PrivateKey::generate(req.alg, req.bits)?;
        let row = self.signing_row(req.name, req.alg, req.scopes, req.note, req.expires_in)?;
        self.finish_signing(row, Material::Private(private), "key.create")
    }

    pub(super) fn signing_row(
        &self,
        name: String,
        alg: Alg,
        scopes: Vec<String>,
        note: Option<String>,
        expires_in: Option<Duration>,
    ) -> Result<KeyRow> {
        Ok(KeyRow {
            id: self.new_key_id()?,
            name,
            kind: KeyKind::Signing,
            alg: Some(alg),
            prefix: None,
            scopes,
            note,
            created_at: rfc3339(self.clock.now()),
            expires_in: expires_in.map(|d| d.num_seconds()),
            grace: None,
            destroy_at: None,
            destroyed_at: None,
            auto_rotate: None,
            max_token_ttl: None,
            custody: None,
        })
    }

    fn finish_signing(
        &mut self,
        row: KeyRow,
        material: Material,
        action: &str,
    ) -> Result<CreatedSigningKey> {
        let public_only = matches!(material, Material::Public(_));
        let alg = row.alg.map(|a| a.as_str().to_string()).unwrap_or_default();
        let meta = self.create_key(
            &row,
            material,
            action,
            json!({"kind": "signing", "alg": alg, "public_only": public_only}),
        )?;
        Ok(CreatedSigningKey {
            id: row.id,
            name: row.name,
            alg,
            version: 1,
            kid: meta.kid.unwrap_or_default(),
            thumbprint: meta.thumbprint,
            public_only,
        })
    }

    /// Imports an API key (any printable secret; Keyward-format keys keep their prefix).
    pub fn import_api_key(
        &mut self,
        name: &str,
        secret: SecretBytes,
        scopes: Vec<String>,
        expires_in: Option<Duration>,
    ) -> Result<IssuedApiKey> {
        validate_name(name)?;
        validate_scopes(&scopes)?;
        positive(expires_in, "--expires-in")?;
        let key = ApiKey::parse(secret.expose()).map_err(|_| {
            Error::invalid(
                "bad_api_key",
                "the imported API key is not in Keyward's format (prefix_body+checksum): only Keyward-issued keys can be imported as API keys",
            )
        })?;
        self.ensure_name_free(name)?;
        let prefix = key.prefix().to_string();
        let row = KeyRow {
            id: self.new_key_id()?,
            name: name.to_string(),
            kind: KeyKind::Api,
            alg: None,
            prefix: Some(prefix.clone()),
            scopes,
            note: None,
            created_at: rfc3339(self.clock.now()),
            expires_in: expires_in.map(|d| d.num_seconds()),
            grace: None,
            destroy_at: None,
            destroyed_at: None,
            auto_rotate: None,
            max_token_ttl: None,
            custody: None,
        };
        let expires_at = self.expiry(row.expires_in);
        let dup: bool = self.conn.query_row(
            "SELECT EXISTS(SELECT 1 FROM key_versions WHERE api_hash = ?1)",
            [key.hash().as_slice()],
            |r| r.get(0),
        )?;
        if dup {
            return Err(Error::conflict(
                "duplicate_key",
                "this API key is already in the vault",
            ));
        }
        self.create_key(
            &row,
            Material::Api(key),
            "key.import",
            json!({"kind": "api", "prefix": prefix}),
        )?;
        Ok(IssuedApiKey {
            id: row.id,
            name: row.name,
            version: 1,
            prefix,
            expires_at,
            secret: SecretBytes::default(),
        })
    }

    /// Imports a signing key from PEM (PKCS#8, PKCS#1, SEC1, SPKI, certificate),
    /// a JWK, or — for HMAC algorithms — the secret's raw bytes.
    pub fn import_signing_key(
        &mut self,
        name: &str,
        alg: Option<Alg>,
        input: &[u8],
        scopes: Vec<String>,
        expires_in: Option<Duration>,
    ) -> Result<CreatedSigningKey> {
        validate_name(name)?;
        validate_scopes(&scopes)?;
        positive(expires_in, "--expires-in")?;
        let material = match parse_signing_key(input) {
            Ok(ParsedKey::Private(p)) => Material::Private(p),
            Ok(ParsedKey::Public(p)) => Material::Public(p),
            Err(e) => match alg {
                Some(a) if a.is_hmac() && !looks_structured(input) => {
                    Material::Private(PrivateKey::from_hmac_secret(input)?)
                }
                None if !looks_structured(input) => {
                    return Err(Error::invalid(
                        "alg_required",
                        "not a PEM or JWK key: to import raw bytes as an HMAC secret, give --alg HS256, HS384 or HS512",
                    ))
                }
                _ => return Err(e),
            },
        };
        let family = match &material {
            Material::Private(p) => p.family(),
            Material::Public(p) => p.family(),
            Material::Api(_) => unreachable!("signing import never yields an API key"),
        };
        let alg = match alg {
            Some(a) if a.family() == family => a,
            Some(a) => {
                return Err(Error::invalid(
                    "alg_mismatch",
                    format!(
                        "--alg {a} does not fit this {} key: use one of {}",
                        family.as_str(),
                        alg_list(family)
                    ),
                ))
            }
            None => match family.allowed_algs() {
                [only] => *only,
                _ => {
                    return Err(Error::invalid(
                        "alg_required",
                        format!(
                            "this is a {} key: give --alg (one of {})",
                            family.as_str(),
                            alg_list(family)
                        ),
                    ))
                }
            },
        };
        self.ensure_name_free(name)?;
        let row = self.signing_row(name.to_string(), alg, scopes, None, expires_in)?;
        self.finish_signing(row, material, "key.import")
    }

    /// Runs the create protocol for version 1 of a new key.
    fn create_key(
        &mut self,
        row: &KeyRow,
        material: Material,
        action: &str,
        details: serde_json::Value,
    ) -> Result<VersionMeta> {
        let meta = material.meta()?;
        let now = rfc3339(self.clock.now());
        let not_after = self.expiry(row.expires_in);
        let version = 1;
        let result = self.with_secret_write(&row.id, version, meta.secret.as_ref(), "create", |tx, v| {
            tx.execute(
                "INSERT INTO keys (id, name, kind, alg, family, prefix, scopes, note, created_at, expires_in)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
                params![
                    row.id,
                    row.name,
                    row.kind.as_str(),
                    row.alg.map(|a| a.as_str()),
                    row.alg.map(|a| a.family().as_str()),
                    row.prefix,
                    serde_json::to_string(&row.scopes).unwrap_or_else(|_| "[]".into()),
                    row.note,
                    row.created_at,
                    row.expires_in,
                ],
            )
            .map_err(|e| match e {
                // SQLITE_CONSTRAINT_UNIQUE: another process took the name meanwhile.
                rusqlite::Error::SqliteFailure(f, _) if f.extended_code == 2067 => {
                    Error::conflict("duplicate_name", format!("a key named {:?} already exists: choose another --name", row.name))
                }
                e => e.into(),
            })?;
            insert_version(tx, &row.id, version, KeyState::Active, &now, not_after.as_deref(), &meta)?;
            v.record(tx, action, Some((&row.id, Some(version))), Outcome::Success, {
                let mut d = details.clone();
                d["name"] = json!(row.name);
                d
            })?;
            Ok(())
        });
        if let Err(e) = &result {
            self.record_failure(action, Some((&row.id, Some(version))), e);
        }
        result?;
        Ok(meta)
    }

    /// Steps 1–3 of the protocol for writing one version's secret.
    /// `commit` runs inside the final transaction.
    fn with_secret_write(
        &self,
        key_id: &str,
        version: u32,
        secret: Option<&SecretBytes>,
        op: &str,
        commit: impl FnOnce(&Transaction<'_>, &Vault) -> Result<()>,
    ) -> Result<()> {
        let entry = entry_name(key_id, version);
        let Some(secret) = secret else {
            // Public-only material: nothing in the keychain, one transaction.
            let tx = Transaction::immediate(&self.conn)?;
            commit(&tx, self)?;
            return self.commit(tx);
        };
        // Fail before any write when the keychain is not there.
        self.store.probe()?;
        let intent = {
            let tx = Transaction::immediate(&self.conn)?;
            // The version was numbered before this write lock: another
            // process may own the same entry by now. Writing it would replace
            // that version's secret, and a rollback would delete it.
            let claimed: bool = tx.query_row(
                "SELECT EXISTS(SELECT 1 FROM pending_ops WHERE entry = ?1)
                     OR EXISTS(SELECT 1 FROM key_versions WHERE key_id = ?2 AND version = ?3)",
                params![entry, key_id, version],
                |r| r.get(0),
            )?;
            if claimed {
                return Err(Error::conflict(
                    "concurrent_change",
                    format!("{key_id} was changed by another process at the same moment: retry"),
                ));
            }
            tx.execute(
                "INSERT INTO pending_ops (op, key_id, version, entry, pid, started_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                params![op, key_id, version, entry, std::process::id(), rfc3339(self.clock.now())],
            )?;
            let id = tx.last_insert_rowid();
            self.commit(tx)?;
            id
        };
        failpoint::hit(&format!("{op}.after_intent"));
        if let Err(e) = self.store.put(&entry, secret) {
            // Nothing was written: drop the intent.
            self.drop_intent(intent);
            return Err(e);
        }
        failpoint::hit(&format!("{op}.after_keychain"));
        let tx = Transaction::immediate(&self.conn);
        let finish = tx.and_then(|tx| {
            commit(&tx, self)?;
            tx.execute("DELETE FROM pending_ops WHERE id = ?1", [intent])?;
            failpoint::hit(&format!("{op}.before_commit"));
            self.commit(tx)
        });
        if let Err(e) = finish {
            // A team vault whose key document may already be in OpenBao
            // keeps the secret and the intent: `vault check --repair`
            // settles it from the document (vault/team.rs).
            if self.team_in_doubt() {
                return Err(e);
            }
            // Roll back: the secret must not outlive its failed row.
            if self.store.delete(&entry).is_ok() {
                self.drop_intent(intent);
            }
            return Err(e);
        }
        failpoint::hit(&format!("{op}.after_commit"));
        Ok(())
    }

    /// Records a change the key's policy refused (`tokens_may_be_live`:
    /// `--force` was needed) as a `denied` event of `action`. Called once
    /// the refused transaction is gone; other refusals are bad input, which
    /// changes nothing, the audit log included.
    pub(super) fn record_denial<T>(
        &self,
        action: &str,
        id: &str,
        version: Option<u32>,
        result: &Result<T>,
    ) {
        if let Err(e) = result {
            if e.code() == "tokens_may_be_live" {
                if let Ok(key) = resolve(&self.conn, id) {
                    self.record_failure(action, Some((&key.id, version)), e);
                }
            }
        }
    }

    fn drop_intent(&self, id: i64) {
        let _ = self
            .conn
            .execute("DELETE FROM pending_ops WHERE id = ?1", [id]);
    }

    /// Rotates a key: a new version becomes active, the active one enters its
    /// grace period (`grace`, else the key's policy, else 24 hours).
    pub fn rotate(&mut self, id: &str, grace: Option<Duration>) -> Result<Rotated> {
        self.rotate_inner(id, grace, false)
    }

    /// Stages the next version as `pending`: published in the JWKS and
    /// verifying, not signing until `promote`.
    pub fn stage_rotation(&mut self, id: &str) -> Result<Rotated> {
        self.rotate_inner(id, None, true)
    }

    fn rotate_inner(&mut self, id: &str, grace: Option<Duration>, stage: bool) -> Result<Rotated> {
        if grace.is_some_and(|g| g < Duration::zero()) {
            return Err(Error::invalid(
                "bad_duration",
                "--grace must not be negative",
            ));
        }
        let key = resolve(&self.conn, id)?;
        let vs = versions(&self.conn, &key.id)?;
        let now_t = self.clock.now();
        let active = vs
            .iter()
            .rev()
            .find(|v| v.state == KeyState::Active && v.effective_state(now_t) == KeyState::Active)
            .ok_or_else(|| {
                Error::conflict(
                    "invalid_transition",
                    format!(
                        "{} has no active version to rotate: create a new key instead",
                        key.name
                    ),
                )
            })?;
        active.state.apply(Transition::RotateOut, &key.name)?;
        if let Some(p) = vs
            .iter()
            .find(|v| v.effective_state(now_t) == KeyState::Pending)
        {
            return Err(Error::conflict(
                "invalid_transition",
                format!(
                    "{} already has a staged version v{}: promote it (keyward key promote {}) or revoke it first",
                    key.name, p.version, key.id
                ),
            ));
        }
        if key.custody.is_some() {
            return self.rotate_transit(&key, active.version, grace, stage);
        }
        let material = match key.kind {
            KeyKind::Api => Material::Api(ApiKey::generate(
                key.prefix.as_deref().unwrap_or(apikey::DEFAULT_PREFIX),
            )?),
            KeyKind::Signing => {
                if !active.has_secret {
                    return Err(Error::invalid(
                        "public_only",
                        format!("{} is a public-only key: import the new public key as a new key instead", key.name),
                    ));
                }
                let alg = key
                    .alg
                    .ok_or_else(|| Error::Database(format!("key {} has no algorithm", key.id)))?;
                let bits = match &active.public_der {
                    Some(der) if alg.family() == KeyFamily::Rsa => {
                        PublicKey::from_der(der)?.rsa_bits()
                    }
                    _ => None,
                };
                Material::Private(PrivateKey::generate(alg, bits)?)
            }
        };
        let secret = match &material {
            Material::Api(k) => Some(k.secret().clone()),
            _ => None,
        };
        let meta = material.meta()?;
        let new_version = self.next_version(&key.id)?;
        let grace = grace
            .or(key.grace.map(Duration::seconds))
            .unwrap_or_else(|| Duration::hours(24));
        let now = rfc3339(now_t);
        let grace_until = rfc3339(now_t + grace);
        let not_after = self.expiry(key.expires_in);
        let previous = active.version;
        let (op, action) = if stage {
            ("stage", "key.stage")
        } else {
            ("rotate", "key.rotate")
        };
        let result = self.with_secret_write(&key.id, new_version, meta.secret.as_ref(), op, |tx, v| {
            // Re-check under the write lock: another process may have rotated meanwhile.
            let state: String = tx.query_row(
                "SELECT state FROM key_versions WHERE key_id = ?1 AND version = ?2",
                params![key.id, previous],
                |r| r.get(0),
            )?;
            if state != KeyState::Active.as_str() {
                return Err(Error::conflict("concurrent_change", format!("{} was changed by another process: retry", key.name)));
            }
            if stage {
                insert_version(tx, &key.id, new_version, KeyState::Pending, &now, not_after.as_deref(), &meta)?;
                v.record(tx, action, Some((&key.id, Some(new_version))), Outcome::Success, json!({"name": key.name, "active_version": previous}))?;
                return Ok(());
            }
            tx.execute(
                "UPDATE key_versions SET state = 'grace', grace_until = ?3, stopped_signing_at = ?4 WHERE key_id = ?1 AND version = ?2",
                params![key.id, previous, grace_until, now],
            )?;
            insert_version(tx, &key.id, new_version, KeyState::Active, &now, not_after.as_deref(), &meta)?;
            v.record(
                tx,
                action,
                Some((&key.id, Some(new_version))),
                Outcome::Success,
                json!({"name": key.name, "previous_version": previous, "grace_until": grace_until}),
            )?;
            Ok(())
        });
        if let Err(e) = &result {
            self.record_failure(action, Some((&key.id, Some(new_version))), e);
        }
        result?;
        Ok(Rotated {
            id: key.id,
            name: key.name,
            version: new_version,
            previous_version: previous,
            state: if stage {
                KeyState::Pending
            } else {
                KeyState::Active
            },
            grace_until: (!stage).then_some(grace_until),
            kid: meta.kid,
            thumbprint: meta.thumbprint,
            secret,
        })
    }

    /// The next version number: tombstones and unfinished intents keep theirs.
    pub(super) fn next_version(&self, key_id: &str) -> Result<u32> {
        let max: u32 = self.conn.query_row(
            "SELECT MAX(COALESCE((SELECT MAX(version) FROM key_versions WHERE key_id = ?1), 0),
                        COALESCE((SELECT MAX(version) FROM pending_ops WHERE key_id = ?1), 0))",
            [key_id],
            |r| r.get(0),
        )?;
        Ok(max + 1)
    }

    /// Revokes one version, or every version that is not already revoked.
    pub fn revoke(&mut self, id: &str, version: Option<u32>, reason: &str) -> Result<Vec<u32>> {
        self.revoke_with(id, version, reason, false)
    }

    /// `revoke` with `--force`: allowed even when tokens the version signed
    /// may still be live under the key's `--max-token-ttl` policy.
    pub fn revoke_with(
        &mut self,
        id: &str,
        version: Option<u32>,
        reason: &str,
        force: bool,
    ) -> Result<Vec<u32>> {
        let result = self.revoke_unrecorded(id, version, reason, force);
        self.record_denial("key.revoke", id, version, &result);
        result
    }

    fn revoke_unrecorded(
        &mut self,
        id: &str,
        version: Option<u32>,
        reason: &str,
        force: bool,
    ) -> Result<Vec<u32>> {
        let reason = reason.trim();
        if reason.is_empty() {
            return Err(Error::invalid("bad_reason", "give a reason: --reason TEXT"));
        }
        // Read and check the versions under the write lock: two revocations
        // at once must not both succeed (the second would overwrite the first's
        // time and reason), nor may a rotation slip in between.
        let tx = Transaction::immediate(&self.conn)?;
        let key = resolve(&tx, id)?;
        refuse_if_destroying(&tx, &key)?;
        let vs = versions(&tx, &key.id)?;
        let now_t = self.clock.now();
        // Expiry never turns a version revoked or destroyed, so the state at
        // `now` selects exactly the versions still to revoke.
        let targets = pick_versions(
            &key,
            &vs,
            version,
            now_t,
            |s| {
                !matches!(
                    s,
                    KeyState::Revoked | KeyState::Destroyed | KeyState::DestroyScheduled
                )
            },
            || format!("every version of {} is already revoked", key.name),
        )?;
        for v in &targets {
            v.effective_state(now_t)
                .apply(Transition::Revoke, &key.name)?;
            if !force {
                live_tokens_guard(&key, v, now_t, "revoke")?;
            }
        }
        let now = rfc3339(now_t);
        failpoint::hit("revoke.in_transaction");
        let mut revoked = Vec::new();
        for v in targets {
            tx.execute(
                "UPDATE key_versions SET state = 'revoked', revoked_at = ?3, reason = ?4,
                     stopped_signing_at = COALESCE(stopped_signing_at, CASE WHEN state = 'active' THEN ?3 END)
                 WHERE key_id = ?1 AND version = ?2",
                params![key.id, v.version, now, reason],
            )?;
            self.record(
                &tx,
                "key.revoke",
                Some((&key.id, Some(v.version))),
                Outcome::Success,
                json!({"name": key.name, "reason": reason}),
            )?;
            revoked.push(v.version);
        }
        self.commit(tx)?;
        failpoint::hit("revoke.after_commit");
        Ok(revoked)
    }

    /// Schedules destruction of a key after `after` (CLI default 30 days), or
    /// destroys it now when `after` is zero. Every version must be revoked,
    /// disabled or expired first.
    pub fn delete(&mut self, id: &str, after: Duration) -> Result<Option<String>> {
        if after < Duration::zero() {
            return Err(Error::invalid(
                "bad_duration",
                "--after must not be negative",
            ));
        }
        if after.is_zero() {
            self.destroy(id, |conn, key, vs, now| {
                deletable(key, vs, now, true)?;
                refuse_if_destroy_running(conn, key, now)?;
                Ok(true)
            })?;
            return Ok(None);
        }
        // Read and check under the write lock: a version enabled meanwhile
        // must not be scheduled for destruction on the strength of an
        // earlier read.
        let tx = Transaction::immediate(&self.conn)?;
        let key = resolve(&tx, id)?;
        let vs = versions(&tx, &key.id)?;
        let now_t = self.clock.now();
        deletable(&key, &vs, now_t, false)?;
        refuse_if_destroy_running(&tx, &key, now_t)?;
        failpoint::hit("delete.checked");
        let at = rfc3339(now_t + after);
        tx.execute(
            "UPDATE key_versions SET prior_state = CASE WHEN state = 'destroy-scheduled' THEN prior_state ELSE state END,
                 state = 'destroy-scheduled' WHERE key_id = ?1 AND state != 'destroyed'",
            [&key.id],
        )?;
        tx.execute(
            "UPDATE keys SET destroy_at = ?2 WHERE id = ?1",
            params![key.id, at],
        )?;
        self.record(
            &tx,
            "key.delete",
            Some((&key.id, None)),
            Outcome::Success,
            json!({"name": key.name, "destroy_at": at}),
        )?;
        failpoint::hit("delete.in_transaction");
        self.commit(tx)?;
        failpoint::hit("delete.after_commit");
        Ok(Some(at))
    }

    /// Cancels a scheduled destruction: versions return to their prior state.
    pub fn restore(&mut self, id: &str) -> Result<()> {
        // Under the write lock: a destruction that completed (or started)
        // meanwhile must not be "restored".
        let tx = Transaction::immediate(&self.conn)?;
        let key = resolve(&tx, id)?;
        if key.destroy_at.is_none() || key.destroyed_at.is_some() {
            return Err(Error::conflict(
                "invalid_transition",
                format!(
                    "{} is not scheduled for destruction: nothing to restore",
                    key.name
                ),
            ));
        }
        refuse_if_destroying(&tx, &key)?;
        failpoint::hit("restore.checked");
        tx.execute(
            "UPDATE key_versions SET state = COALESCE(prior_state, 'revoked'), prior_state = NULL
             WHERE key_id = ?1 AND state = 'destroy-scheduled'",
            [&key.id],
        )?;
        tx.execute("UPDATE keys SET destroy_at = NULL WHERE id = ?1", [&key.id])?;
        self.record(
            &tx,
            "key.restore",
            Some((&key.id, None)),
            Outcome::Success,
            json!({"name": key.name}),
        )?;
        failpoint::hit("restore.in_transaction");
        self.commit(tx)?;
        failpoint::hit("restore.after_commit");
        Ok(())
    }

    /// Destroys every secret of a key and leaves tombstone rows; returns
    /// whether it did. `go_on` decides from the key as read — first without
    /// the lock, to refuse early and reach the keychain before any write,
    /// then again under the write lock that records the intents, which is
    /// what counts — whether to destroy (`Ok(false)`: nothing to do).
    fn destroy(
        &self,
        id: &str,
        go_on: impl Fn(&rusqlite::Connection, &KeyRow, &[VersionRow], DateTime<Utc>) -> Result<bool>,
    ) -> Result<bool> {
        let result = self.destroy_unrecorded(id, go_on);
        // A keychain (or OpenBao) failure half-way is recorded; the intents
        // it left are finished by running the destruction again or by
        // `vault check --repair`.
        if let Err(e) = &result {
            if e.class() == crate::error::ExitClass::Environment {
                if let Ok(key) = resolve(&self.conn, id) {
                    self.record_failure("key.destroy", Some((&key.id, None)), e);
                }
            }
        }
        result
    }

    fn destroy_unrecorded(
        &self,
        id: &str,
        go_on: impl Fn(&rusqlite::Connection, &KeyRow, &[VersionRow], DateTime<Utc>) -> Result<bool>,
    ) -> Result<bool> {
        let with_secret = |vs: &[VersionRow]| -> Vec<u32> {
            vs.iter()
                .filter(|v| v.has_secret && v.state != KeyState::Destroyed)
                .map(|v| v.version)
                .collect()
        };
        let key = resolve(&self.conn, id)?;
        let vs = versions(&self.conn, &key.id)?;
        if !go_on(&self.conn, &key, &vs, self.clock.now())? {
            return Ok(false);
        }
        let mut probed = false;
        if !with_secret(&vs).is_empty() {
            self.store.probe()?;
            probed = true;
        }
        let (key, with_secret) = {
            let tx = Transaction::immediate(&self.conn)?;
            let key = resolve(&tx, &key.id)?;
            let vs = versions(&tx, &key.id)?;
            if !go_on(&tx, &key, &vs, self.clock.now())? {
                return Ok(false);
            }
            failpoint::hit("destroy.checked");
            let with_secret = with_secret(&vs);
            if !with_secret.is_empty() && !probed {
                self.store.probe()?;
            }
            for v in &with_secret {
                tx.execute(
                    "INSERT INTO pending_ops (op, key_id, version, entry, pid, started_at) VALUES ('destroy', ?1, ?2, ?3, ?4, ?5)",
                    params![key.id, v, entry_name(&key.id, *v), std::process::id(), rfc3339(self.clock.now())],
                )?;
            }
            self.commit(tx)?;
            (key, with_secret)
        };
        failpoint::hit("destroy.after_intent");
        for v in &with_secret {
            self.store.delete(&entry_name(&key.id, *v))?;
            failpoint::hit("destroy.after_keychain");
        }
        if key.custody.is_some() {
            // Transit custody: the key material is deleted inside OpenBao.
            self.destroy_transit(&key)?;
        }
        let tx = Transaction::immediate(&self.conn)?;
        self.finish_destroy(&tx, &key.id, &key.name)?;
        failpoint::hit("destroy.before_commit");
        self.commit(tx)?;
        failpoint::hit("destroy.after_commit");
        Ok(true)
    }

    /// The commit step of destruction (also used by repair).
    pub(crate) fn finish_destroy(
        &self,
        tx: &Transaction<'_>,
        key_id: &str,
        name: &str,
    ) -> Result<()> {
        let now = rfc3339(self.clock.now());
        tx.execute(
            "UPDATE key_versions SET prior_state = NULL, state = 'destroyed', has_secret = 0 WHERE key_id = ?1",
            [key_id],
        )?;
        tx.execute(
            "UPDATE keys SET destroyed_at = ?2, destroy_at = NULL WHERE id = ?1",
            params![key_id, now],
        )?;
        tx.execute(
            "DELETE FROM pending_ops WHERE op = 'destroy' AND key_id = ?1",
            [key_id],
        )?;
        self.record(
            tx,
            "key.destroy",
            Some((key_id, None)),
            Outcome::Success,
            json!({"name": name}),
        )?;
        Ok(())
    }

    /// Destroys every key whose scheduled destruction date has passed.
    pub fn destroy_due(&mut self) -> Result<Vec<String>> {
        let now = rfc3339(self.clock.now());
        let ids: Vec<String> = {
            let mut stmt = self.conn.prepare("SELECT id FROM keys WHERE destroy_at IS NOT NULL AND destroy_at <= ?1 AND destroyed_at IS NULL")?;
            let rows = stmt.query_map([&now], |r| r.get(0))?;
            rows.collect::<rusqlite::Result<Vec<String>>>()?
        };
        let mut destroyed = Vec::new();
        for id in ids {
            // Another process may have destroyed or restored it since the
            // query above, or be destroying it now: then it is not ours.
            let due = |conn: &rusqlite::Connection, key: &KeyRow, _: &[VersionRow], now| {
                Ok(key.destroyed_at.is_none()
                    && parse_ts(key.destroy_at.as_deref()).is_some_and(|t| t <= now)
                    && !destroy_running(conn, &key.id, now)?)
            };
            if self.destroy(&id, due)? {
                destroyed.push(id);
            }
        }
        Ok(destroyed)
    }

    /// Returns a version's secret (audited as `key.reveal`): the API key,
    /// the HMAC secret (base64url), or the private key as PKCS#8 PEM.
    pub fn reveal(&mut self, id: &str, version: Option<u32>) -> Result<SecretBytes> {
        self.reveal_for(id, version, SecretUse::Reveal)
    }

    /// [`Vault::reveal`] for the given use, audited as that use's action
    /// (`key.reveal` or `key.copy`), failures included.
    pub fn reveal_for(
        &mut self,
        id: &str,
        version: Option<u32>,
        used: SecretUse,
    ) -> Result<SecretBytes> {
        let action = used.action();
        let (key, v) = self.pick_version(id, version)?;
        self.refuse_non_exportable(&key)?;
        let stored = self.load_secret(&key, &v, action)?;
        let text = match key.kind {
            KeyKind::Api => stored,
            KeyKind::Signing => {
                let family = signing_family(&key)?;
                let private = PrivateKey::from_storage(family, stored.expose())?;
                match private.hmac_secret() {
                    Some(s) => SecretBytes::from(
                        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(s),
                    ),
                    None => private.to_pem()?,
                }
            }
        };
        self.audit_access(action, &key, v.version, json!({"name": key.name}))?;
        Ok(text)
    }

    /// Exports a version as PEM or JWK; the private form is audited.
    pub fn export(
        &mut self,
        id: &str,
        version: Option<u32>,
        format: ExportFormat,
        public: bool,
    ) -> Result<Export> {
        let (key, v) = self.pick_version(id, version)?;
        if key.kind == KeyKind::Api {
            return Err(Error::invalid(
                "not_exportable",
                format!(
                    "{} is an API key: use `keyward key reveal {}`",
                    key.name, key.id
                ),
            ));
        }
        let alg = key.alg;
        if public {
            let der = v.public_der.as_ref().ok_or_else(|| {
                Error::invalid(
                    "no_public_key",
                    format!("{} is an HMAC key: it has no public part", key.name),
                )
            })?;
            let pk = PublicKey::from_der(der)?;
            let text = match format {
                ExportFormat::Pem => pk.to_pem(),
                ExportFormat::Jwk => {
                    serde_json::to_string_pretty(&public_jwk(&pk, v.kid.as_deref(), alg))
                        .unwrap_or_default()
                }
            };
            self.audit_access(
                "key.export",
                &key,
                v.version,
                json!({"name": key.name, "public": true, "format": format_name(format)}),
            )?;
            return Ok(Export {
                text: SecretBytes::from(text),
                public: true,
            });
        }
        self.refuse_non_exportable(&key)?;
        let stored = self.load_secret(&key, &v, "key.export")?;
        let private = PrivateKey::from_storage(signing_family(&key)?, stored.expose())?;
        let text = match format {
            ExportFormat::Pem => private.to_pem()?,
            ExportFormat::Jwk => private.to_jwk(v.kid.as_deref(), alg),
        };
        self.audit_access(
            "key.export",
            &key,
            v.version,
            json!({"name": key.name, "public": false, "format": format_name(format)}),
        )?;
        Ok(Export {
            text,
            public: false,
        })
    }

    fn audit_access(
        &self,
        action: &str,
        key: &KeyRow,
        version: u32,
        details: serde_json::Value,
    ) -> Result<()> {
        let tx = Transaction::immediate(&self.conn)?;
        self.record(
            &tx,
            action,
            Some((&key.id, Some(version))),
            Outcome::Success,
            details,
        )?;
        self.commit(tx)
    }

    /// The requested version, or the key's current one.
    pub(crate) fn pick_version(
        &self,
        id: &str,
        version: Option<u32>,
    ) -> Result<(KeyRow, VersionRow)> {
        let key = resolve(&self.conn, id)?;
        let vs = versions(&self.conn, &key.id)?;
        let v = match version {
            Some(n) => vs.iter().find(|v| v.version == n).cloned().ok_or_else(|| {
                Error::NotFound(format!(
                    "{} has no version {n}: see `keyward key show {}`",
                    key.name, key.id
                ))
            })?,
            None => current(&vs)
                .cloned()
                .ok_or_else(|| Error::NotFound(format!("{} has no versions", key.name)))?,
        };
        Ok((key, v))
    }

    /// Reads a version's secret from the store; a missing one is reported
    /// (and audited) as a vault inconsistency.
    pub(crate) fn load_secret(
        &self,
        key: &KeyRow,
        v: &VersionRow,
        action: &str,
    ) -> Result<SecretBytes> {
        if v.state == KeyState::Destroyed {
            return Err(Error::conflict(
                "destroyed",
                format!(
                    "version {} of {} was destroyed: its secret is gone",
                    v.version, key.name
                ),
            ));
        }
        if !v.has_secret {
            return Err(Error::invalid(
                "public_only",
                format!(
                    "{} is a public-only key: there is no secret to read",
                    key.name
                ),
            ));
        }
        let entry = entry_name(&key.id, v.version);
        match self.store.get(&entry) {
            Ok(Some(s)) => Ok(s),
            Ok(None) => {
                let e = Error::SecretStore(format!(
                    "the keychain entry {entry} of {} is missing: run `keyward vault check`",
                    key.name
                ));
                self.record_failure(action, Some((&key.id, Some(v.version))), &e);
                Err(e)
            }
            Err(e) => {
                self.record_failure(action, Some((&key.id, Some(v.version))), &e);
                Err(e)
            }
        }
    }
}

fn format_name(f: ExportFormat) -> &'static str {
    match f {
        ExportFormat::Pem => "pem",
        ExportFormat::Jwk => "jwk",
    }
}

/// A public JWK with `kid`, `alg` and `use: "sig"`.
pub(crate) fn public_jwk(pk: &PublicKey, kid: Option<&str>, alg: Option<Alg>) -> serde_json::Value {
    let mut jwk = pk.to_jwk();
    if let Some(kid) = kid {
        jwk["kid"] = json!(kid);
    }
    if let Some(alg) = alg {
        jwk["alg"] = json!(alg.as_str());
    }
    jwk["use"] = json!("sig");
    jwk
}

pub(crate) fn signing_family(key: &KeyRow) -> Result<KeyFamily> {
    key.alg
        .map(|a| a.family())
        .ok_or_else(|| Error::Database(format!("signing key {} has no algorithm recorded", key.id)))
}

fn alg_list(f: KeyFamily) -> String {
    f.allowed_algs()
        .iter()
        .map(|a| a.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

/// PEM or JSON input is never taken as a raw HMAC secret: a malformed key
/// file must fail, not become a secret.
fn looks_structured(input: &[u8]) -> bool {
    let t = String::from_utf8_lossy(input);
    let t = t.trim_start();
    t.starts_with("-----BEGIN") || t.starts_with('{')
}

pub(super) fn positive(d: Option<Duration>, flag: &str) -> Result<()> {
    if d.is_some_and(|d| d <= Duration::zero()) {
        return Err(Error::invalid(
            "bad_duration",
            format!("{flag} must be greater than zero"),
        ));
    }
    Ok(())
}

pub(super) fn insert_version(
    tx: &Transaction<'_>,
    key_id: &str,
    version: u32,
    state: KeyState,
    now: &str,
    not_after: Option<&str>,
    meta: &VersionMeta,
) -> Result<()> {
    let activated = (state == KeyState::Active).then_some(now);
    tx.execute(
        "INSERT INTO key_versions (key_id, version, state, created_at, activated_at, published_at, not_after, kid, thumbprint, public_der, has_secret, api_hash, api_last4)
         VALUES (?1, ?2, ?3, ?4, ?5, ?4, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
        params![
            key_id,
            version,
            state.as_str(),
            now,
            activated,
            not_after,
            meta.kid,
            meta.thumbprint,
            meta.public_der,
            meta.secret.is_some(),
            meta.api_hash.as_ref().map(|h| h.as_slice()),
            meta.api_last4,
        ],
    )?;
    Ok(())
}

/// Whether a key may be scheduled for destruction (`now_destroy`: destroyed
/// now): not destroyed yet, and every version revoked, disabled or expired.
fn deletable(key: &KeyRow, vs: &[VersionRow], now: DateTime<Utc>, now_destroy: bool) -> Result<()> {
    if key.destroyed_at.is_some() {
        return Err(Error::conflict(
            "invalid_transition",
            format!("{} is already destroyed", key.name),
        ));
    }
    for v in vs {
        let s = v.effective_state(now);
        if s == KeyState::Destroyed || (s == KeyState::DestroyScheduled && now_destroy) {
            continue;
        }
        s.apply(Transition::ScheduleDestroy, &key.name)?;
    }
    Ok(())
}

/// Whether a destruction of the key has recorded its intents and not
/// finished (another process at work, or one that was interrupted).
fn destroy_in_progress(conn: &rusqlite::Connection, key_id: &str) -> Result<bool> {
    Ok(conn.query_row(
        "SELECT EXISTS(SELECT 1 FROM pending_ops WHERE op = 'destroy' AND key_id = ?1)",
        [key_id],
        |r| r.get(0),
    )?)
}

/// Whether another live process is destroying the key right now. An
/// interrupted destruction (its process gone, or long ago: a reused pid)
/// does not count: destroying the key again finishes it.
fn destroy_running(conn: &rusqlite::Connection, key_id: &str, now: DateTime<Utc>) -> Result<bool> {
    let mut stmt = conn
        .prepare("SELECT pid, started_at FROM pending_ops WHERE op = 'destroy' AND key_id = ?1")?;
    let intents = stmt
        .query_map([key_id], |r| {
            Ok((r.get::<_, u32>(0)?, r.get::<_, String>(1)?))
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    // The same test as `vault check` uses for an operation in progress.
    Ok(intents.iter().any(|(pid, started)| {
        *pid != std::process::id()
            && parse_ts(Some(started)).is_some_and(|t| now - t < Duration::minutes(10))
            && std::path::Path::new(&format!("/proc/{pid}")).exists()
    }))
}

/// `delete` of a key another process is destroying at this moment.
fn refuse_if_destroy_running(
    conn: &rusqlite::Connection,
    key: &KeyRow,
    now: DateTime<Utc>,
) -> Result<()> {
    if destroy_running(conn, &key.id, now)? {
        return Err(Error::conflict(
            "concurrent_change",
            format!(
                "{} is being destroyed by another process at this moment",
                key.name
            ),
        ));
    }
    Ok(())
}

/// A destruction under way is only ever finished, never undone
/// (`vault check --repair` rolls it forward): nothing else may change the key.
pub(super) fn refuse_if_destroying(conn: &rusqlite::Connection, key: &KeyRow) -> Result<()> {
    if destroy_in_progress(conn, &key.id)? {
        return Err(Error::conflict(
            "concurrent_change",
            format!(
                "{} is being destroyed, by another process or by one that was interrupted (then `keyward vault check --repair` finishes it)",
                key.name
            ),
        ));
    }
    Ok(())
}

/// For a signing key whose policy sets `--max-token-ttl`: refuses to revoke
/// or disable a version that signed within that time (its tokens may still
/// be live) unless `--force` is given.
pub(crate) fn live_tokens_guard(
    key: &KeyRow,
    v: &VersionRow,
    now: chrono::DateTime<chrono::Utc>,
    verb: &str,
) -> Result<()> {
    let Some(ttl) = key.max_token_ttl.filter(|_| key.kind == KeyKind::Signing) else {
        return Ok(());
    };
    let ttl = Duration::seconds(ttl);
    let state = v.effective_state(now);
    let stopped = match state {
        KeyState::Active => Some(now),
        KeyState::Pending => None,
        _ => super::model::parse_ts(v.stopped_signing_at.as_deref()),
    };
    match stopped {
        Some(t) if now - t < ttl => {
            let live_until = rfc3339(t + ttl);
            let when = if state == KeyState::Active {
                "is signing now".to_string()
            } else {
                format!(
                    "stopped signing {}",
                    crate::jwt::relative(t.timestamp(), now.timestamp())
                )
            };
            Err(Error::conflict(
                "tokens_may_be_live",
                format!(
                    "v{} of {} {when}: tokens it signed may be valid until {live_until} (max token TTL {}); add --force to {verb} it anyway",
                    v.version,
                    key.name,
                    crate::duration::format_duration(ttl)
                ),
            ))
        }
        _ => Ok(()),
    }
}
