//! The leak scanner over real files: the detection corpus (tests/scan-corpus),
//! ignore files, binaries, size limits, unreadable paths, naming Keyward keys
//! through a lookup, and masking in the JSON and SARIF documents.

use keyward_core::keys::apikey::ApiKey;
use keyward_core::keys::state::KeyState;
use keyward_core::scan::{
    fake_github_token, sarif, scan, KeyLookup, Kind, Level, Lookup, ScanOptions, ScanReport,
};
use keyward_core::vault::query::ApiKeyMatch;
use keyward_core::{ExitClass, Result};
use std::cell::Cell;
use std::collections::HashMap;
use std::fs;
use std::path::{Path, PathBuf};

fn corpus() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/scan-corpus")
}

fn copy_dir(from: &Path, to: &Path) {
    fs::create_dir_all(to).unwrap();
    for e in fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let target = to.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            copy_dir(&e.path(), &target);
        } else {
            fs::copy(e.path(), target).unwrap();
        }
    }
}

fn run(paths: &[&Path]) -> ScanReport {
    let opts = ScanOptions::new(paths.iter().map(|p| p.to_path_buf()).collect());
    scan(&opts, None).unwrap()
}

/// (file relative to `root`, line, column, kind id) of every finding.
fn located(report: &ScanReport, root: &Path) -> Vec<(String, u64, u64, String)> {
    let root = root.to_string_lossy().into_owned() + "/";
    report
        .findings
        .iter()
        .map(|f| {
            (
                f.file.trim_start_matches(&root).to_string(),
                f.line,
                f.column,
                f.kind.id().to_string(),
            )
        })
        .collect()
}

fn api_key(prefix: &str) -> (ApiKey, String) {
    let k = ApiKey::generate(prefix).unwrap();
    let text = k.secret().expose_str().unwrap().to_string();
    (k, text)
}

#[test]
fn the_corpus_gives_exactly_the_expected_findings() {
    let tmp = tempfile::tempdir().unwrap();
    copy_dir(&corpus(), tmp.path());
    let report = run(&[tmp.path()]);
    let expected: Vec<(String, u64, u64, String)> =
        fs::read_to_string(corpus().join("expected.tsv"))
            .unwrap()
            .lines()
            .filter(|l| !l.starts_with('#') && !l.is_empty())
            .map(|l| {
                let f: Vec<&str> = l.split('\t').collect();
                (
                    f[0].to_string(),
                    f[1].parse().unwrap(),
                    f[2].parse().unwrap(),
                    f[3].to_string(),
                )
            })
            .collect();
    assert_eq!(located(&report, tmp.path()), expected);
    // Every format of the corpus is represented, and nothing from negative/.
    assert!(report
        .findings
        .iter()
        .all(|f| f.file.contains("/positive/")));
    for kind in [
        Kind::GithubPat,
        Kind::StripeKey,
        Kind::AwsAccessKeyId,
        Kind::SlackToken,
        Kind::SlackWebhook,
        Kind::PrivateKey,
        Kind::Jwt,
    ] {
        assert!(report.findings.iter().any(|f| f.kind == kind), "{kind:?}");
    }
    assert!(report.files_scanned >= 15, "{}", report.files_scanned);
    assert!(report.warnings.is_empty(), "{:?}", report.warnings);
}

#[test]
fn gitignored_and_keywardignored_files_are_skipped_unless_asked() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    fs::write(root.join(".gitignore"), "secrets.env\nbuild/\n").unwrap();
    fs::write(root.join(".keywardignore"), "fixtures/\n").unwrap();
    for dir in ["build", "fixtures", "src"] {
        fs::create_dir(root.join(dir)).unwrap();
    }
    let line = "AWS_ACCESS_KEY_ID=AKIAIOSFODNN7EXAMPLE\n";
    for f in [
        "secrets.env",
        "build/out.txt",
        "fixtures/key.txt",
        "src/app.env",
    ] {
        fs::write(root.join(f), line).unwrap();
    }
    // Hidden files are where secrets leak: they are scanned; .git is not.
    fs::write(root.join(".env"), line).unwrap();
    fs::create_dir(root.join(".git")).unwrap();
    fs::write(root.join(".git/config"), line).unwrap();

    let report = run(&[root]);
    let mut files: Vec<String> = located(&report, root)
        .into_iter()
        .map(|(f, ..)| f)
        .collect();
    files.sort();
    assert_eq!(files, vec![".env", "src/app.env"]);

    let mut opts = ScanOptions::new(vec![root.to_path_buf()]);
    opts.respect_ignore_files = false;
    let all = scan(&opts, None).unwrap();
    assert_eq!(all.findings.len(), 5, "{:?}", located(&all, root));

    // A file named explicitly is scanned even if ignored (as ripgrep does).
    let explicit = run(&[&root.join("secrets.env")]);
    assert_eq!(explicit.findings.len(), 1);
}

