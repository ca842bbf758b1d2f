//! What stops a deploy before or between phases (a phase's own failure is in the report).

use std::path::PathBuf;

use strata_metadata::ErrorKind;
use strata_pipeline::{Holder, LockError, StateError};

/// A deploy that could not run, or could not record what it did.
#[derive(Debug, thiserror::Error)]
pub enum DeployError {
    /// Another run holds the environment.
    #[error("environment `{env}` is locked by {}", holder.as_ref().map_or_else(|| "a process that has not named itself yet".to_owned(), ToString::to_string))]
    Locked {
        /// The environment.
        env: String,
        /// Who holds it, when it says.
        holder: Option<Box<Holder>>,
    },
    /// The lock could not be taken or read.
    #[error(transparent)]
    Lock(Box<LockError>),
    /// The state backend could not be opened, read or written (a database that does not
    /// answer, a connection lost, a bad `config/state-backend.json`).
    #[error(transparent)]
    State(Box<StateError>),
    /// A bad option (a `SOURCE_DATE_EPOCH` that is not a time, ...).
    #[error("{message}")]
    Invalid {
        /// What is wrong.
        message: String,
    },
    /// The run state or report could not be written.
    #[error("could not write `{}`", path.display())]
    Write {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
}

impl DeployError {
    /// The kind of failure, which decides the exit code.
    pub fn kind(&self) -> ErrorKind {
        match self {
            DeployError::Locked { .. } => ErrorKind::Locked,
            DeployError::Invalid { .. } => ErrorKind::Invalid,
            DeployError::Lock(_) | DeployError::Write { .. } => ErrorKind::Failed,
            DeployError::State(e) => e.kind(),
        }
    }

    /// What to do about it.
    pub fn hint(&self) -> Option<String> {
        match self {
            DeployError::Locked { env, .. } => Some(format!(
                "wait for it, or stop that process; `cargo xtask unlock --env {env} --force` removes the lock of one still running"
            )),
            DeployError::State(e) => e.hint(),
            _ => None,
        }
    }
}

impl From<LockError> for DeployError {
    fn from(e: LockError) -> Self {
        match e {
            LockError::Held { env, holder } => DeployError::Locked { env, holder },
            other => DeployError::Lock(Box::new(other)),
        }
    }
}

impl From<StateError> for DeployError {
    fn from(e: StateError) -> Self {
        match e {
            StateError::Held { env, holder } => DeployError::Locked { env, holder },
            StateError::Lock(lock) => lock.into(),
            other => DeployError::State(Box::new(other)),
        }
    }
}
