//! Env-controlled failpoints for crash and fault tests.
//!
//! `KEYWARD_FAILPOINT=name` makes the process kill itself with SIGKILL (no
//! destructors, no flush: exactly a crash) when it reaches the point `name`;
//! `KEYWARD_FAILPOINT=name:sleep` sleeps there for a minute instead, so a test
//! can kill it from outside; `KEYWARD_FAILPOINT=name:wait:PATH` creates
//! `PATH.reached` and waits (at most a minute) until `PATH` exists, so a test
//! can change the environment (stop the keychain, fill the disk) at exactly
//! that step and then let the operation go on. Points are named
//! `operation.step`, for example `create.after_keychain`; several are
//! separated by commas. `name@N` acts only the N-th time the process reaches
//! the point (`commit.before_checkpoint@2`: the second commit). Unset, a
//! failpoint costs one env lookup.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// How often each armed point has been reached in this process.
static REACHED: Mutex<Option<HashMap<String, u32>>> = Mutex::new(None);

/// Stops the process here when `KEYWARD_FAILPOINT` names this point.
pub fn hit(name: &str) {
    let Ok(spec) = std::env::var("KEYWARD_FAILPOINT") else {
        return;
    };
    for item in spec.split(',') {
        let (point, action) = item.split_once(':').unwrap_or((item, "abort"));
        let (point, nth) = match point.split_once('@') {
            Some((p, n)) => (p, n.parse::<u32>().unwrap_or(1)),
            None => (point, 1),
        };
        if point != name || reached(item) != nth {
            continue;
        }
        match action.split_once(':') {
            Some(("wait", path)) => wait_for(path),
            _ if action == "sleep" => std::thread::sleep(Duration::from_secs(60)),
            _ => die(),
        }
    }
}

/// Counts one more arrival at the armed point `item`; returns the count.
fn reached(item: &str) -> u32 {
    let mut guard = REACHED.lock().unwrap_or_else(|p| p.into_inner());
    let n = guard
        .get_or_insert_with(HashMap::new)
        .entry(item.to_string())
        .or_insert(0);
    *n += 1;
    *n
}

/// Announces the point through `PATH.reached`, then waits for `PATH`.
fn wait_for(path: &str) {
    let _ = std::fs::write(format!("{path}.reached"), std::process::id().to_string());
    let start = Instant::now();
    while !std::path::Path::new(path).exists() && start.elapsed() < Duration::from_secs(60) {
        std::thread::sleep(Duration::from_millis(5));
    }
}

#[cfg(unix)]
fn die() -> ! {
    // SAFETY: raising a signal on our own process has no memory-safety effect.
    unsafe {
        libc::kill(libc::getpid(), libc::SIGKILL);
    }
    std::process::abort()
}

#[cfg(not(unix))]
fn die() -> ! {
    std::process::abort()
}
