//! Team vaults against a real OpenBao dev server and the real OS keychain,
//! run by tests/team/run.sh (which starts both). Without the server these
//! tests fail with a message saying so: they never skip.

use keyward_core::team::doc::KeyDoc;
use keyward_core::team::{usage, CredentialFiles, InitRequest, TeamLink};
use keyward_core::vault::{NewApiKey, NewSigningKey, Source, VaultOptions};
use keyward_core::{Error, Vault};
use std::path::Path;

fn env(name: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| {
        panic!("{name} is not set: run the team tests with tests/team/run.sh, which starts an OpenBao dev server")
    })
}

fn team_name(tag: &str) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .subsec_nanos();
    format!("core-{tag}-{}-{nanos}", std::process::id())
}

fn init(dir: &Path, team: &str) -> Vault {
    // As the desktop's join form does: the core reads the token file.
    let credential = CredentialFiles::Token {
        token_file: env("KEYWARD_BAO_TOKEN_FILE").into(),
    }
    .read()
    .unwrap();
    let req = InitRequest {
        addr: env("KEYWARD_BAO_ADDR"),
        mount: "secret".into(),
        namespace: None,
        team: team.into(),
        credential,
        ca_file: None,
        transit_mount: "transit".into(),
        audit_file: None,
    };
    Vault::init_team(VaultOptions::new(dir, Source::Cli), req)
        .unwrap()
        .0
}

fn open(dir: &Path) -> Vault {
    Vault::open(VaultOptions::new(dir, Source::Cli)).unwrap()
}

fn api(name: &str) -> NewApiKey {
    NewApiKey {
        name: name.into(),
        ..Default::default()
    }
}

#[test]
fn a_stale_client_loses_both_races_and_wins_after_reloading() {
    let tmp = tempfile::tempdir().unwrap();
    let team = team_name("race");
    let (a_dir, b_dir) = (tmp.path().join("a"), tmp.path().join("b"));
    let mut a = init(&a_dir, &team);
    let issued = a.create_api_key(api("billing")).unwrap();
    let mut b = init(&b_dir, &team);
    assert!(b.is_team());
    assert_eq!(b.show_key("billing").unwrap().summary.id, issued.id);

    // B rotates; A's cache (opened before) still says v1 is active.
    let rotated = b.rotate(&issued.id, None).unwrap();
    assert_eq!(rotated.version, 2);
    // A's rotation needs v2's secret slot, which B filled: create-only refuses.
    let e = a.rotate(&issued.id, None).unwrap_err();
    assert!(
        matches!(
            &e,
            Error::Conflict {
                code: "changed_elsewhere",
                ..
            }
        ),
        "{e:?}"
    );
    assert!(e.to_string().contains("was changed by someone else"), "{e}");
    // A metadata-only change checks-and-sets the document: refused too.
    let e = a.revoke(&issued.id, Some(1), "test").unwrap_err();
    assert!(
        matches!(
            &e,
            Error::Conflict {
                code: "changed_elsewhere",
                ..
            }
        ),
        "{e}"
    );
    // Nothing of A's attempts reached OpenBao nor A's cache.
    let shown = a.show_key(&issued.id).unwrap();
    assert_eq!(shown.versions.len(), 1, "the loser's cache rolled back");
    drop(a);

    // Reopened, A catches up through the change feed, then wins.
    let mut a = open(&a_dir);
    let shown = a.show_key(&issued.id).unwrap();
    assert_eq!(shown.summary.version, 2);
    a.revoke(&issued.id, Some(1), "rotated out").unwrap();
    let mut b = open(&b_dir);
    let v1 = b
        .show_key(&issued.id)
        .unwrap()
        .versions
        .into_iter()
        .find(|v| v.version == 1)
        .unwrap();
    assert_eq!(v1.state.as_str(), "revoked");
    let who = b.last_change(&issued.id).unwrap().unwrap();
    assert!(who.by.is_some() && who.version >= 3, "{who:?}");
    // The desktop's key page reads the same document.
    assert_eq!(
        b.changed_last(&issued.id).unwrap().unwrap().source,
        keyward_core::vault::team::ChangeSource::Openbao
    );
    // Both read the same secret from OpenBao.
    assert_eq!(
        a.reveal(&issued.id, Some(2)).unwrap(),
        b.reveal(&issued.id, Some(2)).unwrap()
    );
}

