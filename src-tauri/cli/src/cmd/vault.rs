//! `keyward vault info` and `keyward vault check [--repair]`.

use crate::output::Ctx;
use clap::Subcommand;
use keyward_core::Result;

#[derive(Subcommand)]
pub enum VaultCmd {
    /// Set up the vault: personal (OS keychain) or a team vault on OpenBao.
    Init(Box<super::team::InitArgs>),
    /// Where the vault is, its schema, keychain backend and counts.
    Info,
    /// Compare the database with the keychain and the audit chain.
    Check {
        /// Finish or roll back interrupted operations and remove orphan entries.
        #[arg(long)]
        repair: bool,
    },
}

pub fn run(ctx: &Ctx, cmd: VaultCmd) -> Result<u8> {
    match cmd {
        VaultCmd::Init(args) => super::team::run_init(ctx, *args),
        VaultCmd::Info => {
            let vault = ctx.open_vault()?;
            let info = vault.info()?;
            let mut doc = serde_json::to_value(&info).unwrap_or_default();
            if vault.is_team() {
                doc["team"] = serde_json::to_value(vault.backend_status()).unwrap_or_default();
            }
            ctx.emit(&doc, || {
                format!(
                    "vault            {}\ndata directory   {}\ndatabase         {} (schema v{})\nkeychain         {} [{}] {}\nkeys             {}\naudit events     {}",
                    info.vault_id,
                    info.data_dir,
                    info.database,
                    info.schema_version,
                    info.keychain_backend,
                    info.keychain_namespace,
                    match &info.keychain_error {
                        None => "reachable".to_string(),
                        Some(e) => format!("UNREACHABLE: {e}"),
                    },
                    info.keys,
                    info.events
                )
            });
            Ok(0)
        }
        VaultCmd::Check { repair } => {
            let mut vault = ctx.open_vault()?;
            let report = vault.check(repair)?;
            ctx.emit(&serde_json::to_value(&report).unwrap_or_default(), || {
                let mut out = String::new();
                for r in &report.repaired {
                    out.push_str(&format!("repaired: {r}\n"));
                }
                for p in &report.in_progress {
                    out.push_str(&format!("in progress: {p}\n"));
                }
                if report.consistent {
                    out.push_str(&format!(
                        "vault is consistent: {} key versions match the keychain, {} audit events chain",
                        report.versions_checked, report.audit_events
                    ));
                } else {
                    for p in &report.problems {
                        out.push_str(&format!("problem: {}\n  repair: {}\n", p.detail, p.repair));
                    }
                    if report.problems.iter().any(|p| p.repairable) {
                        out.push_str("run `keyward vault check --repair` to fix the repairable problems");
                    }
                }
                out
            });
            Ok(if report.consistent { 0 } else { 1 })
        }
    }
}
