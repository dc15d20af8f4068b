//! Token commands: inspect, verify, sign, and the weak-secret check of HS*
//! tokens (the built-in list of common secrets, with progress and cancel).

use crate::clipboard::{Clipboard, Copied};
use crate::vault_access::run_on_worker;
use crate::{IpcError, VaultAccess};
use keyward_core::crack;
use keyward_core::vault::desktop::{
    SignForm, SignedTokenView, TokenReport, VerifyForm, VerifyReport,
};
use serde::Serialize;
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tauri::ipc::Channel;
use tauri::State;
use ts_rs::TS;
use zeroize::Zeroizing;

/// Decodes, explains and lints a token; names the vault key behind its kid.
#[tauri::command]
pub async fn inspect_token(
    vault: State<'_, VaultAccess>,
    token: String,
) -> Result<TokenReport, IpcError> {
    vault
        .with_vault(move |v| {
            let max = v.desktop_settings()?.max_token_lifetime();
            v.token_report(&token, max)
        })
        .await
}

/// Verifies a token check by check.
#[tauri::command]
pub async fn verify_token(
    vault: State<'_, VaultAccess>,
    form: VerifyForm,
) -> Result<VerifyReport, IpcError> {
    vault.with_vault(move |v| v.verify_form(form)).await
}

/// Signs a token with a vault key's active version.
#[tauri::command]
pub async fn sign_token(
    vault: State<'_, VaultAccess>,
    form: SignForm,
) -> Result<SignedTokenView, IpcError> {
    vault.with_vault(move |v| v.sign_form(form)).await
}

/// Copies a value the webview already shows (a signed token, a kid) to the
/// clipboard; `clear` clears it after the configured delay.
#[tauri::command]
pub async fn copy_text(
    vault: State<'_, VaultAccess>,
    clipboard: State<'_, Clipboard>,
    text: String,
    clear: bool,
) -> Result<Copied, IpcError> {
    let delay = if clear {
        let secs = vault
            .with_vault(|v| Ok(v.desktop_settings()?.clipboard_clear_seconds))
            .await
            .unwrap_or(30);
        Some(Duration::from_secs(u64::from(secs)))
    } else {
        None
    };
    clipboard.copy(Zeroizing::new(text), delay)
}

/// Tauri state: the cancel flags of running jobs, by the id the UI gave them.
#[derive(Default)]
pub struct Jobs {
    flags: Mutex<HashMap<String, Arc<AtomicBool>>>,
}

impl Jobs {
    fn start(&self, id: &str) -> Arc<AtomicBool> {
        let flag = Arc::new(AtomicBool::new(false));
        if let Ok(mut m) = self.flags.lock() {
            m.insert(id.to_string(), flag.clone());
        }
        flag
    }

    fn finish(&self, id: &str) {
        if let Ok(mut m) = self.flags.lock() {
            m.remove(id);
        }
    }

    fn cancel(&self, id: &str) -> bool {
        match self.flags.lock().ok().and_then(|m| m.get(id).cloned()) {
            Some(f) => {
                f.store(true, Ordering::Relaxed);
                true
            }
            None => false,
        }
    }
}

/// Progress of the weak-secret check, sent about five times a second.
#[derive(Debug, Clone, Serialize, TS)]
pub struct CrackTick {
    pub tried: u64,
    /// 0 to 1.
    pub fraction: f64,
    pub rate: f64,
}

/// The weak-secret check's answer. The secret found is a well-known one
/// from the built-in list; the UI gets only a masked hint and its length.
#[derive(Debug, Clone, Serialize, TS)]
pub struct WeakCheck {
    pub found: bool,
    /// First and last characters of the secret found (`se…23`).
    pub hint: Option<String>,
    pub length: Option<u32>,
    pub tried: u64,
    pub cancelled: bool,
    pub elapsed_ms: u64,
}

/// Guesses an HS* token's secret from the built-in list of common secrets
/// (with mutations). `job` names the run for [`cancel_job`].
#[tauri::command]
pub async fn weak_secret_check(
    jobs: State<'_, Jobs>,
    job: String,
    token: String,
    on_progress: Channel<CrackTick>,
) -> Result<WeakCheck, IpcError> {
    let flag = jobs.start(&job);
    let result = run_on_worker(Duration::from_secs(600), move || {
        let parsed = keyward_core::jwt::parse(&token)?;
        let mut progress = |p: &crack::CrackProgress| {
            let _ = on_progress.send(CrackTick {
                tried: p.tried,
                fraction: p.fraction,
                rate: p.rate(),
            });
        };
        let out = crack::crack_builtin(&parsed, &mut progress, &flag)?;
        let (hint, length) = match &out.found {
            Some(s) => {
                let text = String::from_utf8_lossy(s.expose()).to_string();
                let text = Zeroizing::new(text);
                (Some(mask(&text)), Some(text.chars().count() as u32))
            }
            None => (None, None),
        };
        Ok(WeakCheck {
            found: out.found.is_some(),
            hint,
            length,
            tried: out.tried,
            cancelled: out.cancelled,
            elapsed_ms: out.elapsed.as_millis() as u64,
        })
    })
    .await;
    jobs.finish(&job);
    result
}

/// `se…23`: two characters at each end (one for short secrets).
fn mask(s: &str) -> String {
    let chars: Vec<char> = s.chars().collect();
    let keep = if chars.len() >= 8 { 2 } else { 1 };
    if chars.len() <= keep * 2 {
        return "…".to_string();
    }
    let head: String = chars[..keep].iter().collect();
    let tail: String = chars[chars.len() - keep..].iter().collect();
    format!("{head}…{tail}")
}

/// Stops a running job; false when none runs under that id.
#[tauri::command]
pub fn cancel_job(jobs: State<'_, Jobs>, job: String) -> bool {
    jobs.cancel(&job)
}

#[cfg(test)]
mod tests {
    #[test]
    fn masks_keep_only_the_ends() {
        assert_eq!(super::mask("secret123"), "se…23");
        assert_eq!(super::mask("abcde"), "a…e");
        assert_eq!(super::mask("ab"), "…");
    }
}
