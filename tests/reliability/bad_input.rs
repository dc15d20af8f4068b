//! Bad input: every entry of the corpus in `tests/corpus/` (tokens, keys,
//! API keys — listed with what is wrong with each in `manifest.tsv` — and
//! command lines in `args.tsv`), plus big and binary inputs made here (a
//! 10 MB token, 10 MB key and API-key files, 100,000-deep JSON, NUL bytes,
//! invalid UTF-8 in input and in arguments), is fed to every command that
//! reads that kind of input. Each must exit 2 with one line on stderr that
//! starts with `keyward: `, never panic, and leave the vault's files
//! byte-identical.

mod support;

use keyward_core::crypto::{Alg, PrivateKey};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use support::{Session, Vault};

fn corpus() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/corpus")
}

/// Every file of the vault directory with its bytes.
fn files(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut out: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| {
            let e = e.unwrap();
            (
                e.file_name().to_string_lossy().into_owned(),
                std::fs::read(e.path()).unwrap(),
            )
        })
        .collect();
    out.sort();
    out
}

/// One command run on one input.
struct Run<'a> {
    label: String,
    args: Vec<std::ffi::OsString>,
    stdin: Option<&'a [u8]>,
    /// Exit 1 is right too when stdout says this: `jwt verify` with a key
    /// that parses but does not fit the token ran its checks and said no.
    rejected: Option<&'static str>,
}

struct Fixture {
    _session: Session,
    v: Vault,
    subs: Vec<(&'static str, String)>,
    before: Vec<(String, Vec<u8>)>,
    failures: Vec<String>,
    runs: usize,
}

impl Fixture {
    fn new() -> Fixture {
        let session = Session::start();
        let v = Vault::in_session(&session);
        v.ok(&["key", "new", "--kind", "api", "--name", "live-api"]);
        v.ok(&[
            "key", "new", "--kind", "signing", "--alg", "ES256", "--name", "signer",
        ]);
        v.ok(&["key", "new", "--kind", "api", "--name", "gone"]);
        v.ok(&["key", "revoke", "gone", "--reason", "fixture"]);
        let s = v.scratch();
        let secret = s.join("secret.bin");
        std::fs::write(&secret, b"a fine HMAC secret of some length").unwrap();
        let wordlist = s.join("words.txt");
        std::fs::write(&wordlist, b"alpha\nbeta\ngamma\n").unwrap();
        std::fs::create_dir_all(s.join("a-dir")).unwrap();
        std::fs::write(s.join("empty"), b"").unwrap();
        let claims = || serde_json::from_str(r#"{"sub":"x"}"#).unwrap();
        let hs = keyward_core::jwt::sign(
            &PrivateKey::from_hmac_secret(b"a fine HMAC secret of some length").unwrap(),
            Alg::HS256,
            Default::default(),
            claims(),
        )
        .unwrap();
        let es = keyward_core::jwt::sign(
            &PrivateKey::generate(Alg::ES256, None).unwrap(),
            Alg::ES256,
            Default::default(),
            claims(),
        )
        .unwrap();
        let p = |x: &Path| x.to_string_lossy().into_owned();
        let subs = vec![
            ("{API}", "live-api".to_string()),
            ("{SIGNER}", "signer".to_string()),
            ("{REVOKED}", "gone".to_string()),
            ("{TOKEN}", hs),
            ("{ES_TOKEN}", es),
            ("{SECRET}", p(&secret)),
            ("{WORDLIST}", p(&wordlist)),
            ("{MISSING}", p(&s.join("does-not-exist"))),
            ("{DIR}", p(&s.join("a-dir"))),
            ("{EMPTY}", p(&s.join("empty"))),
            ("{LONG}", "n".repeat(200)),
            ("{BELL}", "bell\u{7}name".to_string()),
        ];
        // The vault is closed and checkpointed: its files must not change.
        let before = files(&v.dir);
        Fixture {
            _session: session,
            v,
            subs,
            before,
            failures: Vec::new(),
            runs: 0,
        }
    }

    fn sub(&self, arg: &str) -> String {
        let mut out = arg.to_string();
        for (k, v) in &self.subs {
            out = out.replace(k, v);
        }
        out
    }

    fn run(&mut self, r: Run<'_>) {
        self.runs += 1;
        let mut c = Command::new(support::bin());
        c.arg("--vault").arg(&self.v.dir).args(&r.args);
        c.env_remove("KEYWARD_FAILPOINT").env("RUST_BACKTRACE", "1");
        for (k, v) in &self.v.env {
            c.env(k, v);
        }
        c.stdin(if r.stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        });
        c.stdout(Stdio::piped()).stderr(Stdio::piped());
        let mut child = c.spawn().unwrap();
        if let Some(bytes) = r.stdin {
            let mut stdin = child.stdin.take().unwrap();
            let bytes = bytes.to_vec();
            // A writer thread: the process may exit before reading it all.
            std::thread::spawn(move || {
                use std::io::Write;
                let _ = stdin.write_all(&bytes);
            });
        }
        let out = child.wait_with_output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        let line = stderr.trim_end();
        let problem = if stderr.contains("panicked") || stderr.contains("RUST_BACKTRACE") {
            Some(format!("PANIC: {stderr}"))
        } else if out.status.code() == Some(1)
            && r.rejected
                .is_some_and(|w| String::from_utf8_lossy(&out.stdout).contains(w))
        {
            None
        } else if out.status.code() != Some(2) {
            Some(format!(
                "exit {:?} (stdout {})",
                out.status.code(),
                String::from_utf8_lossy(&out.stdout)
                    .chars()
                    .take(300)
                    .collect::<String>()
            ))
        } else if out.status.code() == Some(2)
            && (line.lines().count() != 1 || !line.starts_with("keyward: "))
        {
            Some(format!("not one `keyward: ` line: {stderr:?}"))
        } else if line.len() > 600 {
            Some(format!("a {} character message", line.len()))
        } else {
            None
        };
        let after = files(&self.v.dir);
        let changed = after != self.before;
        if let Some(p) = problem {
            self.failures.push(format!("{}: {p}: {line}", r.label));
        } else if changed {
            self.failures
                .push(format!("{}: the vault's files changed", r.label));
        }
        if changed {
            // Put them back so one failure does not cascade.
            for (name, bytes) in &self.before {
                std::fs::write(self.v.dir.join(name), bytes).unwrap();
            }
            for (name, _) in after {
                if self.before.iter().all(|b| b.0 != name) {
                    let _ = std::fs::remove_file(self.v.dir.join(name));
                }
            }
        }
    }

