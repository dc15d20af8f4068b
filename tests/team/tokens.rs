//! Token revocations and API-key use shared by every member of a team
//! vault, end to end: two (or three) clients on a real OpenBao dev server
//! (started by tests/team/run.sh) and the real OS keychain.

mod common;

use common::{addr, bao, init, team, TestVault};
use keyward_core::team::denylist;
use serde_json::Value;
use std::path::Path;
use std::time::{Duration, Instant};

/// The entries of the denylist shard that holds `jti`, as OpenBao has
/// them (`null` when the shard does not exist).
fn denylist(t: &str, jti: &str) -> Value {
    let out = bao(&[
        "kv",
        "get",
        "-format=json",
        "-mount=secret",
        &format!("keyward/{t}/{}", denylist::rel(jti)),
    ]);
    if !out.status.success() {
        return serde_json::json!({});
    }
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    doc["data"]["data"]["entries"].clone()
}

/// A KV v2 document's current version (0: none).
fn kv_version(t: &str, rel: &str) -> u64 {
    let out = bao(&[
        "kv",
        "metadata",
        "get",
        "-format=json",
        "-mount=secret",
        &format!("keyward/{t}/{rel}"),
    ]);
    if !out.status.success() {
        return 0;
    }
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    doc["data"]["current_version"].as_u64().unwrap()
}

fn check<'a>(report: &'a Value, name: &str) -> &'a Value {
    report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["check"] == name)
        .unwrap_or_else(|| panic!("no {name} check in {report}"))
}

/// Two members of a new team, and a signing key made by the first.
fn pair(tag: &str) -> (String, TestVault, TestVault) {
    let t = team(tag);
    let a = TestVault::new();
    let b = TestVault::new();
    init(&a, &t);
    init(&b, &t);
    a.json(
        &[
            "key", "new", "--kind", "signing", "--name", "signer", "--alg", "ES256",
        ],
        0,
    );
    (t, a, b)
}

fn sign(v: &TestVault) -> (String, String) {
    let s = v.json(&["jwt", "sign", "--key", "signer", "--ttl", "10m"], 0);
    (
        s["token"].as_str().unwrap().to_string(),
        s["jti"].as_str().unwrap().to_string(),
    )
}

/// `keyward --vault <v> ARGS` started without waiting, with a failpoint.
fn spawn(v: &TestVault, failpoint: Option<&str>, args: &[&str]) -> std::process::Child {
    let mut c = std::process::Command::new(assert_cmd::cargo::cargo_bin("keyward"));
    c.arg("--vault")
        .arg(&v.path)
        .args(args)
        .env_remove("KEYWARD_FAILPOINT")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    if let Some(f) = failpoint {
        c.env("KEYWARD_FAILPOINT", f);
    }
    c.spawn().unwrap()
}

