//! `vault check [--repair]`: compares the database with the secret store and
//! the audit chain, and finishes what crashed operations left behind (see the
//! protocol in [`super::lifecycle`]).

use super::audit_log::{AUDIT_KEY_ENTRY, AUDIT_MAC_ENTRY};
use super::Vault;
use crate::audit::Outcome;
use crate::db::Transaction;
use crate::duration::rfc3339;
use crate::error::Result;
use crate::secrets::entry_name;
use chrono::{DateTime, Utc};
use rusqlite::params;
use serde::{Deserialize, Serialize};
use serde_json::json;
use std::collections::BTreeSet;

/// One inconsistency. It names keys, versions and keychain entries, never
/// secret material: the desktop shows it as is.
#[derive(Debug, Clone, Serialize, Deserialize, ts_rs::TS)]
pub struct Problem {
    /// `unfinished_operation`, `orphan_entry`, `missing_secret`, `audit_chain`,
    /// `audit_checkpoint`, `audit_truncated`, `team_stale`, ...
    pub kind: String,
    pub key_id: Option<String>,
    pub version: Option<u32>,
    pub entry: Option<String>,
    pub detail: String,
    /// What `--repair` does (or why it cannot).
    pub repair: String,
    /// Whether `--repair` can fix it.
    pub repairable: bool,
}

/// The outcome of `vault check`.
#[derive(Debug, Clone, Serialize, ts_rs::TS)]
pub struct CheckReport {
    pub consistent: bool,
    pub problems: Vec<Problem>,
    /// What `--repair` did.
    pub repaired: Vec<String>,
    /// Operations another live process is running now (not problems).
    pub in_progress: Vec<String>,
    pub keychain_enumerated: bool,
    pub versions_checked: usize,
    pub audit_events: i64,
}

struct Intent {
    id: i64,
    op: String,
    key_id: String,
    version: u32,
    entry: String,
    pid: u32,
    started_at: String,
}

/// An operation is still running when its process lives and it started
/// recently (a reused pid long after a crash does not count).
fn is_live(intent: &Intent, now: DateTime<Utc>) -> bool {
    let recent = DateTime::parse_from_rfc3339(&intent.started_at)
        .map(|t| now - t.with_timezone(&Utc) < chrono::Duration::minutes(10))
        .unwrap_or(false);
    recent && intent.pid != std::process::id() && process_exists(intent.pid)
}

#[cfg(target_os = "linux")]
fn process_exists(pid: u32) -> bool {
    std::path::Path::new(&format!("/proc/{pid}")).exists()
}

#[cfg(not(target_os = "linux"))]
fn process_exists(_pid: u32) -> bool {
    // Without a cheap liveness test, trust the start time alone.
    true
}

impl Vault {
    /// Checks the vault; with `repair`, fixes what can be fixed and checks
    /// again. Records one `vault.check` event: success when consistent,
    /// failure with the count of each kind of problem otherwise, or the
    /// error that stopped the check. Each repair is its own `vault.repair`.
    ///
    /// Appending the event never hides what the check found: the audit
    /// checkpoint only advances along a chain that still extends it
    /// (see `advance_checkpoint`).
    pub fn check(&mut self, repair: bool) -> Result<CheckReport> {
        let report = match self.check_and_repair(repair) {
            Ok(r) => r,
            Err(e) => {
                self.record_failure("vault.check", None, &e);
                return Err(e);
            }
        };
        let mut problems = serde_json::Map::new();
        for p in &report.problems {
            let n = problems.get(&p.kind).and_then(|v| v.as_u64()).unwrap_or(0);
            problems.insert(p.kind.clone(), json!(n + 1));
        }
        let outcome = if report.consistent {
            Outcome::Success
        } else {
            Outcome::Failure
        };
        let tx = Transaction::immediate(&self.conn)?;
        self.record(
            &tx,
            "vault.check",
            None,
            outcome,
            json!({
                "repair": repair,
                "problems": problems,
                "repaired": report.repaired.len(),
                "in_progress": report.in_progress.len(),
                "versions_checked": report.versions_checked,
            }),
        )?;
        self.commit(tx)?;
        Ok(report)
    }

