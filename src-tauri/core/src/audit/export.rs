//! Streaming export of the audit log (CSV, JSON, JSON lines) with the chain
//! hashes and signed checkpoints, and the offline check of an exported file.

use super::chain::{event_hash, ChainedFields};
use super::checkpoint::{verify_signature, SignedCheckpoint};
use super::log::{from_hex, hex};
use crate::crypto::PublicKey;
use crate::error::{Error, Result};
use rusqlite::Connection;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use std::io::{BufRead, Write};

/// Export formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExportFormat {
    Csv,
    Json,
    Jsonl,
}

/// A signed checkpoint every this many events (and at the last one).
pub const CHECKPOINT_EVERY: i64 = 10_000;

/// One exported event: every chained field plus both hashes.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ExportedEvent {
    pub seq: i64,
    pub at: String,
    pub actor: String,
    pub source: String,
    pub action: String,
    pub key_id: Option<String>,
    pub version: Option<i64>,
    pub outcome: String,
    /// The details exactly as chained (a JSON document in a string).
    pub details: String,
    pub prev_hash: String,
    pub hash: String,
}

/// What an export wrote.
#[derive(Debug, Clone, Serialize, ts_rs::TS)]
pub struct ExportSummary {
    pub events: i64,
    pub first_seq: Option<i64>,
    pub last_seq: Option<i64>,
    pub checkpoints: usize,
}

/// Streams events `..=up_to` (all when `None`) to `out`, signing a
/// checkpoint every [`CHECKPOINT_EVERY`] events and at the last one with `sign`.
pub fn write(
    conn: &Connection,
    vault_id: &str,
    format: ExportFormat,
    up_to: Option<i64>,
    out: &mut dyn Write,
    sign: &mut dyn FnMut(i64, &str) -> Result<String>,
) -> Result<ExportSummary> {
    let io = |e: std::io::Error| Error::Io(format!("cannot write the export ({e})"));
    let mut stmt = conn.prepare(
        "SELECT seq, at, actor, source, action, key_id, version, outcome, details, prev_hash, hash
         FROM audit WHERE seq <= ?1 ORDER BY seq",
    )?;
    let mut rows = stmt.query([up_to.unwrap_or(i64::MAX)])?;
    match format {
        ExportFormat::Csv => writeln!(
            out,
            "seq,at,actor,source,action,key_id,version,outcome,details,prev_hash,hash"
        )
        .map_err(io)?,
        ExportFormat::Json => write!(
            out,
            "{{\"format\":\"keyward-audit-export-v1\",\"vault_id\":{},\"events\":[",
            json!(vault_id)
        )
        .map_err(io)?,
        ExportFormat::Jsonl => {}
    }
    let mut checkpoints = Vec::new();
    let mut summary = ExportSummary {
        events: 0,
        first_seq: None,
        last_seq: None,
        checkpoints: 0,
    };
    let mut pending: Option<ExportedEvent> = None;
    let emit = |ev: &ExportedEvent, first: bool, out: &mut dyn Write| -> Result<()> {
        match format {
            ExportFormat::Csv => {
                let cells = [
                    ev.seq.to_string(),
                    ev.at.clone(),
                    ev.actor.clone(),
                    ev.source.clone(),
                    ev.action.clone(),
                    ev.key_id.clone().unwrap_or_default(),
                    ev.version.map(|v| v.to_string()).unwrap_or_default(),
                    ev.outcome.clone(),
                    ev.details.clone(),
                    ev.prev_hash.clone(),
                    ev.hash.clone(),
                ];
                let line: Vec<String> = cells.iter().map(|c| csv_cell(c)).collect();
                writeln!(out, "{}", line.join(",")).map_err(io)
            }
            ExportFormat::Json => {
                if !first {
                    out.write_all(b",").map_err(io)?;
                }
                serde_json::to_writer(&mut *out, ev)
                    .map_err(|e| Error::Io(format!("cannot write the export ({e})")))
            }
            ExportFormat::Jsonl => {
                serde_json::to_writer(&mut *out, ev)
                    .map_err(|e| Error::Io(format!("cannot write the export ({e})")))?;
                out.write_all(b"\n").map_err(io)
            }
        }
    };
    while let Some(r) = rows.next()? {
        let ev = ExportedEvent {
            seq: r.get(0)?,
            at: r.get(1)?,
            actor: r.get(2)?,
            source: r.get(3)?,
            action: r.get(4)?,
            key_id: r.get(5)?,
            version: r.get(6)?,
            outcome: r.get(7)?,
            details: r.get(8)?,
            prev_hash: hex(&r.get::<_, Vec<u8>>(9)?),
            hash: hex(&r.get::<_, Vec<u8>>(10)?),
        };
        if let Some(prev) = pending.take() {
            if prev.seq % CHECKPOINT_EVERY == 0 {
                checkpoints.push(SignedCheckpoint {
                    seq: prev.seq,
                    signature: sign(prev.seq, &prev.hash)?,
                    hash: prev.hash.clone(),
                });
            }
        }
        emit(&ev, summary.events == 0, out)?;
        summary.first_seq.get_or_insert(ev.seq);
        summary.last_seq = Some(ev.seq);
        summary.events += 1;
        pending = Some(ev);
    }
    if let Some(last) = pending {
        checkpoints.push(SignedCheckpoint {
            seq: last.seq,
            signature: sign(last.seq, &last.hash)?,
            hash: last.hash,
        });
    }
    summary.checkpoints = checkpoints.len();
    match format {
        ExportFormat::Csv => {}
        ExportFormat::Json => {
            write!(out, "],\"checkpoints\":").map_err(io)?;
            serde_json::to_writer(&mut *out, &checkpoints)
                .map_err(|e| Error::Io(format!("cannot write the export ({e})")))?;
            writeln!(out, "}}").map_err(io)?;
        }
        ExportFormat::Jsonl => {
            for cp in &checkpoints {
                writeln!(out, "{}", json!({"checkpoint": cp, "vault_id": vault_id})).map_err(io)?;
            }
        }
    }
    out.flush().map_err(io)?;
    Ok(summary)
}

