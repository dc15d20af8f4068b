//! Hashcat-style masks: `?l?l?d?d` means two lowercase letters then two digits.
//!
//! Charsets: `?l` a-z, `?u` A-Z, `?d` 0-9, `?s` the 33 printable ASCII
//! symbols (space included), `?a` all of those (95), `?h` 0-9a-f, `?H` 0-9A-F,
//! `?b` every byte 0x00-0xff, `??` a literal `?`. Any other character stands
//! for itself. Lengths: a mask of N positions makes candidates of exactly N
//! bytes, or, with a length range, of every length from `min` to `max` using
//! the mask's first positions (hashcat's `--increment`).
//!
//! Candidates are numbered in mixed radix (last position fastest), so a run
//! splits into index ranges and each worker walks its range with an odometer,
//! never allocating.

use crate::error::{Error, Result};

/// Most positions a mask may have.
pub const MAX_MASK_LEN: usize = 128;

const LOWER: &[u8] = b"abcdefghijklmnopqrstuvwxyz";
const UPPER: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ";
const DIGITS: &[u8] = b"0123456789";
const SYMBOLS: &[u8] = b" !\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~";
const HEX_LOWER: &[u8] = b"0123456789abcdef";
const HEX_UPPER: &[u8] = b"0123456789ABCDEF";

/// A parsed mask and the candidate lengths to try.
#[derive(Debug, Clone)]
pub struct Mask {
    positions: Vec<Vec<u8>>,
    min: usize,
    max: usize,
}

fn bad(message: String) -> Error {
    Error::invalid("bad_mask", message)
}

impl Mask {
    /// Parses `text`; candidates have exactly as many bytes as the mask has positions.
    pub fn parse(text: &str) -> Result<Mask> {
        let bytes = text.as_bytes();
        let mut positions = Vec::new();
        let mut i = 0;
        while i < bytes.len() {
            if bytes[i] == b'?' {
                let Some(&c) = bytes.get(i + 1) else {
                    return Err(bad(format!(
                        "mask {text:?} ends with a lone '?': write ?? for a literal '?'"
                    )));
                };
                let set: Vec<u8> = match c {
                    b'l' => LOWER.to_vec(),
                    b'u' => UPPER.to_vec(),
                    b'd' => DIGITS.to_vec(),
                    b's' => SYMBOLS.to_vec(),
                    b'a' => [LOWER, UPPER, DIGITS, SYMBOLS].concat(),
                    b'h' => HEX_LOWER.to_vec(),
                    b'H' => HEX_UPPER.to_vec(),
                    b'b' => (0..=255u8).collect(),
                    b'?' => vec![b'?'],
                    other => {
                        return Err(bad(format!(
                            "mask {text:?}: unknown charset '?{}': use ?l ?u ?d ?s ?a ?h ?H ?b or ?? for '?'",
                            char::from(other).escape_default()
                        )))
                    }
                };
                positions.push(set);
                i += 2;
            } else {
                positions.push(vec![bytes[i]]);
                i += 1;
            }
        }
        if positions.is_empty() {
            return Err(bad(
                "the mask is empty: give at least one position, e.g. ?l?l?d?d".into(),
            ));
        }
        if positions.len() > MAX_MASK_LEN {
            return Err(bad(format!(
                "the mask has {} positions; at most {MAX_MASK_LEN} are supported",
                positions.len()
            )));
        }
        let n = positions.len();
        let mask = Mask {
            positions,
            min: n,
            max: n,
        };
        mask.keyspace()?;
        Ok(mask)
    }

    /// Tries every length from `min` to `max` (each a prefix of the mask).
    pub fn with_lengths(mut self, min: usize, max: usize) -> Result<Mask> {
        let n = self.positions.len();
        if min == 0 || min > max || max > n {
            return Err(bad(format!(
                "mask lengths {min}..{max} do not fit a mask of {n} positions: give 1 <= min <= max <= {n}"
            )));
        }
        self.min = min;
        self.max = max;
        self.keyspace()?;
        Ok(self)
    }

    /// Number of positions of the full mask.
    pub fn len(&self) -> usize {
        self.positions.len()
    }

    /// Whether the mask has no positions (never true for a parsed mask).
    pub fn is_empty(&self) -> bool {
        self.positions.is_empty()
    }

    /// The shortest and longest candidate lengths tried.
    pub fn lengths(&self) -> (usize, usize) {
        (self.min, self.max)
    }

    fn keyspace_of(&self, len: usize) -> Option<u64> {
        self.positions[..len]
            .iter()
            .try_fold(1u64, |acc, p| acc.checked_mul(p.len() as u64))
    }

