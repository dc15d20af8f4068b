//! Seeds a vault for the desktop performance script (tests/e2e/perf.mjs)
//! through the core's public API: `--keys N` API keys (each in the
//! keychain, as the app makes them) and `--events N` audit events appended
//! to the hash chain in batches, then anchored so the chain verifies.
//!
//!     cargo run --example seed_bulk -- VAULT_DIR [--keys 1000] [--events 1000000]

use keyward_core::audit::log::append;
use keyward_core::audit::{NewEvent, Outcome};
use keyward_core::db::{self, Transaction};
use keyward_core::vault::{NewApiKey, Source, Vault, VaultOptions};
use std::time::Instant;

const ACTIONS: [&str; 6] = [
    "key.create",
    "key.rotate",
    "key.reveal",
    "token.sign",
    "token.verify",
    "key.export",
];

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let dir = args
        .first()
        .expect("usage: seed_bulk VAULT_DIR [--keys N] [--events N]");
    let flag = |name: &str| -> usize {
        args.iter()
            .position(|a| a == name)
            .and_then(|i| args.get(i + 1))
            .map(|v| v.parse().expect("a number"))
            .unwrap_or(0)
    };
    let (keys, events) = (flag("--keys"), flag("--events"));
    let mut vault = Vault::open(VaultOptions::new(dir, Source::Cli)).expect("open the vault");

    let t = Instant::now();
    for i in 0..keys {
        vault
            .create_api_key(NewApiKey {
                name: format!("service-{i:04}"),
                scopes: vec![["read", "write", "admin"][i % 3].to_string()],
                expires_in: (i % 5 == 0).then(|| chrono::Duration::days(3 + (i % 60) as i64)),
                ..NewApiKey::default()
            })
            .expect("create a key");
    }
    if keys > 0 {
        eprintln!(
            "seed_bulk: {keys} keys in {:.1} s",
            t.elapsed().as_secs_f64()
        );
    }
    drop(vault);

    if events > 0 {
        let t = Instant::now();
        let conn = db::open(&std::path::Path::new(dir).join("vault.db")).expect("open the db");
        let genesis: String = conn
            .query_row("SELECT v FROM meta WHERE k = 'audit_genesis'", [], |r| {
                r.get(0)
            })
            .expect("genesis");
        let genesis = keyward_core::audit::log::from_hex(&genesis).expect("hex genesis");
        let start = chrono::Utc::now() - chrono::Duration::seconds(events as i64 * 2);
        let mut i = 0usize;
        while i < events {
            let tx = Transaction::immediate(&conn).expect("transaction");
            for _ in 0..10_000.min(events - i) {
                let at = keyward_core::duration::rfc3339(
                    start + chrono::Duration::seconds(i as i64 * 2),
                );
                let key = format!("k_{:06x}", (i * 7919) % 1000);
                append(
                    &tx,
                    &genesis,
                    &NewEvent {
                        at: &at,
                        actor: "seed",
                        source: "cli",
                        action: ACTIONS[i % ACTIONS.len()],
                        key_id: Some(&key),
                        version: Some(1),
                        outcome: Outcome::Success,
                        details: serde_json::json!({"name": format!("service-{:04}", i % 1000), "n": i}),
                    },
                )
                .expect("append");
                i += 1;
            }
            tx.commit().expect("commit");
        }
        conn.execute_batch("PRAGMA wal_checkpoint(TRUNCATE); ANALYZE;")
            .expect("checkpoint");
        drop(conn);
        let vault = Vault::open(VaultOptions::new(dir, Source::Cli)).expect("reopen");
        vault
            .anchor_checkpoint()
            .expect("anchor the audit checkpoint");
        eprintln!(
            "seed_bulk: {events} events in {:.1} s",
            t.elapsed().as_secs_f64()
        );
    }
}
