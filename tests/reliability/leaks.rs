//! No leaks: every flow runs with secrets the test knows — API keys issued,
//! rotated, revealed and imported; HMAC, RSA, EC and Ed25519 signing keys
//! created, imported and exported; tokens signed and verified with a secret
//! file; the audit log exported in every format; failures on the way — and
//! then the database, its WAL and shared-memory files, every other file in
//! the vault directory, the audit exports, and stdout/stderr of every
//! command that is not a reveal path are searched for each secret: raw, hex,
//! base64 and base64url (at every alignment). There must be no hit.
//!
//! Also: the CLI sets its core-file limit to zero and makes itself
//! non-dumpable before it touches a secret.

mod support;

use base64::Engine;
use keyward_core::crypto::{Alg, PrivateKey};
use keyward_core::keys::apikey::ApiKey;
use serde_json::Value;
use std::collections::HashMap;
use std::path::Path;
use support::{Session, Vault};

/// The encodings of `secret` to look for (long enough to mean something).
fn needles(secret: &[u8]) -> Vec<Vec<u8>> {
    let engines = [
        base64::engine::general_purpose::STANDARD,
        base64::engine::general_purpose::STANDARD_NO_PAD,
        base64::engine::general_purpose::URL_SAFE,
        base64::engine::general_purpose::URL_SAFE_NO_PAD,
    ];
    let mut out = vec![secret.to_vec()];
    let hex: String = secret.iter().map(|b| format!("{b:02x}")).collect();
    out.push(hex.clone().into_bytes());
    out.push(hex.to_uppercase().into_bytes());
    for e in engines {
        // Inside a longer base64 text the secret starts at any of three
        // alignments: encode with 0-2 leading bytes and drop the characters
        // those bytes touch, and the last (partial) group.
        for shift in 0..3usize {
            let mut padded = vec![0u8; shift];
            padded.extend_from_slice(secret);
            let enc = e.encode(&padded);
            let skip = (shift * 8).div_ceil(6);
            let body = enc.trim_end_matches('=');
            let end = body.len().saturating_sub(3);
            if end > skip {
                out.push(body.as_bytes()[skip..end].to_vec());
            }
        }
    }
    out.retain(|n| n.len() >= 12);
    out.sort();
    out.dedup();
    out
}

struct Scanner {
    secrets: Vec<(String, Vec<u8>)>,
    /// (what, bytes) to search.
    haystacks: Vec<(String, Vec<u8>)>,
}

impl Scanner {
    fn secret(&mut self, label: &str, bytes: &[u8]) {
        assert!(bytes.len() >= 16, "{label}: too short to search for");
        self.secrets.push((label.to_string(), bytes.to_vec()));
    }

    fn hay(&mut self, what: impl Into<String>, bytes: &[u8]) {
        self.haystacks.push((what.into(), bytes.to_vec()));
    }

    fn dir(&mut self, dir: &Path, what: &str) {
        for e in std::fs::read_dir(dir).unwrap() {
            let e = e.unwrap();
            if e.file_type().unwrap().is_file() {
                let bytes = std::fs::read(e.path()).unwrap();
                self.hay(
                    format!("{what}/{}", e.file_name().to_string_lossy()),
                    &bytes,
                );
            }
        }
    }

    fn hits(&self) -> Vec<String> {
        // One pass over each haystack, looking every 12-byte window up
        // among the needles' first 12 bytes (every needle is that long).
        let mut by_prefix: HashMap<&[u8], Vec<(usize, Vec<u8>)>> = HashMap::new();
        let all: Vec<(usize, Vec<u8>)> = self
            .secrets
            .iter()
            .enumerate()
            .flat_map(|(i, (_, secret))| needles(secret).into_iter().map(move |n| (i, n)))
            .collect();
        for (i, n) in &all {
            by_prefix.entry(&n[..12]).or_default().push((*i, n.clone()));
        }
        let mut hits = Vec::new();
        for (what, hay) in &self.haystacks {
            for start in 0..hay.len().saturating_sub(11) {
                if let Some(cands) = by_prefix.get(&hay[start..start + 12]) {
                    for (i, n) in cands {
                        if hay[start..].starts_with(n) {
                            hits.push(format!("{} found in {what}", self.secrets[*i].0));
                        }
                    }
                }
            }
        }
        hits.sort();
        hits.dedup();
        hits
    }
}

