//! Read paths: `key list`, `key show`, `key jwks`, `apikey verify`.
//! None of these returns a secret.
//!
//! In a team vault, `apikey verify` also shares the version's last use
//! ([`crate::team::usage`], at most once a minute per client, best effort)
//! and `key show` reports the latest use any member recorded; `key list`
//! shows this client's own record (one request per key would be too many).

use super::lifecycle::public_jwk;
use super::model::{
    self, resolve, summarize, version_info, versions, KeyDetail, KeyFilter, KeyRow, KeySummary,
};
use super::Vault;
use crate::crypto::PublicKey;
use crate::duration::rfc3339;
use crate::error::{Error, Result};
use crate::keys::apikey::ApiKey;
use crate::keys::state::KeyState;
use crate::keys::KeyKind;
use crate::team::usage;
use rusqlite::params;
use serde::Serialize;
use subtle::ConstantTimeEq;

/// A live API key that `apikey verify` accepted.
#[derive(Debug, Clone, Serialize)]
pub struct ApiKeyMatch {
    pub id: String,
    pub name: String,
    pub version: u32,
    pub state: KeyState,
    pub scopes: Vec<String>,
    pub expires_at: Option<String>,
}

impl Vault {
    /// Every key (not destroyed) matching `filter`, by name.
    pub fn list_keys(&self, filter: &KeyFilter) -> Result<Vec<KeySummary>> {
        let now = self.clock.now();
        let mut stmt = self.conn.prepare(&format!(
            "SELECT {} FROM keys WHERE destroyed_at IS NULL ORDER BY name, id",
            model::KEY_COLUMNS
        ))?;
        let keys = stmt
            .query_map([], KeyRow::from_row)?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        let mut out = Vec::with_capacity(keys.len());
        for k in keys {
            if filter.kind.is_some_and(|kind| kind != k.kind) {
                continue;
            }
            let s = summarize(&k, &versions(&self.conn, &k.id)?, now);
            if filter.state.is_some_and(|st| st != s.state) {
                continue;
            }
            out.push(s);
        }
        Ok(out)
    }

    /// One key with all its versions.
    pub fn show_key(&self, id: &str) -> Result<KeyDetail> {
        let now = self.clock.now();
        let key = resolve(&self.conn, id)?;
        let mut vs = versions(&self.conn, &key.id)?;
        if let (Some(t), KeyKind::Api) = (&self.team, key.kind) {
            // Best effort: without OpenBao's answer, this client's own record.
            if let Ok(shared) = usage::read(&t.link, &key.id) {
                for v in &mut vs {
                    if let Some(at) = shared.get(&v.version) {
                        if v.last_used_at.as_ref().is_none_or(|l| l < at) {
                            v.last_used_at = Some(at.clone());
                        }
                    }
                }
            }
        }
        Ok(KeyDetail {
            summary: summarize(&key, &vs, now),
            versions: vs.iter().rev().map(|v| version_info(v, now)).collect(),
        })
    }

    /// A JWKS of the public keys that currently verify (pending, active,
    /// grace) of the given signing keys, or of all of them.
    pub fn jwks(&self, ids: &[String]) -> Result<serde_json::Value> {
        let now = self.clock.now();
        let keys: Vec<KeyRow> = if ids.is_empty() {
            let mut stmt = self.conn.prepare(&format!(
                "SELECT {} FROM keys WHERE kind = 'signing' AND destroyed_at IS NULL ORDER BY name, id",
                model::KEY_COLUMNS
            ))?;
            let rows = stmt.query_map([], KeyRow::from_row)?;
            rows.collect::<rusqlite::Result<Vec<_>>>()?
        } else {
            let mut ks = Vec::new();
            for id in ids {
                let k = resolve(&self.conn, id)?;
                if k.kind != KeyKind::Signing {
                    return Err(Error::invalid(
                        "not_signing",
                        format!("{} is an API key: a JWKS holds signing keys only", k.name),
                    ));
                }
                ks.push(k);
            }
            ks
        };
        let mut out = Vec::new();
        for k in keys {
            for v in versions(&self.conn, &k.id)?.iter().rev() {
                if !v.effective_state(now).verifies() {
                    continue;
                }
                if let Some(der) = &v.public_der {
                    let pk = PublicKey::from_der(der)?;
                    out.push(public_jwk(&pk, v.kid.as_deref(), k.alg));
                }
            }
        }
        Ok(serde_json::json!({ "keys": out }))
    }

