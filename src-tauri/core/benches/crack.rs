//! `jwt crack` speed: candidates per second on one HS256 token whose signing
//! input is 335 bytes, measured in one run for
//!
//! - Keyward's cracker in process (`keyward_core::crack` over a
//!   memory-mapped wordlist), 1 thread and all threads;
//! - the `keyward` binary end to end (process start and mmap included), when
//!   `KEYWARD_BIN` names it;
//! - a raw single-purpose HMAC-SHA256 loop written here as the practical
//!   limit: padded message blocks prepared once, keys made from a counter, two
//!   calls into `sha2::compress256` per key, nothing else (same threads);
//! - the `hmac` crate's HMAC-SHA256 per key, for reference;
//! - `jwt-hack crack` on the same token and wordlist, when `JWT_HACK` names it.
//!
//! It prints the ratios to the targets: Keyward ≥ 90% of the raw
//! loop, ≥ 4× jwt-hack. Not a test: figures vary with the machine and its
//! load. Run it through `scripts/bench-crack.sh` (release build, jwt-hack
//! installed into target/bench-tools), or `cargo bench -p keyward-core
//! --bench crack`. `KEYWARD_BENCH_WORDS` sets the wordlist size (default
//! 3,000,000), `KEYWARD_BENCH_ROUNDS` the rounds per figure (default 3, the
//! best is kept: on a shared machine the best round is the least disturbed).

use keyward_core::crack::{self, Candidates, CrackOptions, Target, Wordlist};
use keyward_core::crypto::{Alg, PrivateKey};
use keyward_core::jwt;
use serde_json::{json, Map, Value};
use sha2::digest::generic_array::typenum::U64;
use sha2::digest::generic_array::GenericArray;
use std::hint::black_box;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::AtomicBool;
use std::time::{Duration, Instant};

const SIGNING_INPUT_LEN: usize = 335;
/// Not in the wordlist: every run goes through the whole list.
const SECRET: &[u8] = b"bench-secret-that-is-not-in-the-list";

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// An `alg` token whose signing input is exactly 335 bytes.
fn bench_token(alg: Alg) -> String {
    let key = PrivateKey::from_hmac_secret(SECRET).unwrap();
    // Pad a claim until the signing input is exactly the wanted size.
    for pad in 0..400 {
        let mut claims = Map::new();
        claims.insert("sub".into(), json!("1234567890"));
        claims.insert("name".into(), json!("Bench Mark"));
        claims.insert("iat".into(), json!(1_700_000_000));
        claims.insert("scope".into(), json!("x".repeat(pad)));
        let t = jwt::sign(&key, alg, Map::new(), claims).unwrap();
        if jwt::parse(&t).unwrap().signing_input().len() == SIGNING_INPUT_LEN {
            return t;
        }
    }
    panic!("no claim padding gives a {SIGNING_INPUT_LEN}-byte signing input");
}

/// `n` distinct words of 7 to 12 bytes, one per line.
fn write_wordlist(path: &Path, n: usize) {
    let mut f = std::io::BufWriter::new(std::fs::File::create(path).unwrap());
    let mut x: u64 = 0x9e3779b97f4a7c15;
    for i in 0..n {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        let extra = (x % 6) as usize;
        let tail: String = (0..extra)
            .map(|k| char::from(b'a' + ((x >> (8 * k)) % 26) as u8))
            .collect();
        writeln!(f, "w{i:06}{tail}").unwrap();
    }
    f.flush().unwrap();
}

fn keyward_in_process(target: &Target, words: &Wordlist, threads: usize) -> (u64, Duration, ()) {
    let o = crack::crack(
        target,
        Candidates::Wordlist(words.bytes()),
        &CrackOptions::threads(threads),
        &mut |_| {},
        &AtomicBool::new(false),
    );
    assert!(o.found.is_none());
    (o.tried, o.elapsed, ())
}

