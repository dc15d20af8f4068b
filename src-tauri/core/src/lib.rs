//! Keyward's core: every behaviour of the credential manager, free of Tauri.
//!
//! The desktop app and the `keyward` CLI are thin shells over the [`Vault`]
//! façade, which owns the secret store (the OS keychain), the SQLite database
//! and the audit log, so no caller can change a key without its audit event.
//! The JWT engine ([`jwt`]) and key material handling ([`crypto`]) need no
//! vault and work on file keys too.

pub mod audit;
pub mod clock;
pub mod crack;
pub mod crypto;
pub mod db;
pub mod duration;
pub mod error;
pub mod failpoint;
pub mod hardening;
pub mod jwt;
pub mod keys;
pub mod scan;
pub mod secret;
pub mod secrets;
pub mod team;
pub mod vault;

pub use clock::{Clock, FixedClock, SystemClock};
pub use error::{Error, ExitClass, Result};
pub use secret::SecretBytes;
pub use vault::Vault;
