//! `keyward jwt crack` end to end (wordlist, mask, built-in list, mutations,
//! JSON shape, exit codes 0/1/2/130, progress on stderr), and the weak-secret
//! warnings of `keyward key import --kind signing --alg HS*` (real keychain).

mod common;

use common::TestVault;
use keyward_core::crypto::{Alg, PrivateKey};
use serde_json::{json, Map, Value};
use std::path::PathBuf;
use std::process::Stdio;
use std::time::{Duration, Instant};

fn token(alg: Alg, secret: &[u8]) -> String {
    let key = PrivateKey::from_hmac_secret(secret).unwrap();
    let mut claims = Map::new();
    claims.insert("sub".into(), json!("cli-crack"));
    keyward_core::jwt::sign(&key, alg, Map::new(), claims).unwrap()
}

struct Files(tempfile::TempDir);

impl Files {
    fn new() -> Self {
        Files(tempfile::tempdir().unwrap())
    }
    fn write(&self, name: &str, bytes: &[u8]) -> PathBuf {
        let p = self.0.path().join(name);
        std::fs::write(&p, bytes).unwrap();
        p
    }
}

fn crack_json(v: &TestVault, args: &[&str], code: i32) -> Value {
    let mut full = vec!["jwt", "crack"];
    full.extend_from_slice(args);
    v.json(&full, code)
}

#[test]
fn wordlist_hit_prints_the_secret_and_exits_0() {
    let v = TestVault::new();
    let f = Files::new();
    let words = f.write(
        "words.txt",
        b"password\r\n\r\n123456\r\nhunter2\r\nletmein\r\n",
    );
    for alg in [Alg::HS256, Alg::HS384, Alg::HS512] {
        let t = token(alg, b"hunter2");
        let (out, _) = v.run(
            &["jwt", "crack", &t, "--wordlist", words.to_str().unwrap()],
            0,
        );
        assert_eq!(out.trim_end(), "hunter2", "{alg}");
        let doc = crack_json(&v, &[&t, "--wordlist", words.to_str().unwrap()], 0);
        assert_eq!(doc["found"], true);
        assert_eq!(doc["secret"], "hunter2");
        assert_eq!(doc["secret_hex"], "68756e74657232");
        assert_eq!(doc["alg"], alg.as_str());
        assert_eq!(doc["interrupted"], false);
        assert!(doc["tried"].as_u64().unwrap() >= 1);
        assert!(doc["elapsed_ms"].is_u64());
        assert!(doc["rate"].is_number());
    }
}

#[test]
fn exhausted_wordlist_exits_1_with_found_false() {
    let v = TestVault::new();
    let f = Files::new();
    let words = f.write("words.txt", b"a\nb\nc\n\n");
    let t = token(Alg::HS256, b"not-there");
    let doc = crack_json(
        &v,
        &[&t, "--wordlist", words.to_str().unwrap(), "--threads", "2"],
        1,
    );
    assert_eq!(doc["found"], false);
    assert_eq!(doc["secret"], Value::Null);
    assert_eq!(doc["tried"], 3);
    assert!(doc.get("secret_hex").is_none());
    let (out, err) = v.run(
        &["jwt", "crack", &t, "--wordlist", words.to_str().unwrap()],
        1,
    );
    assert!(out.contains("not found"), "{out}");
    // Not a terminal: no bar, a plain summary line.
    assert!(err.contains("tried 3 candidates"), "{err}");
    let (_, err) = v.run(
        &[
            "--quiet",
            "jwt",
            "crack",
            &t,
            "--wordlist",
            words.to_str().unwrap(),
        ],
        1,
    );
    assert_eq!(err, "", "--quiet prints nothing on stderr");
}

