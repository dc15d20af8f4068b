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
/// both outputs. With `b_waits`, B must not finish before A.
fn race(v: &Vault, point: &str, a: &[&str], b: &[&str], b_waits: bool) -> (Output, Output) {
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

/// Stands for the new key's id in a case's commands.
const KEY: &str = "{key}";

/// How one of the two processes must end: exit 0, or refused (exit 2)
/// with one of `codes`; `what` names it in a failure.
struct Exit {
    what: &'static str,
    code: i32,
    codes: &'static [&'static str],
}

const fn ok(what: &'static str) -> Exit {
    Exit {
        what,
        code: 0,
        codes: &[],
    }
}

const fn refused(what: &'static str, codes: &'static [&'static str]) -> Exit {
    Exit {
        what,
        code: 2,
        codes,
    }
}

/// One race: a new API key named `key`, brought into shape by `prepare`
/// (then `settle` for anything it scheduled to fall due); A paused at
/// `point` while B runs; how each ends, the key's final version states and
/// the successful audit events written by the race, in order.
struct Race {
    test: &'static str,
    key: &'static str,
    prepare: &'static [&'static [&'static str]],
    settle: Duration,
    point: &'static str,
    a: &'static [&'static str],
    b: &'static [&'static str],
    /// Whether B must wait for A's write lock (see `race`).
    b_waits: bool,
    a_exit: Exit,
    b_exit: Exit,
    states: &'static [(u32, &'static str, Option<&'static str>)],
    events: &'static [&'static str],
}

impl Race {
    /// Runs the case on a vault of its own and checks all it expects;
    /// returns both outputs for anything a case checks beyond that.
    fn run(&self) -> (Output, Output) {
        let (session, v) = setup();
        let k = new_api_key(&v, self.key);
        let with_key = |args: &[&str]| -> Vec<String> {
            args.iter()
                .map(|a| if *a == KEY { k.clone() } else { a.to_string() })
                .collect()
        };
        for step in self.prepare {
            let step = with_key(step);
            v.json(&step.iter().map(String::as_str).collect::<Vec<_>>(), 0);
        }
        std::thread::sleep(self.settle);
        let seq = last_seq(&v);
        let (a, b) = (with_key(self.a), with_key(self.b));
        let (a, b) = race(
            &v,
            self.point,
            &a.iter().map(String::as_str).collect::<Vec<_>>(),
            &b.iter().map(String::as_str).collect::<Vec<_>>(),
            self.b_waits,
        );
        assert_exit(&a, self.a_exit.code, self.a_exit.codes, self.a_exit.what);
        assert_exit(&b, self.b_exit.code, self.b_exit.codes, self.b_exit.what);
        let want: Vec<VersionState> = self.states.iter().map(|&(n, s, p)| st(n, s, p)).collect();
        assert_eq!(states(&v, &k), want);
        assert_eq!(events_since(&v, &k, seq), self.events);
        finish(session, &v, self.test);
        (a, b)
    }
}

/// Most cases: nothing falls due, and B waits for A's lock.
const CASE: Race = Race {
    test: "",
    key: "",
    prepare: &[],
    settle: Duration::ZERO,
    point: "",
    a: &[],
    b: &[],
    b_waits: true,
    a_exit: ok(""),
    b_exit: ok(""),
    states: &[],
    events: &[],
};

/// Disabling every version while a rotation runs: the rotation comes
/// after and finds nothing active to rotate (it must not add an active
/// version to a key the user just disabled entirely).
#[test]
fn disable_all_vs_rotate() {
    Race {
        test: "disable_all_vs_rotate",
        key: "disable-vs-rotate",
        point: "disable.checked",
        a: &["key", "disable", KEY, "--reason", "race"],
        b: &["key", "rotate", KEY, "--grace", "1h"],
        a_exit: ok("disable"),
        b_exit: refused("rotate after disable", REFUSED),
        states: &[(1, "disabled", Some("active"))],
        events: &["key.disable v1"],
        ..CASE
    }
    .run();
}

/// Promoting a staged version while it is being disabled: promote first,
/// then the disable applies to the now active version.
#[test]
fn promote_vs_disable_of_the_staged_version() {
    Race {
        test: "promote_vs_disable_of_the_staged_version",
        key: "promote-vs-disable",
        prepare: &[&["key", "rotate", KEY, "--stage"]],
        point: "promote.checked",
        a: &["key", "promote", KEY, "--min-published", "0s"],
        b: &["key", "disable", KEY, "--version", "2", "--reason", "race"],
        a_exit: ok("promote"),
        b_exit: ok("disable after promote"),
        states: &[(1, "grace", None), (2, "disabled", Some("active"))],
        events: &["key.promote v2", "key.disable v2"],
        ..CASE
    }
    .run();
}

/// Two promotions of one staged version: one promotes, the other finds
/// nothing staged (no second event, no second grace period).
#[test]
fn promote_vs_promote() {
    Race {
        test: "promote_vs_promote",
        key: "promote-vs-promote",
        prepare: &[&["key", "rotate", KEY, "--stage"]],
        point: "promote.checked",
        a: &["key", "promote", KEY, "--min-published", "0s"],
        b: &["key", "promote", KEY, "--min-published", "0s"],
        a_exit: ok("promote"),
        b_exit: refused("second promote", REFUSED),
        states: &[(1, "grace", None), (2, "active", None)],
        events: &["key.promote v2"],
        ..CASE
    }
    .run();
}

