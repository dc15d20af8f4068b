//! `keyward scan` end to end: Keyward keys made with `key new` and found in
//! files, named with their state and the rotate command; exit codes; the
//! three output formats; and that no output ever shows a whole secret.

mod common;

use common::TestVault;
use serde_json::Value;
use std::fs;
use std::path::Path;

fn corpus() -> &'static Path {
    Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../tests/scan-corpus"
    ))
}

fn copy_dir(from: &Path, to: &Path) {
    fs::create_dir_all(to).unwrap();
    for e in fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let target = to.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            copy_dir(&e.path(), &target);
        } else {
            fs::copy(e.path(), target).unwrap();
        }
    }
}

fn new_api_key(v: &TestVault, name: &str) -> (String, String) {
    let created = v.json(&["key", "new", "--kind", "api", "--name", name], 0);
    (
        created["id"].as_str().unwrap().to_string(),
        created["secret"].as_str().unwrap().to_string(),
    )
}

fn scan_out(v: &TestVault, args: &[&str], code: i32) -> (String, String) {
    let mut full = vec!["scan"];
    full.extend_from_slice(args);
    v.run(&full, code)
}

fn findings(doc: &Value) -> &Vec<Value> {
    doc["findings"].as_array().unwrap()
}

/// Prefixes that masks show: they are public.
const PUBLIC_PREFIXES: [&str; 13] = [
    "sk_live_",
    "rk_live_",
    "sk_test_",
    "xoxb-",
    "xoxp-",
    "xapp-",
    "https://hooks.slack.com/services/",
    "github_pat_",
    "AKIA",
    "ASIA",
    "eyJ",
    "ghp_",
    "kw_",
];

/// Asserts that neither the secret nor any 12-character piece of what the
/// mask hides (between the public prefix and the last four) appears.
fn assert_not_leaked(secret: &str, outputs: &[&str]) {
    let public = PUBLIC_PREFIXES
        .iter()
        .filter(|p| secret.starts_with(*p))
        .map(|p| p.len())
        .max()
        .unwrap_or(0);
    let hidden = &secret[public..secret.len() - 4];
    for out in outputs {
        assert!(!out.contains(secret), "whole secret printed:\n{out}");
        if hidden.len() < 12 {
            continue;
        }
        for start in 0..=hidden.len() - 12 {
            let piece = &hidden[start..start + 12];
            assert!(
                !out.contains(piece),
                "a piece of a secret ({piece}) was printed:\n{out}"
            );
        }
    }
}

#[test]
fn a_live_key_is_named_with_its_state_and_the_rotate_command() {
    let v = TestVault::new();
    let (id, secret) = new_api_key(&v, "billing");
    let dir = tempfile::tempdir().unwrap();
    fs::write(
        dir.path().join("settings.py"),
        format!("DEBUG = True\nBILLING_KEY = \"{secret}\"\n"),
    )
    .unwrap();
    let path = dir.path().to_str().unwrap();

    let events_before = v.json(&["audit", "list"], 0)["events"]
        .as_array()
        .unwrap()
        .len();
    let (text, err) = scan_out(&v, &[path], 1);
    assert!(text.contains("settings.py"), "{text}");
    assert!(text.contains("2:16"), "{text}");
    assert!(text.contains("keyward-api-key"), "{text}");
    assert!(
        text.contains(&format!("\"billing\" ({id}) v1, active")),
        "{text}"
    );
    assert!(text.contains(&format!("keyward key rotate {id}")), "{text}");
    assert!(
        text.contains(&format!("kw_…{}", &secret[secret.len() - 4..])),
        "{text}"
    );
    assert!(text.contains("1 finding in 1 file"), "{text}");

    let doc = v.json(&["scan", path], 1);
    let f = &findings(&doc)[0];
    assert_eq!(f["kind"], "keyward-api-key");
    assert_eq!(f["line"], 2);
    assert_eq!(f["column"], 16);
    assert_eq!(f["level"], "error");
    assert_eq!(f["key"]["lookup"], "found");
    assert_eq!(f["key"]["id"], id.as_str());
    assert_eq!(f["key"]["name"], "billing");
    assert_eq!(f["key"]["state"], "active");
    assert_eq!(f["key"]["live"], true);
    assert_eq!(f["suggestion"], format!("keyward key rotate {id}").as_str());
    assert_eq!(doc["files_scanned"], 1);
    assert!(doc["bytes_scanned"].as_u64().unwrap() > 60);

    let (sarif, _) = scan_out(&v, &["--format", "sarif", path], 1);
    let sarif_doc: Value = serde_json::from_str(&sarif).unwrap();
    let result = &sarif_doc["runs"][0]["results"][0];
    assert_eq!(result["ruleId"], "keyward-api-key");
    assert!(result["message"]["text"]
        .as_str()
        .unwrap()
        .contains(&format!("keyward key rotate {id}")));

    let json = doc.to_string();
    assert_not_leaked(&secret, &[&text, &err, &json, &sarif]);

    // Scanning is read-only: no audit event, and the key still verifies.
    let events_after = v.json(&["audit", "list"], 0)["events"]
        .as_array()
        .unwrap()
        .len();
    assert_eq!(events_before, events_after);
    v.run(&["apikey", "verify", &secret], 0);
}

