//! The vault's side of the audit log: checkpoints after each commit, the
//! audit signing key (Ed25519, private half in the keychain), export,
//! archive, and checking the chain against the checkpoint.

use super::Vault;
use crate::audit::checkpoint::{self, Checkpoint, SignedCheckpoint};
use crate::audit::export::{self, ExportFormat, ExportSummary};
use crate::audit::log::{hex, BrokenLink, ChainReport};
use crate::audit::Outcome;
use crate::crypto::{Alg, KeyFamily, PrivateKey, PublicKey};
use crate::db::Transaction;
use crate::duration::rfc3339;
use crate::error::{Error, Result};
use crate::secret::SecretBytes;
use chrono::Duration;
use rusqlite::{params, OptionalExtension};
use serde::Serialize;
use serde_json::json;
use std::io::Write;

/// The keychain entry of the audit signing key.
pub const AUDIT_KEY_ENTRY: &str = "audit/signing-key";
/// The keychain entry of the key that MACs the out-of-database checkpoint.
pub const AUDIT_MAC_ENTRY: &str = "audit/mac-key";

/// What `audit archive` did.
#[derive(Debug, Clone, Serialize)]
pub struct ArchiveSummary {
    pub archived: i64,
    pub up_to_seq: Option<i64>,
    pub checkpoint: Option<SignedCheckpoint>,
}

impl Vault {
    /// Commits `tx` and moves the out-of-database checkpoint forward.
    pub(crate) fn commit(&self, tx: Transaction<'_>) -> Result<()> {
        // A team vault writes the changed keys' documents to OpenBao first;
        // a check-and-set conflict rolls `tx` back (vault/team.rs).
        self.team_before_commit(&tx)?;
        tx.commit()?;
        crate::failpoint::hit("commit.before_checkpoint");
        self.refresh_checkpoint();
        Ok(())
    }

    /// Best effort: a checkpoint that lags behind is harmless (only one
    /// ahead of the database, or one that does not match it, is a problem).
    /// Without the keychain's MAC key the checkpoint is left where it was.
    pub(crate) fn refresh_checkpoint(&self) {
        let _ = self.advance_checkpoint();
    }

    /// Moves the keyed checkpoint to the chain's current end, but only along
    /// a chain that still extends it. A checkpoint that the database no
    /// longer matches (newest events removed or rewritten, a forged or
    /// deleted checkpoint file) is evidence: appending must not replace it,
    /// or the next `audit verify` would find nothing wrong. It stays until
    /// `vault check --repair` re-anchors it (a `vault.repair` event), or the
    /// database is restored.
    fn advance_checkpoint(&self) -> Result<()> {
        let (key, created_now) = self.audit_mac_key_entry()?;
        let cp = match checkpoint::read(&self.dir) {
            Ok(Some(cp)) => cp,
            // No checkpoint yet because the MAC key was only just made:
            // this is the vault's first one.
            Ok(None) if created_now => return self.anchor_checkpoint(),
            // Deleted, unreadable or malformed: reported by `audit verify`.
            Ok(None) | Err(_) => return Ok(()),
        };
        if !checkpoint::mac_ok(key.expose(), &self.vault_id, &cp) {
            return Ok(());
        }
        let Some(hash) = crate::audit::log::from_hex(&cp.hash) else {
            return Ok(());
        };
        match crate::audit::log::extends(&self.conn, &self.genesis, cp.seq, &hash)? {
            Some((seq, end)) if seq > cp.seq => self.write_checkpoint(key, seq, &end),
            _ => Ok(()),
        }
    }

