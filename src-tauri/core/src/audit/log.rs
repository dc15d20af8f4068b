//! Appending, listing and verifying audit events in SQLite.

use super::chain::{event_hash, ChainedFields};
use crate::error::{Error, Result};
use rusqlite::{params, Connection, OptionalExtension};
use serde::Serialize;
use serde_json::Value;

/// Whether the recorded action succeeded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    Success,
    Failure,
    Denied,
}

impl Outcome {
    /// The stored form.
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Success => "success",
            Outcome::Failure => "failure",
            Outcome::Denied => "denied",
        }
    }
}

/// An event about to be appended. `details` must never hold a secret.
pub struct NewEvent<'a> {
    pub at: &'a str,
    pub actor: &'a str,
    pub source: &'a str,
    pub action: &'a str,
    pub key_id: Option<&'a str>,
    pub version: Option<u32>,
    pub outcome: Outcome,
    pub details: Value,
}

/// A stored event, as listed.
#[derive(Debug, Clone, Serialize, ts_rs::TS)]
pub struct AuditEvent {
    pub seq: i64,
    pub at: String,
    pub actor: String,
    pub source: String,
    pub action: String,
    pub key_id: Option<String>,
    pub version: Option<i64>,
    pub outcome: String,
    pub details: Value,
    pub hash: String,
}

/// Filters of `audit list`.
#[derive(Debug, Default, Clone)]
pub struct AuditFilter {
    pub action: Option<String>,
    pub key_id: Option<String>,
    pub since: Option<String>,
    pub until: Option<String>,
    pub grep: Option<String>,
    pub after_seq: Option<i64>,
    /// Only events before this sequence number (paging backwards).
    pub before_seq: Option<i64>,
    /// Newest first.
    pub newest_first: bool,
    pub limit: Option<u32>,
}

