//! The audit log's tamper evidence, tested by editing the SQLite file with
//! raw SQL as an attacker would: edits, deletions, insertions, reordering and
//! truncation are each detected and name the first broken event. Exports
//! verify offline against the audit public key; archives keep the chain
//! verifiable across the cut. Real keychain, real SQLite files.

use chrono::{Duration, TimeZone, Utc};
use keyward_core::audit::export::{verify_file, ExportFormat};
use keyward_core::audit::AuditFilter;
use keyward_core::vault::{NewApiKey, Source, VaultOptions};
use keyward_core::{FixedClock, Vault};
use rusqlite::Connection;
use std::path::PathBuf;
use std::sync::Arc;

struct Fx {
    _dir: tempfile::TempDir,
    path: PathBuf,
    clock: Arc<FixedClock>,
}

impl Fx {
    fn new() -> Fx {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("vault");
        let clock = Arc::new(FixedClock::new(
            Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap(),
        ));
        Fx {
            _dir: dir,
            path,
            clock,
        }
    }

    /// Opens the vault (its first open creates it: event #1 is `vault.create`).
    fn vault(&self) -> Vault {
        Vault::open(VaultOptions::new(&self.path, Source::Cli).with_clock(self.clock.clone()))
            .unwrap()
    }

    /// A vault with `n` key events (#2..#n+1, after `vault.create`), one hour apart.
    fn filled(n: usize) -> Fx {
        let fx = Fx::new();
        let mut v = fx.vault();
        for i in 0..n {
            v.create_api_key(NewApiKey {
                name: format!("key-{i}"),
                ..Default::default()
            })
            .unwrap();
            fx.clock.advance(Duration::hours(1));
        }
        fx
    }

    fn sql(&self, sql: &str) {
        let c = Connection::open(self.db()).unwrap();
        c.execute_batch(sql).unwrap();
    }

    fn db(&self) -> PathBuf {
        self.path.join("vault.db")
    }

    fn broken_at(&self) -> Option<(i64, String)> {
        let r = self.vault().audit_verify().unwrap();
        r.first_broken.map(|b| (b.seq, b.problem))
    }
}

#[test]
fn an_untouched_chain_verifies() {
    let fx = Fx::filled(5);
    let r = fx.vault().audit_verify().unwrap();
    assert!(r.intact, "{r:?}");
    assert_eq!(r.events, 6);
}

#[test]
fn an_edited_event_is_named() {
    let fx = Fx::filled(5);
    fx.sql("UPDATE audit SET details = '{\"name\":\"innocent\"}' WHERE seq = 3");
    let (seq, why) = fx.broken_at().expect("edit not detected");
    assert_eq!(seq, 3);
    assert!(why.contains("altered"), "{why}");
    for col in [
        "actor = 'mallory'",
        "outcome = 'failure'",
        "at = '2020-01-01T00:00:00.000Z'",
        "key_id = NULL",
        "version = 7",
        "action = 'key.import'",
    ] {
        let fx = Fx::filled(4);
        fx.sql(&format!("UPDATE audit SET {col} WHERE seq = 2"));
        assert_eq!(
            fx.broken_at().map(|b| b.0),
            Some(2),
            "edit of {col} not detected"
        );
    }
}

#[test]
fn a_deleted_event_is_named() {
    let fx = Fx::filled(5);
    fx.sql("DELETE FROM audit WHERE seq = 2");
    let (seq, why) = fx.broken_at().expect("deletion not detected");
    assert_eq!(seq, 3);
    assert!(why.contains("#2") && why.contains("missing"), "{why}");
}

#[test]
fn an_inserted_event_is_named() {
    let fx = Fx::filled(4);
    // Make room after #2 and insert a forged event that copies #2's hash as its prev.
    fx.sql(
        "UPDATE audit SET seq = seq + 100 WHERE seq >= 3;
         UPDATE audit SET seq = seq - 99 WHERE seq >= 103;
         INSERT INTO audit (seq, at, actor, source, action, key_id, version, outcome, details, prev_hash, hash)
           SELECT 3, at, 'mallory', source, 'key.reveal', key_id, version, outcome, '{}', hash, hash FROM audit WHERE seq = 2;",
    );
    let (seq, why) = fx.broken_at().expect("insertion not detected");
    assert_eq!(seq, 3, "{why}");
}

