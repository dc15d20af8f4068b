//! Key lifecycle against the real OS keychain (Secret Service, started by
//! scripts/test.sh) and real SQLite files. No fakes: a missing keychain fails
//! these tests, it does not skip them.

use chrono::{Duration, TimeZone, Utc};
use keyward_core::crypto::{parse_key, Alg, ParsedKey};
use keyward_core::keys::{KeyKind, KeyState};
use keyward_core::secrets::keychain::KeychainStore;
use keyward_core::secrets::{entry_name, SecretStore};
use keyward_core::vault::{
    ExportFormat, KeyFilter, NewApiKey, NewSigningKey, Source, VaultOptions,
};
use keyward_core::{Error, FixedClock, Vault};
use std::sync::Arc;

struct Fixture {
    _dir: tempfile::TempDir,
    clock: Arc<FixedClock>,
    vault: Vault,
}

fn open() -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let clock = Arc::new(FixedClock::new(
        Utc.with_ymd_and_hms(2026, 3, 1, 12, 0, 0).unwrap(),
    ));
    let vault = Vault::open(
        VaultOptions::new(dir.path().join("vault"), Source::Cli).with_clock(clock.clone()),
    )
    .unwrap();
    Fixture {
        _dir: dir,
        clock,
        vault,
    }
}

fn api(name: &str) -> NewApiKey {
    NewApiKey {
        name: name.into(),
        ..Default::default()
    }
}

fn signing(name: &str, alg: Alg) -> NewSigningKey {
    NewSigningKey {
        name: name.into(),
        alg,
        bits: None,
        expires_in: None,
        scopes: vec![],
        note: None,
    }
}

fn keychain(v: &Vault) -> KeychainStore {
    KeychainStore::new(v.id())
}

#[test]
fn api_key_is_issued_verified_rotated_with_grace_and_revoked() {
    let mut f = open();
    let issued = f
        .vault
        .create_api_key(NewApiKey {
            name: "billing".into(),
            prefix: Some("acme".into()),
            scopes: vec!["read".into(), "write".into()],
            expires_in: None,
            note: None,
        })
        .unwrap();
    let secret = issued.secret.expose().to_vec();
    assert!(secret.starts_with(b"acme_"));
    // The secret is in the keychain, under the vault's namespace.
    let stored = keychain(&f.vault)
        .get(&entry_name(&issued.id, 1))
        .unwrap()
        .unwrap();
    assert_eq!(stored.expose(), secret.as_slice());

    let m = f.vault.verify_api_key(&secret).unwrap();
    assert_eq!(
        (m.id.as_str(), m.version, m.state),
        (issued.id.as_str(), 1, KeyState::Active)
    );
    assert_eq!(m.scopes, vec!["read", "write"]);

    let r = f.vault.rotate("billing", Some(Duration::hours(2))).unwrap();
    assert_eq!((r.version, r.previous_version), (2, 1));
    let new_secret = r.secret.unwrap().expose().to_vec();
    assert_ne!(new_secret, secret);
    // Old key still verifies during its grace period, and says so.
    assert_eq!(
        f.vault.verify_api_key(&secret).unwrap().state,
        KeyState::Grace
    );
    assert_eq!(f.vault.verify_api_key(&new_secret).unwrap().version, 2);
    // Past the grace period it is expired, without any background job.
    f.clock.advance(Duration::hours(2));
    let e = f.vault.verify_api_key(&secret).unwrap_err();
    assert!(matches!(e, Error::Rejected { .. }), "{e}");
    assert!(e.to_string().contains("expired"), "{e}");
    let detail = f.vault.show_key(&issued.id).unwrap();
    assert_eq!(detail.versions[1].state, KeyState::Expired);
    assert_eq!(detail.summary.state, KeyState::Active);

    let revoked = f.vault.revoke(&issued.id, None, "leaked in a log").unwrap();
    assert_eq!(revoked, vec![1, 2]);
    let e = f.vault.verify_api_key(&new_secret).unwrap_err();
    assert!(e.to_string().contains("revoked"), "{e}");
    assert_eq!(
        f.vault.show_key("billing").unwrap().summary.state,
        KeyState::Revoked
    );
}

