//! JSON Web Keys (RFC 7517/7518/8037), read strictly: every member Keyward
//! knows must have its registered type, binary members must be canonical
//! base64url of the right length, EC points must lie on their curve, and
//! private members must match the public ones.

use super::keys::{check_rsa_public, PrivInner, PubInner, RSA_MAX_BITS};
use super::{b64, Alg, ParsedKey, PrivateKey, PublicKey};
use crate::error::{Error, Result};
use rsa::traits::PrivateKeyParts;
use rsa::BigUint;
use serde_json::{Map, Value};
use zeroize::Zeroizing;

/// A key read from a JWK, with the JWK's own usage restrictions.
#[derive(Debug)]
pub struct JwkKey {
    /// The key itself.
    pub key: ParsedKey,
    /// The JWK `kid`.
    pub kid: Option<String>,
    /// The JWK `alg`, verbatim (it may name an algorithm Keyward does not know).
    pub alg: Option<String>,
    /// The JWK `use` (`sig`, `enc`, ...).
    pub key_use: Option<String>,
    /// The JWK `key_ops`.
    pub key_ops: Option<Vec<String>>,
}

impl JwkKey {
    /// The algorithms this key may verify with: its family's, narrowed by the
    /// JWK's `alg`, `use` and `key_ops`, and for `oct` keys by the RFC 7518
    /// §3.2 rule that the key be at least as long as the hash. When the set is
    /// empty, the second value says why.
    pub fn verify_algs(&self) -> (Vec<Alg>, Option<String>) {
        let family = self.key.family();
        if let Some(u) = &self.key_use {
            if u != "sig" {
                return (
                    vec![],
                    Some(format!("the key's \"use\" is {u:?}, not \"sig\"")),
                );
            }
        }
        if let Some(ops) = &self.key_ops {
            if !ops.iter().any(|o| o == "verify") {
                return (
                    vec![],
                    Some(format!(
                        "the key's \"key_ops\" {ops:?} do not include \"verify\""
                    )),
                );
            }
        }
        let mut algs: Vec<Alg> = family.allowed_algs().to_vec();
        if let Some(a) = &self.alg {
            match Alg::from_jose(a) {
                Some(alg) if alg.family() == family => algs.retain(|x| *x == alg),
                Some(alg) => {
                    return (
                        vec![],
                        Some(format!(
                            "the key's \"alg\" {alg} does not fit a {family} key"
                        )),
                    )
                }
                None => {
                    return (
                        vec![],
                        Some(format!(
                            "the key's \"alg\" {a:?} is not a signature algorithm Keyward supports"
                        )),
                    )
                }
            }
        }
        if let ParsedKey::Private(k) = &self.key {
            if let Some(secret) = k.hmac_secret() {
                let len = secret.len();
                let before = algs.clone();
                algs.retain(|a| a.hash_len() <= len);
                if algs.is_empty() {
                    let a = before.first().copied().unwrap_or(Alg::HS256);
                    return (
                        vec![],
                        Some(format!(
                            "the HMAC key is {len} bytes, shorter than the {} bytes {a} requires (RFC 7518 §3.2)",
                            a.hash_len()
                        )),
                    );
                }
            }
        }
        (algs, None)
    }
}

fn bad(message: impl Into<String>) -> Error {
    Error::invalid("bad_jwk", message)
}

struct Members<'a>(&'a Map<String, Value>);

