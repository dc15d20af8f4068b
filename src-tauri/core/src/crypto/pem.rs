//! Reading keys from files: PEM (PKCS#8, PKCS#1, SEC1, SPKI, certificates),
//! raw DER, or a JWK.

use super::jwk::{parse_jwk, rsa_public};
use super::keys::{check_rsa_public, PrivInner, PubInner};
use super::{ParsedKey, PrivateKey, PublicKey};
use crate::error::{Error, Result};
use pkcs1::DecodeRsaPrivateKey;
use pkcs8::DecodePrivateKey;
use spki::ObjectIdentifier;
use x509_cert::der::{Decode, Encode};
use zeroize::Zeroizing;

const RSA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.1");
const RSA_PSS: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.10");
const EC: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.2.1");
const P256: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.3.1.7");
const P384: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.132.0.34");
const P521: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.132.0.35");
const SECP256K1: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.132.0.10");
const ED25519: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.101.112");
const ED448: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.101.113");
const X25519: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.101.110");

fn bad_pem(message: impl Into<String>) -> Error {
    Error::invalid("bad_pem", message)
}

fn unsupported(message: impl Into<String>) -> Error {
    Error::invalid("unsupported_key", message)
}

/// Reads a key: PEM (`PRIVATE KEY`, `RSA PRIVATE KEY`, `RSA PUBLIC KEY`,
/// `EC PRIVATE KEY`, `PUBLIC KEY`, `CERTIFICATE`), DER of those, or a JWK.
/// Each defect is a one-line [`Error::Invalid`] (`bad_pem`, `bad_jwk`,
/// `weak_rsa`, `unsupported_key`, ...).
pub fn parse_key(input: &[u8]) -> Result<ParsedKey> {
    let trimmed = input.trim_ascii();
    if trimmed.is_empty() {
        return Err(Error::invalid("empty_key", "the key input is empty"));
    }
    if trimmed.starts_with(b"{") || trimmed.starts_with(b"[") {
        let v = super::json::parse(trimmed)
            .map_err(|e| Error::invalid("bad_jwk", format!("the JWK is {e}")))?;
        return parse_jwk(&v).map(|k| k.key);
    }
    if let Some(start) = find(trimmed, b"-----BEGIN ") {
        return parse_pem_blocks(&trimmed[start..]);
    }
    if trimmed.first() == Some(&0x30) {
        return parse_der(input);
    }
    Err(Error::invalid(
        "unknown_key_format",
        "not a key: expected PEM (-----BEGIN ...), a JWK (JSON object) or DER",
    ))
}

