//! JWTs and the vault: verifying with a vault key's versions, signing with
//! its active version, the jti record and denylist, and telling which vault
//! key a token's `kid` names.
//!
//! In a team vault the denylist that counts is the team's, in OpenBao
//! ([`crate::team::denylist`]): `jwt revoke` writes it before the local
//! commit (OpenBao unreachable: nothing is revoked, the command fails), and
//! `jwt verify --key` reads it at verify time, so a token revoked by any
//! member is rejected by every member. The local `jti` table keeps this
//! client's own record (signed jtis, its revocations) as before.
//!
//! Never records a token's signature or any secret: audit details hold the
//! jti, kid, algorithm and the reason of a failure.

use super::lifecycle::signing_family;
use super::model::{resolve, versions, KeyRow, VersionRow};
use super::Vault;
use crate::audit::Outcome;
use crate::crypto::{Alg, KeyMaterial, PrivateKey, PublicKey};
use crate::db::Transaction;
use crate::duration::rfc3339;
use crate::error::{Error, Result};
use crate::failpoint;
use crate::jwt::{
    self, Candidate, KeySource, SignRequest, SignedToken, Token, Verification, VerifyOptions,
};
use crate::keys::state::KeyState;
use crate::keys::KeyKind;
use crate::team::denylist;
use chrono::{DateTime, Utc};
use rusqlite::{params, OptionalExtension};
use serde::Serialize;
use serde_json::json;

/// What `jwt revoke` recorded.
#[derive(Debug, Clone, Serialize)]
pub struct RevokedToken {
    pub jti: String,
    /// Unix seconds after which the entry is dropped (the token's `exp`); `None`: kept.
    pub until: Option<i64>,
    /// Whether this vault had issued the token (`jwt sign`).
    pub issued_here: bool,
    /// Whether the revocation went to a team's shared denylist (team vaults).
    pub team: bool,
}

/// Which vault key and version a token's `kid` names.
#[derive(Debug, Clone, Serialize, ts_rs::TS)]
pub struct KidMatch {
    pub kid: String,
    pub key_id: Option<String>,
    pub name: Option<String>,
    pub version: Option<u32>,
    pub state: Option<KeyState>,
    pub alg: Option<String>,
    /// One line for people: "signed by billing v3 (grace, ends in 4 days)".
    pub summary: String,
}

fn state_note(v: &VersionRow, now: DateTime<Utc>) -> String {
    let s = v.effective_state(now);
    let until = match s {
        KeyState::Grace => v.grace_until.as_deref(),
        KeyState::Active | KeyState::Pending => v.not_after.as_deref(),
        _ => None,
    };
    match until.and_then(|t| super::model::parse_ts(Some(t))) {
        Some(t) if s == KeyState::Grace => format!(
            "grace, ends {}",
            jwt::relative(t.timestamp(), now.timestamp())
        ),
        Some(t) => format!(
            "{}, expires {}",
            s.as_str(),
            jwt::relative(t.timestamp(), now.timestamp())
        ),
        None => s.as_str().to_string(),
    }
}

impl Vault {
    /// The candidate keys of a signing key: every version that still has
    /// material; versions that may not verify carry the reason.
    pub fn verification_keys(&self, id: &str) -> Result<KeySource> {
        let key = resolve(&self.conn, id)?;
        if key.kind != KeyKind::Signing {
            return Err(Error::invalid(
                "not_signing",
                format!(
                    "{} is an API key: verify tokens with a signing key",
                    key.name
                ),
            ));
        }
        let alg = key
            .alg
            .ok_or_else(|| Error::Database(format!("signing key {} has no algorithm", key.id)))?;
        let now = self.clock.now();
        let mut out = Vec::new();
        for v in versions(&self.conn, &key.id)? {
            let state = v.effective_state(now);
            let material = match &v.public_der {
                Some(der) => KeyMaterial::Public(PublicKey::from_der(der)?),
                None if v.has_secret && alg.is_hmac() => {
                    KeyMaterial::Hmac(self.load_secret(&key, &v, "token.verify")?)
                }
                // A destroyed HMAC version has nothing left to compare with.
                None => continue,
            };
            let mut c = Candidate::new(material, format!("{} v{}", key.name, v.version))
                .with_alg(alg)
                .with_state(state_note(&v, now));
            if let Some(kid) = &v.kid {
                c = c.with_kid(kid.clone());
            }
            if !state.verifies() {
                c = c.unusable(state.as_str());
            }
            out.push(c);
        }
        Ok(KeySource::set(out))
    }

