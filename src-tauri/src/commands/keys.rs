//! Key commands: list, show, create, import, the lifecycle transitions, and
//! the three audited ways a secret leaves the vault — reveal (to the
//! webview, on the user's explicit request), copy (straight to the
//! clipboard, never through the webview) and export (to a file the user
//! chose, written from Rust).

use crate::clipboard::{Clipboard, Copied};
use crate::files::{ask_save_path, write_file, Saved};
use crate::once::OnceSecrets;
use crate::{IpcError, VaultAccess};
use keyward_core::crack::{import_warnings, WeakSecret};
use keyward_core::crypto::Alg;
use keyward_core::duration::{parse_duration, parse_positive};
use keyward_core::keys::KeyKind;
use keyward_core::vault::team::LastChange;
use keyward_core::vault::{
    ExportFormat, KeyDetail, KeyFilter, KeySummary, NewApiKey, NewSigningKey, PolicyChange,
    Rotated, SecretUse,
};
use keyward_core::SecretBytes;
use keyward_core::Vault;
use serde::{Deserialize, Serialize};
use std::time::Duration;
use tauri::{AppHandle, State};
use ts_rs::TS;
use zeroize::Zeroizing;

/// Every key that is not destroyed, by name. Reads only the database.
#[tauri::command]
pub async fn list_keys(vault: State<'_, VaultAccess>) -> Result<Vec<KeySummary>, IpcError> {
    vault
        .with_vault(|v| v.list_keys(&KeyFilter::default()))
        .await
}

/// One key with its versions.
#[tauri::command]
pub async fn show_key(vault: State<'_, VaultAccess>, id: String) -> Result<KeyDetail, IpcError> {
    vault.with_vault(move |v| v.show_key(&id)).await
}

/// Who changed a key last: a team vault's OpenBao document, or the audit
/// log of a personal vault.
#[tauri::command]
pub async fn key_last_change(
    vault: State<'_, VaultAccess>,
    id: String,
) -> Result<Option<LastChange>, IpcError> {
    vault.with_vault(move |v| v.changed_last(&id)).await
}

/// The New key form.
#[derive(Debug, Clone, Deserialize, TS)]
pub struct NewKeyForm {
    pub kind: KeyKind,
    pub name: String,
    /// API keys: `kw` when empty.
    #[serde(default)]
    pub prefix: Option<String>,
    #[serde(default)]
    pub scopes: Vec<String>,
    /// `90d`; empty: never expires.
    #[serde(default)]
    pub expires_in: Option<String>,
    /// Signing keys.
    #[serde(default)]
    pub alg: Option<Alg>,
    /// RSA modulus size.
    #[serde(default)]
    pub bits: Option<u32>,
    #[serde(default)]
    pub note: Option<String>,
}

/// The Import key form: pasted or dropped PEM/JWK text (or an HMAC secret,
/// or a Keyward API key).
#[derive(Debug, Clone, Deserialize, TS)]
pub struct ImportForm {
    pub kind: KeyKind,
    pub name: String,
    pub text: String,
    #[serde(default)]
    pub alg: Option<Alg>,
    #[serde(default)]
    pub scopes: Vec<String>,
    #[serde(default)]
    pub expires_in: Option<String>,
}

/// A key just created or imported. A new API key's secret stays in Rust:
/// `secret_handle` lets the dialog show or copy it once.
#[derive(Debug, Clone, Serialize, TS)]
pub struct CreatedKey {
    pub id: String,
    pub name: String,
    pub kind: KeyKind,
    pub version: u32,
    pub alg: Option<String>,
    pub kid: Option<String>,
    pub thumbprint: Option<String>,
    pub public_only: bool,
    pub expires_at: Option<String>,
    pub secret_handle: Option<String>,
    /// `kw_…a1B2`: enough to recognise the key, not to use it.
    pub hint: Option<String>,
    /// Weak-secret findings for an imported HMAC key.
    pub warnings: Vec<WeakSecret>,
}