fn wait_for(path: &Path) {
    let start = Instant::now();
    while !path.exists() {
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "{} never appeared",
            path.display()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn finished(child: std::process::Child) -> (Option<i32>, String, String) {
    let out = child.wait_with_output().unwrap();
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn a_token_revoked_by_one_member_is_rejected_by_every_member() {
    let (t, a, b) = pair("deny");
    let (token, jti) = sign(&a);
    let ok = b.json(&["jwt", "verify", "--key", "signer", &token], 0);
    assert_eq!(check(&ok, "revocation")["status"], "pass", "{ok}");

    let r = a.json(&["jwt", "revoke", &token], 0);
    assert_eq!(r["team"], true, "{r}");
    assert_eq!(r["issued_here"], true, "{r}");
    assert_eq!(denylist(&t, &jti)[&jti], r["until"]);
    let (said, _) = a.run(&["jwt", "revoke", &token], 0);
    assert!(said.contains("for the whole team"), "{said}");

    // Bob never synced anything about it: his verify reads the team's list.
    let no = b.json(&["jwt", "verify", "--key", "signer", &token], 1);
    assert_eq!(no["valid"], false);
    assert!(
        no["reason"].as_str().unwrap().starts_with("revocation:"),
        "{no}"
    );
    assert_eq!(check(&no, "revocation")["status"], "fail");
    assert_eq!(check(&no, "signature")["status"], "pass");
    // So does a member who joins afterwards.
    let c = TestVault::new();
    init(&c, &t);
    c.json(&["jwt", "verify", "--key", "signer", &token], 1);

    // The other way round, with --jti/--until, for a token Bob signed.
    let (token_b, jti_b) = sign(&b);
    let until = (chrono::Utc::now() + chrono::Duration::minutes(11)).to_rfc3339();
    b.json(&["jwt", "revoke", "--jti", &jti_b, "--until", &until], 0);
    let no = a.json(&["jwt", "verify", "--key", "signer", &token_b], 1);
    assert!(
        no["reason"].as_str().unwrap().starts_with("revocation:"),
        "{no}"
    );

    // Audited as on a personal vault: the revocation where it was made, the
    // rejected verify where it was refused; both chains intact.
    let ev = a.json(&["audit", "list", "--action", "token.revoke"], 0);
    let ev = ev["events"].as_array().unwrap();
    assert!(
        ev.iter()
            .any(|e| e["outcome"] == "success" && e["details"]["jti"] == jti.as_str()),
        "{ev:?}"
    );
    let ev = b.json(&["audit", "list", "--action", "token.verify"], 0);
    assert!(
        ev["events"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["details"]["jti"] == jti.as_str() && e["outcome"] == "denied"),
        "{ev}"
    );
    for v in [&a, &b] {
        v.run(&["audit", "verify"], 0);
    }
}

#[test]
fn revocations_from_two_members_at_once_both_survive() {
    let (t, a, b) = pair("deny-race");
    // Alice has read the shard and is about to write it back when Bob's
    // revocation lands in the same shard: her check-and-set fails, she
    // reads again, both entries stay.
    let (token_a, jti_a) = sign(&a);
    let jti_b = same_shard(&jti_a, 1).remove(0);
    let until = (chrono::Utc::now() + chrono::Duration::minutes(30)).to_rfc3339();
    let version = || {
        let out = bao(&[
            "kv",
            "metadata",
            "get",
            "-format=json",
            "-mount=secret",
            &format!("keyward/{t}/{}", denylist::rel(&jti_a)),
        ]);
        serde_json::from_slice::<Value>(&out.stdout)
            .map_or(0, |d| d["data"]["current_version"].as_u64().unwrap_or(0))
    };
    let dir = tempfile::tempdir().unwrap();
    let gate = dir.path().join("go");
    let fp = format!("denylist.before_write:wait:{}", gate.display());
    let alice = spawn(&a, Some(&fp), &["--json", "jwt", "revoke", &token_a]);
    wait_for(&dir.path().join("go.reached"));
    b.json(&["jwt", "revoke", "--jti", &jti_b, "--until", &until], 0);
    assert_eq!(version(), 1, "Bob wrote the shard first");
    std::fs::write(&gate, "").unwrap();
    let (code, out, err) = finished(alice);
    assert_eq!(code, Some(0), "{out} {err}");
    assert_eq!(version(), 2, "Alice wrote once, after her conflict");
    let shard = denylist(&t, &jti_a);
    for j in [&jti_a, &jti_b] {
        assert!(shard.get(j).is_some(), "{j} lost: {shard}");
    }
    for v in [&a, &b] {
        v.json(&["jwt", "verify", "--key", "signer", &token_a], 1);
    }

    // A burst: four revocations from each member at the same moment.
    let until = (chrono::Utc::now() + chrono::Duration::hours(1)).to_rfc3339();
    // All in one shard, so they contend for the same document.
    let jtis = same_shard("burst", 8);
    let children: Vec<_> = jtis
        .iter()
        .enumerate()
        .map(|(i, j)| {
            let v = if i % 2 == 0 { &a } else { &b };
            spawn(v, None, &["jwt", "revoke", "--jti", j, "--until", &until])
        })
        .collect();
    for c in children {
        let (code, out, err) = finished(c);
        assert_eq!(code, Some(0), "{out} {err}");
    }
    for j in jtis.iter().chain([&jti_a, &jti_b]) {
        assert!(denylist(&t, j).get(j).is_some(), "{j} lost");
    }
}

/// A TCP relay to the dev server that can be stopped: OpenBao going away
/// in the middle of a command, as the client sees it.
struct Relay {
    addr: String,
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
    conns: std::sync::Arc<std::sync::Mutex<Vec<std::net::TcpStream>>>,
}

impl Relay {
    fn start(upstream: &str) -> Relay {
        use std::sync::atomic::Ordering;
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = format!("http://{}", listener.local_addr().unwrap());
        let upstream = upstream.trim_start_matches("http://").to_string();
        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let conns = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let (s, cs) = (stop.clone(), conns.clone());
        std::thread::spawn(move || {
            for client in listener.incoming() {
                if s.load(Ordering::SeqCst) {
                    return; // drops the listener: connections are refused
                }
                let Ok(client) = client else { return };
                let Ok(server) = std::net::TcpStream::connect(&upstream) else {
                    continue;
                };
                let mut held = cs.lock().unwrap();
                held.push(client.try_clone().unwrap());
                held.push(server.try_clone().unwrap());
                for (mut from, mut to) in [
                    (client.try_clone().unwrap(), server.try_clone().unwrap()),
                    (server, client),
                ] {
                    std::thread::spawn(move || {
                        let _ = std::io::copy(&mut from, &mut to);
                        let _ = to.shutdown(std::net::Shutdown::Both);
                    });
                }
            }
        });
        Relay { addr, stop, conns }
    }

    fn stop(&self) {
        self.stop.store(true, std::sync::atomic::Ordering::SeqCst);
        for c in self.conns.lock().unwrap().drain(..) {
            let _ = c.shutdown(std::net::Shutdown::Both);
        }
        // Wakes the accept loop so it drops the listener.
        let _ = std::net::TcpStream::connect(self.addr.trim_start_matches("http://"));
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn a_revocation_while_openbao_is_stopped_exits_3_and_changes_nothing() {
    let (t, a, b) = pair("deny-down");
    let (token, jti) = sign(&a);
    let cfg_path = a.dir().join("team.json");
    let cfg = std::fs::read_to_string(&cfg_path).unwrap();

    // OpenBao already gone when the command starts.
    let closed = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    std::fs::write(
        &cfg_path,
        cfg.replace(&addr(), &format!("http://127.0.0.1:{closed}")),
    )
    .unwrap();
    let (_, err) = a.run(&["jwt", "revoke", &token], 3);
    assert!(err.contains("cannot reach OpenBao"), "{err}");

    // OpenBao stops after the command opened the vault, just before the
    // revocation is written to the team's list.
    let relay = Relay::start(&addr());
    std::fs::write(&cfg_path, cfg.replace(&addr(), &relay.addr)).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let gate = dir.path().join("go");
    let fp = format!("token_revoke.before_team:wait:{}", gate.display());
    let child = spawn(&a, Some(&fp), &["jwt", "revoke", &token]);
    wait_for(&dir.path().join("go.reached"));
    relay.stop();
    std::fs::write(&gate, "").unwrap();
    let (code, out, err) = finished(child);
    assert_eq!(code, Some(3), "{out} {err}");
    assert!(err.contains("cannot reach OpenBao"), "{err}");
    assert!(err.contains("was not revoked"), "{err}");
    assert_eq!(out, "");
    std::fs::write(&cfg_path, &cfg).unwrap();

    // Nothing was revoked, neither in the team's list nor in Alice's cache.
    assert!(denylist(&t, &jti).get(&jti).is_none());
    for v in [&a, &b] {
        let ok = v.json(&["jwt", "verify", "--key", "signer", &token], 0);
        assert_eq!(check(&ok, "revocation")["status"], "pass", "{ok}");
    }
    // Alice's audit log: the first attempt failed to open the vault, the
    // second is a failed token.revoke; no success. The chain is intact.
    let ev = a.json(&["audit", "list", "--action", "vault.open"], 0);
    assert_eq!(ev["events"][0]["outcome"], "failure", "{ev}");
    let ev = a.json(&["audit", "list", "--action", "token.revoke"], 0);
    let ev = ev["events"].as_array().unwrap();
    assert_eq!(ev.len(), 1, "{ev:?}");
    assert_eq!(ev[0]["outcome"], "failure", "{ev:?}");
    assert!(
        ev[0]["details"]["message"]
            .as_str()
            .unwrap()
            .contains("was not revoked"),
        "{ev:?}"
    );
    a.run(&["audit", "verify"], 0);
    // With OpenBao back, the same command works.
    a.json(&["jwt", "revoke", &token], 0);
    b.json(&["jwt", "verify", "--key", "signer", &token], 1);
}

/// `n` jtis starting with `tag` that share one denylist shard.
fn same_shard(tag: &str, n: usize) -> Vec<String> {
    let target = denylist::shard(tag);
    (0..)
        .map(|i| format!("{tag}-{i}"))
        .filter(|j| denylist::shard(j) == target)
        .take(n)
        .collect()
}

#[test]
fn expired_revocations_are_pruned_from_the_team_list() {
    let (t, a, b) = pair("deny-prune");
    let jtis = same_shard("prune", 3);
    let soon = (chrono::Utc::now().timestamp() + 2).to_string();
    for j in &jtis[..2] {
        a.json(&["jwt", "revoke", "--jti", j, "--until", &soon], 0);
    }
    assert_eq!(denylist(&t, &jtis[0]).as_object().unwrap().len(), 2);
    std::thread::sleep(Duration::from_millis(3200));
    let later = (chrono::Utc::now() + chrono::Duration::hours(1)).to_rfc3339();
    b.json(&["jwt", "revoke", "--jti", &jtis[2], "--until", &later], 0);
    let list = denylist(&t, &jtis[2]);
    let kept: Vec<&String> = list.as_object().unwrap().keys().collect();
    assert_eq!(kept, [&jtis[2]], "expired entries not pruned: {list}");
}

#[test]
fn an_api_key_used_on_one_member_shows_as_used_on_the_other() {
    let t = team("usage");
    let a = TestVault::new();
    let b = TestVault::new();
    init(&a, &t);
    let key = a.json(&["key", "new", "--kind", "api", "--name", "svc"], 0);
    let id = key["id"].as_str().unwrap().to_string();
    let secret = key["secret"].as_str().unwrap().to_string();
    init(&b, &t);
    let shown = a.json(&["key", "show", &id], 0);
    assert!(shown["versions"][0]["last_used_at"].is_null(), "{shown}");
    let doc_before = kv_version(&t, &format!("keys/{id}"));

    b.run(&["apikey", "verify", &secret], 0);
    let shown = a.json(&["key", "show", &id], 0);
    let used = shown["versions"][0]["last_used_at"].as_str().unwrap();
    assert!(used.starts_with(&chrono::Utc::now().format("%Y-%m-%d").to_string()));
    assert_eq!(shown["last_used_at"], used, "{shown}");
    assert_eq!(kv_version(&t, &format!("usage/{id}")), 1);
    // Coarse: more uses within the minute do not write again, and a use
    // never touches the key's own document (no race with a rotation).
    for _ in 0..3 {
        b.run(&["apikey", "verify", &secret], 0);
    }
    assert_eq!(kv_version(&t, &format!("usage/{id}")), 1);
    assert_eq!(kv_version(&t, &format!("keys/{id}")), doc_before);
    let rotated = a.json(&["key", "rotate", &id], 0);
    assert_eq!(rotated["version"], 2);
    // The rotated-out version in grace still verifies; its use is shared too.
    b.run(&["apikey", "verify", &secret], 0);
    let shown = b.json(&["key", "show", &id], 0);
    assert!(shown["versions"][1]["last_used_at"].is_string(), "{shown}");
    for v in [&a, &b] {
        let check = v.json(&["vault", "check"], 0);
        assert_eq!(check["consistent"], true, "{check}");
    }
}
