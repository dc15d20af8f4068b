//! Where secret material lives: a [`SecretStore`] — the OS keychain for a
//! personal vault ([`keychain::KeychainStore`]), OpenBao's KV v2 engine for a
//! team vault ([`openbao::OpenBaoStore`]).
//!
//! Entries are named `<key id>/v<version>` inside a namespace that is the
//! vault's id, so two vaults never collide. A store never logs, and its
//! errors never carry secret bytes.

pub mod keychain;
pub mod openbao;

use crate::error::Result;
use crate::secret::SecretBytes;

/// A place that keeps secret bytes under entry names.
pub trait SecretStore: Send + Sync {
    /// A short name of the backend, for `vault info` ("secret-service", "macos-keychain"...).
    fn backend(&self) -> &'static str;

    /// Checks that the store is reachable and unlocked; the error says what to do.
    fn probe(&self) -> Result<()>;

    /// Stores `secret` under `entry`, replacing any previous value.
    fn put(&self, entry: &str, secret: &SecretBytes) -> Result<()>;

    /// Reads `entry`; `None` when it does not exist.
    fn get(&self, entry: &str) -> Result<Option<SecretBytes>>;

    /// Deletes `entry`; `false` when it did not exist.
    fn delete(&self, entry: &str) -> Result<bool>;

    /// Every entry name in this vault's namespace, or `None` when the backend
    /// cannot enumerate (then only entries the database knows can be checked).
    fn list(&self) -> Result<Option<Vec<String>>>;
}

/// The entry name of a key version.
pub fn entry_name(key_id: &str, version: u32) -> String {
    format!("{key_id}/v{version}")
}
