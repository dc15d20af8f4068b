//! `keyward audit ...` end to end: list filters, verify, export in every
//! format with offline verification against `audit pubkey`, archive.

mod common;

use common::TestVault;

#[test]
fn export_pubkey_and_offline_verify() {
    let v = TestVault::new();
    v.json(&["key", "new", "--kind", "api", "--name", "a"], 0);
    v.json(
        &[
            "key", "new", "--kind", "signing", "--alg", "HS256", "--name", "b",
        ],
        0,
    );
    v.json(
        &["key", "revoke", "a", "--reason", "test, with \"quotes\""],
        0,
    );
    let dir = tempfile::tempdir().unwrap();
    let pubkey = dir.path().join("audit.pem");
    let pem = v.run(&["audit", "pubkey"], 0).0;
    assert!(pem.starts_with("-----BEGIN PUBLIC KEY-----"), "{pem}");
    std::fs::write(&pubkey, &pem).unwrap();
    for format in ["json", "jsonl"] {
        let out = dir.path().join(format!("export.{format}"));
        v.run(
            &[
                "audit",
                "export",
                "--format",
                format,
                "--out",
                out.to_str().unwrap(),
            ],
            0,
        );
        let r = v.json(
            &[
                "audit",
                "verify",
                "--file",
                out.to_str().unwrap(),
                "--pubkey",
                pubkey.to_str().unwrap(),
            ],
            0,
        );
        assert_eq!(r["intact"], true, "{r}");
        // Tamper with the file: exit 1 naming the event.
        let text =
            std::fs::read_to_string(&out)
                .unwrap()
                .replacen("\"actor\":\"", "\"actor\":\"x", 1);
        std::fs::write(&out, text).unwrap();
        let r = v.json(
            &[
                "audit",
                "verify",
                "--file",
                out.to_str().unwrap(),
                "--pubkey",
                pubkey.to_str().unwrap(),
            ],
            1,
        );
        assert!(r["problem"].as_str().unwrap().contains("altered"), "{r}");
    }
    let json = v.run(&["audit", "export", "--format", "json"], 0).0;
    let doc: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert!(doc["vault_id"].is_string());
    assert!(doc["events"][0]["hash"].is_string());
    let cp = &doc["checkpoints"][0];
    for f in ["seq", "hash", "signature"] {
        assert!(cp.get(f).is_some(), "checkpoint lacks {f}: {cp}");
    }
    let csv = v.run(&["audit", "export", "--format", "csv"], 0).0;
    assert!(csv.lines().count() >= 4, "{csv}");
    // Exports are audited, and the chain still verifies.
    let ev = v.json(&["audit", "list", "--action", "audit.export"], 0);
    assert!(ev["events"].as_array().unwrap().len() >= 3);
    v.run(&["audit", "verify"], 0);
    // An existing --out file is never overwritten.
    let existing = dir.path().join("export.json");
    v.run(
        &[
            "audit",
            "export",
            "--format",
            "json",
            "--out",
            existing.to_str().unwrap(),
        ],
        2,
    );
}

#[test]
fn list_filters_and_paging() {
    let v = TestVault::new();
    for i in 0..5 {
        v.json(
            &["key", "new", "--kind", "api", "--name", &format!("k{i}")],
            0,
        );
    }
    v.json(&["key", "revoke", "k3", "--reason", "x"], 0);
    let all = v.json(&["audit", "list"], 0);
    // vault.create, five key.create, one key.revoke.
    assert_eq!(all["events"].as_array().unwrap().len(), 7);
    assert_eq!(all["events"][0]["action"], "vault.create");
    let revokes = v.json(&["audit", "list", "--action", "key.revoke"], 0);
    assert_eq!(revokes["events"].as_array().unwrap().len(), 1);
    let k3 = v.json(&["audit", "list", "--key", "k3"], 0);
    assert_eq!(k3["events"].as_array().unwrap().len(), 2);
    let page = v.json(&["audit", "list", "--after", "2", "--limit", "2"], 0);
    let seqs: Vec<i64> = page["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["seq"].as_i64().unwrap())
        .collect();
    assert_eq!(seqs, vec![3, 4]);
    let grep = v.json(&["audit", "list", "--grep", "k4"], 0);
    assert_eq!(grep["events"].as_array().unwrap().len(), 1);
    let future = v.json(&["audit", "list", "--since", "2999-01-01T00:00:00Z"], 0);
    assert!(future["events"].as_array().unwrap().is_empty());
    v.run(&["audit", "list", "--limit", "0"], 2);
    v.run(&["audit", "verify", "--file", "x.json"], 2);
}

#[test]
fn tampering_with_the_database_fails_audit_verify_and_vault_check() {
    let v = TestVault::new();
    for i in 0..3 {
        v.json(
            &["key", "new", "--kind", "api", "--name", &format!("k{i}")],
            0,
        );
    }
    v.sql("UPDATE audit SET actor = 'mallory' WHERE seq = 2");
    let r = v.json(&["audit", "verify"], 1);
    assert_eq!(r["first_broken"]["seq"], 2, "{r}");
    let c = v.json(&["vault", "check"], 1);
    assert!(
        c["problems"]
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p["kind"] == "audit_chain"),
        "{c}"
    );
}