    /// Repairs only what the user confirmed: `confirmed` is the list of
    /// repairable problems an earlier check showed. When a fresh check finds
    /// a repairable problem that list lacks (a crash since, an audit log
    /// that now looks truncated), nothing is repaired and a
    /// `vault_changed` conflict asks for a new check; otherwise this is
    /// `check(true)`. Problems fixed meanwhile are simply gone.
    pub fn repair_confirmed(&mut self, confirmed: &[Problem]) -> Result<CheckReport> {
        let same = |a: &Problem, b: &Problem| {
            a.kind == b.kind && a.key_id == b.key_id && a.version == b.version && a.entry == b.entry
        };
        let now = match self.inspect_consistency() {
            Ok(r) => r,
            Err(e) => {
                self.record_failure("vault.check", None, &e);
                return Err(e);
            }
        };
        let unconfirmed = now
            .problems
            .iter()
            .filter(|p| p.repairable && !confirmed.iter().any(|c| same(c, p)))
            .count();
        if unconfirmed > 0 {
            let e = crate::Error::conflict(
                "vault_changed",
                format!("the vault changed since it was checked ({unconfirmed} new repairable problem(s)): nothing was repaired; check again and review the list"),
            );
            self.record_failure("vault.check", None, &e);
            return Err(e);
        }
        self.check(true)
    }

    fn check_and_repair(&mut self, repair: bool) -> Result<CheckReport> {
        if !repair {
            return self.inspect_consistency();
        }
        // A team vault first reloads every key from OpenBao (vault/team.rs):
        // an intent whose document shows it finished is dropped, not rolled back.
        let reloaded = self.team_pull(true)?;
        let before = self.inspect_consistency()?;
        let mut repaired: Vec<String> = reloaded
            .changed
            .iter()
            .map(|id| format!("reloaded {id} from OpenBao"))
            .collect();
        for p in before.problems.iter().filter(|p| p.repairable) {
            repaired.push(self.repair(p)?);
        }
        let mut after = self.inspect_consistency()?;
        after.repaired = repaired;
        Ok(after)
    }

    fn inspect_consistency(&self) -> Result<CheckReport> {
        self.store.probe()?;
        // Enumerate the keychain before reading the database: an entry seen
        // here was preceded by its committed intent, so the database read
        // below sees either that intent or the committed row.
        let listed = self.store.list()?;
        let now = self.clock.now();
        let intents = self.intents()?;
        let owned: Vec<(String, u32)> = {
            let mut stmt = self.conn.prepare(
                "SELECT key_id, version FROM key_versions WHERE has_secret = 1 AND state != 'destroyed' ORDER BY key_id, version",
            )?;
            let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
            rows.collect::<rusqlite::Result<Vec<_>>>()?
        };
        let mut problems = Vec::new();
        let mut in_progress = Vec::new();
        let mut intent_entries = BTreeSet::new();
        for i in &intents {
            intent_entries.insert(i.entry.clone());
            if is_live(i, now) {
                in_progress.push(format!(
                    "{} of {} v{} by process {}",
                    i.op, i.key_id, i.version, i.pid
                ));
                continue;
            }
            let repair = if i.op == "destroy" {
                format!(
                    "finish destroying {} v{}: delete keychain entry {} and keep the tombstone row",
                    i.key_id, i.version, i.entry
                )
            } else {
                format!("roll back the unfinished {} of {} v{}: delete keychain entry {} if present (the new version was never handed out)", i.op, i.key_id, i.version, i.entry)
            };
            problems.push(Problem {
                kind: "unfinished_operation".into(),
                key_id: Some(i.key_id.clone()),
                version: Some(i.version),
                entry: Some(i.entry.clone()),
                detail: format!(
                    "an interrupted {} of {} v{} (started {} by process {})",
                    i.op, i.key_id, i.version, i.started_at, i.pid
                ),
                repair,
                repairable: true,
            });
        }
        let mut owned_entries: BTreeSet<String> =
            owned.iter().map(|(k, v)| entry_name(k, *v)).collect();
        // The audit signing key is the vault's own entry: never an orphan.
        owned_entries.insert(AUDIT_KEY_ENTRY.to_string());
        owned_entries.insert(AUDIT_MAC_ENTRY.to_string());
        let keychain_enumerated = listed.is_some();
        match &listed {
            Some(entries) => {
                let present: BTreeSet<&String> = entries.iter().collect();
                // An interrupted destroy may already have deleted its entry.
                let absent: Vec<(&String, u32, String)> = owned
                    .iter()
                    .map(|(k, v)| (k, *v, entry_name(k, *v)))
                    .filter(|(_, _, e)| !present.contains(e) && !intent_entries.contains(e))
                    .collect();
                // A create that committed between the listing and the
                // database read wrote its entry after the listing: look
                // again before calling a secret lost.
                let relisted = match absent.is_empty() {
                    true => None,
                    false => self.store.list()?,
                };
                for (k, v, e) in absent {
                    if relisted.as_ref().is_none_or(|r| !r.contains(&e)) {
                        problems.push(missing(k, v, e));
                    }
                }
                for e in entries {
                    if !owned_entries.contains(e) && !intent_entries.contains(e) {
                        problems.push(Problem {
                            kind: "orphan_entry".into(),
                            key_id: e.split('/').next().map(str::to_string),
                            version: None,
                            entry: Some(e.clone()),
                            detail: format!(
                                "keychain entry {e} belongs to no key version of this vault"
                            ),
                            repair: format!("delete keychain entry {e}"),
                            repairable: true,
                        });
                    }
                }
            }
            None => {
                for (k, v) in &owned {
                    let e = entry_name(k, *v);
                    if !intent_entries.contains(&e) && self.store.get(&e)?.is_none() {
                        problems.push(missing(k, *v, e));
                    }
                }
            }
        }
        problems.extend(self.team_problems()?);
        let (chain, in_db) = self.audit_verify_located()?;
        if let Some(b) = &chain.first_broken {
            problems.push(Self::audit_problem(b, in_db, chain.last_seq.unwrap_or(0)));
        }
        Ok(CheckReport {
            consistent: problems.is_empty(),
            problems,
            repaired: Vec::new(),
            in_progress,
            keychain_enumerated,
            versions_checked: owned.len(),
            audit_events: chain.events,
        })
    }

