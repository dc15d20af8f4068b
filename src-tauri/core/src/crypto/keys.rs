//! Typed private and public keys: generation, storage form, PEM/DER/JWK export
//! and RFC 7638 thumbprints.

use super::{b64, Alg, KeyFamily};
use crate::error::{Error, Result};
use crate::secret::SecretBytes;
use pkcs8::{DecodePrivateKey, EncodePrivateKey, EncodePublicKey, LineEnding};
use rand::rngs::OsRng;
use rand::RngCore;
use rsa::traits::{PrivateKeyParts, PublicKeyParts};
use rsa::BigUint;
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};
use std::fmt;
use zeroize::{Zeroize, Zeroizing};

/// The smallest RSA modulus Keyward accepts, in bits.
pub const RSA_MIN_BITS: usize = 2048;
/// The largest RSA modulus Keyward accepts, in bits (bigger only costs time).
pub(crate) const RSA_MAX_BITS: usize = 8192;

pub(crate) enum PrivInner {
    Hmac(SecretBytes),
    Rsa(Box<rsa::RsaPrivateKey>),
    P256(p256::SecretKey),
    P384(p384::SecretKey),
    Ed25519(Box<ed25519_dalek::SigningKey>),
}

/// A private signing key or HMAC secret. Zeroized on drop; `Debug` shows the
/// family only.
pub struct PrivateKey(pub(crate) PrivInner);

impl fmt::Debug for PrivateKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PrivateKey({}, <redacted>)", self.family())
    }
}

#[derive(Clone, Debug, PartialEq)]
pub(crate) enum PubInner {
    Rsa(rsa::RsaPublicKey),
    P256(p256::PublicKey),
    P384(p384::PublicKey),
    Ed25519(ed25519_dalek::VerifyingKey),
}

/// A public verification key (RSA, P-256, P-384 or Ed25519).
#[derive(Clone, Debug, PartialEq)]
pub struct PublicKey(pub(crate) PubInner);

fn pkcs8_error(what: &str) -> Error {
    Error::invalid(
        "bad_key",
        format!("the stored {what} private key is not valid PKCS#8 DER"),
    )
}

impl PrivateKey {
    /// Generates a new key for `alg` from the OS CSPRNG. `rsa_bits` (RSA only)
    /// is 2048, 3072 or 4096; the default is 2048.
    pub fn generate(alg: Alg, rsa_bits: Option<usize>) -> Result<PrivateKey> {
        if alg.family() != KeyFamily::Rsa {
            if let Some(bits) = rsa_bits {
                return Err(Error::invalid(
                    "bad_bits",
                    format!("--bits {bits} applies to RSA keys only, not to {alg}"),
                ));
            }
        }
        let inner = match alg.family() {
            KeyFamily::Hmac => {
                let mut bytes = Zeroizing::new(vec![0u8; alg.hash_len()]);
                OsRng.fill_bytes(&mut bytes);
                PrivInner::Hmac(SecretBytes::from_slice(&bytes))
            }
            KeyFamily::Rsa => {
                let bits = rsa_bits.unwrap_or(2048);
                if ![2048, 3072, 4096].contains(&bits) {
                    return Err(Error::invalid(
                        "bad_bits",
                        format!("RSA key size {bits} is not offered: use 2048, 3072 or 4096"),
                    ));
                }
                let key = rsa::RsaPrivateKey::new(&mut OsRng, bits).map_err(|e| {
                    Error::invalid("keygen_failed", format!("RSA key generation failed: {e}"))
                })?;
                PrivInner::Rsa(Box::new(key))
            }
            KeyFamily::EcP256 => PrivInner::P256(p256::SecretKey::random(&mut OsRng)),
            KeyFamily::EcP384 => PrivInner::P384(p384::SecretKey::random(&mut OsRng)),
            KeyFamily::Ed25519 => {
                PrivInner::Ed25519(Box::new(ed25519_dalek::SigningKey::generate(&mut OsRng)))
            }
        };
        Ok(PrivateKey(inner))
    }

