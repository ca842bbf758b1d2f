//! What can go wrong with a state backend. No variant carries the connection string: a
//! database is named by its `host:port` only, so a password in the URL never reaches a message.

use std::path::PathBuf;

use strata_metadata::ErrorKind;

use crate::lock::{Holder, LockError};

/// Why a state backend could not be configured, reached, read or written.
#[derive(Debug, thiserror::Error)]
pub enum StateError {
    /// `config/state-backend.json` is not valid JSON or not a valid backend configuration.
    #[error("{}:{line}:{column}: {message}", .path.display())]
    Config {
        /// The file, relative to the repository root.
        path: PathBuf,
        /// 1-based line.
        line: usize,
        /// 1-based column.
        column: usize,
        /// What is wrong.
        message: String,
        /// How to fix it.
        hint: String,
    },
    /// The configuration file exists but could not be read.
    #[error("could not read `{}`", .path.display())]
    ReadConfig {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The PostgreSQL backend is configured but no connection string is set.
    #[error("the state backend is `postgres` (in `{}`) but neither {} nor {} is set", .config.display(), crate::url::DATABASE_URL_VAR, crate::url::FALLBACK_URL_VAR)]
    NoConnectionString {
        /// The configuration file.
        config: PathBuf,
    },
    /// The connection string does not parse. The message names the variable, never its value.
    #[error("`{variable}` is not a valid PostgreSQL connection string")]
    BadConnectionString {
        /// The variable it came from.
        variable: String,
        /// Why (tokio-postgres names the option, never the value).
        #[source]
        source: tokio_postgres::Error,
    },
    /// The trust anchors for the state database's certificate (`sslrootcert`, or the system's
    /// store) could not be loaded.
    #[error("{source_name}, to verify the state database at `{endpoint}`, {what}")]
    RootCert {
        /// `host:port`.
        endpoint: String,
        /// `` `sslrootcert=<file>` `` or the system's trust store.
        source_name: String,
        /// What is wrong with it.
        what: String,
    },
    /// The server's certificate failed verification.
    #[error("the server's certificate is not trusted at `{endpoint}`: {reason}")]
    Untrusted {
        /// `host:port`.
        endpoint: String,
        /// `sslmode`.
        mode: &'static str,
        /// Why, such as "it is not signed by a trusted CA".
        reason: String,
    },
    /// `sslmode` requires TLS and the server does not offer it.
    #[error(
        "the state database at `{endpoint}` does not offer TLS, which `sslmode={mode}` requires"
    )]
    TlsNotOffered {
        /// `host:port`.
        endpoint: String,
        /// `sslmode`.
        mode: &'static str,
    },
    /// The database could not be reached or refused the connection.
    #[error("could not connect to the state database at `{endpoint}`")]
    Unreachable {
        /// `host:port`.
        endpoint: String,
        /// Why.
        #[source]
        source: tokio_postgres::Error,
    },
    /// The connection that holds the environment's lock was lost while a run used it: the
    /// lock is gone with it, and nothing more can be recorded through it.
    #[error(
        "lost the connection to the state database at `{endpoint}` while holding the lock of `{env}`"
    )]
    ConnectionLost {
        /// `host:port`.
        endpoint: String,
        /// The environment.
        env: String,
        /// Why, when the client said.
        #[source]
        source: Option<tokio_postgres::Error>,
    },
    /// A query failed on a working connection.
    #[error("could not {action} in the state database at `{endpoint}`")]
    Query {
        /// What was being done, such as `read the phase records of `dev``.
        action: String,
        /// `host:port`.
        endpoint: String,
        /// Why.
        #[source]
        source: tokio_postgres::Error,
    },
    /// A record in the database does not parse as what Strata wrote.
    #[error("a record in the state database at `{endpoint}` is not valid: {what}")]
    Corrupt {
        /// `host:port`.
        endpoint: String,
        /// Which record and why.
        what: String,
    },
    /// The database's schema was migrated by a newer Strata.
    #[error(
        "the state schema `{schema}` at `{endpoint}` is at version {found}, newer than this Strata knows ({known})"
    )]
    SchemaTooNew {
        /// `host:port`.
        endpoint: String,
        /// The schema.
        schema: String,
        /// Its version.
        found: i32,
        /// The newest this build knows.
        known: i32,
    },
    /// Another run holds the environment's lock.
    #[error("environment `{env}` is locked by {}", holder.as_deref().map_or_else(|| "another session (it has not named itself yet)".to_owned(), Holder::to_string))]
    Held {
        /// The environment.
        env: String,
        /// Who holds it, when known.
        holder: Option<Box<Holder>>,
    },
    /// Ending a live holder's database session was asked without confirming it.
    #[error("ending the live deploy session that holds the lock of `{env}` needs confirming")]
    NotConfirmed {
        /// The environment.
        env: String,
        /// Who holds it.
        holder: Option<Box<Holder>>,
    },
    /// `state push` with the local backend configured: there is nowhere to push to.
    #[error(
        "the state backend of this repository is `local`: there is no shared backend to push to"
    )]
    NothingToPushTo,
    /// The local files (state, lock, reports) could not be read or written.
    #[error(transparent)]
    Lock(#[from] LockError),
    /// A local state or report file could not be read or written.
    #[error("could not {action} `{}`", .path.display())]
    Io {
        /// What was being done.
        action: &'static str,
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
}

impl StateError {
    /// Its kind, which decides the exit code.
    pub fn kind(&self) -> ErrorKind {
        match self {
            StateError::Config { .. }
            | StateError::NoConnectionString { .. }
            | StateError::BadConnectionString { .. }
            | StateError::RootCert { .. }
            | StateError::SchemaTooNew { .. }
            | StateError::NotConfirmed { .. }
            | StateError::NothingToPushTo => ErrorKind::Invalid,
            StateError::Held { .. } | StateError::Lock(LockError::Held { .. }) => ErrorKind::Locked,
            StateError::ReadConfig { .. }
            | StateError::Unreachable { .. }
            | StateError::Untrusted { .. }
            | StateError::TlsNotOffered { .. }
            | StateError::ConnectionLost { .. }
            | StateError::Query { .. }
            | StateError::Corrupt { .. }
            | StateError::Lock(LockError::Io { .. })
            | StateError::Io { .. } => ErrorKind::Failed,
        }
    }

    /// What to do about it, where one thing helps.
    pub fn hint(&self) -> Option<String> {
        use crate::url::{DATABASE_URL_VAR as URL, FALLBACK_URL_VAR as PG};
        Some(match self {
            StateError::Config { hint, .. } => hint.clone(),
            StateError::NoConnectionString { .. } => format!(
                "export {URL}=postgres://user:password@host:5432/db (or {PG}, which Terraform's pg backend reads); docs/team-state.md"
            ),
            StateError::BadConnectionString { .. } => {
                "use a URL (postgres://user@host:5432/db?sslmode=disable) or key=value pairs (host=… dbname=…)".to_owned()
            }
            StateError::RootCert { .. } => {
                "set `sslrootcert=<file>` to the PEM file of the CA that signed the server's certificate (docs/team-state.md#tls)".to_owned()
            }
            StateError::Untrusted { mode, reason, .. } => {
                if reason.contains("host name") {
                    format!("connect by a name the certificate lists, or use `sslmode=verify-ca` (chain only) instead of `sslmode={mode}` (docs/team-state.md#tls)")
                } else {
                    "set `sslrootcert=<file>` in the connection string to the PEM file of the CA that signed the server's certificate (docs/team-state.md#tls)".to_owned()
                }
            }
            StateError::TlsNotOffered { .. } => {
                "turn on TLS on the server (`ssl = on`), or use `sslmode=prefer` or `sslmode=disable` on a trusted network (docs/team-state.md#tls)".to_owned()
            }
            StateError::Unreachable { .. } => {
                "check that the database is up and reachable from here, and the host, port and credentials in the connection string".to_owned()
            }
            StateError::ConnectionLost { env, .. } => format!(
                "the run is recorded as failed; the next `cargo xtask deploy --env {env}` runs the unfinished phase again"
            ),
            StateError::SchemaTooNew { .. } => {
                "another checkout runs a newer Strata: update this one".to_owned()
            }
            StateError::Held { env, .. } | StateError::Lock(LockError::Held { env, .. }) => {
                format!(
                    "wait for it to finish; `cargo xtask status --env {env}` shows the holder"
                )
            }
            StateError::NotConfirmed { env, .. } => format!(
                "pass `--force --yes` to end that session (its deploy then fails): `cargo xtask unlock --env {env} --force --yes`"
            ),
            StateError::NothingToPushTo => {
                "set `\"backend\": \"postgres\"` in config/state-backend.json first (docs/team-state.md)".to_owned()
            }
            _ => return None,
        })
    }
}
