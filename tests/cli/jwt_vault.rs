//! `jwt sign`, `jwt verify --key`, `jwt revoke` and `jwt inspect` against a
//! vault: keys pinned by the vault, versions by kid, states, the denylist.

mod common;

use common::TestVault;
use serde_json::Value;

fn check<'a>(report: &'a Value, name: &str) -> &'a Value {
    report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["check"] == name)
        .unwrap_or_else(|| panic!("no {name} check: {report}"))
}

fn decode_part(token: &str, i: usize) -> Value {
    use base64::Engine;
    let part = token.split('.').nth(i).unwrap();
    serde_json::from_slice(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(part)
            .unwrap(),
    )
    .unwrap()
}

#[test]
fn sign_verify_rotate_revoke_with_every_algorithm_family() {
    let v = TestVault::new();
    for (name, alg) in [
        ("es", "ES256"),
        ("hs", "HS384"),
        ("ed", "EdDSA"),
        ("ps", "PS256"),
    ] {
        let key = v.json(
            &[
                "key", "new", "--kind", "signing", "--name", name, "--alg", alg,
            ],
            0,
        );
        let signed = v.json(
            &[
                "jwt",
                "sign",
                "--key",
                name,
                "--sub",
                "alice",
                "--aud",
                "api",
                "--aud",
                "web",
                "--ttl",
                "10m",
                "--claims",
                r#"{"role":"admin"}"#,
            ],
            0,
        );
        let token = signed["token"].as_str().unwrap();
        let header = decode_part(token, 0);
        let claims = decode_part(token, 1);
        assert_eq!(header["alg"], alg);
        assert_eq!(
            header["kid"], key["kid"],
            "{name}: kid is the version's thumbprint or random id"
        );
        assert_eq!(claims["jti"], signed["jti"]);
        assert_eq!(claims["aud"], serde_json::json!(["api", "web"]));
        assert_eq!(
            claims["exp"].as_i64().unwrap() - claims["iat"].as_i64().unwrap(),
            600
        );
        assert_eq!(claims["role"], "admin");

        let ok = v.json(&["jwt", "verify", token, "--key", name, "--aud", "web"], 0);
        assert_eq!(ok["valid"], true, "{ok}");
        assert_eq!(check(&ok, "revocation")["status"], "pass");
        let order: Vec<&str> = ok["checks"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["check"].as_str().unwrap())
            .collect();
        assert_eq!(
            order,
            [
                "format",
                "algorithm",
                "signature",
                "exp",
                "nbf",
                "iat",
                "iss",
                "aud",
                "required",
                "revocation"
            ]
        );

        // After rotation the old version still verifies during grace, and says so.
        v.json(&["key", "rotate", name, "--grace", "1h"], 0);
        let grace = v.json(&["jwt", "verify", token, "--key", name, "--aud", "api"], 0);
        assert!(
            check(&grace, "signature")["detail"]
                .as_str()
                .unwrap()
                .contains("grace"),
            "{grace}"
        );
        // New tokens carry the new version's kid.
        let newer = v.json(&["jwt", "sign", "--key", name], 0);
        assert_ne!(
            decode_part(newer["token"].as_str().unwrap(), 0)["kid"],
            header["kid"]
        );
        v.json(
            &[
                "jwt",
                "verify",
                newer["token"].as_str().unwrap(),
                "--key",
                name,
            ],
            0,
        );

        // Revoking the old version: its tokens fail `signature`, with that reason.
        v.json(
            &["key", "revoke", name, "--version", "1", "--reason", "test"],
            0,
        );
        let bad = v.json(&["jwt", "verify", token, "--key", name, "--aud", "api"], 1);
        assert_eq!(check(&bad, "signature")["status"], "fail");
        assert!(bad["reason"].as_str().unwrap().contains("revoked"), "{bad}");
    }
}

#[test]
fn the_denylist_revokes_tokens_until_they_expire() {
    let v = TestVault::new();
    v.json(
        &[
            "key", "new", "--kind", "signing", "--name", "k", "--alg", "ES384",
        ],
        0,
    );
    let t = v.json(&["jwt", "sign", "--key", "k", "--ttl", "5m"], 0)["token"]
        .as_str()
        .unwrap()
        .to_string();
    v.json(&["jwt", "verify", &t, "--key", "k"], 0);
    let r = v.json(&["jwt", "revoke", &t], 0);
    assert_eq!(r["issued_here"], true);
    assert!(r["until"].is_i64());
    let bad = v.json(&["jwt", "verify", &t, "--key", "k"], 1);
    assert_eq!(check(&bad, "revocation")["status"], "fail");
    // Past its exp the token fails on exp; the denylist entry is no longer needed.
    let later = v.json(
        &[
            "jwt",
            "verify",
            &t,
            "--key",
            "k",
            "--now",
            &(r["until"].as_i64().unwrap() + 10).to_string(),
        ],
        1,
    );
    assert_eq!(check(&later, "exp")["status"], "fail");
    // By jti, and from stdin.
    v.json(
        &[
            "jwt",
            "revoke",
            "--jti",
            "abc123",
            "--until",
            "2099-01-01T00:00:00Z",
        ],
        0,
    );
    v.cmd(&["jwt", "revoke"])
        .write_stdin(format!("{t}\n"))
        .assert()
        .code(0);
    // Revocations and signatures are audited, never with the token itself.
    let audit = v
        .json(&["audit", "list", "--grep", "token."], 0)
        .to_string();
    assert!(
        !audit.contains(&t) && !audit.contains(t.split('.').nth(2).unwrap()),
        "token in the audit log"
    );
    let revokes = v.json(&["audit", "list", "--action", "token.revoke"], 0);
    assert_eq!(revokes["events"].as_array().unwrap().len(), 3);
}

