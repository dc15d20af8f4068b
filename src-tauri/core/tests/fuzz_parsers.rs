//! Fuzzing on stable Rust: the parsers of untrusted input — the token parser
//! (`jwt::parse`, then `inspect`), the key parsers (`crypto::parse_key` and
//! the `--key-file` reader `jwt::key_source_from_file`, PEM/DER/JWK/JWKS)
//! and the API-key format (`ApiKey::parse`) — run for a bounded time on
//! inputs mutated from a seed corpus: the bad-input corpus in
//! `tests/corpus/` plus valid tokens, keys and API keys made here.
//!
//! `cargo fuzz` needs nightly; this is a mutation fuzzer without coverage
//! instrumentation, guided by outcomes instead: an input that produces an
//! error message (or success) not seen before joins the corpus. Mutations
//! are byte-level (flips, inserts, deletions, splices, a dictionary of JOSE,
//! JSON, PEM and DER fragments) and structure-aware (decode a base64url
//! segment or a PEM body, mutate it, encode it back).
//!
//! A panic, or an input taking more than a second, is a finding: the input
//! is saved under `target/fuzz-findings/` and the test fails.
//! `KEYWARD_FUZZ_SECS` sets the time per target (default 8 s; 300 s with
//! `KEYWARD_LONG_TESTS=1`); `KEYWARD_FUZZ_SEED` replays a run.

use base64::Engine;
use chrono::Utc;
use keyward_core::crypto::{Alg, PrivateKey};
use keyward_core::jwt;
use keyward_core::keys::apikey::ApiKey;
use std::collections::HashSet;
use std::panic::AssertUnwindSafe;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

const MAX_INPUT: usize = 64 * 1024;

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

fn b64u() -> base64::engine::GeneralPurpose {
    base64::engine::general_purpose::URL_SAFE_NO_PAD
}

const DICT: &[&[u8]] = &[
    b".",
    b"..",
    b"{",
    b"}",
    b"[",
    b"]",
    b"\"",
    b":",
    b",",
    b"\\u0000",
    b"\\ud800",
    b"null",
    b"true",
    b"1e999",
    b"-0",
    b"\"alg\"",
    b"\"none\"",
    b"\"HS256\"",
    b"\"RS256\"",
    b"\"ES256\"",
    b"\"EdDSA\"",
    b"\"kid\"",
    b"\"jku\"",
    b"\"jwk\"",
    b"\"crit\"",
    b"\"b64\"",
    b"\"exp\"",
    b"\"nbf\"",
    b"\"aud\"",
    b"\"kty\"",
    b"\"crv\"",
    b"\"P-256\"",
    b"\"x\"",
    b"\"y\"",
    b"\"d\"",
    b"\"n\"",
    b"\"e\"",
    b"\"k\"",
    b"\"keys\"",
    b"\"use\"",
    b"\"key_ops\"",
    b"\"oct\"",
    b"\"OKP\"",
    b"\"RSA\"",
    b"\"EC\"",
    b"-----BEGIN ",
    b"-----END ",
    b"PRIVATE KEY-----",
    b"PUBLIC KEY-----",
    b"CERTIFICATE-----",
    b"EC PRIVATE KEY-----",
    b"RSA PRIVATE KEY-----",
    b"Proc-Type: 4,ENCRYPTED\n",
    b"\n",
    b"\r\n",
    b"=",
    b"==",
    b"+",
    b"/",
    b"_",
    b"-",
    b"\x30\x82",
    b"\x30\x81",
    b"\x30\x80",
    b"\x02\x01\x00",
    b"\x03\x42\x00\x04",
    b"\x06\x08",
    b"\x04\x20",
    b"\x05\x00",
    b"\xff\xff\xff\xff",
    b"\x00",
    b"kw_",
    b"ghp_",
];

