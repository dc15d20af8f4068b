//! `keyward audit list|verify|export|pubkey|archive`.

use crate::output::Ctx;
use clap::{Subcommand, ValueEnum};
use keyward_core::audit::export::{self, ExportFormat};
use keyward_core::audit::AuditFilter;
use keyward_core::crypto::{parse_key, ParsedKey};
use keyward_core::duration::{parse_positive, parse_time, rfc3339};
use keyward_core::{Error, Result};
use serde_json::json;
use std::io::{BufReader, BufWriter};
use std::path::PathBuf;

#[derive(Clone, Copy, ValueEnum)]
pub enum Format {
    Csv,
    Json,
    Jsonl,
}

#[derive(Subcommand)]
pub enum AuditCmd {
    /// List events, oldest first.
    List {
        #[arg(long)]
        action: Option<String>,
        #[arg(long = "key", value_name = "ID")]
        key: Option<String>,
        #[arg(long, value_name = "TIME")]
        since: Option<String>,
        #[arg(long, value_name = "TIME")]
        until: Option<String>,
        /// Substring of the action, actor, key id or details.
        #[arg(long, value_name = "TEXT")]
        grep: Option<String>,
        #[arg(long, value_name = "N")]
        limit: Option<u32>,
        /// Only events after this sequence number (paging forward).
        #[arg(long, value_name = "SEQ")]
        after: Option<i64>,
        /// Only events before this sequence number (paging backward).
        #[arg(long, value_name = "SEQ")]
        before: Option<i64>,
        /// Newest first.
        #[arg(long)]
        reverse: bool,
    },
    /// Walk the hash chain (exit 0 intact, 1 naming the first broken event),
    /// or with --file check an export offline against --pubkey.
    Verify {
        /// An export (json or jsonl) to check offline.
        #[arg(long, value_name = "EXPORT", requires = "pubkey")]
        file: Option<PathBuf>,
        /// The PEM printed by `keyward audit pubkey`.
        #[arg(long, value_name = "PATH", requires = "file")]
        pubkey: Option<PathBuf>,
    },
    /// Export the whole log with chain hashes and signed checkpoints (audited).
    Export {
        #[arg(long, value_enum)]
        format: Format,
        /// Write here instead of stdout.
        #[arg(long, value_name = "PATH")]
        out: Option<PathBuf>,
    },
    /// Print the public key that signs checkpoints (PEM).
    Pubkey,
    /// Move events older than DURATION into a JSON-lines file with a signed
    /// checkpoint; the chain stays verifiable across the cut.
    Archive {
        #[arg(long, value_name = "DURATION")]
        older_than: String,
        #[arg(long, value_name = "PATH")]
        out: PathBuf,
    },
}

