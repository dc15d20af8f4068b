//! Crash consistency, proven by killing the real CLI.
//!
//! 1. Every failpoint of every state-changing operation (create, import,
//!    rotate, revoke, scheduled delete, restore, destroy, reveal/export and
//!    audit export — which append an audit event —, the audit append itself,
//!    the checkpoint written after each commit, the audit key's creation, and
//!    `vault check --repair`) gets a SIGKILL there.
//! 2. Then hundreds of operations are killed at random moments, on several
//!    vaults at once.
//!
//! After each kill the vault must be consistent by `vault check`, or made so
//! by `--repair`; and an oracle that reads the database and the Secret
//! Service directly ([`support::assert_whole`]) must find no key version
//! lost, no keychain entry orphaned, every secret the one its row describes,
//! and an intact audit chain in step with the rows. A secret printed by a
//! killed process must be one the vault kept.
//!
//! `KEYWARD_CRASH_RUNS=N` sets the random runs (default 500; 3000 with
//! `KEYWARD_LONG_TESTS=1`); `KEYWARD_CRASH_SEED` replays a run.

mod support;

use keyward_core::crypto::{Alg, PrivateKey};
use keyward_core::keys::apikey::ApiKey;
use std::collections::{BTreeSet, HashMap};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};
use support::{api_keys_in, assert_whole, rows, vault_knows_api_key, Rng, Session, Vault};

/// What a killed operation must have left once the vault is repaired.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Effect {
    /// Nothing: as if it never ran (it can simply be run again).
    RolledBack,
    /// Everything: committed before the kill, or rolled forward by repair.
    Done,
    /// Either is fine (no user-visible effect to look for).
    Any,
}

/// An operation to crash: how to prepare it and how to see its effect.
#[derive(Clone, Copy)]
enum Op {
    NewApi,
    NewEs256,
    NewEdDsa,
    ImportPem,
    ImportApi,
    ImportHmac,
    RotateApi,
    RotateSigning,
    RevokeAll,
    RevokeOne,
    DeleteScheduled,
    Restore,
    Destroy,
    Reveal,
    Export,
    AuditExport,
    AuditPubkey,
    /// `jwt sign`: the token's jti is recorded with its audit event.
    Sign,
    /// `jwt revoke --jti`: the denylist entry.
    TokenRevoke,
    /// `key rotate --stage`: a pending version (keychain + rows).
    Stage,
    Promote,
    Disable,
    Enable,
    Policy,
    /// `key due --apply`: the overdue rotation a policy asks for.
    DueApply,
    /// `vault check --repair` of a create killed after its keychain write.
    RepairUnfinished,
    /// `vault check --repair` of a keychain entry that no row owns.
    RepairOrphan,
}

fn s(v: &[&str]) -> Vec<String> {
    v.iter().map(|x| x.to_string()).collect()
}

