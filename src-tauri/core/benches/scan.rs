//! `keyward scan` beside ripgrep on the same generated tree, in one run:
//! 10,000 files of mixed sizes (source-like text, a few binaries, a few
//! planted fake secrets), scanned warm (page cache filled by a first pass),
//! best of several runs each. Ripgrep gets the scanner's candidate shapes as
//! an equivalent regex set and searches hidden files too, with its default
//! thread count; `keyward` uses its default too (one thread per core).
//!
//!     scripts/bench-scan.sh        (installs ripgrep from apt if missing)
//!     cargo bench -p keyward-core --bench scan
//!
//! Prints files/s and MB/s for both and the throughput ratio against the
//! target (keyward ≥ 0.5× ripgrep). `KEYWARD_BENCH_STRICT=1` makes a miss
//! exit 1. `KEYWARD_BENCH_FILES=N` changes the tree size.

use keyward_core::keys::apikey::ApiKey;
use keyward_core::scan::{fake_github_token, scan, Detector, ScanOptions};
use std::fs;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const TARGET_RATIO: f64 = 0.5;
const RUNS: usize = 5;

/// The scanner's candidate shapes, as ripgrep regexes.
const RG_PATTERNS: &[&str] = &[
    r"[a-z0-9]{2,12}_[A-Za-z0-9]{49}",
    r"gh[pousr]_[A-Za-z0-9]{36}",
    r"github_pat_[A-Za-z0-9_]{82}",
    r"[sr]k_(live|test)_[A-Za-z0-9]{20,}",
    r"(AKIA|ASIA)[A-Z2-7]{16}",
    r"xox[bpaors]-[0-9][A-Za-z0-9-]{19,}",
    r"xapp-[0-9]-[A-Z0-9]+-[0-9]+-[a-z0-9]{16,}",
    r"hooks\.slack\.com/services/T[A-Z0-9]+/B[A-Z0-9]+/[A-Za-z0-9]{20,}",
    r"-----BEGIN [A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----",
    r"eyJ[A-Za-z0-9_-]{12,}\.[A-Za-z0-9_-]{2,}\.[A-Za-z0-9_-]*",
];

/// A small deterministic generator (xorshift64*): the tree is the same on
/// every run and machine.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    fn range(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.below(hi - lo)
    }
}

const WORDS: &[&str] = &[
    "fn",
    "let",
    "mut",
    "self",
    "return",
    "match",
    "if",
    "else",
    "for",
    "in",
    "while",
    "struct",
    "impl",
    "pub",
    "use",
    "const",
    "static",
    "async",
    "await",
    "Result",
    "Option",
    "Some",
    "None",
    "Ok",
    "Err",
    "String",
    "Vec",
    "HashMap",
    "config",
    "request",
    "response",
    "user_id",
    "account_name",
    "created_at",
    "updated_at",
    "max_retries",
    "http_client",
    "parse_header",
    "token_count",
    "is_valid",
    "the",
    "value",
    "of",
    "and",
    "with",
    "from",
    "into",
    "buffer",
    "length",
    "index",
    "error",
    "handler",
    "session",
    "cache",
    "database",
    "query",
    "SELECT",
    "WHERE",
    "api_version",
    "timeout_ms",
    "0",
    "1",
    "42",
    "1024",
    "0xff",
    "3.14",
    "true",
    "false",
    "null",
    "TODO",
    "FIXME",
    "snake_case_name",
    "CamelCaseName",
    "SCREAMING_CASE",
    "__init__",
    "self.assertEqual",
    "console.log",
    "print",
    "import",
    "export",
    "default",
    "module",
];

const PUNCT: &[&str] = &[
    " ", " ", " ", " ", ", ", "(", ")", ".", "::", " = ", ";", " -> ", "{", "}", "[", "]", ": ",
    "\"", "'", " + ", " * ", " == ", " && ",
];

/// Source-like text of about `size` bytes.
fn text(rng: &mut Rng, size: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(size + 128);
    let mut col = 0;
    while out.len() < size {
        if rng.below(40) == 0 {
            // Now and then a base64-looking blob or a hex hash.
            let n = rng.range(16, 64) as usize;
            for _ in 0..n {
                let c = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
                    [rng.below(64) as usize];
                out.push(c);
            }
        } else {
            out.extend_from_slice(WORDS[rng.below(WORDS.len() as u64) as usize].as_bytes());
        }
        out.extend_from_slice(PUNCT[rng.below(PUNCT.len() as u64) as usize].as_bytes());
        col += 8;
        if col > rng.range(40, 110) {
            out.push(b'\n');
            let indent = (rng.below(3) * 4) as usize;
            out.extend(std::iter::repeat_n(b' ', indent));
            col = 0;
        }
    }
    out.push(b'\n');
    out
}

