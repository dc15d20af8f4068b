//! The vault's side of team vaults on OpenBao (see [`crate::team`]).
//!
//! - **Write path**: `record()` notes each key a transaction touches; just
//!   before that transaction commits ([`Vault::commit`]), each touched key's
//!   document is written to OpenBao with check-and-set on the version this
//!   cache last saw. A mismatch means someone else changed the key: the
//!   error rolls the local transaction back, so of two clients changing a
//!   key at once exactly one wins. Secrets keep the lifecycle's protocol
//!   (intent → secret write → commit), the secret write being create-only.
//! - **Read path**: on open, the change feed says which documents changed
//!   since the last pull; they replace the local rows. A crash between a
//!   document write and the local commit leaves this cache behind OpenBao:
//!   the next pull (or `vault check --repair`) brings it level, and an
//!   intent the document shows finished is dropped, not rolled back.
//! - **Transit custody**: signing keys created, rotated and used inside
//!   OpenBao's transit engine; reveal and private export are refused.
//!
//! Never sends a secret anywhere but the store, and never records one.

use super::lifecycle::{insert_version, positive, validate_name, validate_scopes, VersionMeta};
use super::model::{resolve, KeyRow};
use super::{CreatedSigningKey, NewSigningKey, Problem, Rotated, Vault};
use crate::audit::Outcome;
use crate::crypto::{Alg, KeyFamily};
use crate::db::Transaction;
use crate::duration::rfc3339;
use crate::error::{Error, Result};
use crate::jwt::{self, SignRequest, SignedToken};
use crate::keys::state::KeyState;
use crate::team::doc::KeyDoc;
use crate::team::{transit, BackendStatus, TeamLink};
use chrono::{DateTime, Duration, Utc};
use rusqlite::{params, Connection, OptionalExtension};
use serde::Serialize;
use serde_json::json;
use std::cell::{Cell, RefCell};
use std::collections::BTreeSet;
use std::sync::Arc;

/// How many change-feed versions a client reads one by one before it
/// rescans every document instead.
const FEED_CATCH_UP: u64 = 200;

/// The team side of an open vault.
pub(crate) struct TeamState {
    pub link: Arc<TeamLink>,
    /// Keys touched by `record()` since the last commit.
    touched: RefCell<BTreeSet<String>>,
    /// Set while a document write may have reached OpenBao but the local
    /// commit has not happened: a failure then must not roll back secrets.
    in_doubt: Cell<bool>,
}

impl TeamState {
    pub(crate) fn new(link: Arc<TeamLink>) -> Self {
        TeamState {
            link,
            touched: RefCell::new(BTreeSet::new()),
            in_doubt: Cell::new(false),
        }
    }
}

/// Who changed a key last.
#[derive(Debug, Clone, Serialize, ts_rs::TS)]
pub struct LastChange {
    pub key_id: String,
    pub by: Option<String>,
    pub at: Option<String>,
    /// The document's KV v2 version (0 when `source` is the audit log).
    #[ts(type = "number")]
    pub version: u64,
    /// Where this comes from.
    pub source: ChangeSource,
}

/// Where a [`LastChange`] was read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ts_rs::TS)]
#[serde(rename_all = "lowercase")]
pub enum ChangeSource {
    /// The key's document in OpenBao (team vaults): the team's view.
    Openbao,
    /// This vault's audit log (personal vaults).
    Audit,
}

/// What a pull brought in.
#[derive(Debug, Clone, Default, Serialize)]
pub struct PullReport {
    pub changed: Vec<String>,
    /// Documents that could not be applied, with why.
    pub skipped: Vec<String>,
}

/// What a folder held before a join, so that a failed join can put it
/// back: only what appeared during the join is removed.
struct JoinFootprint {
    dir: std::path::PathBuf,
    /// The folder's entries before the join.
    entries: BTreeSet<std::ffi::OsString>,
    /// The folder and those of its parents that did not exist, deepest first.
    missing: Vec<std::path::PathBuf>,
}