/// Runs a command that is not a reveal path: both streams are searched.
fn quiet(v: &Vault, s: &mut Scanner, args: &[&str]) -> std::process::Output {
    let out = v.output(args);
    s.hay(format!("stdout of {args:?}"), &out.stdout);
    s.hay(format!("stderr of {args:?}"), &out.stderr);
    assert!(
        !String::from_utf8_lossy(&out.stderr).contains("panicked"),
        "{args:?} panicked"
    );
    out
}

/// Runs a reveal path: its stdout holds a secret by design; stderr is searched.
fn reveal(v: &Vault, s: &mut Scanner, args: &[&str]) -> Vec<u8> {
    let out = v.output(args);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    s.hay(format!("stderr of {args:?}"), &out.stderr);
    out.stdout
}

fn b64url(text: &str) -> Vec<u8> {
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(text)
        .unwrap()
}

/// The private members of a JWK export, decoded.
fn private_members(jwk: &Value) -> Vec<(String, Vec<u8>)> {
    ["d", "p", "q", "dp", "dq", "qi", "k"]
        .iter()
        .filter_map(|m| Some((m.to_string(), b64url(jwk.get(*m)?.as_str()?))))
        .collect()
}

#[test]
fn no_secret_reaches_a_file_a_log_or_an_output() {
    let mut session = Session::start();
    let v = Vault::in_session(&session);
    let mut s = Scanner {
        secrets: Vec::new(),
        haystacks: Vec::new(),
    };
    // Keep the database open so the WAL is not folded in and deleted when
    // each command exits: it is searched as it stands.
    let keep_open = v.db();
    // (a first read maps the WAL index, which keeps the files in place).
    let _: i64 = keep_open
        .query_row("SELECT COUNT(*) FROM meta", [], |r| r.get(0))
        .unwrap();

    // API keys: issue, rotate, reveal, import.
    let issued: Value = serde_json::from_slice(&reveal(
        &v,
        &mut s,
        &[
            "--json", "key", "new", "--kind", "api", "--name", "billing", "--scope", "read",
        ],
    ))
    .unwrap();
    let first = issued["secret"].as_str().unwrap().to_string();
    s.secret("API key v1", first.as_bytes());
    let rotated: Value = serde_json::from_slice(&reveal(
        &v,
        &mut s,
        &["--json", "key", "rotate", "billing", "--grace", "1h"],
    ))
    .unwrap();
    let second = rotated["secret"].as_str().unwrap().to_string();
    s.secret("API key v2", second.as_bytes());
    assert_eq!(
        String::from_utf8(reveal(&v, &mut s, &["key", "reveal", "billing"]))
            .unwrap()
            .trim(),
        second
    );
    let human = String::from_utf8(reveal(
        &v,
        &mut s,
        &["key", "new", "--kind", "api", "--name", "human"],
    ))
    .unwrap();
    s.secret("API key (human output)", human.trim().as_bytes());
    let imported = ApiKey::generate("imp").unwrap();
    s.secret("imported API key", imported.secret().expose());
    let f = v.scratch().join("api.key");
    std::fs::write(&f, imported.secret().expose()).unwrap();
    quiet(
        &v,
        &mut s,
        &[
            "key",
            "import",
            "--kind",
            "api",
            "--name",
            "imported",
            "--file",
            &f.to_string_lossy(),
        ],
    );
    // Verification, listing and failures around them.
    quiet(&v, &mut s, &["apikey", "verify", &first]);
    quiet(&v, &mut s, &["--json", "apikey", "verify", &second]);
    quiet(
        &v,
        &mut s,
        &[
            "key",
            "import",
            "--kind",
            "api",
            "--name",
            "again",
            "--file",
            &f.to_string_lossy(),
        ],
    );
    let mut typo = second.clone().into_bytes();
    let last = typo.len() - 1;
    typo[last] = if typo[last] == b'A' { b'B' } else { b'A' };
    quiet(
        &v,
        &mut s,
        &["apikey", "verify", std::str::from_utf8(&typo).unwrap()],
    );

    // Signing keys of every family: created, then exported (a reveal path)
    // to learn their private members.
    for (name, alg) in [
        ("hs", "HS256"),
        ("rs", "RS256"),
        ("es", "ES256"),
        ("ed", "EdDSA"),
    ] {
        quiet(
            &v,
            &mut s,
            &[
                "key", "new", "--kind", "signing", "--alg", alg, "--name", name,
            ],
        );
        quiet(&v, &mut s, &["key", "rotate", name, "--grace", "1h"]);
        for version in ["1", "2"] {
            let jwk: Value = serde_json::from_slice(&reveal(
                &v,
                &mut s,
                &[
                    "--json",
                    "key",
                    "export",
                    name,
                    "--version",
                    version,
                    "--format",
                    "jwk",
                ],
            ))
            .unwrap();
            for (m, bytes) in private_members(&jwk) {
                s.secret(&format!("{alg} {name} v{version} member {m}"), &bytes);
            }
            if alg != "HS256" {
                reveal(
                    &v,
                    &mut s,
                    &[
                        "key",
                        "export",
                        name,
                        "--version",
                        version,
                        "--format",
                        "pem",
                    ],
                );
            }
            reveal(&v, &mut s, &["key", "reveal", name, "--version", version]);
        }
        quiet(
            &v,
            &mut s,
            &["key", "export", name, "--format", "pem", "--public"],
        );
        quiet(
            &v,
            &mut s,
            &[
                "jwt",
                "sign",
                "--key",
                name,
                "--sub",
                "leak-test",
                "--ttl",
                "5m",
            ],
        );
    }
    // Imported signing keys: an HMAC secret's raw bytes, a PEM and a JWK.
    let hmac = b"leak-test HMAC secret \x00\x01\x02 with binary bytes \xff";
    s.secret("imported HMAC secret", hmac);
    let hf = v.scratch().join("hmac.bin");
    std::fs::write(&hf, hmac).unwrap();
    quiet(
        &v,
        &mut s,
        &[
            "key",
            "import",
            "--kind",
            "signing",
            "--alg",
            "HS512",
            "--name",
            "hmac-imp",
            "--file",
            &hf.to_string_lossy(),
        ],
    );
    for (name, alg) in [
        ("es-imp", Alg::ES384),
        ("ed-imp", Alg::EdDSA),
        ("rs-imp", Alg::PS256),
    ] {
        let key = PrivateKey::generate(alg, None).unwrap();
        let jwk: Value = serde_json::from_slice(key.to_jwk(None, Some(alg)).expose()).unwrap();
        for (m, bytes) in private_members(&jwk) {
            s.secret(&format!("imported {alg} member {m}"), &bytes);
        }
        let p = v.scratch().join(format!("{name}.pem"));
        std::fs::write(&p, key.to_pem().unwrap().expose()).unwrap();
        quiet(
            &v,
            &mut s,
            &[
                "key",
                "import",
                "--kind",
                "signing",
                "--name",
                name,
                "--file",
                &p.to_string_lossy(),
            ],
        );
        // The same key again: refused, and the refusal names no secret.
        quiet(
            &v,
            &mut s,
            &[
                "key",
                "import",
                "--kind",
                "signing",
                "--name",
                &format!("{name}-2"),
                "--alg",
                "HS256",
                "--file",
                &p.to_string_lossy(),
            ],
        );
    }
    let jf = v.scratch().join("imported.jwk");
    let jkey = PrivateKey::generate(Alg::ES256, None).unwrap();
    let jwk: Value = serde_json::from_slice(jkey.to_jwk(None, Some(Alg::ES256)).expose()).unwrap();
    for (m, bytes) in private_members(&jwk) {
        s.secret(&format!("imported JWK member {m}"), &bytes);
    }
    std::fs::write(&jf, serde_json::to_vec(&jwk).unwrap()).unwrap();
    quiet(
        &v,
        &mut s,
        &[
            "key",
            "import",
            "--kind",
            "signing",
            "--name",
            "jwk-imp",
            "--file",
            &jf.to_string_lossy(),
        ],
    );

    // JWT verification with a secret file, right and wrong.
    let token = keyward_core::jwt::sign(
        &PrivateKey::from_hmac_secret(hmac).unwrap(),
        Alg::HS256,
        Default::default(),
        serde_json::from_str(r#"{"sub":"x","exp":4102444800}"#).unwrap(),
    )
    .unwrap();
    quiet(
        &v,
        &mut s,
        &[
            "jwt",
            "verify",
            &token,
            "--secret-file",
            &hf.to_string_lossy(),
        ],
    );
    quiet(
        &v,
        &mut s,
        &[
            "--json",
            "jwt",
            "verify",
            &token,
            "--secret-file",
            &hf.to_string_lossy(),
        ],
    );
    quiet(
        &v,
        &mut s,
        &[
            "jwt",
            "verify",
            &token,
            "--secret-file",
            &f.to_string_lossy(),
        ],
    );
    quiet(&v, &mut s, &["jwt", "verify", &token, "--key", "hmac-imp"]);
    quiet(&v, &mut s, &["jwt", "inspect", &token]);

    // Everything that lists, shows or checks.
    for args in [
        vec!["key", "list"],
        vec!["--json", "key", "list"],
        vec!["key", "show", "billing"],
        vec!["--json", "key", "show", "hs"],
        vec!["--json", "key", "show", "rs"],
        vec!["key", "jwks"],
        vec!["vault", "info"],
        vec!["--json", "vault", "check"],
        vec!["audit", "list"],
        vec!["--json", "audit", "list"],
        vec!["audit", "verify"],
        vec!["audit", "pubkey"],
        vec!["key", "due"],
    ] {
        quiet(&v, &mut s, &args);
    }
    // Revocation and destruction, and the failures of a stopped keychain.
    quiet(
        &v,
        &mut s,
        &["key", "revoke", "billing", "--reason", "leak test"],
    );
    quiet(&v, &mut s, &["apikey", "verify", &first]);
    quiet(&v, &mut s, &["key", "delete", "billing", "--after", "0s"]);
    session.stop_keyring();
    for args in [
        vec!["key", "reveal", "hs"],
        vec!["key", "export", "es", "--format", "jwk"],
        vec!["jwt", "sign", "--key", "ed", "--sub", "x"],
        vec!["key", "rotate", "human"],
    ] {
        quiet(&v, &mut s, &args);
    }
    session.start_keyring();

    // Audit exports in every format.
    for fmt in ["json", "jsonl", "csv"] {
        let p = v.scratch().join(format!("audit.{fmt}"));
        quiet(
            &v,
            &mut s,
            &[
                "audit",
                "export",
                "--format",
                fmt,
                "--out",
                &p.to_string_lossy(),
            ],
        );
        let bytes = std::fs::read(&p).unwrap();
        s.hay(format!("audit export ({fmt})"), &bytes);
    }
    quiet(&v, &mut s, &["audit", "export", "--format", "json"]);

    // The vault directory: database, WAL, shared memory, checkpoint, anything else.
    s.dir(&v.dir, "vault dir");
    drop(keep_open);
    s.dir(&v.dir, "vault dir after close");
    // The search finds what it looks for (a planted copy, base64 at an
    // odd offset, must be a hit).
    let mut control = Scanner {
        secrets: s.secrets[..1].to_vec(),
        haystacks: Vec::new(),
    };
    let planted =
        base64::engine::general_purpose::STANDARD.encode([&[7u8][..], &s.secrets[0].1].concat());
    control.hay("control", format!("xx{planted}yy").as_bytes());
    assert_eq!(
        control.hits().len(),
        1,
        "the scanner misses a planted secret"
    );
    let secrets = s.secrets.len();
    let needles: usize = s.secrets.iter().map(|(_, b)| needles(b).len()).sum();
    let bytes: usize = s.haystacks.iter().map(|h| h.1.len()).sum();
    let hits = s.hits();
    eprintln!(
        "{secrets} known secrets ({needles} encodings) searched in {} outputs and files ({bytes} bytes): {} hits",
        s.haystacks.len(),
        hits.len()
    );
    assert!(hits.is_empty(), "secrets leaked:\n{}", hits.join("\n"));
    assert!(secrets >= 30, "only {secrets} secrets");
    assert!(
        s.haystacks
            .iter()
            .any(|(w, h)| w.ends_with("vault.db-wal") && !h.is_empty()),
        "the WAL was not searched"
    );
}

/// The CLI process runs with no core dumps: RLIMIT_CORE 0 and not dumpable.
#[cfg(target_os = "linux")]
#[test]
fn the_cli_disables_core_dumps() {
    let session = Session::start();
    let v = Vault::in_session(&session);
    let gate = v.scratch().join("gate");
    let child = v
        .command(&["key", "new", "--kind", "api", "--name", "dump"])
        .env(
            "KEYWARD_FAILPOINT",
            format!("create.after_intent:wait:{}", gate.display()),
        )
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let reached = v.scratch().join("gate.reached");
    let start = std::time::Instant::now();
    while !reached.exists() {
        assert!(start.elapsed() < std::time::Duration::from_secs(30));
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    let pid = child.id();
    let limits = std::fs::read_to_string(format!("/proc/{pid}/limits")).unwrap();
    let core = limits
        .lines()
        .find(|l| l.starts_with("Max core file size"))
        .unwrap()
        .to_string();
    std::fs::write(&gate, b"go").unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    let fields: Vec<&str> = core.split_whitespace().collect();
    assert_eq!(
        &fields[fields.len() - 3..fields.len() - 1],
        &["0", "0"],
        "core dumps are not disabled: {core}"
    );
}

/// Types that hold secrets print none of it with `{:?}` (which is what ends
/// up in logs, panics and error chains).
#[test]
fn secret_types_never_print_their_bytes() {
    let mut s = Scanner {
        secrets: Vec::new(),
        haystacks: Vec::new(),
    };
    for alg in [Alg::HS256, Alg::RS256, Alg::ES256, Alg::ES384, Alg::EdDSA] {
        let key = PrivateKey::generate(alg, None).unwrap();
        let jwk: Value = serde_json::from_slice(key.to_jwk(None, Some(alg)).expose()).unwrap();
        for (m, bytes) in private_members(&jwk) {
            s.secret(&format!("{alg} member {m}"), &bytes);
        }
        let storage = key.to_storage();
        s.hay(
            format!("{alg}: Debug of PrivateKey"),
            format!("{key:?}").as_bytes(),
        );
        s.hay(
            format!("{alg}: Debug of its storage bytes"),
            format!("{storage:?}").as_bytes(),
        );
        let parsed = keyward_core::crypto::ParsedKey::Private(key);
        s.hay(
            format!("{alg}: Debug of ParsedKey"),
            format!("{parsed:?}").as_bytes(),
        );
    }
    let api = ApiKey::generate("dbg").unwrap();
    s.secret("API key", api.secret().expose());
    s.hay(
        "Debug of an API key's SecretBytes",
        format!("{:?}", api.secret()).as_bytes(),
    );
    let hits = s.hits();
    assert!(hits.is_empty(), "{}", hits.join("\n"));
}
