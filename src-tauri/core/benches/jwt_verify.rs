//! JWT verification cost: Keyward's full in-process verify (strict parse,
//! every check, report building) beside bare `jsonwebtoken::decode` of the
//! same token with the same key, measured in the same run, for HS256, RS256,
//! ES256 and EdDSA. Prints µs per verification and the overhead ratio.
//!
//! Like the audit bench, this is a plain `harness = false` program (median of
//! several timed rounds after a warm-up) rather than criterion: the figure
//! that matters is the ratio to a baseline taken in the same run, and it
//! keeps the workspace free of criterion's dependency tree.
//!
//! Run: `cargo bench -p keyward-core --bench jwt_verify`
//! (`KEYWARD_BENCH_MS` sets the time per round, default 300).

use chrono::Utc;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use keyward_core::crypto::{Alg, ParsedKey, PrivateKey};
use keyward_core::jwt::{self, Candidate, KeySource, Token, VerifyOptions};
use serde_json::{json, Map, Value};
use std::hint::black_box;
use std::time::{Duration, Instant};

const ROUNDS: usize = 5;

/// Median time per call of `f` over `ROUNDS` rounds of about `budget` each.
fn time_per_op(budget: Duration, mut f: impl FnMut()) -> Duration {
    // Warm-up, and an estimate of how many calls fill a round.
    let start = Instant::now();
    let mut calls = 0u32;
    while start.elapsed() < budget / 4 || calls < 3 {
        f();
        calls += 1;
    }
    let per_round = ((calls as f64) * 4.0).max(3.0) as u32;
    let mut samples: Vec<Duration> = (0..ROUNDS)
        .map(|_| {
            let t = Instant::now();
            for _ in 0..per_round {
                f();
            }
            t.elapsed() / per_round
        })
        .collect();
    samples.sort();
    samples[ROUNDS / 2]
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
            .unwrap_or(300),
    );
    let now = Utc::now().timestamp();
    let claims: Map<String, Value> = json!({
        "iss": "https://id.example", "sub": "user-42", "aud": "api",
        "iat": now, "nbf": now, "exp": now + 3_600, "jti": "bench", "scope": "read write"
    })
    .as_object()
    .cloned()
    .unwrap_or_default();

    println!("JWT verify, median of {ROUNDS} rounds of ~{budget:?} each");
    println!(
        "{:<6} {:>14} {:>18} {:>9}",
        "alg", "keyward µs/op", "jsonwebtoken µs/op", "overhead"
    );
    for (alg, jalg) in [
        (Alg::HS256, Algorithm::HS256),
        (Alg::RS256, Algorithm::RS256),
        (Alg::ES256, Algorithm::ES256),
        (Alg::EdDSA, Algorithm::EdDSA),
    ] {
        let key = PrivateKey::generate(alg, None).expect("key generation");
        let token = jwt::sign(&key, alg, Map::new(), claims.clone()).expect("signing");

        let candidate = match key.public_key() {
            Some(p) => Candidate::from_parsed(&ParsedKey::Public(p), "bench key"),
            None => Candidate::hmac_secret(key.hmac_secret().unwrap_or_default(), "bench key"),
        };
        let mut opts = VerifyOptions::new(KeySource::Single(candidate), Utc::now());
        opts.aud = vec!["api".into()];
        opts.iss = Some("https://id.example".into());
        let ours = time_per_op(budget, || {
            let t = Token::parse(black_box(&token)).expect("parse");
            let v = jwt::verify(&t, &opts);
            assert!(v.valid, "{:?}", v.reason);
            black_box(v);
        });

        let dk = decoding_key(&key);
        let mut validation = Validation::new(jalg);
        validation.set_audience(&["api"]);
        validation.set_issuer(&["https://id.example"]);
        let bare = time_per_op(budget, || {
            let d = jsonwebtoken::decode::<Value>(black_box(&token), &dk, &validation);
            black_box(d.expect("jsonwebtoken accepts the token"));
        });

        let us = |d: Duration| d.as_secs_f64() * 1e6;
        println!(
            "{:<6} {:>14.2} {:>18.2} {:>8.2}x",
            alg.as_str(),
            us(ours),
            us(bare),
            us(ours) / us(bare)
        );
    }
}
