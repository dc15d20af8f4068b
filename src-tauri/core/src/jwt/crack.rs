//! `jwt crack`: tries a wordlist of HMAC secrets against an HS* token, to show
//! that a weak shared secret is guessable. Offline and bounded by the list.

use super::token::{HeaderAlg, Token};
use crate::crypto::Alg;
use crate::error::{Error, Result};
use crate::secret::SecretBytes;
use hmac::{Hmac, Mac};
use sha2::{Sha256, Sha384, Sha512};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// How far a crack run has got.
#[derive(Debug, Clone, Copy)]
pub struct CrackProgress {
    pub tried: u64,
    pub total: u64,
    pub elapsed: Duration,
}

impl CrackProgress {
    /// Tries per second so far.
    pub fn rate(&self) -> f64 {
        self.tried as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }

    /// Estimated time left.
    pub fn eta(&self) -> Duration {
        let rate = self.rate();
        if rate <= 0.0 {
            return Duration::ZERO;
        }
        Duration::from_secs_f64(self.total.saturating_sub(self.tried) as f64 / rate)
    }
}

fn mac_matches(alg: Alg, key: &[u8], input: &[u8], sig: &[u8]) -> bool {
    macro_rules! check {
        ($h:ty) => {{
            // HMAC takes keys of any length: new_from_slice cannot fail.
            let Ok(mut m) = <Hmac<$h> as Mac>::new_from_slice(key) else {
                return false;
            };
            m.update(input);
            m.verify_slice(sig).is_ok()
        }};
    }
    match alg {
        Alg::HS256 => check!(Sha256),
        Alg::HS384 => check!(Sha384),
        _ => check!(Sha512),
    }
}

/// Tries every line of `wordlist` (a trailing `\r` removed, empty lines
/// skipped) as the HMAC secret of `token`, on `threads` threads, calling
/// `progress` about twice a second. Returns the secret when found.
pub fn crack(
    token: &Token,
    wordlist: &[u8],
    threads: usize,
    progress: &(dyn Fn(CrackProgress) + Sync),
) -> Result<Option<SecretBytes>> {
    let alg = match token.alg() {
        HeaderAlg::Known(a) if a.is_hmac() => *a,
        other => {
            return Err(Error::invalid(
                "not_hmac",
                format!("jwt crack works on HS256/HS384/HS512 tokens only; this one is {other}"),
            ))
        }
    };
    if token.signature().is_empty() {
        return Err(Error::invalid(
            "empty_signature",
            "the token's signature is empty: there is nothing to crack",
        ));
    }
    let words: Vec<&[u8]> = wordlist
        .split(|b| *b == b'\n')
        .map(|w| w.strip_suffix(b"\r").unwrap_or(w))
        .filter(|w| !w.is_empty())
        .collect();
    let total = words.len() as u64;
    let threads = threads.clamp(1, 256);
    let input = token.signing_input().as_bytes();
    let sig = token.signature();
    let found = AtomicBool::new(false);
    let done = AtomicU64::new(0);
    let tried = AtomicU64::new(0);
    let start = Instant::now();
    let chunk = words.len().div_ceil(threads).max(1);
    let hit = std::thread::scope(|s| {
        let workers: Vec<_> = words
            .chunks(chunk)
            .map(|part| {
                let (found, tried, done) = (&found, &tried, &done);
                s.spawn(move || {
                    let mut result = None;
                    for (i, w) in part.iter().enumerate() {
                        if found.load(Ordering::Relaxed) {
                            break;
                        }
                        if mac_matches(alg, w, input, sig) {
                            found.store(true, Ordering::Relaxed);
                            result = Some(SecretBytes::from_slice(w));
                        }
                        if i % 1024 == 1023 {
                            tried.fetch_add(1024, Ordering::Relaxed);
                        }
                    }
                    tried.fetch_add((part.len() % 1024) as u64, Ordering::Relaxed);
                    done.fetch_add(1, Ordering::Relaxed);
                    result
                })
            })
            .collect();
        let n = workers.len() as u64;
        let mut last = Instant::now();
        while done.load(Ordering::Relaxed) < n {
            std::thread::sleep(Duration::from_millis(10));
            if last.elapsed() >= Duration::from_millis(500) {
                last = Instant::now();
                progress(CrackProgress {
                    tried: tried.load(Ordering::Relaxed).min(total),
                    total,
                    elapsed: start.elapsed(),
                });
            }
        }
        // A worker that panicked found nothing we can report.
        workers.into_iter().find_map(|w| w.join().ok().flatten())
    });
    progress(CrackProgress {
        tried: tried.load(Ordering::Relaxed).min(total),
        total,
        elapsed: start.elapsed(),
    });
    Ok(hit)
}
