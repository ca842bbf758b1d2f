//! What can go wrong when running an external tool.

use std::io;
use std::path::PathBuf;
use std::time::Duration;

/// An external command could not be found, started, or finished successfully.
#[derive(Debug, thiserror::Error)]
pub enum ExecError {
    /// The tool is on neither the override variable nor `PATH`.
    #[error("`{tool}` not found on PATH (set {env_var} to use another binary)")]
    ToolNotFound {
        /// The tool's name, such as `terraform`.
        tool: String,
        /// The override variable, such as `STRATA_TERRAFORM`.
        env_var: &'static str,
    },

    /// The override variable names something that cannot be run.
    #[error("{env_var} is set to `{value}`, which is not an executable file or a program on PATH")]
    BadOverride {
        /// The override variable.
        env_var: &'static str,
        /// Its value.
        value: String,
    },

    /// The process could not be started at all.
    #[error("could not start `{command}`")]
    Spawn {
        /// The command line, secrets masked.
        command: String,
        /// Why.
        #[source]
        source: io::Error,
    },

    /// The process ran and failed.
    #[error("`{command}` {}", describe_status(*code, *signal))]
    Failed {
        /// The command line, secrets masked.
        command: String,
        /// The exit code, when it exited normally.
        code: Option<i32>,
        /// The signal that killed it, when one did.
        signal: Option<i32>,
        /// The last lines of its standard output, secrets masked.
        stdout_tail: Vec<String>,
        /// The last lines of its standard error, secrets masked.
        stderr_tail: Vec<String>,
        /// The full log, when one was written.
        log: Option<PathBuf>,
    },

    /// The process ran past its [`RunOptions::timeout`](crate::RunOptions::timeout) and was
    /// stopped (SIGINT, then SIGTERM, then SIGKILL; to its whole process group when it had one).
    #[error("`{command}` did not finish within {} and was stopped", crate::stop::shown_duration(*after))]
    TimedOut {
        /// The command line, secrets masked.
        command: String,
        /// The limit it ran past.
        after: Duration,
        /// The last lines of its standard output, secrets masked.
        stdout_tail: Vec<String>,
        /// The last lines of its standard error, secrets masked.
        stderr_tail: Vec<String>,
        /// The full log, when one was written.
        log: Option<PathBuf>,
    },

    /// Reading the child's output or writing the log failed.
    #[error("could not write the log `{path}`")]
    Log {
        /// The log file.
        path: PathBuf,
        /// Why.
        #[source]
        source: io::Error,
    },
}

/// "exited with status N" or "was killed by signal N".
pub(crate) fn describe_status(code: Option<i32>, signal: Option<i32>) -> String {
    match (code, signal) {
        (Some(code), _) => format!("exited with status {code}"),
        (None, Some(sig)) => format!("was killed by signal {sig}"),
        (None, None) => "ended without a status".to_owned(),
    }
}

impl ExecError {
    /// Whether the fix is configuration (a tool missing, an override that names nothing
    /// runnable) rather than a command that ran and failed: callers map it to "invalid input".
    pub fn is_configuration(&self) -> bool {
        matches!(
            self,
            ExecError::ToolNotFound { .. } | ExecError::BadOverride { .. }
        )
    }

    /// What to do about it, where that is clear.
    pub fn hint(&self) -> Option<String> {
        match self {
            ExecError::ToolNotFound { .. } | ExecError::BadOverride { .. } => {
                Some("`cargo xtask doctor` lists what is found".to_owned())
            }
            ExecError::TimedOut { .. } => Some(
                "a command that should answer at once hung: run it by hand to see where it waits (a network, a lock, a prompt), or check that the override variable names the right binary"
                    .to_owned(),
            ),
            ExecError::Spawn { .. } | ExecError::Failed { .. } | ExecError::Log { .. } => None,
        }
    }

    /// The last lines the command printed, stdout's then stderr's, when it ran and failed or
    /// was stopped for its timeout.
    pub fn tail(&self) -> Option<(&[String], &[String])> {
        match self {
            ExecError::Failed {
                stdout_tail,
                stderr_tail,
                ..
            }
            | ExecError::TimedOut {
                stdout_tail,
                stderr_tail,
                ..
            } => Some((stdout_tail, stderr_tail)),
            _ => None,
        }
    }
}
