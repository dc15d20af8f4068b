//! Helpers shared by the CLI end-to-end tests: a throwaway vault and the
//! `keyward` binary pointed at it. The OS keychain is the real one (the test
//! script starts a Secret Service); these tests fail without it.

#![allow(dead_code)]

use assert_cmd::Command;
use serde_json::Value;
use std::path::{Path, PathBuf};

pub struct TestVault {
    _dir: tempfile::TempDir,
    pub path: PathBuf,
}

impl TestVault {
    pub fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("vault");
        TestVault { _dir: dir, path }
    }

    /// `keyward --vault <this vault> ARGS...`
    pub fn cmd(&self, args: &[&str]) -> Command {
        let mut c = Command::cargo_bin("keyward").unwrap();
        c.arg("--vault").arg(&self.path).args(args);
        c.env_remove("KEYWARD_FAILPOINT");
        c
    }

    /// Runs with `--json`, asserts the exit code, parses stdout.
    pub fn json(&self, args: &[&str], code: i32) -> Value {
        let mut full = vec!["--json"];
        full.extend_from_slice(args);
        let out = self.cmd(&full).output().unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert_eq!(
            out.status.code(),
            Some(code),
            "keyward {args:?}: stdout {stdout} stderr {}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_str(&stdout)
            .unwrap_or_else(|e| panic!("keyward {args:?}: not JSON ({e}): {stdout}"))
    }

    /// Runs, asserts the exit code, returns (stdout, stderr).
    pub fn run(&self, args: &[&str], code: i32) -> (String, String) {
        let out = self.cmd(args).output().unwrap();
        let so = String::from_utf8_lossy(&out.stdout).into_owned();
        let se = String::from_utf8_lossy(&out.stderr).into_owned();
        assert_eq!(
            out.status.code(),
            Some(code),
            "keyward {args:?}: stdout {so} stderr {se}"
        );
        (so, se)
    }

    pub fn dir(&self) -> &Path {
        &self.path
    }

    /// Runs with `KEYWARD_FAILPOINT=point` and asserts the process was
    /// killed there (no exit code); returns its output.
    pub fn killed_at(&self, point: &str, args: &[&str]) -> std::process::Output {
        let out = self
            .cmd(args)
            .env("KEYWARD_FAILPOINT", point)
            .output()
            .unwrap();
        assert_eq!(
            out.status.code(),
            None,
            "{point}: keyward {args:?} should have been killed there, got {:?} (stderr {})",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
        out
    }

    /// Edits the vault's database directly, as someone with the file would.
    pub fn sql(&self, batch: &str) {
        rusqlite::Connection::open(self.path.join("vault.db"))
            .unwrap()
            .execute_batch(batch)
            .unwrap();
    }
}

/// Every file of the vault directory, for byte-for-byte comparisons.
pub fn snapshot(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut out: Vec<(String, Vec<u8>)> = std::fs::read_dir(dir)
        .map(|rd| {
            rd.map(|e| {
                let e = e.unwrap();
                (
                    e.file_name().to_string_lossy().into_owned(),
                    std::fs::read(e.path()).unwrap(),
                )
            })
            .collect()
        })
        .unwrap_or_default();
    out.sort();
    out
}
