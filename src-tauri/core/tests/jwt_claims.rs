//! Claim checks (exp, nbf, iat, iss, aud, required, revocation), inspection
//! and lint, and the signing API.

use chrono::{DateTime, Duration, TimeZone, Utc};
use keyward_core::crypto::{b64, Alg, PrivateKey};
use keyward_core::jwt::{
    self, Candidate, Check, InspectOptions, KeySource, Severity, SignRequest, Status, Token,
    VerifyOptions,
};
use serde_json::{json, Map, Value};

const NOW: i64 = 1_767_225_600; // 2026-01-01T00:00:00Z

fn now() -> DateTime<Utc> {
    Utc.timestamp_opt(NOW, 0).unwrap()
}

fn secret() -> &'static [u8] {
    b"0123456789abcdef0123456789abcdef"
}

fn token(claims: Value) -> String {
    let key = PrivateKey::from_hmac_secret(secret()).unwrap();
    jwt::sign(
        &key,
        Alg::HS256,
        Map::new(),
        claims.as_object().unwrap().clone(),
    )
    .unwrap()
}

fn opts() -> VerifyOptions<'static> {
    VerifyOptions::new(
        KeySource::Single(Candidate::hmac_secret(secret(), "secret.bin")),
        now(),
    )
}

fn run(t: &str, o: &VerifyOptions) -> jwt::Verification {
    let token = Token::parse(t).unwrap();
    let v = jwt::verify(&token, o);
    // `verify_owned` (what `keyward jwt verify` calls) must report the same.
    assert_eq!(jwt::verify_owned(token, o), v);
    v
}

fn status(v: &jwt::Verification, c: Check) -> Status {
    v.check(c).status
}

#[test]
fn every_check_is_reported_in_order() {
    let v = run(&token(json!({"sub": "x"})), &opts());
    let names: Vec<&str> = v.checks.iter().map(|c| c.check.as_str()).collect();
    assert_eq!(
        names,
        [
            "format",
            "algorithm",
            "signature",
            "exp",
            "nbf",
            "iat",
            "iss",
            "aud",
            "required",
            "revocation"
        ]
    );
    assert!(v.valid);
    assert_eq!(
        status(&v, Check::Exp),
        Status::Warn,
        "missing exp is a warning"
    );
    for c in [
        Check::Nbf,
        Check::Iat,
        Check::Iss,
        Check::Aud,
        Check::Required,
        Check::Revocation,
    ] {
        assert_eq!(status(&v, c), Status::Skipped, "{c}");
    }
    let json = serde_json::to_value(&v).unwrap();
    assert_eq!(json["checks"][2]["check"], "signature");
    assert_eq!(json["checks"][2]["status"], "pass");
    assert_eq!(json["reason"], Value::Null);
}

#[test]
fn exp_nbf_iat_with_leeway() {
    let expired = token(json!({"exp": NOW - 3 * 86_400}));
    let v = run(&expired, &opts());
    assert!(!v.valid);
    assert_eq!(status(&v, Check::Exp), Status::Fail);
    assert_eq!(
        v.reason.as_deref(),
        Some("exp: expired 3 days ago (2025-12-29T00:00:00Z)")
    );
    // exp == now is expired (RFC 7519: now must be before exp).
    assert!(!run(&token(json!({"exp": NOW})), &opts()).valid);
    let soon = token(json!({"exp": NOW + 14 * 60}));
    let v = run(&soon, &opts());
    assert!(v.valid);
    assert!(
        v.check(Check::Exp).detail.starts_with("expires in 14 min"),
        "{}",
        v.check(Check::Exp).detail
    );

    let mut o = opts();
    o.leeway = 60;
    assert!(run(&token(json!({"exp": NOW - 30})), &o).valid);
    assert!(!run(&token(json!({"exp": NOW - 61})), &o).valid);
    assert!(run(&token(json!({"nbf": NOW + 30})), &o).valid);
    assert!(!run(&token(json!({"nbf": NOW + 61})), &o).valid);
    assert!(!run(&token(json!({"nbf": NOW + 1})), &opts()).valid);

    let future = run(&token(json!({"iat": NOW + 600})), &opts());
    assert_eq!(status(&future, Check::Iat), Status::Fail);
    let after = run(&token(json!({"iat": NOW - 10, "exp": NOW - 20})), &opts());
    assert_eq!(status(&after, Check::Iat), Status::Fail);
    let bad = run(&token(json!({"exp": "tomorrow"})), &opts());
    assert_eq!(status(&bad, Check::Exp), Status::Fail);
    assert!(bad.check(Check::Exp).detail.contains("NumericDate"));
    // Fractional NumericDates are allowed.
    assert!(run(&token(json!({"exp": (NOW + 10) as f64 + 0.5})), &opts()).valid);
}

