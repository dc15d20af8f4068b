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
//! Shape: as a key's document ([`super::doc`]), format 2 carries the map as
//! one JSON-encoded string, `body` (`{"versions": {"<n>": {"at", "by",
//! "client"}}}`), because OpenBao refuses a request with more than 1,000
//! strings and each version took 7 (format 1, the map as JSON members, is
//! still read): a key's usage stops being shared at no number of versions.
//!
//! Never holds a secret: key ids, version numbers, times and user names.

use super::TeamLink;
use crate::error::Result;
use serde_json::{json, Map, Value};
use std::collections::BTreeMap;

/// A client shares a version's last use at most this often.
pub const GRANULARITY_SECS: i64 = 60;

const ATTEMPTS: u32 = 3;

/// The document format this build writes (see the module doc).
const FORMAT: u64 = 2;

fn rel(key_id: &str) -> String {
    format!("usage/{key_id}")
}

/// The last use of each version of `key_id` recorded by any client.
pub fn read(link: &TeamLink, key_id: &str) -> Result<BTreeMap<u32, String>> {
    let doc = link.read(&rel(key_id), "read an API key's last use")?;
    Ok(doc.map(|(d, _)| times(&d)).unwrap_or_default())
}

fn times(doc: &Value) -> BTreeMap<u32, String> {
    versions(doc)
        .map(|m| {
            m.iter()
                .filter_map(|(v, e)| Some((v.parse().ok()?, e.get("at")?.as_str()?.to_string())))
                .collect()
        })
        .unwrap_or_default()
}

/// The version map of a stored document of format 1 or 2 (a malformed one
/// reads as empty: this is best effort); `None` for a newer format.
fn versions(doc: &Value) -> Option<Map<String, Value>> {
    let map = |v: Option<&Value>| {
        v.and_then(|v| v.get("versions"))
            .and_then(Value::as_object)
            .cloned()
            .unwrap_or_default()
    };
    match doc.get("format").and_then(Value::as_u64).unwrap_or(0) {
        0 | 1 => Some(map(Some(doc))),
        FORMAT => {
            let body = doc
                .get("body")
                .and_then(Value::as_str)
                .and_then(|b| serde_json::from_str::<Value>(b).ok());
            Some(map(body.as_ref()))
        }
        _ => None,
    }
}

/// The document to store for `versions`.
fn to_doc(versions: Map<String, Value>) -> Value {
    json!({"format": FORMAT, "body": json!({"versions": versions}).to_string()})
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
        // A newer Keyward's document is left as it is.
        let Some(mut versions) = versions(&doc) else {
            return Ok(());
        };
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
        let body = to_doc(versions);
        if link
            .write_cas(&rel, &body, cas, "record an API key's last use")?
            .is_some()
        {
            return Ok(());
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_shapes_read_the_same_times_and_newer_ones_are_left_alone() {
        let mut m = Map::new();
        for n in 1..=300u32 {
            m.insert(
                n.to_string(),
                json!({"at": format!("2026-01-01T00:{:02}:00Z", n % 60), "by": "alice", "client": "c_1"}),
            );
        }
        let new = to_doc(m.clone());
        // Four strings, whatever the number of versions.
        assert_eq!(new.as_object().map(|o| o.len()), Some(2));
        assert!(new["body"].is_string());
        let old = json!({"format": 1, "versions": m});
        assert_eq!(times(&new).len(), 300);
        assert_eq!(times(&new), times(&old));
        assert_eq!(times(&json!({"versions": {"2": {"at": "x"}}}))[&2], "x");
        assert!(versions(&json!({"format": 3, "body": "{}"})).is_none());
        assert!(times(&json!({"format": 2, "body": "{bad"})).is_empty());
    }
}
