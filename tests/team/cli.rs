//! `keyward` on team vaults, end to end against a real OpenBao dev server
//! (started by tests/team/run.sh) and the real OS keychain.

mod common;

use common::{addr, bao, env, init, team, token_file, TestVault};
use serde_json::Value;

fn versions(doc: &Value) -> Vec<(u64, String, String)> {
    doc["versions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| {
            (
                v["version"].as_u64().unwrap(),
                v["state"].as_str().unwrap().to_string(),
                v["kid"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect()
}

#[test]
fn a_second_client_joins_the_same_team_and_sees_and_changes_its_keys() {
    let t = team("join");
    let a = TestVault::new();
    let b = TestVault::new();
    let ra = init(&a, &t);
    assert_eq!(ra["created"], true);
    let api = a.json(&["key", "new", "--kind", "api", "--name", "billing"], 0);
    let secret = api["secret"].as_str().unwrap().to_string();
    let signer = a.json(
        &[
            "key", "new", "--kind", "signing", "--name", "signer", "--alg", "ES256",
        ],
        0,
    );
    let rb = init(&b, &t);
    assert_eq!(rb["created"], false);
    assert_eq!(rb["team_vault_id"], ra["team_vault_id"]);
    assert_eq!(rb["keys"], 2);
    let listed = b.json(&["key", "list"], 0);
    let mut names: Vec<&str> = listed["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["name"].as_str().unwrap())
        .collect();
    names.sort();
    assert_eq!(names, ["billing", "signer"]);
    // B verifies and reveals A's API key: the secret comes from OpenBao.
    b.run(&["apikey", "verify", &secret], 0);
    let (revealed, _) = b.run(&["key", "reveal", "billing"], 0);
    assert_eq!(revealed.trim(), secret);
    // B rotates, A sees the new version at its next command.
    let rotated = b.json(&["key", "rotate", "signer"], 0);
    assert_eq!(rotated["version"], 2);
    let shown = a.json(&["key", "show", signer["id"].as_str().unwrap()], 0);
    assert_eq!(shown["version"], 2);
    assert!(shown["last_change"]["by"].is_string(), "{shown}");
    assert!(shown["last_change"]["version"].as_u64().unwrap() >= 2);
    assert_eq!(versions(&shown)[0].1, "active");
    // A token B signs verifies on A.
    let (token, _) = b.run(&["jwt", "sign", "--key", "signer", "--ttl", "5m"], 0);
    a.run(&["jwt", "verify", "--key", "signer", token.trim()], 0);
    // Both clients are consistent with OpenBao; each keeps its own audit chain.
    for v in [&a, &b] {
        let check = v.json(&["vault", "check"], 0);
        assert_eq!(check["consistent"], true, "{check}");
        v.run(&["audit", "verify"], 0);
    }
    let info = a.json(&["vault", "info"], 0);
    assert_eq!(info["keychain_backend"], "openbao");
    assert_eq!(info["team"]["reachable"], true);
    assert_eq!(info["team"]["sealed"], false);
    // team.json holds where, never a credential.
    let cfg = std::fs::read_to_string(a.dir().join("team.json")).unwrap();
    let cfg: Value = serde_json::from_str(&cfg).unwrap();
    assert_eq!(cfg["addr"], addr());
    assert!(cfg.get("token").is_none() && cfg["auth"]["method"] == "token");
}

#[test]
fn init_enables_a_file_audit_device_when_the_token_may() {
    let t = team("audit");
    let a = TestVault::new();
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("bao-audit.log");
    let report = a.json(
        &[
            "vault",
            "init",
            "--backend",
            "openbao",
            "--addr",
            &addr(),
            "--token-file",
            &token_file(),
            "--team",
            &t,
            "--audit-file",
            log.to_str().unwrap(),
        ],
        0,
    );
    let said = report["audit_device"].as_str().unwrap();
    assert!(said.contains("enabled"), "{said}");
    assert!(!said.starts_with("not"), "{said}");
}

#[test]
fn two_clients_rotating_at_once_never_both_win() {
    let t = team("cas");
    let a = TestVault::new();
    let b = TestVault::new();
    init(&a, &t);
    init(&b, &t);
    let key = a.json(&["key", "new", "--kind", "api", "--name", "shared"], 0);
    let id = key["id"].as_str().unwrap().to_string();
    let mut wins = 0;
    let mut conflicts = 0;
    for _ in 0..8 {
        let pa = spawn(&a, &["key", "rotate", &id]);
        let pb = spawn(&b, &["key", "rotate", &id]);
        for out in [
            pa.wait_with_output().unwrap(),
            pb.wait_with_output().unwrap(),
        ] {
            let err = String::from_utf8_lossy(&out.stderr).to_string();
            match out.status.code() {
                Some(0) => wins += 1,
                Some(2) => {
                    assert!(err.contains("changed by someone else"), "{err}");
                    conflicts += 1;
                }
                other => panic!("rotate exited {other:?}: {err}"),
            }
        }
        if conflicts >= 2 {
            break;
        }
    }
    assert!(wins >= 1);
    assert!(
        conflicts >= 1,
        "no conflict in 8 rounds of simultaneous rotations"
    );
    // A third client sees exactly the winners' versions: one active, the
    // others in grace, no version number or kid twice.
    let c = TestVault::new();
    init(&c, &t);
    let shown = c.json(&["key", "show", &id], 0);
    let vs = versions(&shown);
    assert_eq!(vs.len(), 1 + wins, "{shown}");
    assert_eq!(vs.iter().filter(|v| v.1 == "active").count(), 1);
    let mut numbers: Vec<u64> = vs.iter().map(|v| v.0).collect();
    numbers.dedup();
    assert_eq!(numbers.len(), vs.len());
    for v in [&a, &b, &c] {
        let check = v.json(&["vault", "check"], 0);
        assert_eq!(check["consistent"], true, "{check}");
    }
    // Every version's secret is there and differs.
    let mut secrets = Vec::new();
    for (n, _, _) in &vs {
        let (s, _) = c.run(&["key", "reveal", &id, "--version", &n.to_string()], 0);
        secrets.push(s);
    }
    secrets.sort();
    secrets.dedup();
    assert_eq!(secrets.len(), vs.len());
}

/// Starts `keyward --vault <v> ARGS` without waiting.
fn spawn(v: &TestVault, args: &[&str]) -> std::process::Child {
    std::process::Command::new(assert_cmd::cargo::cargo_bin("keyward"))
        .arg("--vault")
        .arg(&v.path)
        .args(args)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap()
}

#[test]
fn unreachable_server_and_refused_token_exit_3_with_what_to_do() {
    let v = TestVault::new();
    let closed = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let dead = format!("http://127.0.0.1:{closed}");
    let (_, err) = v.run(
        &[
            "vault",
            "init",
            "--backend",
            "openbao",
            "--addr",
            &dead,
            "--token-file",
            &token_file(),
            "--team",
            "x",
        ],
        3,
    );
    assert!(err.contains("cannot reach OpenBao"), "{err}");
    assert!(!v.dir().join("team.json").exists());

    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("token");
    std::fs::write(&bad, "s.not-a-token\n").unwrap();
    let (_, err) = v.run(
        &[
            "vault",
            "init",
            "--backend",
            "openbao",
            "--addr",
            &addr(),
            "--token-file",
            bad.to_str().unwrap(),
            "--team",
            "x",
        ],
        3,
    );
    assert!(err.contains("denied"), "{err}");
    assert!(!err.contains("s.not-a-token"), "{err}");
    assert!(!v.dir().join("team.json").exists());

    // A working team vault whose server goes away.
    let t = team("gone");
    let w = TestVault::new();
    init(&w, &t);
    w.json(&["key", "new", "--kind", "api", "--name", "k"], 0);
    let cfg_path = w.dir().join("team.json");
    let cfg = std::fs::read_to_string(&cfg_path).unwrap();
    let before = common::state(&w);
    std::fs::write(&cfg_path, cfg.replace(&addr(), &dead)).unwrap();
    let (_, err) = w.run(&["key", "rotate", "k"], 3);
    assert!(err.contains("cannot reach OpenBao"), "{err}");
    std::fs::write(&cfg_path, cfg).unwrap();
    // Nothing changed; the refused open is audited (one failed vault.open).
    assert_eq!(common::state(&w), before, "nothing changed");
    let opens = common::audit_events(&w, true);
    assert_eq!(opens.len(), 1, "{opens:?}");
    assert!(
        opens[0]["details"]["message"]
            .as_str()
            .unwrap()
            .contains("cannot reach OpenBao"),
        "{opens:?}"
    );
}

#[test]
fn transit_keys_sign_and_verify_and_never_leave_openbao() {
    let t = team("transit");
    let a = TestVault::new();
    let b = TestVault::new();
    init(&a, &t);
    init(&b, &t);
    let dir = tempfile::tempdir().unwrap();
    for (name, alg) in [
        ("t-es256", "ES256"),
        ("t-es384", "ES384"),
        ("t-rs256", "RS256"),
        ("t-ps256", "PS256"),
        ("t-eddsa", "EdDSA"),
    ] {
        let created = a.json(
            &[
                "key",
                "new",
                "--kind",
                "signing",
                "--name",
                name,
                "--alg",
                alg,
                "--custody",
                "transit",
            ],
            0,
        );
        assert_eq!(created["alg"], alg);
        assert!(created["thumbprint"].is_string());
        // B signs through transit; A verifies with the vault key and with
        // the exported JWKS, with no vault at all.
        let (token, _) = b.run(&["jwt", "sign", "--key", name, "--ttl", "5m"], 0);
        let token = token.trim().to_string();
        a.run(&["jwt", "verify", "--key", name, &token], 0);
        let (jwks, _) = a.run(&["key", "jwks", name], 0);
        let path = dir.path().join(format!("{name}.jwks"));
        std::fs::write(&path, jwks).unwrap();
        let out = assert_cmd::Command::cargo_bin("keyward")
            .unwrap()
            .args([
                "jwt",
                "verify",
                "--key-file",
                path.to_str().unwrap(),
                &token,
            ])
            .output()
            .unwrap();
        assert_eq!(
            out.status.code(),
            Some(0),
            "{alg}: {}",
            String::from_utf8_lossy(&out.stdout)
        );
        // The private key never comes out.
        let (_, err) = a.run(&["key", "reveal", name], 2);
        assert!(err.contains("non-exportable (custody transit)"), "{err}");
        let (_, err) = a.run(&["key", "export", name, "--format", "pem"], 2);
        assert!(err.contains("non-exportable"), "{err}");
        a.run(&["key", "export", name, "--format", "jwk", "--public"], 0);
        let listed = a.json(&["key", "list"], 0);
        let entry = listed["keys"]
            .as_array()
            .unwrap()
            .iter()
            .find(|k| k["name"] == name)
            .unwrap()
            .clone();
        assert_eq!(entry["custody"], "transit");
        assert_eq!(entry["public_only"], false);
    }
    // Rotation: a new transit version signs; the old one verifies in grace.
    let (old, _) = a.run(&["jwt", "sign", "--key", "t-es256", "--ttl", "5m"], 0);
    let rotated = b.json(&["key", "rotate", "t-es256", "--grace", "1h"], 0);
    assert_eq!(rotated["version"], 2);
    let (new, _) = a.run(&["jwt", "sign", "--key", "t-es256", "--ttl", "5m"], 0);
    let header = a.json(&["jwt", "inspect", new.trim()], 0);
    assert_eq!(header["header"]["kid"], rotated["kid"]);
    b.run(&["jwt", "verify", "--key", "t-es256", new.trim()], 0);
    b.run(&["jwt", "verify", "--key", "t-es256", old.trim()], 0);
    let (jwks, _) = b.run(&["key", "jwks", "t-es256"], 0);
    let jwks: Value = serde_json::from_str(&jwks).unwrap();
    assert_eq!(jwks["keys"].as_array().unwrap().len(), 2);
    // Revoked versions stop verifying; transit keeps the material, Keyward the state.
    a.run(
        &[
            "key",
            "revoke",
            "t-es256",
            "--version",
            "1",
            "--reason",
            "test",
        ],
        0,
    );
    b.run(&["jwt", "verify", "--key", "t-es256", old.trim()], 1);
    // HMAC cannot be non-exportable; a personal vault has no transit.
    let (_, err) = a.run(
        &[
            "key",
            "new",
            "--kind",
            "signing",
            "--name",
            "h",
            "--alg",
            "HS256",
            "--custody",
            "transit",
        ],
        2,
    );
    assert!(err.contains("cannot be kept in transit custody"), "{err}");
    let personal = TestVault::new();
    let (_, err) = personal.run(
        &[
            "key",
            "new",
            "--kind",
            "signing",
            "--name",
            "p",
            "--alg",
            "ES256",
            "--custody",
            "transit",
        ],
        2,
    );
    assert!(err.contains("team vault"), "{err}");
    // Destroying a transit key deletes it inside OpenBao.
    let eddsa = a.json(&["key", "show", "t-eddsa"], 0);
    let transit_name = format!("keyward-{t}-{}", eddsa["id"].as_str().unwrap());
    assert!(bao(&["read", &format!("transit/keys/{transit_name}")])
        .status
        .success());
    a.run(&["key", "revoke", "t-eddsa", "--reason", "done"], 0);
    a.run(&["key", "delete", "t-eddsa", "--after", "0s"], 0);
    assert!(!bao(&["read", &format!("transit/keys/{transit_name}")])
        .status
        .success());
    let shown = b.json(&["key", "show", eddsa["id"].as_str().unwrap()], 0);
    assert_eq!(shown["state"], "destroyed");
    for v in [&a, &b] {
        let check = v.json(&["vault", "check"], 0);
        assert_eq!(check["consistent"], true, "{check}");
    }
}

#[test]
fn approle_logs_in_and_logs_in_again_when_its_token_expires() {
    let t = team("approle");
    let dir = tempfile::tempdir().unwrap();
    // An operator's setup: AppRole with the README's policy (the team's paths only),
    // and tokens that live 3 seconds.
    let _ = bao(&["auth", "enable", "approle"]);
    let policy = dir.path().join("policy.hcl");
    std::fs::write(
        &policy,
        format!(
            r#"path "secret/data/keyward/{t}/*" {{ capabilities = ["create", "read", "update", "delete", "list"] }}
path "secret/metadata/keyward/{t}/*" {{ capabilities = ["create", "read", "update", "delete", "list"] }}
path "transit/keys/keyward-{t}-*" {{ capabilities = ["create", "read", "update", "delete"] }}
path "transit/sign/keyward-{t}-*" {{ capabilities = ["update"] }}
"#
        ),
    )
    .unwrap();
    let ok = |o: std::process::Output| {
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        String::from_utf8_lossy(&o.stdout).trim().to_string()
    };
    ok(bao(&["policy", "write", &t, policy.to_str().unwrap()]));
    let role = format!("auth/approle/role/{t}");
    ok(bao(&[
        "write",
        &role,
        &format!("token_policies={t}"),
        "token_ttl=3s",
        "token_max_ttl=3s",
    ]));
    let role_id = ok(bao(&["read", "-field=role_id", &format!("{role}/role-id")]));
    let secret_id = ok(bao(&[
        "write",
        "-f",
        "-field=secret_id",
        &format!("{role}/secret-id"),
    ]));
    let secret_file = dir.path().join("secret-id");
    std::fs::write(&secret_file, format!("{secret_id}\n")).unwrap();
    let a = TestVault::new();
    let report = a.json(
        &[
            "vault",
            "init",
            "--backend",
            "openbao",
            "--addr",
            &addr(),
            "--role-id",
            &role_id,
            "--secret-id-file",
            secret_file.to_str().unwrap(),
            "--team",
            &t,
            "--audit-file",
            dir.path().join("audit.log").to_str().unwrap(),
        ],
        0,
    );
    assert_eq!(report["auth"], "approle");
    // This token may not touch sys/audit: init says so and goes on.
    let said = report["audit_device"].as_str().unwrap();
    assert!(said.starts_with("not enabled"), "{said}");
    let cfg = std::fs::read_to_string(a.dir().join("team.json")).unwrap();
    assert!(
        !cfg.contains(&secret_id),
        "the secret id stays in the keychain"
    );
    let key = a.json(&["key", "new", "--kind", "api", "--name", "svc"], 0);
    let id = key["id"].as_str().unwrap();
    std::thread::sleep(std::time::Duration::from_millis(3500));
    // The kept token has expired: the next commands log in again.
    let rotated = a.json(&["key", "rotate", id], 0);
    assert_eq!(rotated["version"], 2);
    a.json(
        &[
            "key",
            "new",
            "--kind",
            "signing",
            "--name",
            "ts",
            "--alg",
            "ES256",
            "--custody",
            "transit",
        ],
        0,
    );
    a.run(&["jwt", "sign", "--key", "ts"], 0);
    a.json(&["key", "rotate", "ts"], 0);
    a.run(&["key", "revoke", "ts", "--reason", "test"], 0);
    a.run(&["key", "delete", "ts", "--after", "0s"], 0);
    a.json(&["vault", "check"], 0);
}

#[test]
fn check_repair_rebuilds_a_deleted_database_from_openbao() {
    let t = team("rebuild");
    let a = TestVault::new();
    init(&a, &t);
    a.json(&["key", "new", "--kind", "api", "--name", "one"], 0);
    a.json(
        &[
            "key", "new", "--kind", "signing", "--name", "two", "--alg", "EdDSA",
        ],
        0,
    );
    a.json(&["key", "rotate", "two"], 0);
    a.json(&["key", "revoke", "one", "--reason", "gone"], 0);
    let before = a.json(&["key", "list"], 0);
    for f in [
        "vault.db",
        "vault.db-wal",
        "vault.db-shm",
        "audit.checkpoint",
    ] {
        let _ = std::fs::remove_file(a.dir().join(f));
    }
    let report = a.json(&["vault", "check", "--repair"], 0);
    assert_eq!(report["consistent"], true, "{report}");
    let after = a.json(&["key", "list"], 0);
    let strip = |v: &Value| -> Vec<(String, String, u64)> {
        let mut k: Vec<_> = v["keys"]
            .as_array()
            .unwrap()
            .iter()
            .map(|k| {
                (
                    k["id"].as_str().unwrap().to_string(),
                    k["state"].as_str().unwrap().to_string(),
                    k["version"].as_u64().unwrap(),
                )
            })
            .collect();
        k.sort();
        k
    };
    assert_eq!(strip(&after), strip(&before));
    a.run(&["jwt", "sign", "--key", "two"], 0);
}

#[test]
fn a_crash_after_the_document_write_is_rolled_forward_not_lost() {
    let t = team("crash");
    let a = TestVault::new();
    let b = TestVault::new();
    init(&a, &t);
    init(&b, &t);
    let key = a.json(&["key", "new", "--kind", "api", "--name", "svc"], 0);
    let id = key["id"].as_str().unwrap();
    // Killed after OpenBao took v2's document, before the local commit.
    let out = a
        .cmd(&["key", "rotate", id])
        .env("KEYWARD_FAILPOINT", "team.after_document")
        .output()
        .unwrap();
    assert_ne!(out.status.code(), Some(0));
    // OpenBao is the source of truth: the other client sees v2 at once.
    let shown = b.json(&["key", "show", id], 0);
    assert_eq!(shown["version"], 2);
    // A's next command re-reads the key of the unfinished operation: the
    // document shows it finished, so the intent is dropped and v2 kept.
    let check = a.json(&["vault", "check"], 0);
    assert_eq!(check["consistent"], true, "{check}");
    let repaired = a.json(&["vault", "check", "--repair"], 0);
    assert_eq!(repaired["consistent"], true, "{repaired}");
    let shown = a.json(&["key", "show", id], 0);
    assert_eq!(shown["version"], 2);
    let (s_a, _) = a.run(&["key", "reveal", id], 0);
    let (s_b, _) = b.run(&["key", "reveal", id], 0);
    assert_eq!(s_a, s_b);
    a.run(&["apikey", "verify", s_a.trim()], 0);
}

#[test]
fn a_crash_before_the_document_write_is_rolled_back() {
    let t = team("crash-before");
    let a = TestVault::new();
    init(&a, &t);
    let key = a.json(&["key", "new", "--kind", "api", "--name", "svc"], 0);
    let id = key["id"].as_str().unwrap();
    let out = a
        .cmd(&["key", "rotate", id])
        .env("KEYWARD_FAILPOINT", "team.before_document")
        .output()
        .unwrap();
    assert_ne!(out.status.code(), Some(0));
    let check = a.json(&["vault", "check"], 1);
    let kinds: Vec<&str> = check["problems"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["unfinished_operation"], "{check}");
    a.json(&["vault", "check", "--repair"], 0);
    let shown = a.json(&["key", "show", id], 0);
    assert_eq!(shown["version"], 1);
    // The version number stays free for the next rotation.
    let rotated = a.json(&["key", "rotate", id], 0);
    assert_eq!(rotated["version"], 2);
    a.json(&["vault", "check"], 0);
}

#[test]
fn keychain_init_is_the_personal_default_and_team_vaults_refuse_it() {
    let p = TestVault::new();
    let info = p.json(&["vault", "init"], 0);
    assert_eq!(info["keychain_backend"], "secret-service");
    // A personal vault with keys cannot become a team client.
    p.json(&["key", "new", "--kind", "api", "--name", "mine"], 0);
    let (_, err) = p.run(
        &[
            "vault",
            "init",
            "--backend",
            "openbao",
            "--addr",
            &addr(),
            "--token-file",
            &token_file(),
            "--team",
            "x",
        ],
        2,
    );
    assert!(err.contains("personal key"), "{err}");
    let t = team("kc");
    let a = TestVault::new();
    init(&a, &t);
    let (_, err) = a.run(&["vault", "init", "--backend", "keychain"], 2);
    assert!(err.contains("team vault"), "{err}");
    // Running init again (a new token) keeps the team and the keys.
    a.json(&["key", "new", "--kind", "api", "--name", "k"], 0);
    let again = init(&a, &t);
    assert_eq!(again["keys"], 1);
}

#[test]
fn tls_is_always_verified_and_ca_file_names_the_ca_to_trust() {
    let t = team("tls");
    let tls = env("KEYWARD_BAO_TLS_ADDR");
    let ca = env("KEYWARD_BAO_TLS_CA");
    let base = [
        "vault",
        "init",
        "--backend",
        "openbao",
        "--addr",
        tls.as_str(),
        "--team",
        t.as_str(),
        "--audit-file",
        "none",
    ];
    let tok = token_file();
    // The dev server's certificate is signed by its own CA: refused.
    let v = TestVault::new();
    let mut args = base.to_vec();
    args.extend(["--token-file", tok.as_str()]);
    let (_, err) = v.run(&args, 3);
    assert!(
        err.contains("cannot reach OpenBao") && err.contains("TLS"),
        "{err}"
    );
    // Trusting that CA: works, and team.json remembers it.
    args.extend(["--ca-file", ca.as_str()]);
    let report = v.json(&args, 0);
    assert_eq!(report["addr"], tls.as_str());
    v.json(&["key", "new", "--kind", "api", "--name", "k"], 0);
    v.json(&["vault", "check"], 0);
    // A file without a certificate is bad input.
    let dir = tempfile::tempdir().unwrap();
    let junk = dir.path().join("ca.pem");
    std::fs::write(&junk, "not a certificate\n").unwrap();
    let w = TestVault::new();
    let mut args = base.to_vec();
    args.extend([
        "--token-file",
        tok.as_str(),
        "--ca-file",
        junk.to_str().unwrap(),
    ]);
    let (_, err) = w.run(&args, 2);
    assert!(err.contains("no PEM certificate"), "{err}");
}

/// A TCP proxy in front of OpenBao that forwards everything, except that
/// the answers to the first `drops` POSTs whose path contains `needle` are
/// withheld until the client has timed out (the request itself lands).
struct LossyProxy {
    addr: String,
    dropped: std::sync::Arc<std::sync::atomic::AtomicUsize>,
}

impl LossyProxy {
    fn start(upstream: &str, needle: &'static str, drops: usize) -> LossyProxy {
        use std::sync::atomic::{AtomicUsize, Ordering};
        use std::sync::Arc;
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = format!("http://{}", listener.local_addr().unwrap());
        let upstream = upstream.trim_start_matches("http://").to_string();
        let budget = Arc::new(AtomicUsize::new(drops));
        let dropped = Arc::new(AtomicUsize::new(0));
        let (b, d) = (budget.clone(), dropped.clone());
        std::thread::spawn(move || {
            for client in listener.incoming() {
                let Ok(mut client) = client else { return };
                let (upstream, b, d) = (upstream.clone(), b.clone(), d.clone());
                std::thread::spawn(move || {
                    let Ok(mut server) = std::net::TcpStream::connect(&upstream) else {
                        return;
                    };
                    use std::io::Write;
                    while let Some(req) = read_message(&mut client, true) {
                        let head = String::from_utf8_lossy(&req[..req.len().min(512)]).to_string();
                        let target = head.starts_with("POST ")
                            && head.lines().next().is_some_and(|l| l.contains(needle));
                        if server.write_all(&req).is_err() {
                            return;
                        }
                        let Some(resp) = read_message(&mut server, false) else {
                            return;
                        };
                        if target
                            && b.fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| {
                                n.checked_sub(1)
                            })
                            .is_ok()
                        {
                            d.fetch_add(1, Ordering::SeqCst);
                            // Applied upstream; the answer is lost.
                            std::thread::sleep(std::time::Duration::from_millis(2500));
                            return;
                        }
                        if client.write_all(&resp).is_err() {
                            return;
                        }
                    }
                });
            }
        });
        LossyProxy { addr, dropped }
    }

    fn dropped(&self) -> usize {
        self.dropped.load(std::sync::atomic::Ordering::SeqCst)
    }
}

/// Reads one HTTP/1.1 message (head, then a Content-Length or chunked body).
fn read_message(s: &mut std::net::TcpStream, request: bool) -> Option<Vec<u8>> {
    use std::io::Read;
    let mut buf = Vec::new();
    let mut byte = [0u8; 1];
    while !buf.ends_with(b"\r\n\r\n") {
        if s.read(&mut byte).ok()? == 0 {
            return None;
        }
        buf.push(byte[0]);
    }
    let head = String::from_utf8_lossy(&buf).to_ascii_lowercase();
    let length = head
        .lines()
        .find_map(|l| l.strip_prefix("content-length:"))
        .and_then(|v| v.trim().parse::<usize>().ok());
    let chunked = head.contains("transfer-encoding: chunked");
    let bodyless =
        !request && (head.starts_with("http/1.1 204") || head.starts_with("http/1.1 304"));
    if let Some(n) = length {
        let mut body = vec![0u8; n];
        s.read_exact(&mut body).ok()?;
        buf.extend(body);
    } else if chunked && !bodyless {
        loop {
            let mut line = Vec::new();
            while !line.ends_with(b"\r\n") {
                if s.read(&mut byte).ok()? == 0 {
                    return None;
                }
                line.push(byte[0]);
            }
            buf.extend(&line);
            let size =
                usize::from_str_radix(String::from_utf8_lossy(&line).trim().split(';').next()?, 16)
                    .ok()?;
            let mut chunk = vec![0u8; size + 2];
            s.read_exact(&mut chunk).ok()?;
            buf.extend(chunk);
            if size == 0 {
                break;
            }
        }
    }
    Some(buf)
}

#[test]
fn a_lost_answer_mid_rotation_is_retried_with_the_same_cas_and_applied_once() {
    let t = team("lossy");
    let a = TestVault::new();
    init(&a, &t);
    let key = a.json(&["key", "new", "--kind", "api", "--name", "svc"], 0);
    let id = key["id"].as_str().unwrap().to_string();
    let proxy = LossyProxy::start(&addr(), "/keys/", 1);
    let cfg_path = a.dir().join("team.json");
    let cfg = std::fs::read_to_string(&cfg_path).unwrap();
    std::fs::write(&cfg_path, cfg.replace(&addr(), &proxy.addr)).unwrap();
    // The document write lands, its answer does not come: the client times
    // out, sends the same check-and-set again, finds its own document.
    let out = a
        .cmd(&["--json", "key", "rotate", &id])
        .env("KEYWARD_BAO_TIMEOUT_MS", "1200")
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(proxy.dropped(), 1, "the proxy withheld one answer");
    std::fs::write(&cfg_path, cfg).unwrap();
    // Applied once: versions 1 and 2, for this client and a fresh one.
    let b = TestVault::new();
    init(&b, &t);
    for v in [&a, &b] {
        let shown = v.json(&["key", "show", &id], 0);
        let vs = versions(&shown);
        assert_eq!(
            vs.iter().map(|x| x.0).collect::<Vec<_>>(),
            [2, 1],
            "{shown}"
        );
        v.json(&["vault", "check"], 0);
    }
    let (s_a, _) = a.run(&["key", "reveal", &id], 0);
    let (s_b, _) = b.run(&["key", "reveal", &id], 0);
    assert_eq!(s_a, s_b);
}

/// Runs the `bao` CLI as root inside OpenBao namespace `ns`.
fn bao_in(ns: &str, args: &[&str]) -> std::process::Output {
    std::process::Command::new(env("KEYWARD_BAO_BIN"))
        .args(args)
        .env("BAO_ADDR", addr())
        .env("BAO_TOKEN", "root")
        .env("BAO_NAMESPACE", ns)
        .output()
        .expect("run bao")
}

/// `vault init --namespace`: OpenBao has namespaces since 2.3 (the dev
/// server here is 2.7). Every request carries the namespace, so the team's
/// documents, secrets and transit keys live in it and nowhere else: the
/// root namespace's mounts do not see them, and a client that leaves out
/// `--namespace` finds no team there and creates a separate one.
#[test]
fn a_team_vault_in_a_namespace_keeps_its_keys_there() {
    let t = team("ns");
    let ns = t.clone();
    let ok = |o: std::process::Output, what: &str| {
        assert!(
            o.status.success(),
            "{what}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
        String::from_utf8_lossy(&o.stdout).to_string()
    };
    ok(bao(&["namespace", "create", &ns]), "namespace create");
    ok(
        bao_in(&ns, &["secrets", "enable", "-path=secret", "kv-v2"]),
        "enable kv-v2 in the namespace",
    );
    ok(
        bao_in(&ns, &["secrets", "enable", "transit"]),
        "enable transit in the namespace",
    );
    let (addr, token_file) = (addr(), token_file());
    let init_ns = |v: &TestVault, ns: Option<&str>| {
        let mut args = vec![
            "vault",
            "init",
            "--backend",
            "openbao",
            "--addr",
            &addr,
            "--token-file",
            &token_file,
            "--team",
            &t,
            "--audit-file",
            "none",
        ];
        if let Some(ns) = ns {
            args.extend(["--namespace", ns]);
        }
        v.json(&args, 0)
    };
    let a = TestVault::new();
    let ra = init_ns(&a, Some(&ns));
    assert_eq!(ra["created"], true, "{ra}");
    let cfg: Value =
        serde_json::from_str(&std::fs::read_to_string(a.dir().join("team.json")).unwrap()).unwrap();
    assert_eq!(cfg["namespace"], ns.as_str());

    // A key lifecycle: create, rotate, stage and promote, revoke, destroy.
    let api = a.json(&["key", "new", "--kind", "api", "--name", "ns-api"], 0);
    let api_id = api["id"].as_str().unwrap().to_string();
    a.json(&["key", "rotate", "ns-api", "--grace", "1h"], 0);
    a.json(&["key", "rotate", "ns-api", "--stage"], 0);
    a.json(&["key", "promote", "ns-api", "--min-published", "0s"], 0);
    let revealed = a.run(&["key", "reveal", "ns-api"], 0).0.trim().to_string();
    a.run(
        &[
            "key",
            "revoke",
            "ns-api",
            "--version",
            "1",
            "--reason",
            "ns",
        ],
        0,
    );
    let shown = a.json(&["key", "show", "ns-api"], 0);
    let mut states: Vec<(u64, String)> = versions(&shown)
        .into_iter()
        .map(|(n, s, _)| (n, s))
        .collect();
    states.sort();
    assert_eq!(
        states,
        [
            (1, "revoked".to_string()),
            (2, "grace".to_string()),
            (3, "active".to_string())
        ]
    );
    // A transit key in the namespace's transit engine signs.
    let signer = a.json(
        &[
            "key",
            "new",
            "--kind",
            "signing",
            "--name",
            "ns-signer",
            "--alg",
            "ES256",
            "--custody",
            "transit",
        ],
        0,
    );
    let transit_key = format!(
        "transit/keys/keyward-{t}-{}",
        signer["id"].as_str().unwrap()
    );
    let (token, _) = a.run(&["jwt", "sign", "--key", "ns-signer", "--ttl", "5m"], 0);

    // A second client in the same namespace joins the same team vault.
    let b = TestVault::new();
    let rb = init_ns(&b, Some(&ns));
    assert_eq!(rb["created"], false, "{rb}");
    assert_eq!(rb["team_vault_id"], ra["team_vault_id"]);
    assert_eq!(rb["keys"], 2);
    b.run(&["apikey", "verify", &revealed], 0);
    b.run(&["jwt", "verify", "--key", "ns-signer", token.trim()], 0);

    // Where it lives: in the namespace, not in the root namespace.
    let meta = format!("secret/keyward/{t}/meta");
    ok(
        bao_in(&ns, &["kv", "get", &meta]),
        "team meta in the namespace",
    );
    assert!(!bao(&["kv", "get", &meta]).status.success());
    let listed = ok(
        bao_in(
            &ns,
            &[
                "kv",
                "list",
                &format!("secret/keyward/{t}/secrets/{api_id}"),
            ],
        ),
        "the key's secrets in the namespace",
    );
    assert_eq!(listed.matches("\nv").count(), 3, "{listed}");
    ok(
        bao_in(&ns, &["read", &transit_key]),
        "transit key in the namespace",
    );
    assert!(!bao(&["read", &transit_key]).status.success());

    // Without --namespace the same team name is another, empty team vault.
    let c = TestVault::new();
    let rc = init_ns(&c, None);
    assert_eq!(rc["created"], true, "{rc}");
    assert_ne!(rc["team_vault_id"], ra["team_vault_id"]);
    assert_eq!(c.json(&["key", "list"], 0)["keys"], serde_json::json!([]));

    // Destruction removes the secrets from the namespace; B sees it.
    b.run(&["key", "revoke", "ns-api", "--reason", "done"], 0);
    b.run(&["key", "delete", "ns-api", "--after", "0s"], 0);
    assert_eq!(a.json(&["key", "show", &api_id], 0)["state"], "destroyed");
    let left = bao_in(
        &ns,
        &[
            "kv",
            "list",
            &format!("secret/keyward/{t}/secrets/{api_id}"),
        ],
    );
    assert!(
        !left.status.success() || !String::from_utf8_lossy(&left.stdout).contains('v'),
        "{}",
        String::from_utf8_lossy(&left.stdout)
    );
    for v in [&a, &b] {
        let check = v.json(&["vault", "check"], 0);
        assert_eq!(check["consistent"], true, "{check}");
        v.run(&["audit", "verify"], 0);
    }
}

/// OpenBao 2.7.2 refuses a JSON request with more than 1,000 strings
/// (member names count). A key's document once had about 29 per version,
/// so the 35th version of an API key could not be written: every later
/// rotate or revoke failed with "refused JSON input due to high
/// complexity: exceeded maximum number of strings". Daily auto-rotation
/// reaches that in a month.
#[test]
fn a_key_rotated_far_past_openbaos_string_limit_keeps_changing() {
    const ROTATIONS: u64 = 80;
    let t = team("long");
    let a = TestVault::new();
    init(&a, &t);
    let key = a.json(&["key", "new", "--kind", "api", "--name", "daily"], 0);
    let id = key["id"].as_str().unwrap().to_string();
    for n in 2..=ROTATIONS + 1 {
        let out = a
            .cmd(&["--json", "key", "rotate", &id, "--grace", "0s"])
            .output()
            .unwrap();
        assert_eq!(
            out.status.code(),
            Some(0),
            "rotation to v{n}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let r: Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(r["version"], n);
    }
    let last = ROTATIONS + 1;
    // A second client sees every version; the newest alone is active.
    let b = TestVault::new();
    init(&b, &t);
    let shown = b.json(&["key", "show", &id], 0);
    let vs = versions(&shown);
    assert_eq!(
        vs.iter().map(|v| v.0).collect::<Vec<_>>(),
        (1..=last).rev().collect::<Vec<_>>(),
        "{shown}"
    );
    assert_eq!(vs[0].1, "active");
    assert_eq!(vs.iter().filter(|v| v.1 == "active").count(), 1);
    // It changes the key too (check-and-set on the long document), and
    // the first client sees that.
    b.run(
        &["key", "revoke", &id, "--version", "1", "--reason", "old"],
        0,
    );
    let rotated = b.json(&["key", "rotate", &id, "--grace", "0s"], 0);
    assert_eq!(rotated["version"], last + 1);
    let shown = a.json(&["key", "show", &id], 0);
    let vs = versions(&shown);
    assert_eq!(vs.len() as u64, last + 1, "{shown}");
    assert_eq!(vs.last().unwrap().1, "revoked");
    // The first client revokes every version (one more write of it).
    a.run(&["key", "revoke", &id, "--reason", "retire"], 0);
    assert!(versions(&a.json(&["key", "show", &id], 0))
        .iter()
        .all(|v| v.1 == "revoked"));
    for v in [&a, &b] {
        let check = v.json(&["vault", "check"], 0);
        assert_eq!(check["consistent"], true, "{check}");
        v.run(&["audit", "verify"], 0);
    }
}