#[test]
fn reordered_events_are_named() {
    let fx = Fx::filled(5);
    // Swap the contents of #2 and #3, keeping the sequence numbers.
    fx.sql(
        "UPDATE audit SET seq = -2 WHERE seq = 2;
         UPDATE audit SET seq = 2 WHERE seq = 3;
         UPDATE audit SET seq = 3 WHERE seq = -2;",
    );
    let (seq, _) = fx.broken_at().expect("reordering not detected");
    assert_eq!(seq, 2);
}

#[test]
fn truncating_the_newest_events_is_caught_by_the_checkpoint() {
    let fx = Fx::filled(5);
    fx.sql("DELETE FROM audit WHERE seq >= 4");
    let (_, why) = fx.broken_at().expect("truncation not detected");
    assert!(why.contains("#6") && why.contains("removed"), "{why}");
    // vault check reports it too: the chain in the database is intact, so
    // repair may accept the log as it is (what restoring a backup needs).
    let report = fx.vault().check(false).unwrap();
    assert!(!report.consistent);
    assert!(
        report
            .problems
            .iter()
            .any(|p| p.kind == "audit_truncated" && p.repairable),
        "{report:?}"
    );
    let anchored = checkpoint_bytes(&fx);
    let mut v = fx.vault();
    let repaired = v.check(true).unwrap();
    assert!(repaired.consistent, "{repaired:?}");
    assert_ne!(
        checkpoint_bytes(&fx),
        anchored,
        "checkpoint not re-anchored"
    );
    let repair = v
        .audit_list(&AuditFilter::default())
        .unwrap()
        .into_iter()
        .find(|e| e.action == "vault.repair")
        .expect("no vault.repair event");
    assert_eq!(repair.details["problem"], "audit_truncated");
    assert_eq!(repair.details["checkpoint_was"]["seq"], 6, "{repair:?}");
    drop(v);
    assert!(fx.broken_at().is_none(), "still broken after repair");
}

/// The desktop's repair does only what the user confirmed: an
/// audit_truncated that appeared after the check is refused untouched,
/// and the confirmed list repairs it.
#[test]
fn a_repair_confirmed_before_a_new_problem_is_refused() {
    let fx = Fx::filled(5);
    let mut v = fx.vault();
    let clean = v.check(false).unwrap();
    assert!(clean.consistent, "{clean:?}");
    drop(v);
    fx.sql("DELETE FROM audit WHERE seq >= 4");
    let anchored = checkpoint_bytes(&fx);
    let mut v = fx.vault();
    let err = v.repair_confirmed(&clean.problems).unwrap_err();
    assert_eq!(err.code(), "vault_changed", "{err}");
    assert_eq!(
        checkpoint_bytes(&fx),
        anchored,
        "repaired without confirmation"
    );
    let seen = v.check(false).unwrap();
    assert!(
        seen.problems.iter().any(|p| p.kind == "audit_truncated"),
        "{seen:?}"
    );
    let repaired = v.repair_confirmed(&seen.problems).unwrap();
    assert!(repaired.consistent, "{repaired:?}");
    assert_eq!(repaired.repaired.len(), 1, "{repaired:?}");
}

/// An edit inside the database's chain is never repairable, even when the
/// checkpoint file is deleted too.
#[test]
fn an_edited_event_is_never_repaired() {
    let fx = Fx::filled(4);
    fx.sql("UPDATE audit SET actor = 'mallory' WHERE seq = 2");
    std::fs::remove_file(fx.path.join("audit.checkpoint")).unwrap();
    let mut v = fx.vault();
    let report = v.check(true).unwrap();
    assert!(!report.consistent);
    assert_eq!(
        report
            .problems
            .iter()
            .map(|p| (p.kind.as_str(), p.repairable))
            .collect::<Vec<_>>(),
        [("audit_chain", false)],
        "{report:?}"
    );
    assert!(!fx.path.join("audit.checkpoint").exists());
    drop(v);
    assert_eq!(fx.broken_at().map(|b| b.0), Some(2));
}

