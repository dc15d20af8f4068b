//! A team vault's jti denylist in OpenBao: 16 small KV v2 documents,
//! `keyward/<team>/denylist/<0-f>`, a jti living in the one named by the
//! first hex digit of its SHA-256. Each maps its jtis to the time their
//! token expires (`until`, Unix seconds; `null`: kept for good). Who revoked
//! what, and when, is in the revoking member's audit log.
//!
//! - **Adding** reads the jti's shard, drops the entries whose token has
//!   expired, adds the jti and writes the shard back with check-and-set on
//!   the version read. A mismatch means another member revoked (or pruned)
//!   in that shard meanwhile: read again and retry, so two members revoking
//!   at once both keep their entries. A shard holds only the revoked tokens
//!   that are still live (and, until its next write, expired ones that no
//!   check counts any more).
//! - **Reading** is one GET of one shard; `jwt verify --key` reads it at
//!   verify time (a token revoked by another member a moment ago is
//!   rejected), and an unreadable list is an error, never "not revoked".
//! - **Size**: OpenBao refuses a JSON request with more than 1,000 strings
//!   (its JSON complexity limit; member names count), and every jti is one;
//!   so entries map to numbers only, and a shard takes at most [`SHARD_LIMIT`] live entries
//!   (about 14,000 live revoked tokens for the team).
//!
//! jtis are not secrets; this module never sees a token's signature or key.

use super::TeamLink;
use crate::error::{Error, Result};
use serde_json::{json, Map, Value};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;

/// How many check-and-set conflicts in a row an addition survives.
const ATTEMPTS: u32 = 20;

/// Live entries a shard takes: under OpenBao's 1,000-string limit per
/// request, with room for the document's own members.
pub const SHARD_LIMIT: usize = 900;

/// The shard of `jti`: the first hex digit of its SHA-256.
pub fn shard(jti: &str) -> char {
    let h = Sha256::digest(jti.as_bytes());
    char::from_digit(u32::from(h[0] >> 4), 16).unwrap_or('0')
}

/// The document path of `jti`'s shard under the team.
pub fn rel(jti: &str) -> String {
    format!("denylist/{}", shard(jti))
}

/// One shard as read, with the KV version it was read at (0: none yet).
#[derive(Debug, Clone, Default)]
pub struct Shard {
    /// jti → the token's `exp` (`None`: kept for good).
    pub entries: BTreeMap<String, Option<i64>>,
    pub version: u64,
}

impl Shard {
    /// Whether `jti` is revoked at `now` (an expired entry no longer counts).
    pub fn contains(&self, jti: &str, now: i64) -> bool {
        self.entries.get(jti).is_some_and(|u| live(*u, now))
    }
}

fn live(until: Option<i64>, now: i64) -> bool {
    until.is_none_or(|u| u > now)
}

/// Reads the shard that holds `jti`.
pub fn read(link: &TeamLink, jti: &str) -> Result<Shard> {
    let rel = rel(jti);
    let Some((data, version)) = link.read(&rel, "read the team's jti denylist")? else {
        return Ok(Shard::default());
    };
    let malformed = || {
        Error::SecretStore(format!(
            "the team's jti denylist in OpenBao ({}) is malformed: it was changed outside Keyward; restore a KV version that Keyward wrote",
            link.config.data(&rel)
        ))
    };
    let mut entries = BTreeMap::new();
    match data.get("entries") {
        None | Some(Value::Null) => {}
        Some(Value::Object(m)) => {
            for (jti, until) in m {
                let until = match until {
                    Value::Null => None,
                    v => Some(v.as_i64().ok_or_else(malformed)?),
                };
                entries.insert(jti.clone(), until);
            }
        }
        Some(_) => return Err(malformed()),
    }
    Ok(Shard { entries, version })
}

/// Who is writing, for the document's `updated_*` members.
pub struct Writer<'a> {
    pub by: &'a str,
    pub at: &'a str,
}

/// Adds `jti` to the team's denylist until `until` (replacing an entry of
/// the same jti) and prunes its shard's entries expired at `now`; returns
/// how many were pruned. Retries on check-and-set conflicts; fails (never
/// half-done) when OpenBao cannot be reached or the shard is full.
pub fn add(
    link: &TeamLink,
    jti: &str,
    until: Option<i64>,
    now: i64,
    who: Writer<'_>,
) -> Result<usize> {
    for attempt in 0..ATTEMPTS {
        let mut shard = read(link, jti)?;
        crate::failpoint::hit("denylist.before_write");
        let before = shard.entries.len();
        shard.entries.retain(|_, u| live(*u, now));
        let pruned = before - shard.entries.len();
        shard.entries.insert(jti.to_string(), until);
        if shard.entries.len() > SHARD_LIMIT {
            return Err(Error::SecretStore(format!(
                "the team's jti denylist is full ({SHARD_LIMIT} live revocations in {}): nothing was revoked; revoke the signing key instead, or wait for revoked tokens to expire",
                link.config.data(&rel(jti))
            )));
        }
        let entries: Map<String, Value> = shard
            .entries
            .iter()
            .map(|(j, u)| (j.clone(), json!(u)))
            .collect();
        let body = json!({
            "format": 1,
            "entries": entries,
            "updated_by": who.by,
            "updated_from": link.config.client_id,
            "updated_at": who.at,
        });
        if link
            .write_cas(
                &rel(jti),
                &body,
                shard.version,
                "write the team's jti denylist",
            )?
            .is_some()
        {
            return Ok(pruned);
        }
        // Another member wrote this shard between our read and write: back
        // off a little (jittered, growing) and merge again.
        std::thread::sleep(backoff(attempt));
    }
    Err(Error::SecretStore(format!(
        "the team's jti denylist in OpenBao kept changing under {ATTEMPTS} attempts to add {jti:?}: nothing was revoked; retry"
    )))
}

fn backoff(attempt: u32) -> std::time::Duration {
    let jitter = crate::vault::random_bytes(1).map_or(0, |b| u64::from(b[0]) % 20);
    std::time::Duration::from_millis(5 + jitter + 10 * u64::from(attempt.min(10)))
}