/// The practical limit: HMAC-SHA256 of the signing input under `per_thread`
/// counter-made keys on each of `threads` threads, two compress calls each.
fn raw_loop(input: &[u8], tag: &[u8], threads: usize, per_thread: u64) -> (u64, Duration, ()) {
    const IV: [u32; 8] = [
        0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab,
        0x5be0cd19,
    ];
    let pad = |prefix: usize, msg: &[u8]| -> Vec<GenericArray<u8, U64>> {
        let total = prefix + msg.len();
        let blocks = (total + 9).div_ceil(64);
        let mut b = vec![0u8; blocks * 64];
        b[prefix..total].copy_from_slice(msg);
        b[total] = 0x80;
        let n = b.len();
        b[n - 8..].copy_from_slice(&((total as u64) * 8).to_be_bytes());
        b.chunks_exact(64)
            .map(GenericArray::clone_from_slice)
            .collect()
    };
    let want = u32::from_be_bytes([tag[0], tag[1], tag[2], tag[3]]);
    let start = Instant::now();
    std::thread::scope(|s| {
        for t in 0..threads {
            let (pad, input) = (&pad, input);
            s.spawn(move || {
                let mut inner = pad(64, input);
                let mut outer = pad(64, &[0u8; 32]);
                let mut hits = 0u32;
                for i in 0..per_thread {
                    let mut key = [0u8; 64];
                    key[..8].copy_from_slice(&(i * 64 + t as u64).to_le_bytes());
                    key[8] = b'k';
                    for j in 0..64 {
                        inner[0][j] = key[j] ^ 0x36;
                        outer[0][j] = key[j] ^ 0x5c;
                    }
                    let mut st = IV;
                    sha2::compress256(&mut st, &inner);
                    for (dst, w) in outer[1].chunks_exact_mut(4).zip(st) {
                        dst.copy_from_slice(&w.to_be_bytes());
                    }
                    let mut st = IV;
                    sha2::compress256(&mut st, &outer);
                    hits += u32::from(st[0] == want);
                }
                black_box(hits);
            });
        }
    });
    (per_thread * threads as u64, start.elapsed(), ())
}

/// HMAC-SHA256 through the `hmac` crate, one key at a time.
fn hmac_crate_loop(
    input: &[u8],
    tag: &[u8],
    threads: usize,
    per_thread: u64,
) -> (u64, Duration, ()) {
    use hmac::{Hmac, Mac};
    let start = Instant::now();
    std::thread::scope(|s| {
        for t in 0..threads {
            s.spawn(move || {
                let mut hits = 0u32;
                for i in 0..per_thread {
                    let key = (i * 64 + t as u64).to_le_bytes();
                    let mut m = <Hmac<sha2::Sha256> as Mac>::new_from_slice(&key).unwrap();
                    m.update(input);
                    hits += u32::from(m.verify_slice(tag).is_ok());
                }
                black_box(hits);
            });
        }
    });
    (per_thread * threads as u64, start.elapsed(), ())
}

/// Wall-clock rate of an external cracker on `lines` candidates.
fn external(mut cmd: Command, lines: u64) -> Option<(u64, Duration, String)> {
    let start = Instant::now();
    let out = cmd.output().ok()?;
    let d = start.elapsed();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    // Exit 1 (not found) is the expected outcome for both tools' runs here.
    if !matches!(out.status.code(), Some(0) | Some(1)) {
        eprintln!(
            "  {:?} failed: {}",
            cmd.get_program(),
            String::from_utf8_lossy(&out.stderr)
        );
        return None;
    }
    Some((lines, d, stdout))
}

/// CPU seconds (user + system) used so far by this process and its waited-for
/// children: rates per CPU-second stay meaningful when other work shares the
/// machine, where wall-clock rates do not.
#[cfg(unix)]
fn cpu_seconds() -> f64 {
    let mut total = 0.0;
    for who in [libc::RUSAGE_SELF, libc::RUSAGE_CHILDREN] {
        // SAFETY: getrusage writes one rusage into the zeroed struct we own.
        let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
        if unsafe { libc::getrusage(who, &mut ru) } == 0 {
            for tv in [ru.ru_utime, ru.ru_stime] {
                total += tv.tv_sec as f64 + tv.tv_usec as f64 / 1e6;
            }
        }
    }
    total
}

#[cfg(not(unix))]
fn cpu_seconds() -> f64 {
    f64::NAN
}

fn fmt_rate(r: f64) -> String {
    format!("{:>8.2} M/s", r / 1e6)
}

/// One measured configuration: a label and a run returning (candidates, time).
struct Case<'a> {
    label: String,
    run: Box<dyn FnMut() -> Option<(u64, Duration)> + 'a>,
    /// Best candidates per wall-clock second.
    best: f64,
    /// Best candidates per CPU-second (all threads' CPU time added up).
    best_cpu: f64,
}

