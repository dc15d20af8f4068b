//! The OS keychain through the `keyring` crate: Secret Service on Linux,
//! Keychain on macOS, Credential Manager on Windows.
//!
//! One keychain item per key version: service `keyward:<vault id>`, account
//! `<key id>/v<version>`. Errors name the entry and the cause, never the secret.
//!
//! On Linux the store talks to the Secret Service itself (`dbus-secret-service`,
//! the library under `keyring`), over one D-Bus connection and one encrypted
//! session per store, opened on first use. `keyring` 3 opens a new
//! connection and Diffie-Hellman session for every call (two for a write),
//! so a `key new` made four of each; gnome-keyring-daemon aborts now and then
//! when a client goes away during session negotiation (upstream bug, see
//! README "Reliability"), so fewer sessions mean fewer chances of it. Items
//! keep exactly `keyring`'s attributes and label, so vaults written before
//! (and `secret-tool`) see the same entries.

use super::SecretStore;
use crate::error::{Error, Result};
use crate::secret::SecretBytes;

/// The OS keychain, namespaced by vault id.
pub struct KeychainStore {
    service: String,
    #[cfg(target_os = "linux")]
    session: linux::Session,
}

impl KeychainStore {
    /// A store for the vault `vault_id`.
    pub fn new(vault_id: &str) -> Self {
        KeychainStore {
            service: format!("keyward:{vault_id}"),
            #[cfg(target_os = "linux")]
            session: linux::Session::default(),
        }
    }

    /// The keychain service name of this vault's entries.
    pub fn service(&self) -> &str {
        &self.service
    }

    #[cfg(not(target_os = "linux"))]
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

    #[cfg(target_os = "linux")]
    fn probe(&self) -> Result<()> {
        // Looking up a name that never exists reaches the store (and finds
        // it locked or missing) without touching any real entry.
        self.session
            .get(&self.service, "probe")
            .map(|_| ())
            .map_err(|e| map_err(e, "probe"))
    }

    #[cfg(target_os = "linux")]
    fn put(&self, entry: &str, secret: &SecretBytes) -> Result<()> {
        self.session
            .put(&self.service, entry, secret.expose())
            .map_err(|e| map_err(e, entry))
    }

    #[cfg(target_os = "linux")]
    fn get(&self, entry: &str) -> Result<Option<SecretBytes>> {
        self.session
            .get(&self.service, entry)
            .map(|found| found.map(SecretBytes::new))
            .map_err(|e| map_err(e, entry))
    }

    #[cfg(target_os = "linux")]
    fn delete(&self, entry: &str) -> Result<bool> {
        self.session
            .delete(&self.service, entry)
            .map_err(|e| map_err(e, entry))
    }

    #[cfg(not(target_os = "linux"))]
    fn probe(&self) -> Result<()> {
        // Reading a name that never exists reaches the store (and finds it
        // locked or missing) without touching any real entry.
        match self.entry("probe")?.get_secret() {
            Ok(_) | Err(keyring::Error::NoEntry) => Ok(()),
            Err(e) => Err(map_err(e, "probe")),
        }
    }

    #[cfg(not(target_os = "linux"))]
    fn put(&self, entry: &str, secret: &SecretBytes) -> Result<()> {
        self.entry(entry)?
            .set_secret(secret.expose())
            .map_err(|e| map_err(e, entry))
    }

    #[cfg(not(target_os = "linux"))]
    fn get(&self, entry: &str) -> Result<Option<SecretBytes>> {
        match self.entry(entry)?.get_secret() {
            Ok(bytes) => Ok(Some(SecretBytes::new(bytes))),
            Err(keyring::Error::NoEntry) => Ok(None),
            Err(e) => Err(map_err(e, entry)),
        }
    }

    #[cfg(not(target_os = "linux"))]
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

/// The Secret Service over one connection and session, with `keyring` 3's
/// item format and its answers (`NoEntry`, `Ambiguous`, `NoStorageAccess`
/// for a locked keyring or a dismissed prompt, `PlatformFailure` for the
/// rest), so [`map_err`] words every failure as before.
#[cfg(target_os = "linux")]
mod linux {
    use dbus_secret_service::{EncryptionType, Error as SsError, Item, SecretService};
    use std::collections::HashMap;
    use std::sync::Mutex;

    /// Why an operation on an open connection failed.
    enum Fail {
        Service(SsError),
        Ambiguous,
    }

    impl From<SsError> for Fail {
        fn from(e: SsError) -> Fail {
            Fail::Service(e)
        }
    }

    /// The connection and its encrypted session, opened on first use.
    #[derive(Default)]
    pub(super) struct Session(Mutex<Option<SecretService>>);

    impl Session {
        pub(super) fn get(
            &self,
            service: &str,
            user: &str,
        ) -> Result<Option<Vec<u8>>, keyring::Error> {
            self.with(|ss| match unique(ss, service, user)? {
                Some(item) => Ok(Some(item.get_secret()?)),
                None => Ok(None),
            })
        }

