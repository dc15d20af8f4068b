//! Raw JWS signature primitives: signing with RustCrypto, verifying through
//! `jsonwebtoken`'s crypto layer for public keys and through ring for HMAC
//! (so the two sides are independent implementations that check each other
//! in the tests).

use super::keys::{PrivInner, PubInner};
use super::{b64, Alg, KeyFamily, PrivateKey, PublicKey};
use crate::error::{Error, Result};
use crate::secret::SecretBytes;
use hmac::{Hmac, Mac};
use jsonwebtoken::{Algorithm, DecodingKey};
use rand::rngs::OsRng;
use rsa::traits::PublicKeyParts;
use rsa::{Pkcs1v15Sign, Pss};
use sha2::{Digest, Sha256, Sha384, Sha512};
use std::fmt;

/// What verifies a signature: a public key, or an HMAC secret.
#[derive(Clone)]
pub enum KeyMaterial {
    /// A shared secret for HS256/384/512.
    Hmac(SecretBytes),
    /// An asymmetric public key.
    Public(PublicKey),
}

impl fmt::Debug for KeyMaterial {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            KeyMaterial::Hmac(s) => write!(f, "Hmac(<{} bytes redacted>)", s.len()),
            KeyMaterial::Public(p) => write!(f, "Public({})", p.family()),
        }
    }
}

/// Why a signature did not verify.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    /// The algorithm needs another kind of key.
    #[error("{alg} needs a {needs} key, not a {have} key")]
    WrongKeyType {
        alg: Alg,
        needs: KeyFamily,
        have: KeyFamily,
    },
    /// The signature has the wrong size for the algorithm and key.
    #[error("{alg} signatures are {expected} bytes with this key, this one has {actual}")]
    BadLength {
        alg: Alg,
        expected: usize,
        actual: usize,
    },
    /// The signature does not match the signing input.
    #[error("signature does not match ({alg})")]
    Mismatch { alg: Alg },
    /// The key could not be used (should not happen for keys parsed here).
    #[error("the key cannot be used for {alg}: {why}")]
    BadKey { alg: Alg, why: String },
}

fn jwt_alg(alg: Alg) -> Algorithm {
    match alg {
        Alg::HS256 => Algorithm::HS256,
        Alg::HS384 => Algorithm::HS384,
        Alg::HS512 => Algorithm::HS512,
        Alg::RS256 => Algorithm::RS256,
        Alg::RS384 => Algorithm::RS384,
        Alg::RS512 => Algorithm::RS512,
        Alg::PS256 => Algorithm::PS256,
        Alg::PS384 => Algorithm::PS384,
        Alg::PS512 => Algorithm::PS512,
        Alg::ES256 => Algorithm::ES256,
        Alg::ES384 => Algorithm::ES384,
        Alg::EdDSA => Algorithm::EdDSA,
    }
}

impl KeyMaterial {
    /// The key's family.
    pub fn family(&self) -> KeyFamily {
        match self {
            KeyMaterial::Hmac(_) => KeyFamily::Hmac,
            KeyMaterial::Public(p) => p.family(),
        }
    }

    /// The size a signature by `alg` with this key must have, when fixed.
    fn signature_len(&self, alg: Alg) -> Option<usize> {
        match self {
            KeyMaterial::Hmac(_) => Some(alg.hash_len()),
            KeyMaterial::Public(p) => match &p.0 {
                PubInner::Rsa(k) => Some(k.size()),
                PubInner::P256(_) => Some(64),
                PubInner::P384(_) => Some(96),
                PubInner::Ed25519(_) => Some(64),
            },
        }
    }

    /// Verifies `signature` over `message` (the literal JWS signing input)
    /// with `alg`, which must belong to this key's family.
    pub fn verify(
        &self,
        alg: Alg,
        message: &[u8],
        signature: &[u8],
    ) -> std::result::Result<(), SignatureError> {
        if alg.family() != self.family() {
            return Err(SignatureError::WrongKeyType {
                alg,
                needs: alg.family(),
                have: self.family(),
            });
        }
        if let Some(expected) = self.signature_len(alg) {
            if signature.len() != expected {
                return Err(SignatureError::BadLength {
                    alg,
                    expected,
                    actual: signature.len(),
                });
            }
        }
        let key = match self {
            KeyMaterial::Hmac(s) => return verify_hmac(s, alg, message, signature),
            KeyMaterial::Public(p) => match &p.0 {
                PubInner::Rsa(k) if k.n().bits() > 4096 => {
                    // jsonwebtoken's RSA verifier stops at 4096 bits.
                    return verify_rsa_direct(k, alg, message, signature);
                }
                PubInner::Rsa(k) => {
                    DecodingKey::from_rsa_raw_components(&k.n().to_bytes_be(), &k.e().to_bytes_be())
                }
                PubInner::P256(k) => {
                    use p256::elliptic_curve::sec1::ToEncodedPoint;
                    DecodingKey::from_ec_der(k.to_encoded_point(false).as_bytes())
                }
                PubInner::P384(k) => {
                    use p384::elliptic_curve::sec1::ToEncodedPoint;
                    DecodingKey::from_ec_der(k.to_encoded_point(false).as_bytes())
                }
                PubInner::Ed25519(k) => DecodingKey::from_ed_der(k.as_bytes()),
            },
        };
        match jsonwebtoken::crypto::verify(&b64::encode(signature), message, &key, jwt_alg(alg)) {
            Ok(true) => Ok(()),
            Ok(false) => Err(SignatureError::Mismatch { alg }),
            Err(e) => Err(SignatureError::BadKey {
                alg,
                why: e.to_string(),
            }),
        }
    }
}

