//! Signing keys in OpenBao's transit engine (`--custody transit`): created,
//! rotated and used there; only public keys and signatures come out.
//!
//! Keyward versions map to transit versions one to one through the version
//! row's `transit_version`, and signing always names the version, so a
//! transit version created by a rotation that then lost its check-and-set
//! race is never used nor published.

use super::client::Reply;
use super::TeamLink;
use crate::crypto::{parse_key, Alg, ParsedKey, PublicKey};
use crate::error::{Error, Result};
use base64::Engine;
use serde_json::{json, Value};

/// The transit key type for a JWS algorithm; HMAC is refused.
pub fn key_type(alg: Alg, bits: Option<usize>) -> Result<&'static str> {
    use Alg::*;
    Ok(match alg {
        HS256 | HS384 | HS512 => {
            return Err(Error::invalid(
                "custody_unsupported",
                format!("{alg} keys cannot be kept in transit custody: an HMAC secret must be shared with every verifier, so it cannot stay inside OpenBao; use an asymmetric algorithm (RS*, PS*, ES256, ES384, EdDSA) or omit --custody"),
            ))
        }
        RS256 | RS384 | RS512 | PS256 | PS384 | PS512 => match bits.unwrap_or(2048) {
            2048 => "rsa-2048",
            3072 => "rsa-3072",
            4096 => "rsa-4096",
            b => {
                return Err(Error::invalid(
                    "bad_bits",
                    format!("--bits {b}: use 2048, 3072 or 4096"),
                ))
            }
        },
        ES256 => "ecdsa-p256",
        ES384 => "ecdsa-p384",
        EdDSA => "ed25519",
    })
}

/// The transit key's name for a Keyward key.
pub fn key_name(link: &TeamLink, key_id: &str) -> String {
    format!("keyward-{}-{key_id}", link.config.team)
}

fn path(link: &TeamLink, rest: &str) -> String {
    format!("{}/{rest}", link.config.transit_mount)
}

/// Creates the transit key (non-exportable, never deletable by accident).
pub fn create(link: &TeamLink, name: &str, kind: &str) -> Result<()> {
    let body = json!({"type": kind, "exportable": false, "allow_plaintext_backup": false});
    match link.client.post(
        &path(link, &format!("keys/{name}")),
        &body,
        "create a transit key",
        false,
    )? {
        Reply::Ok(_) => Ok(()),
        _ => Err(no_transit(link)),
    }
}

fn no_transit(link: &TeamLink) -> Error {
    Error::SecretStore(format!(
        "OpenBao at {} has no transit engine at {}/: enable it (bao secrets enable transit) and retry",
        link.client.addr(),
        link.config.transit_mount
    ))
}

/// Adds a transit version; returns the new latest version.
pub fn rotate(link: &TeamLink, name: &str) -> Result<u64> {
    match link.client.post(
        &path(link, &format!("keys/{name}/rotate")),
        &json!({}),
        "rotate a transit key",
        false,
    )? {
        Reply::Ok(v) => match v.pointer("/data/latest_version").and_then(Value::as_u64) {
            Some(n) => Ok(n),
            // Older servers answer 204: read the key.
            None => Ok(read(link, name)?.0),
        },
        _ => Err(no_transit(link)),
    }
}

/// The latest version and the transit key description.
fn read(link: &TeamLink, name: &str) -> Result<(u64, Value)> {
    match link
        .client
        .get(&path(link, &format!("keys/{name}")), "read a transit key")?
    {
        Reply::Ok(v) => {
            let data = v.get("data").cloned().unwrap_or(Value::Null);
            let latest = data
                .get("latest_version")
                .and_then(Value::as_u64)
                .unwrap_or(0);
            Ok((latest, data))
        }
        _ => Err(Error::SecretStore(format!(
            "the transit key {name} is missing from OpenBao at {}: it was deleted outside Keyward",
            link.client.addr()
        ))),
    }
}

/// The public key of transit version `version`.
pub fn public_key(link: &TeamLink, name: &str, version: u64) -> Result<PublicKey> {
    let (_, data) = read(link, name)?;
    let text = data
        .pointer(&format!("/keys/{version}/public_key"))
        .and_then(Value::as_str)
        .ok_or_else(|| {
            Error::SecretStore(format!(
                "OpenBao's transit key {name} has no public key for version {version}"
            ))
        })?;
    if text.trim_start().starts_with("-----BEGIN") {
        return match parse_key(text.as_bytes())? {
            ParsedKey::Public(p) => Ok(p),
            ParsedKey::Private(_) => Err(Error::SecretStore(
                "OpenBao returned a private key where a public key was expected".into(),
            )),
        };
    }
    // Ed25519: the raw 32-byte key in base64.
    let raw = base64::engine::general_purpose::STANDARD
        .decode(text.trim())
        .map_err(|_| {
            Error::SecretStore(format!(
                "the public key of transit key {name} is not base64"
            ))
        })?;
    PublicKey::ed25519(&raw)
}

/// Signs `input` with transit version `version` for `alg`; returns the raw
/// JWS signature bytes (ECDSA as r||s).
pub fn sign(link: &TeamLink, name: &str, version: u64, alg: Alg, input: &[u8]) -> Result<Vec<u8>> {
    use Alg::*;
    let hash = match alg {
        RS256 | PS256 | ES256 => Some("sha2-256"),
        RS384 | PS384 | ES384 => Some("sha2-384"),
        RS512 | PS512 => Some("sha2-512"),
        _ => None,
    };
    let mut body = json!({
        "input": base64::engine::general_purpose::STANDARD.encode(input),
        "key_version": version,
        "marshaling_algorithm": "jws",
    });
    if let Some(h) = hash {
        body["hash_algorithm"] = json!(h);
    }
    match alg {
        PS256 | PS384 | PS512 => {
            body["signature_algorithm"] = json!("pss");
            // RFC 7518 §3.5: the salt is as long as the hash (transit's
            // default "auto" makes it as long as possible).
            body["salt_length"] = json!("hash");
        }
        RS256 | RS384 | RS512 => body["signature_algorithm"] = json!("pkcs1v15"),
        _ => {}
    }
    let reply = link.client.post(
        &path(link, &format!("sign/{name}")),
        &body,
        "sign with a transit key",
        true,
    )?;
    let Reply::Ok(v) = reply else {
        return Err(no_transit(link));
    };
    let sig = v
        .pointer("/data/signature")
        .and_then(Value::as_str)
        .ok_or_else(|| {
            Error::SecretStore("OpenBao's transit/sign answered without a signature".into())
        })?;
    // "vault:v<n>:<base64url>"
    let b64 = sig.rsplit(':').next().unwrap_or("");
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(b64.trim_end_matches('='))
        .or_else(|_| base64::engine::general_purpose::STANDARD.decode(b64))
        .map_err(|_| Error::SecretStore("OpenBao's transit signature is not base64".into()))
}

/// Deletes the transit key (destruction): allowed first, then removed; an
/// already deleted key counts as done (a destroy interrupted and resumed).
pub fn delete(link: &TeamLink, name: &str) -> Result<()> {
    let key = path(link, &format!("keys/{name}"));
    if let Reply::NotFound = link.client.get(&key, "read a transit key")? {
        return Ok(());
    }
    link.client.post(
        &format!("{key}/config"),
        &json!({"deletion_allowed": true}),
        "allow deleting a transit key",
        true,
    )?;
    link.client.delete(&key, "delete a transit key")?;
    Ok(())
}