#[test]
fn a_rotated_out_key_is_in_grace_and_a_revoked_one_gets_no_rotate() {
    let v = TestVault::new();
    let (id, first) = new_api_key(&v, "search");
    let rotated = v.json(&["key", "rotate", &id], 0);
    let second = rotated["secret"].as_str().unwrap().to_string();
    let (dead_id, dead) = new_api_key(&v, "old-search");
    v.json(&["key", "revoke", &dead_id, "--reason", "leaked"], 0);

    let dir = tempfile::tempdir().unwrap();
    fs::write(
        dir.path().join(".env"),
        format!("OLD={first}\nNEW={second}\nDEAD={dead}\n"),
    )
    .unwrap();
    let path = dir.path().to_str().unwrap();
    let doc = v.json(&["scan", path], 1);
    let f = findings(&doc);
    assert_eq!(f.len(), 3, "{doc}");
    assert_eq!(f[0]["key"]["state"], "grace");
    assert_eq!(f[0]["key"]["version"], 1);
    assert_eq!(
        f[0]["suggestion"],
        format!("keyward key rotate {id}").as_str()
    );
    assert_eq!(f[1]["key"]["state"], "active");
    assert_eq!(f[1]["key"]["version"], 2);
    assert_eq!(f[2]["key"]["state"], "revoked");
    assert_eq!(f[2]["key"]["live"], false);
    assert!(f[2].get("suggestion").is_none(), "{}", f[2]);
    assert_eq!(f[2]["level"], "warning");

    let (text, err) = scan_out(&v, &[path], 1);
    let dead_line = text
        .lines()
        .find(|l| l.contains(&dead_id))
        .unwrap_or_else(|| panic!("{text}"));
    assert!(dead_line.contains("revoked"), "{dead_line}");
    assert!(
        !text.contains(&format!("keyward key rotate {dead_id}")),
        "{text}"
    );
    assert!(text.contains(&format!("keyward key rotate {id}")), "{text}");
    for s in [&first, &second, &dead] {
        assert_not_leaked(s, &[&text, &err, &doc.to_string()]);
    }
}

#[test]
fn without_a_vault_keys_are_reported_unnamed_and_no_vault_is_created() {
    let v = TestVault::new();
    let dir = tempfile::tempdir().unwrap();
    // A checksum-valid key from another vault.
    let other = TestVault::new();
    let (_, secret) = new_api_key(&other, "elsewhere");
    fs::write(dir.path().join("a.txt"), format!("{secret}\n")).unwrap();
    let path = dir.path().to_str().unwrap();
    let doc = v.json(&["scan", path], 1);
    assert_eq!(findings(&doc)[0]["key"]["lookup"], "no_vault");
    assert!(findings(&doc)[0].get("suggestion").is_none());
    assert!(!v.dir().exists(), "scan created a vault");

    // With a vault that does not know the key.
    new_api_key(&v, "mine");
    let doc = v.json(&["scan", path], 1);
    assert_eq!(findings(&doc)[0]["key"]["lookup"], "not_in_vault");
}