/// One mutation of `input`; `other` is another corpus entry for splicing.
fn mutate(rng: &mut Rng, input: &[u8], other: &[u8]) -> Vec<u8> {
    let mut v = input.to_vec();
    let rounds = 1 + rng.below(4);
    for _ in 0..rounds {
        let len = v.len();
        match rng.below(12) {
            0 if len > 0 => {
                let i = rng.below(len);
                v[i] ^= 1 << rng.below(8);
            }
            1 if len > 0 => {
                let i = rng.below(len);
                v[i] = rng.next() as u8;
            }
            2 => {
                let i = rng.below(len + 1);
                v.insert(i, rng.next() as u8);
            }
            3 if len > 0 => {
                let a = rng.below(len);
                let b = (a + 1 + rng.below(16)).min(len);
                v.drain(a..b);
            }
            4 if len > 0 => {
                let a = rng.below(len);
                let b = (a + 1 + rng.below(64)).min(len);
                let chunk = v[a..b].to_vec();
                let at = rng.below(len + 1);
                v.splice(at..at, chunk);
            }
            5 if !other.is_empty() => {
                let a = rng.below(other.len());
                let b = (a + 1 + rng.below(256)).min(other.len());
                let at = rng.below(len + 1);
                v.splice(at..at, other[a..b].iter().copied());
            }
            6 | 7 => {
                let word = DICT[rng.below(DICT.len())];
                let at = rng.below(len + 1);
                v.splice(at..at, word.iter().copied());
            }
            8 if len > 0 => {
                // Truncate.
                v.truncate(rng.below(len));
            }
            9 => v = reencode_segment(rng, &v, other),
            10 => v = reencode_pem(rng, &v, other),
            _ => {
                // Repeat a byte many times (deep nesting, long runs).
                let b = if len > 0 { v[rng.below(len)] } else { b'[' };
                let at = rng.below(len + 1);
                let n = 1 + rng.below(2000);
                v.splice(at..at, std::iter::repeat_n(b, n));
            }
        }
    }
    v.truncate(MAX_INPUT);
    v
}

/// Decodes one base64url segment of a compact token, mutates the bytes
/// inside, encodes it back.
fn reencode_segment(rng: &mut Rng, input: &[u8], other: &[u8]) -> Vec<u8> {
    let Ok(text) = std::str::from_utf8(input) else {
        return input.to_vec();
    };
    let mut parts: Vec<String> = text.split('.').map(str::to_string).collect();
    let i = rng.below(parts.len());
    let Ok(inner) = b64u().decode(parts[i].trim()) else {
        return input.to_vec();
    };
    let mutated = mutate_flat(rng, &inner, other);
    parts[i] = b64u().encode(mutated);
    parts.join(".").into_bytes()
}

/// Decodes a PEM body, mutates the DER inside, encodes it back.
fn reencode_pem(rng: &mut Rng, input: &[u8], other: &[u8]) -> Vec<u8> {
    let Ok(text) = std::str::from_utf8(input) else {
        return input.to_vec();
    };
    let Some(start) = text.find("-----\n") else {
        return input.to_vec();
    };
    let body_start = start + 6;
    let Some(end) = text[body_start..]
        .find("\n-----END")
        .map(|e| body_start + e)
    else {
        return input.to_vec();
    };
    let body: String = text[body_start..end].split_whitespace().collect();
    let Ok(der) = base64::engine::general_purpose::STANDARD.decode(&body) else {
        return input.to_vec();
    };
    let mutated = mutate_flat(rng, &der, other);
    let enc = base64::engine::general_purpose::STANDARD.encode(mutated);
    format!("{}{}{}", &text[..body_start], enc, &text[end..]).into_bytes()
}

/// A byte-level mutation without the structure-aware ones (no recursion).
fn mutate_flat(rng: &mut Rng, input: &[u8], other: &[u8]) -> Vec<u8> {
    let mut v = input.to_vec();
    for _ in 0..1 + rng.below(3) {
        let len = v.len();
        match rng.below(5) {
            0 if len > 0 => {
                let i = rng.below(len);
                v[i] ^= 1 << rng.below(8);
            }
            1 => {
                let word = DICT[rng.below(DICT.len())];
                let at = rng.below(len + 1);
                v.splice(at..at, word.iter().copied());
            }
            2 if len > 0 => {
                let a = rng.below(len);
                let b = (a + 1 + rng.below(16)).min(len);
                v.drain(a..b);
            }
            3 if !other.is_empty() => {
                let a = rng.below(other.len());
                let b = (a + 1 + rng.below(64)).min(other.len());
                let at = rng.below(len + 1);
                v.splice(at..at, other[a..b].iter().copied());
            }
            _ if len > 0 => {
                let i = rng.below(len);
                v[i] = rng.next() as u8;
            }
            _ => v.push(rng.next() as u8),
        }
    }
    v
}

