//! JWS signature algorithms (RFC 7518) and the key families that carry them.

use crate::error::{Error, Result};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// A JWS signature algorithm Keyward signs and verifies with.
#[allow(clippy::upper_case_acronyms)]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, ts_rs::TS)]
pub enum Alg {
    HS256,
    HS384,
    HS512,
    RS256,
    RS384,
    RS512,
    PS256,
    PS384,
    PS512,
    ES256,
    ES384,
    EdDSA,
}

impl Alg {
    /// Every supported algorithm, in display order.
    pub const ALL: [Alg; 12] = [
        Alg::HS256,
        Alg::HS384,
        Alg::HS512,
        Alg::RS256,
        Alg::RS384,
        Alg::RS512,
        Alg::PS256,
        Alg::PS384,
        Alg::PS512,
        Alg::ES256,
        Alg::ES384,
        Alg::EdDSA,
    ];

    /// The registered JOSE name (`HS256`, `EdDSA`, ...).
    pub fn as_str(self) -> &'static str {
        match self {
            Alg::HS256 => "HS256",
            Alg::HS384 => "HS384",
            Alg::HS512 => "HS512",
            Alg::RS256 => "RS256",
            Alg::RS384 => "RS384",
            Alg::RS512 => "RS512",
            Alg::PS256 => "PS256",
            Alg::PS384 => "PS384",
            Alg::PS512 => "PS512",
            Alg::ES256 => "ES256",
            Alg::ES384 => "ES384",
            Alg::EdDSA => "EdDSA",
        }
    }

    /// The exact JOSE name as found in a token header or a JWK: case-sensitive,
    /// unlike [`FromStr`], which is for people typing `--alg`.
    pub fn from_jose(name: &str) -> Option<Alg> {
        Alg::ALL.into_iter().find(|a| a.as_str() == name)
    }

    /// The key family that signs with this algorithm.
    pub fn family(self) -> KeyFamily {
        match self {
            Alg::HS256 | Alg::HS384 | Alg::HS512 => KeyFamily::Hmac,
            Alg::RS256 | Alg::RS384 | Alg::RS512 | Alg::PS256 | Alg::PS384 | Alg::PS512 => {
                KeyFamily::Rsa
            }
            Alg::ES256 => KeyFamily::EcP256,
            Alg::ES384 => KeyFamily::EcP384,
            Alg::EdDSA => KeyFamily::Ed25519,
        }
    }

    /// Whether this is a shared-secret (HMAC) algorithm.
    pub fn is_hmac(self) -> bool {
        self.family() == KeyFamily::Hmac
    }

    /// The output size in bytes of the algorithm's hash (Ed25519: SHA-512).
    pub fn hash_len(self) -> usize {
        match self {
            Alg::HS256 | Alg::RS256 | Alg::PS256 | Alg::ES256 => 32,
            Alg::HS384 | Alg::RS384 | Alg::PS384 | Alg::ES384 => 48,
            Alg::HS512 | Alg::RS512 | Alg::PS512 | Alg::EdDSA => 64,
        }
    }

    fn names() -> String {
        Alg::ALL.map(Alg::as_str).join(", ")
    }
}

impl FromStr for Alg {
    type Err = Error;

    /// Parses an algorithm name as a person types it (`ES256`, `es256`, `eddsa`).
    fn from_str(s: &str) -> Result<Alg> {
        let t = s.trim();
        Alg::ALL
            .into_iter()
            .find(|a| a.as_str().eq_ignore_ascii_case(t))
            .ok_or_else(|| {
                Error::invalid(
                    "unknown_alg",
                    format!("unknown algorithm {s:?}: use one of {}", Alg::names()),
                )
            })
    }
}

impl fmt::Display for Alg {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The kind of key an algorithm needs: shared secret, RSA, a curve.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum KeyFamily {
    Hmac,
    Rsa,
    EcP256,
    EcP384,
    Ed25519,
}

impl KeyFamily {
    /// Every family.
    pub const ALL: [KeyFamily; 5] = [
        KeyFamily::Hmac,
        KeyFamily::Rsa,
        KeyFamily::EcP256,
        KeyFamily::EcP384,
        KeyFamily::Ed25519,
    ];

    /// A short stable name: the JWK `kty` for HMAC and RSA, the `crv` otherwise.
    pub fn as_str(self) -> &'static str {
        match self {
            KeyFamily::Hmac => "oct",
            KeyFamily::Rsa => "RSA",
            KeyFamily::EcP256 => "P-256",
            KeyFamily::EcP384 => "P-384",
            KeyFamily::Ed25519 => "Ed25519",
        }
    }

    /// The algorithms a key of this family may be used with.
    pub fn allowed_algs(self) -> &'static [Alg] {
        match self {
            KeyFamily::Hmac => &[Alg::HS256, Alg::HS384, Alg::HS512],
            KeyFamily::Rsa => &[
                Alg::RS256,
                Alg::RS384,
                Alg::RS512,
                Alg::PS256,
                Alg::PS384,
                Alg::PS512,
            ],
            KeyFamily::EcP256 => &[Alg::ES256],
            KeyFamily::EcP384 => &[Alg::ES384],
            KeyFamily::Ed25519 => &[Alg::EdDSA],
        }
    }

    /// Parses the name [`KeyFamily::as_str`] gives.
    pub fn parse(s: &str) -> Option<KeyFamily> {
        KeyFamily::ALL.into_iter().find(|f| f.as_str() == s)
    }

    /// Whether keys of this family have a public half.
    pub fn is_asymmetric(self) -> bool {
        self != KeyFamily::Hmac
    }
}

impl fmt::Display for KeyFamily {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}