#[test]
fn vault_keys_pin_the_algorithm_and_the_kid() {
    let v = TestVault::new();
    v.json(
        &[
            "key", "new", "--kind", "signing", "--name", "rsa", "--alg", "RS256",
        ],
        0,
    );
    v.json(
        &[
            "key", "new", "--kind", "signing", "--name", "hmac", "--alg", "HS256",
        ],
        0,
    );
    let rsa_token = v.json(&["jwt", "sign", "--key", "rsa"], 0)["token"]
        .as_str()
        .unwrap()
        .to_string();
    let hs_token = v.json(&["jwt", "sign", "--key", "hmac"], 0)["token"]
        .as_str()
        .unwrap()
        .to_string();
    // An HS256 token checked against the RSA key: refused at `algorithm`.
    let confused = v.json(&["jwt", "verify", &hs_token, "--key", "rsa"], 1);
    assert_eq!(
        check(&confused, "algorithm")["status"],
        "fail",
        "{confused}"
    );
    // A token whose kid the key does not have: fails `signature`.
    let wrong = v.json(&["jwt", "verify", &rsa_token, "--key", "hmac"], 1);
    assert_eq!(check(&wrong, "algorithm")["status"], "fail", "{wrong}");
    // Failed verifications of vault keys are audited.
    let denied = v.json(&["audit", "list", "--action", "token.verify"], 0);
    assert_eq!(denied["events"].as_array().unwrap().len(), 2);
    // inspect names the vault key behind the kid.
    let i = v.json(&["jwt", "inspect", &rsa_token], 0);
    assert_eq!(i["vault_key"]["name"], "rsa", "{i}");
    assert!(
        i["vault_key"]["summary"]
            .as_str()
            .unwrap()
            .contains("rsa v1 (active"),
        "{i}"
    );
    // --header may add members but never change alg or kid.
    v.json(
        &[
            "jwt",
            "sign",
            "--key",
            "rsa",
            "--header",
            r#"{"typ":"at+jwt"}"#,
        ],
        0,
    );
    v.run(
        &[
            "jwt",
            "sign",
            "--key",
            "rsa",
            "--header",
            r#"{"alg":"HS256"}"#,
        ],
        2,
    );
    v.run(
        &[
            "jwt",
            "sign",
            "--key",
            "rsa",
            "--header",
            r#"{"kid":"other"}"#,
        ],
        2,
    );
    v.run(&["jwt", "sign", "--key", "rsa", "--ttl", "0s"], 2);
    v.run(&["jwt", "sign", "--key", "rsa", "--claims", "[1,2]"], 2);
    v.run(
        &[
            "jwt",
            "sign",
            "--key",
            "rsa",
            "--claims",
            r#"{"a":1,"a":2}"#,
        ],
        2,
    );
    v.run(&["jwt", "sign", "--key", "nope"], 2);
    // A token without jti cannot be revoked by token.
    let no_jti = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln";
    v.run(&["jwt", "revoke", no_jti], 2);
    v.run(&["jwt", "revoke", "--jti", "x"], 2);
}

#[test]
fn signing_needs_an_active_version_with_a_secret() {
    let v = TestVault::new();
    v.json(
        &[
            "key", "new", "--kind", "signing", "--name", "s", "--alg", "ES256",
        ],
        0,
    );
    let pem = v
        .run(&["key", "export", "s", "--format", "pem", "--public"], 0)
        .0;
    v.cmd(&["key", "import", "--kind", "signing", "--name", "pub"])
        .write_stdin(pem)
        .assert()
        .code(0);
    v.run(&["jwt", "sign", "--key", "pub"], 2);
    v.json(&["key", "revoke", "s", "--reason", "done"], 0);
    let (_, err) = v.run(&["jwt", "sign", "--key", "s"], 2);
    assert!(err.contains("no active version"), "{err}");
    v.json(&["key", "new", "--kind", "api", "--name", "api"], 0);
    v.run(&["jwt", "sign", "--key", "api"], 2);
}
