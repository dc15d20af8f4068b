//! The vault switcher: the vaults the app knows (the personal default and
//! every vault the user added), switching between them, adding one from a
//! folder dialog, and the open vault's backend status (OS keychain, or
//! OpenBao's address, seal and leader).
//!
//! Listing and status never open a vault: a team vault whose OpenBao is
//! down still shows, with the reason and what to do.
//!
//! Joining (or creating) a team vault takes paths, never a credential: the
//! token or AppRole secret id stays in its file until the core reads it
//! and keeps it in the OS keychain, so it never crosses IPC.

use crate::files::{ask_file, ask_folder};
use crate::startup::StartupDue;
use crate::vault_access::{run_with_timeout, VaultLocation};
use crate::{IpcError, VaultAccess};
use keyward_core::team::{
    BackendStatus, CredentialFiles, InitReport, InitRequest, DEFAULT_APPROLE_MOUNT,
    DEFAULT_AUDIT_FILE, DEFAULT_MOUNT, DEFAULT_TRANSIT_MOUNT,
};
use keyward_core::vault::known::{
    forget_vault, known_vaults, team_vault_dir, teams_dir, KnownVault, VaultKind,
};
use keyward_core::vault::{Source, Vault, VaultOptions};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use tauri::{AppHandle, State};
use ts_rs::TS;

/// The switcher's contents.
#[derive(Debug, Clone, Serialize, TS)]
pub struct VaultList {
    pub vaults: Vec<KnownVault>,
    /// The open vault's directory.
    #[ts(type = "string")]
    pub open: PathBuf,
    /// True when `KEYWARD_VAULT` decides the vault (switching is refused).
    pub from_env: bool,
}

fn refuse_when_from_env(vault: &VaultAccess) -> Result<VaultLocation, IpcError> {
    let loc = vault.location()?;
    if loc.from_env {
        return Err(IpcError::new(
            "vault_from_env",
            "KEYWARD_VAULT selects the vault: unset it to switch vaults here",
        ));
    }
    Ok(loc)
}

/// The known vaults and which one is open (reads only their `team.json`).
#[tauri::command]
pub async fn list_vaults(vault: State<'_, VaultAccess>) -> Result<VaultList, IpcError> {
    let loc = vault.location()?;
    Ok(VaultList {
        vaults: known_vaults(Some(&loc.dir)),
        open: loc.dir,
        from_env: loc.from_env,
    })
}

/// Switches to a vault of the list (remembered for the next start) and
/// runs the start-up step on it: the session is opened and what is due is
/// applied, as at start (its report: `startup_due`).
#[tauri::command]
pub async fn switch_vault(
    app: AppHandle,
    vault: State<'_, VaultAccess>,
    due: State<'_, StartupDue>,
    dir: String,
) -> Result<VaultLocation, IpcError> {
    let open = refuse_when_from_env(&vault)?;
    let dir = PathBuf::from(dir);
    if !known_vaults(Some(&open.dir)).iter().any(|v| v.dir == dir) {
        return Err(IpcError::new(
            "unknown_vault",
            format!(
                "{} is not in the vault list: add it with \"Add a vault folder\"",
                dir.display()
            ),
        ));
    }
    Ok(opened(app, &due, vault.switch_to(dir)?))
}

/// A switch done: the vault opened gets the start-up step.
fn opened(app: AppHandle, due: &StartupDue, loc: VaultLocation) -> VaultLocation {
    due.spawn(app, Ok(loc.clone()));
    loc
}

/// Picks a vault folder in a dialog, adds it to the list and switches to
/// it. A folder without `team.json` is opened once (which creates a new
/// personal vault, or fails with the reason); a team vault's folder is
/// taken as it is, so an OpenBao that is down does not keep it out of the
/// list (its status says what is wrong). Then the start-up step runs on it,
/// as for a switch. `None`: cancelled.
#[tauri::command]
pub async fn choose_vault(
    app: AppHandle,
    vault: State<'_, VaultAccess>,
    due: State<'_, StartupDue>,
) -> Result<Option<VaultLocation>, IpcError> {
    refuse_when_from_env(&vault)?;
    let Some(dir) = ask_folder(&app, "Choose a vault folder").await? else {
        return Ok(None);
    };
    if KnownVault::describe(&dir, false).kind == VaultKind::Personal {
        let probe = dir.clone();
        run_with_timeout(move || {
            Vault::open(VaultOptions::new(probe, Source::Desktop)).map(|_| ())
        })
        .await?;
    }
    Ok(Some(opened(app, &due, vault.switch_to(dir)?)))
}

/// Removes a vault from the list; its files stay where they are.
#[tauri::command]
pub async fn forget_vault_entry(
    vault: State<'_, VaultAccess>,
    dir: String,
) -> Result<VaultList, IpcError> {
    let open = refuse_when_from_env(&vault)?;
    forget_vault(Path::new(&dir), &open.dir)?;
    list_vaults(vault).await
}

/// The open vault's backend: the OS keychain, or OpenBao's address, seal
/// state, version and leader (asked without a token; never opens the vault).
#[tauri::command]
pub async fn backend_status(vault: State<'_, VaultAccess>) -> Result<BackendStatus, IpcError> {
    let dir = vault.location()?.dir;
    run_with_timeout(move || Ok(keyward_core::team::status(&dir))).await
}