#[test]
fn binaries_and_huge_files_are_skipped() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    let secret = b"AKIAIOSFODNN7EXAMPLE\n";
    // A NUL in the first 8 KiB: binary.
    let mut bin = b"\x7fELF\x02\x01\x01\x00".to_vec();
    bin.extend_from_slice(secret);
    fs::write(root.join("tool.bin"), &bin).unwrap();
    // A NUL only after 8 KiB: text, as git and ripgrep judge it.
    let mut late = vec![b'a'; 9000];
    late.push(0);
    late.extend_from_slice(b"\n");
    late.extend_from_slice(secret);
    fs::write(root.join("late-nul.txt"), &late).unwrap();
    // Larger than the limit.
    let mut big = vec![b'x'; 4096];
    big.extend_from_slice(b"\n");
    big.extend_from_slice(secret);
    fs::write(root.join("big.log"), &big).unwrap();

    let mut opts = ScanOptions::new(vec![root.to_path_buf()]);
    opts.max_file_size = 4000;
    let report = scan(&opts, None).unwrap();
    assert_eq!(report.skipped.binary, 1);
    assert_eq!(report.skipped.too_large, 2, "late-nul.txt is over 4000 too");
    assert!(report.findings.is_empty());

    opts.max_file_size = 1 << 20;
    let report = scan(&opts, None).unwrap();
    let files: Vec<String> = located(&report, root)
        .into_iter()
        .map(|(f, ..)| f)
        .collect();
    assert_eq!(files, vec!["big.log", "late-nul.txt"]);
    assert_eq!(report.skipped.binary, 1);
    assert_eq!(report.files_scanned, 2);
    assert_eq!(report.bytes_scanned, (late.len() + big.len()) as u64);
}

#[test]
fn a_missing_path_is_bad_input() {
    let tmp = tempfile::tempdir().unwrap();
    let missing = tmp.path().join("nope");
    let e = scan(&ScanOptions::new(vec![missing]), None).expect_err("a missing path must fail");
    assert_eq!(e.class(), ExitClass::BadInput);
    assert_eq!(e.code(), "unreadable_path");
    assert!(e.to_string().contains("no such file"), "{e}");
}

#[test]
fn several_paths_are_scanned_together() {
    let a = tempfile::tempdir().unwrap();
    let b = tempfile::tempdir().unwrap();
    fs::write(a.path().join("x.txt"), "AKIAIOSFODNN7EXAMPLE").unwrap();
    fs::write(b.path().join("y.txt"), "ASIAFAKEFAKEFAKE2345").unwrap();
    let report = run(&[a.path(), &b.path().join("y.txt")]);
    assert_eq!(report.findings.len(), 2);
    assert_eq!(report.files_scanned, 2);
}

/// A vault stand-in: keys by hash, and a count of the questions asked.
struct FakeVault {
    keys: HashMap<[u8; 32], ApiKeyMatch>,
    asked: Cell<u32>,
}

impl KeyLookup for FakeVault {
    fn identify(&self, key: &ApiKey) -> Result<Option<ApiKeyMatch>> {
        self.asked.set(self.asked.get() + 1);
        Ok(self.keys.get(&key.hash()).cloned())
    }
}

fn key_match(id: &str, name: &str, state: KeyState) -> ApiKeyMatch {
    ApiKeyMatch {
        id: id.into(),
        name: name.into(),
        version: 2,
        state,
        scopes: vec![],
        expires_at: None,
    }
}

