//! Process hardening that both shells apply first thing in `main`: a process
//! that holds secrets in memory must not leave them in a core dump.
//!
//! Sets the core-file size limit to zero and, on Linux, marks the process
//! non-dumpable (`PR_SET_DUMPABLE`), which also keeps other processes of the
//! same user from attaching a debugger or reading its memory through /proc.

/// Disables core dumps for this process; returns whether every step took.
pub fn disable_core_dumps() -> bool {
    #[cfg(unix)]
    {
        let zero = libc::rlimit {
            rlim_cur: 0,
            rlim_max: 0,
        };
        // SAFETY: setrlimit reads the struct we pass; no memory is shared.
        let limited = unsafe { libc::setrlimit(libc::RLIMIT_CORE, &zero) } == 0;
        #[cfg(target_os = "linux")]
        // SAFETY: PR_SET_DUMPABLE takes plain integers.
        let undumpable = unsafe { libc::prctl(libc::PR_SET_DUMPABLE, 0, 0, 0, 0) } == 0;
        #[cfg(not(target_os = "linux"))]
        let undumpable = true;
        limited && undumpable
    }
    #[cfg(not(unix))]
    {
        // Windows writes no core files; crash dumps go through WER, which
        // the user controls.
        true
    }
}