impl JoinFootprint {
    /// `None` when `dir` already holds a vault (personal or team): a
    /// failed join then leaves everything as it is.
    fn before(dir: &std::path::Path) -> Option<JoinFootprint> {
        if dir.join("vault.db").exists() || dir.join(crate::team::CONFIG_FILE).exists() {
            return None;
        }
        let missing = dir
            .ancestors()
            .take_while(|a| !a.as_os_str().is_empty() && !a.exists())
            .map(|a| a.to_path_buf())
            .collect();
        let entries = std::fs::read_dir(dir)
            .map(|rd| rd.flatten().map(|e| e.file_name()).collect())
            .unwrap_or_default();
        Some(JoinFootprint {
            dir: dir.to_path_buf(),
            entries,
            missing,
        })
    }

    /// Best effort: removes the files that appeared in the folder, the
    /// folders the join created (when empty) and the keychain entries of
    /// the vault it created. A subfolder that appeared is kept, and so is
    /// every folder that is not empty.
    fn undo(self, fresh_id: Option<&str>) {
        if let Some(id) = fresh_id {
            use crate::secrets::SecretStore;
            let keychain = crate::secrets::keychain::KeychainStore::new(id);
            for entry in [
                crate::team::TOKEN_ENTRY,
                crate::team::SECRET_ID_ENTRY,
                super::audit_log::AUDIT_MAC_ENTRY,
                super::audit_log::AUDIT_KEY_ENTRY,
            ] {
                let _ = keychain.delete(entry);
            }
        }
        if let Ok(rd) = std::fs::read_dir(&self.dir) {
            for e in rd.flatten() {
                let new = !self.entries.contains(&e.file_name());
                if new && e.file_type().is_ok_and(|t| !t.is_dir()) {
                    let _ = std::fs::remove_file(e.path());
                }
            }
        }
        for dir in &self.missing {
            if std::fs::remove_dir(dir).is_err() {
                break;
            }
        }
    }
}

fn stale_message(name: &str) -> Error {
    Error::conflict(
        "changed_elsewhere",
        format!("{name} was changed by someone else: run `keyward vault check --repair` to reload, then retry"),
    )
}

impl Vault {
    /// `vault init --backend openbao`: makes the vault in `dir` a client of
    /// the team vault in OpenBao (created there if new), then opens it, which
    /// pulls every key. Refused for a directory holding personal keys (their
    /// secrets are in the keychain, not in OpenBao) and for one that is a
    /// client of another team; run again with a new credential to replace it.
    ///
    /// A join that fails leaves the folder as it found it: what the join
    /// made there (the folder itself, the database, `team.json`, the
    /// keychain entries of the new vault's id) is removed, and nothing
    /// that was there before is touched. A folder that already held a
    /// vault is left alone.
    pub fn init_team(
        opts: super::VaultOptions,
        req: crate::team::InitRequest,
    ) -> Result<(Vault, crate::team::InitReport)> {
        let footprint = JoinFootprint::before(&opts.dir);
        let mut fresh_id = None;
        let joined = Vault::join_team(opts, req, &mut fresh_id);
        if joined.is_err() {
            if let Some(f) = footprint {
                f.undo(fresh_id.as_deref());
            }
        }
        joined
    }

    /// [`Vault::init_team`] without the undo; `fresh_id` gets the id of
    /// the vault it creates in the folder, if it does.
    fn join_team(
        opts: super::VaultOptions,
        req: crate::team::InitRequest,
        fresh_id: &mut Option<String>,
    ) -> Result<(Vault, crate::team::InitReport)> {
        let dir = opts.dir.clone();
        let existing = crate::team::TeamConfig::load(&dir)?;
        let client_id = match &existing {
            Some(c) => {
                let same = c.addr.trim_end_matches('/') == req.addr.trim_end_matches('/')
                    && c.team == req.team
                    && c.mount == req.mount.trim_matches('/');
                if !same {
                    return Err(Error::conflict(
                        "other_team",
                        format!(
                            "{} is already a client of team {:?} at {} (mount {}): use another --vault directory for another team",
                            dir.display(),
                            c.team,
                            c.addr,
                            c.mount
                        ),
                    ));
                }
                c.client_id.clone()
            }
            None => {
                super::ensure_dir(&dir)?;
                let personal = Vault::open(super::VaultOptions::new(&dir, opts.source))?;
                *fresh_id = Some(personal.vault_id.clone());
                let keys: i64 = personal
                    .conn
                    .query_row("SELECT COUNT(*) FROM keys", [], |r| r.get(0))?;
                if keys > 0 {
                    return Err(Error::conflict(
                        "personal_keys",
                        format!(
                            "{} holds {keys} personal key(s) kept in the OS keychain: initialise the team vault in a new directory (--vault DIR)",
                            dir.display()
                        ),
                    ));
                }
                personal.vault_id.clone()
            }
        };
        let report = crate::team::init(&dir, &client_id, req)?;
        let vault = Vault::open(opts)?;
        let tx = Transaction::immediate(&vault.conn)?;
        vault.record(
            &tx,
            "team.init",
            None,
            Outcome::Success,
            json!({"addr": report.addr, "team": report.team, "mount": report.mount, "team_vault_id": report.team_vault_id, "created": report.created, "auth": report.auth, "audit_device": report.audit_device}),
        )?;
        vault.commit(tx)?;
        Ok((vault, report))
    }

