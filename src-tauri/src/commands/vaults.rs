//! The vault switcher: the vaults the app knows (the personal default and
//! every vault the user added), switching between them, adding one from a
//! folder dialog, and the open vault's backend status (OS keychain, or
//! OpenBao's address, seal and leader).
//!
//! Listing and status never open a vault: a team vault whose OpenBao is
//! down still shows, with the reason and what to do.

use crate::files::ask_folder;
use crate::startup::StartupDue;
use crate::vault_access::{run_with_timeout, VaultLocation};
use crate::{IpcError, VaultAccess};
use keyward_core::team::BackendStatus;
use keyward_core::vault::known::{forget_vault, known_vaults, KnownVault, VaultKind};
use keyward_core::vault::{Source, Vault, VaultOptions};
use serde::Serialize;
use std::path::{Path, PathBuf};
use tauri::{AppHandle, State};
use ts_rs::TS;

/// The switcher's contents.
#[derive(Debug, Clone, Serialize, TS)]
pub struct VaultList {
    pub vaults: Vec<KnownVault>,
    /// The open vault's directory.
    #[ts(type = "string")]
    pub open: PathBuf,
    /// True when `KEYWARD_VAULT` decides the vault (switching is refused).
    pub from_env: bool,
}

fn refuse_when_from_env(vault: &VaultAccess) -> Result<VaultLocation, IpcError> {
    let loc = vault.location()?;
    if loc.from_env {
        return Err(IpcError::new(
            "vault_from_env",
            "KEYWARD_VAULT selects the vault: unset it to switch vaults here",
        ));
    }
    Ok(loc)
}

/// The known vaults and which one is open (reads only their `team.json`).
#[tauri::command]
pub async fn list_vaults(vault: State<'_, VaultAccess>) -> Result<VaultList, IpcError> {
    let loc = vault.location()?;
    Ok(VaultList {
        vaults: known_vaults(Some(&loc.dir)),
        open: loc.dir,
        from_env: loc.from_env,
    })
}

/// Switches to a vault of the list (remembered for the next start) and
/// runs the start-up step on it: the session is opened and what is due is
/// applied, as at start (its report: `startup_due`).
#[tauri::command]
pub async fn switch_vault(
    app: AppHandle,
    vault: State<'_, VaultAccess>,
    due: State<'_, StartupDue>,
    dir: String,
) -> Result<VaultLocation, IpcError> {
    let open = refuse_when_from_env(&vault)?;
    let dir = PathBuf::from(dir);
    if !known_vaults(Some(&open.dir)).iter().any(|v| v.dir == dir) {
        return Err(IpcError::new(
            "unknown_vault",
            format!(
                "{} is not in the vault list: add it with \"Add a vault folder\"",
                dir.display()
            ),
        ));
    }
    Ok(opened(app, &due, vault.switch_to(dir)?))
}

/// A switch done: the vault opened gets the start-up step.
fn opened(app: AppHandle, due: &StartupDue, loc: VaultLocation) -> VaultLocation {
    due.spawn(app, Ok(loc.clone()));
    loc
}

/// Picks a vault folder in a dialog, adds it to the list and switches to
/// it. A folder without `team.json` is opened once (which creates a new
/// personal vault, or fails with the reason); a team vault's folder is
/// taken as it is, so an OpenBao that is down does not keep it out of the
/// list (its status says what is wrong). Then the start-up step runs on it,
/// as for a switch. `None`: cancelled.
#[tauri::command]
pub async fn choose_vault(
    app: AppHandle,
    vault: State<'_, VaultAccess>,
    due: State<'_, StartupDue>,
) -> Result<Option<VaultLocation>, IpcError> {
    refuse_when_from_env(&vault)?;
    let Some(dir) = ask_folder(&app, "Choose a vault folder").await? else {
        return Ok(None);
    };
    if KnownVault::describe(&dir, false).kind == VaultKind::Personal {
        let probe = dir.clone();
        run_with_timeout(move || {
            Vault::open(VaultOptions::new(probe, Source::Desktop)).map(|_| ())
        })
        .await?;
    }
    Ok(Some(opened(app, &due, vault.switch_to(dir)?)))
}

/// Removes a vault from the list; its files stay where they are.
#[tauri::command]
pub async fn forget_vault_entry(
    vault: State<'_, VaultAccess>,
    dir: String,
) -> Result<VaultList, IpcError> {
    let open = refuse_when_from_env(&vault)?;
    forget_vault(Path::new(&dir), &open.dir)?;
    list_vaults(vault).await
}

/// The open vault's backend: the OS keychain, or OpenBao's address, seal
/// state, version and leader (asked without a token; never opens the vault).
#[tauri::command]
pub async fn backend_status(vault: State<'_, VaultAccess>) -> Result<BackendStatus, IpcError> {
    let dir = vault.location()?.dir;
    run_with_timeout(move || Ok(keyward_core::team::status(&dir))).await
}
