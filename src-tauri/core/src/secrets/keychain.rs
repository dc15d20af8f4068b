//! The OS keychain through the `keyring` crate: Secret Service on Linux,
//! Keychain on macOS, Credential Manager on Windows.
//!
//! One keychain item per key version: service `keyward:<vault id>`, account
//! `<key id>/v<version>`. Errors name the entry and the cause, never the secret.

use super::SecretStore;
use crate::error::{Error, Result};
use crate::secret::SecretBytes;

/// The OS keychain, namespaced by vault id.
pub struct KeychainStore {
    service: String,
}

impl KeychainStore {
    /// A store for the vault `vault_id`.
    pub fn new(vault_id: &str) -> Self {
        KeychainStore {
            service: format!("keyward:{vault_id}"),
        }
    }

    /// The keychain service name of this vault's entries.
    pub fn service(&self) -> &str {
        &self.service
    }

    fn entry(&self, name: &str) -> Result<keyring::Entry> {
        keyring::Entry::new(&self.service, name).map_err(|e| map_err(e, name))
    }
}

/// What to tell the user for each keyring failure.
fn map_err(e: keyring::Error, entry: &str) -> Error {
    use keyring::Error as K;
    let hint = "start and unlock your login keyring (on Linux a Secret Service such as gnome-keyring or KWallet must be running), then retry";
    match e {
        K::NoStorageAccess(inner) => Error::SecretStore(format!(
            "the OS keychain refused access to entry {entry} ({inner}): it may be locked; {hint}"
        )),
        K::PlatformFailure(inner) => Error::SecretStore(format!(
            "the OS keychain is unavailable ({}): {hint}",
            one_line(&inner.to_string())
        )),
        K::TooLong(what, max) => Error::SecretStore(format!(
            "the OS keychain rejected entry {entry}: its {what} exceeds {max}"
        )),
        K::Invalid(what, why) => Error::SecretStore(format!(
            "the OS keychain rejected entry {entry}: invalid {what} ({why})"
        )),
        K::Ambiguous(_) => Error::SecretStore(format!(
            "the OS keychain holds several items for entry {entry}: remove the duplicates with your keychain tool, then run `keyward vault check`"
        )),
        K::BadEncoding(_) => Error::SecretStore(format!(
            "the OS keychain item {entry} is not in the expected encoding"
        )),
        K::NoEntry => Error::SecretStore(format!("the OS keychain has no entry {entry}")),
        other => Error::SecretStore(format!(
            "the OS keychain failed on entry {entry} ({}): {hint}",
            one_line(&other.to_string())
        )),
    }
}

fn one_line(s: &str) -> String {
    s.lines().next().unwrap_or("").to_string()
}

impl SecretStore for KeychainStore {
    fn backend(&self) -> &'static str {
        if cfg!(target_os = "macos") {
            "macos-keychain"
        } else if cfg!(windows) {
            "windows-credential-manager"
        } else {
            "secret-service"
        }
    }

    fn probe(&self) -> Result<()> {
        // Reading a name that never exists reaches the store (and finds it
        // locked or missing) without touching any real entry.
        match self.entry("probe")?.get_secret() {
            Ok(_) | Err(keyring::Error::NoEntry) => Ok(()),
            Err(e) => Err(map_err(e, "probe")),
        }
    }

    fn put(&self, entry: &str, secret: &SecretBytes) -> Result<()> {
        self.entry(entry)?
            .set_secret(secret.expose())
            .map_err(|e| map_err(e, entry))
    }

    fn get(&self, entry: &str) -> Result<Option<SecretBytes>> {
        match self.entry(entry)?.get_secret() {
            Ok(bytes) => Ok(Some(SecretBytes::new(bytes))),
            Err(keyring::Error::NoEntry) => Ok(None),
            Err(e) => Err(map_err(e, entry)),
        }
    }

    fn delete(&self, entry: &str) -> Result<bool> {
        match self.entry(entry)?.delete_credential() {
            Ok(()) => Ok(true),
            Err(keyring::Error::NoEntry) => Ok(false),
            Err(e) => Err(map_err(e, entry)),
        }
    }

    fn list(&self) -> Result<Option<Vec<String>>> {
        list_entries(&self.service)
    }
}

/// Enumerates this vault's items through the Secret Service search API (the
/// `keyring` crate cannot enumerate).
#[cfg(target_os = "linux")]
fn list_entries(service: &str) -> Result<Option<Vec<String>>> {
    use dbus_secret_service::{EncryptionType, SecretService};
    use std::collections::HashMap;
    let unavailable = |e: dbus_secret_service::Error| {
        Error::SecretStore(format!(
            "the OS keychain could not be searched ({}): start and unlock your login keyring, then retry",
            one_line(&e.to_string())
        ))
    };
    let ss = SecretService::connect(EncryptionType::Dh).map_err(unavailable)?;
    // A locked collection (or a daemon restarted without unlocking it) hides
    // its items from a search: listing it would report every secret as lost.
    let locked = || {
        Error::SecretStore(
            "the OS keychain is locked, so its entries cannot be listed: unlock your login keyring, then retry".into(),
        )
    };
    let collection = ss.get_default_collection().map_err(|_| locked())?;
    if collection.is_locked().map_err(unavailable)? {
        return Err(locked());
    }
    let found = ss
        .search_items(HashMap::from([("service", service)]))
        .map_err(unavailable)?;
    let mut names = Vec::new();
    for item in found.unlocked.iter().chain(found.locked.iter()) {
        let attrs = match item.get_attributes() {
            Ok(a) => a,
            // Deleted by another process since the search: it is gone.
            Err(e) if vanished(&e) => continue,
            Err(e) => return Err(unavailable(e)),
        };
        if let Some(user) = attrs.get("username") {
            names.push(user.clone());
        }
    }
    names.sort();
    names.dedup();
    Ok(Some(names))
}

/// Whether a Secret Service error means the item no longer exists.
#[cfg(target_os = "linux")]
fn vanished(e: &dbus_secret_service::Error) -> bool {
    let text = e.to_string();
    [
        "No such interface",
        "UnknownObject",
        "No such object",
        "does not exist",
    ]
    .iter()
    .any(|m| text.contains(m))
}

#[cfg(not(target_os = "linux"))]
fn list_entries(_service: &str) -> Result<Option<Vec<String>>> {
    Ok(None)
}