    /// Whether this is a team vault.
    pub fn is_team(&self) -> bool {
        self.team.is_some()
    }

    fn team_link(&self) -> Result<Arc<TeamLink>> {
        self.team.as_ref().map(|t| t.link.clone()).ok_or_else(|| {
            Error::invalid(
                "not_team_vault",
                "this needs a team vault on OpenBao: run `keyward vault init --backend openbao --addr URL --token-file PATH` in a new vault directory",
            )
        })
    }

    /// Notes that the current transaction changed `key_id` (from `record()`).
    pub(crate) fn team_touch(&self, key_id: &str) {
        if let Some(t) = &self.team {
            t.touched.borrow_mut().insert(key_id.to_string());
        }
    }

    /// Whether the last failed commit may have written a key document to
    /// OpenBao (so the local failure is not the whole truth).
    pub(crate) fn team_in_doubt(&self) -> bool {
        self.team.as_ref().is_some_and(|t| t.in_doubt.get())
    }

    /// Just before `tx` commits: writes the document of every key it
    /// changed, with check-and-set. An error rolls `tx` back. From the
    /// first write until the local commit the outcome is "in doubt": a
    /// failure must not roll secrets back (`vault check --repair` settles it).
    pub(crate) fn team_before_commit(&self, tx: &Connection) -> Result<()> {
        let Some(team) = &self.team else {
            return Ok(());
        };
        team.in_doubt.set(false);
        let touched = std::mem::take(&mut *team.touched.borrow_mut());
        let mut written = Vec::new();
        for key_id in touched {
            let Some(doc) = KeyDoc::read(tx, &key_id)? else {
                continue;
            };
            let hash = doc.hash();
            let synced: Option<(i64, String)> = tx
                .query_row(
                    "SELECT kv_version, doc_hash FROM team_sync WHERE key_id = ?1",
                    [&key_id],
                    |r| Ok((r.get(0)?, r.get(1)?)),
                )
                .optional()?;
            if synced.as_ref().is_some_and(|s| s.1 == hash) {
                continue;
            }
            let cas = synced.map(|s| s.0 as u64).unwrap_or(0);
            if cas == 0 {
                self.claim_name(&team.link, &key_id, doc.name())?;
            }
            let at = rfc3339(self.clock.now());
            let body = doc.to_json(&self.actor, &team.link.config.client_id, &at);
            let rel = format!("keys/{key_id}");
            crate::failpoint::hit("team.before_document");
            team.in_doubt.set(true);
            let doubt = |e: Error| {
                if crate::team::client::refused(&e) {
                    // A definite refusal: this document did not change
                    // (only ones written before it in this commit did).
                    team.in_doubt.set(!written.is_empty());
                    return e;
                }
                match e {
                    Error::SecretStore(m) => Error::SecretStore(format!(
                        "{m} (the change to {} may have reached OpenBao: `keyward vault check --repair` settles it)",
                        doc.name()
                    )),
                    e => e,
                }
            };
            let version = match team
                .link
                .write_cas(&rel, &body, cas, "write a key's document")
                .map_err(doubt)?
            {
                Some(v) => v,
                // A retry of a write that had landed finds our own document.
                None => match team
                    .link
                    .read(&rel, "read a key's document")
                    .map_err(doubt)?
                {
                    Some((d, v)) if KeyDoc::from_json(&d).is_ok_and(|x| x.hash() == hash) => v,
                    _ => {
                        // A definite refusal: this document did not change
                        // (only ones written before it in this commit did).
                        team.in_doubt.set(!written.is_empty());
                        return Err(stale_message(doc.name()));
                    }
                },
            };
            crate::failpoint::hit("team.after_document");
            tx.execute(
                "INSERT INTO team_sync (key_id, kv_version, doc_hash, updated_by, updated_at) VALUES (?1, ?2, ?3, ?4, ?5)
                 ON CONFLICT(key_id) DO UPDATE SET kv_version = excluded.kv_version, doc_hash = excluded.doc_hash,
                     updated_by = excluded.updated_by, updated_at = excluded.updated_at",
                params![key_id, version as i64, hash, self.actor, at],
            )?;
            written.push(key_id);
        }
        if !written.is_empty() {
            team.link.announce(&written);
        }
        Ok(())
    }

