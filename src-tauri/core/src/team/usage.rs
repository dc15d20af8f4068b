//! When a team's API keys were last used: one small KV v2 document per key,
//! `keyward/<team>/usage/<key id>`, mapping each version to the last use any
//! client recorded (RFC 3339), by whom.
//!
//! Kept apart from the key's document on purpose: a key document is
//! written with check-and-set by lifecycle changes, and an `apikey verify`
//! that wrote it would race every rotation. Writes here are best effort and
//! coarse: a client writes a version's time at most once a minute
//! ([`GRANULARITY_SECS`]), merging with check-and-set so an older time never
//! replaces a newer one; a conflict is retried a few times, then dropped
//! (the local time is still recorded, and the next use writes again).
//!
//! Never holds a secret: key ids, version numbers, times and user names.

use super::TeamLink;
use crate::error::Result;
use serde_json::{json, Map, Value};
use std::collections::BTreeMap;

/// A client shares a version's last use at most this often.
pub const GRANULARITY_SECS: i64 = 60;

const ATTEMPTS: u32 = 3;

fn rel(key_id: &str) -> String {
    format!("usage/{key_id}")
}

/// The last use of each version of `key_id` recorded by any client.
pub fn read(link: &TeamLink, key_id: &str) -> Result<BTreeMap<u32, String>> {
    let doc = link.read(&rel(key_id), "read an API key's last use")?;
    Ok(doc.map(|(d, _)| times(&d)).unwrap_or_default())
}

fn times(doc: &Value) -> BTreeMap<u32, String> {
    doc.get("versions")
        .and_then(Value::as_object)
        .map(|m| {
            m.iter()
                .filter_map(|(v, e)| Some((v.parse().ok()?, e.get("at")?.as_str()?.to_string())))
                .collect()
        })
        .unwrap_or_default()
}

/// Records that `version` of `key_id` was used at `at` (RFC 3339 UTC, so
/// times compare as strings), unless a later use is already recorded.
/// Best effort: the caller may ignore the error.
pub fn record(link: &TeamLink, key_id: &str, version: u32, at: &str, by: &str) -> Result<()> {
    let rel = rel(key_id);
    for _ in 0..ATTEMPTS {
        let (doc, cas) = link
            .read(&rel, "read an API key's last use")?
            .unwrap_or((json!({}), 0));
        let mut versions: Map<String, Value> = doc
            .get("versions")
            .and_then(Value::as_object)
            .cloned()
            .unwrap_or_default();
        let newer = versions
            .get(&version.to_string())
            .and_then(|e| e.get("at"))
            .and_then(Value::as_str)
            .is_some_and(|t| t >= at);
        if newer {
            return Ok(());
        }
        versions.insert(
            version.to_string(),
            json!({"at": at, "by": by, "client": link.config.client_id}),
        );
        let body = json!({"format": 1, "versions": versions});
        if link
            .write_cas(&rel, &body, cas, "record an API key's last use")?
            .is_some()
        {
            return Ok(());
        }
    }
    Ok(())
}