    /// What is wrong with the audit log, and whether repair may touch it.
    /// A break inside the database's chain (an edited, inserted, deleted or
    /// reordered event, a replaced archive base) is never repairable: the
    /// log is never rewritten. When the chain in the database is intact and
    /// only the checkpoint outside it disagrees, the newest events were
    /// removed or rewritten, or an older copy of vault.db was restored from
    /// a backup; repair may accept the log as it is, keeping what the
    /// checkpoint said in the `vault.repair` event.
    fn audit_problem(b: &crate::audit::log::BrokenLink, in_db: bool, end: i64) -> Problem {
        let problem = |kind: &str, detail: String, repair: String, repairable: bool| Problem {
            kind: kind.into(),
            key_id: None,
            version: None,
            entry: None,
            detail,
            repair,
            repairable,
        };
        if in_db {
            problem(
                "audit_chain",
                format!("the audit chain is broken at event #{}: {}", b.seq, b.problem),
                "none: the audit log is never rewritten; restore the database from a backup and keep this copy as evidence".into(),
                false,
            )
        } else if b
            .problem
            .contains("checkpoint file outside the database is missing")
        {
            problem(
                "audit_checkpoint",
                format!(
                    "the audit chain is intact up to event #{end}, but {}",
                    b.problem
                ),
                format!(
                    "record event #{end} as the audit checkpoint (accepts the log as it is now)"
                ),
                true,
            )
        } else {
            problem(
                "audit_truncated",
                format!("the audit chain in the database is intact up to event #{end}, but {} (restoring an older vault.db from a backup looks the same)", b.problem),
                "only if vault.db was restored from a backup: accept the log as it is, recording in a vault.repair event what the checkpoint said, and anchor the checkpoint at the log's end; otherwise keep a copy of vault.db as evidence before repairing".into(),
                true,
            )
        }
    }