#[test]
fn iss_aud_required() {
    let t = token(json!({"iss": "https://id.example", "aud": ["api", "web"], "sub": "u"}));
    let mut o = opts();
    // A token with aud and no --aud is rejected (RFC 7519 §4.1.3).
    let v = run(&t, &o);
    assert_eq!(status(&v, Check::Aud), Status::Fail);
    o.aud = vec!["web".into()];
    assert!(run(&t, &o).valid);
    o.aud = vec!["billing".into(), "api".into()];
    assert!(run(&t, &o).valid);
    o.aud = vec!["billing".into()];
    assert!(!run(&t, &o).valid);
    o.aud = vec!["api".into()];
    o.iss = Some("https://id.example".into());
    assert_eq!(status(&run(&t, &o), Check::Iss), Status::Pass);
    o.iss = Some("https://evil.example".into());
    assert_eq!(status(&run(&t, &o), Check::Iss), Status::Fail);
    o.iss = None;
    // A string aud works too; --aud against a token without aud fails.
    assert!(run(&token(json!({"aud": "api"})), &o).valid);
    assert_eq!(
        status(&run(&token(json!({})), &o), Check::Aud),
        Status::Fail
    );
    assert_eq!(
        status(&run(&token(json!({"aud": 5})), &o), Check::Aud),
        Status::Fail
    );

    let mut o = opts();
    o.require = vec!["sub".into(), "jti".into()];
    let v = run(&token(json!({"sub": "u"})), &o);
    assert_eq!(status(&v, Check::Required), Status::Fail);
    assert!(v.check(Check::Required).detail.contains("jti"));
    o.require = vec!["exp".into()];
    let v = run(&token(json!({"sub": "u"})), &o);
    assert_eq!(status(&v, Check::Exp), Status::Fail);
}

#[test]
fn revocation_callback() {
    let revoked = |jti: &str| jti == "gone";
    let mut o = opts();
    o.is_revoked = Some(&revoked);
    let v = run(&token(json!({"jti": "gone"})), &o);
    assert!(!v.valid);
    assert_eq!(
        v.reason.as_deref(),
        Some("revocation: jti \"gone\" is revoked")
    );
    assert_eq!(
        status(&run(&token(json!({"jti": "live"})), &o), Check::Revocation),
        Status::Pass
    );
    assert_eq!(
        status(&run(&token(json!({})), &o), Check::Revocation),
        Status::Warn
    );
}

#[test]
fn claim_checks_still_run_after_a_signature_failure() {
    let t = token(json!({"exp": NOW - 10}));
    let o = VerifyOptions::new(
        KeySource::Single(Candidate::hmac_secret(
            b"another secret of 32 bytes......",
            "other",
        )),
        now(),
    );
    let v = run(&t, &o);
    assert_eq!(status(&v, Check::Signature), Status::Fail);
    assert_eq!(status(&v, Check::Exp), Status::Fail);
    assert!(
        v.reason.unwrap().starts_with("signature:"),
        "the first failure is the reason"
    );
}

#[test]
fn jws_mode_accepts_any_payload_and_skips_claims() {
    let key = PrivateKey::from_hmac_secret(secret()).unwrap();
    let input = format!(
        "{}.{}",
        b64::encode(r#"{"alg":"HS256"}"#),
        b64::encode("hello, world")
    );
    let t = format!(
        "{input}.{}",
        b64::encode(key.sign(Alg::HS256, input.as_bytes()).unwrap())
    );
    let v = run(&t, &opts());
    assert_eq!(
        status(&v, Check::Format),
        Status::Fail,
        "not a JWT without --jws"
    );
    assert!(!v.valid);
    let mut o = opts();
    o.jws = true;
    let v = run(&t, &o);
    assert!(v.valid, "{:?}", v.reason);
    for c in &Check::ALL[3..] {
        assert_eq!(status(&v, *c), Status::Skipped);
    }
}

#[test]
fn short_secrets_warn_but_short_jwk_keys_fail() {
    let key = PrivateKey::from_hmac_secret(b"secret").unwrap();
    let t = jwt::sign(&key, Alg::HS256, Map::new(), Map::new()).unwrap();
    let o = VerifyOptions::new(
        KeySource::Single(Candidate::hmac_secret(b"secret", "s")),
        now(),
    );
    let v = run(&t, &o);
    assert!(v.valid);
    assert_eq!(status(&v, Check::Signature), Status::Warn);
    assert!(v.check(Check::Signature).detail.contains("only 6 bytes"));
    let jwk = json!({"kty": "oct", "k": b64::encode("secret")}).to_string();
    let o = VerifyOptions::new(
        jwt::key_source_from_file(jwk.as_bytes(), "k.jwk").unwrap(),
        now(),
    );
    assert!(!run(&t, &o).valid);
}

#[test]
fn single_key_kid_mismatch_is_a_warning() {
    let k = PrivateKey::generate(Alg::ES256, None).unwrap();
    let jwk = k
        .public_key()
        .unwrap()
        .to_jwk_with(Some("key-1"), Some(Alg::ES256));
    let t = jwt::sign_with_kid(&k, Alg::ES256, Some("key-2"), Map::new(), Map::new()).unwrap();
    let o = VerifyOptions::new(
        jwt::key_source_from_file(jwk.to_string().as_bytes(), "k.jwk").unwrap(),
        now(),
    );
    let v = run(&t, &o);
    assert!(v.valid);
    assert_eq!(status(&v, Check::Signature), Status::Warn);
    assert!(v.check(Check::Signature).detail.contains("differs"));
}

fn lint_ids(r: &jwt::Inspection) -> Vec<&'static str> {
    r.lints.iter().map(|l| l.id).collect()
}