#[test]
fn a_rewritten_chain_is_caught_by_the_checkpoint_or_the_signed_export() {
    let fx = Fx::filled(4);
    let pubkey = fx.vault().audit_public_key().unwrap();
    let mut good = Vec::new();
    fx.vault()
        .audit_export(ExportFormat::Jsonl, &mut good)
        .unwrap();
    // Deleting the checkpoint file is itself reported...
    std::fs::remove_file(fx.path.join("audit.checkpoint")).unwrap();
    let (_, why) = fx.broken_at().expect("missing checkpoint not reported");
    assert!(why.contains("missing"), "{why}");
    // ...and repair records the current end again.
    let r = fx.vault().check(true).unwrap();
    assert!(r.consistent, "{r:?}");
    // An export's signed checkpoints cannot be forged without the keychain key.
    let tampered = String::from_utf8(good.clone())
        .unwrap()
        .replacen("key-1", "key-X", 1);
    let rep = verify_file(&mut tampered.as_bytes(), &pubkey).unwrap();
    assert!(!rep.intact);
    let ok = verify_file(&mut good.as_slice(), &pubkey).unwrap();
    assert!(ok.intact, "{ok:?}");
}

#[test]
fn exports_verify_offline_and_reject_tampering() {
    let fx = Fx::filled(6);
    let mut v = fx.vault();
    let pubkey = v.audit_public_key().unwrap();
    for format in [ExportFormat::Json, ExportFormat::Jsonl] {
        let mut out = Vec::new();
        let s = v.audit_export(format, &mut out).unwrap();
        assert!(s.events >= 6 && s.checkpoints >= 1);
        let r = verify_file(&mut out.as_slice(), &pubkey).unwrap();
        assert!(r.intact, "{format:?}: {r:?}");
        assert_eq!(r.signed_up_to, r.last_seq);
    }
    let mut out = Vec::new();
    v.audit_export(ExportFormat::Jsonl, &mut out).unwrap();
    let text = String::from_utf8(out).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    // Dropping the last event: the final checkpoint names an event that is gone.
    let mut cut: Vec<&str> = lines.clone();
    let last_event = cut
        .iter()
        .rposition(|l| !l.contains("\"checkpoint\""))
        .unwrap();
    cut.remove(last_event);
    let r = verify_file(&mut cut.join("\n").as_bytes(), &pubkey).unwrap();
    assert!(!r.intact, "truncated export accepted");
    // Another vault's key does not verify it.
    let other = Fx::filled(1);
    let r = verify_file(
        &mut text.as_bytes(),
        &other.vault().audit_public_key().unwrap(),
    )
    .unwrap();
    assert!(!r.intact);
    assert!(r.problem.unwrap().contains("signature"));
    // CSV: quoted, one header + one line per event.
    let mut csv = Vec::new();
    v.audit_export(ExportFormat::Csv, &mut csv).unwrap();
    let csv = String::from_utf8(csv).unwrap();
    assert!(csv
        .starts_with("seq,at,actor,source,action,key_id,version,outcome,details,prev_hash,hash\n"));
    assert!(
        csv.contains("\"{\"\"kind\"\":\"\"api\"\""),
        "details not CSV-quoted: {csv}"
    );
}