    /// Claims a new key's name for the team (`names/<name>`, check-and-set
    /// 0), so two members creating the same name at once cannot both
    /// succeed. A claim whose key was destroyed, or that has no document
    /// and is older than a minute (its creator crashed) or is this
    /// client's own, is taken over.
    fn claim_name(&self, link: &TeamLink, key_id: &str, name: &str) -> Result<()> {
        use base64::Engine;
        let rel = format!(
            "names/{}",
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(name.as_bytes())
        );
        let now = self.clock.now();
        let claim = json!({
            "key_id": key_id,
            "client": link.config.client_id,
            "claimed_at": rfc3339(now),
        });
        let taken = || {
            Error::conflict(
                "duplicate_name",
                format!("a key named {name:?} already exists in the team: choose another --name"),
            )
        };
        for _ in 0..3 {
            let cas = match link.read(&rel, "read a key name's claim")? {
                None => 0,
                Some((held, version)) => {
                    let owner = held.get("key_id").and_then(|v| v.as_str()).unwrap_or("");
                    if owner == key_id {
                        return Ok(());
                    }
                    match link.read(&format!("keys/{owner}"), "read a key's document")? {
                        Some((doc, _)) => {
                            let destroyed = KeyDoc::from_json(&doc)?
                                .key
                                .get("destroyed_at")
                                .is_some_and(|d| !d.is_null());
                            if !destroyed {
                                return Err(taken());
                            }
                        }
                        None => {
                            let mine = held.get("client").and_then(|v| v.as_str())
                                == Some(link.config.client_id.as_str());
                            let fresh = held
                                .get("claimed_at")
                                .and_then(|v| v.as_str())
                                .and_then(|t| super::model::parse_ts(Some(t)))
                                .is_some_and(|t| now - t < Duration::minutes(1));
                            if fresh && !mine {
                                return Err(Error::conflict(
                                    "duplicate_name",
                                    format!("a key named {name:?} is being created by someone else right now: choose another --name, or retry in a minute"),
                                ));
                            }
                        }
                    }
                    version
                }
            };
            if link
                .write_cas(&rel, &claim, cas, "claim a key name")?
                .is_some()
            {
                return Ok(());
            }
        }
        Err(taken())
    }

