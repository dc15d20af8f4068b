//! Audit log at scale: fills a vault with 1,000,000 events (override with
//! `KEYWARD_BENCH_EVENTS`) and reports, each beside a baseline measured in
//! the same run on the same rows:
//!
//! - append rate in batches (baseline: plain INSERTs of the same rows into a
//!   table with no chain, index or search);
//! - a filtered page of 100 by key, by action, by time range and by `--grep`
//!   (baseline: the bare `SELECT` of a page of 100 by sequence number);
//! - full `audit verify` (baseline: reading the same rows, and SHA-256 over
//!   the same bytes);
//! - CSV export throughput (baseline: reading the same rows).
//!
//! Run: `scripts/with-keyring.sh cargo bench -p keyward-core --bench audit`
//! (the export signs checkpoints with the keychain-held audit key).

use keyward_core::audit::export::ExportFormat;
use keyward_core::audit::log::append;
use keyward_core::audit::{AuditFilter, NewEvent, Outcome};
use keyward_core::db::{self, Transaction};
use keyward_core::vault::{Source, VaultOptions};
use keyward_core::Vault;
use sha2::{Digest, Sha256};
use std::time::{Duration, Instant};

const ACTIONS: [&str; 8] = [
    "key.create",
    "key.rotate",
    "key.revoke",
    "key.reveal",
    "key.export",
    "token.sign",
    "token.revoke",
    "vault.check",
];

fn median(mut xs: Vec<Duration>) -> Duration {
    xs.sort();
    xs[xs.len() / 2]
}

fn ms(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1e3)
}