    /// Writes the keyed checkpoint of the chain's current end, whatever the
    /// checkpoint file says now, even if it names a later event (the first
    /// checkpoint, and repair).
    pub fn anchor_checkpoint(&self) -> Result<()> {
        let last: Option<(i64, Vec<u8>)> = self
            .conn
            .query_row(
                "SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1",
                [],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?;
        let Some((seq, hash)) = last else {
            return Ok(());
        };
        let key = self.audit_mac_key()?;
        self.replace_checkpoint(key, seq, &hash)
    }

    fn write_checkpoint(&self, key: &SecretBytes, seq: i64, hash: &[u8]) -> Result<()> {
        let hash = hex(hash);
        let mac = checkpoint::mac(key.expose(), &self.vault_id, seq, &hash);
        checkpoint::write(&self.dir, &Checkpoint { seq, hash, mac })
    }

    fn replace_checkpoint(&self, key: &SecretBytes, seq: i64, hash: &[u8]) -> Result<()> {
        let hash = hex(hash);
        let mac = checkpoint::mac(key.expose(), &self.vault_id, seq, &hash);
        checkpoint::replace(&self.dir, &Checkpoint { seq, hash, mac })
    }

    /// The checkpoint MAC key from the keychain (cached for this process),
    /// created on first use.
    fn audit_mac_key(&self) -> Result<&SecretBytes> {
        Ok(self.audit_mac_key_entry()?.0)
    }

    /// The checkpoint MAC key, and whether this vault handle created it.
    fn audit_mac_key_entry(&self) -> Result<(&SecretBytes, bool)> {
        if let Some((k, created)) = self.mac_key.get() {
            return Ok((k, *created));
        }
        let (key, created) = match self.store.get(AUDIT_MAC_ENTRY)? {
            Some(k) => (k, false),
            None => {
                let recorded: bool = self.conn.query_row(
                    "SELECT EXISTS(SELECT 1 FROM meta WHERE k = 'audit_mac')",
                    [],
                    |r| r.get(0),
                )?;
                if recorded {
                    return Err(Error::SecretStore(format!(
                        "the audit MAC key ({AUDIT_MAC_ENTRY}) is missing from the keychain: restore the keychain from a backup"
                    )));
                }
                let k = SecretBytes::new(crate::vault::random_bytes(32)?);
                // Keychain first: a crash before the row leaves a key the next call adopts.
                self.store.put(AUDIT_MAC_ENTRY, &k)?;
                crate::failpoint::hit("audit_mac.after_keychain");
                self.conn.execute(
                    "INSERT OR IGNORE INTO meta (k, v) VALUES ('audit_mac', 'keychain')",
                    [],
                )?;
                (k, true)
            }
        };
        let (k, created) = self.mac_key.get_or_init(|| (key, created));
        Ok((k, *created))
    }

    /// Checks that the checkpoint MAC key is in the keychain (creating it
    /// for a new vault), as a session open does.
    pub(crate) fn check_audit_mac_key(&self) -> Result<()> {
        self.audit_mac_key().map(|_| ())
    }

    /// The audit key's public half, creating the key on first use.
    pub fn audit_public_key(&self) -> Result<PublicKey> {
        let stored: Option<String> = self
            .conn
            .query_row("SELECT v FROM meta WHERE k = 'audit_pubkey'", [], |r| {
                r.get(0)
            })
            .optional()?;
        if let Some(h) = stored {
            let der = crate::audit::log::from_hex(&h).ok_or_else(|| {
                Error::Database("the audit public key in the database is corrupted".into())
            })?;
            return PublicKey::from_der(&der);
        }
        self.audit_signing_key()?
            .public_key()
            .ok_or_else(|| Error::Database("the audit key has no public half".into()))
    }

    /// The audit signing key from the keychain; created (and its public half
    /// recorded) on first use.
    fn audit_signing_key(&self) -> Result<PrivateKey> {
        if let Some(bytes) = self.store.get(AUDIT_KEY_ENTRY)? {
            let key = PrivateKey::from_storage(KeyFamily::Ed25519, bytes.expose())?;
            self.record_audit_pubkey(&key)?;
            return Ok(key);
        }
        let recorded: bool = self.conn.query_row(
            "SELECT EXISTS(SELECT 1 FROM meta WHERE k = 'audit_pubkey')",
            [],
            |r| r.get(0),
        )?;
        if recorded {
            return Err(Error::SecretStore(format!(
                "the audit signing key ({AUDIT_KEY_ENTRY}) is missing from the keychain: restore the keychain from a backup; checkpoints cannot be signed without it"
            )));
        }
        let key = PrivateKey::generate(Alg::EdDSA, None)?;
        // Keychain first: a crash before the row leaves an entry that the
        // next call adopts (above) instead of a row without a key.
        self.store.put(AUDIT_KEY_ENTRY, &key.to_storage())?;
        crate::failpoint::hit("audit_key.after_keychain");
        self.record_audit_pubkey(&key)?;
        Ok(key)
    }

    fn record_audit_pubkey(&self, key: &PrivateKey) -> Result<()> {
        let public = key
            .public_key()
            .ok_or_else(|| Error::Database("the audit key has no public half".into()))?;
        self.conn.execute(
            "INSERT OR IGNORE INTO meta (k, v) VALUES ('audit_pubkey', ?1)",
            [hex(&public.to_der())],
        )?;
        Ok(())
    }

    fn checkpoint_signer(&self) -> Result<impl FnMut(i64, &str) -> Result<String> + '_> {
        let key = self.audit_signing_key()?;
        let vault_id = self.vault_id.clone();
        Ok(move |seq: i64, hash: &str| {
            let sig = key.sign(Alg::EdDSA, &checkpoint::message(&vault_id, seq, hash))?;
            Ok(crate::crypto::b64::encode(sig))
        })
    }

