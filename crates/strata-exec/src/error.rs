//! What can go wrong when running an external tool.

use std::io;
use std::path::PathBuf;

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
    #[error("`{command}` {status}")]
    Failed {
        /// The command line, secrets masked.
        command: String,
        /// "exited with status N" or "was killed by signal N".
        status: String,
        /// The exit code, when it exited normally.
        code: Option<i32>,
        /// The last lines of its output, secrets masked.
        tail: Vec<String>,
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
