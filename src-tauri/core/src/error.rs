//! The core's one error type. Every variant has a stable machine `code` and an
//! exit class the shells map (CLI → exit code, IPC → `{code, message}`).
//!
//! Messages say what happened and what to do next. They must never contain
//! secret material: callers build them from names, ids and sizes only.

/// How a shell should treat an error (the CLI's exit codes, CLI.md).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExitClass {
    /// The check ran and said no (exit 1).
    Rejected,
    /// Usage error or bad input (exit 2).
    BadInput,
    /// Environment failure: keychain, database, file system (exit 3).
    Environment,
}

impl ExitClass {
    /// The process exit code of CLI.md.
    pub fn exit_code(self) -> i32 {
        match self {
            ExitClass::Rejected => 1,
            ExitClass::BadInput => 2,
            ExitClass::Environment => 3,
        }
    }
}

/// Every failure the core reports.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Malformed or unacceptable input (exit 2). `code` is stable, e.g. `bad_duration`.
    #[error("{message}")]
    Invalid { code: &'static str, message: String },
    /// An id or name that names nothing (exit 2).
    #[error("{0}")]
    NotFound(String),
    /// The request conflicts with what is stored (duplicate name, invalid transition) (exit 2).
    #[error("{message}")]
    Conflict { code: &'static str, message: String },
    /// A check ran and said no (exit 1).
    #[error("{message}")]
    Rejected { code: &'static str, message: String },
    /// The OS keychain (or team secret store) failed or is unavailable (exit 3).
    #[error("{0}")]
    SecretStore(String),
    /// The vault database failed (exit 3).
    #[error("{0}")]
    Database(String),
    /// A file system operation failed (exit 3).
    #[error("{0}")]
    Io(String),
}

impl Error {
    /// Bad input with a stable code.
    pub fn invalid(code: &'static str, message: impl Into<String>) -> Self {
        Error::Invalid {
            code,
            message: message.into(),
        }
    }

    /// A conflict with stored state.
    pub fn conflict(code: &'static str, message: impl Into<String>) -> Self {
        Error::Conflict {
            code,
            message: message.into(),
        }
    }

    /// A negative answer from a check.
    pub fn rejected(code: &'static str, message: impl Into<String>) -> Self {
        Error::Rejected {
            code,
            message: message.into(),
        }
    }

    /// The stable machine code of this error.
    pub fn code(&self) -> &'static str {
        match self {
            Error::Invalid { code, .. } | Error::Conflict { code, .. } => code,
            Error::Rejected { code, .. } => code,
            Error::NotFound(_) => "not_found",
            Error::SecretStore(_) => "keychain_unavailable",
            Error::Database(_) => "database_error",
            Error::Io(_) => "io_error",
        }
    }

    /// How the shells should treat it.
    pub fn class(&self) -> ExitClass {
        match self {
            Error::Invalid { .. } | Error::NotFound(_) | Error::Conflict { .. } => {
                ExitClass::BadInput
            }
            Error::Rejected { .. } => ExitClass::Rejected,
            Error::SecretStore(_) | Error::Database(_) | Error::Io(_) => ExitClass::Environment,
        }
    }
}

impl From<rusqlite::Error> for Error {
    fn from(e: rusqlite::Error) -> Self {
        Error::Database(database_message(&e))
    }
}

/// Turns a SQLite error into an actionable one-line message. SQLite errors
/// carry SQL text and values at most; secrets never reach SQL parameters.
pub(crate) fn database_message(e: &rusqlite::Error) -> String {
    use rusqlite::ErrorCode as C;
    if let rusqlite::Error::SqliteFailure(f, _) = e {
        let what = match f.code {
            C::ReadOnly => "the vault database is read-only: check the permissions of the vault directory and its files",
            C::DiskFull => "the disk holding the vault database is full: free some space and retry",
            // A full tmpfs (or a failing disk) surfaces as an I/O error, not SQLITE_FULL.
            C::SystemIoFailure => "the vault database could not be written (disk I/O error): check that its disk is not full or failing, free some space and retry",
            C::DatabaseBusy | C::DatabaseLocked => "the vault database stayed locked by another Keyward process: retry when it has finished",
            C::NotADatabase | C::DatabaseCorrupt => "the vault database is corrupted: restore it from a backup (the keychain still holds the secrets)",
            C::CannotOpen => "the vault database cannot be opened: check that the vault directory exists and is writable",
            C::PermissionDenied => "permission denied on the vault database: check the vault directory's permissions",
            _ => return format!("vault database error: {e}"),
        };
        return what.to_string();
    }
    format!("vault database error: {e}")
}

/// Shorthand for core results.
pub type Result<T, E = Error> = std::result::Result<T, E>;