/// RFC 4180 quoting: fields with a comma, quote or line break are quoted,
/// quotes doubled. A leading `=`, `+`, `-` or `@` is prefixed with `'` so a
/// spreadsheet does not execute it (CSV injection).
pub fn csv_cell(s: &str) -> String {
    let guarded = if s.starts_with(['=', '+', '-', '@']) {
        format!("'{s}")
    } else {
        s.to_string()
    };
    if guarded.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", guarded.replace('"', "\"\""))
    } else {
        guarded
    }
}

/// The outcome of checking an exported file offline.
#[derive(Debug, Clone, Serialize)]
pub struct OfflineReport {
    pub intact: bool,
    pub vault_id: Option<String>,
    pub events: i64,
    pub first_seq: Option<i64>,
    pub last_seq: Option<i64>,
    pub signed_up_to: Option<i64>,
    pub problem: Option<String>,
}

/// Checks a JSON or JSON-lines export: the chain links, every hash, and the
/// signed checkpoints (which must cover the last event).
pub fn verify_file(input: &mut dyn BufRead, public: &PublicKey) -> Result<OfflineReport> {
    let mut text = String::new();
    input
        .read_to_string(&mut text)
        .map_err(|e| Error::invalid("unreadable_file", format!("cannot read the export ({e})")))?;
    let bad =
        |why: String| Error::invalid("bad_export", format!("not a Keyward audit export: {why}"));
    let (vault_id, events, checkpoints): (
        Option<String>,
        Vec<ExportedEvent>,
        Vec<SignedCheckpoint>,
    ) = if text.trim_start().starts_with("{\"format\"") {
        let doc: Value = serde_json::from_str(&text).map_err(|e| bad(e.to_string()))?;
        let events =
            serde_json::from_value(doc["events"].clone()).map_err(|e| bad(e.to_string()))?;
        let cps =
            serde_json::from_value(doc["checkpoints"].clone()).map_err(|e| bad(e.to_string()))?;
        (doc["vault_id"].as_str().map(str::to_string), events, cps)
    } else {
        let mut events = Vec::new();
        let mut cps = Vec::new();
        let mut vault = None;
        for (i, line) in text
            .lines()
            .enumerate()
            .filter(|(_, l)| !l.trim().is_empty())
        {
            let v: Value =
                serde_json::from_str(line).map_err(|e| bad(format!("line {}: {e}", i + 1)))?;
            if let Some(cp) = v.get("checkpoint") {
                cps.push(
                    serde_json::from_value(cp.clone())
                        .map_err(|e| bad(format!("line {}: {e}", i + 1)))?,
                );
                vault = v["vault_id"].as_str().map(str::to_string).or(vault);
            } else {
                events.push(
                    serde_json::from_value(v).map_err(|e| bad(format!("line {}: {e}", i + 1)))?,
                );
            }
        }
        (vault, events, cps)
    };
    let mut report = OfflineReport {
        intact: false,
        vault_id: vault_id.clone(),
        events: events.len() as i64,
        first_seq: events.first().map(|e| e.seq),
        last_seq: events.last().map(|e| e.seq),
        signed_up_to: None,
        problem: None,
    };
    let fail = |mut r: OfflineReport, p: String| {
        r.problem = Some(p);
        Ok(r)
    };
    let Some(vault_id) = vault_id else {
        return fail(
            report,
            "the export carries no signed checkpoint (no vault id)".into(),
        );
    };
    let mut prev: Option<&ExportedEvent> = None;
    let by_seq: std::collections::HashMap<i64, &SignedCheckpoint> =
        checkpoints.iter().map(|c| (c.seq, c)).collect();
    for ev in &events {
        if let Some(p) = prev {
            if ev.seq != p.seq + 1 {
                return fail(
                    report,
                    format!(
                        "event #{} follows #{}: events are missing or reordered",
                        ev.seq, p.seq
                    ),
                );
            }
            if ev.prev_hash != p.hash {
                return fail(
                    report,
                    format!("event #{} does not link to event #{}", ev.seq, p.seq),
                );
            }
        }
        let Some(prev_hash) = from_hex(&ev.prev_hash) else {
            return fail(
                report,
                format!("event #{} has a malformed prev_hash", ev.seq),
            );
        };
        let h = event_hash(
            &prev_hash,
            &ChainedFields {
                seq: ev.seq,
                at: &ev.at,
                actor: &ev.actor,
                source: &ev.source,
                action: &ev.action,
                key_id: ev.key_id.as_deref(),
                version: ev.version,
                outcome: &ev.outcome,
                details: &ev.details,
            },
        );
        if hex(&h) != ev.hash {
            return fail(
                report,
                format!("event #{} was altered after it was written", ev.seq),
            );
        }
        if let Some(cp) = by_seq.get(&ev.seq) {
            if cp.hash != ev.hash {
                return fail(
                    report,
                    format!("the checkpoint at #{} does not match the event", ev.seq),
                );
            }
            if !verify_signature(public, &vault_id, cp) {
                return fail(report, format!("the checkpoint at #{} has an invalid signature (wrong public key, or forged)", ev.seq));
            }
            report.signed_up_to = Some(ev.seq);
        }
        prev = Some(ev);
    }
    if let Some(cp) = checkpoints.iter().find(|c| Some(c.seq) > report.last_seq) {
        return fail(
            report,
            format!(
                "a checkpoint names event #{} but the export ends earlier: events were cut off",
                cp.seq
            ),
        );
    }
    if report.signed_up_to != report.last_seq {
        return fail(
            report.clone(),
            format!(
                "events after #{} are not covered by a signed checkpoint",
                report.signed_up_to.unwrap_or(0)
            ),
        );
    }
    report.intact = true;
    Ok(report)
}
