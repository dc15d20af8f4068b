//! Key material: generation, storage, PEM/DER/JWK round trips, thumbprints,
//! and refusal of malformed or weak keys.

use keyward_core::crypto::{
    parse_key, Alg, KeyFamily, KeyMaterial, ParsedKey, PrivateKey, PublicKey,
};
use serde_json::{json, Value};
use std::path::PathBuf;
use std::sync::OnceLock;

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

fn rfc_example(id: &str) -> Value {
    let all = vector_json("rfc-examples.json");
    all["vectors"]
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["id"] == id)
        .unwrap_or_else(|| panic!("no example {id}"))
        .clone()
}

/// One key per family, generated once (RSA generation is slow).
fn key(alg: Alg) -> &'static PrivateKey {
    static KEYS: OnceLock<Vec<(KeyFamily, PrivateKey)>> = OnceLock::new();
    let keys = KEYS.get_or_init(|| {
        [Alg::HS512, Alg::RS256, Alg::ES256, Alg::ES384, Alg::EdDSA]
            .into_iter()
            .map(|a| (a.family(), PrivateKey::generate(a, None).unwrap()))
            .collect()
    });
    &keys.iter().find(|(f, _)| *f == alg.family()).unwrap().1
}

fn code(e: keyward_core::Error) -> &'static str {
    e.code()
}

#[test]
fn algorithms_parse_and_map_to_families() {
    for alg in Alg::ALL {
        assert_eq!(alg.as_str().parse::<Alg>().unwrap(), alg);
        assert_eq!(alg.to_string(), alg.as_str());
        assert!(alg.family().allowed_algs().contains(&alg));
        assert_eq!(alg.is_hmac(), alg.family() == KeyFamily::Hmac);
        assert_eq!(serde_json::to_value(alg).unwrap(), json!(alg.as_str()));
        assert_eq!(Alg::from_jose(alg.as_str()), Some(alg));
    }
    assert_eq!("es256".parse::<Alg>().unwrap(), Alg::ES256);
    assert_eq!(
        Alg::from_jose("es256"),
        None,
        "token headers are case-sensitive"
    );
    let err = "none".parse::<Alg>().unwrap_err();
    assert_eq!(err.code(), "unknown_alg");
    assert!(err.to_string().contains("use one of HS256, HS384"), "{err}");
    assert_eq!(Alg::ES384.family(), KeyFamily::EcP384);
    for f in [
        KeyFamily::Hmac,
        KeyFamily::Rsa,
        KeyFamily::EcP256,
        KeyFamily::EcP384,
        KeyFamily::Ed25519,
    ] {
        assert_eq!(KeyFamily::parse(f.as_str()), Some(f));
    }
    assert_eq!(KeyFamily::Hmac.as_str(), "oct");
    assert_eq!(KeyFamily::parse("P-521"), None);
}

#[test]
fn generated_keys_survive_the_keychain_form() {
    for alg in [Alg::HS256, Alg::RS256, Alg::ES256, Alg::ES384, Alg::EdDSA] {
        let k = key(alg);
        assert_eq!(k.family(), alg.family());
        let stored = k.to_storage();
        let back = PrivateKey::from_storage(k.family(), stored.expose()).unwrap();
        assert_eq!(back.to_storage(), stored, "{alg}");
        assert_eq!(back.public_key(), k.public_key(), "{alg}");
        assert_eq!(back.hmac_secret(), k.hmac_secret());
        // Stored bytes of one family are refused as another.
        if alg.family() != KeyFamily::Hmac {
            let other = if alg.family() == KeyFamily::Rsa {
                KeyFamily::Ed25519
            } else {
                KeyFamily::Rsa
            };
            assert!(PrivateKey::from_storage(other, stored.expose()).is_err());
        }
    }
}

