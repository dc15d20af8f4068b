//! Rows of the `keys` and `key_versions` tables and the views shown to users.
//! None of these types holds a secret.

use crate::crypto::Alg;
use crate::error::{Error, Result};
use crate::keys::state::{effective, KeyState};
use crate::keys::KeyKind;
use chrono::{DateTime, Utc};
use rusqlite::{Connection, OptionalExtension, Row};
use serde::Serialize;

/// A `keys` row.
#[derive(Debug, Clone)]
pub(crate) struct KeyRow {
    pub id: String,
    pub name: String,
    pub kind: KeyKind,
    pub alg: Option<Alg>,
    pub prefix: Option<String>,
    pub scopes: Vec<String>,
    pub note: Option<String>,
    pub created_at: String,
    pub expires_in: Option<i64>,
    pub grace: Option<i64>,
    pub destroy_at: Option<String>,
    pub destroyed_at: Option<String>,
    pub auto_rotate: Option<i64>,
    pub max_token_ttl: Option<i64>,
    /// `None`: the private half is in the vault's store; `transit`: in OpenBao's transit engine.
    pub custody: Option<String>,
}

/// A `key_versions` row.
#[derive(Debug, Clone)]
pub(crate) struct VersionRow {
    pub version: u32,
    pub state: KeyState,
    pub prior_state: Option<KeyState>,
    pub created_at: String,
    pub not_after: Option<String>,
    pub grace_until: Option<String>,
    pub revoked_at: Option<String>,
    pub reason: Option<String>,
    pub kid: Option<String>,
    pub thumbprint: Option<String>,
    pub public_der: Option<Vec<u8>>,
    pub has_secret: bool,
    pub api_last4: Option<String>,
    pub last_used_at: Option<String>,
    pub activated_at: Option<String>,
    pub published_at: Option<String>,
    pub stopped_signing_at: Option<String>,
}

pub(crate) const KEY_COLUMNS: &str =
    "id, name, kind, alg, prefix, scopes, note, created_at, expires_in, grace, destroy_at, destroyed_at, auto_rotate, max_token_ttl, custody";
pub(crate) const VERSION_COLUMNS: &str = "version, state, prior_state, created_at, not_after, grace_until, revoked_at, reason, kid, thumbprint, public_der, has_secret, api_last4, last_used_at, activated_at, published_at, stopped_signing_at";

fn conv<T>(r: Result<T>) -> rusqlite::Result<T> {
    r.map_err(|e| rusqlite::Error::ToSqlConversionFailure(Box::new(e)))
}

impl KeyRow {
    pub(crate) fn from_row(r: &Row<'_>) -> rusqlite::Result<KeyRow> {
        let kind: String = r.get(2)?;
        let alg: Option<String> = r.get(3)?;
        let scopes: String = r.get(5)?;
        Ok(KeyRow {
            id: r.get(0)?,
            name: r.get(1)?,
            kind: conv(KeyKind::parse(&kind))?,
            alg: conv(alg.map(|a| a.parse::<Alg>()).transpose())?,
            prefix: r.get(4)?,
            scopes: serde_json::from_str(&scopes).unwrap_or_default(),
            note: r.get(6)?,
            created_at: r.get(7)?,
            expires_in: r.get(8)?,
            grace: r.get(9)?,
            destroy_at: r.get(10)?,
            destroyed_at: r.get(11)?,
            auto_rotate: r.get(12)?,
            max_token_ttl: r.get(13)?,
            custody: r.get(14)?,
        })
    }
}

impl VersionRow {
    pub(crate) fn from_row(r: &Row<'_>) -> rusqlite::Result<VersionRow> {
        let state: String = r.get(1)?;
        let prior: Option<String> = r.get(2)?;
        Ok(VersionRow {
            version: r.get(0)?,
            state: conv(KeyState::parse(&state))?,
            prior_state: conv(prior.map(|p| KeyState::parse(&p)).transpose())?,
            created_at: r.get(3)?,
            not_after: r.get(4)?,
            grace_until: r.get(5)?,
            revoked_at: r.get(6)?,
            reason: r.get(7)?,
            kid: r.get(8)?,
            thumbprint: r.get(9)?,
            public_der: r.get(10)?,
            has_secret: r.get(11)?,
            api_last4: r.get(12)?,
            last_used_at: r.get(13)?,
            activated_at: r.get(14)?,
            published_at: r.get(15)?,
            stopped_signing_at: r.get(16)?,
        })
    }

