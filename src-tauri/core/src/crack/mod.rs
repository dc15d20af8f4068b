//! Weak HMAC secrets: a cracker that guesses the secret of an HS256/384/512
//! token (wordlists, masks, mutations, the built-in list of common secrets)
//! and [`weak_secret_check`], which warns about a secret before it is used.
//!
//! Speed is the point of the cracker: a guess costs one HMAC over the token's
//! signing input and nothing else (see [`hmac`](self) for how), workers take
//! large chunks of work from a shared cursor (a thread that finishes early
//! simply takes the next chunk, so no thread idles while work is left), and
//! every worker stops within a few thousand guesses of a hit or of the
//! caller's cancel flag. It never needs the vault and never writes anywhere:
//! the secret it finds goes back to the caller only.

mod hmac;
mod mask;
mod mutate;
mod weak;
mod wordlist;

pub use mask::{Mask, MAX_MASK_LEN};
pub use mutate::{MAX_VARIANTS, SUFFIXES};
pub use weak::{
    builtin_secrets, builtin_wordlist, import_warnings, weak_secret_check, WeakSecret,
    WeakSecretKind,
};
pub use wordlist::Wordlist;

use crate::crypto::Alg;
use crate::error::{Error, Result};
use crate::jwt::{HeaderAlg, Token};
use crate::secret::SecretBytes;
use hmac::{Sha256Check, Sha384Check, Sha512Check, TagCheck};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// What to crack: an HMAC algorithm, the signing input and the tag.
#[derive(Clone)]
pub struct Target {
    alg: Alg,
    input: Vec<u8>,
    sig: Vec<u8>,
}

impl Target {
    /// The target of an HS* token; any other algorithm, an empty signature or
    /// one of the wrong length is bad input.
    pub fn from_token(token: &Token) -> Result<Target> {
        let alg = match token.alg() {
            HeaderAlg::Known(a) if a.is_hmac() => *a,
            other => {
                return Err(Error::invalid(
                    "not_hmac",
                    format!(
                        "jwt crack works on HS256/HS384/HS512 tokens only; this one is {other}"
                    ),
                ))
            }
        };
        Target::new(alg, token.signing_input().as_bytes(), token.signature())
    }

    /// A target from its parts (`alg` must be HS256, HS384 or HS512).
    pub fn new(alg: Alg, signing_input: &[u8], signature: &[u8]) -> Result<Target> {
        if !alg.is_hmac() {
            return Err(Error::invalid(
                "not_hmac",
                format!("only HS256/HS384/HS512 can be cracked, not {alg}"),
            ));
        }
        if signature.is_empty() {
            return Err(Error::invalid(
                "empty_signature",
                "the token's signature is empty: there is nothing to crack",
            ));
        }
        if signature.len() != alg.hash_len() {
            return Err(Error::invalid(
                "bad_signature_length",
                format!(
                    "the signature is {} bytes but {alg} signatures are {}: no secret can produce it",
                    signature.len(),
                    alg.hash_len()
                ),
            ));
        }
        Ok(Target {
            alg,
            input: signing_input.to_vec(),
            sig: signature.to_vec(),
        })
    }

    /// The token's algorithm.
    pub fn alg(&self) -> Alg {
        self.alg
    }

    /// Whether `secret` is the token's HMAC secret.
    pub fn is_secret(&self, secret: &[u8]) -> bool {
        match self.alg {
            Alg::HS256 => Sha256Check::hs256(&self.input, &self.sig).check(secret),
            Alg::HS384 => Sha384Check::hs384(&self.input, &self.sig).check(secret),
            _ => Sha512Check::hs512(&self.input, &self.sig).check(secret),
        }
    }
}