fn opt_text(s: &Option<String>) -> Option<String> {
    s.as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
}

fn clean_scopes(scopes: &[String]) -> Vec<String> {
    scopes
        .iter()
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .collect()
}

fn expires(s: &Option<String>) -> keyward_core::Result<Option<chrono::Duration>> {
    opt_text(s).map(|t| parse_positive(&t)).transpose()
}

fn hint(secret: &SecretBytes) -> Option<String> {
    let s = secret.expose_str()?;
    let (prefix, rest) = s.split_once('_')?;
    let last4: String = rest
        .chars()
        .rev()
        .take(4)
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .collect();
    Some(format!("{prefix}_…{last4}"))
}

/// Creates an API key or a signing key.
#[tauri::command]
pub async fn create_key(
    vault: State<'_, VaultAccess>,
    once: State<'_, OnceSecrets>,
    form: NewKeyForm,
) -> Result<CreatedKey, IpcError> {
    let (created, secret) = vault
        .with_vault(move |v| match form.kind {
            KeyKind::Api => {
                let issued = v.create_api_key(NewApiKey {
                    name: form.name.clone(),
                    prefix: opt_text(&form.prefix),
                    scopes: clean_scopes(&form.scopes),
                    expires_in: expires(&form.expires_in)?,
                    note: opt_text(&form.note),
                })?;
                let h = hint(&issued.secret);
                Ok((
                    CreatedKey {
                        id: issued.id,
                        name: issued.name,
                        kind: KeyKind::Api,
                        version: issued.version,
                        alg: None,
                        kid: None,
                        thumbprint: None,
                        public_only: false,
                        expires_at: issued.expires_at,
                        secret_handle: None,
                        hint: h,
                        warnings: Vec::new(),
                    },
                    Some(issued.secret),
                ))
            }
            KeyKind::Signing => {
                let alg = form.alg.ok_or_else(|| {
                    keyward_core::Error::invalid("alg_required", "choose an algorithm")
                })?;
                let c = v.create_signing_key(NewSigningKey {
                    name: form.name.clone(),
                    alg,
                    bits: form.bits.map(|b| b as usize),
                    expires_in: expires(&form.expires_in)?,
                    scopes: clean_scopes(&form.scopes),
                    note: opt_text(&form.note),
                })?;
                let expires_at = v.show_key(&c.id)?.summary.expires_at;
                Ok((
                    CreatedKey {
                        id: c.id,
                        name: c.name,
                        kind: KeyKind::Signing,
                        version: c.version,
                        alg: Some(c.alg),
                        kid: Some(c.kid),
                        thumbprint: c.thumbprint,
                        public_only: c.public_only,
                        expires_at,
                        secret_handle: None,
                        hint: None,
                        warnings: Vec::new(),
                    },
                    None,
                ))
            }
        })
        .await?;
    let mut created = created;
    if let Some(s) = secret {
        created.secret_handle = Some(once.put(s));
    }
    Ok(created)
}

