//! Lifecycle races: two CLI processes change one key at the same moment
//! (`rel_races`, run by tests/reliability/run.sh).
//!
//! Each case pauses the first process (A) at its `<op>.checked` failpoint —
//! the instant it has read the key's versions and decided what to do — and
//! runs the second (B) meanwhile. Because the read and the check happen
//! under the database's write lock, B must wait for A (it may not finish
//! while A is paused), and the outcome must be exactly that of running A,
//! then B: the same final version states, the same successful audit events
//! in that order, and B refused (exit 2 with a clear code) when A's change
//! leaves it nothing to do. An operation that acted on the state it read
//! before the lock would let B slip in and leave, for example, a key
//! disabled "entirely" with an active version, two active versions, a
//! disabled version promoted, or a destroyed key "restored".

mod support;

use serde_json::Value;
use std::process::{Child, Output, Stdio};
use std::time::{Duration, Instant};
use support::{assert_whole, Session, Vault};

/// One version row: (version, state, prior_state).
type VersionState = (u32, String, Option<String>);

fn states(v: &Vault, key: &str) -> Vec<VersionState> {
    let db = v.db();
    let mut stmt = db
        .prepare(
            "SELECT version, state, prior_state FROM key_versions WHERE key_id = ?1 ORDER BY version",
        )
        .unwrap();
    let rows = stmt
        .query_map([key], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .unwrap();
    rows.map(Result::unwrap).collect()
}

fn last_seq(v: &Vault) -> i64 {
    v.db()
        .query_row("SELECT COALESCE(MAX(seq), 0) FROM audit", [], |r| r.get(0))
        .unwrap()
}

/// Successful audit events on `key` after `seq`: "action vN" (or just the
/// action for key-wide events), in chain order.
fn events_since(v: &Vault, key: &str, seq: i64) -> Vec<String> {
    let db = v.db();
    let mut stmt = db
        .prepare(
            "SELECT action, version FROM audit WHERE seq > ?1 AND key_id = ?2 AND outcome = 'success' ORDER BY seq",
        )
        .unwrap();
    let rows = stmt
        .query_map(rusqlite::params![seq, key], |r| {
            let action: String = r.get(0)?;
            let version: Option<u32> = r.get(1)?;
            Ok(match version {
                Some(n) => format!("{action} v{n}"),
                None => action,
            })
        })
        .unwrap();
    rows.map(Result::unwrap).collect()
}

fn error_code(out: &Output) -> String {
    serde_json::from_slice::<Value>(&out.stdout)
        .ok()
        .and_then(|v| v["error"]["code"].as_str().map(str::to_string))
        .unwrap_or_else(|| "?".into())
}

fn describe(out: &Output) -> String {
    format!(
        "exit {:?}, stdout {} stderr {}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

fn spawn(v: &Vault, args: &[&str], failpoint: Option<String>) -> Child {
    let mut full = vec!["--json"];
    full.extend_from_slice(args);
    let mut c = v.command(&full);
    if let Some(f) = failpoint {
        c.env("KEYWARD_FAILPOINT", f);
    }
    c.stdout(Stdio::piped()).stderr(Stdio::piped());
    c.spawn().unwrap()
}

/// Runs A until it has checked the state (paused at `point`, holding the
/// write lock), then B; lets A go on after B has had time to act; returns
/// both outputs. B must not finish before A.
fn race(v: &Vault, point: &str, a: &[&str], b: &[&str]) -> (Output, Output) {
    race_with(v, point, a, b, true)
}

fn race_with(v: &Vault, point: &str, a: &[&str], b: &[&str], b_waits: bool) -> (Output, Output) {
    let gate = v.scratch().join(format!("gate-{point}"));
    let reached = v.scratch().join(format!("gate-{point}.reached"));
    let _ = std::fs::remove_file(&gate);
    let _ = std::fs::remove_file(&reached);
    let mut first = spawn(v, a, Some(format!("{point}:wait:{}", gate.display())));
    let start = Instant::now();
    while !reached.exists() {
        if let Some(status) = first.try_wait().unwrap() {
            panic!(
                "{a:?} ended ({status}) before reaching {point}: {}",
                describe(&first.wait_with_output().unwrap())
            );
        }
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "{a:?} never reached {point}"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
    let mut second = spawn(v, b, None);
    // Long enough for B to start, read the key and reach its write.
    std::thread::sleep(Duration::from_millis(1500));
    let b_early = second.try_wait().unwrap();
    std::fs::write(&gate, b"go").unwrap();
    let a_out = first.wait_with_output().unwrap();
    let b_out = second.wait_with_output().unwrap();
    assert!(
        !b_waits || b_early.is_none(),
        "{b:?} finished while {a:?} was paused after reading the key at {point}: it did not wait for the write lock ({})",
        describe(&b_out)
    );
    (a_out, b_out)
}

fn new_api_key(v: &Vault, name: &str) -> String {
    v.json(&["key", "new", "--kind", "api", "--name", name], 0)["id"]
        .as_str()
        .unwrap()
        .to_string()
}

fn assert_exit(out: &Output, code: i32, error: &[&str], what: &str) {
    assert_eq!(out.status.code(), Some(code), "{what}: {}", describe(out));
    if code == 2 {
        let got = error_code(out);
        assert!(
            error.contains(&got.as_str()),
            "{what}: refused with {got}, expected one of {error:?}: {}",
            describe(out)
        );
    }
}

fn st(version: u32, state: &str, prior: Option<&str>) -> VersionState {
    (version, state.to_string(), prior.map(str::to_string))
}

/// A vault on a private keychain session of its own.
fn setup() -> (Session, Vault) {
    let session = Session::start();
    let v = Vault::in_session(&session);
    (session, v)
}

/// Nothing lost or orphaned, the chain intact.
fn finish(mut session: Session, v: &Vault, context: &str) {
    v.check_or_repair_in(&mut session, context);
    assert_whole(v, context);
}

const REFUSED: &[&str] = &["invalid_transition", "concurrent_change"];

/// Disabling every version while a rotation runs: the rotation comes
/// after and finds nothing active to rotate (it must not add an active
/// version to a key the user just disabled entirely).
#[test]
fn disable_all_vs_rotate() {
    let (session, v) = setup();
    let k = new_api_key(&v, "disable-vs-rotate");
    let seq = last_seq(&v);
    let (a, b) = race(
        &v,
        "disable.checked",
        &["key", "disable", &k, "--reason", "race"],
        &["key", "rotate", &k, "--grace", "1h"],
    );
    assert_exit(&a, 0, &[], "disable");
    assert_exit(&b, 2, REFUSED, "rotate after disable");
    assert_eq!(states(&v, &k), vec![st(1, "disabled", Some("active"))]);
    assert_eq!(events_since(&v, &k, seq), vec!["key.disable v1"]);
    finish(session, &v, "disable_all_vs_rotate");
}

/// Promoting a staged version while it is being disabled: promote first,
/// then the disable applies to the now active version.
#[test]
fn promote_vs_disable_of_the_staged_version() {
    let (session, v) = setup();
    let k = new_api_key(&v, "promote-vs-disable");
    v.json(&["key", "rotate", &k, "--stage"], 0);
    let seq = last_seq(&v);
    let (a, b) = race(
        &v,
        "promote.checked",
        &["key", "promote", &k, "--min-published", "0s"],
        &["key", "disable", &k, "--version", "2", "--reason", "race"],
    );
    assert_exit(&a, 0, &[], "promote");
    assert_exit(&b, 0, &[], "disable after promote");
    assert_eq!(
        states(&v, &k),
        vec![st(1, "grace", None), st(2, "disabled", Some("active"))]
    );
    assert_eq!(
        events_since(&v, &k, seq),
        vec!["key.promote v2", "key.disable v2"]
    );
    finish(session, &v, "promote_vs_disable_of_the_staged_version");
}

/// Two promotions of one staged version: one promotes, the other finds
/// nothing staged (no second event, no second grace period).
#[test]
fn promote_vs_promote() {
    let (session, v) = setup();
    let k = new_api_key(&v, "promote-vs-promote");
    v.json(&["key", "rotate", &k, "--stage"], 0);
    let seq = last_seq(&v);
    let (a, b) = race(
        &v,
        "promote.checked",
        &["key", "promote", &k, "--min-published", "0s"],
        &["key", "promote", &k, "--min-published", "0s"],
    );
    assert_exit(&a, 0, &[], "promote");
    assert_exit(&b, 2, REFUSED, "second promote");
    assert_eq!(
        states(&v, &k),
        vec![st(1, "grace", None), st(2, "active", None)]
    );
    assert_eq!(events_since(&v, &k, seq), vec!["key.promote v2"]);
    finish(session, &v, "promote_vs_promote");
}

/// Re-enabling a formerly active version while a staged one is promoted:
/// the enable sees no active version and restores v1 to active, then the
/// promotion moves it to grace. Never two active versions.
#[test]
fn enable_vs_promote() {
    let (session, v) = setup();
    let k = new_api_key(&v, "enable-vs-promote");
    v.json(&["key", "rotate", &k, "--stage"], 0);
    v.json(
        &["key", "disable", &k, "--version", "1", "--reason", "setup"],
        0,
    );
    let seq = last_seq(&v);
    let (a, b) = race(
        &v,
        "enable.checked",
        &["key", "enable", &k, "--version", "1"],
        &["key", "promote", &k, "--min-published", "0s"],
    );
    assert_exit(&a, 0, &[], "enable");
    assert_exit(&b, 0, &[], "promote after enable");
    assert_eq!(
        states(&v, &k),
        vec![st(1, "grace", None), st(2, "active", None)]
    );
    assert_eq!(
        events_since(&v, &k, seq),
        vec!["key.enable v1", "key.promote v2"]
    );
    finish(session, &v, "enable_vs_promote");
}

/// Scheduling destruction of a disabled key while it is re-enabled: the
/// schedule comes first, and enable then has nothing disabled to enable
/// (a live key is never scheduled for destruction).
#[test]
fn scheduled_delete_vs_enable() {
    let (session, v) = setup();
    let k = new_api_key(&v, "delete-vs-enable");
    v.json(&["key", "disable", &k, "--reason", "setup"], 0);
    let seq = last_seq(&v);
    let (a, b) = race(
        &v,
        "delete.checked",
        &["key", "delete", &k, "--after", "30d"],
        &["key", "enable", &k],
    );
    assert_exit(&a, 0, &[], "delete");
    assert_exit(&b, 2, REFUSED, "enable after delete");
    assert_eq!(
        states(&v, &k),
        vec![st(1, "destroy-scheduled", Some("disabled"))]
    );
    assert_eq!(events_since(&v, &k, seq), vec!["key.delete"]);
    finish(session, &v, "scheduled_delete_vs_enable");
}

/// Destroying now while the key is re-enabled: the same, with the
/// secret removed from the keychain.
#[test]
fn destroy_now_vs_enable() {
    let (session, v) = setup();
    let k = new_api_key(&v, "destroy-vs-enable");
    v.json(&["key", "disable", &k, "--reason", "setup"], 0);
    let seq = last_seq(&v);
    let (a, b) = race(
        &v,
        "destroy.checked",
        &["key", "delete", &k, "--after", "0s"],
        &["key", "enable", &k],
    );
    assert_exit(&a, 0, &[], "delete now");
    assert_exit(&b, 2, REFUSED, "enable after destroy");
    assert_eq!(states(&v, &k), vec![st(1, "destroyed", None)]);
    assert_eq!(events_since(&v, &k, seq), vec!["key.destroy"]);
    finish(session, &v, "destroy_now_vs_enable");
}

/// Restoring a scheduled key while another process destroys it now: the
/// restore comes first (back to disabled), then the destruction. A
/// restore that acted on what it read earlier would audit restoring a
/// key that is already gone.
#[test]
fn restore_vs_destroy_now() {
    let (session, v) = setup();
    let k = new_api_key(&v, "restore-vs-destroy");
    v.json(&["key", "disable", &k, "--reason", "setup"], 0);
    v.json(&["key", "delete", &k, "--after", "30d"], 0);
    let seq = last_seq(&v);
    let (a, b) = race(
        &v,
        "restore.checked",
        &["key", "restore", &k],
        &["key", "delete", &k, "--after", "0s"],
    );
    assert_exit(&a, 0, &[], "restore");
    assert_exit(&b, 0, &[], "delete now after restore");
    assert_eq!(states(&v, &k), vec![st(1, "destroyed", None)]);
    assert_eq!(
        events_since(&v, &k, seq),
        vec!["key.restore", "key.destroy"]
    );
    finish(session, &v, "restore_vs_destroy_now");
}

/// Two destructions at once (`key due --apply` from the desktop app and
/// from a cron job): one destroys, the other finds the key gone.
#[test]
fn due_apply_vs_due_apply() {
    let (session, v) = setup();
    let k = new_api_key(&v, "destroy-vs-destroy");
    v.json(&["key", "disable", &k, "--reason", "setup"], 0);
    v.json(&["key", "delete", &k, "--after", "1s"], 0);
    std::thread::sleep(Duration::from_millis(1100));
    let seq = last_seq(&v);
    let (a, b) = race(
        &v,
        "destroy.checked",
        &["key", "due", "--apply"],
        &["key", "due", "--apply"],
    );
    assert_exit(&a, 0, &[], "due --apply");
    assert_exit(&b, 0, &[], "second due --apply");
    let applied = |o: &Output| -> usize {
        serde_json::from_slice::<Value>(&o.stdout).unwrap()["applied"]
            .as_array()
            .unwrap()
            .len()
    };
    assert_eq!(
        (applied(&a), applied(&b)),
        (1, 0),
        "exactly one process destroys: {} / {}",
        describe(&a),
        describe(&b)
    );
    assert_eq!(states(&v, &k), vec![st(1, "destroyed", None)]);
    assert_eq!(events_since(&v, &k, seq), vec!["key.destroy"]);
    finish(session, &v, "due_apply_vs_due_apply");
}

/// A restore while a due destruction is between its intents and its
/// commit (the keychain entries are being deleted; no lock is held): the
/// destruction is only ever finished, so the restore is refused instead of
/// being audited for a key that is destroyed a moment later.
#[test]
fn restore_while_due_destruction_runs() {
    let (session, v) = setup();
    let k = new_api_key(&v, "restore-during-destroy");
    v.json(&["key", "disable", &k, "--reason", "setup"], 0);
    v.json(&["key", "delete", &k, "--after", "1s"], 0);
    std::thread::sleep(Duration::from_millis(1100));
    let seq = last_seq(&v);
    let (a, b) = race_with(
        &v,
        "destroy.after_intent",
        &["key", "due", "--apply"],
        &["key", "restore", &k],
        false,
    );
    assert_exit(&a, 0, &[], "due --apply");
    assert_exit(&b, 2, &["concurrent_change"], "restore during destruction");
    assert_eq!(states(&v, &k), vec![st(1, "destroyed", None)]);
    assert_eq!(events_since(&v, &k, seq), vec!["key.destroy"]);
    finish(session, &v, "restore_while_due_destruction_runs");
}