#[test]
fn exit_codes_clean_found_and_bad_path() {
    let v = TestVault::new();
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join("readme.md"), "nothing to see\n").unwrap();
    let path = dir.path().to_str().unwrap();
    let (text, _) = scan_out(&v, &[path], 0);
    assert!(
        text.contains("No credentials found (scanned 1 file"),
        "{text}"
    );
    let doc = v.json(&["scan", path], 0);
    assert_eq!(findings(&doc).len(), 0);
    assert_eq!(doc["files_scanned"], 1);

    // The default path is the current directory.
    fs::write(dir.path().join("k.env"), "AKIAIOSFODNN7EXAMPLE\n").unwrap();
    let out = v.cmd(&["scan"]).current_dir(dir.path()).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stdout).contains("k.env"));

    let missing = dir.path().join("missing");
    let (_, err) = scan_out(&v, &[missing.to_str().unwrap()], 2);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.contains("cannot read") && err.contains("no such file"),
        "{err}"
    );
    let doc = v.json(&["scan", missing.to_str().unwrap()], 2);
    assert_eq!(doc["error"]["code"], "unreadable_path");

    scan_out(&v, &["--format", "xml", path], 2);
    scan_out(&v, &["--max-size", "lots", path], 2);
}

#[test]
fn format_wins_over_json() {
    let v = TestVault::new();
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join("k.env"), "AKIAIOSFODNN7EXAMPLE\n").unwrap();
    let path = dir.path().to_str().unwrap();
    let out = |args: &[&str]| {
        let o = v.cmd(args).output().unwrap();
        assert_eq!(o.status.code(), Some(1));
        String::from_utf8(o.stdout).unwrap()
    };
    let json: Value = serde_json::from_str(&out(&["--json", "scan", path])).unwrap();
    assert!(json["findings"].is_array());
    let sarif: Value =
        serde_json::from_str(&out(&["--json", "scan", "--format", "sarif", path])).unwrap();
    assert_eq!(sarif["version"], "2.1.0");
    let text = out(&["--json", "scan", "--format", "text", path]);
    assert!(text.contains("aws-access-key-id") && serde_json::from_str::<Value>(&text).is_err());
}

#[test]
fn gitignored_files_are_skipped_and_no_ignore_scans_them() {
    let v = TestVault::new();
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join(".gitignore"), "*.local\n").unwrap();
    fs::write(dir.path().join("secrets.local"), "AKIAIOSFODNN7EXAMPLE\n").unwrap();
    let path = dir.path().to_str().unwrap();
    scan_out(&v, &[path], 0);
    scan_out(&v, &["--no-ignore", path], 1);
}

/// Every credential of the corpus's positive files, as written there.
fn corpus_secrets(root: &Path) -> Vec<String> {
    let mut out = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(p) = stack.pop() {
        if p.is_dir() {
            stack.extend(fs::read_dir(&p).unwrap().map(|e| e.unwrap().path()));
            continue;
        }
        let text = fs::read_to_string(&p).unwrap();
        for word in text.split(|c: char| c.is_whitespace() || "\"'=;,{}".contains(c)) {
            if PUBLIC_PREFIXES.iter().any(|s| word.starts_with(s)) && word.len() >= 20 {
                out.push(word.to_string());
            }
        }
        // PEM bodies: every long base64 line.
        for line in text.split(['\n', '\\']) {
            let line = line.trim().trim_start_matches('n');
            if line.len() >= 40
                && line
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"+/=".contains(&b))
            {
                out.push(line.to_string());
            }
        }
    }
    out
}

#[test]
fn no_format_ever_prints_a_whole_secret() {
    let v = TestVault::new();
    let (_, live) = new_api_key(&v, "live");
    let dir = tempfile::tempdir().unwrap();
    copy_dir(&corpus().join("positive"), dir.path());
    let github = {
        // A checksum-valid token built the way GitHub builds them.
        let body = "FAKE0123456789abcdefghijABCDEF";
        keyward_core::scan::fake_github_token("ghp_", body)
    };
    fs::write(
        dir.path().join("more.env"),
        format!("GH={github}\nKW={live}\n"),
    )
    .unwrap();
    let secrets = corpus_secrets(dir.path());
    assert!(secrets.len() >= 25, "{}", secrets.len());
    let path = dir.path().to_str().unwrap();
    for format in ["text", "json", "sarif"] {
        let (out, err) = scan_out(&v, &["--format", format, path], 1);
        for s in &secrets {
            assert_not_leaked(s, &[&out, &err]);
        }
    }
    let doc = v.json(&["scan", path], 1);
    // 20 corpus findings, the GitHub token and the Keyward key.
    assert_eq!(findings(&doc).len(), 22, "{doc}");
}
