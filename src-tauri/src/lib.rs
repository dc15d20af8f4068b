//! Keyward's desktop shell: a Tauri window over `keyward-core`.
//!
//! This crate owns the window, the IPC commands, the clipboard, the native
//! dialogs and the mapping of core errors to `{code, message}`. It holds no
//! behaviour of its own: every command parses its input, calls the core's
//! [`Vault`](keyward_core::Vault) and shapes the output. A secret crosses
//! IPC only when the user reveals it; copy and export go from Rust to the
//! clipboard or a file.

mod clipboard;
mod commands;
mod files;
mod harden;
mod ipc_error;
mod once;
mod startup;
mod vault_access;

#[cfg(test)]
mod bindings;

pub use ipc_error::IpcError;
pub use vault_access::VaultAccess;

use tauri::Manager;

/// Every command the window may call, by name (the ACL test reads this).
#[cfg(test)]
pub(crate) const COMMANDS: &[&str] = &[
    "vault_status",
    "get_settings",
    "save_settings",
    "choose_vault",
    "list_vaults",
    "switch_vault",
    "forget_vault_entry",
    "backend_status",
    "team_join_defaults",
    "pick_path",
    "join_team_vault",
    "startup_due",
    "due_report",
    "apply_due",
    "pick_folder",
    "scan_path",
    "list_keys",
    "show_key",
    "key_last_change",
    "create_key",
    "import_key",
    "rotate_key",
    "promote_key",
    "revoke_key",
    "disable_key",
    "enable_key",
    "delete_key",
    "restore_key",
    "set_policy",
    "reveal_key",
    "copy_key_secret",
    "reveal_new_secret",
    "copy_new_secret",
    "forget_new_secret",
    "export_key",
    "inspect_token",
    "verify_token",
    "sign_token",
    "copy_text",
    "weak_secret_check",
    "cancel_job",
    "audit_bounds",
    "audit_page",
    "audit_actions",
    "audit_verify",
    "export_audit",
    "check_vault",
    "repair_vault",
];

/// Starts the desktop app and returns when its last window closes.
#[cfg_attr(mobile, tauri::mobile_entry_point)]
pub fn run() {
    harden::disable_core_dumps();
    let startup = startup::StartupDue::default();
    let clipboard = clipboard::Clipboard::default();
    let app = tauri::Builder::default()
        .plugin(tauri_plugin_dialog::init())
        .plugin(tauri_plugin_notification::init())
        .manage(VaultAccess::from_env())
        .manage(once::OnceSecrets::default())
        .manage(commands::tokens::Jobs::default())
        .manage(clipboard.clone())
        .manage(startup.clone())
        .setup(move |app| {
            startup.spawn(app.handle().clone(), app.state::<VaultAccess>().location());
            Ok(())
        })
        .invoke_handler(tauri::generate_handler![
            commands::app::vault_status,
            commands::app::get_settings,
            commands::app::save_settings,
            commands::vaults::choose_vault,
            commands::vaults::list_vaults,
            commands::vaults::switch_vault,
            commands::vaults::forget_vault_entry,
            commands::vaults::backend_status,
            commands::vaults::team_join_defaults,
            commands::vaults::pick_path,
            commands::vaults::join_team_vault,
            commands::app::startup_due,
            commands::app::due_report,
            commands::app::apply_due,
            commands::app::pick_folder,
            commands::app::scan_path,
            commands::keys::list_keys,
            commands::keys::show_key,
            commands::keys::key_last_change,
            commands::keys::create_key,
            commands::keys::import_key,
            commands::keys::rotate_key,
            commands::keys::promote_key,
            commands::keys::revoke_key,
            commands::keys::disable_key,
            commands::keys::enable_key,
            commands::keys::delete_key,
            commands::keys::restore_key,
            commands::keys::set_policy,
            commands::keys::reveal_key,
            commands::keys::copy_key_secret,
            commands::keys::reveal_new_secret,
            commands::keys::copy_new_secret,
            commands::keys::forget_new_secret,
            commands::keys::export_key,
            commands::tokens::inspect_token,
            commands::tokens::verify_token,
            commands::tokens::sign_token,
            commands::tokens::copy_text,
            commands::tokens::weak_secret_check,
            commands::tokens::cancel_job,
            commands::audit::audit_bounds,
            commands::audit::audit_page,
            commands::audit::audit_actions,
            commands::audit::audit_verify,
            commands::audit::export_audit,
            commands::health::check_vault,
            commands::health::repair_vault,
        ])
        .build(tauri::generate_context!());
    let app = match app {
        Ok(app) => app,
        Err(e) => {
            // Only start-up can fail here (no display, no webview runtime): no
            // window exists to show it in.
            eprintln!("keyward-desktop: cannot start the app: {e}");
            std::process::exit(1);
        }
    };
    app.run(move |_, event| {
        if let tauri::RunEvent::Exit = event {
            // A secret copied moments ago should not outlive the app.
            clipboard.clear_ours();
        }
    });
}
