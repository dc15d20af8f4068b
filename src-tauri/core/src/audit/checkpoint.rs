//! Checkpoints of the audit chain kept outside the database.
//!
//! The chain alone cannot show that its newest events were cut off, nor
//! that someone rewrote the table and recomputed every plain hash. After
//! every committed change the vault writes the latest `(seq, hash)` to
//! `audit.checkpoint` beside the database, with an HMAC keyed by a secret
//! that lives only in the keychain (`audit/mac-key`); `audit verify` and
//! `vault check` compare the two. Without the keychain secret a checkpoint
//! cannot be forged, so a rewritten or truncated chain is detected. Exports and archives carry checkpoints *signed* with the
//! vault's Ed25519 audit key (private half in the keychain), so an exported
//! file can be checked offline with `keyward audit pubkey`'s output alone.

use crate::crypto::{Alg, KeyMaterial, PublicKey};
use crate::error::{Error, Result};
use serde::{Deserialize, Serialize};
use std::io::Write;
use std::path::{Path, PathBuf};

/// The latest chain position, as stored in `audit.checkpoint`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Checkpoint {
    pub seq: i64,
    /// Hex SHA-256 of event `seq`.
    pub hash: String,
    /// Hex HMAC-SHA256 over [`mac_message`], keyed by the keychain's audit MAC key.
    pub mac: String,
}

/// What the checkpoint MAC covers.
pub fn mac_message(vault_id: &str, seq: i64, hash_hex: &str) -> Vec<u8> {
    format!("keyward-audit-anchor-v1\n{vault_id}\n{seq}\n{hash_hex}\n").into_bytes()
}

/// The checkpoint MAC.
pub fn mac(key: &[u8], vault_id: &str, seq: i64, hash_hex: &str) -> String {
    use hmac::{Hmac, Mac};
    // HMAC accepts keys of any length.
    let mut m =
        <Hmac<sha2::Sha256> as Mac>::new_from_slice(key).expect("HMAC takes any key length");
    m.update(&mac_message(vault_id, seq, hash_hex));
    super::log::hex(&m.finalize().into_bytes())
}

/// Checks a checkpoint's MAC in constant time.
pub fn mac_ok(key: &[u8], vault_id: &str, cp: &Checkpoint) -> bool {
    use subtle::ConstantTimeEq;
    let want = mac(key, vault_id, cp.seq, &cp.hash);
    bool::from(want.as_bytes().ct_eq(cp.mac.as_bytes()))
}

/// A checkpoint signed with the vault's audit key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignedCheckpoint {
    pub seq: i64,
    pub hash: String,
    /// base64url Ed25519 signature over [`message`].
    pub signature: String,
}

/// The checkpoint file of a vault directory.
pub fn path(dir: &Path) -> PathBuf {
    dir.join("audit.checkpoint")
}

/// Reads the checkpoint file; `Ok(None)` when there is none yet, `Err` when
/// it exists but cannot be read or parsed (itself a sign of tampering).
pub fn read(dir: &Path) -> std::result::Result<Option<Checkpoint>, String> {
    match std::fs::read(path(dir)) {
        Ok(bytes) => serde_json::from_slice(&bytes)
            .map(Some)
            .map_err(|e| format!("the audit checkpoint file is malformed ({e})")),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(format!("the audit checkpoint file cannot be read ({e})")),
    }
}

/// Atomically replaces the checkpoint file (never moving it backwards).
pub fn write(dir: &Path, cp: &Checkpoint) -> Result<()> {
    if let Ok(Some(existing)) = read(dir) {
        if existing.seq > cp.seq {
            return Ok(());
        }
    }
    replace(dir, cp)
}

/// Atomically replaces the checkpoint file, even with an earlier one (only
/// for anchoring it anew: the first checkpoint and `vault check --repair`).
pub fn replace(dir: &Path, cp: &Checkpoint) -> Result<()> {
    let tmp = dir.join(format!("audit.checkpoint.{}.tmp", std::process::id()));
    let io = |e: std::io::Error| {
        Error::Io(format!(
            "cannot write the audit checkpoint in {} ({e})",
            dir.display()
        ))
    };
    {
        let mut f = std::fs::File::create(&tmp).map_err(io)?;
        f.write_all(&serde_json::to_vec(cp).unwrap_or_default())
            .map_err(io)?;
        f.sync_all().map_err(io)?;
    }
    crate::failpoint::hit("checkpoint.before_rename");
    std::fs::rename(&tmp, path(dir)).map_err(io)
}

/// The bytes a checkpoint signature covers.
pub fn message(vault_id: &str, seq: i64, hash_hex: &str) -> Vec<u8> {
    format!("keyward-audit-checkpoint-v1\n{vault_id}\n{seq}\n{hash_hex}\n").into_bytes()
}

/// Checks a signed checkpoint against the audit public key.
pub fn verify_signature(public: &PublicKey, vault_id: &str, cp: &SignedCheckpoint) -> bool {
    let Some(sig) = crate::crypto::b64::decode(&cp.signature) else {
        return false;
    };
    KeyMaterial::Public(public.clone())
        .verify(Alg::EdDSA, &message(vault_id, cp.seq, &cp.hash), &sig)
        .is_ok()
}
