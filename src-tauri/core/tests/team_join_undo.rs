//! A team join that fails puts the folder back as it found it: the
//! folder and the files the join made are removed, and nothing that was
//! there before is touched. Runs with the real OS keychain
//! (scripts/with-keyring.sh); no OpenBao: the join fails on an address
//! where nothing listens.

use keyward_core::team::{Credential, InitRequest};
use keyward_core::vault::{Source, VaultOptions};
use keyward_core::{SecretBytes, Vault};
use std::path::Path;

/// A join of a team at a loopback port where nothing listens.
fn join_unreachable(dir: &Path) -> keyward_core::Error {
    let req = InitRequest {
        addr: "http://127.0.0.1:1".into(),
        mount: "secret".into(),
        namespace: None,
        team: "undo".into(),
        credential: Credential::Token(SecretBytes::new(b"s.not-a-real-token".to_vec())),
        ca_file: None,
        transit_mount: "transit".into(),
        audit_file: None,
    };
    match Vault::init_team(VaultOptions::new(dir, Source::Cli), req) {
        Ok(_) => panic!("a join of an unreachable OpenBao succeeded"),
        Err(e) => e,
    }
}

fn names(dir: &Path) -> Vec<String> {
    let mut n: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    n.sort();
    n
}

#[test]
fn a_failed_join_into_a_new_folder_leaves_no_folder() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("team-cache");
    let e = join_unreachable(&dir);
    assert!(e.to_string().contains("127.0.0.1:1"), "{e}");
    assert!(!dir.exists(), "left behind: {:?}", names(&dir));
    assert!(names(tmp.path()).is_empty());
}

#[test]
fn a_failed_join_into_an_existing_folder_keeps_what_was_there() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("mine");
    std::fs::create_dir(&dir).unwrap();
    std::fs::write(dir.join("notes.txt"), "keep me").unwrap();
    std::fs::create_dir(dir.join("sub")).unwrap();
    join_unreachable(&dir);
    assert_eq!(names(&dir), ["notes.txt", "sub"]);
    assert_eq!(
        std::fs::read_to_string(dir.join("notes.txt")).unwrap(),
        "keep me"
    );

    // An empty folder stays, empty.
    let empty = tmp.path().join("empty");
    std::fs::create_dir(&empty).unwrap();
    join_unreachable(&empty);
    assert!(empty.is_dir());
    assert!(names(&empty).is_empty(), "{:?}", names(&empty));
}

#[test]
fn a_failed_join_leaves_an_existing_vault_alone() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("vault");
    let id = Vault::open(VaultOptions::new(&dir, Source::Cli))
        .unwrap()
        .info()
        .unwrap()
        .vault_id;
    let before = names(&dir);
    join_unreachable(&dir);
    assert_eq!(names(&dir), before);
    let reopened = Vault::open(VaultOptions::new(&dir, Source::Cli)).unwrap();
    assert_eq!(reopened.info().unwrap().vault_id, id);
}