    /// Streams the whole log to `out` with signed checkpoints (audited).
    pub fn audit_export(
        &mut self,
        format: ExportFormat,
        out: &mut dyn Write,
    ) -> Result<ExportSummary> {
        let summary = self.export_events(format, out)?;
        self.record_export(format, &summary)?;
        Ok(summary)
    }

    /// [`Vault::audit_export`] to a new file at `path`, which appears only
    /// once complete and audited: the log goes to a temporary file beside
    /// it (removed on error), the `audit.export` event is committed, and
    /// only then is the file linked into place. A failed or killed export
    /// leaves no partial file at `path`; an existing file is never replaced.
    pub fn audit_export_file(
        &mut self,
        format: ExportFormat,
        path: &std::path::Path,
    ) -> Result<ExportSummary> {
        let mut file = NewFile::create(path, ".keyward-audit-export-")?;
        let summary = file.write(|out| self.export_events(format, out))?;
        self.record_export(format, &summary)?;
        crate::failpoint::hit("export.before_rename");
        file.persist()?;
        Ok(summary)
    }

    fn export_events(&self, format: ExportFormat, out: &mut dyn Write) -> Result<ExportSummary> {
        let mut sign = self.checkpoint_signer()?;
        export::write(&self.conn, &self.vault_id, format, None, out, &mut sign)
    }

    fn record_export(&self, format: ExportFormat, summary: &ExportSummary) -> Result<()> {
        let tx = Transaction::immediate(&self.conn)?;
        let f = match format {
            ExportFormat::Csv => "csv",
            ExportFormat::Json => "json",
            ExportFormat::Jsonl => "jsonl",
        };
        self.record(
            &tx,
            "audit.export",
            None,
            Outcome::Success,
            json!({"format": f, "events": summary.events, "last_seq": summary.last_seq}),
        )?;
        self.commit(tx)
    }