/// Re-enabling a formerly active version while a staged one is promoted:
/// the enable sees no active version and restores v1 to active, then the
/// promotion moves it to grace. Never two active versions.
#[test]
fn enable_vs_promote() {
    Race {
        test: "enable_vs_promote",
        key: "enable-vs-promote",
        prepare: &[
            &["key", "rotate", KEY, "--stage"],
            &["key", "disable", KEY, "--version", "1", "--reason", "setup"],
        ],
        point: "enable.checked",
        a: &["key", "enable", KEY, "--version", "1"],
        b: &["key", "promote", KEY, "--min-published", "0s"],
        a_exit: ok("enable"),
        b_exit: ok("promote after enable"),
        states: &[(1, "grace", None), (2, "active", None)],
        events: &["key.enable v1", "key.promote v2"],
        ..CASE
    }
    .run();
}

/// Scheduling destruction of a disabled key while it is re-enabled: the
/// schedule comes first, and enable then has nothing disabled to enable
/// (a live key is never scheduled for destruction).
#[test]
fn scheduled_delete_vs_enable() {
    Race {
        test: "scheduled_delete_vs_enable",
        key: "delete-vs-enable",
        prepare: &[&["key", "disable", KEY, "--reason", "setup"]],
        point: "delete.checked",
        a: &["key", "delete", KEY, "--after", "30d"],
        b: &["key", "enable", KEY],
        a_exit: ok("delete"),
        b_exit: refused("enable after delete", REFUSED),
        states: &[(1, "destroy-scheduled", Some("disabled"))],
        events: &["key.delete"],
        ..CASE
    }
    .run();
}

/// Destroying now while the key is re-enabled: the same, with the
/// secret removed from the keychain.
#[test]
fn destroy_now_vs_enable() {
    Race {
        test: "destroy_now_vs_enable",
        key: "destroy-vs-enable",
        prepare: &[&["key", "disable", KEY, "--reason", "setup"]],
        point: "destroy.checked",
        a: &["key", "delete", KEY, "--after", "0s"],
        b: &["key", "enable", KEY],
        a_exit: ok("delete now"),
        b_exit: refused("enable after destroy", REFUSED),
        states: &[(1, "destroyed", None)],
        events: &["key.destroy"],
        ..CASE
    }
    .run();
}

/// Restoring a scheduled key while another process destroys it now: the
/// restore comes first (back to disabled), then the destruction. A
/// restore that acted on what it read earlier would audit restoring a
/// key that is already gone.
#[test]
fn restore_vs_destroy_now() {
    Race {
        test: "restore_vs_destroy_now",
        key: "restore-vs-destroy",
        prepare: &[
            &["key", "disable", KEY, "--reason", "setup"],
            &["key", "delete", KEY, "--after", "30d"],
        ],
        point: "restore.checked",
        a: &["key", "restore", KEY],
        b: &["key", "delete", KEY, "--after", "0s"],
        a_exit: ok("restore"),
        b_exit: ok("delete now after restore"),
        states: &[(1, "destroyed", None)],
        events: &["key.restore", "key.destroy"],
        ..CASE
    }
    .run();
}

/// A disabled key scheduled for destruction in 1 s, and the 1.1 s it takes
/// to fall due.
const DUE_IN_1S: &[&[&str]] = &[
    &["key", "disable", KEY, "--reason", "setup"],
    &["key", "delete", KEY, "--after", "1s"],
];
const FALLS_DUE: Duration = Duration::from_millis(1100);

/// Two destructions at once (`key due --apply` from the desktop app and
/// from a cron job): one destroys, the other finds the key gone.
#[test]
fn due_apply_vs_due_apply() {
    let (a, b) = Race {
        test: "due_apply_vs_due_apply",
        key: "destroy-vs-destroy",
        prepare: DUE_IN_1S,
        settle: FALLS_DUE,
        point: "destroy.checked",
        a: &["key", "due", "--apply"],
        b: &["key", "due", "--apply"],
        a_exit: ok("due --apply"),
        b_exit: ok("second due --apply"),
        states: &[(1, "destroyed", None)],
        events: &["key.destroy"],
        ..CASE
    }
    .run();
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
}

/// A restore while a due destruction is between its intents and its
/// commit (the keychain entries are being deleted; no lock is held): the
/// destruction is only ever finished, so the restore is refused instead of
/// being audited for a key that is destroyed a moment later.
#[test]
fn restore_while_due_destruction_runs() {
    Race {
        test: "restore_while_due_destruction_runs",
        key: "restore-during-destroy",
        prepare: DUE_IN_1S,
        settle: FALLS_DUE,
        point: "destroy.after_intent",
        a: &["key", "due", "--apply"],
        b: &["key", "restore", KEY],
        b_waits: false,
        a_exit: ok("due --apply"),
        b_exit: refused("restore during destruction", &["concurrent_change"]),
        states: &[(1, "destroyed", None)],
        events: &["key.destroy"],
    }
    .run();
}