    /// Which key a well-formed API key belongs to, and its state now, without
    /// counting as a use (for the leak scanner). `Ok(None)`: not this vault's.
    pub fn identify_api_key(&self, key: &ApiKey) -> Result<Option<ApiKeyMatch>> {
        let Some((id, version)) = self.find_api_key(key)? else {
            return Ok(None);
        };
        let key_row = resolve(&self.conn, &id)?;
        let vs = versions(&self.conn, &id)?;
        let Some(v) = vs.iter().find(|v| v.version == version) else {
            return Ok(None);
        };
        Ok(Some(ApiKeyMatch {
            id,
            name: key_row.name,
            version,
            state: v.effective_state(self.clock.now()),
            scopes: key_row.scopes,
            expires_at: v.not_after.clone(),
        }))
    }

    /// The (key id, version) whose stored hash equals the key's, compared in
    /// constant time among the candidates selected by the non-secret hints.
    fn find_api_key(&self, key: &ApiKey) -> Result<Option<(String, u32)>> {
        let hash = key.hash();
        let mut stmt = self.conn.prepare_cached(
            "SELECT k.id, v.version, v.api_hash FROM key_versions v JOIN keys k ON k.id = v.key_id
             WHERE k.kind = 'api' AND k.prefix = ?1 AND v.api_last4 = ?2 AND v.api_hash IS NOT NULL",
        )?;
        let candidates = stmt
            .query_map(params![key.prefix(), key.last4()], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, u32>(1)?,
                    r.get::<_, Vec<u8>>(2)?,
                ))
            })?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        let mut found = None;
        for (id, version, stored) in candidates {
            if bool::from(stored.as_slice().ct_eq(hash.as_slice())) {
                found = Some((id, version));
            }
        }
        Ok(found)
    }

    /// Checks an API key: `Err(Invalid)` for a malformed one (exit 2, before
    /// any lookup), `Err(Rejected)` for an unknown, revoked or expired one.
    pub fn verify_api_key(&mut self, text: &[u8]) -> Result<ApiKeyMatch> {
        let key = ApiKey::parse(text)?;
        let now_t = self.clock.now();
        let found = self.find_api_key(&key)?;
        let Some((id, version)) = found else {
            return Err(Error::rejected(
                "unknown_key",
                "the API key is not known to this vault",
            ));
        };
        let key_row = resolve(&self.conn, &id)?;
        let vs = versions(&self.conn, &id)?;
        let v = vs
            .iter()
            .find(|v| v.version == version)
            .ok_or_else(|| Error::Database(format!("version {version} of {id} vanished")))?;
        let state = v.effective_state(now_t);
        if !state.verifies() || state == KeyState::Pending {
            return Err(Error::rejected(
                "key_not_live",
                format!(
                    "the API key belongs to {} v{version}, which is {}",
                    key_row.name,
                    state.as_str()
                ),
            ));
        }
        let at = rfc3339(now_t);
        self.conn.execute(
            "UPDATE key_versions SET last_used_at = ?3 WHERE key_id = ?1 AND version = ?2",
            params![id, version, at],
        )?;
        if let Some(t) = &self.team {
            // Coarse on purpose: this client shares a use when its own
            // previous one is a minute old (or unknown), never on every check.
            let due = model::parse_ts(v.last_used_at.as_deref()).is_none_or(|prev| {
                (now_t - prev).num_seconds() >= usage::GRANULARITY_SECS || prev > now_t
            });
            if due {
                // Best effort: a use that OpenBao did not get is shared by
                // the next one.
                let _ = usage::record(&t.link, &id, version, &at, &self.actor);
            }
        }
        Ok(ApiKeyMatch {
            id,
            name: key_row.name,
            version,
            state,
            scopes: key_row.scopes,
            expires_at: v.not_after.clone(),
        })
    }
}