/// What the "Join a team vault" form starts from.
#[derive(Debug, Clone, Serialize, TS)]
pub struct TeamJoinDefaults {
    /// Where a team's local cache goes unless the user picks a folder
    /// (`<teams_dir>/<team>`).
    #[ts(type = "string")]
    pub teams_dir: PathBuf,
    pub mount: String,
    pub approle_mount: String,
}

/// The defaults of the "Join a team vault" form.
#[tauri::command]
pub async fn team_join_defaults() -> Result<TeamJoinDefaults, IpcError> {
    Ok(TeamJoinDefaults {
        teams_dir: teams_dir()?,
        mount: DEFAULT_MOUNT.into(),
        approle_mount: DEFAULT_APPROLE_MOUNT.into(),
    })
}

/// What a path field of the join form asks the dialog for.
#[derive(Debug, Clone, Copy, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum PathPurpose {
    /// The team vault's local cache folder.
    TeamFolder,
    TokenFile,
    SecretIdFile,
    CaFile,
}

/// A native dialog for one of the join form's paths (`None`: cancelled).
/// Only the path comes back; nothing is read.
#[tauri::command]
pub async fn pick_path(app: AppHandle, purpose: PathPurpose) -> Result<Option<String>, IpcError> {
    let picked = match purpose {
        PathPurpose::TeamFolder => ask_folder(&app, "Choose the team vault's folder").await?,
        PathPurpose::TokenFile => {
            ask_file(&app, "Choose the file holding the OpenBao token").await?
        }
        PathPurpose::SecretIdFile => {
            ask_file(&app, "Choose the file holding the AppRole secret id").await?
        }
        PathPurpose::CaFile => ask_file(&app, "Choose the CA certificate (PEM)").await?,
    };
    Ok(picked.map(|p| p.display().to_string()))
}

/// The "Join a team vault" form: names and paths only.
#[derive(Debug, Clone, Deserialize, TS)]
pub struct JoinTeamForm {
    pub team: String,
    /// OpenBao's address; a cluster's nodes comma-separated.
    pub addr: String,
    pub mount: String,
    pub namespace: Option<String>,
    #[ts(type = "string | null")]
    pub ca_file: Option<PathBuf>,
    /// The local cache folder; `None`: `<teams_dir>/<team>`.
    #[ts(type = "string | null")]
    pub dir: Option<PathBuf>,
    pub credential: CredentialFiles,
}

/// A team vault joined (or created) and opened.
#[derive(Debug, Clone, Serialize, TS)]
pub struct TeamJoined {
    pub location: VaultLocation,
    pub report: InitReport,
}

/// A path the user typed: relative ones would resolve against wherever
/// the app was started from.
fn absolute(path: PathBuf, what: &str) -> Result<PathBuf, IpcError> {
    if path.is_absolute() {
        Ok(path)
    } else {
        Err(IpcError::new(
            "relative_path",
            format!(
                "the {what} {} is not a full path: give it from the root, or choose it",
                path.display()
            ),
        ))
    }
}

/// Joins the team vault the form names, or creates it when the team does
/// not exist yet: the same core call as `keyward vault init --backend
/// openbao` (Rust reads the credential file; the core checks the server,
/// keeps the credential in the OS keychain and writes `team.json`). Then
/// the vault is added to the list and opened as a switch does: its session
/// is recorded (`vault.open`) and the start-up step runs.
#[tauri::command]
pub async fn join_team_vault(
    app: AppHandle,
    vault: State<'_, VaultAccess>,
    due: State<'_, StartupDue>,
    form: JoinTeamForm,
) -> Result<TeamJoined, IpcError> {
    refuse_when_from_env(&vault)?;
    let dir = match form.dir.filter(|d| !d.as_os_str().is_empty()) {
        Some(d) => absolute(d, "folder")?,
        None => team_vault_dir(form.team.trim())?,
    };
    let ca_file = form
        .ca_file
        .filter(|f| !f.as_os_str().is_empty())
        .map(|f| absolute(f, "CA file"))
        .transpose()?;
    let credential = match form.credential {
        CredentialFiles::Token { token_file } => CredentialFiles::Token {
            token_file: absolute(token_file, "token file")?,
        },
        CredentialFiles::Approle {
            mount,
            role_id,
            secret_id_file,
        } => CredentialFiles::Approle {
            mount,
            role_id,
            secret_id_file: absolute(secret_id_file, "secret id file")?,
        },
    };
    let target = dir.clone();
    let report = run_with_timeout(move || {
        let req = InitRequest {
            addr: form.addr.trim().to_string(),
            mount: form.mount.trim().to_string(),
            namespace: form
                .namespace
                .map(|n| n.trim().to_string())
                .filter(|n| !n.is_empty()),
            team: form.team.trim().to_string(),
            credential: credential.read()?,
            ca_file,
            transit_mount: DEFAULT_TRANSIT_MOUNT.into(),
            audit_file: Some(DEFAULT_AUDIT_FILE.into()),
        };
        Vault::init_team(VaultOptions::new(target, Source::Desktop), req).map(|(_, r)| r)
    })
    .await?;
    let location = opened(app, &due, vault.switch_to(dir)?);
    Ok(TeamJoined { location, report })
}
