//! Where the app's vault is, and how commands reach it without blocking the
//! UI: each call opens the vault on a worker thread and gives up waiting
//! after [`TIMEOUT`].
//!
//! Opening per call keeps no connection or keychain handle alive between
//! commands (a SQLite open is a millisecond), and means a worker stuck on a
//! keychain prompt holds no lock that the next command would wait on.

use crate::IpcError;
use keyward_core::vault::{default_dir, Source, Vault, VaultOptions};
use std::path::PathBuf;
use std::sync::mpsc;
use std::time::Duration;

/// How long a command waits for the vault. A locked keyring may show an
/// unlock prompt and block the keychain call until the user answers.
pub const TIMEOUT: Duration = Duration::from_secs(30);

/// Where the vault lives, decided once at start.
#[derive(Debug, Clone)]
pub struct VaultLocation {
    /// The data directory.
    pub dir: PathBuf,
    /// True when it came from `KEYWARD_VAULT` rather than the platform default.
    pub from_env: bool,
}

/// Tauri state: the vault's location, or why there is none.
pub struct VaultAccess {
    location: Result<VaultLocation, IpcError>,
}

impl VaultAccess {
    /// `KEYWARD_VAULT` when set and not empty (as the CLI reads it), else the
    /// platform's default directory.
    pub fn from_env() -> Self {
        let location = match std::env::var_os("KEYWARD_VAULT").filter(|v| !v.is_empty()) {
            Some(dir) => Ok(VaultLocation {
                dir: dir.into(),
                from_env: true,
            }),
            None => default_dir()
                .map(|dir| VaultLocation {
                    dir,
                    from_env: false,
                })
                .map_err(IpcError::from),
        };
        VaultAccess { location }
    }

    /// The vault's location, or the reason it has none.
    pub fn location(&self) -> Result<&VaultLocation, IpcError> {
        self.location.as_ref().map_err(Clone::clone)
    }

    /// Opens the vault on a worker thread and runs `job` there.
    pub async fn with_vault<T, F>(&self, job: F) -> Result<T, IpcError>
    where
        T: Send + 'static,
        F: FnOnce(&Vault) -> keyward_core::Result<T> + Send + 'static,
    {
        let dir = self.location()?.dir.clone();
        let (tx, rx) = mpsc::sync_channel(1);
        std::thread::Builder::new()
            .name("keyward-vault".into())
            .spawn(move || {
                let result =
                    Vault::open(VaultOptions::new(dir, Source::Desktop)).and_then(|v| job(&v));
                // The receiver is gone when the command already timed out.
                let _ = tx.send(result);
            })
            .map_err(|e| IpcError::new("internal", format!("cannot start a worker thread: {e}")))?;
        let waited = tauri::async_runtime::spawn_blocking(move || rx.recv_timeout(TIMEOUT))
            .await
            .map_err(|e| IpcError::new("internal", format!("the vault worker failed: {e}")))?;
        match waited {
            Ok(result) => result.map_err(IpcError::from),
            Err(mpsc::RecvTimeoutError::Timeout) => Err(IpcError::new(
                "timeout",
                format!(
                    "the vault did not answer within {} s: the OS keychain may be waiting to be unlocked; unlock it and retry",
                    TIMEOUT.as_secs()
                ),
            )),
            Err(mpsc::RecvTimeoutError::Disconnected) => Err(IpcError::new(
                "internal",
                "the vault worker stopped without an answer (it panicked): see the app's log and retry",
            )),
        }
    }
}