fn corpus_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/corpus")
}

fn files_in(dir: &Path) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    if let Ok(rd) = std::fs::read_dir(dir) {
        for e in rd.flatten() {
            if let Ok(b) = std::fs::read(e.path()) {
                out.push(b);
            }
        }
    }
    out
}

fn valid_keys() -> Vec<(Alg, PrivateKey)> {
    [Alg::HS256, Alg::RS256, Alg::ES256, Alg::ES384, Alg::EdDSA]
        .into_iter()
        .map(|a| (a, PrivateKey::generate(a, None).unwrap()))
        .collect()
}

/// What running an input produced, coarsely: new ones grow the corpus.
type Outcome = String;

fn outcome<T>(r: &keyward_core::Result<T>) -> Outcome {
    match r {
        Ok(_) => "ok".into(),
        // The message without numbers and quoted parts: a new kind of
        // refusal, not a new length.
        Err(e) => {
            let text: String = e
                .to_string()
                .split('"')
                .step_by(2)
                .collect::<String>()
                .chars()
                .filter(|c| !c.is_ascii_digit())
                .collect();
            let words: Vec<&str> = text.split_whitespace().take(8).collect();
            format!("{}: {}", e.code(), words.join(" "))
        }
    }
}

struct Report {
    target: &'static str,
    execs: u64,
    corpus: usize,
    outcomes: usize,
    slowest: Duration,
    findings: Vec<String>,
}

