//! Helpers of the team-vault CLI tests: the OpenBao dev server that
//! tests/team/run.sh started, named by environment variables. Without them
//! every test fails with a message saying how to run it: never a skip.

#![allow(dead_code)]

#[path = "../cli/common.rs"]
mod cli_common;

#[allow(unused_imports)]
pub use cli_common::{snapshot, TestVault};
use serde_json::Value;
use std::sync::atomic::{AtomicU32, Ordering};

pub fn env(name: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| {
        panic!("{name} is not set: run the team tests with tests/team/run.sh, which starts an OpenBao dev server")
    })
}

pub fn addr() -> String {
    env("KEYWARD_BAO_ADDR")
}

pub fn token_file() -> String {
    env("KEYWARD_BAO_TOKEN_FILE")
}

/// A team name no other test uses.
pub fn team(tag: &str) -> String {
    static N: AtomicU32 = AtomicU32::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .subsec_nanos();
    format!(
        "cli-{tag}-{}-{}-{nanos}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    )
}

/// `vault init --backend openbao` of `v` into `team`; returns the report.
pub fn init(v: &TestVault, team: &str) -> Value {
    v.json(
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
            team,
            "--audit-file",
            "none",
        ],
        0,
    )
}

/// Runs the `bao` CLI against the dev server as root.
pub fn bao(args: &[&str]) -> std::process::Output {
    std::process::Command::new(env("KEYWARD_BAO_BIN"))
        .args(args)
        .env("BAO_ADDR", addr())
        .env("BAO_TOKEN", "root")
        .output()
        .expect("run bao")
}

/// What a command that OpenBao refused must leave as it was: every key
/// with its versions, and the audit log apart from the failed `vault.open`
/// events that record the refusals themselves. Read while OpenBao answers.
pub fn state(v: &TestVault) -> (Vec<Value>, Vec<Value>) {
    let keys = v.json(&["key", "list"], 0);
    let shown = keys["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| v.json(&["key", "show", k["id"].as_str().unwrap()], 0))
        .collect();
    (shown, audit_events(v, false))
}

/// The audit log's events, without (`false`) or only (`true`) failed opens.
pub fn audit_events(v: &TestVault, failed_opens: bool) -> Vec<Value> {
    let events = v.json(&["audit", "list", "--limit", "1000000"], 0);
    events["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| (e["action"] == "vault.open" && e["outcome"] == "failure") == failed_opens)
        .cloned()
        .collect()
}
