//! The hash chain over audit events.
//!
//! `hash = SHA-256(prev_hash ‖ canonical(event))`, where the first event's
//! `prev_hash` is the vault's random genesis value and `canonical` is a
//! length-prefixed encoding of every stored field, so no field can be edited,
//! and no event inserted, removed or reordered, without breaking the chain.

use sha2::{Digest, Sha256};

/// The fields of an event that the chain covers, in their stored form.
pub struct ChainedFields<'a> {
    pub seq: i64,
    pub at: &'a str,
    pub actor: &'a str,
    pub source: &'a str,
    pub action: &'a str,
    pub key_id: Option<&'a str>,
    pub version: Option<i64>,
    pub outcome: &'a str,
    pub details: &'a str,
}

/// The chained hash of an event following `prev_hash`.
pub fn event_hash(prev_hash: &[u8], f: &ChainedFields<'_>) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(b"keyward-audit-v1");
    h.update(prev_hash);
    h.update(f.seq.to_be_bytes());
    for text in [f.at, f.actor, f.source, f.action] {
        put_str(&mut h, Some(text));
    }
    put_str(&mut h, f.key_id);
    match f.version {
        Some(v) => {
            h.update([1]);
            h.update(v.to_be_bytes());
        }
        None => h.update([0]),
    }
    put_str(&mut h, Some(f.outcome));
    put_str(&mut h, Some(f.details));
    h.finalize().into()
}

fn put_str(h: &mut Sha256, s: Option<&str>) {
    match s {
        Some(s) => {
            h.update([1]);
            h.update((s.len() as u64).to_be_bytes());
            h.update(s.as_bytes());
        }
        None => h.update([0]),
    }
}
