//! `jwt crack`: the cracker itself lives in [`crate::crack`]; this keeps the
//! JWT engine's original entry point (a wordlist in memory, found or not).

use super::token::Token;
use crate::crack::{Candidates, CrackOptions, Target};
use crate::error::Result;
use crate::secret::SecretBytes;
use std::sync::atomic::AtomicBool;

pub use crate::crack::CrackProgress;

/// Tries every line of `wordlist` (a trailing `\r` removed, empty lines
/// skipped) as the HMAC secret of `token`, on `threads` threads, calling
/// `progress` a few times a second. Returns the secret when found.
pub fn crack(
    token: &Token,
    wordlist: &[u8],
    threads: usize,
    progress: &(dyn Fn(CrackProgress) + Sync),
) -> Result<Option<SecretBytes>> {
    let target = Target::from_token(token)?;
    let outcome = crate::crack::crack(
        &target,
        Candidates::Wordlist(wordlist),
        &CrackOptions::threads(threads),
        &mut |p| progress(*p),
        &AtomicBool::new(false),
    );
    Ok(outcome.found)
}
