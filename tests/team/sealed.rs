//! A sealed OpenBao: every command exits 3 saying how to unseal, and nothing
//! changes. Run alone by tests/team/run.sh (it seals the shared dev server).

mod common;

use common::{bao, env, init, team, TestVault};

#[test]
fn a_sealed_server_exits_3_with_what_to_do_and_changes_nothing() {
    let t = team("sealed");
    let a = TestVault::new();
    init(&a, &t);
    let key = a.json(&["key", "new", "--kind", "api", "--name", "svc"], 0);
    let id = key["id"].as_str().unwrap().to_string();
    let before = common::state(&a);
    let out = bao(&["operator", "seal"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let result = std::panic::catch_unwind(|| {
        for args in [
            vec!["key", "rotate", id.as_str()],
            vec!["key", "list"],
            vec!["jwt", "sign", "--key", id.as_str()],
        ] {
            let (_, err) = a.run(&args, 3);
            assert!(
                err.contains("is sealed: unseal it (bao operator unseal) and retry"),
                "{args:?}: {err}"
            );
        }
        let status = a.cmd(&["vault", "info"]).output().unwrap();
        assert_eq!(status.status.code(), Some(3));
    });
    // Unseal whatever happened, so the server is left as found.
    let out = bao(&["operator", "unseal", &env("KEYWARD_BAO_UNSEAL_KEY")]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    if let Err(e) = result {
        std::panic::resume_unwind(e);
    }
    // Nothing changed; each refused command's open is audited as failed.
    assert_eq!(common::state(&a), before, "nothing changed");
    let opens = common::audit_events(&a, true);
    assert_eq!(opens.len(), 4, "{opens:?}");
    for e in &opens {
        let m = e["details"]["message"].as_str().unwrap();
        assert!(m.contains("is sealed"), "{m}");
    }
    let shown = a.json(&["key", "show", &id], 0);
    assert_eq!(shown["version"], 1);
    a.json(&["key", "rotate", &id], 0);
}
