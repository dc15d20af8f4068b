//! Environment faults: the keychain daemon stopped or locked in the middle
//! of an operation, a read-only, full or corrupted database, a missing or
//! unwritable vault directory. Each must give exit 3 with one line that
//! says what to do, and leave what is stored as it was.
//!
//! The keychain faults happen in a private D-Bus session owned by the test
//! ([`support::Session`]). The file-system faults use a private mount
//! namespace (`unshare -m`: read-only bind mounts, a 1 MB tmpfs), which
//! needs root; without it those tests say so and stop.

mod support;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};
use support::{assert_whole, rows, Session, Vault};

/// Asserts exit 3 with one actionable line on stderr.
fn assert_env_failure(out: &Output, what: &str, words: &[&str]) {
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{what}: {stderr}");
    let line = stderr.trim_end();
    assert_eq!(line.lines().count(), 1, "{what}: not one line: {stderr}");
    assert!(line.starts_with("keyward: "), "{what}: {stderr}");
    assert!(!line.contains("panicked"), "{what}: {stderr}");
    assert!(
        words.iter().any(|w| line.to_lowercase().contains(w)),
        "{what}: the message does not say what to do ({words:?}): {line}"
    );
}

/// Every file of the vault directory with its bytes.
fn files(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut out: Vec<_> = std::fs::read_dir(dir)
        .map(|rd| {
            rd.filter_map(|e| {
                let e = e.ok()?;
                Some((
                    e.file_name().to_string_lossy().into_owned(),
                    std::fs::read(e.path()).ok()?,
                ))
            })
            .collect()
        })
        .unwrap_or_default();
    out.sort();
    out
}

fn assert_same_files(before: &[(String, Vec<u8>)], after: &[(String, Vec<u8>)], what: &str) {
    // SQLite may leave an empty write-ahead log and its index beside a
    // database it could only read: they hold no data.
    let after: Vec<(String, Vec<u8>)> = after
        .iter()
        .filter(|(n, b)| {
            !(before.iter().all(|x| &x.0 != n)
                && (n.ends_with("-shm") || (n.ends_with("-wal") && b.is_empty())))
        })
        .cloned()
        .collect();
    let after = after.as_slice();
    let names = |f: &[(String, Vec<u8>)]| f.iter().map(|x| x.0.clone()).collect::<Vec<_>>();
    assert_eq!(names(before), names(after), "{what}: files changed");
    for (b, a) in before.iter().zip(after) {
        assert!(b.1 == a.1, "{what}: {} changed", b.0);
    }
}

