//! The state database's connection string: read from the environment only, parsed once, and
//! never shown. What may be shown is its `host:port`.

use std::time::Duration;

use tokio_postgres::config::Host;
use tokio_postgres_rustls::MakeRustlsConnect;

use crate::error::StateError;
use crate::tls::{RootCert, SslMode};

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
    mode: SslMode,
    tls: Option<MakeRustlsConnect>,
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
    /// `key=value` pairs, that came from `variable`. `sslmode` (`disable`, `prefer`, the
    /// default, `require`, `verify-ca`, `verify-full`) and `sslrootcert` are Strata's to read
    /// (tokio-postgres knows neither the last two modes nor `sslrootcert`); the trust anchors
    /// are loaded here, so an unreadable `sslrootcert` is refused before any connection.
    pub fn parse(text: &str, variable: &str) -> Result<Self, StateError> {
        let tls = TlsParams::take(text);
        let rest = tls.as_ref().map_or(text, |t| t.rest.as_str());
        let mut config: tokio_postgres::Config =
            rest.parse()
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
        let (verify, root) = tls.map_or((None, RootCert::System), |t| (t.verify, t.root));
        let mode = verify.unwrap_or(match config.get_ssl_mode() {
            tokio_postgres::config::SslMode::Disable => SslMode::Disable,
            tokio_postgres::config::SslMode::Require => SslMode::Require,
            _ => SslMode::Prefer,
        });
        if verify.is_some() {
            config.ssl_mode(tokio_postgres::config::SslMode::Require);
        }
        let tls = crate::tls::connector(mode, &root, &endpoint)?;
        Ok(Self {
            config,
            endpoint,
            mode,
            tls,
        })
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

    /// The `sslmode`, as given or PostgreSQL's default (`prefer`).
    pub(crate) fn ssl_mode(&self) -> SslMode {
        self.mode
    }

    /// The TLS connector, `None` for `sslmode=disable`.
    pub(crate) fn tls(&self) -> Option<&MakeRustlsConnect> {
        self.tls.as_ref()
    }
}

/// The TLS settings Strata reads itself, and the connection string without them.
#[derive(Debug, PartialEq, Eq)]
struct TlsParams {
    /// `verify-ca` or `verify-full` (removed from `rest`); other modes stay for tokio-postgres.
    verify: Option<SslMode>,
    root: RootCert,
    rest: String,
}

impl TlsParams {
    /// Finds `sslrootcert` and a `verify-*` `sslmode` in `text`. `None` when `text` does not
    /// scan; tokio-postgres then says what is wrong with it.
    fn take(text: &str) -> Option<Self> {
        let mut out = Self {
            verify: None,
            root: RootCert::System,
            rest: String::with_capacity(text.len()),
        };
        let mut pick = |key: &str, value: &str| -> bool {
            match (key, value) {
                ("sslmode", "verify-ca") => out.verify = Some(SslMode::VerifyCa),
                ("sslmode", "verify-full") => out.verify = Some(SslMode::VerifyFull),
                ("sslrootcert", "system") => out.root = RootCert::System,
                ("sslrootcert", file) => out.root = RootCert::File(file.into()),
                _ => return false,
            }
            true
        };
        let rest = if let Some((base, query)) = text
            .split_once('?')
            .filter(|_| text.starts_with("postgres://") || text.starts_with("postgresql://"))
        {
            let kept: Vec<&str> = query
                .split('&')
                .filter(|pair| {
                    let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
                    !pick(&percent_decode(k), &percent_decode(v))
                })
                .collect();
            if kept.is_empty() {
                base.to_owned()
            } else {
                format!("{base}?{}", kept.join("&"))
            }
        } else if text.contains("://") {
            text.to_owned()
        } else {
            let mut rest = String::new();
            for (key, value, raw) in key_values(text)? {
                if !pick(key, &value) {
                    rest.push_str(raw);
                    rest.push(' ');
                }
            }
            rest
        };
        out.rest = rest;
        Some(out)
    }
}

fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match (bytes[i], hex) {
            (b'%', Some(b)) => {
                out.push(b);
                i += 3;
            }
            (b, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// libpq's `key = value` pairs: each key, its unquoted value and the pair's own text. `None`
/// when a pair does not scan (no `=`, an open quote).
fn key_values(text: &str) -> Option<Vec<(&str, String, &str)>> {
    let mut pairs = Vec::new();
    let mut s = text.trim_start();
    while !s.is_empty() {
        let start = s;
        let key_end = s.find(|c: char| c == '=' || c.is_whitespace())?;
        let key = &s[..key_end];
        s = s[key_end..].trim_start().strip_prefix('=')?.trim_start();
        let mut value = String::new();
        let mut chars = s.char_indices();
        let quoted = s.starts_with('\'');
        if quoted {
            chars.next();
        }
        let mut end = None;
        while let Some((i, c)) = chars.next() {
            match c {
                '\\' => value.push(chars.next()?.1),
                '\'' if quoted => {
                    end = Some(i + 1);
                    break;
                }
                c if c.is_whitespace() && !quoted => {
                    end = Some(i);
                    break;
                }
                c => value.push(c),
            }
        }
        let end = match end {
            Some(e) => e,
            None if quoted => return None,
            None => s.len(),
        };
        let consumed = start.len() - s.len() + end;
        pairs.push((key, value, &start[..consumed]));
        s = start[consumed..].trim_start();
    }
    Some(pairs)
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
    fn strata_reads_the_tls_settings_tokio_postgres_does_not_know() {
        let url = TlsParams::take(
            "postgres://deploy:pw@db.example/infra?sslmode=verify-full&sslrootcert=%2Fetc%2Fca.pem&connect_timeout=3",
        )
        .unwrap();
        assert_eq!(url.verify, Some(SslMode::VerifyFull));
        assert_eq!(url.root, RootCert::File("/etc/ca.pem".into()));
        assert_eq!(
            url.rest,
            "postgres://deploy:pw@db.example/infra?connect_timeout=3"
        );
        let kv = TlsParams::take(
            "host=db.example password='it\\'s secret' sslmode = verify-ca sslrootcert='/my certs/ca.pem'",
        )
        .unwrap();
        assert_eq!(kv.verify, Some(SslMode::VerifyCa));
        assert_eq!(kv.root, RootCert::File("/my certs/ca.pem".into()));
        assert_eq!(kv.rest, "host=db.example password='it\\'s secret' ");
        let plain =
            TlsParams::take("postgres://a@db/x?sslmode=require&sslrootcert=system").unwrap();
        assert_eq!((plain.verify, plain.root), (None, RootCert::System));
        assert_eq!(plain.rest, "postgres://a@db/x?sslmode=require");
        let parsed = DatabaseUrl::parse(
            "host=db.example sslmode=verify-full sslrootcert=system",
            FALLBACK_URL_VAR,
        )
        .unwrap();
        assert_eq!(parsed.ssl_mode(), SslMode::VerifyFull);
        assert!(parsed.tls().is_some());
        assert_eq!(
            parsed.config().get_ssl_mode(),
            tokio_postgres::config::SslMode::Require
        );
        let default = DatabaseUrl::parse("postgres://a@db/x", DATABASE_URL_VAR).unwrap();
        assert_eq!(default.ssl_mode(), SslMode::Prefer);
        let clear = DatabaseUrl::parse("postgres://a@db/x?sslmode=disable", DATABASE_URL_VAR);
        assert!(clear.unwrap().tls().is_none());
    }

    #[test]
    fn an_sslrootcert_that_cannot_be_read_is_refused_before_connecting() {
        let dir = std::env::temp_dir().join(format!("strata-url-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let not_pem = dir.join("not-a-cert.pem");
        std::fs::write(&not_pem, "hello\n").unwrap();
        for (file, why) in [
            (dir.join("missing.pem"), "cannot be read"),
            (not_pem, "has no `-----BEGIN CERTIFICATE-----` block"),
        ] {
            let err = DatabaseUrl::parse(
                &format!(
                    "postgres://deploy:hunter2-secret@db.example/infra?sslmode=verify-full&sslrootcert={}",
                    file.display()
                ),
                DATABASE_URL_VAR,
            )
            .unwrap_err();
            let shown = format!("{err} {err:?} {}", err.hint().unwrap());
            assert!(matches!(err, StateError::RootCert { .. }), "{shown}");
            assert!(shown.contains("db.example:5432"), "{shown}");
            assert!(
                shown.contains(&format!("`sslrootcert={}`", file.display())),
                "{shown}"
            );
            assert!(shown.contains(why), "{shown}");
            assert!(
                err.hint().unwrap().contains("sslrootcert=<file>"),
                "{shown}"
            );
            assert!(!shown.contains("hunter2"), "{shown}");
            assert_eq!(err.kind(), strata_metadata::ErrorKind::Invalid);
        }
        std::fs::remove_dir_all(&dir).unwrap();
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