    /// Moves the events older than `older_than` (a prefix of the chain) into
    /// a new JSON-lines file at `path` with a signed checkpoint, then removes
    /// them from the database; the chain stays verifiable from the recorded
    /// base. The file is complete, synced and in place before any event is
    /// deleted, so a failure or a kill at any point loses nothing: at worst
    /// the file exists and the events are still in the database too. When
    /// nothing is old enough, no file is made.
    pub fn audit_archive(
        &mut self,
        older_than: Duration,
        path: &std::path::Path,
    ) -> Result<ArchiveSummary> {
        if older_than <= Duration::zero() {
            return Err(Error::invalid(
                "bad_duration",
                "--older-than must be greater than zero",
            ));
        }
        let mut file = NewFile::create(path, ".keyward-audit-archive-")?;
        let chain = self.audit_verify()?;
        if let Some(b) = chain.first_broken {
            return Err(Error::rejected(
                "chain_broken",
                format!(
                    "the audit chain is broken at event #{} ({}): nothing archived",
                    b.seq, b.problem
                ),
            ));
        }
        let threshold = rfc3339(self.clock.now() - older_than);
        let first_kept: Option<i64> = self.conn.query_row(
            "SELECT MIN(seq) FROM audit WHERE at >= ?1",
            [&threshold],
            |r| r.get(0),
        )?;
        let last: Option<i64> = self
            .conn
            .query_row("SELECT MAX(seq) FROM audit", [], |r| r.get(0))?;
        let cut = match (first_kept, last) {
            (Some(k), _) => k - 1,
            (None, Some(l)) => l,
            (None, None) => 0,
        };
        let first: Option<i64> = self
            .conn
            .query_row("SELECT MIN(seq) FROM audit", [], |r| r.get(0))?;
        if first.is_none_or(|f| cut < f) {
            return Ok(ArchiveSummary {
                archived: 0,
                up_to_seq: None,
                checkpoint: None,
            });
        }
        let mut signed = None;
        file.write(|out| {
            let mut sign = self.checkpoint_signer()?;
            let mut record_sign = |seq: i64, hash: &str| {
                let s = sign(seq, hash)?;
                if seq == cut {
                    signed = Some(SignedCheckpoint {
                        seq,
                        hash: hash.to_string(),
                        signature: s.clone(),
                    });
                }
                Ok(s)
            };
            export::write(
                &self.conn,
                &self.vault_id,
                ExportFormat::Jsonl,
                Some(cut),
                out,
                &mut record_sign,
            )
        })?;
        let cp = signed.ok_or_else(|| {
            Error::Database("the archive's last checkpoint was not signed".into())
        })?;
        file.persist()?;
        crate::failpoint::hit("archive.before_delete");
        let tx = Transaction::immediate(&self.conn)?;
        let archived = tx.execute("DELETE FROM audit WHERE seq <= ?1", [cut])? as i64;
        tx.execute(
            "INSERT INTO meta (k, v) VALUES ('audit_base', ?1) ON CONFLICT(k) DO UPDATE SET v = excluded.v",
            [format!("{}:{}", cp.seq, cp.hash)],
        )?;
        tx.execute(
            "INSERT INTO meta (k, v) VALUES ('audit_base_signature', ?1) ON CONFLICT(k) DO UPDATE SET v = excluded.v",
            [&cp.signature],
        )?;
        self.record(
            &tx,
            "audit.archive",
            None,
            Outcome::Success,
            json!({"archived": archived, "up_to_seq": cut, "older_than": threshold, "file": path.file_name().map(|n| n.to_string_lossy().into_owned())}),
        )?;
        self.commit(tx)?;
        Ok(ArchiveSummary {
            archived,
            up_to_seq: Some(cut),
            checkpoint: Some(cp),
        })
    }

    /// Walks the chain, then compares its end with the checkpoint file and
    /// the archive base with its signature.
    pub fn audit_verify(&self) -> Result<ChainReport> {
        Ok(self.audit_verify_located()?.0)
    }

    /// [`Vault::audit_verify`], and whether the break it reports (if any)
    /// lies in the database itself — the chain or the archive base — rather
    /// than between the database and the checkpoint file outside it.
    pub(super) fn audit_verify_located(&self) -> Result<(ChainReport, bool)> {
        let mut report = crate::audit::log::verify(&self.conn, &self.genesis)?;
        if report.first_broken.is_some() {
            return Ok((report, true));
        }
        if let Some(problem) = self.base_problem()? {
            report.intact = false;
            report.first_broken = Some(BrokenLink {
                seq: report.last_seq.map_or(1, |s| s - report.events + 1),
                problem,
            });
            return Ok((report, true));
        }
        match checkpoint::read(&self.dir) {
            Err(problem) => {
                report.intact = false;
                report.first_broken = Some(BrokenLink {
                    seq: report.last_seq.unwrap_or(0) + 1,
                    problem,
                });
            }
            Ok(Some(cp)) => {
                match self.audit_mac_key() {
                    Ok(key) if !checkpoint::mac_ok(key.expose(), &self.vault_id, &cp) => {
                        report.intact = false;
                        report.first_broken = Some(BrokenLink {
                            seq: cp.seq,
                            problem: "the audit checkpoint outside the database does not carry a valid MAC: it was forged or replaced".into(),
                        });
                        return Ok((report, false));
                    }
                    Ok(_) => {
                        report.anchor =
                            Some(format!("keyed checkpoint at event #{} verified", cp.seq))
                    }
                    Err(e) => report.anchor = Some(format!("keyed checkpoint not checked: {e}")),
                }
                let at_cp: Option<Vec<u8>> = self
                    .conn
                    .query_row(
                        "SELECT hash FROM audit WHERE seq = ?1",
                        params![cp.seq],
                        |r| r.get(0),
                    )
                    .optional()?;
                let problem = match at_cp {
                    None if report.last_seq.is_none_or(|l| cp.seq > l) => Some(format!(
                        "the newest events were removed: the checkpoint outside the database records event #{} but the log ends at #{}",
                        cp.seq,
                        report.last_seq.unwrap_or(0)
                    )),
                    Some(h) if hex(&h) != cp.hash => Some(format!("event #{} differs from the checkpoint recorded outside the database: the events from #{} on were removed or rewritten", cp.seq, cp.seq)),
                    _ => None,
                };
                if let Some(problem) = problem {
                    report.intact = false;
                    report.first_broken = Some(BrokenLink {
                        seq: cp.seq.min(report.last_seq.unwrap_or(0) + 1),
                        problem,
                    });
                }
            }
            Ok(None) if report.events > 0 => {
                report.intact = false;
                report.first_broken = Some(BrokenLink {
                    seq: report.last_seq.unwrap_or(0),
                    problem: "the audit checkpoint file outside the database is missing, so removal of the newest events cannot be ruled out (`keyward vault check --repair` records the current end as the checkpoint)".into(),
                });
            }
            Ok(None) => {}
        }
        Ok((report, false))
    }

