//! Turning a key file (`--key-file`, `--secret-file`) into candidate keys.

use super::verify::{Candidate, KeySource};
use crate::crypto::{json, parse_jwk, parse_jwk_set, parse_key, ParsedKey};
use crate::error::{Error, Result};
use std::path::Path;

/// Reads a key file: PEM of any kind (certificates included), DER, a JWK or a
/// JWK Set. `label` names it in reports (usually the file name).
pub fn key_source_from_file(bytes: &[u8], label: &str) -> Result<KeySource> {
    let trimmed = bytes.trim_ascii();
    if trimmed.starts_with(b"{") {
        let v = json::parse(trimmed)
            .map_err(|e| Error::invalid("bad_jwk", format!("{label}: the JWK is {e}")))?;
        if v.get("keys").is_some() {
            let set = parse_jwk_set(&v).map_err(|e| prefixed(label, e))?;
            if set.keys.is_empty() {
                let why = set
                    .skipped
                    .first()
                    .map(|(i, _, why)| format!(" (key #{i}: {why})"))
                    .unwrap_or_default();
                return Err(Error::invalid(
                    "empty_jwks",
                    format!("{label}: the JWK Set holds no usable key{why}"),
                ));
            }
            let candidates = set
                .keys
                .iter()
                .enumerate()
                .map(|(i, k)| {
                    let name = match &k.kid {
                        Some(kid) => format!("{label} kid {kid:?}"),
                        None => format!("{label} key #{i}"),
                    };
                    Candidate::from_jwk(k, name)
                })
                .collect();
            let unreadable = set
                .skipped
                .into_iter()
                .map(|(_, kid, why)| (kid, why))
                .collect();
            return Ok(KeySource::Set {
                keys: candidates,
                unreadable,
            });
        }
        let jwk = parse_jwk(&v).map_err(|e| prefixed(label, e))?;
        return Ok(KeySource::Single(Candidate::from_jwk(&jwk, label)));
    }
    let key: ParsedKey = parse_key(bytes).map_err(|e| prefixed(label, e))?;
    Ok(KeySource::Single(Candidate::from_parsed(&key, label)))
}

fn prefixed(label: &str, e: Error) -> Error {
    match e {
        Error::Invalid { code, message } => Error::invalid(code, format!("{label}: {message}")),
        other => other,
    }
}

/// Reads a file for `--key-file`/`--secret-file`, with a one-line error.
pub fn load_key_file(path: &Path) -> Result<Vec<u8>> {
    std::fs::read(path).map_err(|e| {
        Error::invalid(
            "unreadable_key_file",
            format!("cannot read key file {}: {e}", path.display()),
        )
    })
}