impl Op {
    /// Creates what the operation needs (keys named after `tag`) and
    /// returns its arguments.
    fn prepare(self, v: &Vault, tag: &str) -> Vec<String> {
        let api = |name: &str| v.ok(&["key", "new", "--kind", "api", "--name", name]);
        let es = |name: &str| {
            v.ok(&[
                "key", "new", "--kind", "signing", "--alg", "ES256", "--name", name,
            ])
        };
        let file = |name: &str, bytes: &[u8]| {
            let p = v.scratch().join(name);
            std::fs::write(&p, bytes).unwrap();
            p.to_string_lossy().into_owned()
        };
        match self {
            Op::NewApi => s(&["key", "new", "--kind", "api", "--name", tag]),
            Op::NewEs256 => s(&[
                "key", "new", "--kind", "signing", "--alg", "ES256", "--name", tag,
            ]),
            Op::NewEdDsa => s(&[
                "key", "new", "--kind", "signing", "--alg", "EdDSA", "--name", tag,
            ]),
            Op::ImportPem => {
                let pem = PrivateKey::generate(Alg::ES384, None)
                    .unwrap()
                    .to_pem()
                    .unwrap();
                let f = file(&format!("{tag}.pem"), pem.expose());
                s(&[
                    "key", "import", "--kind", "signing", "--name", tag, "--file", &f,
                ])
            }
            Op::ImportApi => {
                let key = ApiKey::generate("imp").unwrap();
                let f = file(&format!("{tag}.key"), key.secret().expose());
                s(&[
                    "key", "import", "--kind", "api", "--name", tag, "--file", &f,
                ])
            }
            Op::ImportHmac => {
                let f = file(
                    &format!("{tag}.bin"),
                    format!("hmac secret of {tag} that is long enough").as_bytes(),
                );
                s(&[
                    "key", "import", "--kind", "signing", "--alg", "HS256", "--name", tag,
                    "--file", &f,
                ])
            }
            Op::RotateApi => {
                api(tag);
                s(&["key", "rotate", tag, "--grace", "1h"])
            }
            Op::RotateSigning => {
                es(tag);
                s(&["key", "rotate", tag])
            }
            Op::RevokeAll => {
                api(tag);
                v.ok(&["key", "rotate", tag]);
                s(&["key", "revoke", tag, "--reason", "crash test"])
            }
            Op::RevokeOne => {
                es(tag);
                s(&[
                    "key",
                    "revoke",
                    tag,
                    "--version",
                    "1",
                    "--reason",
                    "crash test",
                ])
            }
            Op::DeleteScheduled => {
                api(tag);
                v.ok(&["key", "revoke", tag, "--reason", "retire"]);
                s(&["key", "delete", tag])
            }
            Op::Restore => {
                api(tag);
                v.ok(&["key", "revoke", tag, "--reason", "retire"]);
                v.ok(&["key", "delete", tag]);
                s(&["key", "restore", tag])
            }
            Op::Destroy => {
                api(tag);
                v.ok(&["key", "rotate", tag]);
                v.ok(&["key", "rotate", tag]);
                v.ok(&["key", "revoke", tag, "--reason", "retire"]);
                s(&["key", "delete", tag, "--after", "0s"])
            }
            Op::Reveal => {
                api(tag);
                s(&["key", "reveal", tag])
            }
            Op::Export => {
                es(tag);
                s(&["key", "export", tag, "--format", "pem"])
            }
            Op::AuditExport => {
                let out = v.scratch().join(format!("{tag}.jsonl"));
                s(&[
                    "audit",
                    "export",
                    "--format",
                    "jsonl",
                    "--out",
                    &out.to_string_lossy(),
                ])
            }
            Op::AuditPubkey => s(&["audit", "pubkey"]),
            Op::Sign => {
                es(tag);
                s(&["jwt", "sign", "--key", tag, "--sub", "crash", "--ttl", "5m"])
            }
            Op::TokenRevoke => s(&[
                "jwt",
                "revoke",
                "--jti",
                tag,
                "--until",
                "2099-01-01T00:00:00Z",
            ]),
            Op::Stage => {
                es(tag);
                s(&["key", "rotate", tag, "--stage"])
            }
            Op::Promote => {
                es(tag);
                v.ok(&["key", "rotate", tag, "--stage"]);
                s(&["key", "promote", tag, "--min-published", "0s"])
            }
            Op::Disable => {
                api(tag);
                s(&["key", "disable", tag, "--reason", "crash test"])
            }
            Op::Enable => {
                api(tag);
                v.ok(&["key", "disable", tag, "--reason", "crash test"]);
                s(&["key", "enable", tag])
            }
            Op::Policy => {
                api(tag);
                s(&["key", "policy", tag, "--grace", "2h"])
            }
            Op::DueApply => {
                api(tag);
                // The policy's rotation falls due right away.
                v.ok(&["key", "policy", tag, "--auto-rotate", "1s"]);
                std::thread::sleep(Duration::from_millis(1100));
                s(&["key", "due", "--apply"])
            }
            Op::RepairUnfinished => {
                let out = v
                    .command(&["key", "new", "--kind", "api", "--name", tag])
                    .env("KEYWARD_FAILPOINT", "create.after_keychain")
                    .output()
                    .unwrap();
                assert_eq!(out.status.code(), None, "setup of {tag} was not killed");
                s(&["vault", "check", "--repair"])
            }
            Op::RepairOrphan => {
                let service = format!("keyward:{}", v.vault_id());
                let mut c = Command::new("secret-tool")
                    .envs(v.env.iter().map(|(k, x)| (k, x)))
                    .args([
                        "store",
                        "--label",
                        "planted",
                        "service",
                        &service,
                        "username",
                        &format!("k_{tag}/v1"),
                        "target",
                        "default",
                        "application",
                        "rust-keyring",
                    ])
                    .stdin(Stdio::piped())
                    .spawn()
                    .unwrap();
                use std::io::Write;
                c.stdin.take().unwrap().write_all(b"orphan").unwrap();
                assert!(c.wait().unwrap().success());
                s(&["vault", "check", "--repair"])
            }
        }
    }

