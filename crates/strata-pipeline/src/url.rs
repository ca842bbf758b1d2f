//! The state database's connection string: read from the environment only, parsed once, and
//! never shown. What may be shown is its `host:port`.

use std::time::Duration;

use tokio_postgres::config::{Host, SslMode};

use crate::error::StateError;

/// The variable that holds the state database's connection string.
pub const DATABASE_URL_VAR: &str = "STRATA_STATE_DATABASE_URL";

/// Read when [`DATABASE_URL_VAR`] is unset: the variable Terraform's `pg` backend reads, so a
/// team that keeps both states in one database sets one variable.
pub const FALLBACK_URL_VAR: &str = "PG_CONN_STR";

/// How long connecting may take before the database counts as unreachable, unless the
/// connection string sets `connect_timeout`.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// A parsed connection string. Its `Debug` shows the endpoint only; it has no `Display`.
#[derive(Clone)]
pub struct DatabaseUrl {
    config: tokio_postgres::Config,
    endpoint: String,
}

impl std::fmt::Debug for DatabaseUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DatabaseUrl")
            .field("endpoint", &self.endpoint)
            .finish_non_exhaustive()
    }
}

impl DatabaseUrl {
    /// Parses `text`, a URL (`postgres://user:pw@host:5432/db?sslmode=disable`) or libpq
    /// `key=value` pairs, that came from `variable`. TLS settings are kept as given; a mode this
    /// build cannot honour (`sslmode=require`) is refused here, before any connection.
    pub fn parse(text: &str, variable: &str) -> Result<Self, StateError> {
        let mut config: tokio_postgres::Config =
            text.parse()
                .map_err(|source| StateError::BadConnectionString {
                    variable: variable.to_owned(),
                    source,
                })?;
        if config.get_connect_timeout().is_none() {
            config.connect_timeout(CONNECT_TIMEOUT);
        }
        if config.get_application_name().is_none() {
            config.application_name("strata");
        }
        let endpoint = endpoint(&config);
        match config.get_ssl_mode() {
            SslMode::Disable | SslMode::Prefer => {}
            other => {
                return Err(StateError::TlsUnsupported {
                    endpoint,
                    mode: format!("{other:?}").to_lowercase(),
                });
            }
        }
        Ok(Self { config, endpoint })
    }

    /// The connection string from the environment: [`DATABASE_URL_VAR`], else
    /// [`FALLBACK_URL_VAR`]; `None` when neither is set (or both are empty).
    pub fn from_env(var: impl Fn(&str) -> Option<String>) -> Result<Option<Self>, StateError> {
        for name in [DATABASE_URL_VAR, FALLBACK_URL_VAR] {
            if let Some(text) = var(name).filter(|t| !t.trim().is_empty()) {
                return Self::parse(&text, name).map(Some);
            }
        }
        Ok(None)
    }

    /// `host:port` (the first of each, as libpq tries them in order), for messages.
    pub fn endpoint(&self) -> &str {
        &self.endpoint
    }

    pub(crate) fn config(&self) -> &tokio_postgres::Config {
        &self.config
    }
}

fn endpoint(config: &tokio_postgres::Config) -> String {
    let host = match config.get_hosts().first() {
        Some(Host::Tcp(h)) => h.clone(),
        Some(Host::Unix(p)) => p.display().to_string(),
        None => "localhost".to_owned(),
    };
    let port = config.get_ports().first().copied().unwrap_or(5432);
    format!("{host}:{port}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_endpoint_is_shown_and_the_password_never() {
        let url = DatabaseUrl::parse(
            "postgres://deploy:hunter2-secret@db.example:6543/infra?sslmode=prefer",
            DATABASE_URL_VAR,
        )
        .unwrap();
        assert_eq!(url.endpoint(), "db.example:6543");
        let debug = format!("{url:?}");
        assert!(debug.contains("db.example:6543"), "{debug}");
        assert!(!debug.contains("hunter2"), "{debug}");
        let kv = DatabaseUrl::parse(
            "host=10.0.0.5 port=5433 user=deploy password=hunter2-secret dbname=infra",
            FALLBACK_URL_VAR,
        )
        .unwrap();
        assert_eq!(kv.endpoint(), "10.0.0.5:5433");
    }

    #[test]
    fn tls_that_cannot_be_honoured_is_refused_before_connecting() {
        let err = DatabaseUrl::parse(
            "postgres://deploy:hunter2-secret@db.example/infra?sslmode=require",
            DATABASE_URL_VAR,
        )
        .unwrap_err();
        let shown = format!("{err} {err:?} {}", err.hint().unwrap());
        assert!(matches!(err, StateError::TlsUnsupported { .. }), "{shown}");
        assert!(shown.contains("db.example:5432"), "{shown}");
        assert!(shown.contains("sslmode=require"), "{shown}");
        assert!(!shown.contains("hunter2"), "{shown}");
        assert_eq!(err.kind(), strata_metadata::ErrorKind::Invalid);
    }

    #[test]
    fn a_bad_string_names_the_variable_not_the_value() {
        let err = DatabaseUrl::parse(
            "postgres://deploy:hunter2-secret@db/infra?sslmode=bogus",
            DATABASE_URL_VAR,
        )
        .unwrap_err();
        let mut shown = format!("{err:?}");
        let mut cause: Option<&dyn std::error::Error> = Some(&err);
        while let Some(c) = cause {
            shown.push_str(&c.to_string());
            cause = c.source();
        }
        assert!(shown.contains(DATABASE_URL_VAR), "{shown}");
        assert!(!shown.contains("hunter2"), "{shown}");
    }

    #[test]
    fn the_strata_variable_wins_over_terraforms() {
        let vars = |k: &str| match k {
            DATABASE_URL_VAR => Some("postgres://a@strata-db/x".to_owned()),
            FALLBACK_URL_VAR => Some("postgres://a@tf-db/x".to_owned()),
            _ => None,
        };
        let url = DatabaseUrl::from_env(vars).unwrap().unwrap();
        assert_eq!(url.endpoint(), "strata-db:5432");
        let only_tf = |k: &str| (k == FALLBACK_URL_VAR).then(|| "postgres://a@tf-db/x".to_owned());
        assert_eq!(
            DatabaseUrl::from_env(only_tf).unwrap().unwrap().endpoint(),
            "tf-db:5432"
        );
        assert!(DatabaseUrl::from_env(|_| None).unwrap().is_none());
    }
}