        pub(super) fn put(
            &self,
            service: &str,
            user: &str,
            secret: &[u8],
        ) -> Result<(), keyring::Error> {
            self.with(|ss| {
                if let Some(item) = unique(ss, service, user)? {
                    return Ok(item.set_secret(secret, "text/plain")?);
                }
                // As `keyring` does: unlock a locked default collection if
                // possible, and otherwise still ask the service to create
                // the item there (it answers for itself).
                let collection = ss.get_default_collection()?;
                if let Ok(true) = collection.is_locked() {
                    let _ = collection.unlock();
                }
                let label = format!("{user}@{service}:default (keyring v3.6.3)");
                let mut attributes = search_attributes(service, user);
                attributes.insert("application", "rust-keyring");
                collection.create_item(&label, attributes, secret, true, "text/plain")?;
                Ok(())
            })
        }

        pub(super) fn delete(&self, service: &str, user: &str) -> Result<bool, keyring::Error> {
            self.with(|ss| match unique(ss, service, user)? {
                Some(item) => {
                    item.delete()?;
                    Ok(true)
                }
                None => Ok(false),
            })
        }

        /// Runs `op` on the open connection, opening it first when needed.
        /// A connection whose daemon went away (it was restarted) is opened
        /// again once; any other failure is the answer.
        fn with<T>(
            &self,
            op: impl Fn(&SecretService) -> Result<T, Fail>,
        ) -> Result<T, keyring::Error> {
            let mut open = self.0.lock().unwrap_or_else(|p| p.into_inner());
            let mut reopened = false;
            loop {
                let ss = match open.take() {
                    Some(ss) => ss,
                    None => SecretService::connect(EncryptionType::Dh)
                        .map_err(|e| keyring::Error::PlatformFailure(Box::new(e)))?,
                };
                match op(&ss) {
                    Err(Fail::Service(e)) if !reopened && connection_lost(&e) => reopened = true,
                    result => {
                        *open = Some(ss);
                        return result.map_err(|f| match f {
                            Fail::Ambiguous => keyring::Error::Ambiguous(Vec::new()),
                            Fail::Service(e) => decode(e),
                        });
                    }
                }
            }
        }
    }

    /// `keyring`'s search for an entry: service, account and target.
    fn search_attributes<'a>(service: &'a str, user: &'a str) -> HashMap<&'a str, &'a str> {
        HashMap::from([
            ("service", service),
            ("username", user),
            ("target", "default"),
        ])
    }

    /// The one item of `service`/`user`, unlocked; as `keyring` finds it.
    /// When the search finds nothing, the default collection is searched
    /// again without the target, for items of keyring v1 — and that search
    /// also fails when the collection is locked or missing, which is how a
    /// locked keychain is told from one without the entry.
    fn unique<'a>(
        ss: &'a SecretService,
        service: &str,
        user: &str,
    ) -> Result<Option<Item<'a>>, Fail> {
        let found = ss.search_items(search_attributes(service, user))?;
        let mut items: Vec<Item<'a>> = found.unlocked;
        let locked = found.locked;
        if items.is_empty() && locked.is_empty() {
            let collection = ss.get_default_collection()?;
            let mut legacy = collection
                .search_items(HashMap::from([("service", service), ("username", user)]))?;
            if legacy.len() > 1 {
                return Err(Fail::Ambiguous);
            }
            // The collection's items borrow `ss`, not the collection.
            return Ok(legacy.pop().map(|i| Item::new(ss, i.path.clone())));
        }
        if items.len() + locked.len() > 1 {
            return Err(Fail::Ambiguous);
        }
        if let Some(item) = locked.into_iter().next() {
            item.unlock()?;
            items.push(item);
        }
        Ok(items.pop())
    }

    /// `keyring`'s classification of Secret Service errors.
    fn decode(e: SsError) -> keyring::Error {
        match e {
            SsError::Locked | SsError::NoResult | SsError::Prompt => {
                keyring::Error::NoStorageAccess(Box::new(e))
            }
            _ => keyring::Error::PlatformFailure(Box::new(e)),
        }
    }

    /// Whether the daemon behind this connection is gone: it died (and D-Bus
    /// may have started another, which knows nothing of this session), or
    /// the bus dropped the connection.
    fn connection_lost(e: &SsError) -> bool {
        let SsError::Dbus(e) = e else {
            return false;
        };
        matches!(
            e.name(),
            Some(
                "org.freedesktop.DBus.Error.NoReply"
                    | "org.freedesktop.DBus.Error.Disconnected"
                    | "org.freedesktop.DBus.Error.ServiceUnknown"
                    | "org.freedesktop.DBus.Error.NameHasNoOwner"
                    | "org.freedesktop.DBus.Error.UnknownObject"
                    | "org.freedesktop.DBus.Error.UnknownMethod"
                    | "org.freedesktop.Secret.Error.NoSession"
            )
        )
    }
}