    /// Verifies `token` with a vault key's versions and the vault's jti
    /// denylist; a failed verification is audited.
    /// `opts.keys` and `opts.is_revoked` are replaced by the vault's.
    pub fn verify_token(
        &mut self,
        id: &str,
        token: &Token,
        opts: VerifyOptions<'_>,
    ) -> Result<Verification> {
        let key = resolve(&self.conn, id)?;
        let keys = self.verification_keys(&key.id)?;
        let now = opts.now.timestamp();
        // A team's denylist is read now, whoever revoked: only for a token
        // the revocation check will look up (a string jti).
        let shared = match (&self.team, token_jti(token)) {
            (Some(t), Some(jti)) => match denylist::read(&t.link, &jti) {
                Ok(list) => Some(list),
                Err(e) => {
                    let e = unreadable_denylist(e);
                    self.record_failure("token.verify", Some((&key.id, None)), &e);
                    return Err(e);
                }
            },
            _ => None,
        };
        let conn = &self.conn;
        // A denylist that cannot be read counts as "revoked": fail closed.
        let revoked = move |jti: &str| {
            shared.as_ref().is_some_and(|l| l.contains(jti, now))
                || is_revoked(conn, jti, now).unwrap_or(true)
        };
        let mut inner = VerifyOptions::new(keys, opts.now);
        inner.algs = opts.algs;
        inner.iss = opts.iss;
        inner.aud = opts.aud;
        inner.leeway = opts.leeway;
        inner.require = opts.require;
        inner.jws = opts.jws;
        inner.is_revoked = Some(&revoked);
        let v = jwt::verify(token, &inner);
        if !v.valid {
            let jti = token_jti(token);
            let tx = Transaction::immediate(&self.conn)?;
            self.record(
                &tx,
                "token.verify",
                Some((&key.id, v.key.as_ref().and_then(|k| version_of(&k.label)))),
                Outcome::Denied,
                json!({"name": key.name, "reason": v.reason, "kid": token.kid(), "jti": jti}),
            )?;
            self.commit(tx)?;
        }
        Ok(v)
    }

    /// Signs a token with the key's active version; records its jti and exp.
    pub fn sign_token(&mut self, id: &str, req: SignRequest) -> Result<SignedToken> {
        let key = resolve(&self.conn, id)?;
        if key.kind != KeyKind::Signing {
            return Err(Error::invalid(
                "not_signing",
                format!("{} is an API key: sign tokens with a signing key", key.name),
            ));
        }
        let alg = key
            .alg
            .ok_or_else(|| Error::Database(format!("signing key {} has no algorithm", key.id)))?;
        let now = self.clock.now();
        let vs = versions(&self.conn, &key.id)?;
        let active = vs
            .iter()
            .rev()
            .find(|v| v.effective_state(now) == KeyState::Active)
            .ok_or_else(|| {
                let state = super::model::current(&vs)
                    .map(|v| v.effective_state(now).as_str())
                    .unwrap_or("destroyed");
                Error::conflict(
                    "not_signing_state",
                    format!(
                        "{} has no active version to sign with (it is {state})",
                        key.name
                    ),
                )
            })?;
        let signed = match key.custody {
            // The private half is in OpenBao's transit engine (vault/team.rs).
            Some(_) => {
                self.transit_sign(&key, active.version, active.kid.as_deref(), alg, req, now)
            }
            None => {
                if !active.has_secret {
                    return Err(Error::invalid(
                        "public_only",
                        format!("{} is a public-only key: it cannot sign", key.name),
                    ));
                }
                let secret = self.load_secret(&key, active, "token.sign")?;
                let private = PrivateKey::from_storage(signing_family(&key)?, secret.expose())?;
                jwt::sign_request(&private, alg, active.kid.as_deref(), req, now)
            }
        };
        let signed = match signed {
            Ok(s) => s,
            Err(e) => {
                self.record_failure("token.sign", Some((&key.id, Some(active.version))), &e);
                return Err(e);
            }
        };
        let tx = Transaction::immediate(&self.conn)?;
        let taken: bool = tx.query_row(
            "SELECT EXISTS(SELECT 1 FROM jti WHERE jti = ?1)",
            [&signed.jti],
            |r| r.get(0),
        )?;
        if taken {
            return Err(Error::conflict(
                "duplicate_jti",
                format!(
                    "a token with jti {:?} was already issued or revoked here: choose another jti",
                    signed.jti
                ),
            ));
        }
        tx.execute(
            "INSERT INTO jti (jti, key_id, version, issued_at, exp) VALUES (?1, ?2, ?3, ?4, ?5)",
            params![signed.jti, key.id, active.version, rfc3339(now), signed.exp],
        )?;
        prune(&tx, now.timestamp())?;
        self.record(
            &tx,
            "token.sign",
            Some((&key.id, Some(active.version))),
            Outcome::Success,
            json!({"name": key.name, "jti": signed.jti, "kid": active.kid, "alg": alg.as_str(), "exp": signed.exp}),
        )?;
        failpoint::hit("sign.before_commit");
        self.commit(tx)?;
        Ok(signed)
    }