#[test]
fn malformed_and_unknown_api_keys_are_told_apart() {
    let mut f = open();
    let issued = f.vault.create_api_key(api("a")).unwrap();
    let mut text = issued.secret.expose().to_vec();
    let last = text.len() - 1;
    text[last] = if text[last] == b'A' { b'B' } else { b'A' };
    assert_eq!(
        f.vault.verify_api_key(&text).unwrap_err().code(),
        "bad_api_key"
    );
    let other = keyward_core::keys::apikey::ApiKey::generate("kw").unwrap();
    let e = f.vault.verify_api_key(other.secret().expose()).unwrap_err();
    assert_eq!(e.code(), "unknown_key");
}

#[test]
fn expiry_is_enforced_at_use_time() {
    let mut f = open();
    let issued = f
        .vault
        .create_api_key(NewApiKey {
            name: "short".into(),
            expires_in: Some(Duration::minutes(10)),
            ..Default::default()
        })
        .unwrap();
    assert!(f.vault.verify_api_key(issued.secret.expose()).is_ok());
    f.clock.advance(Duration::minutes(9));
    assert!(f.vault.verify_api_key(issued.secret.expose()).is_ok());
    f.clock.advance(Duration::minutes(1));
    assert!(f.vault.verify_api_key(issued.secret.expose()).is_err());
    let listed = f
        .vault
        .list_keys(&KeyFilter {
            state: Some(KeyState::Expired),
            ..Default::default()
        })
        .unwrap();
    assert_eq!(listed.len(), 1);
    // An expired key cannot be rotated: there is nothing active to replace.
    assert_eq!(
        f.vault.rotate("short", None).unwrap_err().code(),
        "invalid_transition"
    );
}

#[test]
fn every_signing_algorithm_round_trips_through_keychain_export_and_import() {
    let mut f = open();
    for alg in Alg::ALL {
        let name = format!("signer-{}", alg.as_str());
        let created = f.vault.create_signing_key(signing(&name, alg)).unwrap();
        assert_eq!(created.alg, alg.as_str());
        assert_eq!(
            created.thumbprint.is_none(),
            alg.is_hmac(),
            "{alg}: HMAC keys get no thumbprint"
        );
        // Private JWK export, imported back into a second key, gives the same public key.
        let jwk = f
            .vault
            .export(&created.id, None, ExportFormat::Jwk, false)
            .unwrap();
        let imported = f
            .vault
            .import_signing_key(
                &format!("{name}-copy"),
                Some(alg),
                jwk.text.expose(),
                vec![],
                None,
            )
            .unwrap();
        if !alg.is_hmac() {
            assert_eq!(imported.thumbprint, created.thumbprint, "{alg}");
            let pem = f
                .vault
                .export(&created.id, None, ExportFormat::Pem, true)
                .unwrap();
            match parse_key(pem.text.expose()).unwrap() {
                ParsedKey::Public(p) => assert_eq!(Some(p.thumbprint()), created.thumbprint),
                ParsedKey::Private(_) => panic!("public export returned a private key"),
            }
            let private_pem = f
                .vault
                .export(&created.id, None, ExportFormat::Pem, false)
                .unwrap();
            assert!(matches!(
                parse_key(private_pem.text.expose()).unwrap(),
                ParsedKey::Private(_)
            ));
        } else {
            assert_eq!(
                f.vault
                    .export(&created.id, None, ExportFormat::Pem, true)
                    .unwrap_err()
                    .code(),
                "no_public_key"
            );
            assert_eq!(
                f.vault.reveal(&created.id, None).unwrap().expose(),
                f.vault.reveal(&imported.id, None).unwrap().expose()
            );
        }
    }
    let jwks = f.vault.jwks(&[]).unwrap();
    // 9 asymmetric algorithms, each with its copy (same kid, published twice).
    assert_eq!(jwks["keys"].as_array().unwrap().len(), 18);
    for k in jwks["keys"].as_array().unwrap() {
        assert_eq!(k["use"], "sig");
        assert!(k.get("d").is_none(), "private member in JWKS: {k}");
    }
}