    /// Wraps an HMAC secret (any non-empty bytes).
    pub fn from_hmac_secret(bytes: &[u8]) -> Result<PrivateKey> {
        if bytes.is_empty() {
            return Err(Error::invalid(
                "empty_secret",
                "the HMAC secret is empty: give at least one byte (32 or more recommended)",
            ));
        }
        Ok(PrivateKey(PrivInner::Hmac(SecretBytes::from_slice(bytes))))
    }

    /// The key's family.
    pub fn family(&self) -> KeyFamily {
        match &self.0 {
            PrivInner::Hmac(_) => KeyFamily::Hmac,
            PrivInner::Rsa(_) => KeyFamily::Rsa,
            PrivInner::P256(_) => KeyFamily::EcP256,
            PrivInner::P384(_) => KeyFamily::EcP384,
            PrivInner::Ed25519(_) => KeyFamily::Ed25519,
        }
    }

    /// The bytes the keychain stores: the raw secret for HMAC, PKCS#8 DER otherwise.
    pub fn to_storage(&self) -> SecretBytes {
        let der = match &self.0 {
            PrivInner::Hmac(s) => return s.clone(),
            PrivInner::Rsa(k) => k.to_pkcs8_der(),
            PrivInner::P256(k) => k.to_pkcs8_der(),
            PrivInner::P384(k) => k.to_pkcs8_der(),
            PrivInner::Ed25519(k) => ed25519_v1(k).to_pkcs8_der(),
        };
        // Encoding a well-formed in-memory key into DER cannot fail: the only
        // error paths are length overflows far beyond any key size.
        let der = der.expect("PKCS#8 encoding of a valid key");
        SecretBytes::from_slice(der.as_bytes())
    }

    /// Rebuilds a key from what [`PrivateKey::to_storage`] produced.
    pub fn from_storage(family: KeyFamily, bytes: &[u8]) -> Result<PrivateKey> {
        let inner = match family {
            KeyFamily::Hmac => return PrivateKey::from_hmac_secret(bytes),
            KeyFamily::Rsa => PrivInner::Rsa(Box::new(
                rsa::RsaPrivateKey::from_pkcs8_der(bytes).map_err(|_| pkcs8_error("RSA"))?,
            )),
            KeyFamily::EcP256 => PrivInner::P256(
                p256::SecretKey::from_pkcs8_der(bytes).map_err(|_| pkcs8_error("P-256"))?,
            ),
            KeyFamily::EcP384 => PrivInner::P384(
                p384::SecretKey::from_pkcs8_der(bytes).map_err(|_| pkcs8_error("P-384"))?,
            ),
            KeyFamily::Ed25519 => PrivInner::Ed25519(Box::new(
                ed25519_dalek::SigningKey::from_pkcs8_der(bytes)
                    .map_err(|_| pkcs8_error("Ed25519"))?,
            )),
        };
        Ok(PrivateKey(inner))
    }

    /// The public half; `None` for HMAC secrets.
    pub fn public_key(&self) -> Option<PublicKey> {
        let inner = match &self.0 {
            PrivInner::Hmac(_) => return None,
            PrivInner::Rsa(k) => PubInner::Rsa(k.to_public_key()),
            PrivInner::P256(k) => PubInner::P256(k.public_key()),
            PrivInner::P384(k) => PubInner::P384(k.public_key()),
            PrivInner::Ed25519(k) => PubInner::Ed25519(k.verifying_key()),
        };
        Some(PublicKey(inner))
    }

    /// The key as PKCS#8 PEM (`-----BEGIN PRIVATE KEY-----`).
    pub fn to_pem(&self) -> Result<SecretBytes> {
        let pem = match &self.0 {
            PrivInner::Hmac(_) => {
                return Err(Error::invalid(
                    "no_pem_form",
                    "HMAC keys have no PEM form: export them with --format jwk",
                ))
            }
            PrivInner::Rsa(k) => k.to_pkcs8_pem(LineEnding::LF),
            PrivInner::P256(k) => k.to_pkcs8_pem(LineEnding::LF),
            PrivInner::P384(k) => k.to_pkcs8_pem(LineEnding::LF),
            PrivInner::Ed25519(k) => ed25519_v1(k).to_pkcs8_pem(LineEnding::LF),
        };
        // As in to_storage: encoding an in-memory key cannot fail.
        let pem = pem.expect("PKCS#8 PEM encoding of a valid key");
        Ok(SecretBytes::from_slice(pem.as_bytes()))
    }

