//! Lifecycle depth on the real keychain: staged rotation and promotion,
//! reversible disable, the max-token-TTL guard, policies and `due` at
//! injected clock values.

use chrono::{Duration, TimeZone, Utc};
use keyward_core::crypto::Alg;
use keyward_core::keys::KeyState;
use keyward_core::vault::{NewApiKey, NewSigningKey, PolicyChange, Source, VaultOptions};
use keyward_core::{FixedClock, Vault};
use std::sync::Arc;

fn open() -> (tempfile::TempDir, Arc<FixedClock>, Vault) {
    let dir = tempfile::tempdir().unwrap();
    let clock = Arc::new(FixedClock::new(
        Utc.with_ymd_and_hms(2026, 6, 1, 9, 0, 0).unwrap(),
    ));
    let v =
        Vault::open(VaultOptions::new(dir.path().join("v"), Source::Cli).with_clock(clock.clone()))
            .unwrap();
    (dir, clock, v)
}

fn signing(v: &mut Vault, name: &str) -> String {
    v.create_signing_key(NewSigningKey {
        name: name.into(),
        alg: Alg::ES256,
        bits: None,
        expires_in: None,
        scopes: vec![],
        note: None,
    })
    .unwrap()
    .id
}

fn state(v: &Vault, id: &str, version: u32) -> KeyState {
    v.show_key(id)
        .unwrap()
        .versions
        .into_iter()
        .find(|x| x.version == version)
        .unwrap()
        .state
}

