//! The JWT engine: strict parsing ([`Token`]), inspection and lint
//! ([`inspect()`]), step-by-step verification ([`verify()`]) and signing
//! ([`sign()`]). Needs no vault: file keys work directly, and the vault feeds
//! its keys in as [`Candidate`]s and its jti denylist as a callback.
//!
//! It must never let a token choose its own key or algorithm family, never
//! accept `alg: none`, and never put secret bytes in a report.

mod crack;
mod inspect;
mod keys;
mod sign;
mod time;
mod token;
mod verify;

pub use crack::{crack, CrackProgress};
pub use inspect::{
    inspect, suspicious_kid, InspectOptions, Inspection, Lint, Registered, Severity, Timeline,
};
pub use keys::{key_source_from_file, load_key_file};
pub use sign::{
    new_jti, parse_json_object, sign, sign_request, sign_request_with, sign_with, sign_with_kid,
    SignRequest, SignedToken,
};
pub use time::{relative, span};
pub use token::{HeaderAlg, Payload, Token, TokenError, MAX_TOKEN_BYTES};
pub use verify::{
    verify, verify_owned, Candidate, Check, CheckResult, KeySource, RevocationCheck, Status,
    Verification, VerifiedBy, VerifyOptions,
};

/// Parses a token given by a person: surrounding whitespace is trimmed.
pub fn parse(text: &str) -> crate::Result<Token> {
    Ok(Token::parse(text.trim())?)
}
