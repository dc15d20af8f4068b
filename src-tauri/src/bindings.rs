//! The TypeScript declarations of every type that crosses IPC, generated
//! from the Rust types with ts-rs into `ui/src/lib/bindings/` (committed, so
//! `npm run check` works on a fresh clone before any cargo run).
//!
//! `cargo test -p keyward-desktop bindings` fails when the committed files
//! differ from what the Rust types generate; run it with
//! `KEYWARD_UPDATE_BINDINGS=1` to rewrite them.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use ts_rs::{Config, TS};

fn export_all(cfg: &Config) {
    macro_rules! export {
        ($($t:ty),* $(,)?) => {
            $( <$t as TS>::export_all(cfg).unwrap_or_else(|e| panic!("{}: {e}", stringify!($t))); )*
        };
    }
    use keyward_core::audit::log::ChainReport;
    use keyward_core::audit::AuditEvent;
    use keyward_core::scan::ScanReport;
    use keyward_core::vault::desktop::{
        AuditBounds, DesktopSettings, SignForm, SignedTokenView, TokenReport, VerifyForm,
        VerifyReport,
    };
    use keyward_core::vault::{DueReport, KeyDetail, KeySummary, Policy};
    export!(
        KeySummary,
        KeyDetail,
        Policy,
        DueReport,
        AuditEvent,
        ChainReport,
        AuditBounds,
        TokenReport,
        VerifyForm,
        VerifyReport,
        SignForm,
        SignedTokenView,
        DesktopSettings,
        ScanReport,
        keyward_core::vault::CheckReport,
        crate::IpcError,
        crate::vault_access::VaultLocation,
        crate::commands::vaults::VaultList,
        crate::commands::vaults::TeamJoinDefaults,
        crate::commands::vaults::PathPurpose,
        crate::commands::vaults::JoinTeamForm,
        crate::commands::vaults::TeamJoined,
        keyward_core::team::BackendStatus,
        keyward_core::vault::team::LastChange,
        crate::commands::app::VaultStatus,
        crate::commands::keys::NewKeyForm,
        crate::commands::keys::ImportForm,
        crate::commands::keys::CreatedKey,
        crate::commands::keys::RotatedKey,
        crate::commands::keys::PolicyForm,
        crate::commands::keys::Revealed,
        crate::commands::keys::KeyExportFormat,
        crate::clipboard::Copied,
        crate::files::Saved,
        crate::commands::tokens::CrackTick,
        crate::commands::tokens::WeakCheck,
        crate::commands::audit::AuditQuery,
        crate::commands::audit::AuditExportFormat,
    );
}

fn files(dir: &Path) -> BTreeMap<PathBuf, String> {
    let mut out = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|x| x == "ts") {
                let rel = p.strip_prefix(dir).unwrap().to_path_buf();
                out.insert(rel, std::fs::read_to_string(&p).unwrap());
            }
        }
    }
    out
}

#[test]
fn bindings_are_up_to_date() {
    let committed = Path::new(env!("CARGO_MANIFEST_DIR")).join("ui/src/lib/bindings");
    let update = std::env::var_os("KEYWARD_UPDATE_BINDINGS").is_some_and(|v| v == "1");
    let out = if update {
        let _ = std::fs::remove_dir_all(&committed);
        committed.clone()
    } else {
        let tmp = std::env::temp_dir().join(format!("keyward-bindings-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&tmp);
        tmp
    };
    // JSON numbers are JavaScript numbers: i64 fields (sequence numbers,
    // Unix times) stay well inside 2^53.
    let cfg = Config::new().with_large_int("number").with_out_dir(&out);
    export_all(&cfg);
    if update {
        return;
    }
    let fresh = files(&out);
    let old = files(&committed);
    let _ = std::fs::remove_dir_all(&out);
    let stale: Vec<_> = fresh
        .iter()
        .filter(|(p, text)| old.get(*p) != Some(*text))
        .map(|(p, _)| p.display().to_string())
        .chain(
            old.keys()
                .filter(|p| !fresh.contains_key(*p))
                .map(|p| format!("{} (no longer generated)", p.display())),
        )
        .collect();
    assert!(
        stale.is_empty(),
        "ui/src/lib/bindings is out of date ({}): run `KEYWARD_UPDATE_BINDINGS=1 cargo test -p keyward-desktop bindings` and commit the result",
        stale.join(", ")
    );
}

/// Every registered command has a permission and the window is granted it.
#[test]
fn every_command_is_permitted_and_granted_nothing_else() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src-tauri/capabilities");
    let toml = std::fs::read_to_string(root.join("app-commands.toml")).unwrap();
    let allowed: Vec<String> = toml
        .lines()
        .filter_map(|l| l.strip_prefix("commands.allow = [\""))
        .map(|l| l.trim_end_matches("\"]").to_string())
        .collect();
    let mut want: Vec<String> = crate::COMMANDS.iter().map(|s| s.to_string()).collect();
    let mut got = allowed.clone();
    want.sort();
    got.sort();
    assert_eq!(got, want, "app-commands.toml vs lib.rs COMMANDS");
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(root.join("main-window.json")).unwrap())
            .unwrap();
    let mut granted: Vec<String> = json["permissions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p.as_str().unwrap().to_string())
        .collect();
    let mut expected: Vec<String> = want
        .iter()
        .map(|c| format!("allow-{}", c.replace('_', "-")))
        .collect();
    granted.sort();
    expected.sort();
    assert_eq!(granted, expected, "main-window.json grants");
}
