//! Signing: builds the header and claims and produces a compact JWS.

use crate::crypto::{b64, Alg, PrivateKey};
use crate::error::{Error, Result};
use chrono::{DateTime, Duration, Utc};
use rand::rngs::OsRng;
use rand::RngCore;
use serde_json::{Map, Value};

/// Signs `claims` with `key` under `alg`. The header is `{"alg", "typ":"JWT"}`
/// plus `extra_header`, which may add members but never an `alg` other than
/// `alg`, nor `crit` (Keyward implements no extension).
pub fn sign(
    key: &PrivateKey,
    alg: Alg,
    extra_header: Map<String, Value>,
    claims: Map<String, Value>,
) -> Result<String> {
    sign_with_kid(key, alg, None, extra_header, claims)
}

/// Like [`sign`], with the key's `kid` in the header; `extra_header` may not
/// name another `kid`.
pub fn sign_with_kid(
    key: &PrivateKey,
    alg: Alg,
    kid: Option<&str>,
    extra_header: Map<String, Value>,
    claims: Map<String, Value>,
) -> Result<String> {
    if !key.fits(alg) {
        return Err(Error::invalid(
            "alg_mismatch",
            format!(
                "{alg} needs a {} key, this key is {}",
                alg.family(),
                key.family()
            ),
        ));
    }
    sign_with(alg, kid, extra_header, claims, &mut |input| {
        key.sign(alg, input)
    })
}

/// Like [`sign_with_kid`], with the signature made by `signer` (given the
/// signing input, it returns the raw JWS signature): for keys held outside
/// this process, such as OpenBao transit keys.
pub fn sign_with(
    alg: Alg,
    kid: Option<&str>,
    extra_header: Map<String, Value>,
    claims: Map<String, Value>,
    signer: &mut dyn FnMut(&[u8]) -> Result<Vec<u8>>,
) -> Result<String> {
    let mut header = Map::new();
    header.insert("alg".into(), alg.as_str().into());
    header.insert("typ".into(), "JWT".into());
    if let Some(kid) = kid {
        header.insert("kid".into(), kid.into());
    }
    for (name, value) in extra_header {
        match name.as_str() {
            "alg" if value.as_str() != Some(alg.as_str()) => {
                return Err(Error::invalid(
                    "header_alg_mismatch",
                    format!(
                        "--header sets alg to {value}, but the key signs with {alg}: remove it"
                    ),
                ))
            }
            "kid" if kid.is_some() && value.as_str() != kid => {
                return Err(Error::invalid(
                    "header_kid_mismatch",
                    format!(
                        "--header sets kid to {value}, but this key's kid is {:?}: remove it",
                        kid.unwrap_or_default()
                    ),
                ))
            }
            "crit" => {
                return Err(Error::invalid(
                    "header_crit_unsupported",
                    "--header may not set crit: Keyward implements no JWS extensions",
                ))
            }
            _ => {
                header.insert(name, value);
            }
        }
    }
    let header_json = serde_json::to_vec(&header).unwrap_or_default();
    let claims_json = serde_json::to_vec(&claims).unwrap_or_default();
    let signing_input = format!("{}.{}", b64::encode(header_json), b64::encode(claims_json));
    let signature = signer(signing_input.as_bytes())?;
    Ok(format!("{signing_input}.{}", b64::encode(signature)))
}

/// What `jwt sign` asks for, before the registered claims are filled in.
#[derive(Debug, Clone, Default)]
pub struct SignRequest {
    /// `--claims`: the base claims.
    pub claims: Map<String, Value>,
    /// `--sub`, `--iss`: override the same claims of `claims`.
    pub sub: Option<String>,
    pub iss: Option<String>,
    /// `--aud` (one → a string, several → an array).
    pub aud: Vec<String>,
    /// `--ttl`: sets `exp` to now + ttl.
    pub ttl: Option<Duration>,
    /// `--not-before`: sets `nbf`.
    pub not_before: Option<DateTime<Utc>>,
    /// `--header`: extra header members.
    pub header: Map<String, Value>,
}