#[test]
fn hmac_secrets_have_the_hash_size() {
    for (alg, len) in [(Alg::HS256, 32), (Alg::HS384, 48), (Alg::HS512, 64)] {
        let a = PrivateKey::generate(alg, None).unwrap();
        let b = PrivateKey::generate(alg, None).unwrap();
        assert_eq!(a.hmac_secret().unwrap().len(), len);
        assert_ne!(a.hmac_secret(), b.hmac_secret());
        assert!(a.public_key().is_none());
        assert_eq!(code(a.to_pem().unwrap_err()), "no_pem_form");
    }
    assert!(PrivateKey::from_hmac_secret(b"").is_err());
    assert_eq!(
        PrivateKey::from_hmac_secret(b"x").unwrap().hmac_secret(),
        Some(&b"x"[..])
    );
}

#[test]
fn bad_rsa_sizes_are_refused() {
    for bits in [1024, 2047, 2049, 8192] {
        let e = PrivateKey::generate(Alg::RS256, Some(bits)).unwrap_err();
        assert_eq!(e.code(), "bad_bits", "{bits}");
    }
    assert_eq!(
        PrivateKey::generate(Alg::ES256, Some(2048))
            .unwrap_err()
            .code(),
        "bad_bits"
    );
}

#[test]
fn debug_output_never_shows_material() {
    for alg in [Alg::HS256, Alg::RS256, Alg::ES256, Alg::ES384, Alg::EdDSA] {
        let k = key(alg);
        let dbg = format!("{k:?}");
        assert!(dbg.contains("redacted"), "{dbg}");
        let jwk: Value = serde_json::from_slice(k.to_jwk(None, None).expose()).unwrap();
        for member in ["k", "d", "p", "q"] {
            if let Some(s) = jwk[member].as_str() {
                assert!(!dbg.contains(s), "{alg}: Debug leaks {member}");
            }
        }
        let material = ParsedKey::Private(
            PrivateKey::from_storage(k.family(), k.to_storage().expose()).unwrap(),
        );
        let dbg = format!("{material:?} {:?}", material.to_material());
        assert!(!dbg.contains(&format!("{:?}", k.to_storage().expose())));
    }
}

#[test]
fn pem_exports_parse_back() {
    for alg in [Alg::RS256, Alg::ES256, Alg::ES384, Alg::EdDSA] {
        let k = key(alg);
        let pem = k.to_pem().unwrap();
        assert!(pem.expose().starts_with(b"-----BEGIN PRIVATE KEY-----\n"));
        match parse_key(pem.expose()).unwrap() {
            ParsedKey::Private(p) => {
                assert_eq!(p.to_storage(), k.to_storage(), "{alg}");
            }
            ParsedKey::Public(_) => panic!("{alg}: private PEM read as public"),
        }
        let public = k.public_key().unwrap();
        let ppem = public.to_pem();
        assert!(ppem.starts_with("-----BEGIN PUBLIC KEY-----\n"), "{ppem}");
        match parse_key(ppem.as_bytes()).unwrap() {
            ParsedKey::Public(p) => assert_eq!(p, public),
            ParsedKey::Private(_) => panic!("public PEM read as private"),
        }
        assert_eq!(PublicKey::from_der(&public.to_der()).unwrap(), public);
        // Raw DER is accepted too.
        match parse_key(&public.to_der()).unwrap() {
            ParsedKey::Public(p) => assert_eq!(p, public),
            ParsedKey::Private(_) => panic!(),
        }
        match parse_key(k.to_storage().expose()).unwrap() {
            ParsedKey::Private(p) => assert_eq!(p.public_key().unwrap(), public),
            ParsedKey::Public(_) => panic!(),
        }
    }
}

