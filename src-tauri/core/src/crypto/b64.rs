//! Strict base64url (RFC 7515 §2): no padding, no whitespace, no stray
//! characters, and no non-zero trailing bits, so every byte string has exactly
//! one accepted encoding.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;

/// Encodes bytes as unpadded base64url.
pub fn encode(bytes: impl AsRef<[u8]>) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

/// Decodes canonical unpadded base64url; `None` for anything else.
pub fn decode(text: &str) -> Option<Vec<u8>> {
    URL_SAFE_NO_PAD.decode(text.as_bytes()).ok()
}

/// Why a base64url text was refused, for one-line messages.
pub fn defect(text: &str) -> &'static str {
    if text.contains('=') {
        "it has '=' padding, which JOSE forbids"
    } else if text.contains('+') || text.contains('/') {
        "it uses the standard base64 alphabet ('+' or '/') instead of base64url"
    } else if text.bytes().any(|b| b.is_ascii_whitespace()) {
        "it contains whitespace"
    } else if text
        .bytes()
        .any(|b| !(b.is_ascii_alphanumeric() || b == b'-' || b == b'_'))
    {
        "it contains a character outside the base64url alphabet"
    } else if text.len() % 4 == 1 {
        "its length is impossible for base64url"
    } else {
        "its last character has non-zero unused bits (non-canonical encoding)"
    }
}
