//! `keyward jwt inspect|verify|crack` end to end: JSON shapes and exit codes.

use assert_cmd::Command;
use keyward_core::crypto::{b64, Alg, PrivateKey};
use serde_json::{json, Map, Value};
use std::path::PathBuf;
use tempfile::TempDir;

const NOW: &str = "2026-01-01T00:00:00Z";
const NOW_S: i64 = 1_767_225_600;
const SECRET: &[u8] = b"a-32-byte-secret-for-hs256-tests";

struct Env {
    dir: TempDir,
}

impl Env {
    fn new() -> Env {
        Env {
            dir: tempfile::tempdir().unwrap(),
        }
    }

    fn file(&self, name: &str, bytes: &[u8]) -> PathBuf {
        let p = self.dir.path().join(name);
        std::fs::write(&p, bytes).unwrap();
        p
    }

    fn cmd(&self) -> Command {
        let mut c = Command::cargo_bin("keyward").unwrap();
        c.env("KEYWARD_VAULT", self.dir.path().join("vault"));
        c
    }
}

fn hs256(claims: Value) -> String {
    let key = PrivateKey::from_hmac_secret(SECRET).unwrap();
    keyward_core::jwt::sign(
        &key,
        Alg::HS256,
        Map::new(),
        claims.as_object().unwrap().clone(),
    )
    .unwrap()
}

fn json_out(out: &std::process::Output) -> Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "stdout is not one JSON document ({e}): {}",
            String::from_utf8_lossy(&out.stdout)
        )
    })
}

fn verify_json(env: &Env, token: &str, args: &[&str]) -> (i32, Value) {
    let secret = env.file("secret.bin", SECRET);
    let out = env
        .cmd()
        .args(["--json", "jwt", "verify", token, "--secret-file"])
        .arg(&secret)
        .args(["--now", NOW])
        .args(args)
        .output()
        .unwrap();
    (out.status.code().unwrap(), json_out(&out))
}

fn check<'a>(doc: &'a Value, name: &str) -> &'a Value {
    doc["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["check"] == name)
        .unwrap_or_else(|| panic!("no {name} check in {doc}"))
}

#[test]
fn inspect_json_shape() {
    let env = Env::new();
    let t = hs256(json!({"sub": "u1", "iat": NOW_S - 60, "exp": NOW_S + 14 * 60}));
    let out = env
        .cmd()
        .args(["--json", "jwt", "inspect", &t, "--now", NOW])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let doc = json_out(&out);
    assert_eq!(doc["header"]["alg"], "HS256");
    assert_eq!(doc["claims"]["sub"], "u1");
    let exp = doc["registered"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["claim"] == "exp")
        .unwrap();
    assert_eq!(exp["value"], NOW_S + 840);
    assert!(
        exp["explained"]
            .as_str()
            .unwrap()
            .contains("expires in 14 min"),
        "{exp}"
    );
    assert_eq!(
        doc["timeline"],
        json!({"iat": NOW_S - 60, "nbf": null, "exp": NOW_S + 840, "now": NOW_S})
    );
    let lint = &doc["lints"][0];
    assert_eq!(lint["id"], "symmetric_alg");
    assert_eq!(lint["severity"], "info");
    assert!(lint["message"].is_string());
}

