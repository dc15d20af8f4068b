//! JWT verification cost: Keyward's full in-process verify (strict parse,
//! every check, report building) beside bare `jsonwebtoken::decode` of the
//! same token with the same key, measured in the same run, for HS256, RS256,
//! ES256 and EdDSA. Prints µs per verification and the ratio.
//!
//! The comparison is like for like: each side gets its key prepared once,
//! outside the timed loop (Keyward's `Candidate`, jsonwebtoken's
//! `DecodingKey`), and each call does everything else, including building
//! the crypto verifier from that key (jsonwebtoken's `decode` does that per
//! call too). Both sides check the signature, exp, iss and aud; Keyward also
//! parses strictly, runs its other six checks and writes the report.
//!
//! Like the audit bench, this is a plain `harness = false` program rather
//! than criterion: the figure that matters is the ratio to a baseline taken
//! in the same run, and it keeps the workspace free of criterion's dependency
//! tree. Times are this thread's CPU time (wall time where that is not
//! available), so time spent preempted by other work on the machine is not
//! counted; short rounds alternate between the two sides, and the ratio
//! printed is the median of the per-round ratios, so what load remains
//! (shared caches, frequency) skews both sides alike.
//!
//! Run: `cargo bench -p keyward-core --bench jwt_verify`
//! (`KEYWARD_BENCH_MS` sets the time per side per round, default 100;
//! algorithm names after `--`, e.g. `-- HS256`, run only those).

use chrono::Utc;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use keyward_core::crypto::{Alg, ParsedKey, PrivateKey};
use keyward_core::jwt::{self, Candidate, KeySource, Token, VerifyOptions};
use serde_json::{json, Map, Value};
use std::hint::black_box;
use std::time::{Duration, Instant};

const ROUNDS: usize = 21;
/// Issue #4's target: full verification within 10 % of bare `decode`.
const TARGET: f64 = 1.10;

/// Seconds of CPU time this thread has used.
#[cfg(unix)]
fn thread_seconds() -> f64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: clock_gettime writes one timespec into the struct we own.
    let ok = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) } == 0;
    assert!(
        ok,
        "CLOCK_THREAD_CPUTIME_ID is available on every unix Keyward runs on"
    );
    ts.tv_sec as f64 + ts.tv_nsec as f64 / 1e9
}

/// Seconds of wall time since the first call (no per-thread clock here).
#[cfg(not(unix))]
fn thread_seconds() -> f64 {
    static START: std::sync::OnceLock<Instant> = std::sync::OnceLock::new();
    START.get_or_init(Instant::now).elapsed().as_secs_f64()
}

/// Median time per call (µs) of `ours` and of `bare`, and the median of the
/// per-round ratios. Rounds alternate between the two (and which goes first),
/// so a burst of load from elsewhere on the machine hits both sides alike.
fn compare(budget: Duration, mut ours: impl FnMut(), mut bare: impl FnMut()) -> (f64, f64, f64) {
    // Warm-up, and an estimate of how many calls fill `budget`.
    let calls_in = |f: &mut dyn FnMut()| {
        let start = Instant::now();
        let mut calls = 0u32;
        while start.elapsed() < budget / 4 || calls < 3 {
            f();
            calls += 1;
        }
        (calls * 4).max(3)
    };
    let (n_ours, n_bare) = (calls_in(&mut ours), calls_in(&mut bare));
    let time = |f: &mut dyn FnMut(), n: u32| {
        let t = thread_seconds();
        for _ in 0..n {
            f();
        }
        (thread_seconds() - t) * 1e6 / f64::from(n)
    };
    let (mut a, mut b, mut ratios) = (Vec::new(), Vec::new(), Vec::new());
    for round in 0..ROUNDS {
        let (x, y) = if round % 2 == 0 {
            let x = time(&mut ours, n_ours);
            (x, time(&mut bare, n_bare))
        } else {
            let y = time(&mut bare, n_bare);
            (time(&mut ours, n_ours), y)
        };
        a.push(x);
        b.push(y);
        ratios.push(x / y);
    }
    let median = |mut v: Vec<f64>| {
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    (median(a), median(b), median(ratios))
}

fn decoding_key(key: &PrivateKey) -> DecodingKey {
    match key.hmac_secret() {
        Some(s) => DecodingKey::from_secret(s),
        None => {
            let jwk = key.public_key().expect("asymmetric key").to_jwk();
            let s = |m: &str| jwk[m].as_str().expect("JWK member").to_string();
            match jwk["kty"].as_str() {
                Some("RSA") => DecodingKey::from_rsa_components(&s("n"), &s("e")),
                Some("EC") => DecodingKey::from_ec_components(&s("x"), &s("y")),
                _ => DecodingKey::from_ed_components(&s("x")),
            }
            .expect("valid components")
        }
    }
}

fn main() {
    let budget = Duration::from_millis(
        std::env::var("KEYWARD_BENCH_MS")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(100),
    );
    let only: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with('-'))
        .collect();
    let now = Utc::now().timestamp();
    let claims: Map<String, Value> = json!({
        "iss": "https://id.example", "sub": "user-42", "aud": "api",
        "iat": now, "nbf": now, "exp": now + 3_600, "jti": "bench", "scope": "read write"
    })
    .as_object()
    .cloned()
    .unwrap_or_default();

    println!(
        "JWT verify, CPU time per call, median of {ROUNDS} alternating rounds of ~{budget:?} per side"
    );
    println!(
        "ratio: keyward / jsonwebtoken, median of the per-round ratios; target ≤ {TARGET:.2}x"
    );
    println!(
        "{:<6} {:>14} {:>18} {:>9}  target",
        "alg", "keyward µs/op", "jsonwebtoken µs/op", "ratio"
    );
    for (alg, jalg) in [
        (Alg::HS256, Algorithm::HS256),
        (Alg::RS256, Algorithm::RS256),
        (Alg::ES256, Algorithm::ES256),
        (Alg::EdDSA, Algorithm::EdDSA),
    ] {
        if !only.is_empty() && !only.iter().any(|a| a.eq_ignore_ascii_case(alg.as_str())) {
            continue;
        }
        let key = PrivateKey::generate(alg, None).expect("key generation");
        let token = jwt::sign(&key, alg, Map::new(), claims.clone()).expect("signing");

        let candidate = match key.public_key() {
            Some(p) => Candidate::from_parsed(&ParsedKey::Public(p), "bench key"),
            None => Candidate::hmac_secret(key.hmac_secret().unwrap_or_default(), "bench key"),
        };
        let mut opts = VerifyOptions::new(KeySource::Single(candidate), Utc::now());
        opts.aud = vec!["api".into()];
        opts.iss = Some("https://id.example".into());
        let dk = decoding_key(&key);
        let mut validation = Validation::new(jalg);
        validation.set_audience(&["api"]);
        validation.set_issuer(&["https://id.example"]);
        let (ours, bare, ratio) = compare(
            budget,
            || {
                // What `keyward jwt verify` does with a key file.
                let t = Token::parse(black_box(&token)).expect("parse");
                let v = jwt::verify_owned(t, &opts);
                assert!(v.valid, "{:?}", v.reason);
                black_box(v);
            },
            || {
                let d = jsonwebtoken::decode::<Value>(black_box(&token), &dk, &validation);
                black_box(d.expect("jsonwebtoken accepts the token"));
            },
        );
        println!(
            "{:<6} {:>14.2} {:>18.2} {:>8.2}x  {}",
            alg.as_str(),
            ours,
            bare,
            ratio,
            if ratio <= TARGET { "met" } else { "MISSED" }
        );
    }
}
