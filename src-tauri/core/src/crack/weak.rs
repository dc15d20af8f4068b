//! Weak-secret warnings for HMAC keys, and the built-in list of common
//! secrets they (and `jwt crack --builtin`) use.
//!
//! RFC 7518 §3.2: "A key of the same size as the hash output (for instance,
//! 256 bits for "HS256") or larger MUST be used" — 32 bytes for HS256, 48 for
//! HS384, 64 for HS512. Beyond length, a secret is weak when anyone can guess
//! it: it is on the list (or a case/suffix variant of an entry), or it is
//! visibly non-random (few distinct characters, a repeated unit, a run or a
//! sequence, digits only). The checks are heuristics that never need the
//! vault, and no message ever contains the secret.

use crate::crypto::{parse_key, Alg, ParsedKey};
use serde::Serialize;
use std::collections::HashSet;
use std::sync::OnceLock;

const LIST: &str = include_str!("common_secrets.txt");

/// The built-in list's entries (the comment header left out).
pub fn builtin_secrets() -> impl Iterator<Item = &'static str> {
    LIST.lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
}

/// The built-in list as a wordlist: one entry per line.
pub fn builtin_wordlist() -> &'static [u8] {
    static WORDS: OnceLock<Vec<u8>> = OnceLock::new();
    WORDS.get_or_init(|| {
        let mut out = Vec::with_capacity(LIST.len());
        for s in builtin_secrets() {
            out.extend_from_slice(s.as_bytes());
            out.push(b'\n');
        }
        out
    })
}

fn exact_list() -> &'static HashSet<&'static [u8]> {
    static SET: OnceLock<HashSet<&'static [u8]>> = OnceLock::new();
    SET.get_or_init(|| builtin_secrets().map(str::as_bytes).collect())
}

fn lowercase_list() -> &'static HashSet<Vec<u8>> {
    static SET: OnceLock<HashSet<Vec<u8>>> = OnceLock::new();
    SET.get_or_init(|| {
        builtin_secrets()
            .map(|s| s.as_bytes().to_ascii_lowercase())
            .collect()
    })
}

/// Why a secret is weak.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ts_rs::TS)]
#[serde(rename_all = "snake_case")]
pub enum WeakSecretKind {
    /// Exactly an entry of the built-in list.
    CommonSecret,
    /// An entry of the list in other case, or with a common suffix.
    CommonSecretVariant,
    /// Shorter than the hash output (RFC 7518 §3.2).
    TooShort,
    /// Few distinct characters for its length.
    LowEntropy,
    /// A repeated unit or a long run of one character.
    Repetitive,
    /// A run of consecutive characters (`abcdef`, `987654`).
    Sequence,
    /// Only decimal digits.
    AllDigits,
}

impl WeakSecretKind {
    /// Stable machine code (`common_secret`, `too_short`, ...).
    pub fn code(self) -> &'static str {
        match self {
            WeakSecretKind::CommonSecret => "common_secret",
            WeakSecretKind::CommonSecretVariant => "common_secret_variant",
            WeakSecretKind::TooShort => "too_short",
            WeakSecretKind::LowEntropy => "low_entropy",
            WeakSecretKind::Repetitive => "repetitive",
            WeakSecretKind::Sequence => "sequence",
            WeakSecretKind::AllDigits => "all_digits",
        }
    }
}

/// One reason a secret is weak, with a message for people (never the secret).
#[derive(Debug, Clone, PartialEq, Serialize, ts_rs::TS)]
pub struct WeakSecret {
    /// What is wrong.
    #[serde(rename = "code")]
    pub kind: WeakSecretKind,
    /// One line saying what is wrong and what to do.
    pub message: String,
}

/// Runs (identical or consecutive characters) this long are flagged: rare
/// enough in random text (under one in a million for 64 random hex digits)
/// that a good secret is not accused.
const RUN: usize = 8;

/// Shannon entropy of the byte distribution, in bits per byte.
pub(crate) fn shannon_bits_per_byte(s: &[u8]) -> f64 {
    if s.is_empty() {
        return 0.0;
    }
    let mut counts = [0u32; 256];
    for &b in s {
        counts[b as usize] += 1;
    }
    let n = s.len() as f64;
    counts
        .iter()
        .filter(|&&c| c > 0)
        .map(|&c| {
            let p = c as f64 / n;
            -p * p.log2()
        })
        .sum()
}

fn is_periodic(s: &[u8]) -> bool {
    (1..=s.len() / 2).any(|p| s.len().is_multiple_of(p) && s[p..] == s[..s.len() - p])
}

fn longest_run(s: &[u8], step: impl Fn(u8, u8) -> bool) -> usize {
    let (mut best, mut cur) = (usize::from(!s.is_empty()), 1);
    for w in s.windows(2) {
        cur = if step(w[0], w[1]) { cur + 1 } else { 1 };
        best = best.max(cur);
    }
    best
}