    /// Whether the operation's effect is visible in the vault.
    fn took_effect(self, v: &Vault, tag: &str) -> Option<bool> {
        let db = v.db();
        let q = |sql: &str| -> bool { db.query_row(sql, [tag], |r| r.get(0)).unwrap() };
        Some(match self {
            Op::NewApi
            | Op::NewEs256
            | Op::NewEdDsa
            | Op::ImportPem
            | Op::ImportApi
            | Op::ImportHmac => q("SELECT EXISTS(SELECT 1 FROM keys WHERE name = ?1)"),
            Op::RotateApi | Op::RotateSigning => q(
                "SELECT EXISTS(SELECT 1 FROM key_versions v JOIN keys k ON k.id = v.key_id WHERE k.name = ?1 AND v.version = 2)",
            ),
            Op::RevokeAll => q(
                "SELECT NOT EXISTS(SELECT 1 FROM key_versions v JOIN keys k ON k.id = v.key_id WHERE k.name = ?1 AND v.state != 'revoked')",
            ),
            Op::RevokeOne => q(
                "SELECT EXISTS(SELECT 1 FROM key_versions v JOIN keys k ON k.id = v.key_id WHERE k.name = ?1 AND v.version = 1 AND v.state = 'revoked')",
            ),
            Op::DeleteScheduled => {
                q("SELECT EXISTS(SELECT 1 FROM keys WHERE name = ?1 AND destroy_at IS NOT NULL)")
            }
            Op::Restore => {
                q("SELECT EXISTS(SELECT 1 FROM keys WHERE name = ?1 AND destroy_at IS NULL)")
            }
            Op::Destroy => {
                q("SELECT EXISTS(SELECT 1 FROM keys WHERE name = ?1 AND destroyed_at IS NOT NULL)")
            }
            Op::Reveal => q(
                "SELECT EXISTS(SELECT 1 FROM audit a JOIN keys k ON k.id = a.key_id WHERE k.name = ?1 AND a.action = 'key.reveal')",
            ),
            Op::Export => q(
                "SELECT EXISTS(SELECT 1 FROM audit a JOIN keys k ON k.id = a.key_id WHERE k.name = ?1 AND a.action = 'key.export')",
            ),
            Op::AuditExport => db
                .query_row(
                    "SELECT EXISTS(SELECT 1 FROM audit WHERE action = 'audit.export')",
                    [],
                    |r| r.get(0),
                )
                .unwrap(),
            Op::Sign => q(
                "SELECT EXISTS(SELECT 1 FROM jti j JOIN keys k ON k.id = j.key_id WHERE k.name = ?1)",
            ),
            Op::TokenRevoke => q("SELECT EXISTS(SELECT 1 FROM jti WHERE jti = ?1 AND revoked_at IS NOT NULL)"),
            Op::Stage | Op::DueApply => q(
                "SELECT EXISTS(SELECT 1 FROM key_versions v JOIN keys k ON k.id = v.key_id WHERE k.name = ?1 AND v.version = 2)",
            ),
            Op::Promote => q(
                "SELECT EXISTS(SELECT 1 FROM key_versions v JOIN keys k ON k.id = v.key_id WHERE k.name = ?1 AND v.version = 2 AND v.state = 'active')",
            ),
            Op::Disable => q(
                "SELECT EXISTS(SELECT 1 FROM key_versions v JOIN keys k ON k.id = v.key_id WHERE k.name = ?1 AND v.state = 'disabled')",
            ),
            Op::Enable => q(
                "SELECT NOT EXISTS(SELECT 1 FROM key_versions v JOIN keys k ON k.id = v.key_id WHERE k.name = ?1 AND v.state = 'disabled')",
            ),
            Op::Policy => q("SELECT EXISTS(SELECT 1 FROM keys WHERE name = ?1 AND grace = 7200)"),
            Op::AuditPubkey | Op::RepairUnfinished | Op::RepairOrphan => return None,
        })
    }
}