    /// Adds a jti to the denylist until `until` (the token's `exp`); the
    /// entry is dropped once that time has passed.
    pub fn revoke_jti(&mut self, jti: &str, until: Option<i64>) -> Result<RevokedToken> {
        if jti.is_empty() || jti.len() > 512 {
            return Err(Error::invalid(
                "bad_jti",
                "the jti must be 1 to 512 characters",
            ));
        }
        let now = self.clock.now();
        if until.is_some_and(|u| u <= now.timestamp()) {
            return Err(Error::invalid(
                "already_expired",
                "the token has already expired: there is nothing to revoke",
            ));
        }
        let tx = Transaction::immediate(&self.conn)?;
        let issued: Option<(Option<String>, Option<u32>)> = tx
            .query_row(
                "SELECT key_id, version FROM jti WHERE jti = ?1",
                [jti],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?;
        tx.execute(
            "INSERT INTO jti (jti, revoked_at, revoked_until) VALUES (?1, ?2, ?3)
             ON CONFLICT(jti) DO UPDATE SET revoked_at = excluded.revoked_at, revoked_until = excluded.revoked_until",
            params![jti, rfc3339(now), until],
        )?;
        prune(&tx, now.timestamp())?;
        let (key_id, version) = issued.clone().unwrap_or((None, None));
        let team = self.team.as_ref().map(|t| t.link.clone());
        self.record(
            &tx,
            "token.revoke",
            key_id.as_deref().map(|k| (k, version)),
            Outcome::Success,
            json!({"jti": jti, "until": until, "team": team.is_some()}),
        )?;
        if let Some(link) = &team {
            // The team's list first: a revocation that did not reach it
            // must not look done here (the local transaction rolls back).
            failpoint::hit("token_revoke.before_team");
            let at = rfc3339(now);
            let who = denylist::Writer {
                by: &self.actor,
                at: &at,
            };
            if let Err(e) = denylist::add(link, jti, until, now.timestamp(), who) {
                drop(tx);
                let e = match e {
                    Error::SecretStore(m) => Error::SecretStore(format!(
                        "{m} (jti {jti:?} was not revoked: a revocation must reach the team's denylist)"
                    )),
                    e => e,
                };
                self.record_failure("token.revoke", key_id.as_deref().map(|k| (k, version)), &e);
                return Err(e);
            }
        }
        failpoint::hit("token_revoke.before_commit");
        self.commit(tx).map_err(|e| match (&team, e) {
            (Some(_), Error::Database(m)) => Error::Database(format!(
                "{m} (the revocation of jti {jti:?} is in the team's denylist in OpenBao and applies to every member; only this client's audit event is missing)"
            )),
            (_, e) => e,
        })?;
        Ok(RevokedToken {
            jti: jti.to_string(),
            until,
            issued_here: issued.is_some(),
            team: team.is_some(),
        })
    }

    /// Revokes a token by its `jti` and `exp` (no key needed).
    pub fn revoke_token(&mut self, token: &Token) -> Result<RevokedToken> {
        let jti = token_jti(token).ok_or_else(|| {
            Error::invalid(
                "no_jti",
                "the token has no jti claim: revoke needs one (or use --jti JTI --until TIME)",
            )
        })?;
        let exp = match token.claims().and_then(|c| c.get("exp")) {
            None => None,
            Some(v) => Some(v.as_i64().ok_or_else(|| {
                Error::invalid(
                    "bad_claims",
                    "the token's exp is not a whole number of seconds",
                )
            })?),
        };
        self.revoke_jti(&jti, exp)
    }

    /// Whether a jti is on the denylist now (a team vault's: the team's).
    pub fn is_jti_revoked(&self, jti: &str) -> Result<bool> {
        let now = self.clock.now().timestamp();
        if let Some(t) = &self.team {
            if denylist::read(&t.link, jti)
                .map_err(unreadable_denylist)?
                .contains(jti, now)
            {
                return Ok(true);
            }
        }
        is_revoked(&self.conn, jti, now)
    }

    /// Which vault key a token's `kid` names, and whether that fits the
    /// token's algorithm; `None` when the token has no kid.
    pub fn describe_kid(&self, token: &Token) -> Result<Option<KidMatch>> {
        let Some(kid) = token.kid() else {
            return Ok(None);
        };
        let now = self.clock.now();
        let mut stmt = self.conn.prepare(
            "SELECT k.id, v.version FROM key_versions v JOIN keys k ON k.id = v.key_id WHERE v.kid = ?1 AND k.kind = 'signing' ORDER BY v.version DESC",
        )?;
        let hits = stmt
            .query_map([kid], |r| Ok((r.get::<_, String>(0)?, r.get::<_, u32>(1)?)))?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        drop(stmt);
        let token_alg = match token.alg() {
            jwt::HeaderAlg::Known(a) => Some(*a),
            _ => None,
        };
        let Some((key_id, version)) = hits.first().cloned() else {
            return Ok(Some(KidMatch {
                kid: kid.to_string(),
                key_id: None,
                name: None,
                version: None,
                state: None,
                alg: None,
                summary: format!("kid {kid:?} is unknown to this vault"),
            }));
        };
        let key: KeyRow = resolve(&self.conn, &key_id)?;
        let vs = versions(&self.conn, &key.id)?;
        let v = vs
            .iter()
            .find(|v| v.version == version)
            .ok_or_else(|| Error::Database("version vanished".into()))?;
        let state = v.effective_state(now);
        let key_alg: Option<Alg> = key.alg;
        let summary = match (token_alg, key_alg) {
            (Some(t), Some(k)) if t.family() != k.family() => format!(
                "{t} token, but kid {kid:?} is {} v{version}, a {} key ({k})",
                key.name,
                k.family().as_str()
            ),
            _ if !state.verifies() => format!(
                "signed by {} v{version}, a {} version: it must not verify",
                key.name,
                state.as_str()
            ),
            _ => format!("signed by {} v{version} ({})", key.name, state_note(v, now)),
        };
        Ok(Some(KidMatch {
            kid: kid.to_string(),
            key_id: Some(key.id.clone()),
            name: Some(key.name.clone()),
            version: Some(version),
            state: Some(state),
            alg: key_alg.map(|a| a.as_str().to_string()),
            summary,
        }))
    }
}

fn token_jti(token: &Token) -> Option<String> {
    token
        .claims()
        .and_then(|c| c.get("jti"))
        .and_then(|v| v.as_str())
        .map(str::to_string)
}

/// Says what an unreadable team denylist means for the check.
fn unreadable_denylist(e: Error) -> Error {
    match e {
        Error::SecretStore(m) => Error::SecretStore(format!(
            "{m} (the team's jti denylist could not be read, so no token can be checked for revocation)"
        )),
        e => e,
    }
}

fn version_of(label: &str) -> Option<u32> {
    label.rsplit_once(" v").and_then(|(_, n)| n.parse().ok())
}

fn is_revoked(conn: &rusqlite::Connection, jti: &str, now: i64) -> Result<bool> {
    Ok(conn.query_row(
        "SELECT EXISTS(SELECT 1 FROM jti WHERE jti = ?1 AND revoked_at IS NOT NULL AND (revoked_until IS NULL OR revoked_until > ?2))",
        params![jti, now],
        |r| r.get(0),
    )?)
}

/// Drops denylist entries whose token has expired, and issued-token records
/// a day past their expiry: the list stays small.
fn prune(conn: &rusqlite::Connection, now: i64) -> Result<()> {
    conn.execute("DELETE FROM jti WHERE revoked_at IS NOT NULL AND revoked_until IS NOT NULL AND revoked_until <= ?1", [now])?;
    conn.execute(
        "DELETE FROM jti WHERE revoked_at IS NULL AND exp IS NOT NULL AND exp + 86400 <= ?1",
        [now],
    )?;
    Ok(())
}
