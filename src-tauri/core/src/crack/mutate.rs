//! `--mutate`: the few cheap rules that turn a list of base words into the
//! secrets people actually pick: case variants (as written, lower, Capitalised,
//! UPPER) crossed with common suffixes (digits runs, `!`, years), plus one
//! leetspeak spelling. Variants are written into a reused buffer, so a word's
//! mutations cost no allocation.

/// Suffixes appended to each case variant ("" keeps the word as it is).
pub const SUFFIXES: &[&str] = &[
    "", "1", "12", "123", "1234", "12345", "123456", "0", "00", "01", "2", "3", "7", "69", "99",
    "007", "!", "!!", "1!", "123!", "?", ".", "@", "#", "$", "*", "_", "2015", "2016", "2017",
    "2018", "2019", "2020", "2021", "2022", "2023", "2024", "2025", "2026",
];

/// How many candidates one word makes at most.
pub const MAX_VARIANTS: usize = 4 * SUFFIXES.len() + 1;

/// Reusable buffers for a word's variants.
#[derive(Default)]
pub(crate) struct Mutator {
    cases: [Vec<u8>; 4],
    buf: Vec<u8>,
}

fn leet(b: u8) -> u8 {
    match b {
        b'a' | b'A' => b'4',
        b'e' | b'E' => b'3',
        b'i' | b'I' => b'1',
        b'o' | b'O' => b'0',
        b's' | b'S' => b'5',
        b't' | b'T' => b'7',
        other => other,
    }
}

impl Mutator {
    /// Calls `f` with every variant of `word` (the word itself first); stops
    /// when `f` returns false. Returns how many variants were passed to `f`.
    pub(crate) fn each(&mut self, word: &[u8], mut f: impl FnMut(&[u8]) -> bool) -> u64 {
        let [asis, lower, cap, upper] = &mut self.cases;
        for v in [&mut *asis, &mut *lower, &mut *cap, &mut *upper] {
            v.clear();
            v.extend_from_slice(word);
        }
        lower.make_ascii_lowercase();
        cap.make_ascii_lowercase();
        if let Some(first) = cap.first_mut() {
            first.make_ascii_uppercase();
        }
        upper.make_ascii_uppercase();
        let mut n = 0;
        for (i, case) in self.cases.iter().enumerate() {
            // Skip a case variant identical to an earlier one ("123", "Secret").
            if self.cases[..i].iter().any(|c| c == case) {
                continue;
            }
            for suffix in SUFFIXES {
                self.buf.clear();
                self.buf.extend_from_slice(case);
                self.buf.extend_from_slice(suffix.as_bytes());
                n += 1;
                if !f(&self.buf) {
                    return n;
                }
            }
        }
        self.buf.clear();
        self.buf.extend(word.iter().map(|&b| leet(b)));
        if self.buf.as_slice() != word {
            n += 1;
            f(&self.buf);
        }
        n
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn variants(w: &str) -> Vec<String> {
        let mut out = Vec::new();
        Mutator::default().each(w.as_bytes(), |v| {
            out.push(String::from_utf8(v.to_vec()).unwrap());
            true
        });
        out
    }

    #[test]
    fn case_and_suffix_variants() {
        let v = variants("secret");
        assert_eq!(v[0], "secret");
        for want in ["Secret123", "SECRET!", "secret2024", "Secret", "53cr37"] {
            assert!(v.contains(&want.to_string()), "{want}");
        }
        assert_eq!(v.len(), 3 * SUFFIXES.len() + 1);
        // Digits have one case and no leet form beyond themselves.
        assert_eq!(variants("2024").len(), SUFFIXES.len());
        assert!(variants("MiXeD").len() <= MAX_VARIANTS);
    }

    #[test]
    fn stops_when_told() {
        let mut seen = 0;
        let n = Mutator::default().each(b"abc", |_| {
            seen += 1;
            seen < 5
        });
        assert_eq!((n, seen), (5, 5));
    }
}