#[test]
fn archiving_keeps_the_chain_verifiable_across_the_cut() {
    let fx = Fx::filled(10);
    let mut v = fx.vault();
    let pubkey = v.audit_public_key().unwrap();
    // Events are at 00:00 (vault.create and key-0)..09:00 on Jan 1; the
    // clock is at 10:00. Archive those older than 5h: #1..#6.
    let out = tempfile::tempdir().unwrap();
    let path = out.path().join("archive.jsonl");
    let s = v.audit_archive(Duration::hours(5), &path).unwrap();
    let file = std::fs::read(&path).unwrap();
    assert_eq!((s.archived, s.up_to_seq), (6, Some(6)));
    let r = v.audit_verify().unwrap();
    assert!(r.intact, "{r:?}");
    let left = v.audit_list(&AuditFilter::default()).unwrap();
    assert_eq!(left.first().unwrap().seq, 7);
    assert_eq!(left.last().unwrap().action, "audit.archive");
    let offline = verify_file(&mut file.as_slice(), &pubkey).unwrap();
    assert!(offline.intact && offline.last_seq == Some(6), "{offline:?}");
    // Nothing older is left: no second file is made, and an existing file
    // is never overwritten.
    let again = out.path().join("again.jsonl");
    let s = v.audit_archive(Duration::hours(5), &again).unwrap();
    assert_eq!(s.archived, 0);
    assert!(!again.exists(), "an empty archive file was made");
    assert!(v.audit_archive(Duration::hours(1), &path).is_err());
    assert_eq!(std::fs::read(&path).unwrap(), file, "archive overwritten");
    // New events chain on; a forged base is caught.
    v.create_api_key(NewApiKey {
        name: "after".into(),
        ..Default::default()
    })
    .unwrap();
    assert!(v.audit_verify().unwrap().intact);
    drop(v);
    fx.sql("UPDATE meta SET v = '5:' || hex(randomblob(32)) WHERE k = 'audit_base'");
    assert!(fx.broken_at().is_some(), "forged archive base accepted");
}

#[test]
fn list_filters_by_key_action_time_and_text() {
    let fx = Fx::filled(6);
    let v = fx.vault();
    let all = v.audit_list(&AuditFilter::default()).unwrap();
    let key3 = all[3].key_id.clone().unwrap();
    let by_key = v
        .audit_list(&AuditFilter {
            key_id: Some(key3.clone()),
            ..Default::default()
        })
        .unwrap();
    assert_eq!(by_key.len(), 1);
    assert_eq!(by_key[0].seq, 4);
    let since = v
        .audit_list(&AuditFilter {
            since: Some("2026-01-01T02:00:00.000Z".into()),
            until: Some("2026-01-01T04:00:00.000Z".into()),
            ..Default::default()
        })
        .unwrap();
    // key-2 and key-3 (#4, #5: #1 is vault.create).
    assert_eq!(since.iter().map(|e| e.seq).collect::<Vec<_>>(), vec![4, 5]);
    let grep = v
        .audit_list(&AuditFilter {
            grep: Some("KEY-5".into()),
            ..Default::default()
        })
        .unwrap();
    assert_eq!(grep.len(), 1, "trigram search is case-insensitive");
    let short = v
        .audit_list(&AuditFilter {
            grep: Some("-5".into()),
            ..Default::default()
        })
        .unwrap();
    assert_eq!(short.len(), 1);
    let page = v
        .audit_list(&AuditFilter {
            after_seq: Some(2),
            limit: Some(2),
            ..Default::default()
        })
        .unwrap();
    assert_eq!(page.iter().map(|e| e.seq).collect::<Vec<_>>(), vec![3, 4]);
    let back = v
        .audit_list(&AuditFilter {
            before_seq: Some(5),
            newest_first: true,
            limit: Some(2),
            ..Default::default()
        })
        .unwrap();
    assert_eq!(back.iter().map(|e| e.seq).collect::<Vec<_>>(), vec![4, 3]);
    let none = v
        .audit_list(&AuditFilter {
            action: Some("key.revoke".into()),
            ..Default::default()
        })
        .unwrap();
    assert!(none.is_empty());
}

