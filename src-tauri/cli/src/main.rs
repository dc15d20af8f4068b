//! `keyward`: the scriptable face of Keyward's core (see CLI.md).
//!
//! Each subcommand parses its flags, calls the core and shapes the output;
//! behaviour lives in `keyward-core`. Errors become one line on stderr (and a
//! JSON error document with `--json`) and the exit code of CLI.md.

mod cmd;
mod output;

use clap::{Parser, Subcommand};
use output::Ctx;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Parser)]
#[command(
    name = "keyward",
    version,
    about = "Keyward: API keys, signing keys and JWTs, kept in the OS keychain"
)]
struct Cli {
    /// The vault's data directory (default: the platform data directory).
    #[arg(long, global = true, env = "KEYWARD_VAULT", value_name = "DIR")]
    vault: Option<PathBuf>,
    /// Print one JSON document on stdout.
    #[arg(long, global = true)]
    json: bool,
    /// Print nothing but the essential result.
    #[arg(long, global = true)]
    quiet: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Create, import, rotate, revoke, reveal and export keys.
    #[command(subcommand)]
    Key(cmd::key::KeyCmd),
    /// Check API keys.
    #[command(subcommand)]
    Apikey(cmd::key::ApikeyCmd),
    /// Inspect, verify, sign and revoke JWTs.
    #[command(subcommand)]
    Jwt(cmd::jwt::JwtCmd),
    /// Vault information and consistency checks.
    #[command(subcommand)]
    Vault(cmd::vault::VaultCmd),
    /// The tamper-evident audit log.
    #[command(subcommand)]
    Audit(cmd::audit::AuditCmd),
    /// Find leaked credentials in files (exit 1 when any is found).
    Scan(cmd::scan::ScanArgs),
}

fn main() -> ExitCode {
    // Secrets pass through this process: never into a core dump.
    keyward_core::hardening::disable_core_dumps();
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            use clap::error::ErrorKind;
            if matches!(
                e.kind(),
                ErrorKind::DisplayHelp
                    | ErrorKind::DisplayVersion
                    | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand
            ) {
                let _ = e.print();
                return ExitCode::from(
                    if e.kind() == ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand {
                        2
                    } else {
                        0
                    },
                );
            }
            // One line for usage errors: clap's first line, without the help tail.
            let rendered = e.kind().as_str().map(str::to_string).unwrap_or_default();
            let text = e.to_string();
            let first = text
                .lines()
                .next()
                .unwrap_or(&rendered)
                .trim_start_matches("error: ");
            eprintln!("keyward: {first}");
            // args_os: `args()` panics on an argument that is not UTF-8.
            if std::env::args_os().any(|a| a == "--json") {
                output::print_error_json("usage", first);
            }
            return ExitCode::from(2);
        }
    };
    let ctx = Ctx::new(cli.vault, cli.json, cli.quiet);
    let result = match cli.command {
        Command::Key(c) => cmd::key::run(&ctx, c),
        Command::Apikey(c) => cmd::key::run_apikey(&ctx, c),
        Command::Jwt(c) => cmd::jwt::run(&ctx, c),
        Command::Vault(c) => cmd::vault::run(&ctx, c),
        Command::Audit(c) => cmd::audit::run(&ctx, c),
        Command::Scan(a) => cmd::scan::run(&ctx, a),
    };
    match result {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            ctx.report_error(&e);
            ExitCode::from(e.class().exit_code() as u8)
        }
    }
}