/// Imports a signing key (PEM, certificate, JWK, or raw HMAC secret) or a
/// Keyward API key.
#[tauri::command]
pub async fn import_key(
    vault: State<'_, VaultAccess>,
    form: ImportForm,
) -> Result<CreatedKey, IpcError> {
    vault
        .with_vault(move |v| {
            let text = Zeroizing::new(form.text);
            let expires_in = expires(&form.expires_in)?;
            match form.kind {
                KeyKind::Api => {
                    let issued = v.import_api_key(
                        &form.name,
                        SecretBytes::from_slice(text.trim().as_bytes()),
                        clean_scopes(&form.scopes),
                        expires_in,
                    )?;
                    Ok(CreatedKey {
                        id: issued.id,
                        name: issued.name,
                        kind: KeyKind::Api,
                        version: issued.version,
                        alg: None,
                        kid: None,
                        thumbprint: None,
                        public_only: false,
                        expires_at: issued.expires_at,
                        secret_handle: None,
                        hint: None,
                        warnings: Vec::new(),
                    })
                }
                KeyKind::Signing => {
                    let warnings = form
                        .alg
                        .map(|a| import_warnings(a.as_str(), text.as_bytes()))
                        .unwrap_or_default();
                    let c = v.import_signing_key(
                        &form.name,
                        form.alg,
                        text.as_bytes(),
                        clean_scopes(&form.scopes),
                        expires_in,
                    )?;
                    let expires_at = v.show_key(&c.id)?.summary.expires_at;
                    Ok(CreatedKey {
                        id: c.id,
                        name: c.name,
                        kind: KeyKind::Signing,
                        version: c.version,
                        alg: Some(c.alg),
                        kid: Some(c.kid),
                        thumbprint: c.thumbprint,
                        public_only: c.public_only,
                        expires_at,
                        secret_handle: None,
                        hint: None,
                        warnings,
                    })
                }
            }
        })
        .await
}

/// A rotation's result; a new API key's secret stays in Rust behind `secret_handle`.
#[derive(Debug, Serialize, TS)]
pub struct RotatedKey {
    pub rotated: Rotated,
    pub secret_handle: Option<String>,
    pub hint: Option<String>,
}

/// Rotates (or, with `stage`, stages the next version of) a key.
#[tauri::command]
pub async fn rotate_key(
    vault: State<'_, VaultAccess>,
    once: State<'_, OnceSecrets>,
    id: String,
    grace: Option<String>,
    stage: bool,
) -> Result<RotatedKey, IpcError> {
    let mut rotated = vault
        .with_vault(move |v| {
            if stage {
                return v.stage_rotation(&id);
            }
            let grace = opt_text(&grace).map(|g| parse_duration(&g)).transpose()?;
            v.rotate(&id, grace)
        })
        .await?;
    let secret = rotated.secret.take();
    let hint = secret.as_ref().and_then(hint);
    Ok(RotatedKey {
        rotated,
        secret_handle: secret.map(|s| once.put(s)),
        hint,
    })
}

/// Promotes the staged version.
#[tauri::command]
pub async fn promote_key(
    vault: State<'_, VaultAccess>,
    id: String,
    min_published: Option<String>,
) -> Result<u32, IpcError> {
    vault
        .with_vault(move |v| {
            let min = opt_text(&min_published)
                .map(|g| parse_duration(&g))
                .transpose()?
                .unwrap_or_else(chrono::Duration::zero);
            v.promote(&id, min)
        })
        .await
}

/// A transition that takes one version or all of them, a reason, and
/// `force` for a version that signed recently (revoke, disable).
type VersionChange =
    fn(&mut Vault, &str, Option<u32>, &str, bool) -> keyward_core::Result<Vec<u32>>;

async fn change_versions(
    vault: &VaultAccess,
    change: VersionChange,
    id: String,
    version: Option<u32>,
    reason: String,
    force: bool,
) -> Result<Vec<u32>, IpcError> {
    vault
        .with_vault(move |v| change(v, &id, version, &reason, force))
        .await
}

/// Revokes one version or every version (final).
#[tauri::command]
pub async fn revoke_key(
    vault: State<'_, VaultAccess>,
    id: String,
    version: Option<u32>,
    reason: String,
    force: bool,
) -> Result<Vec<u32>, IpcError> {
    change_versions(&vault, Vault::revoke_with, id, version, reason, force).await
}

/// Disables one version or every live one (reversible).
#[tauri::command]
pub async fn disable_key(
    vault: State<'_, VaultAccess>,
    id: String,
    version: Option<u32>,
    reason: String,
    force: bool,
) -> Result<Vec<u32>, IpcError> {
    change_versions(&vault, Vault::disable, id, version, reason, force).await
}