#[test]
fn inspect_explains_and_lints() {
    let t = token(json!({
        "iss": "https://id.example", "sub": "u1", "aud": "api",
        "iat": NOW - 3_600, "nbf": NOW - 3_600, "exp": NOW + 14 * 60, "jti": "abc"
    }));
    let r = jwt::inspect(&Token::parse(&t).unwrap(), &InspectOptions::at(now()));
    assert_eq!(lint_ids(&r), ["symmetric_alg"]);
    let claims: Vec<&str> = r.registered.iter().map(|c| c.claim).collect();
    assert_eq!(claims, ["iss", "sub", "aud", "exp", "nbf", "iat", "jti"]);
    let exp = &r.registered[3];
    assert_eq!(exp.explained, "2026-01-01T00:14:00Z (expires in 14 min)");
    assert_eq!(
        r.registered[5].explained,
        "2025-12-31T23:00:00Z (issued 1 h ago)"
    );
    assert_eq!(r.timeline.exp, Some(NOW + 840));
    assert_eq!(r.timeline.now, NOW);
    let json = serde_json::to_value(&r).unwrap();
    for k in ["header", "claims", "registered", "lints", "timeline"] {
        assert!(json.get(k).is_some(), "{k}");
    }
    assert_eq!(json["timeline"]["iat"], NOW - 3_600);
    assert_eq!(json["registered"][0]["claim"], "iss");

    // Everything wrong at once.
    let header =
        json!({"alg": "HS256", "kid": "../../etc/passwd", "jku": "https://x", "crit": ["b64"]});
    let key = PrivateKey::from_hmac_secret(secret()).unwrap();
    let claims = json!({
        "email": "ann@example.com", "password": "hunter2", "card": "4111111111111111",
        "stripe": "sk_live_abcdefghijklmnop", "iat": NOW + 600, "nbf": NOW + 600,
        "exp": NOW + 40 * 86_400
    });
    let t = jwt::sign(
        &key,
        Alg::HS256,
        header.as_object().unwrap().clone(),
        claims.as_object().unwrap().clone(),
    );
    // crit is refused by the signer: build it by hand.
    assert!(t.is_err());
    let input = format!(
        "{}.{}",
        b64::encode(header.to_string()),
        b64::encode(claims.to_string())
    );
    let t = format!(
        "{input}.{}",
        b64::encode(key.sign(Alg::HS256, input.as_bytes()).unwrap())
    );
    let r = jwt::inspect(&Token::parse(&t).unwrap(), &InspectOptions::at(now()));
    let ids = lint_ids(&r);
    for id in [
        "symmetric_alg",
        "embedded_key",
        "suspicious_kid",
        "crit_present",
        "long_lifetime",
        "nbf_in_future",
        "iat_in_future",
        "sensitive_claim",
    ] {
        assert!(ids.contains(&id), "{id} missing from {ids:?}");
    }
    assert_eq!(
        ids.iter().filter(|i| **i == "sensitive_claim").count(),
        4,
        "{:#?}",
        r.lints
    );

    let none = format!(
        "{}.{}.",
        b64::encode(r#"{"alg":"none"}"#),
        b64::encode(r#"{"iat":1,"exp":0}"#)
    );
    let r = jwt::inspect(&Token::parse(&none).unwrap(), &InspectOptions::at(now()));
    let ids = lint_ids(&r);
    for id in ["alg_none", "expired", "iat_after_exp"] {
        assert!(ids.contains(&id), "{id} missing from {ids:?}");
    }
    assert!(r
        .lints
        .iter()
        .any(|l| l.id == "alg_none" && l.severity == Severity::Error));
    let expired = r.lints.iter().find(|l| l.id == "expired").unwrap();
    assert!(expired.message.contains("ago"), "{}", expired.message);

    let no_exp = token(json!({"sub": "x"}));
    let r = jwt::inspect(&Token::parse(&no_exp).unwrap(), &InspectOptions::at(now()));
    assert!(lint_ids(&r).contains(&"missing_exp"));
    let text = format!(
        "{}.{}.",
        b64::encode(r#"{"alg":"HS256"}"#),
        b64::encode("plain text")
    );
    let r = jwt::inspect(&Token::parse(&text).unwrap(), &InspectOptions::at(now()));
    assert!(lint_ids(&r).contains(&"payload_not_object"));
    assert!(lint_ids(&r).contains(&"missing_signature"));
    assert_eq!(r.payload_text.as_deref(), Some("plain text"));
    assert_eq!(r.claims, Value::Null);
}

#[test]
fn relative_times_read_naturally() {
    assert_eq!(jwt::relative(NOW + 14 * 60, NOW), "in 14 min");
    assert_eq!(jwt::relative(NOW - 3 * 86_400, NOW), "3 days ago");
    assert_eq!(jwt::relative(NOW - 86_400, NOW), "1 day ago");
    assert_eq!(jwt::relative(NOW + 5_400, NOW), "in 1 h 30 min");
    assert_eq!(jwt::relative(NOW - 20, NOW), "20 s ago");
    assert_eq!(jwt::relative(NOW + 2 * 31_536_000, NOW), "in 2 years");
}

#[test]
fn signing_refuses_conflicting_headers_and_fills_claims() {
    let k = PrivateKey::generate(Alg::ES256, None).unwrap();
    let hdr = |v: Value| v.as_object().unwrap().clone();
    let e = jwt::sign(&k, Alg::ES256, hdr(json!({"alg": "HS256"})), Map::new()).unwrap_err();
    assert_eq!(e.code(), "header_alg_mismatch");
    assert_eq!(e.class().exit_code(), 2);
    assert!(jwt::sign(
        &k,
        Alg::ES256,
        hdr(json!({"alg": "ES256", "cty": "x"})),
        Map::new()
    )
    .is_ok());
    let e = jwt::sign_with_kid(
        &k,
        Alg::ES256,
        Some("a"),
        hdr(json!({"kid": "b"})),
        Map::new(),
    )
    .unwrap_err();
    assert_eq!(e.code(), "header_kid_mismatch");
    assert_eq!(
        jwt::sign(&k, Alg::RS256, Map::new(), Map::new())
            .unwrap_err()
            .code(),
        "alg_mismatch"
    );

    let req = SignRequest {
        claims: jwt::parse_json_object(br#"{"role":"admin","sub":"old"}"#, "--claims").unwrap(),
        sub: Some("u1".into()),
        iss: Some("keyward".into()),
        aud: vec!["api".into(), "web".into()],
        ttl: Some(Duration::minutes(15)),
        not_before: Some(now()),
        header: Map::new(),
    };
    let kid = k.public_key().unwrap().thumbprint();
    let signed = jwt::sign_request(&k, Alg::ES256, Some(&kid), req, now()).unwrap();
    assert_eq!(signed.iat, NOW);
    assert_eq!(signed.exp, Some(NOW + 900));
    let t = Token::parse(&signed.token).unwrap();
    assert_eq!(t.kid(), Some(kid.as_str()));
    assert_eq!(t.jti(), Some(signed.jti.as_str()));
    assert_eq!(signed.jti.len(), 22);
    let c = t.claims().unwrap();
    assert_eq!(c["sub"], "u1");
    assert_eq!(c["aud"], json!(["api", "web"]));
    assert_eq!(c["nbf"], NOW);
    assert_eq!(t.header()["typ"], "JWT");
    let mut o = VerifyOptions::new(
        KeySource::Single(Candidate::from_parsed(
            &keyward_core::crypto::ParsedKey::Public(k.public_key().unwrap()),
            "k",
        )),
        now(),
    );
    o.aud = vec!["web".into()];
    o.iss = Some("keyward".into());
    let v = jwt::verify(&t, &o);
    assert!(v.valid, "{:?}", v.reason);
    assert!(jwt::parse_json_object(br#"{"a":1,"a":2}"#, "--claims").is_err());
    assert!(jwt::parse_json_object(b"[1]", "--claims").is_err());
}