/// Appends `ev` to the chain. Call inside the write transaction of the change
/// it records, so both commit together or neither does.
pub fn append(conn: &Connection, genesis: &[u8], ev: &NewEvent<'_>) -> Result<i64> {
    let last: Option<(i64, Vec<u8>, String)> = conn
        .query_row(
            "SELECT seq, hash, at FROM audit ORDER BY seq DESC LIMIT 1",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .optional()?;
    // Time never runs backwards along the chain (a clock stepped back by NTP
    // repeats the last time instead): time filters map exactly to sequence ranges.
    let mut at = ev.at.to_string();
    let (seq, prev) = match last {
        Some((s, h, last_at)) => {
            if last_at.as_str() > ev.at {
                at = last_at;
            }
            (s + 1, h)
        }
        None => {
            let a = anchor(conn, genesis)?;
            (a.seq + 1, a.hash)
        }
    };
    let details = serde_json::to_string(&ev.details).unwrap_or_else(|_| "{}".into());
    let fields = ChainedFields {
        seq,
        at: &at,
        actor: ev.actor,
        source: ev.source,
        action: ev.action,
        key_id: ev.key_id,
        version: ev.version.map(i64::from),
        outcome: ev.outcome.as_str(),
        details: &details,
    };
    let hash = event_hash(&prev, &fields);
    conn.execute(
        "INSERT INTO audit (seq, at, actor, source, action, key_id, version, outcome, details, prev_hash, hash)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
        params![
            seq,
            at,
            ev.actor,
            ev.source,
            ev.action,
            ev.key_id,
            ev.version,
            ev.outcome.as_str(),
            details,
            prev,
            hash.as_slice()
        ],
    )?;
    crate::failpoint::hit("audit.append");
    Ok(seq)
}

/// Lists events matching `f`, oldest first (or newest first).
///
/// Time bounds become sequence bounds through one probe of the `at` index
/// (exact, because [`append`] keeps `at` non-decreasing along the chain), and `--grep` of
/// three or more characters goes through the trigram index, which then drives
/// the scan in sequence order: a page stops after its 100 matches instead of
/// collecting every match first, so it stays fast over millions of events.
pub fn list(conn: &Connection, f: &AuditFilter) -> Result<Vec<AuditEvent>> {
    let grep = f.grep.as_deref().filter(|g| !g.is_empty());
    let trigram = grep.is_some_and(|g| g.chars().count() >= 3);
    let (from, seq_col) = if trigram {
        ("audit_fts f JOIN audit a ON a.seq = f.rowid", "f.rowid")
    } else {
        ("audit a", "a.seq")
    };
    let mut sql = format!(
        "SELECT a.seq, a.at, a.actor, a.source, a.action, a.key_id, a.version, a.outcome, a.details, a.hash FROM {from} WHERE 1=1"
    );
    let mut args: Vec<Box<dyn rusqlite::ToSql>> = Vec::new();
    let mut bind = |sql: &mut String, clause: &str, v: Box<dyn rusqlite::ToSql>| {
        args.push(v);
        sql.push_str(&clause.replace('?', &format!("?{}", args.len())));
    };
    if let Some(a) = &f.action {
        bind(&mut sql, " AND a.action = ?", Box::new(a.clone()));
    }
    if let Some(k) = &f.key_id {
        bind(&mut sql, " AND a.key_id = ?", Box::new(k.clone()));
    }
    // `+a.at` keeps the planner on the sequence range instead of sorting an `at` range.
    if let Some(s) = &f.since {
        let lo = format!(" AND {seq_col} >= IFNULL((SELECT seq FROM audit WHERE at >= ? ORDER BY at, seq LIMIT 1), 9223372036854775807)");
        bind(&mut sql, &lo, Box::new(s.clone()));
        bind(&mut sql, " AND +a.at >= ?", Box::new(s.clone()));
    }
    if let Some(u) = &f.until {
        let hi = format!(" AND {seq_col} <= IFNULL((SELECT seq FROM audit WHERE at < ? ORDER BY at DESC, seq DESC LIMIT 1), -1)");
        bind(&mut sql, &hi, Box::new(u.clone()));
        bind(&mut sql, " AND +a.at < ?", Box::new(u.clone()));
    }
    if let Some(g) = grep {
        if trigram {
            // A trigram phrase query matches substrings, case-insensitively.
            let phrase = format!("\"{}\"", g.replace('"', "\"\""));
            bind(&mut sql, " AND audit_fts MATCH ?", Box::new(phrase));
        } else {
            let like = format!("%{}%", escape_like(g));
            bind(
                &mut sql,
                " AND (a.details LIKE ? ESCAPE '\\' OR a.action LIKE ? ESCAPE '\\' OR a.actor LIKE ? ESCAPE '\\' OR IFNULL(a.key_id, '') LIKE ? ESCAPE '\\')",
                Box::new(like),
            );
        }
    }
    if let Some(after) = f.after_seq {
        bind(&mut sql, &format!(" AND {seq_col} > ?"), Box::new(after));
    }
    if let Some(before) = f.before_seq {
        bind(&mut sql, &format!(" AND {seq_col} < ?"), Box::new(before));
    }
    let order = if f.newest_first { "DESC" } else { "ASC" };
    sql.push_str(&format!(" ORDER BY {seq_col} {order}"));
    if let Some(l) = f.limit {
        sql.push_str(&format!(" LIMIT {l}"));
    }
    let mut stmt = conn.prepare(&sql)?;
    let refs: Vec<&dyn rusqlite::ToSql> = args.iter().map(|b| b.as_ref()).collect();
    let rows = stmt.query_map(refs.as_slice(), |r| {
        let details: String = r.get(8)?;
        let hash: Vec<u8> = r.get(9)?;
        Ok(AuditEvent {
            seq: r.get(0)?,
            at: r.get(1)?,
            actor: r.get(2)?,
            source: r.get(3)?,
            action: r.get(4)?,
            key_id: r.get(5)?,
            version: r.get(6)?,
            outcome: r.get(7)?,
            details: serde_json::from_str(&details).unwrap_or(Value::String(details)),
            hash: hex(&hash),
        })
    })?;
    Ok(rows.collect::<Result<Vec<_>, _>>()?)
}

fn escape_like(s: &str) -> String {
    s.replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_")
}

/// Lowercase hex.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The result of walking the chain.
#[derive(Debug, Clone, Serialize, ts_rs::TS)]
pub struct ChainReport {
    pub intact: bool,
    pub events: i64,
    pub last_seq: Option<i64>,
    /// The first event that does not chain, and why.
    pub first_broken: Option<BrokenLink>,
    /// How the end of the chain was anchored outside the database
    /// (the keyed checkpoint), or why that could not be checked.
    pub anchor: Option<String>,
}

/// Where and why the chain breaks.
#[derive(Debug, Clone, Serialize, ts_rs::TS)]
pub struct BrokenLink {
    pub seq: i64,
    pub problem: String,
}

/// Where the chain starts: the genesis value at sequence 0, or, after an
/// archive, the last archived event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Anchor {
    pub seq: i64,
    pub hash: Vec<u8>,
}

/// The chain's anchor: the archive base recorded in `meta`, else the genesis.
pub fn anchor(conn: &Connection, genesis: &[u8]) -> Result<Anchor> {
    let base: Option<String> = conn
        .query_row("SELECT v FROM meta WHERE k = 'audit_base'", [], |r| {
            r.get(0)
        })
        .optional()?;
    if let Some(b) = base {
        let parsed = b
            .split_once(':')
            .and_then(|(s, h)| Some((s.parse::<i64>().ok()?, from_hex(h)?)));
        return match parsed {
            Some((seq, hash)) => Ok(Anchor { seq, hash }),
            None => Err(Error::Database(
                "the audit archive base is corrupted: restore the database from a backup".into(),
            )),
        };
    }
    Ok(Anchor {
        seq: 0,
        hash: genesis.to_vec(),
    })
}

/// Lowercase hex back to bytes.
pub fn from_hex(s: &str) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok())
        .collect()
}

/// One stored event with its links, as read back for checking.
struct StoredEvent {
    seq: i64,
    at: String,
    actor: String,
    source: String,
    action: String,
    key_id: Option<String>,
    version: Option<i64>,
    outcome: String,
    details: String,
    prev_hash: Vec<u8>,
    hash: Vec<u8>,
}