/// Enables disabled versions again.
#[tauri::command]
pub async fn enable_key(
    vault: State<'_, VaultAccess>,
    id: String,
    version: Option<u32>,
) -> Result<Vec<u32>, IpcError> {
    vault
        .with_vault(move |v| {
            Ok(v.enable(&id, version)?
                .into_iter()
                .map(|(n, _)| n)
                .collect())
        })
        .await
}

/// Schedules destruction after `after` (`30d`; `0s`: now). Returns the date.
#[tauri::command]
pub async fn delete_key(
    vault: State<'_, VaultAccess>,
    id: String,
    after: String,
) -> Result<Option<String>, IpcError> {
    vault
        .with_vault(move |v| v.delete(&id, parse_duration(&after)?))
        .await
}

/// Cancels a scheduled destruction.
#[tauri::command]
pub async fn restore_key(vault: State<'_, VaultAccess>, id: String) -> Result<(), IpcError> {
    vault.with_vault(move |v| v.restore(&id)).await
}

/// The policy form: empty strings leave a setting as it is.
#[derive(Debug, Clone, Deserialize, TS)]
pub struct PolicyForm {
    #[serde(default)]
    pub auto_rotate: Option<String>,
    #[serde(default)]
    pub grace: Option<String>,
    #[serde(default)]
    pub max_token_ttl: Option<String>,
}

/// Sets a key's lifecycle policy.
#[tauri::command]
pub async fn set_policy(
    vault: State<'_, VaultAccess>,
    id: String,
    policy: PolicyForm,
) -> Result<keyward_core::vault::Policy, IpcError> {
    vault
        .with_vault(move |v| {
            let d = |s: &Option<String>| opt_text(s).map(|t| parse_duration(&t)).transpose();
            v.set_policy(
                &id,
                PolicyChange {
                    auto_rotate: d(&policy.auto_rotate)?,
                    grace: d(&policy.grace)?,
                    max_token_ttl: d(&policy.max_token_ttl)?,
                },
            )
        })
        .await
}

/// A revealed secret: the webview masks it until held or clicked.
#[derive(Debug, Serialize, TS)]
pub struct Revealed {
    pub text: String,
    /// Seconds after which the UI hides it again.
    pub hide_after: u32,
}

/// Reveals a version's secret (audited as `key.reveal`).
#[tauri::command]
pub async fn reveal_key(
    vault: State<'_, VaultAccess>,
    id: String,
    version: Option<u32>,
) -> Result<Revealed, IpcError> {
    vault
        .with_vault(move |v| {
            let hide_after = v.desktop_settings()?.reveal_hide_seconds;
            let text = reveal_text(v, &id, version, SecretUse::Reveal)?;
            Ok(Revealed {
                text: text.to_string(),
                hide_after,
            })
        })
        .await
}

/// A version's secret as text (audited by the core as `key.reveal` or
/// `key.copy`, as `used` says).
fn reveal_text(
    v: &mut Vault,
    id: &str,
    version: Option<u32>,
    used: SecretUse,
) -> keyward_core::Result<Zeroizing<String>> {
    let secret = v.reveal_for(id, version, used)?;
    let text = secret
        .expose_str()
        .ok_or_else(|| keyward_core::Error::invalid("not_text", "the secret is not text"))?;
    Ok(Zeroizing::new(text.to_string()))
}

/// Copies a version's secret to the clipboard from Rust (audited as
/// `key.copy`) and clears it after the configured delay.
#[tauri::command]
pub async fn copy_key_secret(
    vault: State<'_, VaultAccess>,
    clipboard: State<'_, Clipboard>,
    id: String,
    version: Option<u32>,
) -> Result<Copied, IpcError> {
    let (text, delay) = vault
        .with_vault(move |v| {
            let delay = v.desktop_settings()?.clipboard_clear_seconds;
            Ok((reveal_text(v, &id, version, SecretUse::Copy)?, delay))
        })
        .await?;
    clipboard.copy(text, Some(Duration::from_secs(u64::from(delay))))
}