fn main() {
    let rounds = env_usize("KEYWARD_BENCH_ROUNDS", 3).max(1);
    let n_words = env_usize("KEYWARD_BENCH_WORDS", 3_000_000);
    let cpus = std::thread::available_parallelism().map_or(1, |n| n.get());
    let dir: PathBuf = std::env::var_os("KEYWARD_BENCH_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| std::env::temp_dir().join("keyward-bench-crack"));
    std::fs::create_dir_all(&dir).unwrap();
    let list_path = dir.join(format!("words-{n_words}.txt"));
    if !list_path.exists() {
        write_wordlist(&list_path, n_words);
    }
    let token = bench_token(Alg::HS256);
    let parsed = jwt::parse(&token).unwrap();
    let input = parsed.signing_input().as_bytes().to_vec();
    let tag = parsed.signature().to_vec();
    assert_eq!(input.len(), SIGNING_INPUT_LEN);
    let target = Target::from_token(&parsed).unwrap();
    let words = Wordlist::open(&list_path).unwrap();
    let others: Vec<(Alg, Target)> = [Alg::HS384, Alg::HS512]
        .into_iter()
        .map(|a| {
            let t = jwt::parse(&bench_token(a)).unwrap();
            (a, Target::from_token(&t).unwrap())
        })
        .collect();

    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|c| {
            c.lines()
                .find(|l| l.starts_with("model name"))
                .map(|l| l.split(':').nth(1).unwrap_or("").trim().to_string())
        })
        .unwrap_or_else(|| "unknown CPU".into());
    #[cfg(target_arch = "x86_64")]
    let sha_ext = std::is_x86_feature_detected!("sha");
    #[cfg(not(target_arch = "x86_64"))]
    let sha_ext = false;
    let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    println!(
        "jwt crack benchmark: HS256, {SIGNING_INPUT_LEN}-byte signing input, {n_words} candidates per run"
    );
    println!(
        "machine: {cpu}, {cpus} logical CPUs, SHA extensions: {}; load average before: {}",
        if sha_ext { "yes" } else { "no" },
        load.split_whitespace()
            .take(3)
            .collect::<Vec<_>>()
            .join(" ")
    );
    println!("best of {rounds} interleaved rounds (every case once per round)");
    println!();

    let total = n_words as u64;
    let threads: Vec<usize> = if cpus > 1 { vec![1, cpus] } else { vec![1] };
    let bin = std::env::var_os("KEYWARD_BIN").filter(|b| Path::new(b).exists());
    let jwt_hack = std::env::var_os("JWT_HACK").filter(|b| Path::new(b).exists());
    let mut cases: Vec<Case> = Vec::new();
    macro_rules! add {
        ($label:expr, $run:expr $(,)?) => {
            cases.push(Case {
                label: $label,
                run: $run,
                best: 0.0,
                best_cpu: 0.0,
            })
        };
    }
    for &t in &threads {
        let (input, tag) = (&input, &tag);
        add!(
            format!("raw HMAC-SHA256 loop, {t} thread(s)"),
            Box::new(move || {
                let (n, d, ()) = raw_loop(input, tag, t, total / t as u64);
                Some((n, d))
            }),
        );
        let (target, words) = (&target, &words);
        add!(
            format!("keyward (in process), {t} thread(s)"),
            Box::new(move || {
                let (n, d, ()) = keyward_in_process(target, words, t);
                Some((n, d))
            }),
        );
    }
    if let Some(bin) = &bin {
        for &t in &threads {
            let (token, list_path) = (&token, &list_path);
            add!(
                format!("keyward binary, {t} thread(s)"),
                Box::new(move || {
                    let mut c = Command::new(bin);
                    c.args(["--quiet", "jwt", "crack", token, "--threads"])
                        .arg(t.to_string())
                        .arg("--wordlist")
                        .arg(list_path);
                    external(c, total).map(|(n, d, _)| (n, d))
                }),
            );
        }
    }
    for &t in &threads {
        let (input, tag) = (&input, &tag);
        add!(
            format!("hmac crate HMAC-SHA256, {t} thread(s)"),
            Box::new(move || {
                let (n, d, ()) = hmac_crate_loop(input, tag, t, total / t as u64 / 2);
                Some((n, d))
            }),
        );
    }
    if let Some(jh) = &jwt_hack {
        for (label, power) in [("default concurrency", false), ("--power", true)] {
            let (token, list_path) = (&token, &list_path);
            add!(
                format!("jwt-hack, {label}"),
                Box::new(move || {
                    let mut c = Command::new(jh);
                    c.args(["crack", "--json", "-w"]).arg(list_path);
                    if power {
                        c.arg("--power");
                    }
                    c.arg(token);
                    let (n, d, out) = external(c, total)?;
                    // Its own report must say it went through the whole list.
                    let v: Value = serde_json::from_str(&out).unwrap_or(Value::Null);
                    if v["attempts"].as_u64() != Some(n) || v["found"] != false {
                        eprintln!("  unexpected jwt-hack report: {out}");
                    }
                    Some((n, d))
                }),
            );
        }
    }
    for (alg, target) in &others {
        let words = &words;
        add!(
            format!("keyward (in process) {alg}, {cpus} thread(s)"),
            Box::new(move || {
                let (n, d, ()) = keyward_in_process(target, words, cpus);
                Some((n, d))
            }),
        );
    }

    for _ in 0..rounds {
        for c in cases.iter_mut() {
            let cpu0 = cpu_seconds();
            if let Some((n, d)) = (c.run)() {
                c.best = c.best.max(n as f64 / d.as_secs_f64());
                let cpu = cpu_seconds() - cpu0;
                if cpu > 0.0 {
                    c.best_cpu = c.best_cpu.max(n as f64 / cpu);
                }
            }
        }
    }
    println!("  {:<44} {:>12} {:>16}", "", "wall clock", "per CPU-second");
    for c in &cases {
        println!(
            "  {:<44} {} {:>12}",
            c.label,
            fmt_rate(c.best),
            fmt_rate(c.best_cpu)
        );
    }
    if bin.is_none() {
        println!("  keyward binary: skipped (set KEYWARD_BIN)");
    }
    if jwt_hack.is_none() {
        println!("  jwt-hack: not available (scripts/bench-crack.sh installs it with `cargo install jwt-hack --locked`): ratios to it skipped");
    }
    let rate = |prefix: &str, cpu: bool| {
        cases
            .iter()
            .find(|c| c.label.starts_with(prefix))
            .map(|c| if cpu { c.best_cpu } else { c.best })
            .filter(|&r| r > 0.0)
    };
    let verdict = |wall: bool, cpu: bool| {
        let word = |ok| if ok { "met" } else { "MISSED" };
        format!("target {} (wall), {} (CPU)", word(wall), word(cpu))
    };
    let all = threads[threads.len() - 1];

    println!();
    println!("ratios (targets: keyward >= 90% of the raw loop, >= 4x jwt-hack)");
    println!("{:<48} {:>12} {:>16}", "", "wall clock", "per CPU-second");
    for &t in &threads {
        for (name, who) in [
            ("keyward", "keyward (in process), "),
            ("keyward binary", "keyward binary, "),
        ] {
            let ratio = |cpu| {
                Some(
                    rate(&format!("{who}{t} "), cpu)?
                        / rate(&format!("raw HMAC-SHA256 loop, {t} "), cpu)?,
                )
            };
            if let (Some(w), Some(c)) = (ratio(false), ratio(true)) {
                println!(
                    "  {:<46} {:>11.1}% {:>15.1}%  {}",
                    format!("{name} / raw loop, {t} thread(s)"),
                    w * 100.0,
                    c * 100.0,
                    verdict(w >= 0.9, c >= 0.9)
                );
            }
        }
    }
    let jwt_hack_best = |cpu| {
        [
            rate("jwt-hack, default", cpu),
            rate("jwt-hack, --power", cpu),
        ]
        .into_iter()
        .flatten()
        .reduce(f64::max)
    };
    for (name, who) in [
        ("keyward", "keyward (in process), "),
        ("keyward binary", "keyward binary, "),
    ] {
        let ratio = |cpu| Some(rate(&format!("{who}{all} "), cpu)? / jwt_hack_best(cpu)?);
        if let (Some(w), Some(c)) = (ratio(false), ratio(true)) {
            println!(
                "  {:<46} {:>11.1}x {:>15.1}x  {}",
                format!("{name} ({all} threads) / best jwt-hack"),
                w,
                c,
                verdict(w >= 4.0, c >= 4.0)
            );
        }
    }
    let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    println!(
        "load average after: {}",
        load.split_whitespace()
            .take(3)
            .collect::<Vec<_>>()
            .join(" ")
    );
}
