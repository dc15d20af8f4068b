//! Wordlists: a file memory-mapped (any size, nothing copied), split into
//! byte-range chunks that workers take one at a time. A line belongs to the
//! chunk in which it starts, so chunks need no pre-scan of the file and every
//! line is tried exactly once whatever the chunk size.

use crate::error::{Error, Result};
use memchr::memchr;
use std::fs::File;
use std::path::Path;

/// A wordlist's bytes: one candidate per line, `\n` or `\r\n`.
pub struct Wordlist {
    bytes: Bytes,
}

enum Bytes {
    Mapped(memmap2::Mmap),
    Owned(Vec<u8>),
    Static(&'static [u8]),
}

fn unreadable(path: &Path, why: impl std::fmt::Display) -> Error {
    Error::invalid(
        "unreadable_wordlist",
        format!("cannot read wordlist {}: {why}", path.display()),
    )
}

impl Wordlist {
    /// Maps the file at `path` (reads it whole when it is not a regular
    /// file, e.g. a pipe).
    pub fn open(path: &Path) -> Result<Wordlist> {
        let file = File::open(path).map_err(|e| unreadable(path, e))?;
        let meta = file.metadata().map_err(|e| unreadable(path, e))?;
        if meta.is_dir() {
            return Err(unreadable(path, "it is a directory"));
        }
        if !meta.is_file() {
            let mut buf = Vec::new();
            std::io::Read::read_to_end(&mut &file, &mut buf).map_err(|e| unreadable(path, e))?;
            return Ok(Wordlist::from_vec(buf));
        }
        if meta.len() == 0 {
            return Ok(Wordlist::from_vec(Vec::new()));
        }
        // SAFETY: the map is read-only and private to this process. If another
        // process truncates the file while we read it, the OS raises SIGBUS
        // (the run dies, it cannot read wrong memory); a wordlist being
        // rewritten during a crack run is a usage error we accept that risk for,
        // as every mmap-based cracker does, in exchange for zero-copy reading of
        // lists larger than memory.
        let map = unsafe { memmap2::Mmap::map(&file) }.map_err(|e| unreadable(path, e))?;
        #[cfg(unix)]
        {
            // A hint only: a failure changes nothing but read-ahead.
            let _ = map.advise(memmap2::Advice::Sequential);
        }
        Ok(Wordlist {
            bytes: Bytes::Mapped(map),
        })
    }

    /// A wordlist held in memory.
    pub fn from_vec(bytes: Vec<u8>) -> Wordlist {
        Wordlist {
            bytes: Bytes::Owned(bytes),
        }
    }

    /// A wordlist compiled into the binary.
    pub fn from_static(bytes: &'static [u8]) -> Wordlist {
        Wordlist {
            bytes: Bytes::Static(bytes),
        }
    }

    /// The raw bytes.
    pub fn bytes(&self) -> &[u8] {
        match &self.bytes {
            Bytes::Mapped(m) => m,
            Bytes::Owned(v) => v,
            Bytes::Static(s) => s,
        }
    }
}

/// Calls `f` with each non-empty line (trailing `\r` removed) that starts in
/// `buf[start..end]`, stopping when `f` returns false.
#[inline]
pub(crate) fn lines_in(buf: &[u8], start: usize, end: usize, mut f: impl FnMut(&[u8]) -> bool) {
    let mut pos = start;
    if pos > 0 && buf[pos - 1] != b'\n' {
        // The line under `start` began in an earlier chunk: skip it.
        pos = match memchr(b'\n', &buf[pos..]) {
            Some(i) => pos + i + 1,
            None => return,
        };
    }
    while pos < end {
        let (line, next) = match memchr(b'\n', &buf[pos..]) {
            Some(i) => (&buf[pos..pos + i], pos + i + 1),
            None => (&buf[pos..], buf.len()),
        };
        pos = next;
        let line = match line.last() {
            Some(b'\r') => &line[..line.len() - 1],
            _ => line,
        };
        if !line.is_empty() && !f(line) {
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_line_once_whatever_the_chunking() {
        let text = b"alpha\r\n\nb\r\r\n\r\ngamma delta\nlast-no-newline";
        let want: Vec<&[u8]> = vec![b"alpha", b"b\r", b"gamma delta", b"last-no-newline"];
        for chunk in 1..=text.len() + 1 {
            let mut got = Vec::new();
            let mut s = 0;
            while s < text.len() {
                let e = (s + chunk).min(text.len());
                lines_in(text, s, e, |l| {
                    got.push(l.to_vec());
                    true
                });
                s = e;
            }
            assert_eq!(got, want, "chunk {chunk}");
        }
    }
}
