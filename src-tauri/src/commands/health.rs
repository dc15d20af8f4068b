//! Vault health: `vault check` and `vault check --repair` for the Settings
//! screen. The report names keys, versions and keychain entries, never a
//! secret; repair does only what the user confirmed (the core refuses when
//! a fresh check finds something the confirmed list lacks).

use crate::{IpcError, VaultAccess};
use keyward_core::vault::{CheckReport, Problem};
use tauri::State;

/// Compares the database with the keychain and the audit chain (audited as
/// `vault.check`).
#[tauri::command]
pub async fn check_vault(vault: State<'_, VaultAccess>) -> Result<CheckReport, IpcError> {
    vault.with_vault(|v| v.check(false)).await
}

/// Repairs the repairable problems of `confirmed` (what the confirm dialog
/// listed) and checks again; each repair is a `vault.repair` event.
#[tauri::command]
pub async fn repair_vault(
    vault: State<'_, VaultAccess>,
    confirmed: Vec<Problem>,
) -> Result<CheckReport, IpcError> {
    vault
        .with_vault(move |v| v.repair_confirmed(&confirmed))
        .await
}

#[cfg(test)]
mod tests {
    use keyward_core::vault::Problem;

    /// What crosses IPC for a problem: names and texts, no secret. A new
    /// field must be added here on purpose, after checking it cannot carry
    /// secret material.
    #[test]
    fn a_problem_carries_no_secret_field() {
        let p = Problem {
            kind: "orphan_entry".into(),
            key_id: Some("k_x".into()),
            version: Some(1),
            entry: Some("k_x/v1".into()),
            detail: "keychain entry k_x/v1 belongs to no key version of this vault".into(),
            repair: "delete keychain entry k_x/v1".into(),
            repairable: true,
        };
        let json = serde_json::to_value(&p).unwrap_or_default();
        let mut fields: Vec<&str> = json
            .as_object()
            .map(|o| o.keys().map(String::as_str).collect())
            .unwrap_or_default();
        fields.sort_unstable();
        assert_eq!(
            fields,
            [
                "detail",
                "entry",
                "key_id",
                "kind",
                "repair",
                "repairable",
                "version"
            ]
        );
    }
}
