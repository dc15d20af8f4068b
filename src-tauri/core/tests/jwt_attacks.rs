//! Known JWT attacks, each of which must be refused.

use chrono::Utc;
use keyward_core::crypto::{b64, Alg, PrivateKey};
use keyward_core::jwt::{self, Candidate, Check, KeySource, Status, Token, VerifyOptions};
use serde_json::json;
use std::sync::OnceLock;

fn keys() -> &'static [(Alg, PrivateKey)] {
    static KEYS: OnceLock<Vec<(Alg, PrivateKey)>> = OnceLock::new();
    KEYS.get_or_init(|| {
        [Alg::HS256, Alg::RS256, Alg::ES256, Alg::ES384, Alg::EdDSA]
            .into_iter()
            .map(|a| (a, PrivateKey::generate(a, None).unwrap()))
            .collect()
    })
}

fn key(alg: Alg) -> &'static PrivateKey {
    &keys()
        .iter()
        .find(|(a, _)| a.family() == alg.family())
        .unwrap()
        .1
}

/// Builds a token from raw header JSON text, signing with `signer` under `alg`.
fn forge(header: &str, claims: &str, signer: Option<(&PrivateKey, Alg)>) -> String {
    let input = format!("{}.{}", b64::encode(header), b64::encode(claims));
    let sig = match signer {
        Some((k, a)) => b64::encode(k.sign(a, input.as_bytes()).unwrap()),
        None => String::new(),
    };
    format!("{input}.{sig}")
}

/// Verifies with the public key of `alg`'s test key read from its PEM file form.
fn verify_with_pem(token: &str, alg: Alg) -> jwt::Verification {
    let pem = key(alg).public_key().unwrap().to_pem();
    let source = jwt::key_source_from_file(pem.as_bytes(), "public.pem").unwrap();
    jwt::verify(
        &Token::parse(token).unwrap(),
        &VerifyOptions::new(source, Utc::now()),
    )
}

fn verify_with_secret(token: &str, secret: &[u8]) -> jwt::Verification {
    let source = KeySource::Single(Candidate::hmac_secret(secret, "secret"));
    jwt::verify(
        &Token::parse(token).unwrap(),
        &VerifyOptions::new(source, Utc::now()),
    )
}

const CLAIMS: &str = r#"{"sub":"admin","exp":4102444800}"#;