    /// Catches up with the team: applies the documents changed since the
    /// last pull (all of them with `full`).
    pub fn team_pull(&self, full: bool) -> Result<PullReport> {
        let Some(team) = &self.team else {
            return Ok(PullReport::default());
        };
        let link = &team.link;
        let head = link.head_version()?;
        let seen: Option<u64> = self
            .conn
            .query_row("SELECT v FROM meta WHERE k = 'team_head'", [], |r| {
                r.get::<_, String>(0)
            })
            .optional()?
            .and_then(|v| v.parse().ok());
        // Keys with an unfinished operation are always re-read: a failure
        // "in doubt" (see `team_before_commit`) may have written their
        // document without announcing it, and the next command must see it.
        let unsettled: BTreeSet<String> = {
            let mut stmt = self
                .conn
                .prepare("SELECT DISTINCT key_id FROM pending_ops")?;
            let rows = stmt.query_map([], |r| r.get::<_, String>(0))?;
            rows.collect::<rusqlite::Result<_>>()?
        };
        if !full && seen == Some(head) && unsettled.is_empty() {
            return Ok(PullReport::default());
        }
        let mut ids: Option<BTreeSet<String>> = None;
        if !full && seen == Some(head) {
            ids = Some(BTreeSet::new());
        } else if let Some(s) = seen.filter(|s| !full && *s < head && head - *s <= FEED_CATCH_UP) {
            let mut set = BTreeSet::new();
            let mut complete = true;
            for v in s + 1..=head {
                match link.head_entry(v)? {
                    Some(keys) => set.extend(keys),
                    None => {
                        complete = false;
                        break;
                    }
                }
            }
            if complete {
                ids = Some(set);
            }
        }
        let mut ids = match ids {
            Some(i) => i,
            None => link.key_ids()?.into_iter().collect(),
        };
        ids.extend(unsettled);
        let mut docs = Vec::new();
        for id in &ids {
            if let Some((data, version)) =
                link.read(&format!("keys/{id}"), "read a key's document")?
            {
                docs.push((id.clone(), data, version));
            }
        }
        let mut report = PullReport::default();
        let tx = Transaction::immediate(&self.conn)?;
        for (id, data, version) in docs {
            let doc = KeyDoc::from_json(&data)?;
            let synced: Option<(i64, String)> = tx
                .query_row(
                    "SELECT kv_version, doc_hash FROM team_sync WHERE key_id = ?1",
                    [&id],
                    |r| Ok((r.get(0)?, r.get(1)?)),
                )
                .optional()?;
            let local_hash = KeyDoc::read(&tx, &id)?.map(|d| d.hash());
            let remote_hash = doc.hash();
            if synced.as_ref().is_some_and(|s| s.0 as u64 == version)
                && local_hash.as_deref() == Some(remote_hash.as_str())
            {
                continue;
            }
            tx.execute_batch("SAVEPOINT team_doc")?;
            match apply_doc(&tx, &id, &doc, version, &data) {
                Ok(()) => {
                    tx.execute_batch("RELEASE team_doc")?;
                    report.changed.push(id);
                }
                Err(e) => {
                    tx.execute_batch("ROLLBACK TO team_doc; RELEASE team_doc")?;
                    report.skipped.push(format!("{} ({id}): {e}", doc.name()));
                }
            }
        }
        tx.execute(
            "INSERT INTO meta (k, v) VALUES ('team_head', ?1) ON CONFLICT(k) DO UPDATE SET v = excluded.v",
            [head.to_string()],
        )?;
        if !report.changed.is_empty() || !report.skipped.is_empty() {
            let mut shown = report.changed.clone();
            shown.truncate(50);
            self.record(
                &tx,
                "team.pull",
                None,
                Outcome::Success,
                json!({"changed": report.changed.len(), "keys": shown, "skipped": report.skipped}),
            )?;
        }
        self.commit(tx)?;
        Ok(report)
    }

    /// The backend's status for the desktop: address, seal, leader, reachability.
    pub fn backend_status(&self) -> BackendStatus {
        crate::team::status(&self.dir)
    }

    /// Who changed a key last, from the last document this client saw.
    pub fn last_change(&self, id: &str) -> Result<Option<LastChange>> {
        let key = resolve(&self.conn, id)?;
        Ok(self
            .conn
            .query_row(
                "SELECT kv_version, updated_by, updated_at FROM team_sync WHERE key_id = ?1",
                [&key.id],
                |r| {
                    Ok(LastChange {
                        key_id: key.id.clone(),
                        version: r.get::<_, i64>(0)? as u64,
                        by: r.get(1)?,
                        at: r.get(2)?,
                        source: ChangeSource::Openbao,
                    })
                },
            )
            .optional()?)
    }

    /// Who changed a key last, for the desktop's key page: a team vault's
    /// document, else the last successful change in the audit log (reveals,
    /// exports and token use are reads, not changes).
    pub fn changed_last(&self, id: &str) -> Result<Option<LastChange>> {
        if self.is_team() {
            return self.last_change(id);
        }
        let key = resolve(&self.conn, id)?;
        Ok(self
            .conn
            .query_row(
                "SELECT actor, at FROM audit WHERE key_id = ?1 AND outcome = 'success'
                   AND action NOT IN ('key.reveal', 'key.copy', 'key.export', 'token.sign', 'token.verify', 'token.revoke')
                 ORDER BY seq DESC LIMIT 1",
                [&key.id],
                |r| {
                    Ok(LastChange {
                        key_id: key.id.clone(),
                        by: r.get(0)?,
                        at: r.get(1)?,
                        version: 0,
                        source: ChangeSource::Audit,
                    })
                },
            )
            .optional()?)
    }