/// Where the candidates come from.
#[derive(Clone, Copy)]
pub enum Candidates<'a> {
    /// One candidate per line (`\n` or `\r\n`; empty lines skipped).
    Wordlist(&'a [u8]),
    /// Every candidate a mask makes.
    Mask(&'a Mask),
}

/// How to run.
#[derive(Debug, Clone)]
pub struct CrackOptions {
    /// Worker threads (at least 1).
    pub threads: usize,
    /// Also try each word's [`mutate`](self) variants (wordlists only).
    pub mutate: bool,
    /// Work unit: bytes of wordlist or candidates of mask per chunk. `None`
    /// sizes chunks from the input (large, for low overhead, yet many per
    /// thread, so the last ones balance out).
    pub chunk: Option<u64>,
}

impl CrackOptions {
    /// `threads` workers, no mutations, automatic chunks.
    pub fn threads(threads: usize) -> Self {
        CrackOptions {
            threads,
            mutate: false,
            chunk: None,
        }
    }
}

/// How far a run has got.
#[derive(Debug, Clone, Copy)]
pub struct CrackProgress {
    /// Candidates tried so far.
    pub tried: u64,
    /// Share of the input done, 0 to 1 (by bytes for wordlists).
    pub fraction: f64,
    /// Time since the start.
    pub elapsed: Duration,
    /// Candidates in the whole run when known in advance (masks, and
    /// wordlists without mutations once finished).
    pub total: Option<u64>,
}

impl CrackProgress {
    /// Candidates per second so far.
    pub fn rate(&self) -> f64 {
        self.tried as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }

    /// Estimated time left, once there is something to estimate from.
    pub fn eta(&self) -> Option<Duration> {
        if self.fraction <= 0.0 || self.elapsed.is_zero() {
            return None;
        }
        let left = self.elapsed.as_secs_f64() * (1.0 - self.fraction) / self.fraction;
        Some(Duration::from_secs_f64(left.clamp(0.0, 1e9)))
    }
}

/// The result of a run.
#[derive(Debug)]
pub struct CrackOutcome {
    /// The token's algorithm.
    pub alg: Alg,
    /// The secret, when found.
    pub found: Option<SecretBytes>,
    /// Candidates tried.
    pub tried: u64,
    /// Wall time of the run.
    pub elapsed: Duration,
    /// Whether the run stopped because the cancel flag was set (and found nothing).
    pub cancelled: bool,
}

impl CrackOutcome {
    /// Candidates per second over the run.
    pub fn rate(&self) -> f64 {
        self.tried as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }
}

/// Guesses between looks at the stop flags and updates of the shared counter.
const BATCH: u64 = 2048;
/// How often `progress` is called.
const PROGRESS_EVERY: Duration = Duration::from_millis(200);

struct Shared<'a> {
    cursor: AtomicU64,
    tried: AtomicU64,
    done_units: AtomicU64,
    running: AtomicUsize,
    found: AtomicBool,
    secret: Mutex<Option<SecretBytes>>,
    cancel: &'a AtomicBool,
}

impl Shared<'_> {
    fn stopped(&self) -> bool {
        self.found.load(Ordering::Relaxed) || self.cancel.load(Ordering::Relaxed)
    }

    fn hit(&self, secret: &[u8]) {
        if !self.found.swap(true, Ordering::AcqRel) {
            if let Ok(mut s) = self.secret.lock() {
                *s = Some(SecretBytes::from_slice(secret));
            }
        }
    }
}

/// Counts guesses locally and publishes them every [`BATCH`]; says when to stop.
struct Tally<'s, 'a> {
    shared: &'s Shared<'a>,
    local: u64,
}

impl Tally<'_, '_> {
    /// Records one guess; false when the run must stop.
    #[inline(always)]
    fn tick(&mut self) -> bool {
        self.local += 1;
        if self.local == BATCH {
            self.flush();
            return !self.shared.stopped();
        }
        true
    }

    fn flush(&mut self) {
        self.shared.tried.fetch_add(self.local, Ordering::Relaxed);
        self.local = 0;
    }
}

impl Drop for Tally<'_, '_> {
    fn drop(&mut self) {
        self.flush();
    }
}

/// Tries `candidates` against `target` on `opts.threads` threads. Returns
/// when the secret is found, the candidates are exhausted, or `cancel` is
/// set (then `cancelled` is true). `progress` is called on the calling
/// thread about five times a second, and once at the end.
pub fn crack(
    target: &Target,
    candidates: Candidates<'_>,
    opts: &CrackOptions,
    progress: &mut dyn FnMut(&CrackProgress),
    cancel: &AtomicBool,
) -> CrackOutcome {
    match target.alg {
        Alg::HS256 => run(target, candidates, opts, progress, cancel, || {
            Sha256Check::hs256(&target.input, &target.sig)
        }),
        Alg::HS384 => run(target, candidates, opts, progress, cancel, || {
            Sha384Check::hs384(&target.input, &target.sig)
        }),
        _ => run(target, candidates, opts, progress, cancel, || {
            Sha512Check::hs512(&target.input, &target.sig)
        }),
    }
}

/// The built-in list of common secrets (with [`mutate`](self) variants)
/// against `token`: the desktop's weak-secret check. A few tens of thousands
/// of guesses, well under a second; `cancel` stops it early.
pub fn crack_builtin(
    token: &Token,
    progress: &mut dyn FnMut(&CrackProgress),
    cancel: &AtomicBool,
) -> Result<CrackOutcome> {
    let target = Target::from_token(token)?;
    let mut opts =
        CrackOptions::threads(std::thread::available_parallelism().map_or(1, |n| n.get()));
    opts.mutate = true;
    Ok(crack(
        &target,
        Candidates::Wordlist(builtin_wordlist()),
        &opts,
        progress,
        cancel,
    ))
}