impl<'a> Members<'a> {
    fn str(&self, name: &str) -> Result<Option<&'a str>> {
        match self.0.get(name) {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s)),
            Some(_) => Err(bad(format!("JWK member {name:?} must be a string"))),
        }
    }

    fn req_str(&self, name: &str, kty: &str) -> Result<&'a str> {
        self.str(name)?.ok_or_else(|| {
            bad(format!(
                "JWK of kty {kty:?} lacks the required member {name:?}"
            ))
        })
    }

    fn bytes(&self, name: &str) -> Result<Option<Zeroizing<Vec<u8>>>> {
        match self.str(name)? {
            None => Ok(None),
            Some(s) => b64::decode(s)
                .map(|v| Some(Zeroizing::new(v)))
                .ok_or_else(|| {
                    bad(format!(
                        "JWK member {name:?} is not valid base64url: {}",
                        b64::defect(s)
                    ))
                }),
        }
    }

    fn req_bytes(&self, name: &str, kty: &str) -> Result<Zeroizing<Vec<u8>>> {
        self.req_str(name, kty)?;
        Ok(self.bytes(name)?.unwrap_or_default())
    }

    fn fixed(&self, name: &str, kty: &str, len: usize) -> Result<Zeroizing<Vec<u8>>> {
        let v = self.req_bytes(name, kty)?;
        if v.len() != len {
            return Err(bad(format!(
                "JWK member {name:?} must be {len} bytes for this curve, it has {}",
                v.len()
            )));
        }
        Ok(v)
    }

    fn str_array(&self, name: &str) -> Result<Option<Vec<String>>> {
        match self.0.get(name) {
            None => Ok(None),
            Some(Value::Array(items)) => {
                let mut out = Vec::with_capacity(items.len());
                for item in items {
                    match item {
                        Value::String(s) if !out.contains(s) => out.push(s.clone()),
                        Value::String(s) => {
                            return Err(bad(format!("JWK member {name:?} lists {s:?} twice")))
                        }
                        _ => {
                            return Err(bad(format!(
                                "JWK member {name:?} must be an array of strings"
                            )))
                        }
                    }
                }
                Ok(Some(out))
            }
            Some(_) => Err(bad(format!(
                "JWK member {name:?} must be an array of strings"
            ))),
        }
    }
}

/// Reads one JWK.
pub fn parse_jwk(v: &Value) -> Result<JwkKey> {
    let obj = v
        .as_object()
        .ok_or_else(|| bad("a JWK must be a JSON object"))?;
    if obj.contains_key("keys") {
        return Err(bad(
            "this is a JWK Set (it has \"keys\"), not a single JWK: pick one key or pass the set where a set is accepted",
        ));
    }
    let m = Members(obj);
    let kty = m
        .str("kty")?
        .ok_or_else(|| bad("JWK lacks the required member \"kty\""))?;
    let kid = m.str("kid")?.map(str::to_string);
    let alg = m.str("alg")?.map(str::to_string);
    let key_use = m.str("use")?.map(str::to_string);
    let key_ops = m.str_array("key_ops")?;
    // Type-check the certificate members even though they are not used.
    m.str("x5u")?;
    m.str("x5t")?;
    m.str("x5t#S256")?;
    m.str_array("x5c")?;
    let key = match kty {
        "oct" => {
            let k = m.req_bytes("k", kty)?;
            if k.is_empty() {
                return Err(bad("the oct JWK's \"k\" is empty: an HMAC key needs bytes"));
            }
            ParsedKey::Private(PrivateKey::from_hmac_secret(&k)?)
        }
        "RSA" => parse_rsa(&m)?,
        "EC" => parse_ec(&m)?,
        "OKP" => parse_okp(&m)?,
        other => {
            return Err(Error::invalid(
                "unsupported_key",
                format!("JWK kty {other:?} is not supported: use oct, RSA, EC or OKP"),
            ))
        }
    };
    Ok(JwkKey {
        key,
        kid,
        alg,
        key_use,
        key_ops,
    })
}

/// A JWK Set: the keys Keyward can use, and why the others were left out.
#[derive(Debug, Default)]
pub struct JwkSet {
    /// Usable keys, in the set's order.
    pub keys: Vec<JwkKey>,
    /// `(index, kid, reason)` for each key that could not be read (RFC 7517 §5
    /// says to ignore keys one does not understand).
    pub skipped: Vec<(usize, Option<String>, String)>,
}