/// An attacker who knows the genesis value rewrites an event and recomputes
/// every plain hash after it: the chain is consistent again, but the keyed
/// checkpoint outside the database no longer matches, and a checkpoint
/// rewritten without the keychain's MAC key is refused.
#[test]
fn recomputed_plain_hashes_are_caught_by_the_keyed_checkpoint() {
    use keyward_core::audit::chain::{event_hash, ChainedFields};
    use keyward_core::audit::log::{from_hex, hex};
    let fx = Fx::filled(5);
    let c = Connection::open(fx.db()).unwrap();
    let genesis: String = c
        .query_row("SELECT v FROM meta WHERE k = 'audit_genesis'", [], |r| {
            r.get(0)
        })
        .unwrap();
    c.execute("UPDATE audit SET actor = 'nobody' WHERE seq = 2", [])
        .unwrap();
    let mut prev = from_hex(&genesis).unwrap();
    type Row = (
        i64,
        String,
        String,
        String,
        String,
        Option<String>,
        Option<i64>,
        String,
        String,
    );
    let rows: Vec<Row> = c
        .prepare("SELECT seq, at, actor, source, action, key_id, version, outcome, details FROM audit ORDER BY seq")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?, r.get(6)?, r.get(7)?, r.get(8)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    let mut last = String::new();
    for (seq, at, actor, source, action, key_id, version, outcome, details) in rows {
        let h = event_hash(
            &prev,
            &ChainedFields {
                seq,
                at: &at,
                actor: &actor,
                source: &source,
                action: &action,
                key_id: key_id.as_deref(),
                version,
                outcome: &outcome,
                details: &details,
            },
        );
        c.execute(
            "UPDATE audit SET prev_hash = ?1, hash = ?2 WHERE seq = ?3",
            rusqlite::params![prev, h.to_vec(), seq],
        )
        .unwrap();
        prev = h.to_vec();
        last = hex(&h);
    }
    drop(c);
    let (seq, why) = fx.broken_at().expect("recomputed chain accepted");
    assert_eq!(seq, 6, "{why}");
    assert!(why.contains("differs from the checkpoint"), "{why}");
    // Appending after the rewrite (a key, a vault check) does not move the
    // checkpoint onto the rewritten chain.
    fx.vault()
        .create_api_key(NewApiKey {
            name: "after".into(),
            ..Default::default()
        })
        .unwrap();
    let report = fx.vault().check(false).unwrap();
    assert!(!report.consistent, "{report:?}");
    let (seq, why) = fx.broken_at().expect("rewrite hidden by later appends");
    assert_eq!(seq, 6, "{why}");
    assert!(why.contains("differs from the checkpoint"), "{why}");
    // Rewriting the checkpoint too, without the MAC key, is caught.
    let forged = serde_json::json!({"seq": 6, "hash": last, "mac": "00".repeat(32)});
    std::fs::write(fx.path.join("audit.checkpoint"), forged.to_string()).unwrap();
    let (_, why) = fx.broken_at().expect("forged checkpoint accepted");
    assert!(why.contains("valid MAC"), "{why}");
    // The untouched vault's checkpoint is reported as verified.
    let ok = Fx::filled(2);
    let r = ok.vault().audit_verify().unwrap();
    assert!(
        r.intact && r.anchor.as_deref().is_some_and(|a| a.contains("verified")),
        "{r:?}"
    );
}

/// The checkpoint file's bytes.
fn checkpoint_bytes(fx: &Fx) -> Vec<u8> {
    std::fs::read(fx.path.join("audit.checkpoint")).unwrap()
}

fn last_event(v: &Vault) -> keyward_core::audit::AuditEvent {
    v.audit_list(&AuditFilter {
        newest_first: true,
        limit: Some(1),
        ..Default::default()
    })
    .unwrap()
    .remove(0)
}