/// Reads a key to sign or verify with, as [`parse_key`] does, but refuses a
/// JWK whose own `alg`, `use` or `key_ops` rule out signatures (`key import`).
pub fn parse_signing_key(input: &[u8]) -> Result<ParsedKey> {
    let trimmed = input.trim_ascii();
    if trimmed.starts_with(b"{") {
        if let Ok(v) = super::json::parse(trimmed) {
            if let Ok(jwk) = parse_jwk(&v) {
                if let (algs, Some(why)) = jwk.verify_algs() {
                    if algs.is_empty() {
                        return Err(Error::invalid(
                            "unusable_jwk",
                            format!("the JWK cannot be used for signatures: {why}"),
                        ));
                    }
                }
            }
        }
    }
    parse_key(input)
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// Walks the PEM blocks, skipping `EC PARAMETERS` (which `openssl ecparam
/// -genkey` writes before the key), and reads the first key block.
fn parse_pem_blocks(mut text: &[u8]) -> Result<ParsedKey> {
    loop {
        let Some(start) = find(text, b"-----BEGIN ") else {
            return Err(bad_pem("the PEM input holds no key block"));
        };
        text = &text[start..];
        let label_end = find(&text[11..], b"-----")
            .ok_or_else(|| bad_pem("the PEM BEGIN line is not closed with -----"))?;
        let label = std::str::from_utf8(&text[11..11 + label_end])
            .map_err(|_| bad_pem("the PEM label is not text"))?
            .to_string();
        let end_line = format!("-----END {label}-----");
        let end = find(text, end_line.as_bytes()).ok_or_else(|| {
            bad_pem(format!(
                "the PEM block \"{label}\" has no matching END line"
            ))
        })? + end_line.len();
        let block = &text[..end];
        if label == "EC PARAMETERS" {
            text = &text[end..];
            continue;
        }
        if find(block, b"Proc-Type:").is_some() {
            return Err(unsupported(
                "the PEM key is encrypted: decrypt it first (openssl pkey -in KEY -out PLAIN)",
            ));
        }
        let (_, der) = pem_rfc7468::decode_vec(block)
            .map_err(|e| bad_pem(format!("the PEM block \"{label}\" is malformed: {e}")))?;
        let der = Zeroizing::new(der);
        return parse_labelled(&label, &der);
    }
}

fn parse_labelled(label: &str, der: &[u8]) -> Result<ParsedKey> {
    let invalid = |what: &str| bad_pem(format!("the \"{label}\" block is not valid {what} DER"));
    match label {
        "PRIVATE KEY" => private_from_pkcs8(der),
        "PUBLIC KEY" => public_from_spki_der(der).map(ParsedKey::Public),
        "RSA PRIVATE KEY" => {
            let key = rsa::RsaPrivateKey::from_pkcs1_der(der).map_err(|_| invalid("PKCS#1"))?;
            check_rsa_public(&key.to_public_key())?;
            Ok(ParsedKey::Private(PrivateKey(PrivInner::Rsa(Box::new(
                key,
            )))))
        }
        "RSA PUBLIC KEY" => {
            let k = pkcs1::RsaPublicKey::from_der(der).map_err(|_| invalid("PKCS#1"))?;
            let key = rsa_public(k.modulus.as_bytes(), k.public_exponent.as_bytes())?;
            Ok(ParsedKey::Public(PublicKey(PubInner::Rsa(key))))
        }
        "EC PRIVATE KEY" => private_from_sec1(der),
        "CERTIFICATE" => public_from_certificate(der).map(ParsedKey::Public),
        "ENCRYPTED PRIVATE KEY" => Err(unsupported(
            "the PEM key is encrypted: decrypt it first (openssl pkey -in KEY -out PLAIN)",
        )),
        "OPENSSH PRIVATE KEY" => Err(unsupported(
            "OpenSSH private keys are not supported: convert with ssh-keygen -p -m PKCS8 -f KEY",
        )),
        other => Err(unsupported(format!(
            "PEM blocks labelled \"{other}\" hold no key Keyward can use"
        ))),
    }
}

fn parse_der(der: &[u8]) -> Result<ParsedKey> {
    if pkcs8::PrivateKeyInfo::try_from(der).is_ok() {
        return private_from_pkcs8(der);
    }
    if spki::SubjectPublicKeyInfoRef::try_from(der).is_ok() {
        return public_from_spki_der(der).map(ParsedKey::Public);
    }
    if x509_cert::Certificate::from_der(der).is_ok() {
        return public_from_certificate(der).map(ParsedKey::Public);
    }
    if pkcs1::RsaPrivateKey::from_der(der).is_ok() {
        return parse_labelled("RSA PRIVATE KEY", der);
    }
    if sec1::EcPrivateKey::from_der(der).is_ok() {
        return private_from_sec1(der);
    }
    Err(Error::invalid(
        "unknown_key_format",
        "binary input is not a DER key (PKCS#8, SPKI, certificate, PKCS#1 or SEC1)",
    ))
}

fn curve_name(oid: ObjectIdentifier) -> String {
    match oid {
        P521 => "P-521".into(),
        SECP256K1 => "secp256k1".into(),
        other => other.to_string(),
    }
}

fn private_from_pkcs8(der: &[u8]) -> Result<ParsedKey> {
    let info = pkcs8::PrivateKeyInfo::try_from(der)
        .map_err(|_| bad_pem("the \"PRIVATE KEY\" block is not valid PKCS#8 DER"))?;
    let invalid = |what: &str| bad_pem(format!("the PKCS#8 {what} private key is malformed"));
    let oid = info.algorithm.oid;
    let inner = match oid {
        RSA => {
            let key = rsa::RsaPrivateKey::from_pkcs8_der(der).map_err(|_| invalid("RSA"))?;
            check_rsa_public(&key.to_public_key())?;
            PrivInner::Rsa(Box::new(key))
        }
        EC => {
            let curve = info
                .algorithm
                .parameters_oid()
                .map_err(|_| invalid("EC (curve not named)"))?;
            match curve {
                P256 => PrivInner::P256(
                    p256::SecretKey::from_pkcs8_der(der).map_err(|_| invalid("P-256"))?,
                ),
                P384 => PrivInner::P384(
                    p384::SecretKey::from_pkcs8_der(der).map_err(|_| invalid("P-384"))?,
                ),
                other => {
                    return Err(unsupported(format!(
                        "EC curve {} is not supported: use P-256 or P-384",
                        curve_name(other)
                    )))
                }
            }
        }
        ED25519 => PrivInner::Ed25519(Box::new(
            ed25519_dalek::SigningKey::from_pkcs8_der(der).map_err(|_| invalid("Ed25519"))?,
        )),
        other => return Err(unsupported_alg(other)),
    };
    Ok(ParsedKey::Private(PrivateKey(inner)))
}

fn unsupported_alg(oid: ObjectIdentifier) -> Error {
    let what = match oid {
        RSA_PSS => "RSASSA-PSS-restricted RSA keys (id-RSASSA-PSS)".to_string(),
        ED448 => "Ed448 keys".to_string(),
        X25519 => "X25519 keys (key agreement, not signing)".to_string(),
        other => format!("keys of algorithm {other}"),
    };
    unsupported(format!(
        "{what} are not supported: use RSA, EC P-256/P-384 or Ed25519"
    ))
}

fn private_from_sec1(der: &[u8]) -> Result<ParsedKey> {
    let key = sec1::EcPrivateKey::from_der(der)
        .map_err(|_| bad_pem("the \"EC PRIVATE KEY\" block is not valid SEC1 DER"))?;
    let curve = key.parameters.and_then(|p| p.named_curve());
    let inner = match (curve, key.private_key.len()) {
        (Some(P256), _) | (None, 32) => PrivInner::P256(
            p256::SecretKey::from_sec1_der(der)
                .map_err(|_| bad_pem("the SEC1 P-256 private key is malformed"))?,
        ),
        (Some(P384), _) | (None, 48) => PrivInner::P384(
            p384::SecretKey::from_sec1_der(der)
                .map_err(|_| bad_pem("the SEC1 P-384 private key is malformed"))?,
        ),
        (Some(other), _) => {
            return Err(unsupported(format!(
                "EC curve {} is not supported: use P-256 or P-384",
                curve_name(other)
            )))
        }
        (None, n) => {
            return Err(unsupported(format!(
                "a SEC1 key of {n} bytes without a named curve is not supported"
            )))
        }
    };
    Ok(ParsedKey::Private(PrivateKey(inner)))
}

/// Reads SubjectPublicKeyInfo DER.
pub(crate) fn public_from_spki_der(der: &[u8]) -> Result<PublicKey> {
    let info = spki::SubjectPublicKeyInfoRef::try_from(der)
        .map_err(|_| bad_pem("not a valid SubjectPublicKeyInfo (\"PUBLIC KEY\") DER"))?;
    let bits = info
        .subject_public_key
        .as_bytes()
        .ok_or_else(|| bad_pem("the public key bit string has unused bits"))?;
    let inner = match info.algorithm.oid {
        RSA => {
            let k = pkcs1::RsaPublicKey::from_der(bits)
                .map_err(|_| bad_pem("the RSA public key inside the SPKI is malformed"))?;
            PubInner::Rsa(rsa_public(
                k.modulus.as_bytes(),
                k.public_exponent.as_bytes(),
            )?)
        }
        EC => {
            let curve = info
                .algorithm
                .parameters_oid()
                .map_err(|_| bad_pem("the EC public key does not name its curve"))?;
            let off = || Error::invalid("bad_key", "the EC public key is not a point on its curve");
            match curve {
                P256 => PubInner::P256(p256::PublicKey::from_sec1_bytes(bits).map_err(|_| off())?),
                P384 => PubInner::P384(p384::PublicKey::from_sec1_bytes(bits).map_err(|_| off())?),
                other => {
                    return Err(unsupported(format!(
                        "EC curve {} is not supported: use P-256 or P-384",
                        curve_name(other)
                    )))
                }
            }
        }
        ED25519 => return PublicKey::ed25519(bits),
        other => return Err(unsupported_alg(other)),
    };
    Ok(PublicKey(inner))
}

fn public_from_certificate(der: &[u8]) -> Result<PublicKey> {
    let cert = x509_cert::Certificate::from_der(der)
        .map_err(|_| bad_pem("the \"CERTIFICATE\" block is not a valid X.509 certificate"))?;
    let spki = cert
        .tbs_certificate
        .subject_public_key_info
        .to_der()
        .map_err(|_| bad_pem("the certificate's public key cannot be re-encoded"))?;
    public_from_spki_der(&spki)
}
