//! The parallel walk: `ignore`'s walker (ripgrep's) honours `.gitignore`,
//! `.ignore` and `.keywardignore` files, even outside a git repository; each
//! worker reads files into its own reused buffer and runs the detectors.
//!
//! Hidden files are scanned (`.env` is where secrets leak); `.git`
//! directories are not. A file is skipped when it is larger than the limit
//! (checked before reading) or has a NUL byte in its first 8 KiB (checked
//! before reading the rest).

use super::detect::{Detection, Detector};
use super::{io_reason, ScanOptions, Skipped, BINARY_SNIFF_LEN};
use ignore::{WalkBuilder, WalkState};
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

/// What the walk found, before the vault is asked about Keyward keys.
pub(crate) struct Walked {
    pub hits: Vec<(PathBuf, Detection)>,
    pub files_scanned: u64,
    pub bytes_scanned: u64,
    pub skipped: Skipped,
    pub warnings: Vec<String>,
}

#[derive(Default)]
struct Counters {
    files: AtomicU64,
    bytes: AtomicU64,
    binary: AtomicU64,
    too_large: AtomicU64,
    unreadable: AtomicU64,
}

enum Outcome {
    Scanned(u64),
    Binary,
    TooLarge,
}

pub(crate) fn walk(opts: &ScanOptions, detector: &Detector) -> Walked {
    let mut builder = WalkBuilder::new(&opts.paths[0]);
    for p in &opts.paths[1..] {
        builder.add(p);
    }
    builder
        .standard_filters(opts.respect_ignore_files)
        .hidden(false)
        .require_git(false)
        .follow_links(false)
        .threads(opts.threads)
        .filter_entry(|e| !(e.file_name() == ".git" && e.file_type().is_some_and(|t| t.is_dir())));
    if opts.respect_ignore_files {
        builder.add_custom_ignore_filename(".keywardignore");
    }
    let counters = Counters::default();
    let hits: Mutex<Vec<(PathBuf, Detection)>> = Mutex::new(Vec::new());
    let warnings: Mutex<Vec<String>> = Mutex::new(Vec::new());
    let max = opts.max_file_size;
    builder.build_parallel().run(|| {
        let mut buf: Vec<u8> = Vec::with_capacity(64 * 1024);
        let counters = &counters;
        let hits = &hits;
        let warnings = &warnings;
        Box::new(move |entry| {
            let entry = match entry {
                Ok(e) => e,
                Err(e) => {
                    counters.unreadable.fetch_add(1, Ordering::Relaxed);
                    push(warnings, e.to_string());
                    return WalkState::Continue;
                }
            };
            if !entry.file_type().is_some_and(|t| t.is_file()) {
                return WalkState::Continue;
            }
            match read_text(entry.path(), &mut buf, max) {
                Ok(Outcome::Scanned(n)) => {
                    counters.files.fetch_add(1, Ordering::Relaxed);
                    counters.bytes.fetch_add(n, Ordering::Relaxed);
                    let found = detector.find(&buf);
                    if !found.is_empty() {
                        let path = entry.path().to_path_buf();
                        let mut all = hits.lock().unwrap_or_else(|p| p.into_inner());
                        all.extend(found.into_iter().map(|d| (path.clone(), d)));
                    }
                }
                Ok(Outcome::Binary) => {
                    counters.binary.fetch_add(1, Ordering::Relaxed);
                }
                Ok(Outcome::TooLarge) => {
                    counters.too_large.fetch_add(1, Ordering::Relaxed);
                }
                Err(e) => {
                    counters.unreadable.fetch_add(1, Ordering::Relaxed);
                    push(
                        warnings,
                        format!("cannot read {}: {}", entry.path().display(), io_reason(&e)),
                    );
                }
            }
            // Do not keep a large file's worth of memory per thread for the rest of the walk.
            if buf.capacity() > 1024 * 1024 {
                buf = Vec::with_capacity(64 * 1024);
            }
            WalkState::Continue
        })
    });
    let mut warnings = warnings.into_inner().unwrap_or_else(|p| p.into_inner());
    warnings.sort();
    Walked {
        hits: hits.into_inner().unwrap_or_else(|p| p.into_inner()),
        files_scanned: counters.files.into_inner(),
        bytes_scanned: counters.bytes.into_inner(),
        skipped: Skipped {
            binary: counters.binary.into_inner(),
            too_large: counters.too_large.into_inner(),
            unreadable: counters.unreadable.into_inner(),
        },
        warnings,
    }
}

fn push(warnings: &Mutex<Vec<String>>, line: String) {
    warnings
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .push(line);
}

/// Reads a text file whole into `buf`: the size limit is checked first, then
/// the first 8 KiB for a NUL byte, and only then is the rest read.
fn read_text(path: &Path, buf: &mut Vec<u8>, max: u64) -> std::io::Result<Outcome> {
    buf.clear();
    let file = std::fs::File::open(path)?;
    let len = file.metadata()?.len();
    if len > max {
        return Ok(Outcome::TooLarge);
    }
    // `take`: a file growing while we read stays within the limit.
    let mut file = file.take(max + 1);
    buf.reserve(len as usize + 1);
    let head = (&mut file).take(BINARY_SNIFF_LEN as u64).read_to_end(buf)?;
    if memchr::memchr(0, buf).is_some() {
        return Ok(Outcome::Binary);
    }
    if head == BINARY_SNIFF_LEN {
        file.read_to_end(buf)?;
    }
    if buf.len() as u64 > max {
        return Ok(Outcome::TooLarge);
    }
    Ok(Outcome::Scanned(buf.len() as u64))
}
