//! Lifecycle policy commands end to end: rotate --stage, promote, disable,
//! enable, policy, due, revoke --force; refused transitions exit 2 with the
//! reason and the command that would make them possible.

mod common;

use common::TestVault;

#[test]
fn stage_promote_disable_enable_through_the_cli() {
    let v = TestVault::new();
    v.json(
        &[
            "key", "new", "--kind", "signing", "--name", "s", "--alg", "EdDSA",
        ],
        0,
    );
    let staged = v.json(&["key", "rotate", "s", "--stage"], 0);
    assert_eq!(staged["state"], "pending");
    assert_eq!(staged["version"], 2);
    let show = v.json(&["key", "show", "s"], 0);
    assert_eq!(show["versions"][0]["state"], "pending");
    assert_eq!(
        v.json(&["key", "jwks", "s"], 0)["keys"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
    // Too early: exit 2, with when it will be possible.
    let (_, err) = v.run(&["key", "promote", "s", "--min-published", "1h"], 2);
    assert!(err.contains("promote it after"), "{err}");
    let p = v.json(&["key", "promote", "s", "--min-published", "0s"], 0);
    assert_eq!(p["version"], 2);
    let (_, err) = v.run(&["key", "promote", "s"], 2);
    assert!(err.contains("keyward key rotate"), "{err}");
    let d = v.json(
        &[
            "key",
            "disable",
            "s",
            "--version",
            "2",
            "--reason",
            "incident",
        ],
        0,
    );
    assert_eq!(d["disabled_versions"], serde_json::json!([2]));
    v.run(&["jwt", "sign", "--key", "s"], 2);
    let e = v.json(&["key", "enable", "s", "--version", "2"], 0);
    assert_eq!(e["enabled"][0]["state"], "active");
    v.json(&["jwt", "sign", "--key", "s"], 0);
    let list = v.json(&["key", "list", "--state", "active"], 0);
    assert_eq!(list["keys"].as_array().unwrap().len(), 1);
}

#[test]
fn policy_and_due_through_the_cli() {
    let v = TestVault::new();
    v.json(
        &[
            "key", "new", "--kind", "signing", "--name", "p", "--alg", "HS256",
        ],
        0,
    );
    v.json(
        &[
            "key",
            "new",
            "--kind",
            "api",
            "--name",
            "soon",
            "--expires-in",
            "2d",
        ],
        0,
    );
    let pol = v.json(
        &[
            "key",
            "policy",
            "p",
            "--auto-rotate",
            "90d",
            "--grace",
            "1d",
            "--max-token-ttl",
            "15m",
        ],
        0,
    );
    assert_eq!(pol["policy"]["auto_rotate"], "90d");
    assert_eq!(pol["policy"]["max_token_ttl"], "15m");
    assert!(pol["next_rotation_at"].is_string());
    let shown = v.json(&["key", "policy", "p"], 0);
    assert_eq!(shown["policy"], pol["policy"]);
    let (_, err) = v.run(&["key", "revoke", "p", "--reason", "x"], 2);
    assert!(err.contains("--force"), "{err}");
    let (_, err) = v.run(&["key", "disable", "p", "--reason", "x"], 2);
    assert!(err.contains("--force"), "{err}");
    // Both refusals are on the record as denied, with the policy's reason.
    for action in ["key.revoke", "key.disable"] {
        let events = v.json(&["audit", "list", "--action", action], 0)["events"].clone();
        let events = events.as_array().unwrap();
        assert_eq!(events.len(), 1, "{action}: {events:?}");
        assert_eq!(events[0]["outcome"], "denied", "{action}: {events:?}");
        assert_eq!(events[0]["details"]["error"], "tokens_may_be_live");
    }
    let due = v.json(&["key", "due", "--within", "3d"], 0);
    let items = due["items"].as_array().unwrap();
    assert_eq!(items.len(), 1, "{due}");
    assert_eq!(items[0]["kind"], "expiry");
    assert_eq!(items[0]["name"], "soon");
    let none = v.json(&["key", "due", "--within", "1d"], 0);
    assert!(none["items"].as_array().unwrap().is_empty());
    let applied = v.json(&["key", "due", "--apply"], 0);
    assert!(
        applied["applied"].as_array().unwrap().is_empty(),
        "nothing was due yet"
    );
    v.json(&["key", "revoke", "p", "--reason", "x", "--force"], 0);
    v.run(&["key", "policy", "p", "--grace", "-1d"], 2);
    v.run(&["key", "policy", "soon", "--max-token-ttl", "1h"], 2);
    v.run(&["key", "due", "--within", "soon"], 2);
}
