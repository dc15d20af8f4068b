//! The vault's SQLite database: opening with WAL and a busy timeout, and
//! versioned migrations (`db/migrations/NNNN_*.sql`, applied in order and
//! recorded in `PRAGMA user_version`).
//!
//! Never stores secret material: see the schema's header.

use crate::error::{Error, Result};
use rusqlite::{Connection, OpenFlags};
use std::path::Path;
use std::time::Duration;

/// Migrations in order; index + 1 is the schema version they produce.
const MIGRATIONS: &[&str] = &[
    include_str!("migrations/0001_init.sql"),
    include_str!("migrations/0002_audit_search.sql"),
    include_str!("migrations/0003_lifecycle_policy.sql"),
    include_str!("migrations/0004_team_sync.sql"),
];

/// The schema version this build writes.
pub const SCHEMA_VERSION: u32 = MIGRATIONS.len() as u32;

/// How long a writer waits for another process's transaction to finish.
const BUSY_TIMEOUT: Duration = Duration::from_secs(30);

/// Opens (creating if needed) the database at `path` and migrates it.
pub fn open(path: &Path) -> Result<Connection> {
    let flags = OpenFlags::SQLITE_OPEN_READ_WRITE
        | OpenFlags::SQLITE_OPEN_CREATE
        | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let conn = Connection::open_with_flags(path, flags)?;
    conn.busy_timeout(BUSY_TIMEOUT)?;
    // WAL lets the CLI and the app read while the other writes.
    let mode: String = conn.query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))?;
    if !mode.eq_ignore_ascii_case("wal") {
        return Err(Error::Database(format!(
            "the vault database could not switch to WAL mode (got {mode}): is the vault on a network file system?"
        )));
    }
    conn.execute_batch("PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON;")?;
    migrate(&conn)?;
    Ok(conn)
}

/// The schema version recorded in the database.
pub fn schema_version(conn: &Connection) -> Result<u32> {
    Ok(conn.query_row("PRAGMA user_version", [], |r| r.get(0))?)
}

fn migrate(conn: &Connection) -> Result<()> {
    let current = schema_version(conn)?;
    if current > SCHEMA_VERSION {
        return Err(Error::Database(format!(
            "the vault database has schema version {current}, newer than this Keyward understands ({SCHEMA_VERSION}): upgrade Keyward"
        )));
    }
    if current == SCHEMA_VERSION {
        return Ok(());
    }
    // An immediate transaction: two processes opening a new vault at once
    // must not both run the migrations.
    let conn_tx = Transaction::immediate(conn)?;
    let current = schema_version(conn_tx.conn())?;
    for (i, sql) in MIGRATIONS.iter().enumerate().skip(current as usize) {
        conn_tx.conn().execute_batch(sql)?;
        conn_tx
            .conn()
            .execute_batch(&format!("PRAGMA user_version = {}", i + 1))?;
    }
    conn_tx.commit()
}

/// A `BEGIN IMMEDIATE` transaction on a shared connection reference: writers
/// take the write lock up front, so concurrent processes queue on the busy
/// timeout instead of failing with "database is locked" at commit time.
pub struct Transaction<'c> {
    conn: &'c Connection,
    done: bool,
}

impl<'c> Transaction<'c> {
    /// Begins an immediate (write-locking) transaction.
    pub fn immediate(conn: &'c Connection) -> Result<Self> {
        conn.execute_batch("BEGIN IMMEDIATE")?;
        Ok(Transaction { conn, done: false })
    }

    /// The connection inside the transaction.
    pub fn conn(&self) -> &Connection {
        self.conn
    }

    /// Commits.
    pub fn commit(mut self) -> Result<()> {
        self.done = true;
        self.conn.execute_batch("COMMIT")?;
        Ok(())
    }
}

impl Drop for Transaction<'_> {
    fn drop(&mut self) {
        if !self.done {
            let _ = self.conn.execute_batch("ROLLBACK");
        }
    }
}

impl std::ops::Deref for Transaction<'_> {
    type Target = Connection;
    fn deref(&self) -> &Connection {
        self.conn
    }
}