/// Reads a JWK Set (`{"keys":[...]}`).
pub fn parse_jwk_set(v: &Value) -> Result<JwkSet> {
    let keys = v
        .as_object()
        .and_then(|o| o.get("keys"))
        .ok_or_else(|| bad("a JWK Set must be a JSON object with a \"keys\" member"))?
        .as_array()
        .ok_or_else(|| bad("the JWK Set member \"keys\" must be an array"))?;
    let mut set = JwkSet::default();
    for (i, k) in keys.iter().enumerate() {
        match parse_jwk(k) {
            Ok(key) => set.keys.push(key),
            Err(e) => {
                let kid = k.get("kid").and_then(Value::as_str).map(str::to_string);
                set.skipped.push((i, kid, e.to_string()));
            }
        }
    }
    Ok(set)
}

fn uint(bytes: &[u8]) -> BigUint {
    BigUint::from_bytes_be(bytes)
}

fn parse_rsa(m: &Members) -> Result<ParsedKey> {
    let n = m.req_bytes("n", "RSA")?;
    let e = m.req_bytes("e", "RSA")?;
    if n.len() * 8 > RSA_MAX_BITS + 8 {
        return Err(Error::invalid(
            "unsupported_key",
            format!(
                "RSA key of about {} bits is larger than the {RSA_MAX_BITS} bits supported",
                n.len() * 8
            ),
        ));
    }
    let public = rsa_public(&n, &e)?;
    if m.0.contains_key("oth") {
        return Err(Error::invalid(
            "unsupported_key",
            "multi-prime RSA keys (JWK member \"oth\") are not supported",
        ));
    }
    let Some(d) = m.bytes("d")? else {
        for name in ["p", "q", "dp", "dq", "qi"] {
            if m.0.contains_key(name) {
                return Err(bad(format!(
                    "RSA JWK has the private member {name:?} but no \"d\""
                )));
            }
        }
        return Ok(ParsedKey::Public(PublicKey(PubInner::Rsa(public))));
    };
    let p = m.bytes("p")?;
    let q = m.bytes("q")?;
    let primes = match (&p, &q) {
        (Some(p), Some(q)) => vec![uint(p), uint(q)],
        (None, None) => vec![],
        _ => return Err(bad("RSA JWK has one of \"p\" and \"q\" without the other")),
    };
    let key = rsa::RsaPrivateKey::from_components(uint(&n), uint(&e), uint(&d), primes)
        .map_err(|_| bad("the RSA JWK's private members do not match its public key"))?;
    // The CRT members are redundant: when present they must agree.
    let primes = key.primes();
    if primes.len() == 2 {
        let one = BigUint::from(1u8);
        let (p, q) = (&primes[0], &primes[1]);
        let expected = [
            ("dp", key.d() % (p - &one)),
            ("dq", key.d() % (q - &one)),
            ("qi", q.modpow(&(p - BigUint::from(2u8)), p)),
        ];
        for (name, want) in expected {
            if let Some(got) = m.bytes(name)? {
                if uint(&got) != want {
                    return Err(bad(format!(
                        "the RSA JWK's {name:?} does not match its other private members"
                    )));
                }
            }
        }
    }
    Ok(ParsedKey::Private(PrivateKey(PrivInner::Rsa(Box::new(
        key,
    )))))
}

/// Builds an RSA public key from big-endian n and e and applies the policy.
pub(crate) fn rsa_public(n: &[u8], e: &[u8]) -> Result<rsa::RsaPublicKey> {
    let n = uint(n);
    let e = uint(e);
    let bits = n.bits();
    if bits < super::RSA_MIN_BITS {
        return Err(Error::invalid(
            "weak_rsa",
            format!(
                "RSA key of {bits} bits is too weak: at least {} bits are required",
                super::RSA_MIN_BITS
            ),
        ));
    }
    if e < BigUint::from(3u8) || &e % BigUint::from(2u8) != BigUint::from(1u8) {
        return Err(Error::invalid(
            "bad_rsa_exponent",
            "RSA public exponent must be an odd number of at least 3 (usually 65537)",
        ));
    }
    let key = rsa::RsaPublicKey::new_with_max_size(n, e, RSA_MAX_BITS).map_err(|err| {
        Error::invalid("bad_key", format!("the RSA public key is not valid: {err}"))
    })?;
    check_rsa_public(&key)?;
    Ok(key)
}

