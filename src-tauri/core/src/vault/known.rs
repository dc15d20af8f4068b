//! The desktop app's vault switcher: which vaults the user has added (the
//! personal default is always there), which one was open last, and what
//! each one is — personal (OS keychain) or a team vault on OpenBao.
//!
//! Kept in `desktop.json` in the app's configuration directory
//! (`$XDG_CONFIG_HOME/keyward/` and the platform equivalents): directories
//! only, never a credential. Describing a vault reads its `team.json` and
//! nothing else: no vault is opened and no server is asked, so the list
//! shows even when a team's OpenBao is down.

use super::default_dir;
use super::desktop::write_atomically;
use crate::error::{Error, Result};
use crate::team::TeamConfig;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use ts_rs::TS;

/// `desktop.json`. `vault` is the one open last (the only member before
/// the switcher existed); `vaults` the ones the user added.
#[derive(Debug, Default, Serialize, Deserialize)]
struct DesktopFile {
    #[serde(default)]
    vault: Option<PathBuf>,
    #[serde(default)]
    vaults: Vec<PathBuf>,
}

/// What kind of vault a directory holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "lowercase")]
pub enum VaultKind {
    /// Secrets in the OS keychain.
    Personal,
    /// A client of a team vault on OpenBao (`team.json`).
    Team,
}

/// A vault in the switcher.
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
pub struct KnownVault {
    #[ts(type = "string")]
    pub dir: PathBuf,
    pub kind: VaultKind,
    /// The team's name (team vaults).
    pub team: Option<String>,
    /// The OpenBao address (team vaults).
    pub addr: Option<String>,
    /// The platform's default vault directory.
    pub default: bool,
    /// Why `team.json` cannot be read, with what to do.
    pub error: Option<String>,
}

impl KnownVault {
    /// Describes the vault in `dir` from its files alone.
    pub fn describe(dir: &Path, default: bool) -> KnownVault {
        let mut v = KnownVault {
            dir: dir.to_path_buf(),
            kind: VaultKind::Personal,
            team: None,
            addr: None,
            default,
            error: None,
        };
        match TeamConfig::load(dir) {
            Ok(None) => {}
            Ok(Some(c)) => {
                v.kind = VaultKind::Team;
                v.team = Some(c.team);
                v.addr = Some(c.addr);
            }
            Err(e) => {
                v.kind = VaultKind::Team;
                v.error = Some(e.to_string());
            }
        }
        v
    }
}

/// Where the desktop app puts team vaults' local caches by default: a
/// `teams` folder in the platform data directory's `keyward`.
pub fn teams_dir() -> Result<PathBuf> {
    Ok(default_dir()?.join("teams"))
}

/// The default local cache folder of team `team` (the name is checked
/// first: it becomes a path segment).
pub fn team_vault_dir(team: &str) -> Result<PathBuf> {
    crate::team::validate_team(team)?;
    Ok(teams_dir()?.join(team))
}

/// Where the desktop app keeps its list of vaults
/// (`$XDG_CONFIG_HOME/keyward/desktop.json` and the platform equivalents).
pub fn desktop_file() -> Option<PathBuf> {
    let base = if cfg!(windows) {
        std::env::var_os("APPDATA").map(PathBuf::from)
    } else if cfg!(target_os = "macos") {
        std::env::var_os("HOME").map(|h| PathBuf::from(h).join("Library/Application Support"))
    } else {
        std::env::var_os("XDG_CONFIG_HOME")
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
            .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".config")))
    };
    base.map(|b| b.join("keyward").join("desktop.json"))
}

/// A missing or unreadable file is an empty list: the app still starts on
/// the default vault, and the next save rewrites it.
fn read(file: &Path) -> DesktopFile {
    std::fs::read(file)
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok())
        .unwrap_or_default()
}

fn write(file: &Path, data: &DesktopFile) -> Result<()> {
    if let Some(parent) = file.parent() {
        std::fs::create_dir_all(parent)
            .map_err(|e| Error::Io(format!("cannot create {}: {e}", parent.display())))?;
    }
    let text = serde_json::to_string_pretty(data).unwrap_or_default();
    write_atomically(file, text.as_bytes())
}

fn no_config_dir() -> Error {
    Error::Io("cannot find a configuration directory for the app's vault list: set HOME".into())
}

/// The vault directory open last in the app, if any.
pub fn chosen_vault() -> Option<PathBuf> {
    read(&desktop_file()?).vault
}