fn planted(rng: &mut Rng, i: usize) -> String {
    let b30: String = (0..30)
        .map(|_| {
            b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                [rng.below(62) as usize] as char
        })
        .collect();
    match i % 7 {
        0 => {
            let k = ApiKey::generate("kw").expect("the OS random generator works");
            format!("KEYWARD_KEY={}\n", k.secret().expose_str().unwrap_or_default())
        }
        1 => format!("GITHUB_TOKEN={}\n", fake_github_token("ghp_", &b30)),
        2 => "aws_access_key_id = AKIAIOSFODNN7EXAMPLE\n".into(),
        3 => format!("stripe.api_key = \"sk_live_{b30}\"\n"),
        4 => format!("SLACK_BOT_TOKEN=xoxb-1234567890-1234567890123-{}\n", &b30[..24]),
        5 => format!(
            "-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEI{}\n{}\n-----END PRIVATE KEY-----\n",
            b30, b30
        ),
        _ => "Authorization: Bearer eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJmYWtlLXVzZXIiLCJpYXQiOjE3MDAwMDAwMDAsImV4cCI6MTcwMDAwMzYwMH0.kCrN2OupgZ_gI01GYZvcW00izRvWfwq6Ck5oS5WctBE\n".into(),
    }
}

struct Tree {
    files: u64,
    bytes: u64,
    planted: usize,
    binaries: u64,
}

/// 10 top directories × 10 subdirectories × N/100 files; sizes: 60% 0.5–4 KiB,
/// 30% 4–32 KiB, 9% 32–128 KiB, 1% 128–512 KiB; 1% binaries; about 35 files with a secret.
fn generate(root: &Path, n: usize) -> Tree {
    let mut rng = Rng(0x5EED_CAFE_F00D_BEEF);
    let mut tree = Tree {
        files: 0,
        bytes: 0,
        planted: 0,
        binaries: 0,
    };
    let exts = [
        "rs", "py", "js", "ts", "go", "md", "json", "yaml", "toml", "txt",
    ];
    let plant_every = n / 35;
    for i in 0..n {
        let dir = root.join(format!("d{}/s{}", i % 10, (i / 10) % 10));
        if i < 100 {
            fs::create_dir_all(&dir).expect("create the bench tree");
        }
        let roll = rng.below(100);
        let size = match roll {
            0..=59 => rng.range(512, 4096),
            60..=89 => rng.range(4096, 32 * 1024),
            90..=98 => rng.range(32 * 1024, 128 * 1024),
            _ => rng.range(128 * 1024, 512 * 1024),
        } as usize;
        let mut body = text(&mut rng, size);
        if i % 100 == 50 {
            // A binary: NUL bytes early on.
            body[16] = 0;
            body[17] = 0;
            tree.binaries += 1;
        } else if plant_every > 0 && i % plant_every == 7 {
            let at = body.len() / 2;
            let at = at + body[at..].iter().position(|&b| b == b'\n').unwrap_or(0) + 1;
            let secret = planted(&mut rng, tree.planted);
            body.splice(at.min(body.len())..at.min(body.len()), secret.into_bytes());
            tree.planted += 1;
        }
        let name = dir.join(format!("f{i}.{}", exts[i % exts.len()]));
        fs::write(&name, &body).expect("write a bench file");
        tree.files += 1;
        tree.bytes += body.len() as u64;
    }
    tree
}

fn best(times: &[Duration]) -> Duration {
    times.iter().copied().min().unwrap_or_default()
}

fn median(times: &[Duration]) -> Duration {
    let mut t = times.to_vec();
    t.sort();
    t[t.len() / 2]
}

