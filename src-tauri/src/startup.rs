//! What the app does first with each vault it opens, at start and after
//! each switch to another vault: opens the vault's session (recorded as
//! `vault.open`) and applies what is due — overdue automatic rotations and
//! scheduled destructions (`key due --apply`, audited with the actor
//! `system`) — in one core call ([`Vault::open_session_and_apply_due`]) on
//! a worker thread, says so in an OS notification, and keeps the report for
//! the UI's banner ([`StartupDue::wait`]).

use crate::vault_access::VaultLocation;
use crate::IpcError;
use keyward_core::vault::{DueReport, Source, Vault, VaultOptions};
use std::sync::{Arc, Condvar, Mutex};
use tauri::AppHandle;
use tauri_plugin_notification::NotificationExt;

/// Which opening the report belongs to (each switch starts a new one), and
/// the report, or why the step could not run; `None` until it has.
#[derive(Default)]
struct Report {
    opening: u64,
    result: Option<Result<DueReport, IpcError>>,
}

/// Tauri state: the report of the open vault's opening step, once it has run.
#[derive(Clone, Default)]
pub struct StartupDue {
    slot: Arc<(Mutex<Report>, Condvar)>,
}

impl StartupDue {
    /// Starts waiting for a new opening and returns its number: the report
    /// of an earlier one (a vault switched away from) no longer counts.
    fn begin(&self) -> u64 {
        let (m, _) = &*self.slot;
        match m.lock() {
            Ok(mut s) => {
                s.opening += 1;
                s.result = None;
                s.opening
            }
            Err(_) => 0,
        }
    }

    /// Keeps the report of opening `opening`, unless a later one began.
    fn set(&self, opening: u64, r: Result<DueReport, IpcError>) {
        let (m, cv) = &*self.slot;
        if let Ok(mut s) = m.lock() {
            if s.opening == opening {
                s.result = Some(r);
            }
        }
        cv.notify_all();
    }

    /// Blocks until the open vault's opening step has finished.
    pub fn wait(&self) -> Result<DueReport, IpcError> {
        let (m, cv) = &*self.slot;
        let mut s = m
            .lock()
            .map_err(|_| IpcError::new("internal", "start-up state poisoned"))?;
        while s.result.is_none() {
            s = cv
                .wait(s)
                .map_err(|_| IpcError::new("internal", "start-up state poisoned"))?;
        }
        s.result
            .clone()
            .unwrap_or_else(|| Err(IpcError::new("internal", "no start-up report")))
    }

    /// Runs the opening step for the vault at `location` on a worker
    /// thread: at start, and after each switch.
    pub fn spawn(&self, app: AppHandle, location: Result<VaultLocation, IpcError>) {
        self.run(location, move |report| notify(&app, report));
    }

    fn run(
        &self,
        location: Result<VaultLocation, IpcError>,
        notify: impl FnOnce(&DueReport) + Send + 'static,
    ) {
        let opening = self.begin();
        let me = self.clone();
        let spawned = std::thread::Builder::new()
            .name("keyward-startup-due".into())
            .spawn(move || {
                let result = location.and_then(|l| {
                    let opts = VaultOptions::new(l.dir, Source::Desktop);
                    Ok(Vault::open_session_and_apply_due(opts)?)
                });
                if let Ok(report) = &result {
                    notify(report);
                }
                me.set(opening, result);
            });
        if let Err(e) = spawned {
            self.set(
                opening,
                Err(IpcError::new(
                    "internal",
                    format!("cannot start the due check: {e}"),
                )),
            );
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

#[cfg(test)]
mod tests {
    use super::*;
    use keyward_core::crypto::Alg;
    use keyward_core::vault::{NewSigningKey, PolicyChange};
    use std::path::Path;

    /// A directory removed at the end of the test (the desktop crate has
    /// no dev-dependencies; this saves adding one for a single test).
    struct TempDir(std::path::PathBuf);

    impl TempDir {
        fn new(name: &str) -> TempDir {
            let dir = std::env::temp_dir().join(format!(
                "keyward-desktop-{name}-{}-{}",
                std::process::id(),
                chrono::Utc::now().timestamp_nanos_opt().unwrap_or_default()
            ));
            std::fs::create_dir_all(&dir).unwrap();
            TempDir(dir)
        }
    }

    impl Drop for TempDir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }

    fn at(dir: &Path) -> Result<VaultLocation, IpcError> {
        Ok(VaultLocation {
            dir: dir.to_path_buf(),
            from_env: false,
        })
    }

    #[test]
    fn the_report_of_a_vault_switched_away_from_is_dropped() {
        let due = StartupDue::default();
        let first = due.begin();
        let second = due.begin();
        due.set(first, Err(IpcError::new("first", "stale")));
        due.set(second, Err(IpcError::new("second", "current")));
        due.set(first, Err(IpcError::new("first", "stale")));
        assert_eq!(due.wait().unwrap_err().code, "second");
    }

    /// Real keychain (run under scripts/with-keyring.sh): the step the app
    /// runs at start runs again for the vault switched to, and applies its
    /// overdue rotation as `system`.
    #[test]
    fn a_switch_applies_what_is_due_in_the_vault_opened() {
        let tmp = TempDir::new("switch");
        let (quiet, due_dir) = (tmp.0.join("quiet"), tmp.0.join("due"));
        Vault::open(VaultOptions::new(&quiet, Source::Cli)).unwrap();
        let mut v = Vault::open(VaultOptions::new(&due_dir, Source::Cli)).unwrap();
        let id = v
            .create_signing_key(NewSigningKey {
                name: "due-signer".into(),
                alg: Alg::ES256,
                bits: None,
                expires_in: None,
                scopes: vec![],
                note: None,
            })
            .unwrap()
            .id;
        v.set_policy(
            &id,
            PolicyChange {
                auto_rotate: Some(chrono::Duration::seconds(1)),
                ..Default::default()
            },
        )
        .unwrap();
        drop(v);
        std::thread::sleep(std::time::Duration::from_millis(1100));

        let step = StartupDue::default();
        step.run(at(&quiet), |_| {});
        assert!(step.wait().unwrap().applied.is_empty());
        let (tx, rx) = std::sync::mpsc::channel();
        step.run(at(&due_dir), move |r| {
            let _ = tx.send(summary(r));
        });
        let report = step.wait().unwrap();
        assert_eq!(report.applied.len(), 1, "{report:?}");
        assert!(report.applied[0].contains("due-signer"), "{report:?}");
        let said = rx.recv().unwrap().unwrap_or_default();
        assert!(said.starts_with("Applied: "), "{said}");

        let v = Vault::open(VaultOptions::new(&due_dir, Source::Cli)).unwrap();
        assert_eq!(v.show_key(&id).unwrap().summary.version, 2);
        let events = v.audit_list(&Default::default()).unwrap();
        assert!(events
            .iter()
            .any(|e| e.action == "key.rotate" && e.actor == "system"));
        assert!(events.iter().any(|e| e.action == "vault.open"));
    }
}
