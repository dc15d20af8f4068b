//! Where the app's vault is, and how commands reach it without blocking the
//! UI: each call opens the vault on a worker thread and gives up waiting
//! after [`TIMEOUT`].
//!
//! Opening per call keeps no connection or keychain handle alive between
//! commands (a SQLite open is a millisecond), and means a worker stuck on a
//! keychain prompt holds no lock that the next command would wait on.

use crate::IpcError;
use keyward_core::vault::known::{chosen_vault, remember_vault};
use keyward_core::vault::{default_dir, Source, Vault, VaultOptions};
use serde::Serialize;
use std::path::PathBuf;
use std::sync::{mpsc, RwLock};
use std::time::Duration;
use ts_rs::TS;

/// How long a command waits for the vault. A locked keyring may show an
/// unlock prompt and block the keychain call until the user answers.
pub const TIMEOUT: Duration = Duration::from_secs(30);

/// Where the vault lives.
#[derive(Debug, Clone, Serialize, TS)]
pub struct VaultLocation {
    /// The data directory.
    #[ts(type = "string")]
    pub dir: PathBuf,
    /// True when it came from `KEYWARD_VAULT` rather than the platform default
    /// or the user's choice in the app.
    pub from_env: bool,
}

/// Tauri state: the vault's location, or why there is none.
pub struct VaultAccess {
    location: RwLock<Result<VaultLocation, IpcError>>,
}

impl VaultAccess {
    /// `KEYWARD_VAULT` when set and not empty (as the CLI reads it), else the
    /// vault last chosen in the app, else the platform's default directory.
    pub fn from_env() -> Self {
        let location = match std::env::var_os("KEYWARD_VAULT").filter(|v| !v.is_empty()) {
            Some(dir) => Ok(VaultLocation {
                dir: dir.into(),
                from_env: true,
            }),
            None => match chosen_vault() {
                Some(dir) => Ok(VaultLocation {
                    dir,
                    from_env: false,
                }),
                None => default_dir()
                    .map(|dir| VaultLocation {
                        dir,
                        from_env: false,
                    })
                    .map_err(IpcError::from),
            },
        };
        VaultAccess {
            location: RwLock::new(location),
        }
    }

    /// The vault's location, or the reason it has none.
    pub fn location(&self) -> Result<VaultLocation, IpcError> {
        match self.location.read() {
            Ok(l) => l.clone(),
            Err(_) => Err(IpcError::new(
                "internal",
                "the vault location is unreadable",
            )),
        }
    }

    /// Switches to the vault in `dir` (remembered for the next start). The
    /// caller then runs the opening step on it ([`crate::startup::StartupDue`]).
    pub fn switch_to(&self, dir: PathBuf) -> Result<VaultLocation, IpcError> {
        remember_vault(&dir)?;
        let loc = VaultLocation {
            dir,
            from_env: false,
        };
        if let Ok(mut l) = self.location.write() {
            *l = Ok(loc.clone());
        }
        Ok(loc)
    }

    /// Opens the vault on a worker thread and runs `job` there.
    pub async fn with_vault<T, F>(&self, job: F) -> Result<T, IpcError>
    where
        T: Send + 'static,
        F: FnOnce(&mut Vault) -> keyward_core::Result<T> + Send + 'static,
    {
        let dir = self.location()?.dir;
        run_with_timeout(move || {
            let mut v = Vault::open(VaultOptions::new(dir, Source::Desktop))?;
            job(&mut v)
        })
        .await
    }
}

/// Runs `job` on a fresh thread and waits for it at most [`TIMEOUT`].
pub async fn run_with_timeout<T, F>(job: F) -> Result<T, IpcError>
where
    T: Send + 'static,
    F: FnOnce() -> keyward_core::Result<T> + Send + 'static,
{
    run_on_worker(TIMEOUT, move || job().map_err(IpcError::from)).await
}

/// Runs `job` on a fresh thread and waits for it at most `timeout`.
pub async fn run_on_worker<T, F>(timeout: Duration, job: F) -> Result<T, IpcError>
where
    T: Send + 'static,
    F: FnOnce() -> Result<T, IpcError> + Send + 'static,
{
    let (tx, rx) = mpsc::sync_channel(1);
    std::thread::Builder::new()
        .name("keyward-vault".into())
        .spawn(move || {
            // The receiver is gone when the command already timed out.
            let _ = tx.send(job());
        })
        .map_err(|e| IpcError::new("internal", format!("cannot start a worker thread: {e}")))?;
    let waited = tauri::async_runtime::spawn_blocking(move || rx.recv_timeout(timeout))
        .await
        .map_err(|e| IpcError::new("internal", format!("the vault worker failed: {e}")))?;
    match waited {
        Ok(result) => result,
        Err(mpsc::RecvTimeoutError::Timeout) => Err(IpcError::new(
            "timeout",
            format!(
                "the vault did not answer within {} s: the OS keychain may be waiting to be unlocked; unlock it and retry",
                timeout.as_secs()
            ),
        )),
        Err(mpsc::RecvTimeoutError::Disconnected) => Err(IpcError::new(
            "internal",
            "the vault worker stopped without an answer (it panicked): see the app's log and retry",
        )),
    }
}