#[test]
fn legacy_pem_forms_parse() {
    use pkcs1::{EncodeRsaPrivateKey, EncodeRsaPublicKey};
    use pkcs8::DecodePrivateKey;
    let k = key(Alg::RS256);
    let rsa_key = rsa::RsaPrivateKey::from_pkcs8_der(k.to_storage().expose()).unwrap();
    let pkcs1 = rsa_key.to_pkcs1_pem(pkcs1::LineEnding::CRLF).unwrap();
    let ParsedKey::Private(p) = parse_key(pkcs1.as_bytes()).unwrap() else {
        panic!("PKCS#1 private read as public")
    };
    assert_eq!(p.public_key(), k.public_key());
    let pkcs1_pub = rsa_key
        .to_public_key()
        .to_pkcs1_pem(pkcs1::LineEnding::LF)
        .unwrap();
    let ParsedKey::Public(p) = parse_key(pkcs1_pub.as_bytes()).unwrap() else {
        panic!()
    };
    assert_eq!(Some(p), k.public_key());

    for alg in [Alg::ES256, Alg::ES384] {
        let k = key(alg);
        let sec1 = match alg {
            Alg::ES256 => p256::SecretKey::from_pkcs8_der(k.to_storage().expose())
                .unwrap()
                .to_sec1_pem(pkcs8::LineEnding::LF)
                .unwrap(),
            _ => p384::SecretKey::from_pkcs8_der(k.to_storage().expose())
                .unwrap()
                .to_sec1_pem(pkcs8::LineEnding::LF)
                .unwrap(),
        };
        // `openssl ecparam -genkey` writes an EC PARAMETERS block first.
        let with_params = format!(
            "-----BEGIN EC PARAMETERS-----\nBggqhkjOPQMBBw==\n-----END EC PARAMETERS-----\n{}",
            &*sec1
        );
        for text in [sec1.to_string(), with_params] {
            let ParsedKey::Private(p) = parse_key(text.as_bytes()).unwrap() else {
                panic!()
            };
            assert_eq!(p.public_key(), k.public_key(), "{alg}");
        }
    }
}

#[test]
fn certificates_yield_their_public_key() {
    // A self-signed certificate made by OpenSSL for a key generated here.
    let dir = tempfile::tempdir().unwrap();
    for alg in [Alg::RS256, Alg::ES256, Alg::EdDSA] {
        let k = key(alg);
        let key_path = dir.path().join("key.pem");
        let cert_path = dir.path().join("cert.pem");
        std::fs::write(&key_path, k.to_pem().unwrap().expose()).unwrap();
        let out = std::process::Command::new("openssl")
            .args([
                "req",
                "-new",
                "-x509",
                "-days",
                "1",
                "-subj",
                "/CN=keyward-test",
                "-key",
            ])
            .arg(&key_path)
            .arg("-out")
            .arg(&cert_path)
            .output()
            .expect("openssl must be installed for this test");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let mut text = b"Some text before the block\n".to_vec();
        text.extend(std::fs::read(&cert_path).unwrap());
        let ParsedKey::Public(p) = parse_key(&text).unwrap() else {
            panic!("a certificate holds a public key")
        };
        assert_eq!(Some(p), k.public_key(), "{alg}");
    }
}

#[test]
fn jwk_exports_parse_back() {
    for alg in [Alg::HS384, Alg::RS256, Alg::ES256, Alg::ES384, Alg::EdDSA] {
        let k = key(alg);
        let jwk = k.to_jwk(Some("kid-1"), Some(alg));
        let v: Value = serde_json::from_slice(jwk.expose()).unwrap();
        assert_eq!(v["kid"], "kid-1");
        assert_eq!(v["alg"], alg.as_str());
        assert_eq!(v["use"], "sig");
        let ParsedKey::Private(p) = parse_key(jwk.expose()).unwrap() else {
            panic!("{alg}: private JWK read as public")
        };
        assert_eq!(p.to_storage(), k.to_storage(), "{alg}");
        if let Some(public) = k.public_key() {
            let pj = public.to_jwk();
            assert!(pj.get("d").is_none());
            assert_eq!(PublicKey::from_jwk(&pj).unwrap(), public);
            assert_eq!(
                PublicKey::from_jwk(&v).unwrap(),
                public,
                "public half of a private JWK"
            );
            let kid_alg = public.to_jwk_with(Some("x"), Some(alg));
            assert_eq!(kid_alg["use"], "sig");
            assert_eq!(PublicKey::from_jwk(&kid_alg).unwrap(), public);
        } else {
            assert!(PublicKey::from_jwk(&v).is_err());
        }
    }
    let rsa = serde_json::from_slice::<Value>(key(Alg::RS256).to_jwk(None, None).expose()).unwrap();
    for m in ["kty", "n", "e", "d", "p", "q", "dp", "dq", "qi"] {
        assert!(rsa[m].is_string(), "RSA private JWK lacks {m}");
    }
    assert!(rsa.get("kid").is_none() && rsa.get("use").is_none());
}

