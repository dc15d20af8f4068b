//! App-wide commands: where the vault is, settings, what is due (and what
//! the app applied at start), and the leak scanner. Switching vaults is in
//! `vaults`.

use crate::files::ask_folder;
use crate::startup::StartupDue;
use crate::{IpcError, VaultAccess};
use keyward_core::scan::{self, KeyLookup, ScanOptions, ScanReport};
use keyward_core::vault::desktop::DesktopSettings;
use keyward_core::vault::{DueReport, VaultInfo};
use serde::Serialize;
use std::path::PathBuf;
use tauri::{AppHandle, State};
use ts_rs::TS;

/// `vault info` plus where the location came from.
#[derive(Debug, Serialize, TS)]
pub struct VaultStatus {
    /// True when the vault directory came from `KEYWARD_VAULT`.
    pub from_env: bool,
    #[serde(flatten)]
    pub info: VaultInfo,
}

/// Where the vault is and whether the keychain answers (probes the keychain).
#[tauri::command]
pub async fn vault_status(vault: State<'_, VaultAccess>) -> Result<VaultStatus, IpcError> {
    let from_env = vault.location()?.from_env;
    let info = vault.with_vault(|v| v.info()).await?;
    Ok(VaultStatus { from_env, info })
}

/// This vault's desktop settings.
#[tauri::command]
pub async fn get_settings(vault: State<'_, VaultAccess>) -> Result<DesktopSettings, IpcError> {
    vault.with_vault(|v| v.desktop_settings()).await
}

/// Validates and saves the settings (audited).
#[tauri::command]
pub async fn save_settings(
    vault: State<'_, VaultAccess>,
    settings: DesktopSettings,
) -> Result<DesktopSettings, IpcError> {
    vault
        .with_vault(move |v| {
            v.save_desktop_settings(&settings)?;
            v.desktop_settings()
        })
        .await
}

/// What the app applied at start (waits for the start-up check to finish).
#[tauri::command]
pub async fn startup_due(state: State<'_, StartupDue>) -> Result<DueReport, IpcError> {
    let s = state.inner().clone();
    crate::vault_access::run_on_worker(crate::vault_access::TIMEOUT, move || s.wait()).await
}

/// What is due within the settings' window (read-only).
#[tauri::command]
pub async fn due_report(vault: State<'_, VaultAccess>) -> Result<DueReport, IpcError> {
    vault
        .with_vault(|v| {
            let within = v.desktop_settings()?.due_window();
            v.due(within, false)
        })
        .await
}

/// Performs the due rotations and destructions now (audited, actor
/// `system`); the report lists what is still due afterwards.
#[tauri::command]
pub async fn apply_due(vault: State<'_, VaultAccess>) -> Result<DueReport, IpcError> {
    vault.with_vault(|v| v.apply_due_now()).await
}

/// A folder dialog for the scan view (`None`: cancelled).
#[tauri::command]
pub async fn pick_folder(app: AppHandle) -> Result<Option<String>, IpcError> {
    Ok(ask_folder(&app, "Choose a folder to scan")
        .await?
        .map(|p| p.display().to_string()))
}

/// Scans `path` for leaked credentials; Keyward keys are named through the vault.
#[tauri::command]
pub async fn scan_path(
    vault: State<'_, VaultAccess>,
    path: String,
) -> Result<ScanReport, IpcError> {
    vault
        .with_vault(move |v| {
            let opts = ScanOptions::new(vec![PathBuf::from(path)]);
            scan::scan(&opts, Some(&*v as &dyn KeyLookup))
        })
        .await
}