    /// `vault check`'s team part: every document against the local cache.
    pub(crate) fn team_problems(&self) -> Result<Vec<Problem>> {
        let Some(team) = &self.team else {
            return Ok(Vec::new());
        };
        let link = &team.link;
        let mut problems = Vec::new();
        let remote: BTreeSet<String> = link.key_ids()?.into_iter().collect();
        for id in &remote {
            let Some((data, version)) =
                link.read(&format!("keys/{id}"), "read a key's document")?
            else {
                continue;
            };
            let doc = KeyDoc::from_json(&data)?;
            let local = KeyDoc::read(&self.conn, id)?;
            let synced: Option<i64> = self
                .conn
                .query_row(
                    "SELECT kv_version FROM team_sync WHERE key_id = ?1",
                    [id],
                    |r| r.get(0),
                )
                .optional()?;
            let same = local.as_ref().is_some_and(|l| l.hash() == doc.hash());
            if same && synced == Some(version as i64) {
                continue;
            }
            let detail = match (&local, synced) {
                (None, _) => format!("{} ({id}) is in OpenBao but not in this client's cache", doc.name()),
                (Some(_), s) => format!(
                    "the local copy of {} ({id}) differs from OpenBao (document version {version}, cache at {})",
                    doc.name(),
                    s.map_or("none".to_string(), |s| s.to_string())
                ),
            };
            problems.push(Problem {
                kind: "team_stale".into(),
                key_id: Some(id.clone()),
                version: None,
                entry: None,
                detail,
                repair: format!(
                    "reload {} from OpenBao, the team vault's source of truth",
                    doc.name()
                ),
                repairable: true,
            });
        }
        let mut stmt = self.conn.prepare("SELECT id, name FROM keys ORDER BY id")?;
        let local: Vec<(String, String)> = stmt
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
            .collect::<rusqlite::Result<_>>()?;
        for (id, name) in local.into_iter().filter(|(id, _)| !remote.contains(id)) {
            problems.push(Problem {
                kind: "team_local_only".into(),
                key_id: Some(id.clone()),
                version: None,
                entry: None,
                detail: format!("{name} ({id}) is in this client's cache but has no document in OpenBao (removed there, or never shared)"),
                repair: "none automatically: OpenBao is the source of truth; if the key should exist, recreate it".into(),
                repairable: false,
            });
        }
        Ok(problems)
    }

    /// Repairs a `team_stale` problem: reloads the key from OpenBao.
    pub(crate) fn team_repair(&mut self, p: &Problem) -> Result<String> {
        let link = self.team_link()?;
        let id = p.key_id.clone().unwrap_or_default();
        let Some((data, version)) = link.read(&format!("keys/{id}"), "read a key's document")?
        else {
            return Ok(format!("{id} is no longer in OpenBao: nothing reloaded"));
        };
        let doc = KeyDoc::from_json(&data)?;
        let tx = Transaction::immediate(&self.conn)?;
        apply_doc(&tx, &id, &doc, version, &data)?;
        self.record(
            &tx,
            "vault.repair",
            None,
            Outcome::Success,
            json!({"problem": "team_stale", "key": id, "action": "reloaded from OpenBao", "document_version": version}),
        )?;
        self.commit(tx)?;
        Ok(format!(
            "reloaded {} ({id}) from OpenBao (document version {version})",
            doc.name()
        ))
    }

    /// The custody of a key's private half: `None` (the vault's store) or `transit`.
    pub(crate) fn custody(&self, key_id: &str) -> Result<Option<String>> {
        Ok(self
            .conn
            .query_row("SELECT custody FROM keys WHERE id = ?1", [key_id], |r| {
                r.get(0)
            })
            .optional()?
            .flatten())
    }

    /// Refuses to reveal or export the private half of a transit key.
    pub(crate) fn refuse_non_exportable(&self, key: &KeyRow) -> Result<()> {
        match self.custody(&key.id)?.as_deref() {
            Some(c) => Err(Error::invalid(
                "non_exportable",
                format!("{} is non-exportable (custody {c}): its private key never leaves OpenBao; export the public key with --public", key.name),
            )),
            None => Ok(()),
        }
    }