/// A signed token and what the vault records about it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedToken {
    pub token: String,
    pub jti: String,
    pub iat: i64,
    pub exp: Option<i64>,
}

/// A random `jti`: 128 bits, base64url.
pub fn new_jti() -> String {
    let mut bytes = [0u8; 16];
    OsRng.fill_bytes(&mut bytes);
    b64::encode(bytes)
}

/// Fills in `iat` (now), a random `jti` (unless `claims` has one), `exp`,
/// `nbf`, `sub`, `iss` and `aud` from `req`, then signs with `kid` in the header.
pub fn sign_request(
    key: &PrivateKey,
    alg: Alg,
    kid: Option<&str>,
    req: SignRequest,
    now: DateTime<Utc>,
) -> Result<SignedToken> {
    if !key.fits(alg) {
        return Err(Error::invalid(
            "alg_mismatch",
            format!(
                "{alg} needs a {} key, this key is {}",
                alg.family(),
                key.family()
            ),
        ));
    }
    sign_request_with(alg, kid, req, now, &mut |input| key.sign(alg, input))
}

/// [`sign_request`] with the signature made by `signer` (see [`sign_with`]).
pub fn sign_request_with(
    alg: Alg,
    kid: Option<&str>,
    req: SignRequest,
    now: DateTime<Utc>,
    signer: &mut dyn FnMut(&[u8]) -> Result<Vec<u8>>,
) -> Result<SignedToken> {
    let mut claims = req.claims;
    let iat = now.timestamp();
    claims.insert("iat".into(), iat.into());
    let jti = match claims.get("jti") {
        Some(Value::String(s)) => s.clone(),
        Some(_) => {
            return Err(Error::invalid(
                "bad_claims",
                "the claim \"jti\" must be a string",
            ));
        }
        None => {
            let j = new_jti();
            claims.insert("jti".into(), j.clone().into());
            j
        }
    };
    if let Some(sub) = req.sub {
        claims.insert("sub".into(), sub.into());
    }
    if let Some(iss) = req.iss {
        claims.insert("iss".into(), iss.into());
    }
    match req.aud.len() {
        0 => {}
        1 => {
            claims.insert("aud".into(), req.aud[0].clone().into());
        }
        _ => {
            claims.insert("aud".into(), req.aud.clone().into());
        }
    }
    if let Some(nbf) = req.not_before {
        claims.insert("nbf".into(), nbf.timestamp().into());
    }
    let exp = match req.ttl {
        Some(ttl) if ttl <= Duration::zero() => {
            return Err(Error::invalid(
                "bad_duration",
                "--ttl must be greater than zero",
            ));
        }
        Some(ttl) => {
            let exp = iat.saturating_add(ttl.num_seconds());
            claims.insert("exp".into(), exp.into());
            Some(exp)
        }
        None => match claims.get("exp") {
            None => None,
            Some(v) => Some(
                super::token::numeric_date("exp", v)
                    .map_err(|why| Error::invalid("bad_claims", why))?,
            ),
        },
    };
    let token = sign_with(alg, kid, req.header, claims, signer)?;
    Ok(SignedToken {
        token,
        jti,
        iat,
        exp,
    })
}

/// Reads a JSON object given on the command line (`--claims`, `--header`),
/// strictly: duplicate member names are refused.
pub fn parse_json_object(text: &[u8], what: &str) -> Result<Map<String, Value>> {
    match crate::crypto::json::parse(text) {
        Ok(Value::Object(m)) => Ok(m),
        Ok(_) => Err(Error::invalid(
            "bad_json",
            format!("{what} must be a JSON object"),
        )),
        Err(e) => Err(Error::invalid("bad_json", format!("{what} is {e}"))),
    }
}