/// The newest events cut off by raw SQL stay reported however many events
/// are appended afterwards — ordinary key operations and `vault check`
/// itself — even once the log has grown past the checkpointed event again:
/// no append moves a checkpoint the database no longer matches.
#[test]
fn appending_after_a_truncation_never_hides_it() {
    let fx = Fx::filled(5);
    let anchored = checkpoint_bytes(&fx);
    // The checkpoint names #6; the log now ends at #3.
    fx.sql("DELETE FROM audit WHERE seq >= 4");
    let mut v = fx.vault();
    let report = v.check(false).unwrap();
    assert!(!report.consistent);
    let check = last_event(&v);
    assert_eq!(
        (check.action.as_str(), check.outcome.as_str()),
        ("vault.check", "failure")
    );
    assert_eq!(check.details["problems"]["audit_truncated"], 1, "{check:?}");
    for i in 0..4 {
        let k = v
            .create_api_key(NewApiKey {
                name: format!("later-{i}"),
                ..Default::default()
            })
            .unwrap();
        v.reveal(&k.id, None).unwrap();
        let report = v.check(false).unwrap();
        assert!(
            report.problems.iter().any(|p| p.kind == "audit_truncated"),
            "round {i}: {report:?}"
        );
        let chain = v.audit_verify().unwrap();
        let broken = chain.first_broken.expect("truncation hidden");
        assert_eq!(broken.seq, 6, "round {i}: {broken:?}");
        assert_eq!(
            checkpoint_bytes(&fx),
            anchored,
            "round {i}: checkpoint moved"
        );
    }
    // The log has grown well past #6: a new handle sees the same.
    assert!(v.audit_list(&AuditFilter::default()).unwrap().len() > 10);
    drop(v);
    let (seq, why) = fx.broken_at().expect("truncation hidden");
    assert_eq!(seq, 6);
    assert!(why.contains("removed or rewritten"), "{why}");
    // Only an explicit repair moves it, and records what it said.
    let repaired = fx.vault().check(true).unwrap();
    assert!(repaired.consistent, "{repaired:?}");
    assert_ne!(checkpoint_bytes(&fx), anchored);
    assert!(fx.broken_at().is_none());
}

/// A deleted checkpoint file is not recreated by the next change (that
/// would accept whatever the log says now); `vault check --repair` does it,
/// recorded as a repair. Intact vaults keep their checkpoint moving.
#[test]
fn a_deleted_checkpoint_comes_back_only_through_repair() {
    let fx = Fx::filled(2);
    let before = checkpoint_bytes(&fx);
    let mut v = fx.vault();
    v.create_api_key(NewApiKey {
        name: "moves".into(),
        ..Default::default()
    })
    .unwrap();
    assert_ne!(
        checkpoint_bytes(&fx),
        before,
        "an intact chain's checkpoint advances"
    );
    std::fs::remove_file(fx.path.join("audit.checkpoint")).unwrap();
    v.create_api_key(NewApiKey {
        name: "after".into(),
        ..Default::default()
    })
    .unwrap();
    let report = v.check(false).unwrap();
    assert_eq!(
        report
            .problems
            .iter()
            .map(|p| p.kind.as_str())
            .collect::<Vec<_>>(),
        ["audit_checkpoint"]
    );
    assert!(!fx.path.join("audit.checkpoint").exists());
    let repaired = v.check(true).unwrap();
    assert!(repaired.consistent, "{repaired:?}");
    let events = v.audit_list(&AuditFilter::default()).unwrap();
    let tail: Vec<(&str, &str)> = events[events.len() - 3..]
        .iter()
        .map(|e| (e.action.as_str(), e.outcome.as_str()))
        .collect();
    assert_eq!(
        tail,
        [
            ("vault.check", "failure"),
            ("vault.repair", "success"),
            ("vault.check", "success")
        ]
    );
    assert_eq!(events.last().unwrap().details["repaired"], 1);
    assert!(v.audit_verify().unwrap().intact);
}