/// Shows a just-created API key (the one time it is shown).
#[tauri::command]
pub fn reveal_new_secret(once: State<'_, OnceSecrets>, handle: String) -> Result<String, IpcError> {
    once.get(&handle)
        .and_then(|s| s.expose_str().map(str::to_string))
        .ok_or_else(gone)
}

fn gone() -> IpcError {
    IpcError::new(
        "secret_gone",
        "the new key is no longer held by the app: reveal it from the key's page (audited)",
    )
}

/// Copies a just-created API key to the clipboard.
#[tauri::command]
pub async fn copy_new_secret(
    vault: State<'_, VaultAccess>,
    once: State<'_, OnceSecrets>,
    clipboard: State<'_, Clipboard>,
    handle: String,
) -> Result<Copied, IpcError> {
    let secret = once.get(&handle).ok_or_else(gone)?;
    let text = Zeroizing::new(secret.expose_str().map(str::to_string).ok_or_else(gone)?);
    let delay = vault
        .with_vault(|v| Ok(v.desktop_settings()?.clipboard_clear_seconds))
        .await
        .unwrap_or(30);
    clipboard.copy(text, Some(Duration::from_secs(u64::from(delay))))
}

/// Forgets a just-created API key (the dialog was closed).
#[tauri::command]
pub fn forget_new_secret(once: State<'_, OnceSecrets>, handle: String) {
    once.forget(&handle);
}

/// What to export.
#[derive(Debug, Clone, Copy, Deserialize, TS)]
#[serde(rename_all = "lowercase")]
pub enum KeyExportFormat {
    Pem,
    Jwk,
    /// The key's public JWK Set (every verifying version).
    Jwks,
}

/// Exports a key to a file chosen in the save dialog (audited).
/// `None`: the user cancelled.
#[tauri::command]
pub async fn export_key(
    app: AppHandle,
    vault: State<'_, VaultAccess>,
    id: String,
    version: Option<u32>,
    format: KeyExportFormat,
    public: bool,
) -> Result<Option<Saved>, IpcError> {
    let lookup = id.clone();
    let name = vault
        .with_vault(move |v| Ok(v.show_key(&lookup)?.summary.name))
        .await?;
    let safe: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "-_.".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect();
    let (file, filter): (String, (&str, &[&str])) = match format {
        KeyExportFormat::Pem if public => (format!("{safe}.pub.pem"), ("PEM", &["pem"])),
        KeyExportFormat::Pem => (format!("{safe}.pem"), ("PEM", &["pem"])),
        KeyExportFormat::Jwk if public => (format!("{safe}.pub.jwk.json"), ("JWK", &["json"])),
        KeyExportFormat::Jwk => (format!("{safe}.jwk.json"), ("JWK", &["json"])),
        KeyExportFormat::Jwks => (format!("{safe}.jwks.json"), ("JWK Set", &["json"])),
    };
    let Some(path) = ask_save_path(&app, &file, filter).await? else {
        return Ok(None);
    };
    let (bytes, private) = vault
        .with_vault(move |v| match format {
            KeyExportFormat::Jwks => {
                let set = v.jwks(std::slice::from_ref(&id))?;
                let text = serde_json::to_string_pretty(&set).unwrap_or_default();
                Ok((Zeroizing::new(text.into_bytes()), false))
            }
            KeyExportFormat::Pem | KeyExportFormat::Jwk => {
                let f = if matches!(format, KeyExportFormat::Pem) {
                    ExportFormat::Pem
                } else {
                    ExportFormat::Jwk
                };
                let out = v.export(&id, version, f, public)?;
                Ok((Zeroizing::new(out.text.expose().to_vec()), !out.public))
            }
        })
        .await?;
    let mut data = bytes;
    if !data.ends_with(b"\n") {
        data.push(b'\n');
    }
    write_file(&path, &data, private).map(Some)
}
