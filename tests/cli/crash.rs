//! Crash consistency: the CLI is killed (SIGKILL) at every failpoint of every
//! operation that touches both the keychain and SQLite, and at random
//! moments; afterwards `vault check` finds the vault consistent or
//! `--repair` makes it so, and no key version that was committed is lost.

mod common;

use common::TestVault;
use serde_json::Value;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const POINTS: &[(&str, &[&str])] = &[
    (
        "create.after_intent",
        &["key", "new", "--kind", "api", "--name", "crash-new"],
    ),
    (
        "create.after_keychain",
        &[
            "key",
            "new",
            "--kind",
            "signing",
            "--alg",
            "ES256",
            "--name",
            "crash-new",
        ],
    ),
    (
        "create.before_commit",
        &["key", "new", "--kind", "api", "--name", "crash-new"],
    ),
    (
        "create.after_commit",
        &["key", "new", "--kind", "api", "--name", "crash-new"],
    ),
    ("rotate.after_intent", &["key", "rotate", "stable"]),
    ("rotate.after_keychain", &["key", "rotate", "stable"]),
    ("rotate.before_commit", &["key", "rotate", "stable"]),
    ("rotate.after_commit", &["key", "rotate", "stable"]),
    (
        "revoke.in_transaction",
        &["key", "revoke", "stable", "--reason", "crash"],
    ),
    (
        "revoke.after_commit",
        &["key", "revoke", "stable", "--reason", "crash"],
    ),
    (
        "destroy.after_intent",
        &["key", "delete", "doomed", "--after", "0s"],
    ),
    (
        "destroy.after_keychain",
        &["key", "delete", "doomed", "--after", "0s"],
    ),
];

/// Live versions (with a keychain secret) as (key id, version, state).
fn live_versions(v: &TestVault) -> Vec<(String, u64, String)> {
    let list = v.json(&["key", "list"], 0);
    let mut out = Vec::new();
    for k in list["keys"].as_array().unwrap() {
        let show = v.json(&["key", "show", k["id"].as_str().unwrap()], 0);
        for ver in show["versions"].as_array().unwrap() {
            out.push((
                k["id"].as_str().unwrap().to_string(),
                ver["version"].as_u64().unwrap(),
                ver["state"].as_str().unwrap().to_string(),
            ));
        }
    }
    out.sort();
    out
}

fn seed(v: &TestVault) -> Value {
    let stable = v.json(&["key", "new", "--kind", "api", "--name", "stable"], 0);
    v.json(
        &[
            "key", "new", "--kind", "signing", "--alg", "HS256", "--name", "doomed",
        ],
        0,
    );
    v.json(&["key", "revoke", "doomed", "--reason", "to destroy"], 0);
    stable
}

#[test]
fn killed_at_every_failpoint_the_vault_stays_or_is_repaired_consistent() {
    for (point, args) in POINTS {
        let v = TestVault::new();
        let stable = seed(&v);
        let before = live_versions(&v);
        v.killed_at(point, args);

        let check = v.json(
            &["vault", "check"],
            if point.ends_with("after_commit") || point.starts_with("revoke") {
                0
            } else {
                1
            },
        );
        if check["consistent"] == false {
            let kinds: Vec<&str> = check["problems"]
                .as_array()
                .unwrap()
                .iter()
                .map(|p| p["kind"].as_str().unwrap())
                .collect();
            assert!(
                kinds.iter().all(|k| *k == "unfinished_operation"),
                "{point}: {check}"
            );
            let repaired = v.json(&["vault", "check", "--repair"], 0);
            assert_eq!(repaired["consistent"], true, "{point}: {repaired}");
            assert!(!repaired["repaired"].as_array().unwrap().is_empty());
        }
        let after = live_versions(&v);
        // Nothing committed before the crash is lost.
        for (id, ver, state) in &before {
            let kept = after.iter().any(|(i, n, _)| i == id && n == ver);
            let destroyed = point.starts_with("destroy") && after.iter().all(|(i, _, _)| i != id);
            assert!(kept || destroyed, "{point}: {id} v{ver} ({state}) vanished");
        }
        // The stable key still verifies (unless the crash was after its revocation committed).
        let code = if point.starts_with("revoke") && *point == "revoke.after_commit" {
            1
        } else {
            0
        };
        v.json(
            &["apikey", "verify", stable["secret"].as_str().unwrap()],
            code,
        );
        // A destroy is rolled forward: the key becomes a tombstone.
        if point.starts_with("destroy") {
            assert!(
                v.json(&["key", "list"], 0)["keys"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .all(|k| k["name"] != "doomed"),
                "{point}"
            );
        }
        // And the interrupted operation can simply be run again.
        if !point.starts_with("destroy")
            && !point.starts_with("revoke")
            && !point.ends_with("after_commit")
        {
            v.cmd(args).assert().code(0);
        }
        v.json(&["vault", "check"], 0);
        v.run(&["audit", "verify"], 0);
    }
}

#[test]
fn killed_at_random_moments_nothing_is_lost_or_orphaned() {
    let v = TestVault::new();
    let stable = seed(&v);
    let mut seed_state: u64 = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos() as u64
        | 1;
    let mut next = move || {
        seed_state ^= seed_state << 13;
        seed_state ^= seed_state >> 7;
        seed_state ^= seed_state << 17;
        seed_state
    };
    let bin = assert_cmd::cargo::cargo_bin("keyward");
    let mut killed = 0;
    let runs = 40;
    for i in 0..runs {
        let name = format!("r{i}");
        let args: Vec<String> = match i % 3 {
            0 => vec![
                "key".into(),
                "rotate".into(),
                "stable".into(),
                "--grace".into(),
                "1h".into(),
            ],
            1 => vec![
                "key".into(),
                "new".into(),
                "--kind".into(),
                "api".into(),
                "--name".into(),
                name,
            ],
            _ => vec![
                "key".into(),
                "new".into(),
                "--kind".into(),
                "signing".into(),
                "--alg".into(),
                "ES384".into(),
                "--name".into(),
                name,
            ],
        };
        let mut child = Command::new(&bin)
            .arg("--vault")
            .arg(v.dir())
            .args(&args)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let wait = Duration::from_micros(next() % 150_000);
        let start = Instant::now();
        while start.elapsed() < wait {
            if child.try_wait().unwrap().is_some() {
                break;
            }
            std::thread::sleep(Duration::from_millis(1));
        }
        if child.try_wait().unwrap().is_none() {
            child.kill().unwrap();
            killed += 1;
        }
        child.wait().unwrap();
    }
    assert!(killed > 0, "no run was killed: the timing window is wrong");
    let check = v.json(&["vault", "check", "--repair"], 0);
    assert_eq!(check["consistent"], true, "{check}");
    // Every listed version's secret is in the keychain (check compares both ways),
    // and the original key still works unless rotated out of grace (1h: it is not).
    v.json(&["apikey", "verify", stable["secret"].as_str().unwrap()], 0);
    v.run(&["audit", "verify"], 0);
    eprintln!("{runs} runs, {killed} killed mid-operation; vault consistent after repair");
}
