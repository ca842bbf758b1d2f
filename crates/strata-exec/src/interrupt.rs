//! Ctrl-C, caught: the first SIGINT sets a flag instead of killing Strata, so a long command can
//! be stopped in order (see `RunOptions::interrupt`) and the run recorded as interrupted.

use std::sync::Once;
use std::sync::atomic::{AtomicBool, Ordering};

static INTERRUPTED: AtomicBool = AtomicBool::new(false);
static INSTALL: Once = Once::new();

extern "C" fn on_sigint(_: libc::c_int) {
    // An atomic store is async-signal-safe.
    INTERRUPTED.store(true, Ordering::SeqCst);
}

/// Installs the SIGINT handler (once) and returns the flag it sets.
pub fn interrupt_flag() -> &'static AtomicBool {
    INSTALL.call_once(|| {
        #[expect(
            unsafe_code,
            reason = "std has no signal handling; sigaction is the one call that installs a handler"
        )]
        // SAFETY: the handler only stores to an atomic, which is async-signal-safe; the
        // sigaction struct is zeroed and then filled with valid values before the call.
        unsafe {
            let mut action: libc::sigaction = std::mem::zeroed();
            action.sa_sigaction = on_sigint as *const () as libc::sighandler_t;
            libc::sigemptyset(&mut action.sa_mask);
            action.sa_flags = libc::SA_RESTART;
            libc::sigaction(libc::SIGINT, &action, std::ptr::null_mut());
        }
    });
    &INTERRUPTED
}

/// Whether Ctrl-C was pressed since the handler was installed.
pub fn interrupted() -> bool {
    INTERRUPTED.load(Ordering::SeqCst)
}
