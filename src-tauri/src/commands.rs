//! The IPC commands. Each is one call into the core; none returns a secret.
//! Adding one means registering it in `lib.rs`, giving it a permission in
//! `src-tauri/capabilities/app-commands.toml` and granting that in
//! `src-tauri/capabilities/main-window.json`.

use crate::{IpcError, VaultAccess};
use keyward_core::vault::{KeyFilter, KeySummary, VaultInfo};
use serde::Serialize;
use tauri::State;

/// Every key that is not destroyed, by name. Reads only the database.
#[tauri::command]
pub async fn list_keys(vault: State<'_, VaultAccess>) -> Result<Vec<KeySummary>, IpcError> {
    vault
        .with_vault(|v| v.list_keys(&KeyFilter::default()))
        .await
}

/// `vault info` plus where the location came from.
#[derive(Debug, Serialize)]
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