/// Runs `args` with a `wait` failpoint at `point`, applies `fault` once
/// the process is there, then lets it go on; returns its output.
fn fault_at(v: &Vault, point: &str, args: &[&str], fault: impl FnOnce()) -> Output {
    let gate = v
        .scratch()
        .join(format!("gate-{}", point.replace('.', "-")));
    let child = v
        .command(args)
        .env(
            "KEYWARD_FAILPOINT",
            format!("{point}:wait:{}", gate.display()),
        )
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let reached = PathBuf::from(format!("{}.reached", gate.display()));
    let start = Instant::now();
    while !reached.exists() {
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "{args:?} never reached {point}"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
    fault();
    std::fs::write(&gate, b"go").unwrap();
    child.wait_with_output().unwrap()
}

fn seed(v: &Vault) {
    v.ok(&["key", "new", "--kind", "api", "--name", "billing"]);
    v.ok(&[
        "key", "new", "--kind", "signing", "--alg", "ES256", "--name", "signer",
    ]);
    v.ok(&["key", "new", "--kind", "api", "--name", "doomed"]);
    v.ok(&["key", "revoke", "doomed", "--reason", "retire"]);
}

const KEYCHAIN_WORDS: &[&str] = &["unlock", "start"];

#[test]
fn keychain_stopped_mid_operation_exits_3_and_loses_nothing() {
    let mut session = Session::start();
    let v = Vault::in_session(&session);
    seed(&v);
    for (point, args) in [
        (
            "create.after_intent",
            vec!["key", "new", "--kind", "api", "--name", "during"],
        ),
        ("rotate.after_intent", vec!["key", "rotate", "billing"]),
        ("rotate.after_intent", vec!["key", "rotate", "signer"]),
    ] {
        let before = rows(&v.db());
        let out = fault_at(&v, point, &args, || session.stop_keyring());
        assert_env_failure(
            &out,
            &format!("{args:?} with the keychain stopped"),
            KEYCHAIN_WORDS,
        );
        // With the daemon still gone, every keychain operation says so.
        let again = v.output(&args);
        assert_env_failure(&again, &format!("{args:?} while stopped"), KEYCHAIN_WORDS);
        for a in [
            vec!["vault", "check"],
            vec!["key", "reveal", "billing"],
            vec!["key", "export", "signer", "--format", "pem"],
            vec!["jwt", "sign", "--key", "signer", "--sub", "x"],
            vec!["key", "delete", "doomed", "--after", "0s"],
        ] {
            let o = v.output(&a);
            assert_env_failure(&o, &format!("{a:?} while stopped"), KEYCHAIN_WORDS);
        }
        session.start_keyring();
        assert_eq!(rows(&v.db()), before, "{args:?}: key versions changed");
        v.check_or_repair(&format!("{args:?}"));
        assert_whole(&v, &format!("after {args:?} with the keychain stopped"));
        assert_eq!(rows(&v.db()), before, "{args:?}: key versions changed");
    }
    // A destroy that lost the keychain half-way is finished by repair, once
    // the keychain is back: it was asked for, and its intent names the entry.
    let out = fault_at(
        &v,
        "destroy.after_intent",
        &["key", "delete", "doomed", "--after", "0s"],
        || session.stop_keyring(),
    );
    assert_env_failure(&out, "destroy with the keychain stopped", KEYCHAIN_WORDS);
    session.start_keyring();
    v.check_or_repair("destroy with the keychain stopped");
    assert_whole(&v, "after destroy with the keychain stopped");
    // Back to normal.
    v.ok(&["key", "new", "--kind", "api", "--name", "after"]);
    assert_whole(&v, "after recovery");
}

#[test]
fn keychain_locked_mid_operation_exits_3_and_loses_nothing() {
    let mut session = Session::start();
    let v = Vault::in_session(&session);
    seed(&v);
    let service = format!("keyward:{}", v.vault_id());
    let entries_before = support::keychain_names(&service, &v.env);
    for (point, args) in [
        (
            "create.after_intent",
            vec!["key", "new", "--kind", "api", "--name", "during"],
        ),
        ("rotate.after_intent", vec!["key", "rotate", "billing"]),
        (
            "destroy.after_intent",
            vec!["key", "delete", "doomed", "--after", "0s"],
        ),
    ] {
        let before = rows(&v.db());
        let out = fault_at(&v, point, &args, || session.lock_keyring());
        assert_env_failure(
            &out,
            &format!("{args:?} with the keychain locked"),
            KEYCHAIN_WORDS,
        );
        // While locked: every command that needs a secret says so.
        for a in [args.clone(), vec!["key", "reveal", "signer"]] {
            let o = v.output(&a);
            assert_env_failure(&o, &format!("{a:?} while locked"), KEYCHAIN_WORDS);
        }
        // A locked keychain still lists its items: `vault check` may find
        // the vault consistent, or say the keychain is locked — never
        // report secrets as lost.
        for a in [vec!["vault", "check"], vec!["vault", "check", "--repair"]] {
            let o = v.output(&a);
            if o.status.code() != Some(0) {
                assert_env_failure(&o, &format!("{a:?} while locked"), KEYCHAIN_WORDS);
            }
        }
        session.unlock_keyring();
        v.check_or_repair(&format!("{args:?} locked"));
        let whole = assert_whole(&v, &format!("after {args:?} with the keychain locked"));
        if point.starts_with("destroy") {
            // Never "destroyed" while its secret is still in the keychain.
            let destroyed: bool = v
                .db()
                .query_row(
                    "SELECT destroyed_at IS NOT NULL FROM keys WHERE name = 'doomed'",
                    [],
                    |r| r.get(0),
                )
                .unwrap();
            assert!(
                destroyed,
                "the destroy was asked for and repair finishes it"
            );
            // The failure half-way was recorded, with why.
            let failed: String = v
                .db()
                .query_row(
                    "SELECT details FROM audit a JOIN keys k ON k.id = a.key_id
                     WHERE k.name = 'doomed' AND a.action = 'key.destroy' AND a.outcome = 'failure'",
                    [],
                    |r| r.get(0),
                )
                .expect("no failed key.destroy event");
            assert!(failed.contains("keychain_unavailable"), "{failed}");
            let _ = whole;
        } else {
            assert_eq!(rows(&v.db()), before, "{args:?}: key versions changed");
        }
    }
    let after = support::keychain_names(&service, &v.env);
    assert!(
        after.len() < entries_before.len() + 2,
        "entries piled up: {after:?}"
    );
}

#[test]
fn keychain_restarted_without_unlock_is_not_mistaken_for_lost_secrets() {
    let mut session = Session::start();
    let v = Vault::in_session(&session);
    seed(&v);
    let before = rows(&v.db());
    let service = format!("keyward:{}", v.vault_id());
    let entries = support::keychain_names(&service, &v.env);
    session.stop_keyring();
    session.start_keyring_locked();
    for a in [
        vec!["vault", "check"],
        vec!["vault", "check", "--repair"],
        vec!["key", "new", "--kind", "api", "--name", "during"],
        vec!["key", "rotate", "billing"],
        vec!["key", "reveal", "billing"],
        vec!["key", "delete", "doomed", "--after", "0s"],
    ] {
        let o = v.output(&a);
        assert_env_failure(
            &o,
            &format!("{a:?} with the keyring not unlocked"),
            KEYCHAIN_WORDS,
        );
    }
    session.unlock_keyring();
    assert_eq!(rows(&v.db()), before, "key versions changed");
    assert_eq!(
        support::keychain_names(&service, &v.env),
        entries,
        "keychain entries changed"
    );
    v.check_or_repair("after the locked restart");
    assert_whole(&v, "after the locked restart");
}

/// Whether this process may use mount namespaces (root with CAP_SYS_ADMIN).
fn can_unshare() -> bool {
    Command::new("unshare")
        .args(["-m", "--propagation", "private", "true"])
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false)
}