fn main() {
    let n: i64 = std::env::var("KEYWARD_BENCH_EVENTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_000_000);
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("vault");
    let vault = Vault::open(VaultOptions::new(&path, Source::Cli)).expect("open vault");
    drop(vault);
    let conn = db::open(&path.join("vault.db")).expect("open db");
    let genesis: String = conn
        .query_row("SELECT v FROM meta WHERE k = 'audit_genesis'", [], |r| {
            r.get(0)
        })
        .unwrap();
    let genesis = keyward_core::audit::log::from_hex(&genesis).unwrap();
    let start = chrono::DateTime::parse_from_rfc3339("2025-01-01T00:00:00Z")
        .unwrap()
        .with_timezone(&chrono::Utc);

    let event = |i: i64| {
        let at = keyward_core::duration::rfc3339(start + chrono::Duration::seconds(i * 30));
        let key = format!("k_{:06x}", (i * 7919) % 1000);
        let details = serde_json::json!({"name": format!("service-{}", i % 1000), "kind": if i % 2 == 0 { "api" } else { "signing" }, "note": format!("ticket OPS-{}", i % 50_000)});
        (at, key, ACTIONS[(i % 8) as usize], details)
    };

    println!(
        "Keyward audit benchmark: {n} events, batches of 10,000 (SQLite WAL, synchronous=FULL)\n"
    );

    // Baseline append: the same rows, plain table, no hash, no indexes, no FTS.
    conn.execute_batch("CREATE TABLE plain (seq INTEGER PRIMARY KEY, at TEXT, actor TEXT, source TEXT, action TEXT, key_id TEXT, version INTEGER, outcome TEXT, details TEXT)").unwrap();
    let t = Instant::now();
    for chunk in (1..=n).collect::<Vec<_>>().chunks(10_000) {
        let tx = Transaction::immediate(&conn).unwrap();
        let mut st = tx
            .prepare_cached(
                "INSERT INTO plain VALUES (?1, ?2, 'alice', 'cli', ?3, ?4, 1, 'success', ?5)",
            )
            .unwrap();
        for &i in chunk {
            let (at, key, action, details) = event(i);
            st.execute(rusqlite::params![i, at, action, key, details.to_string()])
                .unwrap();
        }
        drop(st);
        tx.commit().unwrap();
    }
    let plain = t.elapsed();
    conn.execute_batch("DROP TABLE plain").unwrap();

    let t = Instant::now();
    for chunk in (1..=n).collect::<Vec<_>>().chunks(10_000) {
        let tx = Transaction::immediate(&conn).unwrap();
        for &i in chunk {
            let (at, key, action, details) = event(i);
            append(
                &tx,
                &genesis,
                &NewEvent {
                    at: &at,
                    actor: "alice",
                    source: "cli",
                    action,
                    key_id: Some(&key),
                    version: Some(1),
                    outcome: Outcome::Success,
                    details,
                },
            )
            .unwrap();
        }
        tx.commit().unwrap();
    }
    let chained = t.elapsed();
    let rate = |d: Duration| n as f64 / d.as_secs_f64();
    println!("append (chain + indexes + trigram search)  {:>10.0} events/s   baseline plain INSERT {:>10.0} events/s   ratio {:.2}x slower", rate(chained), rate(plain), chained.as_secs_f64() / plain.as_secs_f64());
    conn.execute_batch("PRAGMA wal_checkpoint(TRUNCATE); ANALYZE;")
        .unwrap();

    let mut vault = Vault::open(VaultOptions::new(&path, Source::Cli)).expect("open vault");
    vault
        .anchor_checkpoint()
        .expect("anchor the checkpoint (needs the keychain)");
    // Baseline page: the bare SELECT of 100 rows by sequence number.
    let mut base = Vec::new();
    for p in 0..20 {
        let from = (p * 7_777 * n / 200_000) % (n - 200);
        let t = Instant::now();
        let mut st = conn
            .prepare_cached("SELECT * FROM audit WHERE seq > ?1 ORDER BY seq LIMIT 100")
            .unwrap();
        let rows: Vec<i64> = st
            .query_map([from], |r| r.get(0))
            .unwrap()
            .map(|r| r.unwrap())
            .collect();
        assert_eq!(rows.len(), 100);
        base.push(t.elapsed());
    }
    let base = median(base);
    println!(
        "\npage of 100 (median of 20 pages; target <= 50 ms)           baseline bare SELECT {}",
        ms(base)
    );
    type MakeFilter<'a> = Box<dyn Fn(i64) -> AuditFilter + 'a>;
    let filters: Vec<(&str, MakeFilter)> = vec![
        (
            "by key",
            Box::new(|p| AuditFilter {
                key_id: Some(format!("k_{:06x}", (p * 37) % 1000)),
                limit: Some(100),
                ..Default::default()
            }),
        ),
        (
            "by action",
            Box::new(|p| AuditFilter {
                action: Some(ACTIONS[(p % 8) as usize].into()),
                after_seq: Some(p * n / 25),
                limit: Some(100),
                ..Default::default()
            }),
        ),
        (
            "by time range",
            Box::new(move |p| {
                let from = start + chrono::Duration::seconds(p * n / 25 * 30);
                AuditFilter {
                    since: Some(keyward_core::duration::rfc3339(from)),
                    until: Some(keyward_core::duration::rfc3339(
                        from + chrono::Duration::days(7),
                    )),
                    limit: Some(100),
                    ..Default::default()
                }
            }),
        ),
        (
            "--grep (common word)",
            Box::new(|p| AuditFilter {
                grep: Some("service-".into()),
                after_seq: Some(p * n / 25),
                limit: Some(100),
                ..Default::default()
            }),
        ),
        (
            "--grep (rare text)",
            Box::new(|p| AuditFilter {
                grep: Some(format!("OPS-{}", 40_000 + p)),
                limit: Some(100),
                ..Default::default()
            }),
        ),
        (
            "newest first, by key",
            Box::new(|p| AuditFilter {
                key_id: Some(format!("k_{:06x}", (p * 91) % 1000)),
                newest_first: true,
                limit: Some(100),
                ..Default::default()
            }),
        ),
    ];
    for (name, f) in &filters {
        let mut times = Vec::new();
        let mut rows = 0;
        for p in 0..20 {
            let filter = f(p);
            let t = Instant::now();
            rows += vault.audit_list(&filter).unwrap().len();
            times.push(t.elapsed());
        }
        let m = median(times);
        println!(
            "  {name:<24} {:>10}   ({:>5.1}x baseline, {} rows/page avg)  {}",
            ms(m),
            m.as_secs_f64() / base.as_secs_f64(),
            rows / 20,
            if m <= Duration::from_millis(50) {
                "ok"
            } else {
                "OVER TARGET"
            }
        );
    }

    // Full verify vs reading the rows and hashing the same bytes.
    let t = Instant::now();
    let mut bytes = 0usize;
    {
        let mut st = conn.prepare("SELECT seq, at, actor, source, action, key_id, version, outcome, details, prev_hash, hash FROM audit ORDER BY seq").unwrap();
        let mut rows = st.query([]).unwrap();
        while let Some(r) = rows.next().unwrap() {
            for i in [1, 2, 3, 4, 5, 7, 8] {
                bytes += r
                    .get_ref(i)
                    .unwrap()
                    .as_bytes_or_null()
                    .unwrap()
                    .map_or(0, |b| b.len());
            }
            bytes += r.get_ref(9).unwrap().as_blob().unwrap().len() + 32;
        }
    }
    let select_all = t.elapsed();
    let buf = vec![0x5au8; bytes];
    let t = Instant::now();
    let mut h = Sha256::new();
    for chunk in buf.chunks(256) {
        h.update(chunk);
    }
    std::hint::black_box(h.finalize());
    let sha = t.elapsed();
    let t = Instant::now();
    let report = vault.audit_verify().unwrap();
    let verify = t.elapsed();
    assert!(report.intact, "{report:?}");
    println!(
        "\naudit verify ({} events, {:.0} MB chained; target <= 2 s)  {:>8.2} s   baseline SELECT all {:.2} s + SHA-256 of the bytes {:.2} s = {:.2} s   ratio {:.2}x  {}",
        report.events,
        bytes as f64 / 1e6,
        verify.as_secs_f64(),
        select_all.as_secs_f64(),
        sha.as_secs_f64(),
        (select_all + sha).as_secs_f64(),
        verify.as_secs_f64() / (select_all + sha).as_secs_f64(),
        if verify <= Duration::from_secs(2) { "ok" } else { "OVER TARGET" }
    );

    // CSV export throughput vs reading the rows.
    let mut sink = CountingSink(0);
    let t = Instant::now();
    let s = vault.audit_export(ExportFormat::Csv, &mut sink).unwrap();
    let export = t.elapsed();
    println!(
        "CSV export  {:>10.0} events/s ({:.0} MB/s, {} signed checkpoints)   baseline SELECT all {:>10.0} rows/s   ratio {:.2}x",
        s.events as f64 / export.as_secs_f64(),
        sink.0 as f64 / 1e6 / export.as_secs_f64(),
        s.checkpoints,
        n as f64 / select_all.as_secs_f64(),
        export.as_secs_f64() / select_all.as_secs_f64()
    );
    let size = std::fs::metadata(path.join("vault.db"))
        .map(|m| m.len())
        .unwrap_or(0);
    println!(
        "\ndatabase size {:.0} MB ({:.0} bytes/event)",
        size as f64 / 1e6,
        size as f64 / n as f64
    );
}

struct CountingSink(usize);

impl std::io::Write for CountingSink {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        self.0 += b.len();
        Ok(b.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}