#[test]
fn rsa_rotation_keeps_the_modulus_size() {
    let mut f = open();
    let created = f
        .vault
        .create_signing_key(NewSigningKey {
            bits: Some(3072),
            ..signing("rsa3k", Alg::PS384)
        })
        .unwrap();
    let r = f.vault.rotate(&created.id, Some(Duration::zero())).unwrap();
    let pem = f
        .vault
        .export(&created.id, Some(r.version), ExportFormat::Pem, true)
        .unwrap();
    let ParsedKey::Public(p) = parse_key(pem.text.expose()).unwrap() else {
        panic!("expected a public key")
    };
    assert_eq!(p.rsa_bits(), Some(3072));
    // A zero grace period retires the old version at once.
    let d = f.vault.show_key(&created.id).unwrap();
    assert_eq!(
        d.versions.iter().find(|v| v.version == 1).unwrap().state,
        KeyState::Expired
    );
    assert_eq!(
        f.vault.jwks(std::slice::from_ref(&created.id)).unwrap()["keys"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
}

#[test]
fn public_only_import_verifies_but_has_no_secret() {
    let mut f = open();
    let src = f
        .vault
        .create_signing_key(signing("src", Alg::EdDSA))
        .unwrap();
    let pem = f
        .vault
        .export(&src.id, None, ExportFormat::Pem, true)
        .unwrap();
    let imported = f
        .vault
        .import_signing_key("partner", None, pem.text.expose(), vec![], None)
        .unwrap();
    assert!(imported.public_only);
    assert_eq!(imported.alg, "EdDSA");
    assert!(keychain(&f.vault)
        .get(&entry_name(&imported.id, 1))
        .unwrap()
        .is_none());
    assert_eq!(
        f.vault.reveal("partner", None).unwrap_err().code(),
        "public_only"
    );
    assert_eq!(
        f.vault.rotate("partner", None).unwrap_err().code(),
        "public_only"
    );
}

#[test]
fn bad_input_changes_nothing() {
    let mut f = open();
    f.vault.create_api_key(api("taken")).unwrap();
    let before = f.vault.audit_list(&Default::default()).unwrap().len();
    let cases: Vec<(&str, Error)> = vec![
        (
            "duplicate_name",
            f.vault.create_api_key(api("taken")).err().unwrap(),
        ),
        ("bad_name", f.vault.create_api_key(api("")).err().unwrap()),
        (
            "bad_name",
            f.vault.create_api_key(api(" padded ")).err().unwrap(),
        ),
        (
            "bad_prefix",
            f.vault
                .create_api_key(NewApiKey {
                    prefix: Some("UP".into()),
                    ..api("p")
                })
                .err()
                .unwrap(),
        ),
        (
            "bad_duration",
            f.vault
                .create_api_key(NewApiKey {
                    expires_in: Some(Duration::zero()),
                    ..api("z")
                })
                .err()
                .unwrap(),
        ),
        (
            "bad_bits",
            f.vault
                .create_signing_key(NewSigningKey {
                    bits: Some(1024),
                    ..signing("weak", Alg::RS256)
                })
                .err()
                .unwrap(),
        ),
        (
            "bad_bits",
            f.vault
                .create_signing_key(NewSigningKey {
                    bits: Some(2048),
                    ..signing("ec", Alg::ES256)
                })
                .err()
                .unwrap(),
        ),
        ("not_found", f.vault.rotate("nope", None).err().unwrap()),
        (
            "bad_reason",
            f.vault.revoke("taken", None, "  ").err().unwrap(),
        ),
        (
            "alg_required",
            f.vault
                .import_signing_key("x", None, b"raw secret bytes", vec![], None)
                .err()
                .unwrap(),
        ),
    ];
    for (code, e) in cases {
        assert_eq!(e.code(), code, "{e}");
        assert_eq!(e.class().exit_code(), 2, "{e}");
    }
    let pem_garbage = b"-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n";
    let e = f
        .vault
        .import_signing_key("x", Some(Alg::HS256), pem_garbage, vec![], None)
        .unwrap_err();
    assert_eq!(
        e.class().exit_code(),
        2,
        "a malformed PEM must not become an HMAC secret: {e}"
    );
    let e = f
        .vault
        .import_signing_key("x", Some(Alg::ES384), pem_garbage, vec![], None)
        .unwrap_err();
    assert_eq!(e.class().exit_code(), 2);
    assert_eq!(f.vault.list_keys(&KeyFilter::default()).unwrap().len(), 1);
    // Refusals of bad input are not audited as changes: only "denied" events may appear.
    let events = f.vault.audit_list(&Default::default()).unwrap();
    assert!(events[before..].iter().all(|e| e.outcome != "success"));
}

#[test]
fn transitions_the_state_does_not_allow_are_refused_with_a_hint() {
    let mut f = open();
    let k = f
        .vault
        .create_signing_key(signing("t", Alg::ES256))
        .unwrap();
    let e = f.vault.delete(&k.id, Duration::days(30)).unwrap_err();
    assert!(e.to_string().contains("keyward key revoke"), "{e}");
    assert_eq!(
        f.vault.restore(&k.id).unwrap_err().code(),
        "invalid_transition"
    );
    f.vault.revoke(&k.id, Some(1), "done").unwrap();
    assert_eq!(
        f.vault.revoke(&k.id, Some(1), "again").unwrap_err().code(),
        "invalid_transition"
    );
    assert_eq!(
        f.vault.rotate(&k.id, None).unwrap_err().code(),
        "invalid_transition"
    );
}

#[test]
fn scheduled_destruction_can_be_restored_or_carried_out() {
    let mut f = open();
    let k = f.vault.create_api_key(api("old")).unwrap();
    f.vault.revoke(&k.id, None, "retired").unwrap();
    let at = f.vault.delete(&k.id, Duration::days(30)).unwrap().unwrap();
    assert!(at.starts_with("2026-03-31"), "{at}");
    assert_eq!(
        f.vault.show_key(&k.id).unwrap().summary.state,
        KeyState::DestroyScheduled
    );
    // The secret stays until the date.
    assert!(keychain(&f.vault)
        .get(&entry_name(&k.id, 1))
        .unwrap()
        .is_some());
    f.vault.restore(&k.id).unwrap();
    // Revocation is never undone by a restore.
    assert_eq!(
        f.vault.show_key(&k.id).unwrap().summary.state,
        KeyState::Revoked
    );

    f.vault.delete(&k.id, Duration::days(1)).unwrap();
    assert!(f.vault.destroy_due().unwrap().is_empty());
    f.clock.advance(Duration::days(1));
    assert_eq!(f.vault.destroy_due().unwrap(), vec![k.id.clone()]);
    assert!(keychain(&f.vault)
        .get(&entry_name(&k.id, 1))
        .unwrap()
        .is_none());
    let d = f.vault.show_key(&k.id).unwrap();
    assert_eq!(d.versions[0].state, KeyState::Destroyed);
    // The name is free again; the tombstone keeps its id.
    let again = f.vault.create_api_key(api("old")).unwrap();
    assert_ne!(again.id, k.id);
    assert_eq!(
        f.vault
            .list_keys(&KeyFilter {
                kind: Some(KeyKind::Api),
                ..Default::default()
            })
            .unwrap()
            .len(),
        1
    );
}

#[test]
fn every_change_is_audited_in_a_verifiable_chain() {
    let mut f = open();
    let k = f.vault.create_api_key(api("audited")).unwrap();
    f.vault.rotate(&k.id, None).unwrap();
    f.vault.reveal(&k.id, Some(1)).unwrap();
    f.vault.revoke(&k.id, Some(1), "because").unwrap();
    let actions: Vec<String> = f
        .vault
        .audit_list(&Default::default())
        .unwrap()
        .into_iter()
        .map(|e| e.action)
        .collect();
    assert_eq!(
        actions,
        [
            "vault.create",
            "key.create",
            "key.rotate",
            "key.reveal",
            "key.revoke"
        ]
    );
    let report = f.vault.audit_verify().unwrap();
    assert!(report.intact);
    assert_eq!(report.events, 5);
}

#[test]
fn no_secret_reaches_the_database_files_or_the_audit_log() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("vault");
    let mut secrets: Vec<Vec<u8>> = Vec::new();
    {
        let mut v = Vault::open(VaultOptions::new(&path, Source::Cli)).unwrap();
        let a = v.create_api_key(api("leak-api")).unwrap();
        secrets.push(a.secret.expose().to_vec());
        let r = v.rotate(&a.id, None).unwrap();
        secrets.push(r.secret.unwrap().expose().to_vec());
        for alg in [Alg::HS256, Alg::ES256, Alg::EdDSA, Alg::RS256] {
            let k = v
                .create_signing_key(signing(&format!("leak-{alg}"), alg))
                .unwrap();
            let stored = KeychainStore::new(v.id())
                .get(&entry_name(&k.id, 1))
                .unwrap()
                .unwrap();
            secrets.push(stored.expose().to_vec());
            v.reveal(&k.id, None).unwrap();
            v.export(&k.id, None, ExportFormat::Jwk, false).unwrap();
        }
        let events = serde_json::to_vec(&v.audit_list(&Default::default()).unwrap()).unwrap();
        for s in &secrets {
            assert!(!contains_any_encoding(&events, s), "secret in audit events");
        }
    }
    let mut scanned = 0;
    for entry in std::fs::read_dir(&path).unwrap() {
        let bytes = std::fs::read(entry.unwrap().path()).unwrap();
        scanned += bytes.len();
        for s in &secrets {
            assert!(
                !contains_any_encoding(&bytes, s),
                "secret bytes found in the vault directory"
            );
        }
    }
    assert!(scanned > 0);
}

fn contains_any_encoding(hay: &[u8], secret: &[u8]) -> bool {
    use base64::Engine;
    let forms = [
        secret.to_vec(),
        base64::engine::general_purpose::STANDARD
            .encode(secret)
            .into_bytes(),
        base64::engine::general_purpose::URL_SAFE_NO_PAD
            .encode(secret)
            .into_bytes(),
        secret
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect::<String>()
            .into_bytes(),
    ];
    // Search a distinctive 16-byte window of each form (the whole secret may be shorter).
    forms.iter().any(|f| {
        let needle = &f[..f.len().min(24)];
        hay.windows(needle.len()).any(|w| w == needle)
    })
}

#[test]
fn changed_last_names_the_last_change_in_the_audit_log_not_a_read() {
    let mut f = open();
    let issued = f.vault.create_api_key(api("who-changed")).unwrap();
    let first = f.vault.changed_last(&issued.id).unwrap().unwrap();
    assert_eq!(first.source, keyward_core::vault::team::ChangeSource::Audit);
    assert!(first.by.is_some(), "{first:?}");
    let created_at = first.at.clone();
    f.clock.advance(Duration::minutes(5));
    // A reveal is a read: the last change stays the creation.
    f.vault.reveal(&issued.id, None).unwrap();
    assert_eq!(
        f.vault.changed_last("who-changed").unwrap().unwrap().at,
        created_at
    );
    f.vault.rotate(&issued.id, None).unwrap();
    assert_ne!(
        f.vault.changed_last(&issued.id).unwrap().unwrap().at,
        created_at
    );
    // Not a team vault: no OpenBao document to read.
    assert!(f.vault.last_change(&issued.id).unwrap().is_none());
}