    fn token(&mut self, label: &str, bytes: &[u8]) {
        let secret = self.sub("{SECRET}");
        let words = self.sub("{WORDLIST}");
        for args in [
            vec!["jwt", "inspect", "-"],
            vec!["jwt", "verify", "-", "--secret-file", &secret],
            vec!["jwt", "verify", "-", "--key", "signer"],
            vec!["jwt", "crack", "-", "--wordlist", &words],
            vec!["jwt", "revoke", "-"],
        ] {
            self.run(Run {
                label: format!("{label} | {}", args[..2].join(" ")),
                args: args.iter().map(Into::into).collect(),
                stdin: Some(bytes),
                rejected: None,
            });
        }
        // As an argument too, when it can be one.
        if let Ok(text) = std::str::from_utf8(bytes) {
            if !text.contains('\0') && !text.starts_with('-') && bytes.len() < 100_000 {
                self.run(Run {
                    label: format!("{label} | jwt inspect ARG"),
                    args: vec!["jwt".into(), "inspect".into(), text.into()],
                    stdin: None,
                    rejected: None,
                });
            }
        }
    }

    fn key(&mut self, label: &str, path: &Path) {
        let es = self.sub("{ES_TOKEN}");
        let p = path.to_string_lossy().into_owned();
        for args in [
            vec![
                "key", "import", "--kind", "signing", "--name", "bad", "--file", &p,
            ],
            vec!["jwt", "verify", &es, "--key-file", &p],
        ] {
            self.run(Run {
                label: format!("{label} | {}", args[..2].join(" ")),
                rejected: (args[0] == "jwt").then_some("INVALID: algorithm:"),
                args: args.iter().map(Into::into).collect(),
                stdin: None,
            });
        }
        let bytes = std::fs::read(path).unwrap();
        self.run(Run {
            label: format!("{label} | key import (stdin)"),
            args: ["key", "import", "--kind", "signing", "--name", "bad"]
                .iter()
                .map(Into::into)
                .collect(),
            stdin: Some(&bytes),
            rejected: None,
        });
    }