/// Runs a shell script in a private mount namespace with the session's
/// environment, `$KW` (the binary) and `$V` (the vault dir) set.
fn in_namespace(v: &Vault, script: &str) -> Output {
    let mut c = Command::new("unshare");
    c.args([
        "-m",
        "--propagation",
        "private",
        "bash",
        "-euo",
        "pipefail",
        "-c",
        script,
    ]);
    c.env("KW", support::bin())
        .env("V", &v.dir)
        .env("S", v.scratch());
    c.env_remove("KEYWARD_FAILPOINT");
    for (k, x) in &v.env {
        c.env(k, x);
    }
    c.output().unwrap()
}

/// The exit code and stderr of one command that a namespace script ran
/// with `run NAME ARGS...` (see [`RUN`]).
fn ran(v: &Vault, name: &str) -> (Option<i32>, String) {
    let code = std::fs::read_to_string(v.scratch().join(format!("{name}.code")))
        .ok()
        .and_then(|s| s.trim().parse().ok());
    let err = std::fs::read_to_string(v.scratch().join(format!("{name}.err"))).unwrap_or_default();
    (code, err)
}

/// A shell function for namespace scripts: `run NAME ARGS...` runs keyward
/// and records its exit code and stderr beside the vault.
const RUN: &str = r#"run() { local n=$1; shift; set +e; "$KW" --vault "$V" "$@" >"$S/$n.out" 2>"$S/$n.err"; echo $? >"$S/$n.code"; set -e; }
"#;