    /// The private JWK as JSON text, with `kid`, `alg` and `use: "sig"` when given.
    pub fn to_jwk(&self, kid: Option<&str>, alg: Option<Alg>) -> SecretBytes {
        let mut m = Map::new();
        match &self.0 {
            PrivInner::Hmac(s) => {
                m.insert("kty".into(), "oct".into());
                m.insert("k".into(), b64::encode(s.expose()).into());
            }
            PrivInner::Rsa(k) => {
                m.insert("kty".into(), "RSA".into());
                m.insert("n".into(), b64_uint(k.n()).into());
                m.insert("e".into(), b64_uint(k.e()).into());
                m.insert("d".into(), b64_uint(k.d()).into());
                let primes = k.primes();
                if primes.len() == 2 {
                    let (p, q) = (&primes[0], &primes[1]);
                    let one = BigUint::from(1u8);
                    let dp = Zeroizing::new(k.d() % (p - &one));
                    let dq = Zeroizing::new(k.d() % (q - &one));
                    // p is prime, so q^(p-2) mod p is q's inverse (Fermat).
                    let two = BigUint::from(2u8);
                    let qi = Zeroizing::new(q.modpow(&(p - &two), p));
                    m.insert("p".into(), b64_uint(p).into());
                    m.insert("q".into(), b64_uint(q).into());
                    m.insert("dp".into(), b64_uint(&dp).into());
                    m.insert("dq".into(), b64_uint(&dq).into());
                    m.insert("qi".into(), b64_uint(&qi).into());
                }
            }
            PrivInner::P256(k) => {
                ec_members(&mut m, "P-256", &k.public_key().into());
                m.insert("d".into(), b64::encode(Zeroizing::new(k.to_bytes())).into());
            }
            PrivInner::P384(k) => {
                ec_members(&mut m, "P-384", &k.public_key().into());
                m.insert("d".into(), b64::encode(Zeroizing::new(k.to_bytes())).into());
            }
            PrivInner::Ed25519(k) => {
                m.insert("kty".into(), "OKP".into());
                m.insert("crv".into(), "Ed25519".into());
                m.insert("x".into(), b64::encode(k.verifying_key().as_bytes()).into());
                m.insert("d".into(), b64::encode(Zeroizing::new(k.to_bytes())).into());
            }
        }
        add_meta(&mut m, kid, alg);
        // Serialize, then wipe the copies of the secret members held by the map.
        let text = serde_json::to_string(&m).unwrap_or_default();
        for v in m.values_mut() {
            if let Value::String(s) = v {
                s.zeroize();
            }
        }
        SecretBytes::from(text)
    }

    /// The HMAC secret; `None` for asymmetric keys.
    pub fn hmac_secret(&self) -> Option<&[u8]> {
        match &self.0 {
            PrivInner::Hmac(s) => Some(s.expose()),
            _ => None,
        }
    }

    /// Whether `alg` may be used with this key.
    pub fn fits(&self, alg: Alg) -> bool {
        alg.family() == self.family()
    }

    /// Signs `message` (the JWS signing input) with `alg`, returning the raw
    /// signature octets (for ES*: the fixed-size r||s of RFC 7518 §3.4).
    pub fn sign(&self, alg: Alg, message: &[u8]) -> Result<Vec<u8>> {
        super::sig::sign(self, alg, message)
    }
}

/// Ed25519 as PKCS#8 v1 (seed only): ed25519-dalek writes v2 with the public
/// key, which OpenSSL 3.0 cannot read.
fn ed25519_v1(k: &ed25519_dalek::SigningKey) -> ed25519_dalek::pkcs8::KeypairBytes {
    ed25519_dalek::pkcs8::KeypairBytes {
        secret_key: k.to_bytes(),
        public_key: None,
    }
}

/// Adds `kid`, `use` and `alg` metadata members.
fn add_meta(m: &mut Map<String, Value>, kid: Option<&str>, alg: Option<Alg>) {
    if let Some(kid) = kid {
        m.insert("kid".into(), kid.into());
    }
    if kid.is_some() || alg.is_some() {
        m.insert("use".into(), "sig".into());
    }
    if let Some(alg) = alg {
        m.insert("alg".into(), alg.as_str().into());
    }
}

