//! Key material: algorithms, generation, PEM/JWK parsing and export, RFC 7638
//! thumbprints and the raw signature primitives the JWT engine uses.
//!
//! This module owns every conversion between untrusted key bytes and typed
//! keys ([`PrivateKey`], [`PublicKey`]). It never logs or formats secret
//! bytes: private material lives in zeroizing types with redacted `Debug`,
//! and error messages name formats, members and sizes only.
//!
//! DER, PEM and the curve arithmetic come from the RustCrypto crates; what is
//! hand-written here is the project's own policy (which keys are acceptable,
//! how strictly a JWK is read) and the JWK mapping.

mod alg;
pub mod b64;
pub mod json;
mod jwk;
mod keys;
mod pem;
mod roca;
mod sig;

pub use alg::{Alg, KeyFamily};
pub use jwk::{parse_jwk, parse_jwk_set, JwkKey};
pub use keys::{PrivateKey, PublicKey, RSA_MIN_BITS};
pub use pem::{parse_key, parse_signing_key};
pub use sig::{KeyMaterial, SignatureError};

/// A key read from a file or from the user: private or public.
#[derive(Debug)]
pub enum ParsedKey {
    /// A private key (HMAC secrets are private keys too).
    Private(PrivateKey),
    /// A public key (from SPKI, PKCS#1 public, a certificate or a public JWK).
    Public(PublicKey),
}

impl ParsedKey {
    /// The key's family.
    pub fn family(&self) -> KeyFamily {
        match self {
            ParsedKey::Private(k) => k.family(),
            ParsedKey::Public(k) => k.family(),
        }
    }

    /// What can verify signatures with this key: the public half, or the HMAC secret.
    pub fn to_material(&self) -> KeyMaterial {
        match self {
            ParsedKey::Private(k) => match (k.public_key(), k.hmac_secret()) {
                (Some(p), _) => KeyMaterial::Public(p),
                (None, Some(s)) => KeyMaterial::Hmac(crate::SecretBytes::from_slice(s)),
                // A private key is either HMAC or has a public half.
                (None, None) => unreachable!("private key without public half or secret"),
            },
            ParsedKey::Public(p) => KeyMaterial::Public(p.clone()),
        }
    }
}
