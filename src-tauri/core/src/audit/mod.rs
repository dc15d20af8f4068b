//! The tamper-evident audit log: an append-only SQLite table whose events are
//! hash-chained ([`chain`]), written in the same transaction as the change
//! they record ([`log::append`]).
//!
//! Never records a secret: details hold ids, names, algorithms, reasons.

pub mod chain;
pub mod checkpoint;
pub mod export;
pub mod log;

pub use log::{AuditEvent, AuditFilter, NewEvent, Outcome};