#[test]
fn inspect_reads_stdin_and_lints_alg_none() {
    let env = Env::new();
    let t = format!(
        "{}.{}.",
        b64::encode(r#"{"alg":"none"}"#),
        b64::encode(r#"{"sub":"x"}"#)
    );
    let out = env
        .cmd()
        .args(["--json", "jwt", "inspect", "-"])
        .write_stdin(format!("  {t}\n"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let doc = json_out(&out);
    let ids: Vec<&str> = doc["lints"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["id"].as_str().unwrap())
        .collect();
    assert!(
        ids.contains(&"alg_none") && ids.contains(&"missing_exp"),
        "{ids:?}"
    );
    // Human output too.
    let out = env.cmd().args(["jwt", "inspect", &t]).output().unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("alg_none"), "{text}");
}

#[test]
fn inspect_bad_input_exits_2_with_one_line() {
    let env = Env::new();
    for bad in ["not-a-jwt", "a.b", "a.b.c", "eyJhbGciOiJIUzI1NiJ9.e30.x.y"] {
        let out = env.cmd().args(["jwt", "inspect", bad]).output().unwrap();
        assert_eq!(out.status.code(), Some(2), "{bad}");
        let err = String::from_utf8(out.stderr).unwrap();
        assert_eq!(err.trim_end().lines().count(), 1, "{err}");
        assert!(out.stdout.is_empty());
        let out = env
            .cmd()
            .args(["--json", "jwt", "inspect", bad])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2));
        assert!(json_out(&out)["error"]["code"].is_string());
    }
}

#[test]
fn verify_valid_token_exits_0_with_every_check() {
    let env = Env::new();
    let t = hs256(json!({"sub": "u", "exp": NOW_S + 600, "iss": "me", "aud": "api"}));
    let (code, doc) = verify_json(
        &env,
        &t,
        &["--iss", "me", "--aud", "api", "--require", "sub"],
    );
    assert_eq!(code, 0, "{doc}");
    assert_eq!(doc["valid"], true);
    assert_eq!(doc["reason"], Value::Null);
    assert_eq!(doc["header"]["alg"], "HS256");
    assert_eq!(doc["claims"]["sub"], "u");
    let names: Vec<&str> = doc["checks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["check"].as_str().unwrap())
        .collect();
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
    for c in doc["checks"].as_array().unwrap() {
        assert!(["pass", "fail", "warn", "skipped"].contains(&c["status"].as_str().unwrap()));
        assert!(c["detail"].is_string());
    }
    assert_eq!(check(&doc, "signature")["status"], "pass");
    assert_eq!(check(&doc, "aud")["status"], "pass");
    assert_eq!(check(&doc, "revocation")["status"], "skipped");
}

#[test]
fn verify_rejections_exit_1() {
    let env = Env::new();
    let good = hs256(json!({"sub": "u", "exp": NOW_S + 600}));
    // Tampered payload.
    let parts: Vec<&str> = good.split('.').collect();
    let tampered = format!(
        "{}.{}.{}",
        parts[0],
        b64::encode(r#"{"sub":"admin","exp":4102444800}"#),
        parts[2]
    );
    let (code, doc) = verify_json(&env, &tampered, &[]);
    assert_eq!(code, 1);
    assert_eq!(doc["valid"], false);
    assert!(
        doc["reason"].as_str().unwrap().starts_with("signature: "),
        "{}",
        doc["reason"]
    );
    // Expired.
    let (code, doc) = verify_json(&env, &hs256(json!({"exp": NOW_S - 3 * 86_400})), &[]);
    assert_eq!(code, 1);
    assert_eq!(check(&doc, "exp")["status"], "fail");
    assert!(doc["reason"]
        .as_str()
        .unwrap()
        .starts_with("exp: expired 3 days ago"));
    // alg none.
    let none = format!(
        "{}.{}.",
        b64::encode(r#"{"alg":"none"}"#),
        b64::encode(r#"{"sub":"x"}"#)
    );
    let (code, doc) = verify_json(&env, &none, &[]);
    assert_eq!(code, 1);
    assert_eq!(check(&doc, "algorithm")["status"], "fail");
    // aud in the token but no --aud.
    let (code, doc) = verify_json(&env, &hs256(json!({"aud": "api"})), &[]);
    assert_eq!(code, 1);
    assert_eq!(check(&doc, "aud")["status"], "fail");
    // Wrong issuer, missing required claim, --alg excluding HS256.
    assert_eq!(verify_json(&env, &good, &["--iss", "x"]).0, 1);
    assert_eq!(verify_json(&env, &good, &["--require", "jti"]).0, 1);
    let (code, doc) = verify_json(&env, &good, &["--alg", "HS512"]);
    assert_eq!(code, 1);
    assert_eq!(check(&doc, "algorithm")["status"], "fail");
    // Not a claims set without --jws, fine with it.
    let key = PrivateKey::from_hmac_secret(SECRET).unwrap();
    let input = format!(
        "{}.{}",
        b64::encode(r#"{"alg":"HS256"}"#),
        b64::encode("raw bytes")
    );
    let jws = format!(
        "{input}.{}",
        b64::encode(key.sign(Alg::HS256, input.as_bytes()).unwrap())
    );
    let (code, doc) = verify_json(&env, &jws, &[]);
    assert_eq!(
        (code, check(&doc, "format")["status"].clone()),
        (1, json!("fail"))
    );
    let (code, doc) = verify_json(&env, &jws, &["--jws"]);
    assert_eq!(code, 0, "{doc}");
    assert_eq!(check(&doc, "exp")["status"], "skipped");
    // Leeway rescues a just-expired token.
    let t = hs256(json!({"exp": NOW_S - 20}));
    assert_eq!(verify_json(&env, &t, &[]).0, 1);
    assert_eq!(verify_json(&env, &t, &["--leeway", "30"]).0, 0);
}

#[test]
fn verify_bad_input_exits_2() {
    let env = Env::new();
    let secret = env.file("s.bin", SECRET);
    let good = hs256(json!({}));
    let cases: Vec<Vec<String>> = vec![
        vec![
            "garbage".into(),
            "--secret-file".into(),
            secret.display().to_string(),
        ],
        vec![
            good.clone(),
            "--secret-file".into(),
            "/nonexistent/secret".into(),
        ],
        vec![
            good.clone(),
            "--key-file".into(),
            env.file("bad.pem", b"hello").display().to_string(),
        ],
        vec![
            good.clone(),
            "--key-file".into(),
            env.file("empty.jwks", br#"{"keys":[]}"#)
                .display()
                .to_string(),
        ],
        vec![good.clone()],
        vec![
            good.clone(),
            "--secret-file".into(),
            secret.display().to_string(),
            "--alg".into(),
            "none".into(),
        ],
        vec![
            good.clone(),
            "--secret-file".into(),
            secret.display().to_string(),
            "--now".into(),
            "yesterday".into(),
        ],
        vec![
            good.clone(),
            "--secret-file".into(),
            env.file("empty", b"").display().to_string(),
        ],
    ];
    for args in cases {
        let out = env
            .cmd()
            .args(["--json", "jwt", "verify"])
            .args(&args)
            .output()
            .unwrap();
        assert_eq!(
            out.status.code(),
            Some(2),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(err.trim_end().lines().count(), 1, "{args:?}: {err}");
        assert!(json_out(&out)["error"]["message"].is_string());
    }
}

#[test]
fn verify_with_key_files() {
    let env = Env::new();
    let k = PrivateKey::generate(Alg::ES256, None).unwrap();
    let public = k.public_key().unwrap();
    let t = keyward_core::jwt::sign_with_kid(&k, Alg::ES256, Some("k1"), Map::new(), Map::new())
        .unwrap();
    let pem = env.file("pub.pem", public.to_pem().as_bytes());
    let private_pem = env.file("priv.pem", k.to_pem().unwrap().expose());
    let jwks = env.file(
        "jwks.json",
        json!({"keys": [public.to_jwk_with(Some("k1"), Some(Alg::ES256))]})
            .to_string()
            .as_bytes(),
    );
    let other = PrivateKey::generate(Alg::ES256, None).unwrap();
    let wrong_kid_jwks = env.file(
        "jwks2.json",
        json!({"keys": [other.public_key().unwrap().to_jwk_with(Some("k2"), Some(Alg::ES256))]})
            .to_string()
            .as_bytes(),
    );
    for (file, want) in [
        (&pem, 0),
        (&private_pem, 0),
        (&jwks, 0),
        (&wrong_kid_jwks, 1),
    ] {
        let out = env
            .cmd()
            .args(["--json", "jwt", "verify", &t, "--key-file"])
            .arg(file)
            .output()
            .unwrap();
        assert_eq!(
            out.status.code(),
            Some(want),
            "{}: {}",
            file.display(),
            String::from_utf8_lossy(&out.stdout)
        );
    }
    // The public key as an HMAC secret: algorithm confusion refused.
    let hmac = PrivateKey::from_hmac_secret(public.to_pem().as_bytes()).unwrap();
    let forged = keyward_core::jwt::sign(&hmac, Alg::HS256, Map::new(), Map::new()).unwrap();
    let out = env
        .cmd()
        .args(["--json", "jwt", "verify", &forged, "--key-file"])
        .arg(&pem)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(check(&json_out(&out), "algorithm")["status"], "fail");
    // Human output: a checklist.
    let out = env
        .cmd()
        .args(["jwt", "verify", &t, "--key-file"])
        .arg(&pem)
        .output()
        .unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.starts_with("VALID"), "{text}");
    assert!(text.contains("[pass] signature"), "{text}");
}

#[test]
fn crack_finds_weak_secrets() {
    let env = Env::new();
    let key = PrivateKey::from_hmac_secret(b"hunter2").unwrap();
    let t = keyward_core::jwt::sign(&key, Alg::HS256, Map::new(), Map::new()).unwrap();
    let words = env.file("words.txt", b"password\r\n123456\nhunter2\nletmein\n");
    let out = env
        .cmd()
        .args(["jwt", "crack", &t, "--wordlist"])
        .arg(&words)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(String::from_utf8(out.stdout).unwrap().trim(), "hunter2");
    let miss = env.file("miss.txt", b"a\nb\n");
    let out = env
        .cmd()
        .args(["jwt", "crack", &t, "--wordlist"])
        .arg(&miss)
        .args(["--threads", "2"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    // Not HS*, or an empty signature: exit 2.
    let ec = PrivateKey::generate(Alg::ES256, None).unwrap();
    let es = keyward_core::jwt::sign(&ec, Alg::ES256, Map::new(), Map::new()).unwrap();
    let stripped = format!("{}.", t.rsplit_once('.').unwrap().0);
    for bad in [es, stripped] {
        let out = env
            .cmd()
            .args(["jwt", "crack", &bad, "--wordlist"])
            .arg(&words)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2));
    }
}