#[test]
fn documents_hold_no_secret_and_secrets_live_in_openbao_only() {
    let tmp = tempfile::tempdir().unwrap();
    let team = team_name("doc");
    let dir = tmp.path().join("a");
    let mut v = init(&dir, &team);
    let issued = v.create_api_key(api("svc")).unwrap();
    let signing = v
        .create_signing_key(NewSigningKey {
            name: "signer".into(),
            alg: keyward_core::crypto::Alg::EdDSA,
            bits: None,
            expires_in: None,
            scopes: vec![],
            note: None,
        })
        .unwrap();
    let private = v
        .export(
            &signing.id,
            None,
            keyward_core::vault::ExportFormat::Jwk,
            false,
        )
        .unwrap();
    let d = serde_json::from_slice::<serde_json::Value>(private.text.expose()).unwrap()["d"]
        .as_str()
        .unwrap()
        .to_string();
    let link = TeamLink::attach(&dir).unwrap().unwrap();
    for id in [&issued.id, &signing.id] {
        let (doc, _) = link.read(&format!("keys/{id}"), "test").unwrap().unwrap();
        let text = doc.to_string();
        assert!(!text.contains(issued.secret.expose_str().unwrap()));
        assert!(!text.contains(&d));
        assert_eq!(KeyDoc::from_json(&doc).unwrap().id(), Some(id.as_str()));
        assert_eq!(doc["format"], 2);
        assert!(doc["updated_by"].is_string());
    }
    // The local database holds neither.
    let db = std::fs::read(dir.join("vault.db")).unwrap();
    let db = String::from_utf8_lossy(&db);
    assert!(!db.contains(issued.secret.expose_str().unwrap()));
    assert!(!db.contains(&d));
    // Nor does team.json (no token either).
    let cfg = std::fs::read_to_string(dir.join("team.json")).unwrap();
    let token = std::fs::read_to_string(env("KEYWARD_BAO_TOKEN_FILE")).unwrap();
    let cfg_json: serde_json::Value = serde_json::from_str(&cfg).unwrap();
    assert!(cfg_json.get("token").is_none());
    assert!(!cfg.contains(&format!("\"{}\"", token.trim())));
    let status = v.backend_status();
    assert_eq!(status.kind, "openbao");
    assert!(status.reachable);
    assert_eq!(status.sealed, Some(false));
    assert!(
        status.version.is_some() && status.ha_enabled.is_some(),
        "{status:?}"
    );
}

#[test]
fn a_name_is_claimed_once_across_the_team_and_freed_by_destruction() {
    let tmp = tempfile::tempdir().unwrap();
    let team = team_name("names");
    let mut a = init(&tmp.path().join("a"), &team);
    // B opened before A creates the key: its cache cannot know the name.
    let mut b = init(&tmp.path().join("b"), &team);
    let first = a.create_api_key(api("shared-name")).unwrap();
    let e = b.create_api_key(api("shared-name")).unwrap_err();
    assert!(
        matches!(
            &e,
            Error::Conflict {
                code: "duplicate_name",
                ..
            }
        ),
        "{e:?}"
    );
    assert!(e.to_string().contains("already exists in the team"), "{e}");
    // Once destroyed, the name is free again, for anyone.
    a.revoke(&first.id, None, "done").unwrap();
    a.delete(&first.id, chrono::Duration::zero()).unwrap();
    drop(b);
    let mut b = open(&tmp.path().join("b"));
    let second = b.create_api_key(api("shared-name")).unwrap();
    assert_ne!(second.id, first.id);
    drop(a);
    let a = open(&tmp.path().join("a"));
    assert_eq!(a.show_key("shared-name").unwrap().summary.id, second.id);
}

