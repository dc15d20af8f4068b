//! Keys as data: kinds, version states and their checked transitions
//! ([`state`]), and the API-key format ([`apikey`]).

pub mod apikey;
pub mod state;

pub use state::{KeyState, Transition};

use serde::{Deserialize, Serialize};

/// What a key is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "lowercase")]
pub enum KeyKind {
    /// An API key checked by `apikey verify`.
    Api,
    /// A JWT signing key (HMAC or asymmetric).
    Signing,
}

impl KeyKind {
    /// The stored and displayed form.
    pub fn as_str(self) -> &'static str {
        match self {
            KeyKind::Api => "api",
            KeyKind::Signing => "signing",
        }
    }

    /// Parses `api` or `signing`.
    pub fn parse(s: &str) -> crate::Result<KeyKind> {
        match s {
            "api" => Ok(KeyKind::Api),
            "signing" => Ok(KeyKind::Signing),
            other => Err(crate::Error::invalid(
                "bad_kind",
                format!("unknown key kind {other:?}: use api or signing"),
            )),
        }
    }
}
