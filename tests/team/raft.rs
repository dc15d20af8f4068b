//! Failover on a 3-node OpenBao Raft cluster (started by tests/team/run.sh,
//! tests/team/bao-raft.sh): the Raft leader is stopped during a stream of
//! rotations. Each rotation either succeeds or is reported (exit 3); the
//! client moves on to the other nodes; afterwards every key's versions are
//! consistent, every version's secret is there, and no key is lost.

mod common;

use common::{env, team, TestVault};
use serde_json::Value;
use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

fn init(v: &TestVault, addrs: &str, t: &str) -> Value {
    v.json(
        &[
            "vault",
            "init",
            "--backend",
            "openbao",
            "--addr",
            addrs,
            "--token-file",
            &env("KEYWARD_RAFT_TOKEN_FILE"),
            "--team",
            t,
            "--audit-file",
            "none",
        ],
        0,
    )
}

/// The active node's API address, asked of any node that answers.
fn leader(addrs: &[&str]) -> String {
    for _ in 0..100 {
        for a in addrs {
            let out = std::process::Command::new(env("KEYWARD_BAO_BIN"))
                .args(["read", "-format=json", "sys/leader"])
                .env("BAO_ADDR", a)
                .env(
                    "BAO_TOKEN",
                    std::fs::read_to_string(env("KEYWARD_RAFT_TOKEN_FILE"))
                        .unwrap()
                        .trim(),
                )
                .output()
                .unwrap();
            if let Ok(v) = serde_json::from_slice::<Value>(&out.stdout) {
                let l = v["data"]["leader_address"].as_str().unwrap_or("");
                if !l.is_empty() {
                    return l.to_string();
                }
            }
        }
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
    panic!("no node names a leader");
}

#[test]
fn rotations_go_on_or_are_reported_when_the_leader_stops_and_nothing_is_lost() {
    let addrs = env("KEYWARD_RAFT_ADDRS");
    let nodes: Vec<&str> = addrs.split(',').collect();
    let pids: HashMap<String, String> = env("KEYWARD_RAFT_PIDS")
        .split(',')
        .filter(|s| !s.is_empty())
        .map(|s| {
            let (a, p) = s.rsplit_once('=').unwrap();
            (a.to_string(), p.to_string())
        })
        .collect();
    let t = team("raft");
    let v = Arc::new(TestVault::new());
    init(&v, &addrs, &t);
    let mut keys = Vec::new();
    for i in 0..4 {
        let k = v.json(
            &["key", "new", "--kind", "api", "--name", &format!("api-{i}")],
            0,
        );
        keys.push(k["id"].as_str().unwrap().to_string());
    }
    let k = v.json(
        &[
            "key", "new", "--kind", "signing", "--name", "sig", "--alg", "ES256",
        ],
        0,
    );
    keys.push(k["id"].as_str().unwrap().to_string());
    let k = v.json(
        &[
            "key",
            "new",
            "--kind",
            "signing",
            "--name",
            "tr",
            "--alg",
            "ES256",
            "--custody",
            "transit",
        ],
        0,
    );
    keys.push(k["id"].as_str().unwrap().to_string());

    // A stream of rotations, round robin over the keys, until six have
    // succeeded after the leader was stopped (or a minute has passed).
    let done = Arc::new(AtomicUsize::new(0));
    let killed = Arc::new(AtomicUsize::new(usize::MAX));
    let stream = {
        let (v, keys, done, killed) = (v.clone(), keys.clone(), done.clone(), killed.clone());
        std::thread::spawn(move || {
            let mut results = Vec::new();
            let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
            let mut ok_after = 0;
            let mut i = 0;
            while ok_after < 6 && std::time::Instant::now() < deadline {
                let key = &keys[i % keys.len()];
                i += 1;
                let at = done.load(Ordering::SeqCst);
                let out = v.cmd(&["--json", "key", "rotate", key]).output().unwrap();
                let code = out.status.code();
                if code == Some(0) && at > killed.load(Ordering::SeqCst) {
                    ok_after += 1;
                }
                let err = String::from_utf8_lossy(&out.stderr).to_string();
                results.push((key.clone(), code, err, at));
                done.fetch_add(1, Ordering::SeqCst);
                std::thread::sleep(std::time::Duration::from_millis(100));
            }
            results
        })
    };
    while done.load(Ordering::SeqCst) < 8 {
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let old_leader = leader(&nodes);
    let pid = &pids[&old_leader];
    let killed_at = done.load(Ordering::SeqCst);
    killed.store(killed_at, Ordering::SeqCst);
    let st = std::process::Command::new("kill")
        .args(["-9", pid])
        .status()
        .unwrap();
    assert!(st.success());
    let results = stream.join().unwrap();

    let mut wins: HashMap<String, usize> = HashMap::new();
    let mut reported = 0;
    let mut after_kill_ok = 0;
    for (key, code, err, at) in &results {
        match code {
            Some(0) => {
                *wins.entry(key.clone()).or_default() += 1;
                if *at > killed_at {
                    after_kill_ok += 1;
                }
            }
            Some(3) => {
                assert!(err.contains("OpenBao"), "{err}");
                reported += 1;
            }
            other => panic!("rotate of {key} exited {other:?}: {err}"),
        }
    }
    assert!(
        after_kill_ok >= 5,
        "the client did not go on after the leader stopped: {results:?}"
    );
    eprintln!(
        "leader {old_leader} stopped after {killed_at} rotations; {reported} reported, {after_kill_ok} succeeded afterwards"
    );

    // Settle whatever was in doubt, then everything is consistent.
    let repaired = v.json(&["vault", "check", "--repair"], 0);
    assert_eq!(repaired["consistent"], true, "{repaired}");
    let live: Vec<&str> = nodes.iter().copied().filter(|a| *a != old_leader).collect();
    let other = TestVault::new();
    init(&other, &live.join(","), &t);
    for key in &keys {
        let mine = v.json(&["key", "show", key], 0);
        let theirs = other.json(&["key", "show", key], 0);
        assert_eq!(mine["versions"], theirs["versions"], "{key}");
        let vs = mine["versions"].as_array().unwrap();
        let mut numbers: Vec<u64> = vs.iter().map(|x| x["version"].as_u64().unwrap()).collect();
        numbers.sort();
        numbers.dedup();
        assert_eq!(numbers.len(), vs.len(), "{key}: a version number twice");
        assert!(
            vs.len() > *wins.get(key).unwrap_or(&0),
            "{key}: {} versions for {} successful rotations",
            vs.len(),
            wins.get(key).unwrap_or(&0)
        );
        assert_eq!(
            vs.iter().filter(|x| x["state"] == "active").count(),
            1,
            "{key}: {mine}"
        );
        if mine["kind"] == "api" {
            for n in &numbers {
                other.run(&["key", "reveal", key, "--version", &n.to_string()], 0);
            }
        } else {
            let (tok, _) = other.run(&["jwt", "sign", "--key", key], 0);
            v.run(&["jwt", "verify", "--key", key, tok.trim()], 0);
        }
    }
    let check = other.json(&["vault", "check"], 0);
    assert_eq!(check["consistent"], true, "{check}");
}