    /// How many candidates the mask makes over all its lengths (at most
    /// 2^63, so that work cursors never wrap).
    pub fn keyspace(&self) -> Result<u64> {
        (self.min..=self.max)
            .try_fold(0u64, |acc, l| acc.checked_add(self.keyspace_of(l)?))
            .filter(|&k| k <= 1 << 63)
            .ok_or_else(|| {
                bad(
                    "the mask makes more than 2^63 candidates: shorten it or use narrower charsets"
                        .into(),
                )
            })
    }

    /// Calls `f` with candidates number `start..end` of the whole run (all
    /// lengths, shortest first), stopping early when `f` returns false.
    /// Returns how many candidates were passed to `f`.
    pub(crate) fn for_range(
        &self,
        mut start: u64,
        end: u64,
        mut f: impl FnMut(&[u8]) -> bool,
    ) -> u64 {
        let mut passed = 0;
        let mut base = 0u64;
        for len in self.min..=self.max {
            // Keyspaces were checked when the mask was built.
            let space = self.keyspace_of(len).unwrap_or(u64::MAX);
            let (lo, hi) = (base, base.saturating_add(space));
            base = hi;
            if start >= hi || start >= end {
                continue;
            }
            let stop = end.min(hi);
            let (n, go_on) = self.walk(len, start - lo, stop - start, &mut f);
            passed += n;
            if !go_on {
                return passed;
            }
            start = stop;
        }
        passed
    }

    /// Candidates `first..first + count` of length `len`.
    fn walk(
        &self,
        len: usize,
        first: u64,
        count: u64,
        f: &mut impl FnMut(&[u8]) -> bool,
    ) -> (u64, bool) {
        let sets = &self.positions[..len];
        let mut digits = [0usize; MAX_MASK_LEN];
        let mut buf = [0u8; MAX_MASK_LEN];
        let mut rest = first;
        for p in (0..len).rev() {
            let radix = sets[p].len() as u64;
            digits[p] = (rest % radix) as usize;
            rest /= radix;
            buf[p] = sets[p][digits[p]];
        }
        for n in 0..count {
            if !f(&buf[..len]) {
                return (n + 1, false);
            }
            // Odometer: bump the last position, carrying leftwards.
            let mut p = len;
            while p > 0 {
                p -= 1;
                digits[p] += 1;
                if digits[p] < sets[p].len() {
                    buf[p] = sets[p][digits[p]];
                    break;
                }
                digits[p] = 0;
                buf[p] = sets[p][0];
            }
        }
        (count, true)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all(m: &Mask) -> Vec<Vec<u8>> {
        let mut out = Vec::new();
        m.for_range(0, m.keyspace().unwrap(), |c| {
            out.push(c.to_vec());
            true
        });
        out
    }

    #[test]
    fn charsets_and_literals() {
        let m = Mask::parse("a?d?").unwrap_err();
        assert_eq!(m.code(), "bad_mask");
        let m = Mask::parse("x?d??").unwrap();
        let c = all(&m);
        assert_eq!(c.len(), 10);
        assert_eq!(c[0], b"x0?");
        assert_eq!(c[9], b"x9?");
        assert_eq!(Mask::parse("?a").unwrap().keyspace().unwrap(), 95);
        assert_eq!(Mask::parse("?s").unwrap().keyspace().unwrap(), 33);
        assert_eq!(
            Mask::parse("?b?h?H").unwrap().keyspace().unwrap(),
            256 * 16 * 16
        );
        assert!(Mask::parse("?q").is_err());
        assert!(Mask::parse("").is_err());
        assert!(Mask::parse(&"?b".repeat(9)).is_err(), "2^72 candidates");
    }

    #[test]
    fn ranges_cover_every_candidate_once_across_lengths() {
        let m = Mask::parse("?d?l?d").unwrap().with_lengths(1, 3).unwrap();
        let whole = all(&m);
        assert_eq!(whole.len(), 10 + 260 + 2600);
        assert_eq!(whole[0], b"0");
        assert_eq!(whole[10], b"0a");
        assert_eq!(whole.last().unwrap(), b"9z9");
        // Any split into ranges yields the same sequence.
        for step in [1u64, 7, 10, 11, 259, 1000] {
            let mut pieces = Vec::new();
            let mut s = 0;
            while s < whole.len() as u64 {
                let e = (s + step).min(whole.len() as u64);
                let n = m.for_range(s, e, |c| {
                    pieces.push(c.to_vec());
                    true
                });
                assert_eq!(n, e - s);
                s = e;
            }
            assert_eq!(pieces, whole, "step {step}");
        }
        assert!(Mask::parse("?d").unwrap().with_lengths(1, 2).is_err());
        assert!(Mask::parse("?d?d").unwrap().with_lengths(0, 2).is_err());
        assert!(Mask::parse("?d?d").unwrap().with_lengths(2, 1).is_err());
    }
}