fn run<C: TagCheck>(
    target: &Target,
    candidates: Candidates<'_>,
    opts: &CrackOptions,
    progress: &mut dyn FnMut(&CrackProgress),
    cancel: &AtomicBool,
    new_checker: impl Fn() -> C + Sync,
) -> CrackOutcome {
    let threads = opts.threads.clamp(1, 1024);
    let (units, total) = match candidates {
        Candidates::Wordlist(bytes) => (bytes.len() as u64, None),
        // A parsed mask's keyspace fits in u64 (checked when it was built).
        Candidates::Mask(m) => {
            let k = m.keyspace().unwrap_or(0);
            (k, Some(k))
        }
    };
    let chunk = opts
        .chunk
        .unwrap_or_else(|| auto_chunk(candidates, units, threads))
        .max(1);
    let shared = Shared {
        cursor: AtomicU64::new(0),
        tried: AtomicU64::new(0),
        done_units: AtomicU64::new(0),
        running: AtomicUsize::new(threads),
        found: AtomicBool::new(false),
        secret: Mutex::new(None),
        cancel,
    };
    let start = Instant::now();
    let snapshot = |shared: &Shared| CrackProgress {
        tried: shared.tried.load(Ordering::Relaxed),
        fraction: if units == 0 {
            1.0
        } else {
            (shared.done_units.load(Ordering::Relaxed) as f64 / units as f64).min(1.0)
        },
        elapsed: start.elapsed(),
        total,
    };
    std::thread::scope(|s| {
        let main = std::thread::current();
        for _ in 0..threads {
            let (shared, main, new_checker) = (&shared, main.clone(), &new_checker);
            s.spawn(move || {
                let mut checker = new_checker();
                match candidates {
                    Candidates::Wordlist(bytes) => {
                        worker_wordlist(&mut checker, bytes, chunk, opts.mutate, shared)
                    }
                    Candidates::Mask(m) => worker_mask(&mut checker, m, chunk, shared),
                }
                shared.running.fetch_sub(1, Ordering::AcqRel);
                main.unpark();
            });
        }
        let mut last = Instant::now();
        while shared.running.load(Ordering::Acquire) > 0 {
            std::thread::park_timeout(PROGRESS_EVERY.saturating_sub(last.elapsed()));
            if last.elapsed() >= PROGRESS_EVERY {
                last = Instant::now();
                progress(&snapshot(&shared));
            }
        }
    });
    let found = shared.secret.lock().ok().and_then(|mut s| s.take());
    let cancelled = found.is_none() && cancel.load(Ordering::Relaxed);
    let mut last = snapshot(&shared);
    if found.is_none() && !cancelled {
        last.fraction = 1.0;
        last.total = Some(last.tried);
    }
    progress(&last);
    CrackOutcome {
        alg: target.alg,
        found,
        tried: last.tried,
        elapsed: start.elapsed(),
        cancelled,
    }
}

/// Chunks big enough that taking one costs nothing next to trying it, and
/// small enough that each thread gets dozens (so they finish together).
fn auto_chunk(candidates: Candidates<'_>, units: u64, threads: usize) -> u64 {
    let per_thread = units / (threads as u64 * 32).max(1);
    match candidates {
        Candidates::Wordlist(_) => per_thread.clamp(4 << 10, 4 << 20),
        Candidates::Mask(_) => per_thread.clamp(1 << 12, 1 << 20),
    }
}

fn worker_wordlist<C: TagCheck>(
    checker: &mut C,
    bytes: &[u8],
    chunk: u64,
    mutate: bool,
    shared: &Shared,
) {
    let len = bytes.len() as u64;
    let mut tally = Tally { shared, local: 0 };
    let mut mutator = mutate::Mutator::default();
    loop {
        if shared.stopped() {
            return;
        }
        let start = shared.cursor.fetch_add(chunk, Ordering::Relaxed);
        if start >= len {
            return;
        }
        let end = (start + chunk).min(len);
        let mut go_on = true;
        wordlist::lines_in(bytes, start as usize, end as usize, |word| {
            if mutate {
                mutator.each(word, |cand| {
                    if checker.check(cand) {
                        shared.hit(cand);
                        go_on = false;
                    }
                    tally.local += 1;
                    go_on
                });
                go_on = go_on && tally.tick_silently();
                go_on
            } else {
                if checker.check(word) {
                    shared.hit(word);
                    tally.local += 1;
                    go_on = false;
                    return false;
                }
                go_on = tally.tick();
                go_on
            }
        });
        if !go_on {
            return;
        }
        shared.done_units.fetch_add(end - start, Ordering::Relaxed);
    }
}

impl Tally<'_, '_> {
    /// After counting guesses by hand: publish when a batch is full.
    #[inline(always)]
    fn tick_silently(&mut self) -> bool {
        if self.local >= BATCH {
            self.flush();
            return !self.shared.stopped();
        }
        true
    }
}

fn worker_mask<C: TagCheck>(checker: &mut C, mask: &Mask, chunk: u64, shared: &Shared) {
    let total = mask.keyspace().unwrap_or(0);
    let mut tally = Tally { shared, local: 0 };
    loop {
        if shared.stopped() {
            return;
        }
        let start = shared.cursor.fetch_add(chunk, Ordering::Relaxed);
        if start >= total {
            return;
        }
        let end = start.saturating_add(chunk).min(total);
        let mut go_on = true;
        mask.for_range(start, end, |cand| {
            if checker.check(cand) {
                shared.hit(cand);
                tally.local += 1;
                go_on = false;
                return false;
            }
            go_on = tally.tick();
            go_on
        });
        if !go_on {
            return;
        }
        shared.done_units.fetch_add(end - start, Ordering::Relaxed);
    }
}