fn assert_ran_env_failure(v: &Vault, name: &str, words: &[&str]) {
    let (code, err) = ran(v, name);
    assert_eq!(code, Some(3), "{name}: {err}");
    let line = err.trim_end();
    assert_eq!(line.lines().count(), 1, "{name}: {err}");
    assert!(
        words.iter().any(|w| line.to_lowercase().contains(w)),
        "{name}: the message does not say what to do: {line}"
    );
}

#[test]
fn read_only_database_or_directory_exits_3_and_changes_nothing() {
    if !can_unshare() {
        eprintln!("SKIPPED: mount namespaces (unshare -m) need root here");
        return;
    }
    let session = Session::start();
    let v = Vault::in_session(&session);
    seed(&v);
    let before = files(&v.dir);
    // The whole directory read-only, then only the database file.
    let out = in_namespace(
        &v,
        &format!(
            r#"{RUN}
mount --bind -o ro "$V" "$V"
run ro_new key new --kind api --name during
run ro_rotate key rotate billing
run ro_revoke key revoke billing --reason x
run ro_list key list
umount "$V"
mount --bind -o ro "$V/vault.db" "$V/vault.db"
run rofile_new key new --kind api --name during
run rofile_delete key delete doomed --after 0s
"#
        ),
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let words = &["read-only", "permission", "writable"];
    for name in [
        "ro_new",
        "ro_rotate",
        "ro_revoke",
        "rofile_new",
        "rofile_delete",
    ] {
        assert_ran_env_failure(&v, name, words);
    }
    // Reading a read-only vault may work or may say why not, never crash.
    let (code, err) = ran(&v, "ro_list");
    assert!(matches!(code, Some(0 | 3)), "ro_list: {err}");
    assert_same_files(&before, &files(&v.dir), "read-only database");
    v.check_or_repair("after read-only");
    assert_whole(&v, "after read-only");
    // No keychain entry was left behind by the failed writes.
    assert!(!v.json(&["key", "list"], 0).to_string().contains("during"));
}

#[test]
fn full_disk_exits_3_and_changes_nothing() {
    if !can_unshare() {
        eprintln!("SKIPPED: a tmpfs in a mount namespace needs root here");
        return;
    }
    let session = Session::start();
    let v = Vault::in_session(&session);
    // The vault lives on a 1 MB tmpfs that is filled to the last byte.
    let out = in_namespace(
        &v,
        &format!(
            r#"{RUN}
mkdir -p "$V"
mount -t tmpfs -o size=1M tmpfs "$V"
run seed1 key new --kind api --name billing
run seed2 key new --kind signing --alg ES256 --name signer
run seed3 key new --kind api --name doomed
run seed4 key revoke doomed --reason retire
dd if=/dev/zero of="$V/filler" bs=4096 2>/dev/null || true
dd if=/dev/zero of="$V/filler2" bs=1 2>/dev/null || true
sha256sum "$V/vault.db" > "$S/before.sum"
run full_new key new --kind api --name during
run full_rotate key rotate billing
run full_revoke key revoke billing --reason x
run full_delete key delete doomed --after 0s
run full_sign jwt sign --key signer --sub x
run full_list key list
sha256sum "$V/vault.db" > "$S/after.sum"
df -k "$V" | tail -1 > "$S/df"
rm -f "$V/filler" "$V/filler2"
run after_check vault check --repair
run after_new key new --kind api --name after
run after_audit audit verify
run after_list --json key list
"#
        ),
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for s in ["seed1", "seed2", "seed3", "seed4"] {
        assert_eq!(ran(&v, s).0, Some(0), "{s}: {}", ran(&v, s).1);
    }
    let df = std::fs::read_to_string(v.scratch().join("df")).unwrap();
    eprintln!("tmpfs when full: {df}");
    let words = &["full", "free"];
    for name in [
        "full_new",
        "full_rotate",
        "full_revoke",
        "full_delete",
        "full_sign",
    ] {
        let (code, err) = ran(&v, name);
        // A command that needs no new page may still succeed; one that
        // fails must fail cleanly.
        if code != Some(0) {
            assert_ran_env_failure(&v, name, words);
        } else {
            eprintln!("{name} fit in the space left: {err}");
        }
    }
    let (code, err) = ran(&v, "full_list");
    assert!(matches!(code, Some(0 | 3)), "full_list: {err}");
    let before = std::fs::read_to_string(v.scratch().join("before.sum")).unwrap();
    let after = std::fs::read_to_string(v.scratch().join("after.sum")).unwrap();
    let changed = [
        "full_new",
        "full_rotate",
        "full_revoke",
        "full_delete",
        "full_sign",
    ]
    .iter()
    .any(|n| ran(&v, n).0 == Some(0));
    if !changed {
        assert_eq!(before, after, "the database changed on a full disk");
    }
    for name in ["after_check", "after_new", "after_audit", "after_list"] {
        assert_eq!(ran(&v, name).0, Some(0), "{name}: {}", ran(&v, name).1);
    }
    let list = std::fs::read_to_string(v.scratch().join("after_list.out")).unwrap();
    assert!(
        !list.contains("\"during\""),
        "a failed create left a key: {list}"
    );
}

#[test]
fn corrupted_database_exits_3_and_is_left_as_it_was() {
    let session = Session::start();
    for (what, corrupt) in [
        ("header", 0usize),
        ("every page but the first", 4096),
        ("the whole file", usize::MAX),
    ] {
        let v = Vault::in_session(&session);
        seed(&v);
        let db = v.db_path();
        let mut bytes = std::fs::read(&db).unwrap();
        let (from, to) = match corrupt {
            usize::MAX => (0, bytes.len()),
            0 => (0, 100),
            n => (n, bytes.len()),
        };
        let mut x: u32 = 0x1234_5678;
        for b in &mut bytes[from..to] {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            *b = x as u8;
        }
        std::fs::write(&db, &bytes).unwrap();
        let before = files(&v.dir);
        for args in [
            vec!["key", "list"],
            vec!["key", "new", "--kind", "api", "--name", "during"],
            vec!["key", "rotate", "billing"],
            vec!["vault", "check"],
            vec!["audit", "verify"],
            vec!["vault", "info"],
        ] {
            let out = v.output(&args);
            assert_env_failure(
                &out,
                &format!("{args:?} on a database with garbage over {what}"),
                &["restore", "backup", "corrupt"],
            );
            assert_same_files(&before, &files(&v.dir), &format!("{args:?} ({what})"));
        }
    }
}

#[test]
fn missing_or_unusable_vault_directory_exits_3() {
    let v = Vault::uncreated();
    let missing_parent = v.scratch().join("no/such/parent/vault");
    let out = Command::new(support::bin())
        .arg("--vault")
        .arg(&missing_parent)
        .args(["key", "list"])
        .output()
        .unwrap();
    assert_env_failure(&out, "vault under a missing parent", &["create", "choose"]);
    assert!(!missing_parent.exists(), "a directory was created");
    let file = v.scratch().join("a-file");
    std::fs::write(&file, b"not a directory").unwrap();
    let out = Command::new(support::bin())
        .arg("--vault")
        .arg(&file)
        .args(["key", "new", "--kind", "api", "--name", "x"])
        .output()
        .unwrap();
    assert_env_failure(&out, "vault path that is a file", &["choose"]);
    assert_eq!(std::fs::read(&file).unwrap(), b"not a directory");
    if can_unshare() {
        // The vault directory's parent is read-only: it cannot be created.
        std::fs::create_dir_all(v.scratch().join("parent")).unwrap();
        let out = in_namespace(
            &v,
            &format!(
                r#"{RUN}
mount --bind -o ro "$S/parent" "$S/parent"
V="$S/parent/vault" run ro_parent key list
"#
            ),
        );
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert_ran_env_failure(&v, "ro_parent", &["permission", "choose"]);
        assert!(!v.scratch().join("parent/vault").exists());
    } else {
        eprintln!("SKIPPED the read-only parent case: mount namespaces need root here");
    }
}