    /// After an archive, the chain's base must carry a valid signature.
    fn base_problem(&self) -> Result<Option<String>> {
        let base: Option<String> = self
            .conn
            .query_row("SELECT v FROM meta WHERE k = 'audit_base'", [], |r| {
                r.get(0)
            })
            .optional()?;
        let Some(base) = base else { return Ok(None) };
        let sig: Option<String> = self
            .conn
            .query_row(
                "SELECT v FROM meta WHERE k = 'audit_base_signature'",
                [],
                |r| r.get(0),
            )
            .optional()?;
        let Some((seq, hash)) = base.split_once(':') else {
            return Ok(Some("the audit archive base is malformed".into()));
        };
        let cp = SignedCheckpoint {
            seq: seq.parse().unwrap_or(-1),
            hash: hash.to_string(),
            signature: sig.unwrap_or_default(),
        };
        let public = self.audit_public_key()?;
        if !checkpoint::verify_signature(&public, &self.vault_id, &cp) {
            return Ok(Some("the audit archive base does not carry a valid signature: the start of the log was replaced".into()));
        }
        Ok(None)
    }
}

/// A new file that appears at its path only when complete: written to a
/// hidden temporary file beside it (removed if dropped unpersisted), synced,
/// then linked into place without ever replacing an existing file.
struct NewFile<'p> {
    path: &'p std::path::Path,
    tmp: tempfile::NamedTempFile,
}

impl<'p> NewFile<'p> {
    fn create(path: &'p std::path::Path, prefix: &str) -> Result<Self> {
        if path.exists() {
            return Err(Self::exists(path));
        }
        let dir = match path.parent() {
            Some(d) if !d.as_os_str().is_empty() => d,
            _ => std::path::Path::new("."),
        };
        let tmp = tempfile::Builder::new()
            .prefix(prefix)
            .suffix(".partial")
            .tempfile_in(dir)
            .map_err(|e| {
                Error::invalid(
                    "unwritable_file",
                    format!("cannot create {} ({e})", path.display()),
                )
            })?;
        Ok(NewFile { path, tmp })
    }

    fn exists(path: &std::path::Path) -> Error {
        Error::invalid(
            "unwritable_file",
            format!("cannot create {}: it must not exist yet", path.display()),
        )
    }

    fn io(path: &std::path::Path, e: std::io::Error) -> Error {
        Error::Io(format!("cannot write {} ({e})", path.display()))
    }

    /// Runs `fill` on a buffered writer over the file, then flushes and
    /// syncs it to disk.
    fn write<T>(&mut self, fill: impl FnOnce(&mut dyn Write) -> Result<T>) -> Result<T> {
        let value = {
            let mut out = std::io::BufWriter::new(self.tmp.as_file_mut());
            let value = fill(&mut out)?;
            out.flush().map_err(|e| Self::io(self.path, e))?;
            value
        };
        self.tmp
            .as_file()
            .sync_all()
            .map_err(|e| Self::io(self.path, e))?;
        Ok(value)
    }

    /// Links the complete file into place (never over an existing file).
    fn persist(self) -> Result<()> {
        let path = self.path;
        self.tmp
            .persist_noclobber(path)
            .map_err(|e| match e.error.kind() {
                std::io::ErrorKind::AlreadyExists => Self::exists(path),
                _ => Self::io(path, e.error),
            })?;
        // Make the new directory entry durable before events are deleted.
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            if let Ok(d) = std::fs::File::open(dir) {
                let _ = d.sync_all();
            }
        }
        Ok(())
    }
}
