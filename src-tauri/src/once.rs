//! New API keys, held in Rust between their creation and the moment the user
//! dismisses the "shown once" dialog: the webview gets a handle and the key's
//! display hint; the key itself crosses IPC only when the user presses Show
//! (and copy goes straight from here to the clipboard). Entries are zeroized
//! when forgotten, and expire after [`KEEP`] in any case.

use keyward_core::SecretBytes;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// How long a new key stays available to the dialog.
pub const KEEP: Duration = Duration::from_secs(10 * 60);

/// Tauri state: handle → (secret, when it was stored).
#[derive(Default)]
pub struct OnceSecrets {
    map: Mutex<HashMap<String, (SecretBytes, Instant)>>,
    next: AtomicU64,
}

impl OnceSecrets {
    /// Stores `secret` and returns its handle (opaque, not a secret: the
    /// only page that can call the commands is the app's own).
    pub fn put(&self, secret: SecretBytes) -> String {
        let n = self.next.fetch_add(1, Ordering::Relaxed) + 1;
        let handle = format!("once-{n}");
        if let Ok(mut m) = self.map.lock() {
            m.retain(|_, (_, at)| at.elapsed() < KEEP);
            m.insert(handle.clone(), (secret, Instant::now()));
        }
        handle
    }

    /// The secret of `handle`, while it is kept.
    pub fn get(&self, handle: &str) -> Option<SecretBytes> {
        let m = self.map.lock().ok()?;
        m.get(handle)
            .filter(|(_, at)| at.elapsed() < KEEP)
            .map(|(s, _)| s.clone())
    }

    /// Drops (and zeroizes) the secret of `handle`.
    pub fn forget(&self, handle: &str) {
        if let Ok(mut m) = self.map.lock() {
            m.remove(handle);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn put_get_forget() {
        let s = OnceSecrets::default();
        let h = s.put(SecretBytes::from("kw_abc".to_string()));
        assert_eq!(s.get(&h).unwrap().expose(), b"kw_abc");
        let h2 = s.put(SecretBytes::from("kw_def".to_string()));
        assert_ne!(h, h2);
        s.forget(&h);
        assert!(s.get(&h).is_none());
        assert!(s.get(&h2).is_some());
    }
}