fn fuzz(target: &'static str, seeds: Vec<Vec<u8>>, run: impl Fn(&[u8]) -> Outcome) -> Report {
    let secs: u64 = std::env::var("KEYWARD_FUZZ_SECS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(
            if std::env::var("KEYWARD_LONG_TESTS").is_ok_and(|v| v == "1") {
                300
            } else {
                8
            },
        );
    let seed = std::env::var("KEYWARD_FUZZ_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| Utc::now().timestamp_nanos_opt().unwrap_or(1) as u64)
        | 1;
    eprintln!("{target}: KEYWARD_FUZZ_SEED={seed}, {secs} s");
    let mut rng = Rng(seed ^ target.len() as u64);
    let mut corpus: Vec<Vec<u8>> = seeds;
    let mut seen: HashSet<Outcome> = HashSet::new();
    let mut findings = Vec::new();
    let mut slowest = Duration::ZERO;
    let out_dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/fuzz-findings");
    let deadline = Instant::now() + Duration::from_secs(secs);
    let mut execs = 0u64;
    // The seeds first, as they are.
    let mut queue: Vec<Vec<u8>> = corpus.clone();
    while Instant::now() < deadline {
        let input = match queue.pop() {
            Some(i) => i,
            None => {
                let a = &corpus[rng.below(corpus.len())];
                let b = &corpus[rng.below(corpus.len())];
                mutate(&mut rng, a, b)
            }
        };
        let t0 = Instant::now();
        let result = std::panic::catch_unwind(AssertUnwindSafe(|| run(&input)));
        let took = t0.elapsed();
        execs += 1;
        slowest = slowest.max(took);
        let problem = match &result {
            Err(p) => Some(format!(
                "panic: {}",
                p.downcast_ref::<String>()
                    .cloned()
                    .or_else(|| p.downcast_ref::<&str>().map(|s| s.to_string()))
                    .unwrap_or_default()
            )),
            Ok(_) if took > Duration::from_secs(1) => Some(format!("slow: {took:?}")),
            Ok(_) => None,
        };
        if let Some(p) = problem {
            let _ = std::fs::create_dir_all(&out_dir);
            let name = format!("{target}-{execs}.bin");
            let _ = std::fs::write(out_dir.join(&name), &input);
            findings.push(format!("{p} (input saved as target/fuzz-findings/{name})"));
            if findings.len() > 20 {
                break;
            }
            continue;
        }
        if let Ok(o) = result {
            if seen.insert(o) && corpus.len() < 5000 {
                corpus.push(input);
            }
        }
    }
    Report {
        target,
        execs,
        corpus: corpus.len(),
        outcomes: seen.len(),
        slowest,
        findings,
    }
}

fn finish(r: Report) {
    eprintln!(
        "fuzz {}: {} executions, {} distinct outcomes, corpus {} inputs, slowest {:?}, {} findings",
        r.target,
        r.execs,
        r.outcomes,
        r.corpus,
        r.slowest,
        r.findings.len()
    );
    let report = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join(format!("../../target/fuzz-report-{}.txt", r.target));
    let _ = std::fs::write(
        report,
        format!(
            "{} executions, {} outcomes, {} findings\n{}\n",
            r.execs,
            r.outcomes,
            r.findings.len(),
            r.findings.join("\n")
        ),
    );
    assert!(
        r.findings.is_empty(),
        "{}:\n{}",
        r.target,
        r.findings.join("\n")
    );
}

#[test]
fn fuzz_token_parser() {
    let mut seeds = files_in(&corpus_dir().join("tokens"));
    let now = Utc::now();
    let claims: serde_json::Map<String, serde_json::Value> = serde_json::from_str(
        r#"{"sub":"fuzz","iss":"i","aud":["a","b"],"exp":4102444800,"nbf":1,"iat":1,"jti":"j","nested":{"a":[1,2,{"b":null}]}}"#,
    )
    .unwrap();
    for (alg, key) in valid_keys() {
        let mut header = serde_json::Map::new();
        header.insert("kid".into(), "k1".into());
        header.insert("typ".into(), "JWT".into());
        seeds.push(
            jwt::sign(&key, alg, header, claims.clone())
                .unwrap()
                .into_bytes(),
        );
    }
    let key =
        keyward_core::crypto::ParsedKey::Private(PrivateKey::generate(Alg::HS256, None).unwrap());
    finish(fuzz("token", seeds, move |input| {
        let text = String::from_utf8_lossy(input);
        let r = jwt::parse(&text);
        if let Ok(t) = &r {
            let _ = jwt::inspect(t, &jwt::InspectOptions::at(now));
            let source = jwt::KeySource::Single(jwt::Candidate::from_parsed(&key, "fuzz"));
            let _ = jwt::verify(t, &jwt::VerifyOptions::new(source, now));
        }
        outcome(&r)
    }));
}

#[test]
fn fuzz_key_parsers() {
    let mut seeds = files_in(&corpus_dir().join("keys"));
    for (alg, key) in valid_keys() {
        if let Ok(pem) = key.to_pem() {
            seeds.push(pem.expose().to_vec());
        }
        seeds.push(key.to_jwk(Some("k"), Some(alg)).expose().to_vec());
        if let Some(p) = key.public_key() {
            seeds.push(p.to_pem().into_bytes());
            seeds.push(p.to_der());
            seeds.push(
                serde_json::to_vec(
                    &serde_json::json!({"keys": [p.to_jwk_with(Some("a"), Some(alg))]}),
                )
                .unwrap(),
            );
        }
    }
    finish(fuzz("key", seeds, |input| {
        let a = keyward_core::crypto::parse_key(input);
        let _ = jwt::key_source_from_file(input, "fuzz");
        outcome(&a)
    }));
}

#[test]
fn fuzz_api_key_format() {
    let mut seeds = files_in(&corpus_dir().join("apikeys"));
    for prefix in ["kw", "acme", "a1", "abcdefghijkl"] {
        seeds.push(ApiKey::generate(prefix).unwrap().secret().expose().to_vec());
    }
    finish(fuzz("apikey", seeds, |input| {
        let r = ApiKey::parse(input);
        if let Ok(k) = &r {
            // A parsed key round-trips and its hints never panic.
            assert_eq!(ApiKey::parse(k.secret().expose()).unwrap().hash(), k.hash());
            let _ = (k.prefix(), k.last4());
        }
        outcome(&r)
    }));
}