const STORED_COLUMNS: &str =
    "seq, at, actor, source, action, key_id, version, outcome, details, prev_hash, hash";

impl StoredEvent {
    fn read(r: &rusqlite::Row<'_>) -> rusqlite::Result<StoredEvent> {
        Ok(StoredEvent {
            seq: r.get(0)?,
            at: r.get(1)?,
            actor: r.get(2)?,
            source: r.get(3)?,
            action: r.get(4)?,
            key_id: r.get(5)?,
            version: r.get(6)?,
            outcome: r.get(7)?,
            details: r.get(8)?,
            prev_hash: r.get(9)?,
            hash: r.get(10)?,
        })
    }

    /// Why this event does not follow `prev` at `expected_seq`, if it does not.
    fn link_problem(&self, expected_seq: i64, prev: &[u8]) -> Option<String> {
        let seq = self.seq;
        if seq != expected_seq {
            return Some(if seq > expected_seq {
                format!("events #{expected_seq}..#{} are missing (deleted)", seq - 1)
            } else {
                format!("event #{seq} is out of order")
            });
        }
        if self.prev_hash != prev {
            return Some(format!(
                "event #{seq} does not follow event #{} (inserted, removed or reordered events)",
                seq - 1
            ));
        }
        let fields = ChainedFields {
            seq,
            at: &self.at,
            actor: &self.actor,
            source: &self.source,
            action: &self.action,
            key_id: self.key_id.as_deref(),
            version: self.version,
            outcome: &self.outcome,
            details: &self.details,
        };
        if event_hash(prev, &fields).as_slice() != self.hash.as_slice() {
            return Some(format!("event #{seq} was altered after it was written"));
        }
        None
    }
}

/// Walks every event in order and recomputes the chain.
pub fn verify(conn: &Connection, genesis: &[u8]) -> Result<ChainReport> {
    let start = anchor(conn, genesis)?;
    let mut stmt = conn.prepare(&format!("SELECT {STORED_COLUMNS} FROM audit ORDER BY seq"))?;
    let mut rows = stmt.query([])?;
    let mut prev = start.hash;
    let mut expected_seq = start.seq + 1;
    let mut count = 0i64;
    let mut last_seq = None;
    while let Some(r) = rows.next()? {
        let ev = StoredEvent::read(r)?;
        count += 1;
        if let Some(problem) = ev.link_problem(expected_seq, &prev) {
            return Ok(ChainReport {
                intact: false,
                events: count,
                last_seq,
                first_broken: Some(BrokenLink {
                    seq: ev.seq,
                    problem,
                }),
                anchor: None,
            });
        }
        last_seq = Some(ev.seq);
        prev = ev.hash;
        expected_seq += 1;
    }
    Ok(ChainReport {
        intact: true,
        events: count,
        last_seq,
        first_broken: None,
        anchor: None,
    })
}

/// The end of the chain, `(seq, hash)`, when the stored events extend the
/// chain position `(from_seq, from_hash)` (a checkpoint): that event is
/// still there with that hash, or is the archive base or older, and every
/// later event links to it intact. `None` when they do not: the newest
/// events were removed or rewritten, or a later one was altered. Walks only
/// the events after `from_seq`.
pub fn extends(
    conn: &Connection,
    genesis: &[u8],
    from_seq: i64,
    from_hash: &[u8],
) -> Result<Option<(i64, Vec<u8>)>> {
    // One read transaction: the anchor, the checkpointed event and the
    // events after it are one snapshot, whatever other processes append.
    let tx = conn.unchecked_transaction()?;
    let base = anchor(&tx, genesis)?;
    let (mut prev, mut expected_seq) = if from_seq < base.seq {
        // Archived since: the signed base (checked by `verify`) continues it.
        (base.hash, base.seq + 1)
    } else if from_seq == base.seq {
        if base.hash != from_hash {
            return Ok(None);
        }
        (base.hash, base.seq + 1)
    } else {
        let at: Option<Vec<u8>> = tx
            .query_row("SELECT hash FROM audit WHERE seq = ?1", [from_seq], |r| {
                r.get(0)
            })
            .optional()?;
        if at.as_deref() != Some(from_hash) {
            return Ok(None);
        }
        (from_hash.to_vec(), from_seq + 1)
    };
    let mut stmt = tx.prepare(&format!(
        "SELECT {STORED_COLUMNS} FROM audit WHERE seq >= ?1 ORDER BY seq"
    ))?;
    let mut rows = stmt.query([expected_seq])?;
    while let Some(r) = rows.next()? {
        let ev = StoredEvent::read(r)?;
        if ev.link_problem(expected_seq, &prev).is_some() {
            return Ok(None);
        }
        prev = ev.hash;
        expected_seq += 1;
    }
    Ok(Some((expected_seq - 1, prev)))
}

/// Counts events.
pub fn count(conn: &Connection) -> Result<i64> {
    conn.query_row("SELECT COUNT(*) FROM audit", [], |r| r.get(0))
        .map_err(Error::from)
}
