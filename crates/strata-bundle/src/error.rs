//! What can go wrong with a bundle.

use std::io;
use std::path::PathBuf;

use strata_config::Report;

/// A bundle could not be generated, opened or verified.
#[derive(Debug, thiserror::Error)]
pub enum BundleError {
    /// The package or its selectors are invalid; nothing was written.
    #[error("the configuration is invalid ({} {})", .0.error_count(), strata_metadata::plural(.0.error_count(), "error"))]
    Invalid(Report),

    /// There is no bundle for the environment.
    #[error("no bundle at `{}`", .dir.display())]
    NotFound {
        /// The bundle directory looked for.
        dir: PathBuf,
        /// The environment.
        env: String,
    },

    /// `metadata.json` does not parse.
    #[error("`{}`:{line}:{column}: {message}", .path.display())]
    Metadata {
        /// The metadata file.
        path: PathBuf,
        /// 1-based line.
        line: usize,
        /// 1-based column.
        column: usize,
        /// What is wrong.
        message: String,
    },

    /// `metadata.json` has a schema version this crate does not read.
    #[error("`{}` has schemaVersion {found}, this Strata reads {expected}", .path.display())]
    SchemaVersion {
        /// The metadata file.
        path: PathBuf,
        /// The version found.
        found: u32,
        /// The version supported.
        expected: u32,
    },

    /// `metadata.json` names a path outside the bundle.
    #[error("`{}` names `{entry}`, which is not a path inside the bundle", .path.display())]
    PathEscapes {
        /// The metadata file.
        path: PathBuf,
        /// The offending entry.
        entry: String,
    },

    /// `SOURCE_DATE_EPOCH` is not a number of seconds.
    #[error("SOURCE_DATE_EPOCH is `{0}`, not a whole number of seconds since 1970")]
    SourceDateEpoch(String),

    /// Reading or writing failed.
    #[error("could not {action} `{}`", .path.display())]
    Io {
        /// What was being done ("write", "read", "swap in").
        action: &'static str,
        /// The path.
        path: PathBuf,
        /// Why.
        #[source]
        source: io::Error,
    },
}

pub(crate) fn io(
    action: &'static str,
    path: impl Into<PathBuf>,
) -> impl FnOnce(io::Error) -> BundleError {
    let path = path.into();
    move |source| BundleError::Io {
        action,
        path,
        source,
    }
}

impl BundleError {
    /// The kind of failure, which decides the exit code: an unreadable disk is a failure,
    /// everything else is input to fix.
    pub fn kind(&self) -> strata_metadata::ErrorKind {
        match self {
            BundleError::Io { .. } => strata_metadata::ErrorKind::Failed,
            _ => strata_metadata::ErrorKind::Invalid,
        }
    }

    /// What to do about it, where that is clear.
    pub fn hint(&self) -> Option<String> {
        match self {
            BundleError::NotFound { env, .. } => Some(format!(
                "generate it with `cargo xtask generate env --id {env} --config <package>`"
            )),
            BundleError::Io { .. } => None,
            BundleError::Invalid(_)
            | BundleError::Metadata { .. }
            | BundleError::SchemaVersion { .. }
            | BundleError::PathEscapes { .. } => {
                Some("regenerate the bundle with `cargo xtask generate env`".to_owned())
            }
            BundleError::SourceDateEpoch(_) => {
                Some("unset it, or set it to seconds since 1970".to_owned())
            }
        }
    }
}
