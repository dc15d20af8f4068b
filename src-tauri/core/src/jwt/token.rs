//! Strict parsing of compact JWS (RFC 7515 §7.1) into a typed [`Token`].
//!
//! Untrusted text becomes a `Token` here or is refused with one precise
//! reason; the rest of the engine never looks at raw segments again except
//! the literal signing input, which is what signatures are checked over.

use crate::crypto::json::{self, JsonDefect};
use crate::crypto::{b64, Alg};
use crate::error::Error;
use serde_json::{Map, Value};
use std::fmt;

/// The largest token accepted, in bytes.
pub const MAX_TOKEN_BYTES: usize = 256 * 1024;

/// Why a text is not a compact JWS.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    #[error("the token is empty")]
    Empty,
    #[error("the token is {0} bytes, more than the {MAX_TOKEN_BYTES} bytes accepted")]
    TooLarge(usize),
    #[error("this is a JWS JSON serialization: only compact tokens (header.payload.signature) are supported")]
    JsonSerialization,
    #[error("this looks like an encrypted JWT (JWE, 5 parts): Keyward inspects and verifies signed tokens (JWS) only")]
    Encrypted,
    #[error("not a JWT: a compact JWS has 3 dot-separated parts, this has {0}")]
    PartCount(usize),
    #[error("not a JWT: the {part} part is empty")]
    EmptyPart { part: &'static str },
    #[error("the {part} part is not base64url: {why}")]
    Base64 {
        part: &'static str,
        why: &'static str,
    },
    #[error("the header is {0}")]
    HeaderJson(String),
    #[error(
        "the header has the member {0:?} more than once (parsers could disagree on its value)"
    )]
    DuplicateHeaderMember(String),
    #[error("the header must be a JSON object")]
    HeaderNotObject,
    #[error("the header has no \"alg\" member")]
    MissingAlg,
    #[error("the header's \"alg\" must be a string")]
    AlgNotString,
}

impl TokenError {
    /// A stable machine code.
    pub fn code(&self) -> &'static str {
        match self {
            TokenError::Empty => "empty_token",
            TokenError::TooLarge(_) => "token_too_large",
            TokenError::JsonSerialization => "jws_json_unsupported",
            TokenError::Encrypted => "jwe_unsupported",
            TokenError::PartCount(_) | TokenError::EmptyPart { .. } => "not_a_jwt",
            TokenError::Base64 { .. } => "bad_base64",
            TokenError::HeaderJson(_) => "bad_header_json",
            TokenError::DuplicateHeaderMember(_) => "duplicate_header_member",
            TokenError::HeaderNotObject => "header_not_object",
            TokenError::MissingAlg => "missing_alg",
            TokenError::AlgNotString => "bad_alg",
        }
    }
}

impl From<TokenError> for Error {
    fn from(e: TokenError) -> Self {
        Error::invalid(e.code(), e.to_string())
    }
}

/// The `alg` a token's header names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HeaderAlg {
    /// An algorithm Keyward implements.
    Known(Alg),
    /// `none`: an unsecured JWS, never accepted.
    None,
    /// Anything else (case variants like `hs256` included: JOSE names are case-sensitive).
    Other(String),
}

impl fmt::Display for HeaderAlg {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            HeaderAlg::Known(a) => f.write_str(a.as_str()),
            HeaderAlg::None => f.write_str("none"),
            HeaderAlg::Other(s) => write!(f, "{s:?}"),
        }
    }
}

/// What the payload is, as far as JWT claims go.
#[derive(Debug, Clone, PartialEq)]
pub enum Payload {
    /// A JSON object: the JWT claims set.
    Claims(Map<String, Value>),
    /// Something else; the reason it is not a claims set.
    NotClaims(String),
}

/// A parsed compact JWS.
#[derive(Debug, Clone)]
pub struct Token {
    signing_input: String,
    header: Map<String, Value>,
    alg: HeaderAlg,
    payload_bytes: Vec<u8>,
    payload: Payload,
    signature: Vec<u8>,
}

fn segment(text: &str, part: &'static str) -> Result<Vec<u8>, TokenError> {
    // `ok_or_else`: working out the defect rescans the text, so only on failure.
    b64::decode(text).ok_or_else(|| TokenError::Base64 {
        part,
        why: b64::defect(text),
    })
}