/// HMAC through ring: a constant-time comparison, no copy of the secret
/// (jsonwebtoken's `DecodingKey::from_secret` would leave one, unzeroized, on
/// the heap), and no round trip of the signature through base64.
fn verify_hmac(
    secret: &SecretBytes,
    alg: Alg,
    message: &[u8],
    signature: &[u8],
) -> std::result::Result<(), SignatureError> {
    let algorithm = match alg {
        Alg::HS256 => ring::hmac::HMAC_SHA256,
        Alg::HS384 => ring::hmac::HMAC_SHA384,
        Alg::HS512 => ring::hmac::HMAC_SHA512,
        _ => {
            return Err(SignatureError::WrongKeyType {
                alg,
                needs: alg.family(),
                have: KeyFamily::Hmac,
            })
        }
    };
    let key = ring::hmac::Key::new(algorithm, secret.expose());
    ring::hmac::verify(&key, message, signature).map_err(|_| SignatureError::Mismatch { alg })
}

fn verify_rsa_direct(
    k: &rsa::RsaPublicKey,
    alg: Alg,
    message: &[u8],
    signature: &[u8],
) -> std::result::Result<(), SignatureError> {
    let ok = match alg {
        Alg::RS256 => k.verify(
            Pkcs1v15Sign::new::<Sha256>(),
            &Sha256::digest(message),
            signature,
        ),
        Alg::RS384 => k.verify(
            Pkcs1v15Sign::new::<Sha384>(),
            &Sha384::digest(message),
            signature,
        ),
        Alg::RS512 => k.verify(
            Pkcs1v15Sign::new::<Sha512>(),
            &Sha512::digest(message),
            signature,
        ),
        Alg::PS256 => k.verify(Pss::new::<Sha256>(), &Sha256::digest(message), signature),
        Alg::PS384 => k.verify(Pss::new::<Sha384>(), &Sha384::digest(message), signature),
        Alg::PS512 => k.verify(Pss::new::<Sha512>(), &Sha512::digest(message), signature),
        _ => {
            return Err(SignatureError::WrongKeyType {
                alg,
                needs: alg.family(),
                have: KeyFamily::Rsa,
            })
        }
    };
    ok.map_err(|_| SignatureError::Mismatch { alg })
}

fn mac<M: Mac + hmac::digest::KeyInit>(secret: &[u8], message: &[u8]) -> Vec<u8> {
    // HMAC accepts keys of any length, so this cannot fail.
    let mut m =
        <M as hmac::digest::KeyInit>::new_from_slice(secret).expect("HMAC takes any key length");
    m.update(message);
    m.finalize().into_bytes().to_vec()
}

/// Signs with RustCrypto directly (see the module doc).
pub(super) fn sign(key: &PrivateKey, alg: Alg, message: &[u8]) -> Result<Vec<u8>> {
    if alg.family() != key.family() {
        return Err(Error::invalid(
            "alg_mismatch",
            format!(
                "{alg} needs a {} key, this key is {}",
                alg.family(),
                key.family()
            ),
        ));
    }
    let failed =
        |e: &dyn fmt::Display| Error::invalid("sign_failed", format!("{alg} signing failed: {e}"));
    let sig = match (&key.0, alg) {
        (PrivInner::Hmac(s), Alg::HS256) => mac::<Hmac<Sha256>>(s.expose(), message),
        (PrivInner::Hmac(s), Alg::HS384) => mac::<Hmac<Sha384>>(s.expose(), message),
        (PrivInner::Hmac(s), Alg::HS512) => mac::<Hmac<Sha512>>(s.expose(), message),
        (PrivInner::Rsa(k), _) => {
            let r = match alg {
                Alg::RS256 => k.sign_with_rng(
                    &mut OsRng,
                    Pkcs1v15Sign::new::<Sha256>(),
                    &Sha256::digest(message),
                ),
                Alg::RS384 => k.sign_with_rng(
                    &mut OsRng,
                    Pkcs1v15Sign::new::<Sha384>(),
                    &Sha384::digest(message),
                ),
                Alg::RS512 => k.sign_with_rng(
                    &mut OsRng,
                    Pkcs1v15Sign::new::<Sha512>(),
                    &Sha512::digest(message),
                ),
                Alg::PS256 => {
                    k.sign_with_rng(&mut OsRng, Pss::new::<Sha256>(), &Sha256::digest(message))
                }
                Alg::PS384 => {
                    k.sign_with_rng(&mut OsRng, Pss::new::<Sha384>(), &Sha384::digest(message))
                }
                _ => k.sign_with_rng(&mut OsRng, Pss::new::<Sha512>(), &Sha512::digest(message)),
            };
            r.map_err(|e| failed(&e))?
        }
        (PrivInner::P256(k), _) => {
            use p256::ecdsa::signature::Signer;
            let sk = p256::ecdsa::SigningKey::from(k);
            let s: p256::ecdsa::Signature = sk.try_sign(message).map_err(|e| failed(&e))?;
            s.to_bytes().to_vec()
        }
        (PrivInner::P384(k), _) => {
            use p384::ecdsa::signature::Signer;
            let sk = p384::ecdsa::SigningKey::from(k);
            let s: p384::ecdsa::Signature = sk.try_sign(message).map_err(|e| failed(&e))?;
            s.to_bytes().to_vec()
        }
        (PrivInner::Ed25519(k), _) => {
            use ed25519_dalek::Signer;
            k.sign(message).to_bytes().to_vec()
        }
        // The family check above rules out every other pairing.
        (PrivInner::Hmac(_), _) => unreachable!("HMAC key with non-HMAC alg"),
    };
    Ok(sig)
}