/// Whether `s` is an entry of the list in another case, or an entry followed
/// by digits and punctuation (`Secret123!`).
fn list_variant(s: &[u8]) -> bool {
    let lower = s.to_ascii_lowercase();
    let list = lowercase_list();
    if list.contains(&lower) {
        return true;
    }
    let stem_len = lower
        .iter()
        .rposition(|b| !(b.is_ascii_digit() || b.is_ascii_punctuation()))
        .map_or(0, |i| i + 1);
    stem_len >= 4 && stem_len < lower.len() && list.contains(&lower[..stem_len])
}

/// Warnings about `secret` as the HMAC key of `alg` (empty: nothing found).
/// Surrounding whitespace is ignored for the list check (a piped secret's
/// newline does not make it less guessable).
pub fn weak_secret_check(secret: &[u8], alg: Alg) -> Vec<WeakSecret> {
    let mut out = Vec::new();
    let mut warn = |kind, message: String| out.push(WeakSecret { kind, message });
    let trimmed = secret.trim_ascii();
    if exact_list().contains(trimmed) {
        warn(
            WeakSecretKind::CommonSecret,
            "the secret is on Keyward's list of common JWT secrets (tutorial and framework defaults): anyone can guess it; generate one with `keyward key new --kind signing`".into(),
        );
    } else if list_variant(trimmed) {
        warn(
            WeakSecretKind::CommonSecretVariant,
            "the secret is a common JWT secret in other case or with a common suffix: `keyward jwt crack --builtin --mutate` guesses it in seconds".into(),
        );
    }
    let min = alg.hash_len();
    if secret.len() < min {
        warn(
            WeakSecretKind::TooShort,
            format!(
                "the secret is {} bytes ({} bits); RFC 7518 §3.2 requires at least {min} bytes ({} bits, the hash output size) for {alg}",
                secret.len(),
                secret.len() * 8,
                min * 8
            ),
        );
    }
    let h = shannon_bits_per_byte(secret);
    // A short string cannot show many distinct bytes: scale the bar with
    // what its length allows (log2(len)), capped at 3 bits per byte.
    let bar = (0.75 * (secret.len().max(1) as f64).log2()).min(3.0);
    if h < bar {
        warn(
            WeakSecretKind::LowEntropy,
            format!(
                "the secret uses few distinct characters ({h:.1} bits per byte, about {:.0} bits in all by a per-character estimate): use random bytes",
                h * secret.len() as f64
            ),
        );
    }
    if secret.len() >= 4 && is_periodic(secret) {
        warn(
            WeakSecretKind::Repetitive,
            "the secret is one short unit repeated: its strength is that of the unit".into(),
        );
    } else if longest_run(secret, |a, b| a == b) >= RUN {
        warn(
            WeakSecretKind::Repetitive,
            format!("the secret has a run of {RUN} or more identical characters"),
        );
    }
    let seq = longest_run(secret, |a, b| b == a.wrapping_add(1))
        .max(longest_run(secret, |a, b| b == a.wrapping_sub(1)));
    if seq >= RUN {
        warn(
            WeakSecretKind::Sequence,
            format!("the secret contains a run of {seq} consecutive characters (like abcdefgh or 87654321)"),
        );
    }
    if !trimmed.is_empty() && trimmed.iter().all(u8::is_ascii_digit) {
        warn(
            WeakSecretKind::AllDigits,
            format!(
                "the secret is only digits: about {:.0} bits at most; use random bytes",
                trimmed.len() as f64 * 10f64.log2()
            ),
        );
    }
    out
}

/// Warnings for `key import --kind signing` of `input` as an `alg` key:
/// nothing for non-HMAC algorithms; for HMAC, the secret is the `k` of an
/// `oct` JWK, or else the input's raw bytes (as the vault imports them).
pub fn import_warnings(alg: &str, input: &[u8]) -> Vec<WeakSecret> {
    let Some(alg) = Alg::from_jose(alg).filter(|a| a.is_hmac()) else {
        return Vec::new();
    };
    match parse_key(input) {
        Ok(ParsedKey::Private(k)) => match k.hmac_secret() {
            Some(s) => weak_secret_check(s, alg),
            None => Vec::new(),
        },
        _ => weak_secret_check(input, alg),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shannon_estimates() {
        assert_eq!(shannon_bits_per_byte(b"aaaa"), 0.0);
        assert!((shannon_bits_per_byte(b"abab") - 1.0).abs() < 1e-9);
        let all: Vec<u8> = (0..=255).collect();
        assert!((shannon_bits_per_byte(&all) - 8.0).abs() < 1e-9);
    }

    #[test]
    fn list_is_clean() {
        let n = builtin_secrets().count();
        assert!(n >= 300, "{n} entries");
        let mut seen = HashSet::new();
        for s in builtin_secrets() {
            assert!(seen.insert(s), "duplicate entry {s:?}");
            assert_eq!(s.trim(), s, "surrounding whitespace in {s:?}");
        }
        assert!(seen.contains("your-256-bit-secret"));
        assert!(builtin_wordlist().ends_with(b"\n"));
    }
}