pub fn run(ctx: &Ctx, cmd: AuditCmd) -> Result<u8> {
    match cmd {
        AuditCmd::List {
            action,
            key,
            since,
            until,
            grep,
            limit,
            after,
            before,
            reverse,
        } => {
            if limit == Some(0) {
                return Err(Error::invalid("bad_limit", "--limit must be at least 1"));
            }
            let since = since.as_deref().map(parse_time).transpose()?.map(rfc3339);
            let until = until.as_deref().map(parse_time).transpose()?.map(rfc3339);
            let vault = ctx.open_vault()?;
            // A name resolves to its id; an id of a destroyed key still filters.
            let key_id = key.map(|k| vault.show_key(&k).map(|d| d.summary.id).unwrap_or(k));
            let filter = AuditFilter {
                action,
                key_id,
                since,
                until,
                grep,
                after_seq: after,
                before_seq: before,
                newest_first: reverse,
                limit,
            };
            let events = vault.audit_list(&filter)?;
            ctx.emit(&json!({ "events": events }), || {
                events
                    .iter()
                    .map(|e| {
                        format!(
                            "#{:<5} {}  {:<10} {:<8} {:<14} {:<8} {}{}",
                            e.seq,
                            e.at,
                            e.actor,
                            e.source,
                            e.action,
                            e.outcome,
                            e.key_id.clone().unwrap_or_default(),
                            e.version.map(|v| format!(" v{v}")).unwrap_or_default()
                        )
                    })
                    .collect::<Vec<_>>()
                    .join("\n")
            });
            Ok(0)
        }
        AuditCmd::Verify {
            file: Some(file),
            pubkey: Some(pubkey),
        } => {
            let pem = std::fs::read(&pubkey).map_err(|e| {
                Error::invalid(
                    "unreadable_file",
                    format!("cannot read {} ({e})", pubkey.display()),
                )
            })?;
            let public = match parse_key(&pem)? {
                ParsedKey::Public(p) => p,
                ParsedKey::Private(p) => p.public_key().ok_or_else(|| {
                    Error::invalid(
                        "bad_pubkey",
                        "--pubkey must be the Ed25519 public key from `keyward audit pubkey`",
                    )
                })?,
            };
            let f = std::fs::File::open(&file).map_err(|e| {
                Error::invalid(
                    "unreadable_file",
                    format!("cannot read {} ({e})", file.display()),
                )
            })?;
            let r = export::verify_file(&mut BufReader::new(f), &public)?;
            ctx.emit(&serde_json::to_value(&r).unwrap_or_default(), || {
                match &r.problem {
                    None => format!(
                        "export intact: {} events (#{}..#{}), signed up to #{}",
                        r.events,
                        r.first_seq.unwrap_or(0),
                        r.last_seq.unwrap_or(0),
                        r.signed_up_to.unwrap_or(0)
                    ),
                    Some(p) => format!("export rejected: {p}"),
                }
            });
            Ok(if r.intact { 0 } else { 1 })
        }
        AuditCmd::Verify { .. } => {
            let vault = ctx.open_vault()?;
            let r = vault.audit_verify()?;
            ctx.emit(&serde_json::to_value(&r).unwrap_or_default(), || {
                match &r.first_broken {
                    None => format!("audit chain intact: {} events", r.events),
                    Some(b) => format!("audit chain broken at event #{}: {}", b.seq, b.problem),
                }
            });
            Ok(if r.intact { 0 } else { 1 })
        }
        AuditCmd::Export { format, out } => {
            let f = match format {
                Format::Csv => ExportFormat::Csv,
                Format::Json => ExportFormat::Json,
                Format::Jsonl => ExportFormat::Jsonl,
            };
            let mut vault = ctx.open_vault()?;
            match out {
                Some(path) => {
                    // Complete or absent: never a partial file at `path`.
                    let s = vault.audit_export_file(f, &path)?;
                    ctx.note(&format!(
                        "exported {} events with {} signed checkpoints to {}",
                        s.events,
                        s.checkpoints,
                        path.display()
                    ));
                }
                None => {
                    let stdout = std::io::stdout();
                    let mut w = BufWriter::new(stdout.lock());
                    vault.audit_export(f, &mut w)?;
                }
            }
            Ok(0)
        }
        AuditCmd::Pubkey => {
            let vault = ctx.open_vault()?;
            let pem = vault.audit_public_key()?.to_pem();
            ctx.emit(&json!({"pubkey": pem}), || pem.clone());
            Ok(0)
        }
        AuditCmd::Archive { older_than, out } => {
            let older_than = parse_positive(&older_than)?;
            let mut vault = ctx.open_vault()?;
            // Complete and synced before any event leaves the database.
            let s = vault.audit_archive(older_than, &out)?;
            ctx.emit(&serde_json::to_value(&s).unwrap_or_default(), || {
                match s.up_to_seq {
                    Some(seq) => format!(
                        "archived {} events (up to #{seq}) to {}",
                        s.archived,
                        out.display()
                    ),
                    None => "no events old enough to archive".into(),
                }
            });
            Ok(0)
        }
    }
}