impl Token {
    /// Parses a compact JWS. Surrounding whitespace must already be trimmed.
    pub fn parse(text: &str) -> Result<Token, TokenError> {
        if text.is_empty() {
            return Err(TokenError::Empty);
        }
        if text.len() > MAX_TOKEN_BYTES {
            return Err(TokenError::TooLarge(text.len()));
        }
        if text.starts_with('{') {
            return Err(TokenError::JsonSerialization);
        }
        let (header_text, payload_text, signature_text) = {
            let mut parts = text.split('.');
            match (parts.next(), parts.next(), parts.next(), parts.next()) {
                (Some(h), Some(p), Some(s), None) => (h, p, s),
                _ => {
                    return Err(match text.split('.').count() {
                        5 => TokenError::Encrypted,
                        n => TokenError::PartCount(n),
                    })
                }
            }
        };
        if header_text.is_empty() {
            return Err(TokenError::EmptyPart { part: "header" });
        }
        let header_bytes = segment(header_text, "header")?;
        // An empty payload is a legal JWS (detached content); base64 of nothing is "".
        let payload_bytes = segment(payload_text, "payload")?;
        let signature = segment(signature_text, "signature")?;
        let header = match json::parse(&header_bytes) {
            Ok(Value::Object(m)) => m,
            Ok(_) => return Err(TokenError::HeaderNotObject),
            Err(JsonDefect::Duplicate(name)) => {
                return Err(TokenError::DuplicateHeaderMember(name))
            }
            Err(e) => return Err(TokenError::HeaderJson(e.to_string())),
        };
        let alg = match header.get("alg") {
            None => return Err(TokenError::MissingAlg),
            Some(Value::String(s)) if s == "none" => HeaderAlg::None,
            Some(Value::String(s)) => match Alg::from_jose(s) {
                Some(a) => HeaderAlg::Known(a),
                None => HeaderAlg::Other(s.clone()),
            },
            Some(_) => return Err(TokenError::AlgNotString),
        };
        let payload = match json::parse(&payload_bytes) {
            Ok(Value::Object(m)) => Payload::Claims(m),
            Ok(other) => Payload::NotClaims(format!(
                "the payload is JSON but not an object (it is {})",
                json_kind(&other)
            )),
            Err(JsonDefect::Duplicate(name)) => Payload::NotClaims(format!(
                "the claim {name:?} appears more than once (parsers could disagree on its value)"
            )),
            Err(JsonDefect::TooDeep) => Payload::NotClaims(format!(
                "the claims are nested deeper than {} levels",
                json::MAX_DEPTH
            )),
            Err(JsonDefect::Syntax(_)) if payload_bytes.is_empty() => {
                Payload::NotClaims("the payload is empty".into())
            }
            Err(JsonDefect::Syntax(_)) => Payload::NotClaims("the payload is not JSON".into()),
        };
        let signing_input = text[..header_text.len() + 1 + payload_text.len()].to_string();
        Ok(Token {
            signing_input,
            header,
            alg,
            payload_bytes,
            payload,
            signature,
        })
    }

    /// The protected header.
    pub fn header(&self) -> &Map<String, Value> {
        &self.header
    }

    /// The header's `alg`.
    pub fn alg(&self) -> &HeaderAlg {
        &self.alg
    }

    /// The header's `kid`, when it is a string.
    pub fn kid(&self) -> Option<&str> {
        self.header.get("kid").and_then(Value::as_str)
    }

    /// The claims, when the payload is a JSON object.
    pub fn claims(&self) -> Option<&Map<String, Value>> {
        match &self.payload {
            Payload::Claims(m) => Some(m),
            Payload::NotClaims(_) => None,
        }
    }

    /// The payload as parsed.
    pub fn payload(&self) -> &Payload {
        &self.payload
    }

    /// The raw payload bytes.
    pub fn payload_bytes(&self) -> &[u8] {
        &self.payload_bytes
    }

    /// The literal `header.payload` text the signature covers.
    pub fn signing_input(&self) -> &str {
        &self.signing_input
    }

    /// The signature octets (empty for a stripped or unsecured token).
    pub fn signature(&self) -> &[u8] {
        &self.signature
    }

    /// The header and, when the payload is a JSON object, the claims.
    pub(crate) fn into_header_and_claims(self) -> (Map<String, Value>, Option<Map<String, Value>>) {
        let claims = match self.payload {
            Payload::Claims(m) => Some(m),
            Payload::NotClaims(_) => None,
        };
        (self.header, claims)
    }

    /// The `jti` claim, when it is a string.
    pub fn jti(&self) -> Option<&str> {
        self.claims()?.get("jti").and_then(Value::as_str)
    }

    /// A NumericDate claim (`exp`, `nbf`, `iat`): `None` when absent,
    /// `Some(Err)` when present but not a number.
    pub fn numeric_date(&self, name: &str) -> Option<Result<i64, String>> {
        let v = self.claims()?.get(name)?;
        Some(numeric_date(name, v))
    }
}

/// Reads a NumericDate (RFC 7519 §2): a JSON number of seconds, fractions allowed.
pub(crate) fn numeric_date(name: &str, v: &Value) -> Result<i64, String> {
    match v {
        Value::Number(n) => {
            if let Some(i) = n.as_i64() {
                Ok(i)
            } else if let Some(f) = n.as_f64().filter(|f| f.is_finite() && f.abs() < 1e15) {
                Ok(f.floor() as i64)
            } else {
                Err(format!("\"{name}\" is out of range"))
            }
        }
        other => Err(format!(
            "\"{name}\" must be a NumericDate (a number of seconds), not {}",
            json_kind(other)
        )),
    }
}

pub(crate) fn json_kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}
