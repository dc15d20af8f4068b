//! `keyward key|apikey|vault|audit` end to end: the binary against a real
//! keychain and a real SQLite file, checking CLI.md's JSON shapes and exit codes.

mod common;

use common::{snapshot, TestVault};
use serde_json::Value;

fn ids(list: &Value) -> Vec<String> {
    list["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["id"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn api_key_lifecycle_through_the_cli() {
    let v = TestVault::new();
    let created = v.json(
        &[
            "key",
            "new",
            "--kind",
            "api",
            "--name",
            "billing",
            "--scope",
            "read",
            "--prefix",
            "acme",
            "--expires-in",
            "30d",
        ],
        0,
    );
    let id = created["id"].as_str().unwrap().to_string();
    let secret = created["secret"].as_str().unwrap().to_string();
    assert!(id.starts_with("k_"), "{id}");
    // <prefix>_<43 body><6 checksum>
    assert!(
        secret.starts_with("acme_") && secret.len() == 5 + 49,
        "{secret}"
    );

    // Human output: the key alone on stdout.
    let (out, err) = v.run(&["key", "new", "--kind", "api", "--name", "second"], 0);
    assert!(
        out.trim().starts_with("kw_") && out.trim().len() == 3 + 49,
        "{out}"
    );
    assert!(err.contains("shown only once"), "{err}");

    let list = v.json(&["key", "list"], 0);
    let k = list["keys"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["id"] == id.as_str())
        .unwrap()
        .clone();
    for field in [
        "id",
        "name",
        "kind",
        "alg",
        "state",
        "version",
        "created_at",
        "expires_at",
        "scopes",
    ] {
        assert!(k.get(field).is_some(), "key list lacks {field}: {k}");
    }
    assert_eq!(k["state"], "active");
    assert_eq!(k["scopes"], serde_json::json!(["read"]));
    assert!(
        !list.to_string().contains(&secret),
        "key list printed a secret"
    );

    let ok = v.json(&["apikey", "verify", &secret], 0);
    assert_eq!(ok["id"], id.as_str());
    assert_eq!(ok["scopes"], serde_json::json!(["read"]));
    // From stdin, with surrounding whitespace.
    v.cmd(&["apikey", "verify"])
        .write_stdin(format!("  {secret}\n"))
        .assert()
        .code(0);

    let rotated = v.json(&["key", "rotate", &id, "--grace", "1h"], 0);
    assert_eq!(rotated["id"], id.as_str());
    assert_eq!(rotated["version"], 2);
    let new_secret = rotated["secret"].as_str().unwrap().to_string();
    assert_ne!(new_secret, secret);
    let old = v.json(&["apikey", "verify", &secret], 0);
    assert_eq!(old["state"], "grace");

    let show = v.json(&["key", "show", "billing"], 0);
    let versions = show["versions"].as_array().unwrap();
    assert_eq!(versions.len(), 2);
    for ver in versions {
        for field in ["version", "state", "created_at", "not_after", "thumbprint"] {
            assert!(ver.get(field).is_some(), "version lacks {field}: {ver}");
        }
    }

    let revealed = v.run(&["key", "reveal", &id], 0).0;
    assert_eq!(revealed.trim(), new_secret);

    let r = v.json(
        &["key", "revoke", &id, "--version", "2", "--reason", "leaked"],
        0,
    );
    assert_eq!(r["revoked_versions"], serde_json::json!([2]));
    let rejected = v.json(&["apikey", "verify", &new_secret], 1);
    assert_eq!(rejected["valid"], false);
    v.json(&["key", "revoke", &id, "--reason", "retire"], 0);
    v.json(&["apikey", "verify", &secret], 1);
    let revoked = v.json(&["key", "list", "--state", "revoked"], 0);
    assert_eq!(ids(&revoked), vec![id.clone()]);

    let scheduled = v.json(&["key", "delete", &id], 0);
    assert!(scheduled["destroy_at"].is_string());
    v.json(&["key", "restore", &id], 0);
    let gone = v.json(&["key", "delete", &id, "--after", "0s"], 0);
    assert_eq!(gone["destroyed"], true);
    assert!(!ids(&v.json(&["key", "list"], 0)).contains(&id));

    let check = v.json(&["vault", "check"], 0);
    assert_eq!(check["consistent"], true);
    let audit = v.json(&["audit", "list", "--key", &id], 0);
    let actions: Vec<&str> = audit["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(
        actions,
        [
            "key.create",
            "key.rotate",
            "key.reveal",
            "key.revoke",
            "key.revoke",
            "key.delete",
            "key.restore",
            "key.destroy"
        ]
    );
    for e in audit["events"].as_array().unwrap() {
        for field in [
            "seq", "at", "actor", "action", "key_id", "outcome", "details",
        ] {
            assert!(e.get(field).is_some(), "event lacks {field}: {e}");
        }
    }
    let whole = v.json(&["audit", "list"], 0).to_string();
    assert!(
        !whole.contains(&secret) && !whole.contains(&new_secret),
        "audit printed a secret"
    );
    v.run(&["audit", "verify"], 0);
}

#[test]
fn signing_keys_through_the_cli() {
    let v = TestVault::new();
    let es = v.json(
        &[
            "key", "new", "--kind", "signing", "--name", "es", "--alg", "ES256",
        ],
        0,
    );
    for field in ["id", "name", "alg", "version", "kid", "thumbprint"] {
        assert!(
            es.get(field).is_some(),
            "key new --kind signing lacks {field}: {es}"
        );
    }
    assert_eq!(es["kid"], es["thumbprint"]);
    let hs = v.json(
        &[
            "key", "new", "--kind", "signing", "--name", "hs", "--alg", "HS512",
        ],
        0,
    );
    assert!(hs["thumbprint"].is_null(), "HMAC keys get no thumbprint");
    assert!(hs["kid"].as_str().is_some_and(|k| !k.is_empty()));
    let rsa = v.json(
        &[
            "key", "new", "--kind", "signing", "--name", "rsa", "--alg", "PS256", "--bits", "2048",
        ],
        0,
    );
    let es_id = es["id"].as_str().unwrap();

    let show = v.json(&["key", "show", es_id], 0);
    assert_eq!(show["versions"][0]["thumbprint"], es["thumbprint"]);

    let public = v.json(&["key", "export", es_id, "--format", "jwk", "--public"], 0);
    assert_eq!(public["kid"], es["kid"]);
    assert_eq!(public["alg"], "ES256");
    assert_eq!(public["use"], "sig");
    assert!(public.get("d").is_none());
    let private = v.json(&["key", "export", es_id, "--format", "jwk"], 0);
    assert!(private["d"].is_string());
    let pem = v.run(&["key", "export", es_id, "--format", "pem"], 0).0;
    assert!(pem.starts_with("-----BEGIN PRIVATE KEY-----"), "{pem}");
    let spki = v
        .run(&["key", "export", es_id, "--format", "pem", "--public"], 0)
        .0;
    assert!(spki.starts_with("-----BEGIN PUBLIC KEY-----"), "{spki}");
    v.run(&["key", "export", "hs", "--format", "pem", "--public"], 2);

    // Import the exported private PEM and the public one.
    let dir = tempfile::tempdir().unwrap();
    let pem_path = dir.path().join("k.pem");
    std::fs::write(&pem_path, &pem).unwrap();
    let imported = v.json(
        &[
            "key",
            "import",
            "--kind",
            "signing",
            "--name",
            "es-copy",
            "--file",
            pem_path.to_str().unwrap(),
        ],
        0,
    );
    assert_eq!(imported["thumbprint"], es["thumbprint"]);
    assert_eq!(imported["alg"], "ES256");
    let from_stdin = v
        .cmd(&[
            "--json",
            "key",
            "import",
            "--kind",
            "signing",
            "--name",
            "es-public",
        ])
        .write_stdin(spki)
        .output()
        .unwrap();
    assert_eq!(
        from_stdin.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&from_stdin.stderr)
    );

    let jwks = v.json(&["key", "jwks"], 0);
    let kids: Vec<&str> = jwks["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["kid"].as_str().unwrap())
        .collect();
    assert!(kids.contains(&es["kid"].as_str().unwrap()));
    assert!(kids.contains(&rsa["kid"].as_str().unwrap()));
    assert!(
        !kids.contains(&hs["kid"].as_str().unwrap()),
        "an HMAC key was published"
    );
    assert!(
        !jwks.to_string().contains("\"d\""),
        "private member in JWKS"
    );

    let rot = v.run(&["key", "rotate", es_id, "--grace", "0s"], 0).0;
    assert!(rot.contains("v2"), "{rot}");
    let jwks = v.json(&["key", "jwks", es_id], 0);
    assert_eq!(
        jwks["keys"].as_array().unwrap().len(),
        1,
        "the rotated-out version expired at once"
    );
}

#[test]
fn vault_info_reports_where_things_are() {
    let v = TestVault::new();
    v.json(&["key", "new", "--kind", "api", "--name", "x"], 0);
    let info = v.json(&["vault", "info"], 0);
    assert_eq!(info["data_dir"], v.dir().to_str().unwrap());
    assert!(
        info["schema_version"].as_u64().is_some_and(|v| v >= 1),
        "{info}"
    );
    assert_eq!(info["keychain_reachable"], true);
    assert_eq!(info["keys"], 1);
    // vault.create and key.create.
    assert_eq!(info["events"], 2);
    assert!(info["database"].as_str().unwrap().ends_with("vault.db"));
}

#[test]
fn bad_input_exits_2_with_one_line_and_changes_nothing() {
    let v = TestVault::new();
    v.json(&["key", "new", "--kind", "api", "--name", "taken"], 0);
    let dir = tempfile::tempdir().unwrap();
    let bad_pem = dir.path().join("bad.pem");
    std::fs::write(
        &bad_pem,
        "-----BEGIN PRIVATE KEY-----\nnot base64!\n-----END PRIVATE KEY-----\n",
    )
    .unwrap();
    let bad_jwk = dir.path().join("bad.jwk");
    std::fs::write(&bad_jwk, r#"{"kty":"EC","crv":"P-256","x":"AAAA"}"#).unwrap();
    let missing = dir.path().join("missing.pem");
    let cases: Vec<Vec<&str>> = vec![
        vec![
            "key", "new", "--kind", "signing", "--name", "a", "--alg", "HS999",
        ],
        vec!["key", "new", "--kind", "signing", "--name", "a"],
        vec![
            "key", "new", "--kind", "signing", "--name", "a", "--alg", "ES256", "--bits", "2048",
        ],
        vec![
            "key", "new", "--kind", "signing", "--name", "a", "--alg", "RS256", "--bits", "1024",
        ],
        vec!["key", "new", "--kind", "api", "--name", ""],
        vec!["key", "new", "--kind", "api", "--name", "taken"],
        vec![
            "key",
            "new",
            "--kind",
            "api",
            "--name",
            "a",
            "--expires-in",
            "soon",
        ],
        vec![
            "key",
            "new",
            "--kind",
            "api",
            "--name",
            "a",
            "--expires-in",
            "0s",
        ],
        vec![
            "key", "new", "--kind", "api", "--name", "a", "--prefix", "NO",
        ],
        vec!["key", "new", "--kind", "bogus", "--name", "a"],
        vec!["key", "new", "--kind", "api", "--name", "a", "--frobnicate"],
        vec![
            "key",
            "import",
            "--kind",
            "signing",
            "--name",
            "a",
            "--file",
            bad_pem.to_str().unwrap(),
        ],
        vec![
            "key",
            "import",
            "--kind",
            "signing",
            "--name",
            "a",
            "--file",
            bad_jwk.to_str().unwrap(),
        ],
        vec![
            "key",
            "import",
            "--kind",
            "signing",
            "--name",
            "a",
            "--file",
            missing.to_str().unwrap(),
        ],
        vec!["key", "show", "k_nothere"],
        vec!["key", "rotate", "nothere"],
        vec!["key", "rotate", "taken", "--grace", "forever"],
        vec!["key", "revoke", "taken"],
        vec!["key", "revoke", "taken", "--reason", ""],
        vec!["key", "revoke", "taken", "--version", "9", "--reason", "x"],
        vec!["key", "delete", "taken"],
        vec!["key", "restore", "taken"],
        vec!["key", "export", "taken", "--format", "pem"],
        vec!["key", "export", "taken", "--format", "der"],
        vec!["key", "list", "--state", "sleepy"],
        vec!["apikey", "verify", "kw_not-a-key"],
        vec!["apikey", "verify", "definitely not a key"],
        vec!["audit", "list", "--since", "yesterday"],
        vec![],
    ];
    let before = snapshot(v.dir());
    for args in &cases {
        let out = v.cmd(args).output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(
            out.status.code(),
            Some(2),
            "keyward {args:?} should exit 2: {stderr}"
        );
        if !args.is_empty() {
            assert_eq!(
                stderr.trim_end().lines().count(),
                1,
                "keyward {args:?}: not one line: {stderr}"
            );
            assert!(stderr.starts_with("keyward: "), "{stderr}");
        }
        assert!(!stderr.contains("panicked"), "{stderr}");
    }
    // Failed commands may append "denied" audit events, but never change keys.
    let after = snapshot(v.dir());
    assert_eq!(
        before.iter().map(|f| &f.0).collect::<Vec<_>>(),
        after.iter().map(|f| &f.0).collect::<Vec<_>>()
    );
    let list = v.json(&["key", "list"], 0);
    assert_eq!(list["keys"].as_array().unwrap().len(), 1);
    assert!(
        // After vault.create and key.create.
        v.json(&["audit", "list"], 0)["events"].as_array().unwrap()[2..]
            .iter()
            .all(|e| e["outcome"] != "success")
    );
    // --json errors are a JSON document too.
    let err = v.json(&["key", "show", "k_nothere"], 2);
    assert_eq!(err["error"]["code"], "not_found");
}

#[test]
fn an_unreachable_keychain_exits_3_and_writes_nothing() {
    let v = TestVault::new();
    v.json(&["key", "new", "--kind", "api", "--name", "before"], 0);
    let before = v.json(&["key", "list"], 0);
    let out = v
        .cmd(&["key", "new", "--kind", "api", "--name", "during"])
        .env(
            "DBUS_SESSION_BUS_ADDRESS",
            "unix:path=/nonexistent/keyward-test-bus",
        )
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{stderr}");
    assert!(
        stderr.contains("keychain") && stderr.contains("unlock"),
        "{stderr}"
    );
    assert_eq!(stderr.trim_end().lines().count(), 1, "{stderr}");
    assert_eq!(v.json(&["key", "list"], 0), before);
    assert_eq!(v.json(&["vault", "check"], 0)["consistent"], true);
}
