//! Ctrl-C, on tokio: the first stops the running command in order (the layers watch the
//! [`Interrupt`] and send its process group SIGINT, SIGTERM, then SIGKILL) so the run is
//! recorded as interrupted; a second exits at once with 130.

use std::sync::OnceLock;

use strata_exec::Interrupt;
use tokio::signal::unix::{SignalKind, signal};

/// The process's stop request, with the Ctrl-C watcher started on first use.
pub(crate) fn interrupt() -> Interrupt {
    static INTERRUPT: OnceLock<Interrupt> = OnceLock::new();
    INTERRUPT
        .get_or_init(|| {
            let interrupt = Interrupt::new();
            let watched = interrupt.clone();
            let watch = || -> std::io::Result<()> {
                let runtime = tokio::runtime::Builder::new_current_thread()
                    .enable_io()
                    .build()?;
                // Registered now, before any command starts, so no Ctrl-C is missed.
                let mut sigint = {
                    let _entered = runtime.enter();
                    signal(SignalKind::interrupt())?
                };
                std::thread::spawn(move || {
                    runtime.block_on(async move {
                        if sigint.recv().await.is_some() {
                            watched.trigger();
                        }
                        if sigint.recv().await.is_some() {
                            std::process::exit(130);
                        }
                    });
                });
                Ok(())
            };
            if let Err(e) = watch() {
                tracing::warn!("Ctrl-C will not stop commands in order: {e}");
            }
            interrupt
        })
        .clone()
}
