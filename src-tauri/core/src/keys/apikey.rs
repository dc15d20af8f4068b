//! The API-key format: `<prefix>_<43 base62 chars: 256 random bits><6 base62
//! chars: CRC32 of "prefix_body">`.
//!
//! The checksum lets a mistyped or truncated key be rejected without any
//! lookup; the vault stores only the key's SHA-256, prefix and last four
//! characters. Parsing turns untrusted text into an [`ApiKey`] or a one-line
//! error that never repeats the input.

use crate::error::{Error, Result};
use crate::secret::SecretBytes;
use ring::rand::{SecureRandom, SystemRandom};
use sha2::{Digest, Sha256};

const ALPHABET: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
/// Length of the random body: 62^43 > 2^256.
pub const BODY_LEN: usize = 43;
/// Length of the checksum: 62^6 > 2^32.
pub const CHECKSUM_LEN: usize = 6;
/// The default prefix.
pub const DEFAULT_PREFIX: &str = "kw";

/// A well-formed API key (checksum verified). Holds the secret: no Debug.
pub struct ApiKey {
    text: SecretBytes,
    prefix_len: usize,
}

impl ApiKey {
    /// Generates a new key with 256 bits from the OS CSPRNG.
    pub fn generate(prefix: &str) -> Result<ApiKey> {
        validate_prefix(prefix)?;
        let mut random = zeroize::Zeroizing::new([0u8; 32]);
        SystemRandom::new()
            .fill(random.as_mut())
            .map_err(|_| Error::Io("the OS random number generator failed".into()))?;
        let body = encode_base62(random.as_ref(), BODY_LEN);
        let mut text = String::with_capacity(prefix.len() + 1 + BODY_LEN + CHECKSUM_LEN);
        text.push_str(prefix);
        text.push('_');
        text.push_str(&body);
        let crc = crc32fast::hash(text.as_bytes());
        text.push_str(&encode_base62(&crc.to_be_bytes(), CHECKSUM_LEN));
        Ok(ApiKey {
            prefix_len: prefix.len(),
            text: SecretBytes::from(text),
        })
    }

    /// Parses untrusted text (surrounding whitespace trimmed): prefix, length,
    /// alphabet and checksum. Errors never repeat the input.
    pub fn parse(input: &[u8]) -> Result<ApiKey> {
        let bad = |why: &str| {
            Error::invalid(
                "bad_api_key",
                format!("not a well-formed Keyward API key: {why}"),
            )
        };
        let s = std::str::from_utf8(input).map_err(|_| bad("it is not UTF-8 text"))?;
        let s = s.trim();
        let (prefix, rest) = s
            .split_once('_')
            .ok_or_else(|| bad("missing the `prefix_` part"))?;
        if !prefix_ok(prefix) {
            return Err(bad("the prefix must be 2 to 12 characters a-z or 0-9"));
        }
        if rest.len() != BODY_LEN + CHECKSUM_LEN {
            return Err(bad(&format!(
                "expected {} characters after the prefix, found {}",
                BODY_LEN + CHECKSUM_LEN,
                rest.chars().count()
            )));
        }
        if !rest.bytes().all(|b| b.is_ascii_alphanumeric()) {
            return Err(bad("it contains characters outside base62"));
        }
        let (head, check) = s.split_at(s.len() - CHECKSUM_LEN);
        let crc = crc32fast::hash(head.as_bytes());
        if encode_base62(&crc.to_be_bytes(), CHECKSUM_LEN) != check {
            return Err(bad("checksum mismatch (mistyped or truncated?)"));
        }
        Ok(ApiKey {
            prefix_len: prefix.len(),
            text: SecretBytes::from_slice(s.as_bytes()),
        })
    }

    /// The prefix (not secret).
    pub fn prefix(&self) -> &str {
        // The text is ASCII by construction.
        std::str::from_utf8(&self.text.expose()[..self.prefix_len]).unwrap_or_default()
    }