#[test]
fn keyward_keys_are_named_with_their_state_and_live_ones_get_the_rotate_command() {
    let (live, live_text) = api_key("kw");
    let (revoked, revoked_text) = api_key("kw");
    let (grace, grace_text) = api_key("acme");
    let (_, stranger_text) = api_key("kw");
    let vault = FakeVault {
        keys: HashMap::from([
            (
                live.hash(),
                key_match("k_live01", "billing", KeyState::Active),
            ),
            (
                revoked.hash(),
                key_match("k_dead01", "old-billing", KeyState::Revoked),
            ),
            (
                grace.hash(),
                key_match("k_grace1", "search", KeyState::Grace),
            ),
        ]),
        asked: Cell::new(0),
    };
    let tmp = tempfile::tempdir().unwrap();
    fs::write(
        tmp.path().join("config.toml"),
        format!(
            "live = \"{live_text}\"\nagain = \"{live_text}\"\nrevoked = \"{revoked_text}\"\ngrace = \"{grace_text}\"\nstranger = \"{stranger_text}\"\n"
        ),
    )
    .unwrap();
    let report = scan(
        &ScanOptions::new(vec![tmp.path().to_path_buf()]),
        Some(&vault),
    )
    .unwrap();
    let f = &report.findings;
    assert_eq!(f.len(), 5);
    // The same key twice is asked about once.
    assert_eq!(vault.asked.get(), 4);

    for live in [&f[0], &f[1]] {
        let key = live.key.as_ref().unwrap();
        assert_eq!(key.lookup, Lookup::Found);
        assert_eq!(key.id.as_deref(), Some("k_live01"));
        assert_eq!(key.name.as_deref(), Some("billing"));
        assert_eq!(key.state, Some(KeyState::Active));
        assert!(key.live);
        assert_eq!(
            live.suggestion.as_deref(),
            Some("keyward key rotate k_live01")
        );
        assert_eq!(live.level, Level::Error);
        assert!(
            live.message.contains("\"billing\" (k_live01) v2, active"),
            "{}",
            live.message
        );
        assert!(live.message.contains("keyward key rotate k_live01"));
    }
    let dead = &f[2];
    assert_eq!(dead.key.as_ref().unwrap().state, Some(KeyState::Revoked));
    assert!(!dead.key.as_ref().unwrap().live);
    assert_eq!(dead.suggestion, None);
    assert_eq!(dead.level, Level::Warning);
    assert!(dead.message.contains("revoked"), "{}", dead.message);
    assert!(!dead.message.contains("rotate"), "{}", dead.message);

    assert_eq!(
        f[3].suggestion.as_deref(),
        Some("keyward key rotate k_grace1")
    );
    assert_eq!(
        f[3].masked,
        format!("acme_…{}", &grace_text[grace_text.len() - 4..])
    );

    let stranger = f[4].key.as_ref().unwrap();
    assert_eq!(stranger.lookup, Lookup::NotInVault);
    assert_eq!(f[4].suggestion, None);
    assert_eq!(f[4].level, Level::Error);

    // Without a vault the key is still reported, unnamed.
    let report = run(&[tmp.path()]);
    assert!(report
        .findings
        .iter()
        .all(|f| f.key.as_ref().unwrap().lookup == Lookup::NoVault && f.suggestion.is_none()));

    // No secret in the JSON or SARIF documents.
    let json = serde_json::to_string(&report).unwrap();
    let sarif_text = sarif(&report, "0.0.0").to_string();
    for secret in [&live_text, &revoked_text, &grace_text, &stranger_text] {
        assert!(!json.contains(secret.as_str()));
        assert!(!sarif_text.contains(secret.as_str()));
        assert!(!json.contains(&secret[3..40]));
        assert!(!sarif_text.contains(&secret[3..40]));
    }
}

#[test]
fn sarif_has_the_2_1_0_structure_and_no_secret() {
    let tmp = tempfile::tempdir().unwrap();
    copy_dir(&corpus(), tmp.path());
    let token = fake_github_token("ghp_", "0123456789abcdefghijABCDEFGHIJ");
    fs::write(tmp.path().join("with space.txt"), format!("t={token}\n")).unwrap();
    let report = run(&[tmp.path()]);
    let doc = sarif(&report, "1.2.3");
    assert_eq!(doc["version"], "2.1.0");
    assert!(doc["$schema"].as_str().unwrap().contains("sarif-2.1.0"));
    let run = &doc["runs"][0];
    assert_eq!(run["tool"]["driver"]["name"], "keyward");
    assert_eq!(run["tool"]["driver"]["version"], "1.2.3");
    let rules = run["tool"]["driver"]["rules"].as_array().unwrap();
    assert_eq!(rules.len(), Kind::ALL.len());
    let rule_ids: Vec<&str> = rules.iter().map(|r| r["id"].as_str().unwrap()).collect();
    let results = run["results"].as_array().unwrap();
    assert_eq!(results.len(), report.findings.len());
    for (r, f) in results.iter().zip(&report.findings) {
        let id = r["ruleId"].as_str().unwrap();
        let index = r["ruleIndex"].as_u64().unwrap() as usize;
        assert_eq!(rule_ids[index], id);
        assert_eq!(id, f.kind.id());
        assert!(["error", "warning", "note"].contains(&r["level"].as_str().unwrap()));
        assert!(!r["message"]["text"].as_str().unwrap().is_empty());
        let loc = &r["locations"][0]["physicalLocation"];
        let uri = loc["artifactLocation"]["uri"].as_str().unwrap();
        assert!(!uri.contains(' '), "{uri}");
        assert_eq!(loc["region"]["startLine"].as_u64(), Some(f.line));
        assert_eq!(loc["region"]["startColumn"].as_u64(), Some(f.column));
    }
    assert!(results.iter().any(
        |r| r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
            .as_str()
            .unwrap()
            .ends_with("with%20space.txt")
    ));
    let text = doc.to_string();
    assert!(!text.contains(&token));
    assert!(!text.contains("AKIAIOSFODNN7EXAMPLE"));
    assert!(!text.contains("IOSFODNN7"));
}