#[test]
fn signatures_made_here_verify_with_jsonwebtoken() {
    for alg in Alg::ALL {
        let k = key(alg);
        let msg = b"eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0";
        let sig = k.sign(alg, msg).unwrap();
        let material = ParsedKey::Private(
            PrivateKey::from_storage(k.family(), k.to_storage().expose()).unwrap(),
        )
        .to_material();
        material.verify(alg, msg, &sig).unwrap();
        assert!(material.verify(alg, b"other", &sig).is_err(), "{alg}");
        let mut bad = sig.clone();
        bad[0] ^= 1;
        assert!(material.verify(alg, msg, &bad).is_err(), "{alg}");
    }
    // A key refuses algorithms of other families.
    assert_eq!(
        key(Alg::RS256).sign(Alg::ES256, b"x").unwrap_err().code(),
        "alg_mismatch"
    );
    let rsa = KeyMaterial::Public(key(Alg::RS256).public_key().unwrap());
    assert!(rsa.verify(Alg::HS256, b"x", &[0; 32]).is_err());
}

#[test]
fn rfc_thumbprints() {
    for (id, expected) in [
        ("rfc7638-3.1", "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"),
        (
            "rfc8037-a1-a3",
            "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k",
        ),
    ] {
        let ex = rfc_example(id);
        assert_eq!(ex["expected"]["thumbprint"], expected);
        let key = PublicKey::from_jwk(&ex["jwk"]).unwrap();
        assert_eq!(key.thumbprint(), expected, "{id}");
        // The same key read from its PEM form has the same thumbprint.
        let ParsedKey::Public(again) = parse_key(key.to_pem().as_bytes()).unwrap() else {
            panic!()
        };
        assert_eq!(again.thumbprint(), expected);
    }
}

#[test]
fn rfc_example_private_keys_parse_and_match_their_public_keys() {
    for id in ["rfc7515-a2", "rfc7515-a3", "rfc8037-a1-a3"] {
        let ex = rfc_example(id);
        let text = serde_json::to_vec(&ex["jwk"]).unwrap();
        let ParsedKey::Private(k) = parse_key(&text).unwrap() else {
            panic!("{id}: private JWK read as public")
        };
        assert_eq!(
            k.public_key().unwrap(),
            PublicKey::from_jwk(&ex["jwk_public"]).unwrap(),
            "{id}"
        );
    }
    // RFC 7515 A.4 is P-521: refused with a clear message.
    let ex = rfc_example("rfc7515-a4");
    let e = parse_key(&serde_json::to_vec(&ex["jwk"]).unwrap()).unwrap_err();
    assert_eq!(e.code(), "unsupported_key");
    assert!(e.to_string().contains("P-521"), "{e}");
}

#[test]
fn rfc7520_keys_parse() {
    let read = |name: &str| std::fs::read(vectors_dir().join("rfc7520/jwk").join(name)).unwrap();
    let ParsedKey::Public(rsa_pub) = parse_key(&read("3_3.rsa_public_key.json")).unwrap() else {
        panic!()
    };
    assert_eq!(rsa_pub.family(), KeyFamily::Rsa);
    assert_eq!(rsa_pub.rsa_bits(), Some(2048));
    let ParsedKey::Private(rsa_priv) = parse_key(&read("3_4.rsa_private_key.json")).unwrap() else {
        panic!()
    };
    assert_eq!(rsa_priv.public_key().unwrap(), rsa_pub);
    for name in [
        "3_5.symmetric_key_mac_computation.json",
        "3_6.symmetric_key_encryption.json",
    ] {
        let ParsedKey::Private(k) = parse_key(&read(name)).unwrap() else {
            panic!()
        };
        assert_eq!(k.family(), KeyFamily::Hmac);
        assert_eq!(k.hmac_secret().unwrap().len(), 32);
    }
    // 3.1/3.2 are P-521 keys, which Keyward does not store.
    for name in ["3_1.ec_public_key.json", "3_2.ec_private_key.json"] {
        let e = parse_key(&read(name)).unwrap_err();
        assert_eq!(e.code(), "unsupported_key", "{name}: {e}");
    }
}

