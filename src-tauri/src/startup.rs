//! At start the app opens the vault's session (recorded as `vault.open`),
//! applies what is due — overdue automatic rotations and
//! scheduled destructions (`key due --apply`, audited with the actor
//! `system`) — on a worker thread, says so in an OS notification, and keeps
//! the report for the UI's banner ([`StartupDue::wait`]).

use crate::{IpcError, VaultAccess};
use keyward_core::vault::{DueReport, Source, Vault, VaultOptions};
use std::sync::{Arc, Condvar, Mutex};
use tauri::AppHandle;
use tauri_plugin_notification::NotificationExt;

/// The start-up report, or why the check could not run; `None` until it has.
type Slot = Mutex<Option<Result<DueReport, IpcError>>>;

/// Tauri state: the start-up report, once the check has run.
#[derive(Clone, Default)]
pub struct StartupDue {
    slot: Arc<(Slot, Condvar)>,
}

impl StartupDue {
    fn set(&self, r: Result<DueReport, IpcError>) {
        let (m, cv) = &*self.slot;
        if let Ok(mut s) = m.lock() {
            *s = Some(r);
        }
        cv.notify_all();
    }

    /// Blocks until the start-up check has finished.
    pub fn wait(&self) -> Result<DueReport, IpcError> {
        let (m, cv) = &*self.slot;
        let mut s = m
            .lock()
            .map_err(|_| IpcError::new("internal", "start-up state poisoned"))?;
        while s.is_none() {
            s = cv
                .wait(s)
                .map_err(|_| IpcError::new("internal", "start-up state poisoned"))?;
        }
        s.clone()
            .unwrap_or_else(|| Err(IpcError::new("internal", "no start-up report")))
    }

    /// Runs the check on a worker thread.
    pub fn spawn(&self, app: AppHandle, vault: &VaultAccess) {
        let me = self.clone();
        let location = vault.location();
        let spawned = std::thread::Builder::new()
            .name("keyward-startup-due".into())
            .spawn(move || {
                let result = location.and_then(|l| {
                    // The session's `vault.open` (its failure is recorded
                    // too); the due check then goes on as it would anyway.
                    let mut v =
                        match Vault::open_session(VaultOptions::new(&l.dir, Source::Desktop)) {
                            Ok(v) => v,
                            Err(_) => Vault::open(VaultOptions::new(l.dir, Source::Desktop))?,
                        };
                    Ok(v.apply_due_now()?)
                });
                if let Ok(report) = &result {
                    notify(&app, report);
                }
                me.set(result);
            });
        if let Err(e) = spawned {
            self.set(Err(IpcError::new(
                "internal",
                format!("cannot start the due check: {e}"),
            )));
        }
    }
}

/// One line for the notification, or none when nothing needs saying.
pub fn summary(report: &DueReport) -> Option<String> {
    let overdue = report.items.iter().filter(|i| i.overdue).count();
    let soon = report.items.len() - overdue;
    let mut parts = Vec::new();
    if !report.applied.is_empty() {
        parts.push(format!("Applied: {}", report.applied.join("; ")));
    }
    if overdue > 0 {
        parts.push(format!("{overdue} overdue"));
    }
    if soon > 0 {
        parts.push(format!("{soon} due within {}", report.within));
    }
    (!parts.is_empty()).then(|| parts.join(". "))
}

fn notify(app: &AppHandle, report: &DueReport) {
    let Some(body) = summary(report) else {
        return;
    };
    // No notification service (a bare X server, a test run) is not an error
    // the user can act on: the banner in the window says the same.
    let _ = app
        .notification()
        .builder()
        .title("Keyward: keys due")
        .body(body)
        .show();
}