    /// `key new --kind signing --custody transit`: the key is created in
    /// OpenBao's transit engine; only its public key comes out.
    pub fn create_transit_signing_key(&mut self, req: NewSigningKey) -> Result<CreatedSigningKey> {
        validate_name(&req.name)?;
        validate_scopes(&req.scopes)?;
        positive(req.expires_in, "--expires-in")?;
        let link = self.team_link()?;
        if req.bits.is_some() && req.alg.family() != KeyFamily::Rsa {
            return Err(Error::invalid(
                "bad_bits",
                format!("--bits applies to RSA keys only, not {}", req.alg),
            ));
        }
        let kind = transit::key_type(req.alg, req.bits)?;
        self.ensure_name_free(&req.name)?;
        let row = self.signing_row(req.name, req.alg, req.scopes, req.note, req.expires_in)?;
        let name = transit::key_name(&link, &row.id);
        // A crash after this leaves an unused transit key named after a key
        // id no document has: harmless, and never used or published.
        transit::create(&link, &name, kind)?;
        let public = transit::public_key(&link, &name, 1)?;
        let meta = VersionMeta::public(&public);
        let now = rfc3339(self.clock.now());
        let not_after = self.expiry(row.expires_in);
        let tx = Transaction::immediate(&self.conn)?;
        let result = (|| {
            tx.execute(
                "INSERT INTO keys (id, name, kind, alg, family, prefix, scopes, note, created_at, expires_in, custody)
                 VALUES (?1, ?2, 'signing', ?3, ?4, NULL, ?5, ?6, ?7, ?8, 'transit')",
                params![
                    row.id,
                    row.name,
                    req.alg.as_str(),
                    req.alg.family().as_str(),
                    serde_json::to_string(&row.scopes).unwrap_or_else(|_| "[]".into()),
                    row.note,
                    row.created_at,
                    row.expires_in,
                ],
            )?;
            insert_version(
                &tx,
                &row.id,
                1,
                KeyState::Active,
                &now,
                not_after.as_deref(),
                &meta,
            )?;
            tx.execute(
                "UPDATE key_versions SET transit_version = 1 WHERE key_id = ?1 AND version = 1",
                [&row.id],
            )?;
            self.record(
                &tx,
                "key.create",
                Some((&row.id, Some(1))),
                Outcome::Success,
                json!({"kind": "signing", "alg": req.alg.as_str(), "custody": "transit", "transit_key": name, "name": row.name}),
            )?;
            Ok(())
        })();
        let result = result.and_then(|()| self.commit(tx));
        if let Err(e) = &result {
            self.record_failure("key.create", Some((&row.id, Some(1))), e);
        }
        result?;
        Ok(CreatedSigningKey {
            id: row.id,
            name: row.name,
            alg: req.alg.as_str().to_string(),
            version: 1,
            kid: meta.kid.clone().unwrap_or_default(),
            thumbprint: meta.thumbprint.clone(),
            public_only: false,
        })
    }

    /// Destroys a transit key's material in OpenBao (from `key delete`).
    pub(crate) fn destroy_transit(&self, key: &KeyRow) -> Result<()> {
        let link = self.team_link()?;
        transit::delete(&link, &transit::key_name(&link, &key.id))
    }

    /// Signs through transit with the version's own transit version.
    pub(crate) fn transit_sign(
        &self,
        key: &KeyRow,
        version: u32,
        kid: Option<&str>,
        alg: Alg,
        req: SignRequest,
        now: DateTime<Utc>,
    ) -> Result<SignedToken> {
        let link = self.team_link()?;
        let tv: Option<i64> = self.conn.query_row(
            "SELECT transit_version FROM key_versions WHERE key_id = ?1 AND version = ?2",
            params![key.id, version],
            |r| r.get(0),
        )?;
        let tv = tv.ok_or_else(|| {
            Error::Database(format!(
                "{} v{version} has no transit version recorded: run `keyward vault check --repair`",
                key.name
            ))
        })?;
        let tv = tv as u64;
        let name = transit::key_name(&link, &key.id);
        jwt::sign_request_with(alg, kid, req, now, &mut |input| {
            transit::sign(&link, &name, tv, alg, input)
        })
    }