    /// The version's state at `now` (expiry and grace applied).
    pub(crate) fn effective_state(&self, now: DateTime<Utc>) -> KeyState {
        effective(
            self.state,
            parse_ts(self.not_after.as_deref()),
            parse_ts(self.grace_until.as_deref()),
            now,
        )
    }
}

/// Parses a stored RFC 3339 time.
pub(crate) fn parse_ts(s: Option<&str>) -> Option<DateTime<Utc>> {
    s.and_then(|s| DateTime::parse_from_rfc3339(s).ok())
        .map(|t| t.with_timezone(&Utc))
}

/// Finds a live key by id, or by name when the name is unique.
pub(crate) fn resolve(conn: &Connection, id_or_name: &str) -> Result<KeyRow> {
    let by_id = conn
        .query_row(
            &format!("SELECT {KEY_COLUMNS} FROM keys WHERE id = ?1"),
            [id_or_name],
            KeyRow::from_row,
        )
        .optional()?;
    if let Some(k) = by_id {
        return Ok(k);
    }
    let mut stmt = conn.prepare(&format!(
        "SELECT {KEY_COLUMNS} FROM keys WHERE name = ?1 AND destroyed_at IS NULL"
    ))?;
    let mut found = stmt
        .query_map([id_or_name], KeyRow::from_row)?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    match found.len() {
        1 => Ok(found.remove(0)),
        _ => Err(Error::NotFound(format!(
            "no key with id or name {id_or_name:?}: list keys with `keyward key list`"
        ))),
    }
}

/// Every version of a key, oldest first.
pub(crate) fn versions(conn: &Connection, key_id: &str) -> Result<Vec<VersionRow>> {
    let mut stmt = conn.prepare(&format!(
        "SELECT {VERSION_COLUMNS} FROM key_versions WHERE key_id = ?1 ORDER BY version"
    ))?;
    let rows = stmt
        .query_map([key_id], VersionRow::from_row)?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(rows)
}

/// The version that represents the key: the active one, else the newest.
pub(crate) fn current(versions: &[VersionRow]) -> Option<&VersionRow> {
    versions
        .iter()
        .rev()
        .find(|v| v.state == KeyState::Active)
        .or_else(|| versions.last())
}

/// Filters of `key list`.
#[derive(Debug, Default, Clone)]
pub struct KeyFilter {
    pub kind: Option<KeyKind>,
    pub state: Option<KeyState>,
}

/// One line of `key list`.
#[derive(Debug, Clone, Serialize, ts_rs::TS)]
pub struct KeySummary {
    pub id: String,
    pub name: String,
    pub kind: KeyKind,
    pub alg: Option<String>,
    pub state: KeyState,
    pub version: u32,
    pub created_at: String,
    pub expires_at: Option<String>,
    pub scopes: Vec<String>,
    pub prefix: Option<String>,
    pub last4: Option<String>,
    pub note: Option<String>,
    pub grace_until: Option<String>,
    pub last_used_at: Option<String>,
    pub destroy_at: Option<String>,
    pub public_only: bool,
    pub policy: Policy,
    /// When the policy's automatic rotation is next due.
    pub next_rotation_at: Option<String>,
    /// `transit` for a non-exportable key held in OpenBao; absent otherwise.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub custody: Option<String>,
}

/// A key's lifecycle policy (durations as `30d`, `1h30m`).
#[derive(Debug, Clone, Default, Serialize, ts_rs::TS)]
pub struct Policy {
    pub auto_rotate: Option<String>,
    pub grace: Option<String>,
    pub max_token_ttl: Option<String>,
}

impl KeyRow {
    pub(crate) fn policy(&self) -> Policy {
        let f = |s: Option<i64>| {
            s.map(|s| crate::duration::format_duration(chrono::Duration::seconds(s)))
        };
        Policy {
            auto_rotate: f(self.auto_rotate),
            grace: f(self.grace),
            max_token_ttl: f(self.max_token_ttl),
        }
    }

    /// When the active version is due for automatic rotation.
    pub(crate) fn rotation_due(
        &self,
        versions: &[VersionRow],
        now: DateTime<Utc>,
    ) -> Option<DateTime<Utc>> {
        let every = self.auto_rotate?;
        let active = versions
            .iter()
            .rev()
            .find(|v| v.effective_state(now) == KeyState::Active)?;
        let since = parse_ts(Some(
            active.activated_at.as_deref().unwrap_or(&active.created_at),
        ))?;
        Some(since + chrono::Duration::seconds(every))
    }
}

