//! Process hardening at start: no core dumps, and (Linux) no ptrace attach
//! or /proc/PID/mem reads by other processes of the same user, so a crash or
//! a curious process cannot lift secrets out of the app's memory.

/// Turns core dumps off for this process. Best effort: failures are printed,
/// not fatal (the app still works, with the OS defaults).
pub fn disable_core_dumps() {
    #[cfg(unix)]
    {
        let zero = libc::rlimit {
            rlim_cur: 0,
            rlim_max: 0,
        };
        // SAFETY: setrlimit reads a valid, initialised rlimit struct.
        if unsafe { libc::setrlimit(libc::RLIMIT_CORE, &zero) } != 0 {
            eprintln!(
                "keyward-desktop: cannot disable core dumps: {}",
                std::io::Error::last_os_error()
            );
        }
    }
    #[cfg(target_os = "linux")]
    {
        // SAFETY: PR_SET_DUMPABLE takes one integer argument; the rest are ignored.
        if unsafe { libc::prctl(libc::PR_SET_DUMPABLE, 0, 0, 0, 0) } != 0 {
            eprintln!(
                "keyward-desktop: cannot mark the process undumpable: {}",
                std::io::Error::last_os_error()
            );
        }
    }
}

#[cfg(test)]
mod tests {
    #[cfg(target_os = "linux")]
    #[test]
    fn the_process_is_undumpable_afterwards() {
        super::disable_core_dumps();
        // SAFETY: PR_GET_DUMPABLE takes no argument.
        assert_eq!(unsafe { libc::prctl(libc::PR_GET_DUMPABLE) }, 0);
        let mut lim = libc::rlimit {
            rlim_cur: 1,
            rlim_max: 1,
        };
        // SAFETY: getrlimit writes into a valid rlimit struct.
        assert_eq!(unsafe { libc::getrlimit(libc::RLIMIT_CORE, &mut lim) }, 0);
        assert_eq!(lim.rlim_cur, 0);
    }
}