    /// Rotation of a transit key: a new transit version becomes the new
    /// Keyward version (staged or active); the previous one enters grace.
    pub(crate) fn rotate_transit(
        &mut self,
        key: &KeyRow,
        previous: u32,
        grace: Option<Duration>,
        stage: bool,
    ) -> Result<Rotated> {
        let link = self.team_link()?;
        let name = transit::key_name(&link, &key.id);
        let new_version = self.next_version(&key.id)?;
        let grace = grace
            .or(key.grace.map(Duration::seconds))
            .unwrap_or_else(|| Duration::hours(24));
        let now_t = self.clock.now();
        let now = rfc3339(now_t);
        let grace_until = rfc3339(now_t + grace);
        let not_after = self.expiry(key.expires_in);
        let action = if stage { "key.stage" } else { "key.rotate" };
        // A transit version whose document write then loses its race stays
        // unused: signing always names the recorded version.
        let tv = transit::rotate(&link, &name)?;
        let public = transit::public_key(&link, &name, tv)?;
        let meta = VersionMeta::public(&public);
        let result = (|| {
            let tx = Transaction::immediate(&self.conn)?;
            let state: String = tx.query_row(
                "SELECT state FROM key_versions WHERE key_id = ?1 AND version = ?2",
                params![key.id, previous],
                |r| r.get(0),
            )?;
            if state != KeyState::Active.as_str() {
                return Err(Error::conflict(
                    "concurrent_change",
                    format!("{} was changed by another process: retry", key.name),
                ));
            }
            let new_state = if stage {
                KeyState::Pending
            } else {
                tx.execute(
                    "UPDATE key_versions SET state = 'grace', grace_until = ?3, stopped_signing_at = ?4 WHERE key_id = ?1 AND version = ?2",
                    params![key.id, previous, grace_until, now],
                )?;
                KeyState::Active
            };
            insert_version(
                &tx,
                &key.id,
                new_version,
                new_state,
                &now,
                not_after.as_deref(),
                &meta,
            )?;
            tx.execute(
                "UPDATE key_versions SET transit_version = ?3 WHERE key_id = ?1 AND version = ?2",
                params![key.id, new_version, tv as i64],
            )?;
            self.record(
                &tx,
                action,
                Some((&key.id, Some(new_version))),
                Outcome::Success,
                json!({"name": key.name, "previous_version": previous, "grace_until": (!stage).then_some(&grace_until), "custody": "transit", "transit_version": tv}),
            )?;
            self.commit(tx)
        })();
        if let Err(e) = &result {
            self.record_failure(action, Some((&key.id, Some(new_version))), e);
        }
        result?;
        Ok(Rotated {
            id: key.id.clone(),
            name: key.name.clone(),
            version: new_version,
            previous_version: previous,
            state: if stage {
                KeyState::Pending
            } else {
                KeyState::Active
            },
            grace_until: (!stage).then_some(grace_until),
            kid: meta.kid.clone(),
            thumbprint: meta.thumbprint.clone(),
            secret: None,
        })
    }
}

/// Replaces a key's local rows with its document, records the sync, and
/// drops the intents the document shows finished (the crash came after
/// the document was written: rolling them back would lose a version).
fn apply_doc(
    tx: &Connection,
    id: &str,
    doc: &KeyDoc,
    version: u64,
    raw: &serde_json::Value,
) -> Result<()> {
    if doc.id() != Some(id) {
        return Err(Error::SecretStore(format!(
            "the document at keys/{id} names another key"
        )));
    }
    doc.apply(tx)?;
    let by = raw.get("updated_by").and_then(|v| v.as_str());
    let at = raw.get("updated_at").and_then(|v| v.as_str());
    tx.execute(
        "INSERT INTO team_sync (key_id, kv_version, doc_hash, updated_by, updated_at) VALUES (?1, ?2, ?3, ?4, ?5)
         ON CONFLICT(key_id) DO UPDATE SET kv_version = excluded.kv_version, doc_hash = excluded.doc_hash,
             updated_by = excluded.updated_by, updated_at = excluded.updated_at",
        params![id, version as i64, doc.hash(), by, at],
    )?;
    tx.execute(
        "DELETE FROM pending_ops WHERE key_id = ?1 AND (
            (op != 'destroy' AND version IN (SELECT version FROM key_versions WHERE key_id = ?1 AND state != 'destroyed'))
         OR (op = 'destroy' AND version IN (SELECT version FROM key_versions WHERE key_id = ?1 AND state = 'destroyed')))",
        [id],
    )?;
    Ok(())
}