    /// The last four characters (a display hint, not secret on its own).
    pub fn last4(&self) -> String {
        let t = self.text.expose();
        String::from_utf8_lossy(&t[t.len() - 4..]).into_owned()
    }

    /// SHA-256 of the whole key: what the vault stores.
    pub fn hash(&self) -> [u8; 32] {
        Sha256::digest(self.text.expose()).into()
    }

    /// The secret text.
    pub fn secret(&self) -> &SecretBytes {
        &self.text
    }
}

/// Checks a prefix given by the user.
pub fn validate_prefix(prefix: &str) -> Result<()> {
    if prefix_ok(prefix) {
        Ok(())
    } else {
        Err(Error::invalid(
            "bad_prefix",
            format!("invalid API key prefix {prefix:?}: use 2 to 12 characters a-z or 0-9"),
        ))
    }
}

fn prefix_ok(p: &str) -> bool {
    (2..=12).contains(&p.len())
        && p.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
}

/// Big-endian bytes as a base62 number, zero-padded to `width` digits.
fn encode_base62(bytes: &[u8], width: usize) -> String {
    let mut num: Vec<u8> = bytes.to_vec();
    let mut digits = Vec::with_capacity(width);
    while num.iter().any(|&b| b != 0) {
        let mut rem: u32 = 0;
        for b in num.iter_mut() {
            let acc = (rem << 8) | u32::from(*b);
            *b = (acc / 62) as u8;
            rem = acc % 62;
        }
        digits.push(ALPHABET[rem as usize]);
    }
    while digits.len() < width {
        digits.push(b'0');
    }
    digits.reverse();
    num.iter_mut().for_each(|b| *b = 0);
    // Only ALPHABET bytes were pushed.
    String::from_utf8(digits).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_keys_have_the_documented_shape_and_parse() {
        for prefix in ["kw", "acme2", "abcdefghijkl"] {
            let k = ApiKey::generate(prefix).unwrap();
            let text = k.secret().expose_str().unwrap().to_string();
            assert!(text.starts_with(&format!("{prefix}_")));
            assert_eq!(text.len(), prefix.len() + 1 + 43 + 6);
            let parsed = ApiKey::parse(format!("  {text}\n").as_bytes()).unwrap();
            assert_eq!(parsed.hash(), k.hash());
            assert_eq!(parsed.prefix(), prefix);
            assert_eq!(parsed.last4(), &text[text.len() - 4..]);
        }
    }

    #[test]
    fn two_keys_differ() {
        let a = ApiKey::generate("kw").unwrap();
        let b = ApiKey::generate("kw").unwrap();
        assert_ne!(a.hash(), b.hash());
    }

    #[test]
    fn any_single_character_change_is_caught() {
        let k = ApiKey::generate("kw").unwrap();
        let text = k.secret().expose_str().unwrap().as_bytes().to_vec();
        for i in 3..text.len() {
            let mut t = text.clone();
            t[i] = if t[i] == b'a' { b'b' } else { b'a' };
            assert!(ApiKey::parse(&t).is_err(), "change at {i} accepted");
        }
    }

    #[test]
    fn malformed_keys_are_rejected_without_echo() {
        for bad in [
            "",
            "kw",
            "kw_",
            "K_abc",
            "x_abc",
            "kw_!!!",
            "toolongprefix1_abc",
        ] {
            let e = ApiKey::parse(bad.as_bytes()).err().expect(bad);
            assert_eq!(e.code(), "bad_api_key");
        }
        assert!(validate_prefix("KW").is_err());
        assert!(validate_prefix("k").is_err());
    }

    #[test]
    fn base62_pads_and_encodes() {
        assert_eq!(encode_base62(&[0, 0, 0, 0], 6), "000000");
        assert_eq!(encode_base62(&[0, 0, 0, 61], 6), "00000z");
        assert_eq!(encode_base62(&[0, 0, 0, 62], 6), "000010");
        assert_eq!(encode_base62(&[0xff; 4], 6), "4gfFC3");
        assert_eq!(encode_base62(&[0xff; 32], 43).len(), 43);
    }
}