/// A big unsigned integer as JWK base64url (big-endian, no leading zeros).
fn b64_uint(n: &BigUint) -> String {
    let bytes = Zeroizing::new(n.to_bytes_be());
    b64::encode(&*bytes)
}

enum EcPoint {
    P256(p256::EncodedPoint),
    P384(p384::EncodedPoint),
}

impl From<p256::PublicKey> for EcPoint {
    fn from(k: p256::PublicKey) -> Self {
        use p256::elliptic_curve::sec1::ToEncodedPoint;
        EcPoint::P256(k.to_encoded_point(false))
    }
}

impl From<p384::PublicKey> for EcPoint {
    fn from(k: p384::PublicKey) -> Self {
        use p384::elliptic_curve::sec1::ToEncodedPoint;
        EcPoint::P384(k.to_encoded_point(false))
    }
}

impl EcPoint {
    fn xy(&self) -> (String, String) {
        // Uncompressed points of a valid public key always have both coordinates.
        match self {
            EcPoint::P256(p) => (
                b64::encode(p.x().expect("uncompressed point")),
                b64::encode(p.y().expect("uncompressed point")),
            ),
            EcPoint::P384(p) => (
                b64::encode(p.x().expect("uncompressed point")),
                b64::encode(p.y().expect("uncompressed point")),
            ),
        }
    }
}

fn ec_members(m: &mut Map<String, Value>, crv: &str, point: &EcPoint) {
    let (x, y) = point.xy();
    m.insert("kty".into(), "EC".into());
    m.insert("crv".into(), crv.into());
    m.insert("x".into(), x.into());
    m.insert("y".into(), y.into());
}

impl PublicKey {
    /// The key's family.
    pub fn family(&self) -> KeyFamily {
        match &self.0 {
            PubInner::Rsa(_) => KeyFamily::Rsa,
            PubInner::P256(_) => KeyFamily::EcP256,
            PubInner::P384(_) => KeyFamily::EcP384,
            PubInner::Ed25519(_) => KeyFamily::Ed25519,
        }
    }

    /// The RSA modulus size in bits; `None` for other families.
    pub fn rsa_bits(&self) -> Option<usize> {
        match &self.0 {
            PubInner::Rsa(k) => Some(k.n().bits()),
            _ => None,
        }
    }

    /// SubjectPublicKeyInfo DER.
    pub fn to_der(&self) -> Vec<u8> {
        let doc = match &self.0 {
            PubInner::Rsa(k) => k.to_public_key_der(),
            PubInner::P256(k) => k.to_public_key_der(),
            PubInner::P384(k) => k.to_public_key_der(),
            PubInner::Ed25519(k) => k.to_public_key_der(),
        };
        // Encoding a valid in-memory key cannot fail.
        doc.expect("SPKI encoding of a valid key").into_vec()
    }

    /// SubjectPublicKeyInfo PEM (`-----BEGIN PUBLIC KEY-----`).
    pub fn to_pem(&self) -> String {
        let der = self.to_der();
        // The label is a constant and the DER is small: encoding cannot fail.
        pem_rfc7468::encode_string("PUBLIC KEY", pem_rfc7468::LineEnding::LF, &der)
            .expect("PEM encoding")
    }

    /// Reads SubjectPublicKeyInfo DER (RSA, P-256, P-384, Ed25519).
    pub fn from_der(der: &[u8]) -> Result<PublicKey> {
        super::pem::public_from_spki_der(der)
    }

    /// The public JWK: `kty` and the public members only.
    pub fn to_jwk(&self) -> Value {
        let mut m = Map::new();
        match &self.0 {
            PubInner::Rsa(k) => {
                m.insert("kty".into(), "RSA".into());
                m.insert("n".into(), b64_uint(k.n()).into());
                m.insert("e".into(), b64_uint(k.e()).into());
            }
            PubInner::P256(k) => ec_members(&mut m, "P-256", &(*k).into()),
            PubInner::P384(k) => ec_members(&mut m, "P-384", &(*k).into()),
            PubInner::Ed25519(k) => {
                m.insert("kty".into(), "OKP".into());
                m.insert("crv".into(), "Ed25519".into());
                m.insert("x".into(), b64::encode(k.as_bytes()).into());
            }
        }
        Value::Object(m)
    }

