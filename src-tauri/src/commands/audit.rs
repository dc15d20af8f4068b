//! Audit log commands: paging by sequence number (the view is virtualized
//! over millions of events), the distinct actions for the filter, chain
//! verification and export to a file chosen in the save dialog.

use crate::files::{ask_save_path, write_file, Saved};
use crate::{IpcError, VaultAccess};
use keyward_core::audit::export::ExportFormat;
use keyward_core::audit::log::ChainReport;
use keyward_core::audit::{AuditEvent, AuditFilter};
use keyward_core::duration::parse_time;
use keyward_core::vault::desktop::AuditBounds;
use serde::Deserialize;
use tauri::{AppHandle, State};
use ts_rs::TS;

/// One page request of the audit view.
#[derive(Debug, Clone, Default, Deserialize, TS)]
#[serde(default)]
pub struct AuditQuery {
    pub action: Option<String>,
    pub key_id: Option<String>,
    /// RFC 3339 or Unix seconds.
    pub since: Option<String>,
    pub until: Option<String>,
    pub grep: Option<String>,
    pub after_seq: Option<i64>,
    pub before_seq: Option<i64>,
    pub newest_first: bool,
    pub limit: Option<u32>,
}

fn opt(s: Option<String>) -> Option<String> {
    s.map(|s| s.trim().to_string()).filter(|s| !s.is_empty())
}

/// The first and last sequence numbers and the event count.
#[tauri::command]
pub async fn audit_bounds(vault: State<'_, VaultAccess>) -> Result<AuditBounds, IpcError> {
    vault.with_vault(|v| v.audit_bounds()).await
}

/// One page of events (at most 1000).
#[tauri::command]
pub async fn audit_page(
    vault: State<'_, VaultAccess>,
    query: AuditQuery,
) -> Result<Vec<AuditEvent>, IpcError> {
    vault
        .with_vault(move |v| {
            let time = |s: Option<String>| -> keyward_core::Result<Option<String>> {
                opt(s)
                    .map(|t| parse_time(&t).map(keyward_core::duration::rfc3339))
                    .transpose()
            };
            let filter = AuditFilter {
                action: opt(query.action),
                key_id: opt(query.key_id),
                since: time(query.since)?,
                until: time(query.until)?,
                grep: opt(query.grep),
                after_seq: query.after_seq,
                before_seq: query.before_seq,
                newest_first: query.newest_first,
                limit: Some(query.limit.unwrap_or(200).clamp(1, 1000)),
            };
            v.audit_list(&filter)
        })
        .await
}

/// Every action recorded so far, for the filter.
#[tauri::command]
pub async fn audit_actions(vault: State<'_, VaultAccess>) -> Result<Vec<String>, IpcError> {
    vault.with_vault(|v| v.audit_actions()).await
}

/// Walks the whole chain (and its keyed checkpoint).
#[tauri::command]
pub async fn audit_verify(vault: State<'_, VaultAccess>) -> Result<ChainReport, IpcError> {
    vault.with_vault(|v| v.audit_verify()).await
}

/// Export formats of the audit log.
#[derive(Debug, Clone, Copy, Deserialize, TS)]
#[serde(rename_all = "lowercase")]
pub enum AuditExportFormat {
    Csv,
    Json,
    Jsonl,
}

/// Exports the signed audit log to a file chosen in the save dialog.
#[tauri::command]
pub async fn export_audit(
    app: AppHandle,
    vault: State<'_, VaultAccess>,
    format: AuditExportFormat,
) -> Result<Option<Saved>, IpcError> {
    let (ext, f) = match format {
        AuditExportFormat::Csv => ("csv", ExportFormat::Csv),
        AuditExportFormat::Json => ("json", ExportFormat::Json),
        AuditExportFormat::Jsonl => ("jsonl", ExportFormat::Jsonl),
    };
    let file = format!("keyward-audit.{ext}");
    let Some(path) = ask_save_path(&app, &file, ("Audit export", &[ext])).await? else {
        return Ok(None);
    };
    let bytes = vault
        .with_vault(move |v| {
            let mut out = Vec::new();
            v.audit_export(f, &mut out)?;
            Ok(out)
        })
        .await?;
    write_file(&path, &bytes, false).map(Some)
}