fn jwk_error(v: Value) -> (String, String) {
    let e = parse_key(&serde_json::to_vec(&v).unwrap()).unwrap_err();
    let message = e.to_string();
    assert!(!message.contains('\n'), "one-line messages: {message}");
    (e.code().to_string(), message)
}

#[test]
fn malformed_jwks_are_refused_one_defect_at_a_time() {
    let ec = key(Alg::ES256).public_key().unwrap().to_jwk();
    let rsa = key(Alg::RS256).public_key().unwrap().to_jwk();
    let okp = key(Alg::EdDSA).public_key().unwrap().to_jwk();
    let with = |base: &Value, k: &str, v: Value| {
        let mut b = base.clone();
        b[k] = v;
        b
    };
    let without = |base: &Value, k: &str| {
        let mut b = base.clone();
        b.as_object_mut().unwrap().remove(k);
        b
    };
    let cases: Vec<(Value, &str, &str)> = vec![
        (json!([1]), "bad_jwk", "JSON object"),
        (without(&ec, "kty"), "bad_jwk", "kty"),
        (
            with(&ec, "kty", json!(7)),
            "bad_jwk",
            "\"kty\" must be a string",
        ),
        (with(&ec, "kty", json!("XYZ")), "unsupported_key", "XYZ"),
        (without(&ec, "y"), "bad_jwk", "\"y\""),
        (
            with(&ec, "x", json!(5)),
            "bad_jwk",
            "\"x\" must be a string",
        ),
        (with(&ec, "x", json!("AAAA")), "bad_jwk", "32 bytes"),
        (with(&ec, "crv", json!("P-521")), "unsupported_key", "P-521"),
        (with(&ec, "kid", json!(1)), "bad_jwk", "\"kid\""),
        (with(&ec, "key_ops", json!("verify")), "bad_jwk", "key_ops"),
        (
            with(&ec, "key_ops", json!(["verify", "verify"])),
            "bad_jwk",
            "twice",
        ),
        (with(&ec, "d", json!("AAAA")), "bad_jwk", "\"d\""),
        (
            with(&rsa, "n", json!("not base64!")),
            "bad_jwk",
            "base64url",
        ),
        (with(&rsa, "n", json!("AQAB==")), "bad_jwk", "padding"),
        (with(&rsa, "e", json!("AQ")), "bad_rsa_exponent", "exponent"),
        (with(&rsa, "e", json!("AQAA")), "bad_rsa_exponent", "odd"),
        (with(&rsa, "dp", json!("AQAB")), "bad_jwk", "no \"d\""),
        (
            with(&okp, "crv", json!("X25519")),
            "unsupported_key",
            "X25519",
        ),
        (with(&okp, "x", json!("AAAA")), "bad_jwk", "32 bytes"),
        (json!({"kty": "oct", "k": ""}), "bad_jwk", "empty"),
        (json!({"kty": "oct"}), "bad_jwk", "\"k\""),
        (json!({"keys": []}), "bad_jwk", "JWK Set"),
    ];
    for (v, want_code, want_text) in cases {
        let (code, message) = jwk_error(v.clone());
        assert_eq!(code, want_code, "{v}: {message}");
        assert!(
            message.contains(want_text),
            "{v}: {message:?} lacks {want_text:?}"
        );
    }
    // A point off the curve (y changed by one bit).
    let mut y = keyward_core::crypto::b64::decode(ec["y"].as_str().unwrap()).unwrap();
    y[31] ^= 1;
    let (code, message) = jwk_error(with(&ec, "y", json!(keyward_core::crypto::b64::encode(&y))));
    assert_eq!(code, "bad_jwk");
    assert!(message.contains("not on the P-256 curve"), "{message}");
    // A private key that does not match its public members.
    let other = serde_json::from_slice::<Value>(
        PrivateKey::generate(Alg::ES256, None)
            .unwrap()
            .to_jwk(None, None)
            .expose(),
    )
    .unwrap();
    let (code, message) = jwk_error(with(&ec, "d", other["d"].clone()));
    assert_eq!(code, "bad_jwk");
    assert!(message.contains("does not match"), "{message}");
    // Duplicate members are refused rather than silently resolved.
    let e = parse_key(br#"{"kty":"oct","k":"AAAA","k":"BBBB"}"#).unwrap_err();
    assert!(e.to_string().contains("more than once"), "{e}");
}

#[test]
fn weak_rsa_keys_are_refused() {
    // The 1024-bit key of Wycheproof's JWK tests.
    let v = vector_json("wycheproof/json_web_key_test.json");
    let groups = v["testGroups"].as_array().unwrap();
    let mut seen = false;
    for g in groups {
        let Some(public) = g["public"]["keys"].get(0) else {
            continue;
        };
        if let (Some("RSA"), Some(n)) = (public["kty"].as_str(), public["n"].as_str()) {
            let n = keyward_core::crypto::b64::decode(n).unwrap();
            if n.len() * 8 < 2048 {
                let (code, message) = jwk_error(public.clone());
                assert_eq!(code, "weak_rsa");
                assert!(message.contains("1024 bits"), "{message}");
                seen = true;
            }
        }
    }
    assert!(seen, "the vectors hold a 1024-bit RSA key");
    // The ROCA-vulnerable key (CVE-2017-15361) is refused; a sound key of the same file is not.
    let mut roca = 0;
    for g in groups {
        for k in g["public"]["keys"].as_array().into_iter().flatten() {
            match k["kid"].as_str() {
                Some("kid-rsa-roca-sign") => {
                    let (code, message) = jwk_error(k.clone());
                    assert_eq!(code, "weak_rsa");
                    assert!(message.contains("ROCA"), "{message}");
                    roca += 1;
                }
                Some("kid-rsa-sign") => {
                    PublicKey::from_jwk(k).unwrap();
                }
                _ => {}
            }
        }
    }
    assert!(roca > 0);
}

#[test]
fn malformed_pem_is_refused() {
    let cases: Vec<(&[u8], &str)> =
        vec![
        (b"", "empty_key"),
        (b"hello", "unknown_key_format"),
        (b"-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n", "bad_pem"),
        (b"-----BEGIN PUBLIC KEY-----\nMFkw\n", "bad_pem"),
        (b"-----BEGIN FOO-----\nAAAA\n-----END FOO-----\n", "unsupported_key"),
        (
            b"-----BEGIN ENCRYPTED PRIVATE KEY-----\nAAAA\n-----END ENCRYPTED PRIVATE KEY-----\n",
            "unsupported_key",
        ),
        (b"{not json", "bad_jwk"),
    ];
    for (input, want) in cases {
        let e = parse_key(input).unwrap_err();
        assert_eq!(e.code(), want, "{:?}: {e}", String::from_utf8_lossy(input));
    }
    // Wycheproof's P-256 public key in PEM form parses; its P-521 sibling is refused.
    let v = vector_json("wycheproof/ecdsa_secp256r1_sha256_p1363_test.json");
    let pem = v["testGroups"][0]["publicKeyPem"].as_str().unwrap();
    let ParsedKey::Public(p) = parse_key(pem.as_bytes()).unwrap() else {
        panic!()
    };
    assert_eq!(p.family(), KeyFamily::EcP256);
    assert_eq!(
        p,
        PublicKey::from_jwk(&v["testGroups"][0]["publicKeyJwk"]).unwrap()
    );
}
