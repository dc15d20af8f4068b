//! One module per top-level subcommand.

pub mod audit;
pub mod jwt;
pub mod key;
pub mod scan;
pub mod team;
pub mod vault;