/// Each failpoint with the operations that reach it and what must remain.
fn cases() -> Vec<(&'static str, Op, Effect)> {
    use Effect::*;
    use Op::*;
    let mut c = Vec::new();
    for op in [NewApi, NewEs256, NewEdDsa, ImportPem, ImportApi, ImportHmac] {
        c.push(("create.after_intent", op, RolledBack));
        c.push(("create.after_keychain", op, RolledBack));
        c.push(("create.before_commit", op, RolledBack));
        c.push(("create.after_commit", op, Done));
    }
    for op in [RotateApi, RotateSigning] {
        c.push(("rotate.after_intent", op, RolledBack));
        c.push(("rotate.after_keychain", op, RolledBack));
        c.push(("rotate.before_commit", op, RolledBack));
        c.push(("rotate.after_commit", op, Done));
    }
    c.push(("stage.after_intent", Stage, RolledBack));
    c.push(("stage.after_keychain", Stage, RolledBack));
    c.push(("stage.before_commit", Stage, RolledBack));
    c.push(("stage.after_commit", Stage, Done));
    c.push(("rotate.after_keychain", DueApply, RolledBack));
    c.push(("sign.before_commit", Sign, RolledBack));
    c.push(("commit.before_checkpoint", Sign, Done));
    c.push(("token_revoke.before_commit", TokenRevoke, RolledBack));
    for op in [RevokeAll, RevokeOne] {
        c.push(("revoke.in_transaction", op, RolledBack));
        c.push(("revoke.after_commit", op, Done));
    }
    c.push(("delete.in_transaction", DeleteScheduled, RolledBack));
    c.push(("delete.after_commit", DeleteScheduled, Done));
    c.push(("restore.in_transaction", Restore, RolledBack));
    c.push(("restore.after_commit", Restore, Done));
    // A destroy that wrote its intents is rolled forward by repair.
    c.push(("destroy.after_intent", Destroy, Done));
    c.push(("destroy.after_keychain", Destroy, Done));
    c.push(("destroy.after_keychain@2", Destroy, Done));
    c.push(("destroy.before_commit", Destroy, Done));
    c.push(("destroy.after_commit", Destroy, Done));
    // The audit append inside each operation's final transaction.
    for op in [
        NewApi,
        ImportPem,
        RotateApi,
        RevokeAll,
        DeleteScheduled,
        Restore,
        Reveal,
        Export,
        AuditExport,
        Sign,
        TokenRevoke,
        Stage,
        Promote,
        Disable,
        Enable,
        Policy,
        DueApply,
    ] {
        c.push(("audit.append", op, RolledBack));
    }
    for op in [Promote, Disable, Enable, Policy] {
        c.push(("commit.before_checkpoint", op, Done));
    }
    c.push(("audit.append", Destroy, Done));
    // Under the write lock, the state read and checked, nothing written yet
    // (tests/reliability/races.rs pauses there).
    c.push(("promote.checked", Promote, RolledBack));
    c.push(("disable.checked", Disable, RolledBack));
    c.push(("enable.checked", Enable, RolledBack));
    c.push(("delete.checked", DeleteScheduled, RolledBack));
    c.push(("restore.checked", Restore, RolledBack));
    c.push(("destroy.checked", Destroy, RolledBack));
    // Between a commit and the checkpoint file that follows it.
    c.push(("commit.before_checkpoint", NewApi, RolledBack));
    c.push(("commit.before_checkpoint@2", NewApi, Done));
    c.push(("commit.before_checkpoint", RevokeAll, Done));
    c.push(("commit.before_checkpoint", Reveal, Done));
    // (The commit of the intent leaves an intact checkpoint where it is:
    // the first rename is the one after the key's commit.)
    c.push(("checkpoint.before_rename", NewApi, Done));
    c.push(("checkpoint.before_rename", RevokeOne, Done));
    c.push(("checkpoint.before_rename", Restore, Done));
    // The audit signing key's first creation (keychain first, then its row).
    c.push(("audit_key.after_keychain", AuditExport, RolledBack));
    c.push(("audit_key.after_keychain", AuditPubkey, Any));
    // The checkpoint MAC key's first creation: with the vault's first
    // checkpoint, at its creation — or, for a vault created while the
    // keychain was unreachable (as here), at its first commit.
    c.push(("audit_mac.after_keychain", NewApi, Any));
    // Repair itself, killed between deleting the entry and its commit.
    c.push(("repair.after_keychain", RepairUnfinished, Any));
    c.push(("repair.after_keychain", RepairOrphan, Any));
    c
}