/// `vault.create` opens every log; `vault check` is one event with counts
/// per kind of problem, never more.
#[test]
fn vault_create_and_vault_check_are_recorded() {
    let fx = Fx::new();
    let v = fx.vault();
    let first = v.audit_list(&AuditFilter::default()).unwrap();
    assert_eq!(first.len(), 1);
    assert_eq!(
        (
            first[0].seq,
            first[0].action.as_str(),
            first[0].source.as_str()
        ),
        (1, "vault.create", "cli")
    );
    assert_eq!(first[0].details["vault_id"], v.id());
    // Opening again creates nothing.
    drop(v);
    let mut v = fx.vault();
    assert_eq!(v.audit_list(&AuditFilter::default()).unwrap().len(), 1);
    let report = v.check(false).unwrap();
    assert!(report.consistent, "{report:?}");
    let e = last_event(&v);
    assert_eq!(
        (e.action.as_str(), e.outcome.as_str()),
        ("vault.check", "success")
    );
    assert_eq!(e.details["problems"], serde_json::json!({}));
    assert_eq!(e.details["repair"], false);
    assert!(v.audit_verify().unwrap().intact);
}

/// The desktop's session open is recorded; so is its failure once the
/// database is readable (here: the checkpoint MAC key gone from the
/// keychain), with the error's code.
#[test]
fn a_session_open_and_its_failure_are_recorded() {
    use keyward_core::secrets::keychain::KeychainStore;
    use keyward_core::secrets::SecretStore;
    let fx = Fx::filled(1);
    let open = || {
        Vault::open_session(
            VaultOptions::new(&fx.path, Source::Desktop).with_clock(fx.clock.clone()),
        )
    };
    let v = open().unwrap();
    let e = last_event(&v);
    assert_eq!(
        (e.action.as_str(), e.outcome.as_str(), e.source.as_str()),
        ("vault.open", "success", "desktop")
    );
    let id = v.id().to_string();
    drop(v);
    let store = KeychainStore::new(&id);
    let mac = store.get("audit/mac-key").unwrap().unwrap();
    store.delete("audit/mac-key").unwrap();
    let err = open().err().expect("opened without the checkpoint key");
    assert_eq!(err.code(), "keychain_unavailable");
    store.put("audit/mac-key", &mac).unwrap();
    let v = fx.vault();
    let e = last_event(&v);
    assert_eq!(
        (e.action.as_str(), e.outcome.as_str()),
        ("vault.open", "failure")
    );
    assert_eq!(e.details["error"], "keychain_unavailable");
    assert!(v.audit_verify().unwrap().intact);
}

/// A copy to the clipboard is its own action, not a reveal.
#[test]
fn a_copy_is_audited_as_key_copy() {
    use keyward_core::vault::SecretUse;
    let fx = Fx::new();
    let mut v = fx.vault();
    let k = v
        .create_api_key(NewApiKey {
            name: "copied".into(),
            ..Default::default()
        })
        .unwrap();
    let copied = v.reveal_for(&k.id, None, SecretUse::Copy).unwrap();
    assert_eq!(copied.expose(), v.reveal(&k.id, None).unwrap().expose());
    let actions: Vec<String> = v
        .audit_list(&AuditFilter {
            key_id: Some(k.id.clone()),
            ..Default::default()
        })
        .unwrap()
        .into_iter()
        .map(|e| e.action)
        .collect();
    assert_eq!(actions, ["key.create", "key.copy", "key.reveal"]);
}

/// `audit export` to a file: complete or absent, never over an existing file.
#[test]
fn an_export_file_is_complete_or_absent() {
    let fx = Fx::filled(2);
    let mut v = fx.vault();
    let out = tempfile::tempdir().unwrap();
    let path = out.path().join("log.jsonl");
    let s = v.audit_export_file(ExportFormat::Jsonl, &path).unwrap();
    let text = std::fs::read_to_string(&path).unwrap();
    assert_eq!(text.lines().count() as i64, s.events + s.checkpoints as i64);
    let again = v.audit_export_file(ExportFormat::Json, &path).unwrap_err();
    assert_eq!(again.code(), "unwritable_file");
    assert_eq!(std::fs::read_to_string(&path).unwrap(), text);
    // Nothing else is left beside it (no temporary file).
    let names: Vec<_> = std::fs::read_dir(out.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names, [std::ffi::OsString::from("log.jsonl")]);
}