#[test]
fn staged_rotation_publishes_then_promotes_after_the_minimum() {
    let (_d, clock, mut v) = open();
    let id = signing(&mut v, "s");
    let staged = v.stage_rotation(&id).unwrap();
    assert_eq!((staged.version, staged.state), (2, KeyState::Pending));
    assert!(staged.grace_until.is_none());
    // Published (in the JWKS) while v1 still signs.
    assert_eq!(
        v.jwks(std::slice::from_ref(&id)).unwrap()["keys"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
    assert_eq!(state(&v, &id, 1), KeyState::Active);
    let signed = v.sign_token(&id, Default::default()).unwrap();
    assert!(signed.token.contains('.'));
    // A second stage is refused while one is pending; so is a plain rotation.
    assert_eq!(
        v.stage_rotation(&id).unwrap_err().code(),
        "invalid_transition"
    );
    assert_eq!(
        v.rotate(&id, None).unwrap_err().code(),
        "invalid_transition"
    );
    // Too early.
    clock.advance(Duration::minutes(30));
    let e = v.promote(&id, Duration::hours(1)).unwrap_err();
    assert_eq!(e.code(), "too_early");
    assert!(e.to_string().contains("2026-06-01T10:00:00"), "{e}");
    clock.advance(Duration::minutes(30));
    assert_eq!(v.promote(&id, Duration::hours(1)).unwrap(), 2);
    assert_eq!(state(&v, &id, 2), KeyState::Active);
    assert_eq!(state(&v, &id, 1), KeyState::Grace);
    assert_eq!(
        v.promote(&id, Duration::zero()).unwrap_err().code(),
        "invalid_transition"
    );
    let actions: Vec<String> = v
        .audit_list(&Default::default())
        .unwrap()
        .into_iter()
        .map(|e| e.action)
        .collect();
    assert!(
        actions.contains(&"key.stage".to_string()) && actions.contains(&"key.promote".to_string())
    );
}

#[test]
fn disable_is_reversible_and_revocation_is_not() {
    let (_d, _clock, mut v) = open();
    let id = signing(&mut v, "d");
    v.rotate(&id, Some(Duration::hours(1))).unwrap();
    assert_eq!(v.disable(&id, None, "incident", false).unwrap(), vec![1, 2]);
    assert_eq!(state(&v, &id, 2), KeyState::Disabled);
    assert_eq!(
        v.sign_token(&id, Default::default()).unwrap_err().code(),
        "not_signing_state"
    );
    let back = v.enable(&id, None).unwrap();
    assert!(
        back.contains(&(2, KeyState::Active)) && back.contains(&(1, KeyState::Grace)),
        "{back:?}"
    );
    v.sign_token(&id, Default::default()).unwrap();
    v.revoke(&id, Some(1), "gone").unwrap();
    assert_eq!(
        v.enable(&id, Some(1)).unwrap_err().code(),
        "invalid_transition"
    );
    // A disabled key can be scheduled for destruction, and restored disabled.
    v.disable(&id, Some(2), "parked", false).unwrap();
    v.delete(&id, Duration::days(3)).unwrap();
    v.restore(&id).unwrap();
    assert_eq!(state(&v, &id, 2), KeyState::Disabled);
    assert_eq!(state(&v, &id, 1), KeyState::Revoked);
}

#[test]
fn max_token_ttl_guards_revoke_and_disable_unless_forced() {
    let (_d, clock, mut v) = open();
    let id = signing(&mut v, "g");
    v.set_policy(
        &id,
        PolicyChange {
            max_token_ttl: Some(Duration::hours(1)),
            ..Default::default()
        },
    )
    .unwrap();
    let e = v.revoke(&id, None, "x").unwrap_err();
    assert_eq!(e.code(), "tokens_may_be_live");
    assert!(e.to_string().contains("--force"), "{e}");
    v.rotate(&id, Some(Duration::days(1))).unwrap();
    clock.advance(Duration::minutes(59));
    assert_eq!(
        v.disable(&id, Some(1), "x", false).unwrap_err().code(),
        "tokens_may_be_live"
    );
    clock.advance(Duration::minutes(1));
    // v1 stopped signing an hour ago: its tokens are all expired now.
    assert_eq!(v.disable(&id, Some(1), "x", false).unwrap(), vec![1]);
    assert_eq!(
        v.revoke_with(&id, Some(2), "forced", true).unwrap(),
        vec![2]
    );
    // Without the policy, no --force is needed.
    let free = signing(&mut v, "free");
    v.revoke(&free, None, "fine").unwrap();
    // API keys take no max token TTL.
    let api = v
        .create_api_key(NewApiKey {
            name: "api".into(),
            ..Default::default()
        })
        .unwrap();
    assert_eq!(
        v.set_policy(
            &api.id,
            PolicyChange {
                max_token_ttl: Some(Duration::hours(1)),
                ..Default::default()
            }
        )
        .unwrap_err()
        .code(),
        "not_signing"
    );
}

#[test]
fn due_reports_and_applies_rotations_expiries_grace_ends_and_destructions() {
    let (_d, clock, mut v) = open();
    let rot = signing(&mut v, "rotating");
    let policy = v
        .set_policy(
            &rot,
            PolicyChange {
                auto_rotate: Some(Duration::days(30)),
                grace: Some(Duration::days(2)),
                ..Default::default()
            },
        )
        .unwrap();
    assert_eq!(policy.auto_rotate.as_deref(), Some("30d"));
    let exp = v
        .create_api_key(NewApiKey {
            name: "expiring".into(),
            expires_in: Some(Duration::days(5)),
            ..Default::default()
        })
        .unwrap();
    let gone = v
        .create_api_key(NewApiKey {
            name: "gone".into(),
            ..Default::default()
        })
        .unwrap();
    v.revoke(&gone.id, None, "old").unwrap();
    v.delete(&gone.id, Duration::days(3)).unwrap();

    let r = v.due(Duration::days(7), false).unwrap();
    let kinds: Vec<(&str, &str)> = r
        .items
        .iter()
        .map(|i| (i.kind.as_str(), i.name.as_str()))
        .collect();
    assert_eq!(
        kinds,
        vec![("destruction", "gone"), ("expiry", "expiring")],
        "{r:?}"
    );
    assert!(r.items.iter().all(|i| !i.overdue));

    // 32 days later: the rotation is two days late, flagged; destruction and expiry overdue.
    clock.advance(Duration::days(32));
    let r = v.due(Duration::days(1), false).unwrap();
    let rotation = r.items.iter().find(|i| i.kind == "rotation").unwrap();
    assert!(rotation.overdue && rotation.late, "{rotation:?}");
    assert!(r.items.iter().any(|i| i.kind == "destruction" && i.overdue));
    // Reading changed nothing.
    assert_eq!(v.show_key(&rot).unwrap().summary.version, 1);
    let _ = exp;

    let applied = v.due(Duration::days(1), true).unwrap();
    assert_eq!(applied.applied.len(), 2, "{applied:?}");
    assert_eq!(v.show_key(&rot).unwrap().summary.version, 2);
    assert_eq!(state(&v, &rot, 1), KeyState::Grace);
    assert_eq!(
        v.show_key(&gone.id).unwrap().versions[0].state,
        KeyState::Destroyed
    );
    let events = v.audit_list(&Default::default()).unwrap();
    let system: Vec<&str> = events
        .iter()
        .filter(|e| e.actor == "system")
        .map(|e| e.action.as_str())
        .collect();
    assert_eq!(system, vec!["key.rotate", "key.destroy"]);
    // The new version's grace ending shows up next.
    let next = v.due(Duration::days(3), false).unwrap();
    assert!(
        next.items
            .iter()
            .any(|i| i.kind == "grace_end" && i.version == Some(1)),
        "{next:?}"
    );
}

/// What the desktop app runs on the vault it opens, at start and on every
/// switch: one vault's due rotation is applied (actor `system`) when that
/// vault is opened, never another's, and the session is recorded.
#[test]
fn opening_a_session_applies_what_is_due_in_that_vault_only() {
    let (d, clock, mut first) = open();
    let second_dir = d.path().join("second");
    let mut second =
        Vault::open(VaultOptions::new(&second_dir, Source::Cli).with_clock(clock.clone())).unwrap();
    let auto = PolicyChange {
        auto_rotate: Some(Duration::days(30)),
        ..Default::default()
    };
    let a = signing(&mut first, "first-signer");
    first.set_policy(&a, auto.clone()).unwrap();
    let b = signing(&mut second, "second-signer");
    second.set_policy(&b, auto).unwrap();
    drop(second);
    clock.advance(Duration::days(31));

    // Switching to the second vault: its rotation is applied, and said so.
    let opts = || VaultOptions::new(&second_dir, Source::Desktop).with_clock(clock.clone());
    let report = Vault::open_session_and_apply_due(opts()).unwrap();
    assert_eq!(report.applied.len(), 1, "{report:?}");
    assert!(report.applied[0].contains("second-signer"), "{report:?}");
    assert!(report.items.iter().all(|i| !i.overdue), "{report:?}");
    let second = Vault::open(opts()).unwrap();
    assert_eq!(second.show_key(&b).unwrap().summary.version, 2);
    let events = second.audit_list(&Default::default()).unwrap();
    let actions: Vec<(&str, &str)> = events
        .iter()
        .map(|e| (e.actor.as_str(), e.action.as_str()))
        .filter(|(_, a)| *a == "vault.open" || *a == "key.rotate")
        .collect();
    assert_eq!(actions.len(), 2, "{actions:?}");
    assert_eq!(actions[0].1, "vault.open");
    assert_eq!(actions[1], ("system", "key.rotate"));

    // The vault that was not opened keeps its overdue rotation for its own turn.
    assert_eq!(first.show_key(&a).unwrap().summary.version, 1);
    // Opening the second one again finds nothing left to apply.
    let again = Vault::open_session_and_apply_due(opts()).unwrap();
    assert!(again.applied.is_empty(), "{again:?}");
}
