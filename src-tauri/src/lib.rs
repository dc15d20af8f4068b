//! Keyward's desktop shell: a Tauri window over `keyward-core`.
//!
//! This crate owns the window, the IPC commands and the mapping of core
//! errors to `{code, message}`. It must hold no behaviour of its own: every
//! command is a one-liner into the core's [`Vault`](keyward_core::Vault), and
//! no secret crosses IPC in this phase of the app.

mod commands;
mod ipc_error;
mod vault_access;

pub use ipc_error::IpcError;
pub use vault_access::VaultAccess;

/// Starts the desktop app and returns when its last window closes.
#[cfg_attr(mobile, tauri::mobile_entry_point)]
pub fn run() {
    let result = tauri::Builder::default()
        .manage(VaultAccess::from_env())
        .invoke_handler(tauri::generate_handler![
            commands::list_keys,
            commands::vault_status
        ])
        .run(tauri::generate_context!());
    if let Err(e) = result {
        // Only start-up can fail here (no display, no webview runtime): no
        // window exists to show it in.
        eprintln!("keyward-desktop: cannot start the app: {e}");
        std::process::exit(1);
    }
}
