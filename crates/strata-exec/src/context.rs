//! What a caller decides once for a whole run, handed to every layer that runs commands.

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use tokio::sync::Notify;

use crate::{ExecError, FoundTool, LineHook, RunOptions, Tool, find_tool_with};

/// A request to stop: set by the caller (the CLI's Ctrl-C handler, or another tool's own), read
/// by every running command, which then stops its process group in order (SIGINT, SIGTERM,
/// SIGKILL). Cloning shares the request.
///
/// A running command does not poll it: [`Interrupt::trigger`] wakes every command waiting on
/// [`Interrupt::triggered`] at once. Trigger it from any thread, such as a `tokio::signal` or
/// `signal-hook` watcher, but not from inside a raw `sigaction` handler: waking takes a lock.
#[derive(Debug, Clone, Default)]
pub struct Interrupt(Arc<Shared>);

#[derive(Debug, Default)]
struct Shared {
    set: AtomicBool,
    wake: Notify,
}

impl Interrupt {
    /// A request nobody has made.
    pub fn new() -> Self {
        Self::default()
    }

    /// Asks every command that watches this request to stop.
    pub fn trigger(&self) {
        self.0.set.store(true, Ordering::SeqCst);
        self.0.wake.notify_waiters();
    }

    /// Whether a stop was asked for.
    pub fn is_set(&self) -> bool {
        self.0.set.load(Ordering::SeqCst)
    }

    /// Resolves once a stop is asked for, at once if it already was.
    pub async fn triggered(&self) {
        let woken = self.0.wake.notified();
        let mut woken = std::pin::pin!(woken);
        // Registered before the flag is read, so a trigger between the two is not missed.
        woken.as_mut().enable();
        if self.is_set() {
            return;
        }
        woken.await;
    }
}

/// How a layer runs its external commands during one run: dry run or not, where the run's logs
/// go, who hears each output line, and the stop request. A layer's entry point takes one and
/// names its own log file inside [`Context::logs`].
#[derive(Clone, Copy, Default)]
pub struct Context<'a> {
    /// Show every command instead of running it.
    pub dry_run: bool,
    /// This run's log folder (`.strata/<env>/runs/<run-id>/`), when there is one.
    pub logs: Option<&'a Path>,
    /// Called with each output line of every command (redacted), as it arrives.
    pub on_line: Option<&'a LineHook<'a>>,
    /// Stops the running command when set.
    pub interrupt: Option<&'a Interrupt>,
    /// Variables that win over the process environment when a tool is looked up
    /// (`STRATA_TERRAFORM`, `PATH`, ...): for a caller that cannot change its own environment,
    /// such as a test running several deploys at once, or a tool embedding Strata.
    pub vars: Option<&'a BTreeMap<String, OsString>>,
}

impl<'a> Context<'a> {
    /// The log file `name` in this run's folder.
    pub fn log(&self, name: &str) -> Option<PathBuf> {
        self.logs.map(|dir| dir.join(name))
    }

    /// Options for one command of this run, logging into `log`.
    pub fn run_options<'b>(&self, log: Option<&'b Path>) -> RunOptions<'b>
    where
        'a: 'b,
    {
        RunOptions {
            dry_run: self.dry_run,
            log,
            on_line: self.on_line,
            interrupt: self.interrupt,
            ..RunOptions::default()
        }
    }

    /// Finds `tool` as [`crate::find_tool`] does, [`Context::vars`] first.
    pub fn find_tool(&self, tool: &Tool) -> Result<FoundTool, ExecError> {
        find_tool_with(tool, |name| self.var(name))
    }

    /// A variable from [`Context::vars`], else from the process environment.
    pub fn var(&self, name: &str) -> Option<OsString> {
        self.vars
            .and_then(|vars| vars.get(name).cloned())
            .or_else(|| std::env::var_os(name))
    }

    /// Whether a stop was asked for.
    pub fn interrupted(&self) -> bool {
        self.interrupt.is_some_and(Interrupt::is_set)
    }
}

impl std::fmt::Debug for Context<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Context")
            .field("dry_run", &self.dry_run)
            .field("logs", &self.logs)
            .field("on_line", &self.on_line.is_some())
            .field("interrupt", &self.interrupt)
            .field("vars", &self.vars.map(|v| v.keys().collect::<Vec<_>>()))
            .finish()
    }
}