#[test]
fn token_from_stdin() {
    let v = TestVault::new();
    let f = Files::new();
    let words = f.write("words.txt", b"x\nopen-sesame\n");
    let t = token(Alg::HS512, b"open-sesame");
    let out = v
        .cmd(&["jwt", "crack", "-", "--wordlist", words.to_str().unwrap()])
        .write_stdin(format!("  {t}\n"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "open-sesame");
}

#[test]
fn mask_mode_and_lengths() {
    let v = TestVault::new();
    for alg in [Alg::HS256, Alg::HS384, Alg::HS512] {
        let t = token(alg, b"ab12");
        let doc = crack_json(&v, &[&t, "--mask", "?l?l?d?d"], 0);
        assert_eq!(doc["secret"], "ab12", "{alg}");
        let doc = crack_json(&v, &[&t, "--mask", "?u?l?d?d"], 1);
        assert_eq!(doc["tried"], 26 * 26 * 100, "{alg}");
    }
    let t = token(Alg::HS256, b"z9");
    crack_json(&v, &[&t, "--mask", "?l?d?d"], 1);
    let doc = crack_json(&v, &[&t, "--mask", "?l?d?d", "--increment"], 0);
    assert_eq!(doc["secret"], "z9");
    let doc = crack_json(&v, &[&t, "--mask", "?l?d?d", "--mask-max", "2"], 0);
    assert_eq!(doc["secret"], "z9");
    // Lengths 3 only: 2600 tried, not found.
    let doc = crack_json(&v, &[&t, "--mask", "?l?d?d", "--mask-min", "3"], 1);
    assert_eq!(doc["tried"], 2600);
    // Literals and the escaped '?'.
    let t = token(Alg::HS256, b"key?-42");
    let doc = crack_json(&v, &[&t, "--mask", "key??-?d?d"], 0);
    assert_eq!(doc["secret"], "key?-42");
}

#[test]
fn builtin_list_and_mutations() {
    let v = TestVault::new();
    let f = Files::new();
    let t = token(Alg::HS256, b"your-256-bit-secret");
    let (out, _) = v.run(&["jwt", "crack", &t, "--builtin"], 0);
    assert_eq!(out.trim_end(), "your-256-bit-secret");
    // --mutate finds Secret123 from "secret".
    let words = f.write("words.txt", b"password\nsecret\n");
    let t = token(Alg::HS384, b"Secret123");
    crack_json(&v, &[&t, "--wordlist", words.to_str().unwrap()], 1);
    let doc = crack_json(
        &v,
        &[&t, "--wordlist", words.to_str().unwrap(), "--mutate"],
        0,
    );
    assert_eq!(doc["secret"], "Secret123");
    let t = token(Alg::HS256, b"Keyboard cat2024");
    let doc = crack_json(&v, &[&t, "--builtin", "--mutate"], 0);
    assert_eq!(doc["secret"], "Keyboard cat2024");
}

#[test]
fn non_utf8_secrets_print_as_hex() {
    let v = TestVault::new();
    let f = Files::new();
    let words = f.write("words.bin", b"abc\n\xff\xfe\x01\n");
    let t = token(Alg::HS256, b"\xff\xfe\x01");
    let (out, _) = v.run(
        &["jwt", "crack", &t, "--wordlist", words.to_str().unwrap()],
        0,
    );
    assert_eq!(out.trim_end(), "hex:fffe01");
    let doc = crack_json(&v, &[&t, "--wordlist", words.to_str().unwrap()], 0);
    assert_eq!(doc["secret"], Value::Null);
    assert_eq!(doc["secret_hex"], "fffe01");
}

#[test]
fn bad_input_exits_2() {
    let v = TestVault::new();
    let f = Files::new();
    let words = f.write("words.txt", b"hunter2\n");
    let w = words.to_str().unwrap();
    let hs = token(Alg::HS256, b"hunter2");
    let ec = PrivateKey::generate(Alg::ES256, None).unwrap();
    let es = keyward_core::jwt::sign(&ec, Alg::ES256, Map::new(), Map::new()).unwrap();
    let stripped = format!("{}.", hs.rsplit_once('.').unwrap().0);
    let missing = f.0.path().join("missing.txt");
    let dir = f.0.path().to_str().unwrap().to_string();
    let cases: Vec<Vec<&str>> = vec![
        vec![&es, "--wordlist", w],
        vec![&stripped, "--wordlist", w],
        vec!["not-a-jwt", "--wordlist", w],
        vec![&hs, "--wordlist", missing.to_str().unwrap()],
        vec![&hs, "--wordlist", &dir],
        vec![&hs, "--mask", "?l?x"],
        vec![&hs, "--mask", ""],
        vec![&hs, "--mask", "abc?"],
        vec![&hs, "--mask", "?d?d", "--mask-max", "3"],
        vec![&hs, "--mask", "?d?d", "--mask-min", "0"],
        vec![&hs, "--mask", "?b?b?b?b?b?b?b?b?b"],
        vec![&hs],
        vec![&hs, "--wordlist", w, "--builtin"],
        vec![&hs, "--mask", "?d", "--mutate"],
        vec![&hs, "--wordlist", w, "--increment"],
        vec![&hs, "--builtin", "--mask-max", "3"],
        vec![&hs, "--wordlist", w, "--threads", "0"],
    ];
    for args in cases {
        let mut full = vec!["jwt", "crack"];
        full.extend_from_slice(&args);
        let (out, err) = v.run(&full, 2);
        assert!(out.is_empty(), "{args:?}: {out}");
        assert_eq!(
            err.trim_end().lines().count(),
            1,
            "{args:?}: one line: {err}"
        );
        // JSON mode: an error document.
        let mut with_json = vec!["--json"];
        with_json.extend_from_slice(&full);
        let doc = v.json(&with_json, 2);
        assert!(doc["error"]["code"].is_string(), "{args:?}");
    }
}

#[test]
fn ctrl_c_stops_cleanly_with_exit_130() {
    let v = TestVault::new();
    let t = token(Alg::HS256, b"never-guessed");
    // ?a^6 is 7e11 candidates: this run only ends by the signal.
    let child = std::process::Command::new(assert_cmd::cargo::cargo_bin("keyward"))
        .args(["--vault"])
        .arg(v.dir())
        .args(["--json", "jwt", "crack", &t, "--mask", "?a?a?a?a?a?a"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(700));
    let status = std::process::Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let started = Instant::now();
    let out = child.wait_with_output().unwrap();
    assert!(started.elapsed() < Duration::from_secs(10), "slow to stop");
    assert_eq!(out.status.code(), Some(130));
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(doc["interrupted"], true);
    assert_eq!(doc["found"], false);
    assert!(doc["tried"].as_u64().unwrap() > 0);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("interrupted: tried"), "{err}");
}

#[test]
fn help_documents_the_modes() {
    let v = TestVault::new();
    let (out, _) = v.run(&["jwt", "crack", "--help"], 0);
    for needle in [
        "--mask",
        "?l",
        "--increment",
        "--mutate",
        "--builtin",
        "130",
        "--json",
    ] {
        assert!(out.contains(needle), "{needle} missing from help");
    }
}

#[test]
fn hmac_import_warns_about_weak_secrets_and_still_imports() {
    let v = TestVault::new();
    let import = |name: &str, alg: &str, secret: &[u8], json: bool| {
        let mut args = vec![];
        if json {
            args.push("--json");
        }
        args.extend([
            "key", "import", "--kind", "signing", "--alg", alg, "--name", name,
        ]);
        let out = v.cmd(&args).write_stdin(secret.to_vec()).output().unwrap();
        assert_eq!(
            out.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        (
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let (out, err) = import("weak", "HS256", b"secret", false);
    assert!(out.trim().starts_with("k_"), "{out}");
    assert!(err.contains("warning:"), "{err}");
    assert!(err.contains("common JWT secrets"), "{err}");
    assert!(err.contains("RFC 7518"), "{err}");

    let (out, _) = import(
        "weak-json",
        "HS512",
        b"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
        true,
    );
    let doc: Value = serde_json::from_str(&out).unwrap();
    let codes: Vec<&str> = doc["warnings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w["code"].as_str().unwrap())
        .collect();
    assert!(
        codes.contains(&"low_entropy") && codes.contains(&"repetitive"),
        "{codes:?}"
    );
    assert!(
        !codes.contains(&"too_short"),
        "64 bytes is enough for HS512"
    );

    let strong = b"vJ3q-8XkR_pZ2mW9sT4yB7nC1dF6gH0jL5aQeUoIiVrYxKtNbMcOlPwEzSfGuDh";
    let (out, err) = import("strong", "HS256", strong, true);
    let doc: Value = serde_json::from_str(&out).unwrap();
    assert!(doc.get("warnings").is_none(), "{doc}");
    assert!(!err.contains("warning"), "{err}");

    // The weak keys were imported all the same.
    let list = v.json(&["key", "list"], 0);
    assert_eq!(list["keys"].as_array().unwrap().len(), 3);
}
