//! `keyward jwt ...` (being built: inspect, verify, sign, revoke, crack).

use crate::output::Ctx;
use clap::Subcommand;
use keyward_core::Result;

#[derive(Subcommand)]
pub enum JwtCmd {
    /// Decode a token and lint it (no key needed).
    Inspect {
        /// The token, or `-` for stdin.
        token: Option<String>,
    },
}

pub fn run(_ctx: &Ctx, cmd: JwtCmd) -> Result<u8> {
    match cmd {
        JwtCmd::Inspect { .. } => Err(keyward_core::Error::invalid(
            "unsupported",
            "jwt inspect is not available in this build yet",
        )),
    }
}