fn run_case(v: &Vault, n: usize, point: &str, op: Op, effect: Effect) {
    let tag = format!("c{n}");
    let ctx = format!("{point} during {tag}");
    let args = op.prepare(v, &tag);
    let before = rows(&v.db());
    let args_ref: Vec<&str> = args.iter().map(String::as_str).collect();
    let out = v
        .command(&args_ref)
        .env("KEYWARD_FAILPOINT", point)
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        None,
        "{ctx}: the process was not killed (stderr {})",
        String::from_utf8_lossy(&out.stderr)
    );
    v.check_or_repair(&ctx);
    if matches!(op, Op::RepairUnfinished | Op::RepairOrphan) {
        // The second repair finishes what the first was doing.
        assert!(
            v.db()
                .query_row("SELECT COUNT(*) = 0 FROM pending_ops", [], |r| r
                    .get::<_, bool>(0))
                .unwrap(),
            "{ctx}"
        );
    }
    assert_whole(v, &ctx);
    // No row is ever lost: destroyed versions stay as tombstones.
    let after = rows(&v.db());
    for r in &before {
        assert!(
            after
                .iter()
                .any(|a| a.key_id == r.key_id && a.version == r.version),
            "{ctx}: {} v{} vanished",
            r.key_id,
            r.version
        );
    }
    // A secret shown before the kill is one the vault kept.
    let stdout = String::from_utf8_lossy(&out.stdout);
    for key in api_keys_in(&stdout) {
        assert!(
            vault_knows_api_key(&v.db(), &key),
            "{ctx}: printed a key it lost"
        );
    }
    if let Some(seen) = op.took_effect(v, &tag) {
        match effect {
            Effect::RolledBack => assert!(!seen, "{ctx}: should have been rolled back"),
            Effect::Done => assert!(seen, "{ctx}: should have taken effect"),
            Effect::Any => {}
        }
        if matches!(op, Op::Reveal | Op::Export) && !stdout.trim().is_empty() {
            assert!(seen, "{ctx}: a secret was shown without its audit event");
        }
    }
    // An operation that was rolled back simply runs again.
    if effect == Effect::RolledBack && !matches!(op, Op::ImportApi | Op::AuditPubkey) {
        if let Op::AuditExport = op {
            // A killed export leaves nothing at --out (its temporary file
            // beside it is never taken for the export).
            assert!(
                !v.scratch().join(format!("{tag}.jsonl")).exists(),
                "{ctx}: a partial export was left at --out"
            );
        }
        let again = v.output(&args_ref);
        assert_eq!(
            again.status.code(),
            Some(0),
            "{ctx}: rerun failed: {}",
            String::from_utf8_lossy(&again.stderr)
        );
        assert_whole(v, &format!("{ctx}, rerun"));
    }
}

#[test]
fn killed_at_every_failpoint_of_every_operation() {
    let all = cases();
    let points: BTreeSet<&str> = all.iter().map(|c| c.0).collect();
    let next = AtomicUsize::new(0);
    let start = Instant::now();
    // Four workers, each on its own vault (the audit key's creation needs a
    // fresh vault per case).
    std::thread::scope(|scope| {
        for _ in 0..4 {
            scope.spawn(|| {
                // Each worker has its own bus and keychain daemon.
                let session = Session::start();
                let mut shared = Vault::in_session(&session);
                loop {
                    let i = next.fetch_add(1, Ordering::SeqCst);
                    let Some(&(point, op, effect)) = all.get(i) else {
                        break;
                    };
                    if point.starts_with("audit_mac") {
                        let fresh = Vault::created_without_keychain(&session);
                        run_case(&fresh, i, point, op, effect);
                    } else if point.starts_with("audit_key") {
                        let fresh = Vault::in_session(&session);
                        run_case(&fresh, i, point, op, effect);
                    } else {
                        run_case(&shared, i, point, op, effect);
                    }
                    if i % 16 == 15 {
                        shared = Vault::in_session(&session);
                    }
                }
            });
        }
    });
    eprintln!(
        "{} kill cases over {} failpoints, all consistent after repair, in {:.1?}",
        all.len(),
        points.len(),
        start.elapsed()
    );
}