/// Remembers `dir` as the vault to open next time, and adds it to the list.
pub fn remember_vault(dir: &Path) -> Result<()> {
    remember_in(&desktop_file().ok_or_else(no_config_dir)?, dir)
}

fn remember_in(file: &Path, dir: &Path) -> Result<()> {
    let mut data = read(file);
    if !data.vaults.iter().any(|d| d == dir) {
        data.vaults.push(dir.to_path_buf());
    }
    data.vault = Some(dir.to_path_buf());
    write(file, &data)
}

/// Removes `dir` from the list (its files stay). The default vault and the
/// open one cannot be forgotten.
pub fn forget_vault(dir: &Path, open: &Path) -> Result<()> {
    if dir == open {
        return Err(Error::invalid(
            "vault_open",
            "this vault is open: switch to another one first",
        ));
    }
    if default_dir().ok().as_deref() == Some(dir) {
        return Err(Error::invalid(
            "vault_default",
            "the personal default vault is always listed",
        ));
    }
    let file = desktop_file().ok_or_else(no_config_dir)?;
    let mut data = read(&file);
    data.vaults.retain(|d| d != dir);
    write(&file, &data)
}

/// The switcher's list: the personal default first, then every vault the
/// user added, then `open` when it is neither (a `KEYWARD_VAULT` choice);
/// each once.
pub fn known_vaults(open: Option<&Path>) -> Vec<KnownVault> {
    let added = desktop_file().map(|f| read(&f).vaults).unwrap_or_default();
    list(default_dir().ok(), added, open)
}

fn list(default: Option<PathBuf>, added: Vec<PathBuf>, open: Option<&Path>) -> Vec<KnownVault> {
    let mut dirs: Vec<PathBuf> = Vec::new();
    for d in default
        .iter()
        .cloned()
        .chain(added)
        .chain(open.map(Path::to_path_buf))
    {
        if !dirs.contains(&d) {
            dirs.push(d);
        }
    }
    dirs.iter()
        .map(|d| KnownVault::describe(d, default.as_deref() == Some(d.as_path())))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_directory_with_team_json_is_a_team_vault_and_a_broken_one_says_so() {
        let dir = tempfile::tempdir().unwrap();
        let v = KnownVault::describe(dir.path(), false);
        assert_eq!(v.kind, VaultKind::Personal);
        assert!(v.team.is_none() && v.error.is_none());

        std::fs::write(dir.path().join("team.json"), "{").unwrap();
        let v = KnownVault::describe(dir.path(), false);
        assert_eq!(v.kind, VaultKind::Team);
        assert!(v.error.as_deref().unwrap().contains("vault init"), "{v:?}");
    }

    #[test]
    fn a_team_cache_is_named_after_its_team_and_a_name_cannot_leave_the_folder() {
        let dir = team_vault_dir("payments").unwrap();
        assert_eq!(dir, teams_dir().unwrap().join("payments"));
        for bad in ["", "../etc", "a/b", ".hidden"] {
            let e = team_vault_dir(bad).unwrap_err();
            assert_eq!(e.code(), "bad_team", "{bad:?}");
        }
    }

    #[test]
    fn the_old_single_vault_file_still_reads() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("desktop.json");
        std::fs::write(&f, r#"{"vault": "/somewhere/vault"}"#).unwrap();
        let d = read(&f);
        assert_eq!(d.vault.as_deref(), Some(Path::new("/somewhere/vault")));
        assert!(d.vaults.is_empty());
        // Garbage is an empty list, not a failure to start.
        std::fs::write(&f, "not json").unwrap();
        assert!(read(&f).vault.is_none());
    }

    #[test]
    fn remembered_vaults_are_listed_once_after_the_default() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("keyward/desktop.json");
        let team = dir.path().join("team");
        remember_in(&f, &team).unwrap();
        remember_in(&f, &dir.path().join("other")).unwrap();
        remember_in(&f, &team).unwrap();
        let d = read(&f);
        assert_eq!(d.vault.as_deref(), Some(team.as_path()));
        assert_eq!(d.vaults.len(), 2);

        let default = dir.path().join("default");
        let env = dir.path().join("from-env");
        let l = list(Some(default.clone()), d.vaults, Some(&env));
        let dirs: Vec<_> = l.iter().map(|v| v.dir.clone()).collect();
        assert_eq!(dirs, [default, team, dir.path().join("other"), env]);
        assert!(l[0].default && !l[1].default);
    }
}