fn rg_available() -> bool {
    Command::new("rg")
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// One ripgrep run with `patterns`; returns the elapsed time and the number
/// of files with a match.
fn run_rg(root: &Path, patterns: &[&str]) -> (Duration, usize) {
    let mut cmd = Command::new("rg");
    cmd.args([
        "--hidden",
        "--count",
        "--no-messages",
        "--max-filesize",
        "10M",
    ]);
    for p in patterns {
        cmd.arg("-e").arg(p);
    }
    cmd.arg(root).stderr(Stdio::null());
    let start = Instant::now();
    let out = cmd.output().expect("run rg");
    let elapsed = start.elapsed();
    (
        elapsed,
        out.stdout
            .split(|&b| b == b'\n')
            .filter(|l| !l.is_empty())
            .count(),
    )
}

fn main() {
    // `cargo bench` passes `--bench`; nothing else is accepted.
    let n: usize = std::env::var("KEYWARD_BENCH_FILES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10_000);
    let tmp = tempfile::tempdir().expect("a temporary directory");
    let root = tmp.path().join("tree");
    let t0 = Instant::now();
    let tree = generate(&root, n);
    let mb = tree.bytes as f64 / 1e6;
    println!(
        "tree: {} files ({} binary), {:.1} MB, {} planted secrets; generated in {:.1} s; {} cores",
        tree.files,
        tree.binaries,
        mb,
        tree.planted,
        t0.elapsed().as_secs_f64(),
        std::thread::available_parallelism().map_or(1, |n| n.get())
    );

    let opts = ScanOptions::new(vec![root.clone()]);
    let have_rg = rg_available();
    // Warm the page cache and check both tools see the planted secrets.
    let report = scan(&opts, None).expect("scan the tree");
    let rg_files = if have_rg {
        run_rg(&root, RG_PATTERNS).1
    } else {
        0
    };
    println!(
        "keyward: {} findings in {} files scanned ({:.1} MB; {} binary skipped)",
        report.findings.len(),
        report.files_scanned,
        report.bytes_scanned as f64 / 1e6,
        report.skipped.binary
    );
    assert!(
        report.findings.len() >= tree.planted,
        "the scanner missed planted secrets"
    );

    let mut ours = Vec::new();
    let mut theirs = Vec::new();
    let mut theirs_literal = Vec::new();
    for _ in 0..RUNS {
        let start = Instant::now();
        let r = scan(&opts, None).expect("scan the tree");
        ours.push(start.elapsed());
        std::hint::black_box(r);
        if have_rg {
            theirs.push(run_rg(&root, RG_PATTERNS).0);
            // For context: without the Keyward shape, the one pattern with
            // no literal to anchor on, ripgrep can use its literal prefilter.
            theirs_literal.push(run_rg(&root, &RG_PATTERNS[1..]).0);
        }
    }

    // The detectors alone, one thread, on the text already in memory.
    let detector = Detector::new(chrono::Utc::now());
    let mut blobs = Vec::new();
    for e in walk_files(&root) {
        let b = fs::read(&e).expect("read a bench file");
        if !b[..b.len().min(8192)].contains(&0) {
            blobs.push(b);
        }
    }
    let blob_bytes: usize = blobs.iter().map(Vec::len).sum();
    let mut hits = 0;
    let mut detect_times = Vec::new();
    for _ in 0..RUNS {
        let start = Instant::now();
        hits = blobs.iter().map(|b| detector.find(b).len()).sum::<usize>();
        detect_times.push(start.elapsed());
    }
    let detect_time = best(&detect_times);

    let line = |name: &str, t: Duration, med: Duration| {
        let s = t.as_secs_f64();
        println!(
            "{name:<8} best {:>7.1} ms (median {:>7.1} ms)  {:>9.0} files/s  {:>7.1} MB/s",
            s * 1e3,
            med.as_secs_f64() * 1e3,
            tree.files as f64 / s,
            mb / s
        );
    };
    println!("\nwarm cache, best of {RUNS} runs each:");
    line("keyward", best(&ours), median(&ours));
    println!(
        "detectors alone (1 thread, in memory): {:.1} MB/s over {:.1} MB ({hits} hits)",
        blob_bytes as f64 / 1e6 / detect_time.as_secs_f64(),
        blob_bytes as f64 / 1e6
    );
    if !have_rg {
        println!("\nrg not found: install ripgrep (apt-get install -y ripgrep) for the comparison");
        return;
    }
    line("ripgrep", best(&theirs), median(&theirs));
    println!("ripgrep matched lines in {rg_files} files");
    line("rg-lit", best(&theirs_literal), median(&theirs_literal));
    println!(
        "(rg-lit: ripgrep without the Keyward key shape, whose user-chosen prefix \
         gives no literal; for context only: keyward still looks for those keys)"
    );
    let ratio_lit = best(&theirs_literal).as_secs_f64() / best(&ours).as_secs_f64();
    println!("keyward throughput = {ratio_lit:.2}× rg-lit's");
    let ratio = best(&theirs).as_secs_f64() / best(&ours).as_secs_f64();
    let verdict = if ratio >= TARGET_RATIO {
        "meets"
    } else {
        "MISSES"
    };
    println!(
        "\nkeyward throughput = {ratio:.2}× ripgrep's ({verdict} the target of ≥ {TARGET_RATIO}×)"
    );
    if ratio < TARGET_RATIO && std::env::var("KEYWARD_BENCH_STRICT").is_ok_and(|v| v == "1") {
        std::process::exit(1);
    }
}

fn walk_files(root: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in fs::read_dir(&d).expect("read a bench directory") {
            let p = e.expect("a directory entry").path();
            if p.is_dir() {
                stack.push(p);
            } else {
                out.push(p);
            }
        }
    }
    out
}