fn parse_ec(m: &Members) -> Result<ParsedKey> {
    let crv = m.req_str("crv", "EC")?;
    let off_curve = || {
        Error::invalid(
            "bad_jwk",
            format!("the EC JWK's point (x, y) is not on the {crv} curve"),
        )
    };
    let mismatch = || bad("the EC JWK's private key \"d\" does not match its x and y");
    match crv {
        "P-256" => {
            let x = m.fixed("x", "EC", 32)?;
            let y = m.fixed("y", "EC", 32)?;
            let point = p256::EncodedPoint::from_affine_coordinates(
                x.as_slice().into(),
                y.as_slice().into(),
                false,
            );
            use p256::elliptic_curve::sec1::FromEncodedPoint;
            let public: p256::PublicKey =
                Option::from(p256::PublicKey::from_encoded_point(&point)).ok_or_else(off_curve)?;
            if m.0.contains_key("d") {
                let d = m.fixed("d", "EC", 32)?;
                let sk = p256::SecretKey::from_slice(&d)
                    .map_err(|_| bad("the EC JWK's \"d\" is not a valid P-256 private key"))?;
                if sk.public_key() != public {
                    return Err(mismatch());
                }
                return Ok(ParsedKey::Private(PrivateKey(PrivInner::P256(sk))));
            }
            Ok(ParsedKey::Public(PublicKey(PubInner::P256(public))))
        }
        "P-384" => {
            let x = m.fixed("x", "EC", 48)?;
            let y = m.fixed("y", "EC", 48)?;
            let point = p384::EncodedPoint::from_affine_coordinates(
                x.as_slice().into(),
                y.as_slice().into(),
                false,
            );
            use p384::elliptic_curve::sec1::FromEncodedPoint;
            let public: p384::PublicKey =
                Option::from(p384::PublicKey::from_encoded_point(&point)).ok_or_else(off_curve)?;
            if m.0.contains_key("d") {
                let d = m.fixed("d", "EC", 48)?;
                let sk = p384::SecretKey::from_slice(&d)
                    .map_err(|_| bad("the EC JWK's \"d\" is not a valid P-384 private key"))?;
                if sk.public_key() != public {
                    return Err(mismatch());
                }
                return Ok(ParsedKey::Private(PrivateKey(PrivInner::P384(sk))));
            }
            Ok(ParsedKey::Public(PublicKey(PubInner::P384(public))))
        }
        other => Err(Error::invalid(
            "unsupported_key",
            format!("EC curve {other:?} is not supported: use P-256 (ES256) or P-384 (ES384)"),
        )),
    }
}

fn parse_okp(m: &Members) -> Result<ParsedKey> {
    let crv = m.req_str("crv", "OKP")?;
    if crv != "Ed25519" {
        return Err(Error::invalid(
            "unsupported_key",
            format!("OKP curve {crv:?} is not supported for signing: use Ed25519"),
        ));
    }
    let x = m.fixed("x", "OKP", 32)?;
    let public = PublicKey::ed25519(&x).map_err(|e| bad(e.to_string()))?;
    if m.0.contains_key("d") {
        let d = m.fixed("d", "OKP", 32)?;
        let mut seed = Zeroizing::new([0u8; 32]);
        seed.copy_from_slice(&d);
        let sk = ed25519_dalek::SigningKey::from_bytes(&seed);
        if Some(sk.verifying_key()) != public_ed(&public) {
            return Err(bad(
                "the OKP JWK's private key \"d\" does not match its \"x\"",
            ));
        }
        return Ok(ParsedKey::Private(PrivateKey(PrivInner::Ed25519(
            Box::new(sk),
        ))));
    }
    Ok(ParsedKey::Public(public))
}

fn public_ed(p: &PublicKey) -> Option<ed25519_dalek::VerifyingKey> {
    match &p.0 {
        PubInner::Ed25519(k) => Some(*k),
        _ => None,
    }
}