    fn apikey(&mut self, label: &str, path: &Path) {
        let bytes = std::fs::read(path).unwrap();
        let p = path.to_string_lossy().into_owned();
        self.run(Run {
            label: format!("{label} | apikey verify (stdin)"),
            args: vec!["apikey".into(), "verify".into()],
            stdin: Some(&bytes),
            rejected: None,
        });
        self.run(Run {
            label: format!("{label} | key import --kind api"),
            args: [
                "key", "import", "--kind", "api", "--name", "bad", "--file", &p,
            ]
            .iter()
            .map(Into::into)
            .collect(),
            stdin: None,
            rejected: None,
        });
        if let Ok(text) = std::str::from_utf8(&bytes) {
            if !text.contains('\0')
                && !text.starts_with('-')
                && !text.is_empty()
                && text.len() < 100_000
            {
                self.run(Run {
                    label: format!("{label} | apikey verify ARG"),
                    args: vec!["apikey".into(), "verify".into(), text.into()],
                    stdin: None,
                    rejected: None,
                });
            }
        }
    }
}

#[test]
fn malformed_input_exits_2_with_one_line_and_changes_nothing() {
    let mut f = Fixture::new();
    let root = corpus();
    let manifest = std::fs::read_to_string(root.join("manifest.tsv")).unwrap();
    let mut inputs = 0;
    for line in manifest
        .lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
    {
        let (path, why) = line.split_once('\t').unwrap();
        let full = root.join(path);
        assert!(full.exists(), "manifest names a missing file {path}");
        let label = format!("{path} ({why})");
        inputs += 1;
        match path.split('/').next().unwrap() {
            "tokens" => f.token(&label, &std::fs::read(&full).unwrap()),
            "keys" => f.key(&label, &full),
            "apikeys" => f.apikey(&label, &full),
            other => panic!("unknown corpus kind {other}"),
        }
    }
    // Every corpus file is in the manifest.
    for kind in ["tokens", "keys", "apikeys"] {
        for e in std::fs::read_dir(root.join(kind)).unwrap() {
            let name = format!("{kind}/{}", e.unwrap().file_name().to_string_lossy());
            assert!(
                manifest
                    .lines()
                    .any(|l| l.starts_with(&format!("{name}\t"))),
                "{name} is not in manifest.tsv"
            );
        }
    }

    // Made here: too big or too binary to commit.
    let h = keyward_core::crypto::b64::encode(br#"{"alg":"HS256"}"#);
    let p = keyward_core::crypto::b64::encode(br#"{"sub":"x"}"#);
    let big = |n: usize| "A".repeat(n);
    let generated: Vec<(&str, Vec<u8>)> = vec![
        (
            "10 MB token",
            format!("{h}.{}.{}", big(10 << 20), big(43)).into_bytes(),
        ),
        ("10 MB of dots", vec![b'.'; 10 << 20]),
        ("header of 300 KB", {
            let hdr = format!(r#"{{"alg":"HS256","x":"{}"}}"#, big(300 << 10));
            format!("{}.{p}.{}", keyward_core::crypto::b64::encode(hdr), big(43)).into_bytes()
        }),
        ("header nested 100,000 deep", {
            let hdr = format!(
                r#"{{"alg":"HS256","x":{}{}}}"#,
                "[".repeat(100_000),
                "]".repeat(100_000)
            );
            format!("{}.{p}.{}", keyward_core::crypto::b64::encode(hdr), big(43)).into_bytes()
        }),
        ("header nested 20,000 objects deep", {
            let hdr = format!(
                r#"{{"alg":"HS256","x":{}1{}}}"#,
                r#"{"a":"#.repeat(20_000),
                "}".repeat(20_000)
            );
            format!("{}.{p}.{}", keyward_core::crypto::b64::encode(hdr), big(43)).into_bytes()
        }),
        (
            "NUL bytes inside the token",
            format!("{h}\0.{p}.{}", big(43)).into_bytes(),
        ),
        ("only NUL bytes", vec![0u8; 4096]),
        (
            "invalid UTF-8",
            vec![0xff, 0xfe, b'.', 0xc3, 0x28, b'.', 0x80],
        ),
        (
            "UTF-8 overlong encoding",
            b"\xc0\xae\xc0\xae\xc0\xae".to_vec(),
        ),
        (
            "a valid token followed by a NUL",
            format!("{}\0", f.sub("{TOKEN}")).into_bytes(),
        ),
        (
            "two tokens",
            format!("{} {}", f.sub("{TOKEN}"), f.sub("{TOKEN}")).into_bytes(),
        ),
    ];
    for (label, bytes) in &generated {
        inputs += 1;
        f.token(&format!("generated: {label}"), bytes);
    }
    let dir = f.v.scratch().join("generated");
    std::fs::create_dir_all(&dir).unwrap();
    let gen_files: Vec<(&str, &str, Vec<u8>)> = vec![
        ("keys", "10 MB PEM", {
            let mut s = b"-----BEGIN PRIVATE KEY-----\n".to_vec();
            s.extend(std::iter::repeat_n(b"QUFBQUFB\n".as_slice(), (10 << 20) / 9).flatten());
            s.extend_from_slice(b"-----END PRIVATE KEY-----\n");
            s
        }),
        (
            "keys",
            "10 MB JSON",
            format!(r#"{{"kty":"oct","k":"{}"}}"#, big(10 << 20)).into_bytes(),
        ),
        (
            "keys",
            "JWK nested 100,000 deep",
            format!(
                r#"{{"kty":{}1{}}}"#,
                "[".repeat(100_000),
                "]".repeat(100_000)
            )
            .into_bytes(),
        ),
        (
            "keys",
            "PEM with NUL bytes",
            b"-----BEGIN PUBLIC KEY-----\nMFkw\0\0EwYH\n-----END PUBLIC KEY-----\n".to_vec(),
        ),
        (
            "keys",
            "JWK with invalid UTF-8",
            b"{\"kty\":\"oct\",\"k\":\"\xff\xfe\"}".to_vec(),
        ),
        (
            "keys",
            "PEM label with invalid UTF-8",
            b"-----BEGIN \xff\xfe-----\nAAAA\n-----END \xff\xfe-----\n".to_vec(),
        ),
        (
            "apikeys",
            "10 MB API key",
            format!("kw_{}", big(10 << 20)).into_bytes(),
        ),
        (
            "apikeys",
            "API key with NUL",
            b"kw_\0AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA".to_vec(),
        ),
        (
            "apikeys",
            "API key of invalid UTF-8",
            b"kw_\xff\xfe\xfd".to_vec(),
        ),
    ];
    for (i, (kind, label, bytes)) in gen_files.iter().enumerate() {
        let path = dir.join(format!("{i}.bin"));
        std::fs::write(&path, bytes).unwrap();
        inputs += 1;
        let label = format!("generated: {label}");
        match *kind {
            "keys" => f.key(&label, &path),
            _ => f.apikey(&label, &path),
        }
    }

    // Command lines.
    let args = std::fs::read_to_string(root.join("args.tsv")).unwrap();
    for line in args
        .lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
    {
        inputs += 1;
        let argv: Vec<std::ffi::OsString> = line.split('\t').map(|a| f.sub(a).into()).collect();
        f.run(Run {
            label: format!("args: {}", line.replace('\t', " ")),
            args: argv,
            stdin: Some(b""),
            rejected: None,
        });
    }
    // Arguments that are not UTF-8.
    #[cfg(unix)]
    {
        use std::os::unix::ffi::OsStringExt;
        for (label, argv) in [
            (
                "a token argument of invalid UTF-8",
                vec![
                    "jwt".into(),
                    "inspect".into(),
                    std::ffi::OsString::from_vec(vec![0xff, 0x2e, 0xfe]),
                ],
            ),
            (
                "a key name of invalid UTF-8",
                vec![
                    "key".into(),
                    "new".into(),
                    "--kind".into(),
                    "api".into(),
                    "--name".into(),
                    std::ffi::OsString::from_vec(vec![b'a', 0xff]),
                ],
            ),
            (
                "an API key argument of invalid UTF-8",
                vec![
                    "apikey".into(),
                    "verify".into(),
                    std::ffi::OsString::from_vec(vec![b'k', b'w', b'_', 0xc3]),
                ],
            ),
        ] {
            inputs += 1;
            f.run(Run {
                label: format!("args: {label}"),
                args: argv,
                stdin: None,
                rejected: None,
            });
        }
    }
    eprintln!(
        "{inputs} malformed inputs, {} command runs: {} failures",
        f.runs,
        f.failures.len()
    );
    assert!(
        f.failures.is_empty(),
        "{} of {} runs misbehaved:\n{}",
        f.failures.len(),
        f.runs,
        f.failures.join("\n")
    );
    assert!(inputs >= 150, "only {inputs} inputs");
}
