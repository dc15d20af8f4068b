//! `keyward audit list|verify`.

use crate::output::Ctx;
use clap::Subcommand;
use keyward_core::audit::AuditFilter;
use keyward_core::duration::{parse_time, rfc3339};
use keyward_core::{Error, Result};
use serde_json::json;

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
        #[arg(long, value_name = "TEXT")]
        grep: Option<String>,
        #[arg(long, value_name = "N")]
        limit: Option<u32>,
        /// Only events after this sequence number (paging).
        #[arg(long, value_name = "SEQ")]
        after: Option<i64>,
    },
    /// Walk the hash chain: exit 0 intact, 1 naming the first broken event.
    Verify,
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
        } => {
            if limit == Some(0) {
                return Err(Error::invalid("bad_limit", "--limit must be at least 1"));
            }
            let vault = ctx.open_vault()?;
            // A name resolves to its id; an id of a destroyed key still filters.
            let key_id = key.map(|k| vault.show_key(&k).map(|d| d.summary.id).unwrap_or(k));
            let filter = AuditFilter {
                action,
                key_id,
                since: since.as_deref().map(parse_time).transpose()?.map(rfc3339),
                until: until.as_deref().map(parse_time).transpose()?.map(rfc3339),
                grep,
                after_seq: after,
                limit,
            };
            let events = vault.audit_list(&filter)?;
            ctx.emit(&json!({ "events": events }), || {
                events
                    .iter()
                    .map(|e| {
                        format!(
                            "#{:<5} {}  {:<10} {:<8} {:<14} {:<10} {}{}",
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
        AuditCmd::Verify => {
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
    }
}