/// Documents written by earlier builds (format 1: the rows as JSON members)
/// stay readable, and the key's next change rewrites them as format 2
/// (the rows in one JSON-encoded string), with check-and-set as before.
#[test]
fn a_format_1_document_is_read_and_rewritten_as_format_2_by_the_next_change() {
    let tmp = tempfile::tempdir().unwrap();
    let team = team_name("fmt1");
    let (a_dir, b_dir) = (tmp.path().join("a"), tmp.path().join("b"));
    let mut a = init(&a_dir, &team);
    let issued = a.create_api_key(api("legacy")).unwrap();
    let link = TeamLink::attach(&a_dir).unwrap().unwrap();
    let rel = format!("keys/{}", issued.id);
    let (stored, version) = link.read(&rel, "test").unwrap().unwrap();
    assert_eq!(stored["format"], 2);
    assert!(stored["body"].is_string() && stored.get("versions").is_none());
    // The shape earlier builds wrote, with a change no cache has seen yet.
    let mut doc = KeyDoc::from_json(&stored).unwrap();
    doc.key
        .insert("note".into(), serde_json::json!("written as format 1"));
    let old = serde_json::json!({
        "format": 1, "key": doc.key, "versions": doc.versions,
        "updated_by": "old-build", "updated_from": "c_old", "updated_at": "2026-01-01T00:00:00Z",
    });
    link.write_cas(&rel, &old, version, "test")
        .unwrap()
        .unwrap();
    link.announce(std::slice::from_ref(&issued.id));
    // A new client and the old one both read it.
    let mut b = init(&b_dir, &team);
    let shown = b.show_key(&issued.id).unwrap();
    assert_eq!(shown.summary.note.as_deref(), Some("written as format 1"));
    assert_eq!(
        b.last_change(&issued.id).unwrap().unwrap().by.as_deref(),
        Some("old-build")
    );
    drop(a);
    let mut a = open(&a_dir);
    assert_eq!(
        a.show_key(&issued.id).unwrap().summary.note.as_deref(),
        Some("written as format 1")
    );
    assert!(a.check(false).unwrap().consistent);
    // B's rotation writes format 2 on top of it (check-and-set on the
    // format 1 version); A, opened before, loses its race as always.
    let rotated = b.rotate(&issued.id, None).unwrap();
    assert_eq!(rotated.version, 2);
    let (stored, _) = link.read(&rel, "test").unwrap().unwrap();
    assert_eq!(stored["format"], 2);
    assert!(stored.get("key").is_none() && stored.get("versions").is_none());
    let doc = KeyDoc::from_json(&stored).unwrap();
    assert_eq!(doc.versions.len(), 2);
    assert_eq!(doc.key["note"], "written as format 1");
    let e = a.revoke(&issued.id, Some(1), "test").unwrap_err();
    assert!(e.to_string().contains("was changed by someone else"), "{e}");
    drop(a);
    let mut a = open(&a_dir);
    assert_eq!(a.show_key(&issued.id).unwrap().summary.version, 2);
    assert!(a.check(false).unwrap().consistent);
}

/// An API key's usage document holds every version's last use, far past
/// the 140 or so versions that OpenBao's string limit allowed format 1.
#[test]
fn usage_is_shared_for_hundreds_of_versions() {
    let tmp = tempfile::tempdir().unwrap();
    let team = team_name("usage");
    let dir = tmp.path().join("a");
    let _v = init(&dir, &team);
    let link = TeamLink::attach(&dir).unwrap().unwrap();
    let id = "k_usage1";
    // Format 1 as earlier builds wrote it is read, and merged into format 2.
    let old = serde_json::json!({"format": 1, "versions": {"1": {"at": "2026-01-01T00:00:00Z", "by": "old", "client": "c_old"}}});
    link.write_cas(&format!("usage/{id}"), &old, 0, "test")
        .unwrap()
        .unwrap();
    for n in 2..=300u32 {
        let at = format!("2026-01-02T{:02}:{:02}:00Z", n / 60, n % 60);
        usage::record(&link, id, n, &at, "alice").unwrap();
    }
    let times = usage::read(&link, id).unwrap();
    assert_eq!(times.len(), 300);
    assert_eq!(times[&1], "2026-01-01T00:00:00Z");
    assert_eq!(times[&300], "2026-01-02T05:00:00Z");
    let (stored, _) = link.read(&format!("usage/{id}"), "test").unwrap().unwrap();
    assert_eq!(stored["format"], 2);
}
