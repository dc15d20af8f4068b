//! Output shaping shared by every subcommand: JSON documents on stdout,
//! one-line errors on stderr.

use keyward_core::vault::{Source, VaultOptions};
use keyward_core::{Error, Result, Vault};
use serde_json::Value;
use std::io::Write;
use std::path::PathBuf;

/// What every subcommand needs: global flags and a way to open the vault.
pub struct Ctx {
    pub json: bool,
    pub quiet: bool,
    vault_dir: Option<PathBuf>,
}

impl Ctx {
    pub fn new(vault_dir: Option<PathBuf>, json: bool, quiet: bool) -> Self {
        Ctx {
            json,
            quiet,
            vault_dir,
        }
    }

    /// The vault directory named by `--vault`/`KEYWARD_VAULT` or the platform default.
    pub fn vault_dir(&self) -> Result<PathBuf> {
        match &self.vault_dir {
            Some(d) => Ok(d.clone()),
            None => keyward_core::vault::default_dir(),
        }
    }

    /// Opens (creating on first use) the vault named by `--vault`/`KEYWARD_VAULT`
    /// or the platform default.
    pub fn open_vault(&self) -> Result<Vault> {
        Vault::open(VaultOptions::new(self.vault_dir()?, Source::Cli))
    }

    /// Opens the vault only if it already exists (read-only helpers such as
    /// `jwt inspect` must not create one).
    pub fn open_existing_vault(&self) -> Result<Option<Vault>> {
        let dir = match &self.vault_dir {
            Some(d) => d.clone(),
            None => match keyward_core::vault::default_dir() {
                Ok(d) => d,
                Err(_) => return Ok(None),
            },
        };
        if !dir.join("vault.db").is_file() {
            return Ok(None);
        }
        Vault::open(VaultOptions::new(dir, Source::Cli)).map(Some)
    }

    /// Prints `json` with `--json`, otherwise the human text (unless `--quiet`
    /// and the text is not essential).
    pub fn emit(&self, json: &Value, human: impl FnOnce() -> String) {
        let mut out = std::io::stdout().lock();
        if self.json {
            let _ = writeln!(
                out,
                "{}",
                serde_json::to_string_pretty(json).unwrap_or_default()
            );
        } else {
            let text = human();
            if !text.is_empty() {
                let _ = writeln!(out, "{}", text.trim_end_matches('\n'));
            }
        }
    }

    /// Prints an informational line on stderr unless `--quiet`.
    pub fn note(&self, text: &str) {
        if !self.quiet {
            eprintln!("{text}");
        }
    }

    /// Reports an error: one line on stderr, and a JSON error document with `--json`.
    pub fn report_error(&self, e: &Error) {
        let message = e.to_string();
        let line = message.lines().next().unwrap_or("");
        eprintln!("keyward: {line}");
        if self.json {
            print_error_json(e.code(), line);
        }
    }
}

/// Writes `{"error":{"code","message"}}` on stdout.
pub fn print_error_json(code: &str, message: &str) {
    let doc = serde_json::json!({"error": {"code": code, "message": message}});
    println!("{doc}");
}