    fn intents(&self) -> Result<Vec<Intent>> {
        let mut stmt = self.conn.prepare(
            "SELECT id, op, key_id, version, entry, pid, started_at FROM pending_ops ORDER BY id",
        )?;
        let rows = stmt.query_map([], |r| {
            Ok(Intent {
                id: r.get(0)?,
                op: r.get(1)?,
                key_id: r.get(2)?,
                version: r.get(3)?,
                entry: r.get(4)?,
                pid: r.get(5)?,
                started_at: r.get(6)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
    }

    fn repair(&mut self, p: &Problem) -> Result<String> {
        let entry = p.entry.clone().unwrap_or_default();
        match p.kind.as_str() {
            "orphan_entry" => {
                self.store.delete(&entry)?;
                crate::failpoint::hit("repair.after_keychain");
                let tx = Transaction::immediate(&self.conn)?;
                self.record(
                    &tx,
                    "vault.repair",
                    None,
                    Outcome::Success,
                    json!({"problem": "orphan_entry", "entry": entry, "action": "deleted"}),
                )?;
                self.commit(tx)?;
                Ok(format!("deleted orphan keychain entry {entry}"))
            }
            "unfinished_operation" => {
                let intent = self
                    .intents()?
                    .into_iter()
                    .find(|i| i.entry == entry && Some(i.version) == p.version)
                    .ok_or_else(|| {
                        crate::Error::conflict(
                            "concurrent_change",
                            "the unfinished operation changed during repair: run vault check again",
                        )
                    })?;
                self.store.delete(&intent.entry)?;
                crate::failpoint::hit("repair.after_keychain");
                let tx = Transaction::immediate(&self.conn)?;
                let key = (intent.key_id.as_str(), Some(intent.version));
                if intent.op == "destroy" {
                    tx.execute("DELETE FROM pending_ops WHERE id = ?1", [intent.id])?;
                    let left: i64 = tx.query_row(
                        "SELECT COUNT(*) FROM pending_ops WHERE op = 'destroy' AND key_id = ?1",
                        [&intent.key_id],
                        |r| r.get(0),
                    )?;
                    tx.execute(
                        "UPDATE key_versions SET state = 'destroyed', prior_state = NULL, has_secret = 0 WHERE key_id = ?1 AND version = ?2",
                        params![intent.key_id, intent.version],
                    )?;
                    if left == 0 {
                        let name: String = tx.query_row(
                            "SELECT name FROM keys WHERE id = ?1",
                            [&intent.key_id],
                            |r| r.get(0),
                        )?;
                        self.finish_destroy(&tx, &intent.key_id, &name)?;
                    }
                    self.record(&tx, "vault.repair", Some(key), Outcome::Success, json!({"problem": "unfinished_operation", "op": "destroy", "action": "rolled forward"}))?;
                } else {
                    tx.execute("DELETE FROM pending_ops WHERE id = ?1", [intent.id])?;
                    self.record(&tx, "vault.repair", Some(key), Outcome::Success, json!({"problem": "unfinished_operation", "op": intent.op, "action": "rolled back"}))?;
                }
                self.commit(tx)?;
                Ok(format!(
                    "{} the interrupted {} of {} v{} ({})",
                    if intent.op == "destroy" {
                        "finished"
                    } else {
                        "rolled back"
                    },
                    intent.op,
                    intent.key_id,
                    intent.version,
                    rfc3339(self.clock.now())
                ))
            }
            "audit_checkpoint" | "audit_truncated" => {
                // The one place a checkpoint is written against what it
                // says: the repair event keeps what it said, then the
                // checkpoint is anchored at the log's end (that event).
                let found = match crate::audit::checkpoint::read(&self.dir) {
                    Ok(Some(cp)) => json!({"seq": cp.seq, "hash": cp.hash}),
                    Ok(None) => json!("missing"),
                    Err(e) => json!(e),
                };
                let action = if p.kind == "audit_checkpoint" {
                    "checkpoint recreated"
                } else {
                    "checkpoint re-anchored: the log is accepted as it is"
                };
                let tx = Transaction::immediate(&self.conn)?;
                self.record(
                    &tx,
                    "vault.repair",
                    None,
                    Outcome::Success,
                    json!({"problem": p.kind, "checkpoint_was": found, "action": action}),
                )?;
                self.commit(tx)?;
                crate::failpoint::hit("repair.before_anchor");
                self.anchor_checkpoint()?;
                Ok(if p.kind == "audit_checkpoint" {
                    "recreated the audit checkpoint file".into()
                } else {
                    "re-anchored the audit checkpoint at the log's end (what it said is kept in the vault.repair event)".into()
                })
            }
            "team_stale" => self.team_repair(p),
            other => Ok(format!("nothing done for {other}")),
        }
    }
}

fn missing(key_id: &str, version: u32, entry: String) -> Problem {
    Problem {
        kind: "missing_secret".into(),
        key_id: Some(key_id.to_string()),
        version: Some(version),
        detail: format!("the keychain has no entry {entry} for {key_id} v{version}"),
        repair: format!("none automatically: restore the keychain from a backup, or revoke the version (keyward key revoke {key_id} --version {version} --reason lost)"),
        entry: Some(entry),
        repairable: false,
    }
}
