//! Env-controlled failpoints for crash tests.
//!
//! `KEYWARD_FAILPOINT=name` makes the process kill itself with SIGKILL (no
//! destructors, no flush: exactly a crash) when it reaches the point `name`;
//! `KEYWARD_FAILPOINT=name:sleep` sleeps there for a minute instead, so a test
//! can kill it from outside. Points are named `operation.step`, for example
//! `create.after_keychain`. Unset, a failpoint costs one env lookup.

/// Stops the process here when `KEYWARD_FAILPOINT` names this point.
pub fn hit(name: &str) {
    let Ok(spec) = std::env::var("KEYWARD_FAILPOINT") else {
        return;
    };
    for item in spec.split(',') {
        let (point, action) = item.split_once(':').unwrap_or((item, "abort"));
        if point != name {
            continue;
        }
        match action {
            "sleep" => std::thread::sleep(std::time::Duration::from_secs(60)),
            _ => die(),
        }
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