/// The operations of the random run, chosen from what the vault holds.
fn random_args(v: &Vault, rng: &mut Rng, i: usize) -> Vec<String> {
    let db = v.db();
    let names = |sql: &str| -> Vec<String> {
        let mut st = db.prepare(sql).unwrap();
        let r = st
            .query_map([], |r| r.get(0))
            .unwrap()
            .map(Result::unwrap)
            .collect::<Vec<String>>();
        r
    };
    let active = names(
        "SELECT DISTINCT k.name FROM keys k JOIN key_versions v ON v.key_id = k.id
         WHERE k.destroyed_at IS NULL AND v.state = 'active'",
    );
    let revoked = names(
        "SELECT k.name FROM keys k WHERE k.destroyed_at IS NULL AND k.destroy_at IS NULL AND NOT EXISTS
         (SELECT 1 FROM key_versions v WHERE v.key_id = k.id AND v.state NOT IN ('revoked', 'destroyed'))",
    );
    let scheduled =
        names("SELECT name FROM keys WHERE destroy_at IS NOT NULL AND destroyed_at IS NULL");
    let name = format!("r{i}");
    loop {
        return match rng.below(12) {
            0 | 1 => s(&["key", "new", "--kind", "api", "--name", &name]),
            2 => s(&[
                "key",
                "new",
                "--kind",
                "signing",
                "--alg",
                *rng.pick(&["HS256", "ES256", "ES384", "EdDSA"]),
                "--name",
                &name,
            ]),
            3 => {
                let key = ApiKey::generate("rnd").unwrap();
                let f = v.scratch().join(format!("{name}.key"));
                std::fs::write(&f, key.secret().expose()).unwrap();
                s(&[
                    "key",
                    "import",
                    "--kind",
                    "api",
                    "--name",
                    &name,
                    "--file",
                    &f.to_string_lossy(),
                ])
            }
            4 | 5 if !active.is_empty() => {
                s(&["key", "rotate", rng.pick(&active).as_str(), "--grace", "1h"])
            }
            6 if !active.is_empty() => s(&[
                "key",
                "revoke",
                rng.pick(&active).as_str(),
                "--reason",
                "random",
            ]),
            7 if !revoked.is_empty() => s(&[
                "key",
                "delete",
                rng.pick(&revoked).as_str(),
                "--after",
                "0s",
            ]),
            8 if !revoked.is_empty() => s(&["key", "delete", rng.pick(&revoked).as_str()]),
            9 if !scheduled.is_empty() => {
                if rng.below(2) == 0 {
                    s(&["key", "restore", rng.pick(&scheduled).as_str()])
                } else {
                    s(&[
                        "key",
                        "delete",
                        rng.pick(&scheduled).as_str(),
                        "--after",
                        "0s",
                    ])
                }
            }
            10 if !active.is_empty() => s(&["key", "reveal", rng.pick(&active).as_str()]),
            11 => {
                let f = v.scratch().join("export.jsonl");
                s(&[
                    "audit",
                    "export",
                    "--format",
                    "jsonl",
                    "--out",
                    &f.to_string_lossy(),
                ])
            }
            _ => continue,
        };
    }
}