#[test]
fn genuine_tokens_pass() {
    for (alg, k) in keys() {
        let t = forge(&format!(r#"{{"alg":"{alg}"}}"#), CLAIMS, Some((k, *alg)));
        let v = if alg.is_hmac() {
            verify_with_secret(&t, k.hmac_secret().unwrap())
        } else {
            verify_with_pem(&t, *alg)
        };
        assert!(v.valid, "{alg}: {:?}", v.reason);
    }
}

#[test]
fn alg_none_is_always_refused() {
    for name in ["none", "None", "NONE", "nOnE"] {
        let t = forge(&format!(r#"{{"alg":"{name}"}}"#), CLAIMS, None);
        for v in [
            verify_with_pem(&t, Alg::RS256),
            verify_with_secret(&t, &[1; 32]),
        ] {
            assert!(!v.valid, "{name}");
            assert_eq!(v.check(Check::Algorithm).status, Status::Fail, "{name}");
            assert!(v.reason.as_deref().unwrap().starts_with("algorithm:"));
        }
        // Even with a (bogus) signature attached.
        let t2 = format!("{t}AAAA");
        assert!(!verify_with_secret(&t2, &[1; 32]).valid);
    }
}

#[test]
fn rs256_public_key_as_hmac_secret_is_refused() {
    // The classic confusion: sign HS256 with the bytes of the public PEM.
    for alg in [Alg::RS256, Alg::ES256, Alg::EdDSA] {
        let pem = key(alg).public_key().unwrap().to_pem();
        for secret in [
            pem.as_bytes().to_vec(),
            key(alg).public_key().unwrap().to_der(),
        ] {
            let hmac = PrivateKey::from_hmac_secret(&secret).unwrap();
            for hs in [Alg::HS256, Alg::HS384, Alg::HS512] {
                let t = forge(&format!(r#"{{"alg":"{hs}"}}"#), CLAIMS, Some((&hmac, hs)));
                let v = verify_with_pem(&t, alg);
                assert!(!v.valid);
                let a = v.check(Check::Algorithm);
                assert_eq!(a.status, Status::Fail);
                assert!(a.detail.contains("confusion"), "{}", a.detail);
                assert_eq!(v.check(Check::Signature).status, Status::Skipped);
            }
        }
    }
}

#[test]
fn psychic_signatures_are_refused() {
    // CVE-2022-21449: r = s = 0 verified on some JDKs.
    let header = r#"{"alg":"ES256"}"#;
    let input = format!("{}.{}", b64::encode(header), b64::encode(CLAIMS));
    for sig in [vec![0u8; 64], vec![0u8; 0], vec![0u8; 65], vec![0xff; 64]] {
        let t = format!("{input}.{}", b64::encode(&sig));
        let v = verify_with_pem(&t, Alg::ES256);
        assert!(!v.valid, "{} byte signature", sig.len());
        assert_eq!(v.check(Check::Signature).status, Status::Fail);
    }
    // r = s = n (the group order) is just as invalid.
    let n = "ffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551";
    let n: Vec<u8> = (0..64)
        .step_by(2)
        .map(|i| u8::from_str_radix(&n[i..i + 2], 16).unwrap())
        .collect();
    let t = format!("{input}.{}", b64::encode([n.clone(), n].concat()));
    assert!(!verify_with_pem(&t, Alg::ES256).valid);
}

#[test]
fn wrong_curve_and_wrong_family_are_refused() {
    // ES384 token against a P-256 key and the reverse.
    let t384 = forge(
        r#"{"alg":"ES384"}"#,
        CLAIMS,
        Some((key(Alg::ES384), Alg::ES384)),
    );
    let v = verify_with_pem(&t384, Alg::ES256);
    assert!(!v.valid);
    assert_eq!(v.check(Check::Algorithm).status, Status::Fail);
    // A P-384 signature labelled ES256 (the header lies about the curve).
    let lie = forge(
        r#"{"alg":"ES256"}"#,
        CLAIMS,
        Some((key(Alg::ES384), Alg::ES384)),
    );
    let v = verify_with_pem(&lie, Alg::ES384);
    assert!(!v.valid);
    // An EdDSA token against an RSA key.
    let ed = forge(
        r#"{"alg":"EdDSA"}"#,
        CLAIMS,
        Some((key(Alg::EdDSA), Alg::EdDSA)),
    );
    assert!(!verify_with_pem(&ed, Alg::RS256).valid);
    // A P-256 JWK whose coordinates are P-384's is refused as a key.
    let mut jwk = key(Alg::ES384).public_key().unwrap().to_jwk();
    jwk["crv"] = json!("P-256");
    let e = jwt::key_source_from_file(jwk.to_string().as_bytes(), "k.jwk").unwrap_err();
    assert_eq!(e.code(), "bad_jwk", "{e}");
}

#[test]
fn embedded_keys_are_never_used() {
    // The attacker signs with their own key and ships it in the header.
    let attacker = PrivateKey::generate(Alg::ES256, None).unwrap();
    let apub = attacker.public_key().unwrap();
    for member in ["jwk", "jku", "x5u", "x5c"] {
        let value = match member {
            "jwk" => apub.to_jwk(),
            "x5c" => json!(["MIIB"]),
            _ => json!("https://attacker.example/keys.json"),
        };
        let header = json!({"alg": "ES256", member: value}).to_string();
        let t = forge(&header, CLAIMS, Some((&attacker, Alg::ES256)));
        let v = verify_with_pem(&t, Alg::ES256);
        assert!(!v.valid, "{member}");
        let s = v.check(Check::Signature);
        assert_eq!(s.status, Status::Fail);
        assert!(
            s.detail
                .contains(&format!("token's own {member} was ignored")),
            "{}",
            s.detail
        );
        // Inspect flags it too.
        let r = jwt::inspect(
            &Token::parse(&t).unwrap(),
            &jwt::InspectOptions::at(Utc::now()),
        );
        assert!(r.lints.iter().any(|l| l.id == "embedded_key"));
    }
}

#[test]
fn header_alg_swaps_are_refused() {
    // Sign RS256, then claim PS256 / RS512 in the header (signature kept).
    let k = key(Alg::RS256);
    let good = forge(r#"{"alg":"RS256"}"#, CLAIMS, Some((k, Alg::RS256)));
    let sig = good.rsplit('.').next().unwrap();
    for other in ["PS256", "RS512", "RS384"] {
        let t = format!(
            "{}.{}.{sig}",
            b64::encode(format!(r#"{{"alg":"{other}"}}"#)),
            b64::encode(CLAIMS)
        );
        let v = verify_with_pem(&t, Alg::RS256);
        assert!(!v.valid, "{other}");
        assert_eq!(v.check(Check::Signature).status, Status::Fail);
    }
    // HS256 → HS512 keeps nothing valid either.
    let hk = key(Alg::HS256);
    let good = forge(r#"{"alg":"HS256"}"#, CLAIMS, Some((hk, Alg::HS256)));
    let sig = good.rsplit('.').next().unwrap();
    let t = format!(
        "{}.{}.{sig}",
        b64::encode(r#"{"alg":"HS512"}"#),
        b64::encode(CLAIMS)
    );
    assert!(!verify_with_secret(&t, hk.hmac_secret().unwrap()).valid);
    // --alg pinning: RS256 only refuses a genuine PS256 token.
    let ps = forge(r#"{"alg":"PS256"}"#, CLAIMS, Some((k, Alg::PS256)));
    let pem = k.public_key().unwrap().to_pem();
    let mut opts = VerifyOptions::new(
        jwt::key_source_from_file(pem.as_bytes(), "p.pem").unwrap(),
        Utc::now(),
    );
    assert!(jwt::verify(&Token::parse(&ps).unwrap(), &opts).valid);
    opts.algs = vec![Alg::RS256];
    let v = jwt::verify(&Token::parse(&ps).unwrap(), &opts);
    assert_eq!(v.check(Check::Algorithm).status, Status::Fail);
}

#[test]
fn stripped_and_truncated_signatures_are_refused() {
    for (alg, k) in keys() {
        let t = forge(&format!(r#"{{"alg":"{alg}"}}"#), CLAIMS, Some((k, *alg)));
        let input = t.rsplit_once('.').unwrap().0;
        let stripped = format!("{input}.");
        let sig = b64::decode(t.rsplit('.').next().unwrap()).unwrap();
        let truncated = format!("{input}.{}", b64::encode(&sig[..sig.len() - 1]));
        for bad in [stripped, truncated] {
            let v = if alg.is_hmac() {
                verify_with_secret(&bad, k.hmac_secret().unwrap())
            } else {
                verify_with_pem(&bad, *alg)
            };
            assert!(!v.valid, "{alg}");
            assert_eq!(v.check(Check::Signature).status, Status::Fail, "{alg}");
        }
        // Without the last dot it is not a JWS at all.
        assert_eq!(Token::parse(input).unwrap_err().code(), "not_a_jwt");
    }
}

#[test]
fn ambiguous_headers_are_refused() {
    // Two alg members: parsers could pick different ones.
    let t = forge(
        r#"{"alg":"HS256","alg":"none"}"#,
        CLAIMS,
        Some((key(Alg::HS256), Alg::HS256)),
    );
    assert_eq!(
        Token::parse(&t).unwrap_err().code(),
        "duplicate_header_member"
    );
    // Duplicate claims fail the format check.
    let t = forge(
        r#"{"alg":"HS256"}"#,
        r#"{"sub":"user","sub":"admin"}"#,
        Some((key(Alg::HS256), Alg::HS256)),
    );
    let v = verify_with_secret(&t, key(Alg::HS256).hmac_secret().unwrap());
    assert!(!v.valid);
    assert_eq!(v.check(Check::Format).status, Status::Fail);
    assert!(v.reason.unwrap().contains("more than once"));
    // Unknown critical extensions are refused.
    let t = forge(
        r#"{"alg":"HS256","crit":["exp-ext"],"exp-ext":1}"#,
        CLAIMS,
        Some((key(Alg::HS256), Alg::HS256)),
    );
    let v = verify_with_secret(&t, key(Alg::HS256).hmac_secret().unwrap());
    assert_eq!(v.check(Check::Format).status, Status::Fail);
    // Case variants of registered names are not the algorithm.
    let t = forge(
        r#"{"alg":"hs256"}"#,
        CLAIMS,
        Some((key(Alg::HS256), Alg::HS256)),
    );
    let v = verify_with_secret(&t, key(Alg::HS256).hmac_secret().unwrap());
    assert_eq!(v.check(Check::Algorithm).status, Status::Fail);
}

#[test]
fn malformed_compact_serializations_are_refused() {
    let good = forge(
        r#"{"alg":"HS256"}"#,
        CLAIMS,
        Some((key(Alg::HS256), Alg::HS256)),
    );
    let (h, rest) = good.split_once('.').unwrap();
    let cases: Vec<(String, &str)> = vec![
        (String::new(), "empty_token"),
        ("abc".into(), "not_a_jwt"),
        (format!("{good}.x"), "not_a_jwt"),
        ("a.b.c.d.e".into(), "jwe_unsupported"),
        (format!(".{rest}"), "not_a_jwt"),
        (format!("{h}=.{rest}"), "bad_base64"),
        (format!("{h} .{rest}"), "bad_base64"),
        (format!("{}.{rest}", h.replace('J', "+")), "bad_base64"),
        (
            format!("{}.{rest}", b64::encode("[1]")),
            "header_not_object",
        ),
        (format!("{}.{rest}", b64::encode("{")), "bad_header_json"),
        (format!("{}.{rest}", b64::encode("{}")), "missing_alg"),
        (format!("{}.{rest}", b64::encode(r#"{"alg":1}"#)), "bad_alg"),
        (r#"{"payload":"x"}"#.into(), "jws_json_unsupported"),
        ("a".repeat(300 * 1024), "token_too_large"),
    ];
    for (text, code) in cases {
        let e = Token::parse(&text).unwrap_err();
        assert_eq!(e.code(), code, "{:.60}: {e}", text);
        assert!(!e.to_string().contains('\n'));
    }
    // Deeply nested claims are a format failure, not a crash.
    let deep = format!("{}1{}", "[".repeat(100), "]".repeat(100));
    let t = forge(
        r#"{"alg":"HS256"}"#,
        &format!(r#"{{"x":{deep}}}"#),
        Some((key(Alg::HS256), Alg::HS256)),
    );
    let v = verify_with_secret(&t, key(Alg::HS256).hmac_secret().unwrap());
    assert_eq!(v.check(Check::Format).status, Status::Fail);
}

#[test]
fn jwks_kid_selection_is_strict() {
    let a = PrivateKey::generate(Alg::ES256, None).unwrap();
    let b = PrivateKey::generate(Alg::ES256, None).unwrap();
    let set = json!({"keys": [
        a.public_key().unwrap().to_jwk_with(Some("a"), Some(Alg::ES256)),
        b.public_key().unwrap().to_jwk_with(Some("b"), Some(Alg::ES256)),
    ]});
    let source = || jwt::key_source_from_file(set.to_string().as_bytes(), "jwks.json").unwrap();
    let verify = |t: &str| {
        jwt::verify(
            &Token::parse(t).unwrap(),
            &VerifyOptions::new(source(), Utc::now()),
        )
    };
    let ta = forge(
        r#"{"alg":"ES256","kid":"a"}"#,
        CLAIMS,
        Some((&a, Alg::ES256)),
    );
    let v = verify(&ta);
    assert!(v.valid, "{:?}", v.reason);
    assert_eq!(v.key.unwrap().kid.as_deref(), Some("a"));
    // Signed by a, claiming b.
    let lie = forge(
        r#"{"alg":"ES256","kid":"b"}"#,
        CLAIMS,
        Some((&a, Alg::ES256)),
    );
    assert!(!verify(&lie).valid);
    // Unknown and injected kids fail the signature check.
    for kid in ["c", "../../dev/null", "a' OR '1'='1"] {
        let t = forge(
            &json!({"alg": "ES256", "kid": kid}).to_string(),
            CLAIMS,
            Some((&a, Alg::ES256)),
        );
        let v = verify(&t);
        assert!(!v.valid);
        assert!(v
            .check(Check::Signature)
            .detail
            .contains("no key has the token's kid"));
    }
    // Without a kid every fitting key is tried.
    let nokid = forge(r#"{"alg":"ES256"}"#, CLAIMS, Some((&b, Alg::ES256)));
    assert!(verify(&nokid).valid);
}

#[test]
fn unusable_vault_versions_fail_with_their_reason() {
    let k = key(Alg::EdDSA);
    let material = keyward_core::crypto::KeyMaterial::Public(k.public_key().unwrap());
    let t = forge(
        r#"{"alg":"EdDSA","kid":"v2"}"#,
        CLAIMS,
        Some((k, Alg::EdDSA)),
    );
    let source = KeySource::set(vec![
        Candidate::new(material.clone(), "billing v2")
            .with_kid("v2")
            .with_alg(Alg::EdDSA)
            .with_state("revoked")
            .unusable("revoked"),
        Candidate::new(material, "billing v3")
            .with_kid("v3")
            .with_alg(Alg::EdDSA)
            .with_state("active"),
    ]);
    let v = jwt::verify(
        &Token::parse(&t).unwrap(),
        &VerifyOptions::new(source, Utc::now()),
    );
    assert!(!v.valid);
    let s = v.check(Check::Signature);
    assert_eq!(s.status, Status::Fail);
    assert!(
        s.detail.contains("billing v2 (revoked), which is revoked"),
        "{}",
        s.detail
    );
}
