//! The one error shape the UI receives: `{code, message}`.
//!
//! `code` is a stable machine string (the core's codes, plus the shell's
//! own `timeout`, `cancelled` and `internal`); `message` is one line, safe to
//! show, that says what to do next. Neither ever holds secret material: core
//! messages are built from names and ids only.

use serde::Serialize;
use ts_rs::TS;

/// A failed command, as serialised to the UI.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
pub struct IpcError {
    /// Stable machine code (`keychain_unavailable`, `database_error`, ...).
    #[ts(type = "string")]
    pub code: &'static str,
    /// One line for the user.
    pub message: String,
}

impl IpcError {
    /// An error the shell itself detected.
    pub(crate) fn new(code: &'static str, message: impl Into<String>) -> Self {
        IpcError {
            code,
            message: message.into(),
        }
    }
}

impl From<keyward_core::Error> for IpcError {
    fn from(e: keyward_core::Error) -> Self {
        IpcError::new(e.code(), e.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn core_errors_keep_their_code_and_message() {
        let e = IpcError::from(keyward_core::Error::SecretStore(
            "the OS keychain is unavailable (locked): unlock it, then retry".into(),
        ));
        assert_eq!(
            serde_json::to_value(&e).unwrap(),
            serde_json::json!({
                "code": "keychain_unavailable",
                "message": "the OS keychain is unavailable (locked): unlock it, then retry",
            })
        );
    }
}