#[test]
fn killed_at_random_moments_nothing_is_lost_or_orphaned() {
    let total: usize = std::env::var("KEYWARD_CRASH_RUNS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(if support::long() { 3000 } else { 500 });
    let workers = 4;
    let seed = Rng::from_env("KEYWARD_CRASH_SEED").0;
    let killed = AtomicUsize::new(0);
    let daemon_crashes = AtomicUsize::new(0);
    let repaired = AtomicUsize::new(0);
    let completed = AtomicUsize::new(0);
    let durations = Mutex::new(Vec::<u128>::new());
    let start = Instant::now();
    std::thread::scope(|scope| {
        for w in 0..workers {
            let (killed, repaired, completed, durations, daemon_crashes) =
                (&killed, &repaired, &completed, &durations, &daemon_crashes);
            scope.spawn(move || {
                let mut session = Session::start();
                let v = Vault::in_session(&session);
                let mut rng = Rng(seed.wrapping_add(w as u64 * 0x9e37_79b9) | 1);
                v.ok(&["key", "new", "--kind", "api", "--name", "seed"]);
                let runs = total / workers + usize::from(w < total % workers);
                // Per command, the kill comes anywhere in the first 1.3x of
                // a typical (successful) run; one run in five is let finish
                // so the vault grows and changes.
                let mut typical: HashMap<String, u64> = HashMap::new();
                for i in 0..runs {
                    let args = random_args(&v, &mut rng, i);
                    let args_ref: Vec<&str> = args.iter().map(String::as_str).collect();
                    let before = rows(&v.db());
                    let mut child = v
                        .command(&args_ref)
                        .stdout(Stdio::piped())
                        .stderr(Stdio::null())
                        .spawn()
                        .unwrap();
                    let mut stdout = child.stdout.take().unwrap();
                    let reader = std::thread::spawn(move || {
                        let mut buf = Vec::new();
                        let _ = std::io::Read::read_to_end(&mut stdout, &mut buf);
                        buf
                    });
                    let kind = args[..2].join(" ");
                    let window_us = typical.get(&kind).copied().unwrap_or(200_000) * 13 / 10;
                    let t0 = Instant::now();
                    let deadline = if rng.below(5) == 0 {
                        Duration::from_secs(60)
                    } else {
                        Duration::from_micros(rng.below(window_us))
                    };
                    let mut was_killed = false;
                    loop {
                        if child.try_wait().unwrap().is_some() {
                            break;
                        }
                        if t0.elapsed() >= deadline {
                            child.kill().unwrap();
                            was_killed = true;
                            break;
                        }
                        std::thread::sleep(Duration::from_micros(500));
                    }
                    let status = child.wait().unwrap();
                    let out = reader.join().unwrap();
                    let ctx = format!("worker {w} run {i} {args:?} (seed {seed})");
                    if was_killed && status.code().is_none() {
                        killed.fetch_add(1, Ordering::Relaxed);
                    } else if status.code() == Some(3) && session.revive_if_dead() {
                        daemon_crashes.fetch_add(1, Ordering::Relaxed);
                    } else {
                        completed.fetch_add(1, Ordering::Relaxed);
                        let took = t0.elapsed().as_micros();
                        durations.lock().unwrap().push(took);
                        if status.code() == Some(0) {
                            let t = typical.entry(kind).or_insert(took as u64);
                            *t = (*t * 3 + took as u64) / 4;
                        }
                        assert!(
                            matches!(status.code(), Some(0 | 2)),
                            "{ctx}: exit {status:?}"
                        );
                    }
                    for key in api_keys_in(&String::from_utf8_lossy(&out)) {
                        assert!(vault_knows_api_key(&v.db(), &key), "{ctx}: printed a key it lost");
                    }
                    let after = rows(&v.db());
                    for r in &before {
                        assert!(
                            after.iter().any(|a| a.key_id == r.key_id && a.version == r.version),
                            "{ctx}: {} v{} vanished",
                            r.key_id,
                            r.version
                        );
                    }
                    // Leftovers of several crashes pile up between checks, as
                    // they would for a user who never runs `vault check`.
                    if (i % 8 == 7 || i + 1 == runs) && v.check_or_repair_in(&mut session, &ctx) {
                        repaired.fetch_add(1, Ordering::Relaxed);
                    }
                    if i % 40 == 39 || i + 1 == runs {
                        v.check_or_repair_in(&mut session, &ctx);
                        assert_whole(&v, &ctx);
                    }
                }
                let whole = assert_whole(&v, &format!("worker {w} at the end"));
                eprintln!(
                    "worker {w}: {runs} runs; {} key versions, {} secrets in the keychain, {} audit events",
                    whole.rows, whole.live_secrets, whole.events
                );
            });
        }
    });
    let mut d = durations.into_inner().unwrap();
    d.sort();
    let killed = killed.into_inner();
    eprintln!(
        "{total} random runs on {workers} vaults in {:.1?}: {killed} killed mid-operation ({} checks needed a repair), {} completed (median {} ms), {} keychain daemon crashes survived; nothing lost or orphaned",
        start.elapsed(),
        repaired.into_inner(),
        completed.into_inner(),
        d.get(d.len() / 2).copied().unwrap_or(0) / 1000,
        daemon_crashes.into_inner()
    );
    assert!(
        killed >= total / 5,
        "only {killed} of {total} runs were killed: the window is wrong"
    );
}
