//! Native file dialogs and file writes for exports: the user picks the path
//! in the OS dialog, Rust writes the file, and the webview only learns the
//! path. Private key files are created owner-only (0600 on Unix).
//!
//! Debug builds honour `KEYWARD_DESKTOP_TEST_SAVE_DIR`,
//! `KEYWARD_DESKTOP_TEST_PICK_DIR` and `KEYWARD_DESKTOP_TEST_PICK_FILE` in
//! place of the dialogs, so the end-to-end tests can export, scan and join
//! a team vault without driving a GTK dialog; release builds ignore them.

use crate::vault_access::run_on_worker;
use crate::IpcError;
use serde::Serialize;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Duration;
use tauri::{AppHandle, Wry};
use tauri_plugin_dialog::{DialogExt, FileDialogBuilder, FilePath};
use ts_rs::TS;

/// A dialog waits for the user: give them time.
const DIALOG_TIMEOUT: Duration = Duration::from_secs(30 * 60);

/// Where an export went.
#[derive(Debug, Clone, Serialize, TS)]
pub struct Saved {
    pub path: String,
    pub bytes: u64,
}

fn test_dir(var: &str) -> Option<PathBuf> {
    if cfg!(debug_assertions) {
        std::env::var_os(var)
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
    } else {
        None
    }
}

/// Asks where to save `suggested` (`None`: the user cancelled).
pub async fn ask_save_path(
    app: &AppHandle,
    suggested: &str,
    filter: (&str, &[&str]),
) -> Result<Option<PathBuf>, IpcError> {
    if let Some(dir) = test_dir("KEYWARD_DESKTOP_TEST_SAVE_DIR") {
        return Ok(Some(dir.join(suggested)));
    }
    let app = app.clone();
    let suggested = suggested.to_string();
    let (name, exts) = (
        filter.0.to_string(),
        filter.1.iter().map(|e| e.to_string()).collect::<Vec<_>>(),
    );
    run_on_worker(DIALOG_TIMEOUT, move || {
        let exts: Vec<&str> = exts.iter().map(String::as_str).collect();
        let picked = app
            .dialog()
            .file()
            .set_title("Export")
            .set_file_name(&suggested)
            .add_filter(&name, &exts)
            .blocking_save_file();
        local_path(picked)
    })
    .await
}

/// What a dialog returned, as a local path (`None`: the user cancelled).
fn local_path(picked: Option<FilePath>) -> Result<Option<PathBuf>, IpcError> {
    picked
        .map(|p| {
            p.into_path()
                .map_err(|e| IpcError::new("io_error", format!("unusable path: {e}")))
        })
        .transpose()
}

/// Runs a pick dialog titled `title` on a worker thread (in debug builds,
/// `test_var` names a path to return instead).
async fn ask_pick(
    app: &AppHandle,
    title: &str,
    test_var: &str,
    pick: fn(FileDialogBuilder<Wry>) -> Option<FilePath>,
) -> Result<Option<PathBuf>, IpcError> {
    if let Some(path) = test_dir(test_var) {
        return Ok(Some(path));
    }
    let app = app.clone();
    let title = title.to_string();
    run_on_worker(DIALOG_TIMEOUT, move || {
        local_path(pick(app.dialog().file().set_title(&title)))
    })
    .await
}

/// Asks for a folder (`None`: the user cancelled).
pub async fn ask_folder(app: &AppHandle, title: &str) -> Result<Option<PathBuf>, IpcError> {
    ask_pick(app, title, "KEYWARD_DESKTOP_TEST_PICK_DIR", |d| {
        d.blocking_pick_folder()
    })
    .await
}

/// Asks for an existing file (`None`: the user cancelled). Only its path
/// reaches the caller: the file is read by Rust, when needed.
pub async fn ask_file(app: &AppHandle, title: &str) -> Result<Option<PathBuf>, IpcError> {
    ask_pick(app, title, "KEYWARD_DESKTOP_TEST_PICK_FILE", |d| {
        d.blocking_pick_file()
    })
    .await
}

/// Writes `bytes` to `path`; `private` files are created readable by the owner only.
pub fn write_file(path: &Path, bytes: &[u8], private: bool) -> Result<Saved, IpcError> {
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create(true).truncate(true);
    #[cfg(unix)]
    if private {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    #[cfg(not(unix))]
    let _ = private;
    let fail = |e: std::io::Error| {
        IpcError::new(
            "io_error",
            format!(
                "cannot write {} ({e}): choose another place",
                path.display()
            ),
        )
    };
    let mut f = opts.open(path).map_err(fail)?;
    // An existing file keeps its mode on open: tighten it before writing.
    #[cfg(unix)]
    if private {
        use std::os::unix::fs::PermissionsExt;
        f.set_permissions(std::fs::Permissions::from_mode(0o600))
            .map_err(fail)?;
    }
    f.write_all(bytes)
        .and_then(|_| f.sync_all())
        .map_err(fail)?;
    Ok(Saved {
        path: path.display().to_string(),
        bytes: bytes.len() as u64,
    })
}
