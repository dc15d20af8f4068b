//! Copy to the OS clipboard from Rust, so a copied secret never enters the
//! webview, and clear it after a delay — but only if the clipboard still
//! holds what we put there (compared by SHA-256, the text itself is not kept).
//!
//! The `arboard` handle lives as long as the app: on X11 the clipboard's
//! content is served by the process that set it.

use crate::IpcError;
use serde::Serialize;
use sha2::{Digest, Sha256};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use ts_rs::TS;
use zeroize::Zeroizing;

/// What a copy command returns: never the copied text.
#[derive(Debug, Clone, Serialize, TS)]
pub struct Copied {
    pub copied: bool,
    /// Seconds until the clipboard is cleared (if it still holds this text); `null`: never.
    pub clears_in: Option<u32>,
}

/// Tauri state: the clipboard handle and what we last wrote.
#[derive(Default, Clone)]
pub struct Clipboard {
    inner: Arc<Mutex<Inner>>,
}

#[derive(Default)]
struct Inner {
    board: Option<arboard::Clipboard>,
    /// Hash of the last text copied, and a counter so an older timer does
    /// not clear a newer copy of the same text early.
    last: Option<([u8; 32], u64)>,
    generation: u64,
}

fn digest(text: &str) -> [u8; 32] {
    Sha256::digest(text.as_bytes()).into()
}

fn unavailable(e: arboard::Error) -> IpcError {
    IpcError::new(
        "clipboard_unavailable",
        format!("the clipboard is not available ({e}): copy the value another way"),
    )
}

impl Clipboard {
    /// Puts `text` on the clipboard; with `clear_after`, clears it then if it
    /// still holds `text`. `text` is zeroized when this returns.
    pub fn copy(
        &self,
        text: Zeroizing<String>,
        clear_after: Option<Duration>,
    ) -> Result<Copied, IpcError> {
        let mut inner = self
            .inner
            .lock()
            .map_err(|_| IpcError::new("internal", "the clipboard lock is poisoned"))?;
        if inner.board.is_none() {
            inner.board = Some(arboard::Clipboard::new().map_err(unavailable)?);
        }
        let hash = digest(&text);
        inner.generation += 1;
        let generation = inner.generation;
        inner.last = Some((hash, generation));
        if let Some(board) = inner.board.as_mut() {
            // arboard takes its own copy; ours is zeroized on drop.
            board.set_text(text.as_str()).map_err(unavailable)?;
        }
        drop(inner);
        let Some(delay) = clear_after else {
            return Ok(Copied {
                copied: true,
                clears_in: None,
            });
        };
        let me = self.clone();
        std::thread::Builder::new()
            .name("keyward-clipboard-clear".into())
            .spawn(move || {
                std::thread::sleep(delay);
                me.clear_if(hash, generation);
            })
            .map_err(|e| IpcError::new("internal", format!("cannot start a timer: {e}")))?;
        Ok(Copied {
            copied: true,
            clears_in: Some(delay.as_secs() as u32),
        })
    }

    /// Clears the clipboard if it still holds the text of copy `generation`.
    fn clear_if(&self, hash: [u8; 32], generation: u64) {
        let Ok(mut inner) = self.inner.lock() else {
            return;
        };
        if inner.last != Some((hash, generation)) {
            return;
        }
        inner.last = None;
        if let Some(board) = inner.board.as_mut() {
            let current = board.get_text().ok().map(Zeroizing::new);
            if current.as_deref().map(|t| digest(t)) == Some(hash) {
                let _ = board.clear();
            }
        }
    }

    /// Clears the clipboard now if it holds the last text we copied (at exit).
    pub fn clear_ours(&self) {
        let last = self.inner.lock().ok().and_then(|i| i.last);
        if let Some((hash, generation)) = last {
            self.clear_if(hash, generation);
        }
    }
}
