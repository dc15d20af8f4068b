//! `keyward vault init --backend keychain|openbao`: make a vault directory a
//! personal vault (the default) or a client of a team vault on OpenBao.

use crate::output::Ctx;
use clap::{Args, ValueEnum};
use keyward_core::team::{
    read_credential_file, Credential, InitRequest, DEFAULT_APPROLE_MOUNT, DEFAULT_AUDIT_FILE,
    DEFAULT_MOUNT, DEFAULT_TRANSIT_MOUNT,
};
use keyward_core::vault::{Source, VaultOptions};
use keyward_core::{Error, Result, Vault};
use std::path::PathBuf;

#[derive(Clone, Copy, ValueEnum)]
pub enum Backend {
    /// A personal vault in the OS keychain (the default; nothing to set up).
    Keychain,
    /// A team vault on an OpenBao server.
    Openbao,
}

#[derive(Args)]
pub struct InitArgs {
    #[arg(long, value_enum, default_value = "keychain")]
    backend: Backend,
    /// OpenBao's address, e.g. https://bao.example.com:8200; the nodes of
    /// a cluster comma-separated (tried in turn when one is down).
    #[arg(long, value_name = "URL", required_if_eq("backend", "openbao"))]
    addr: Option<String>,
    /// The KV v2 mount.
    #[arg(long, value_name = "PATH", default_value = DEFAULT_MOUNT)]
    mount: String,
    /// OpenBao namespace.
    #[arg(long, value_name = "NS")]
    namespace: Option<String>,
    /// The team: clients that init with the same team share its keys.
    #[arg(long, value_name = "NAME", default_value = "default")]
    team: String,
    /// A file holding the OpenBao token (kept in the OS keychain afterwards).
    #[arg(long, value_name = "PATH", conflicts_with_all = ["role_id", "secret_id_file"])]
    token_file: Option<PathBuf>,
    /// AppRole role id (with --secret-id-file).
    #[arg(long, value_name = "ID", requires = "secret_id_file")]
    role_id: Option<String>,
    /// A file holding the AppRole secret id (kept in the OS keychain afterwards).
    #[arg(long, value_name = "PATH", requires = "role_id")]
    secret_id_file: Option<PathBuf>,
    /// Where AppRole is mounted.
    #[arg(long, value_name = "PATH", default_value = DEFAULT_APPROLE_MOUNT)]
    approle_mount: String,
    /// Trust only this CA (PEM) for OpenBao's TLS certificate.
    #[arg(long, value_name = "PATH")]
    ca_file: Option<PathBuf>,
    /// The transit engine's mount (for --custody transit keys).
    #[arg(long, value_name = "PATH", default_value = DEFAULT_TRANSIT_MOUNT)]
    transit_mount: String,
    /// Where the server writes the file audit log this enables (a path on
    /// the OpenBao server; `none` skips it).
    #[arg(long, value_name = "PATH", default_value = DEFAULT_AUDIT_FILE)]
    audit_file: String,
}

pub fn run_init(ctx: &Ctx, args: InitArgs) -> Result<u8> {
    let dir = ctx.vault_dir()?;
    match args.backend {
        Backend::Keychain => {
            let vault = Vault::open(VaultOptions::new(&dir, Source::Cli))?;
            if vault.is_team() {
                return Err(Error::conflict(
                    "team_vault",
                    format!(
                        "{} is a team vault on OpenBao (team.json): use another --vault directory for a personal vault",
                        dir.display()
                    ),
                ));
            }
            let info = vault.info()?;
            ctx.emit(&serde_json::to_value(&info).unwrap_or_default(), || {
                format!(
                    "personal vault {} in {} (keys in the OS keychain: {}, {})",
                    info.vault_id,
                    info.data_dir,
                    info.keychain_backend,
                    if info.keychain_reachable {
                        "reachable"
                    } else {
                        "UNREACHABLE"
                    }
                )
            });
            Ok(0)
        }
        Backend::Openbao => {
            let addr = args.addr.unwrap_or_default();
            let credential = match (&args.token_file, &args.role_id, &args.secret_id_file) {
                (Some(f), None, None) => {
                    Credential::Token(read_credential_file(f, "--token-file")?)
                }
                (None, Some(role), Some(f)) => Credential::AppRole {
                    mount: args.approle_mount.clone(),
                    role_id: role.clone(),
                    secret_id: read_credential_file(f, "--secret-id-file")?,
                },
                _ => {
                    return Err(Error::invalid(
                        "credential_required",
                        "give --token-file PATH, or --role-id ID with --secret-id-file PATH",
                    ))
                }
            };
            let req = InitRequest {
                addr,
                mount: args.mount,
                namespace: args.namespace,
                team: args.team,
                credential,
                ca_file: args.ca_file,
                transit_mount: args.transit_mount,
                audit_file: Some(args.audit_file).filter(|a| a != "none"),
            };
            let (vault, report) = Vault::init_team(VaultOptions::new(&dir, Source::Cli), req)?;
            let keys = vault.info()?.keys;
            let mut doc = serde_json::to_value(&report).unwrap_or_default();
            doc["keys"] = keys.into();
            ctx.emit(&doc, || {
                format!(
                    "{} team vault {} ({}) at {} (mount {}, {})\nkeys        {keys}\naudit       {}\nconfig      {}",
                    if report.created { "created" } else { "joined" },
                    report.team,
                    report.team_vault_id,
                    report.addr,
                    report.mount,
                    report.auth,
                    report.audit_device,
                    report.config_file
                )
            });
            Ok(0)
        }
    }
}