fn actions(v: &TestVault) -> Vec<(String, String)> {
    v.json(&["audit", "list"], 0)["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["action"].as_str().unwrap().to_string(),
                e["outcome"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

#[test]
fn vault_check_is_recorded_with_counts_and_never_hides_a_truncation() {
    let v = TestVault::new();
    for i in 0..4 {
        v.json(
            &["key", "new", "--kind", "api", "--name", &format!("k{i}")],
            0,
        );
    }
    v.json(&["vault", "check"], 0);
    let last = v.json(&["audit", "list", "--reverse", "--limit", "1"], 0)["events"][0].clone();
    assert_eq!(last["action"], "vault.check", "{last}");
    assert_eq!(last["outcome"], "success");
    assert_eq!(last["source"], "cli");
    assert_eq!(last["details"]["problems"], serde_json::json!({}));
    // Cut off the newest events (#4..#6) as an attacker with the file would.
    v.sql("DELETE FROM audit WHERE seq >= 4");
    // Changes, reveals and checks go on; the log grows past #6 again.
    for i in 0..3 {
        let c = v.json(&["vault", "check"], 1);
        assert!(
            c["problems"]
                .as_array()
                .unwrap()
                .iter()
                .any(|p| p["kind"] == "audit_truncated" && p["repairable"] == true),
            "round {i}: {c}"
        );
        let id = v.json(
            &["key", "new", "--kind", "api", "--name", &format!("late{i}")],
            0,
        )["id"]
            .as_str()
            .unwrap()
            .to_string();
        v.run(&["key", "reveal", &id], 0);
        let r = v.json(&["audit", "verify"], 1);
        assert_eq!(r["first_broken"]["seq"], 6, "round {i}: {r}");
    }
    let r = v.json(&["audit", "verify"], 1);
    assert!(
        r["first_broken"]["problem"]
            .as_str()
            .unwrap()
            .contains("removed or rewritten"),
        "{r}"
    );
    // Repair accepts the log as it is (as after restoring a backup), and
    // the repair event keeps what the checkpoint said.
    let fixed = v.json(&["vault", "check", "--repair"], 0);
    assert_eq!(fixed["consistent"], true, "{fixed}");
    v.run(&["audit", "verify"], 0);
    let repair = v.json(&["audit", "list", "--action", "vault.repair"], 0)["events"][0].clone();
    assert_eq!(repair["details"]["problem"], "audit_truncated", "{repair}");
    assert_eq!(repair["details"]["checkpoint_was"]["seq"], 6, "{repair}");
    let checks: Vec<(String, String)> = actions(&v)
        .into_iter()
        .filter(|(a, _)| a == "vault.check")
        .collect();
    assert_eq!(checks.len(), 4, "one event per vault check: {checks:?}");
    assert!(
        checks[..3].iter().all(|(_, o)| o == "failure") && checks[3].1 == "success",
        "{checks:?}"
    );
}

#[test]
fn a_killed_export_leaves_no_partial_file() {
    let v = TestVault::new();
    v.json(&["key", "new", "--kind", "api", "--name", "a"], 0);
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("log.json");
    v.killed_at(
        "export.before_rename",
        &[
            "audit",
            "export",
            "--format",
            "json",
            "--out",
            out.to_str().unwrap(),
        ],
    );
    assert!(!out.exists(), "a partial export was left at --out");
    // The next export writes the whole file there.
    v.run(
        &[
            "audit",
            "export",
            "--format",
            "json",
            "--out",
            out.to_str().unwrap(),
        ],
        0,
    );
    let doc: serde_json::Value = serde_json::from_slice(&std::fs::read(&out).unwrap()).unwrap();
    assert!(doc["checkpoints"].as_array().is_some_and(|c| !c.is_empty()));
    // A directory that does not exist is bad input, and leaves nothing.
    let nowhere = dir.path().join("missing").join("log.json");
    v.run(
        &[
            "audit",
            "export",
            "--format",
            "csv",
            "--out",
            nowhere.to_str().unwrap(),
        ],
        2,
    );
    assert!(!dir.path().join("missing").exists());
}

#[test]
fn archive_moves_old_events_to_a_complete_file_before_deleting_them() {
    let v = TestVault::new();
    v.json(&["key", "new", "--kind", "api", "--name", "a"], 0);
    v.json(&["key", "revoke", "a", "--reason", "test"], 0);
    let before = v.json(&["audit", "list"], 0)["events"]
        .as_array()
        .unwrap()
        .len();
    std::thread::sleep(std::time::Duration::from_millis(1100));
    let dir = tempfile::tempdir().unwrap();
    // Killed after the file is in place but before any event is deleted:
    // the file is whole and every event is still in the database.
    let first = dir.path().join("first.jsonl");
    v.killed_at(
        "archive.before_delete",
        &[
            "audit",
            "archive",
            "--older-than",
            "1s",
            "--out",
            first.to_str().unwrap(),
        ],
    );
    let events = v.json(&["audit", "list"], 0)["events"]
        .as_array()
        .unwrap()
        .len();
    assert_eq!(events, before, "events were deleted by a killed archive");
    v.run(&["audit", "verify"], 0);
    let pubkey = dir.path().join("audit.pem");
    std::fs::write(&pubkey, v.run(&["audit", "pubkey"], 0).0).unwrap();
    let args = |f: &std::path::Path| {
        vec![
            "audit".to_string(),
            "verify".into(),
            "--file".into(),
            f.to_str().unwrap().into(),
            "--pubkey".into(),
            pubkey.to_str().unwrap().into(),
        ]
    };
    let a = args(&first);
    let a: Vec<&str> = a.iter().map(String::as_str).collect();
    assert_eq!(v.json(&a, 0)["intact"], true);
    // The same --out again is refused and left as it was.
    let kept = std::fs::read(&first).unwrap();
    v.run(
        &[
            "audit",
            "archive",
            "--older-than",
            "1s",
            "--out",
            first.to_str().unwrap(),
        ],
        2,
    );
    assert_eq!(std::fs::read(&first).unwrap(), kept);
    // A second archive finishes: the old events leave the database, the
    // chain still verifies, and the file verifies offline.
    let second = dir.path().join("second.jsonl");
    let r = v.json(
        &[
            "audit",
            "archive",
            "--older-than",
            "1s",
            "--out",
            second.to_str().unwrap(),
        ],
        0,
    );
    assert_eq!(r["archived"].as_i64(), Some(before as i64), "{r}");
    let left = v.json(&["audit", "list"], 0)["events"].clone();
    let left = left.as_array().unwrap();
    assert_eq!(left.last().unwrap()["action"], "audit.archive", "{left:?}");
    v.run(&["audit", "verify"], 0);
    let a = args(&second);
    let a: Vec<&str> = a.iter().map(String::as_str).collect();
    assert_eq!(v.json(&a, 0)["intact"], true);
    let leftovers: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().ends_with(".partial"))
        .collect();
    assert!(leftovers.is_empty(), "temporary files left: {leftovers:?}");
}

/// A repair killed between its `vault.repair` event and the new checkpoint
/// leaves the finding in place; the next repair finishes it.
#[test]
fn a_killed_checkpoint_repair_is_finished_by_the_next_one() {
    let v = TestVault::new();
    for i in 0..3 {
        v.json(
            &["key", "new", "--kind", "api", "--name", &format!("k{i}")],
            0,
        );
    }
    v.sql("DELETE FROM audit WHERE seq >= 3");
    v.killed_at("repair.before_anchor", &["vault", "check", "--repair"]);
    let c = v.json(&["vault", "check"], 1);
    assert!(
        c["problems"]
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p["kind"] == "audit_truncated"),
        "{c}"
    );
    v.json(&["vault", "check", "--repair"], 0);
    v.run(&["audit", "verify"], 0);
    let repairs = v.json(&["audit", "list", "--action", "vault.repair"], 0)["events"]
        .as_array()
        .unwrap()
        .len();
    assert_eq!(repairs, 2, "each repair attempt is recorded");
}