/// One version in `key show`.
#[derive(Debug, Clone, Serialize, ts_rs::TS)]
pub struct VersionInfo {
    pub version: u32,
    pub state: KeyState,
    pub created_at: String,
    pub not_after: Option<String>,
    pub grace_until: Option<String>,
    pub revoked_at: Option<String>,
    pub reason: Option<String>,
    pub kid: Option<String>,
    pub thumbprint: Option<String>,
    pub last4: Option<String>,
    pub last_used_at: Option<String>,
    /// While destruction is scheduled: the state `restore` returns to.
    pub restores_to: Option<KeyState>,
    pub activated_at: Option<String>,
    pub published_at: Option<String>,
    pub stopped_signing_at: Option<String>,
}

/// `key show`.
#[derive(Debug, Clone, Serialize, ts_rs::TS)]
pub struct KeyDetail {
    #[serde(flatten)]
    pub summary: KeySummary,
    pub versions: Vec<VersionInfo>,
}

pub(crate) fn summarize(key: &KeyRow, versions: &[VersionRow], now: DateTime<Utc>) -> KeySummary {
    let cur = current(versions);
    KeySummary {
        id: key.id.clone(),
        name: key.name.clone(),
        kind: key.kind,
        alg: key.alg.map(|a| a.as_str().to_string()),
        state: cur
            .map(|v| v.effective_state(now))
            .unwrap_or(KeyState::Destroyed),
        version: cur.map(|v| v.version).unwrap_or(0),
        created_at: key.created_at.clone(),
        expires_at: cur.and_then(|v| v.not_after.clone()),
        scopes: key.scopes.clone(),
        prefix: key.prefix.clone(),
        last4: cur.and_then(|v| v.api_last4.clone()),
        note: key.note.clone(),
        grace_until: versions
            .iter()
            .filter(|v| v.effective_state(now) == KeyState::Grace)
            .filter_map(|v| v.grace_until.clone())
            .max(),
        last_used_at: versions.iter().filter_map(|v| v.last_used_at.clone()).max(),
        destroy_at: key.destroy_at.clone(),
        public_only: key.kind == KeyKind::Signing
            && cur.is_some_and(|v| !v.has_secret)
            && key.destroyed_at.is_none()
            && key.custody.is_none(),
        policy: key.policy(),
        next_rotation_at: key
            .rotation_due(versions, now)
            .map(crate::duration::rfc3339),
        custody: key.custody.clone(),
    }
}

pub(crate) fn version_info(v: &VersionRow, now: DateTime<Utc>) -> VersionInfo {
    VersionInfo {
        version: v.version,
        state: v.effective_state(now),
        created_at: v.created_at.clone(),
        not_after: v.not_after.clone(),
        grace_until: v.grace_until.clone(),
        revoked_at: v.revoked_at.clone(),
        reason: v.reason.clone(),
        kid: v.kid.clone(),
        thumbprint: v.thumbprint.clone(),
        last4: v.api_last4.clone(),
        last_used_at: v.last_used_at.clone(),
        restores_to: v.prior_state,
        activated_at: v.activated_at.clone(),
        published_at: v.published_at.clone(),
        stopped_signing_at: v.stopped_signing_at.clone(),
    }
}

/// The versions a `--version N` names, or (without one) every version whose
/// state at `now` matches; `none` says why when nothing matches.
pub(crate) fn pick_versions<'a>(
    key: &KeyRow,
    vs: &'a [VersionRow],
    version: Option<u32>,
    now: DateTime<Utc>,
    matches: impl Fn(KeyState) -> bool,
    none: impl FnOnce() -> String,
) -> Result<Vec<&'a VersionRow>> {
    match version {
        Some(n) => vs
            .iter()
            .find(|v| v.version == n)
            .map(|v| vec![v])
            .ok_or_else(|| {
                Error::NotFound(format!(
                    "{} has no version {n}: see `keyward key show {}`",
                    key.name, key.id
                ))
            }),
        None => {
            let found: Vec<&VersionRow> = vs
                .iter()
                .filter(|v| matches(v.effective_state(now)))
                .collect();
            if found.is_empty() {
                return Err(Error::conflict("invalid_transition", none()));
            }
            Ok(found)
        }
    }
}