    /// The public JWK with `kid`, `use: "sig"` and `alg` added when given (for JWKS).
    pub fn to_jwk_with(&self, kid: Option<&str>, alg: Option<Alg>) -> Value {
        let mut v = self.to_jwk();
        if let Value::Object(m) = &mut v {
            add_meta(m, kid, alg);
        }
        v
    }

    /// The RFC 7638 JWK SHA-256 thumbprint, base64url without padding.
    pub fn thumbprint(&self) -> String {
        let jwk = self.to_jwk();
        let s = |k: &str| jwk.get(k).and_then(Value::as_str).unwrap_or_default();
        // Required members only, in lexicographic order, no whitespace
        // (RFC 7638 §3.2); the values are base64url or fixed names, which
        // need no JSON escaping.
        let canonical = match &self.0 {
            PubInner::Rsa(_) => format!(r#"{{"e":"{}","kty":"RSA","n":"{}"}}"#, s("e"), s("n")),
            PubInner::P256(_) | PubInner::P384(_) => format!(
                r#"{{"crv":"{}","kty":"EC","x":"{}","y":"{}"}}"#,
                s("crv"),
                s("x"),
                s("y")
            ),
            PubInner::Ed25519(_) => {
                format!(r#"{{"crv":"Ed25519","kty":"OKP","x":"{}"}}"#, s("x"))
            }
        };
        b64::encode(Sha256::digest(canonical.as_bytes()))
    }

    /// Reads a JWK (public, or private whose public half is taken).
    pub fn from_jwk(v: &Value) -> Result<PublicKey> {
        let parsed = super::jwk::parse_jwk(v)?;
        match parsed.key {
            super::ParsedKey::Public(p) => Ok(p),
            super::ParsedKey::Private(k) => k.public_key().ok_or_else(|| {
                Error::invalid(
                    "not_public_key",
                    "this JWK is a shared secret (kty \"oct\"), which has no public key",
                )
            }),
        }
    }

    /// Decodes an Ed25519 key from the 32 raw bytes.
    pub(crate) fn ed25519(bytes: &[u8]) -> Result<PublicKey> {
        let arr: &[u8; 32] = bytes.try_into().map_err(|_| {
            Error::invalid(
                "bad_key",
                format!(
                    "an Ed25519 public key is 32 bytes, this one has {}",
                    bytes.len()
                ),
            )
        })?;
        let k = ed25519_dalek::VerifyingKey::from_bytes(arr).map_err(|_| {
            Error::invalid(
                "bad_key",
                "the Ed25519 public key is not a valid curve point",
            )
        })?;
        Ok(PublicKey(PubInner::Ed25519(k)))
    }
}

/// Checks an RSA public key against Keyward's policy (size and exponent).
pub(crate) fn check_rsa_public(k: &rsa::RsaPublicKey) -> Result<()> {
    let bits = k.n().bits();
    if bits < RSA_MIN_BITS {
        return Err(Error::invalid(
            "weak_rsa",
            format!(
                "RSA key of {bits} bits is too weak: at least {RSA_MIN_BITS} bits are required"
            ),
        ));
    }
    if bits > RSA_MAX_BITS {
        return Err(Error::invalid(
            "unsupported_key",
            format!("RSA key of {bits} bits is larger than the {RSA_MAX_BITS} bits supported"),
        ));
    }
    let e = k.e();
    if e < &BigUint::from(3u8) || e % BigUint::from(2u8) != BigUint::from(1u8) {
        return Err(Error::invalid(
            "bad_rsa_exponent",
            "RSA public exponent must be an odd number of at least 3 (usually 65537)",
        ));
    }
    if super::roca::is_vulnerable(k.n()) {
        return Err(Error::invalid(
            "weak_rsa",
            "RSA key has the ROCA fingerprint (CVE-2017-15361): its private key can be recovered; replace it",
        ));
    }
    Ok(())
}
