//! TLS to the state database, against a real PostgreSQL with `ssl=on` and a CA of its own.

use std::path::Path;

use strata_config::Layout;
use strata_metadata::ErrorKind;
use strata_pipeline::{DATABASE_URL_VAR, StateBackend, StateError};
use strata_testkit::{Postgres, TempDir};

/// A password trust authentication never asks for: it must appear in no message.
const PASSWORD: &str = "s3cret-tls-0815";

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime")
}

fn checkout() -> TempDir {
    let dir = TempDir::new("pg-tls");
    strata_testkit::write(
        dir.path(),
        "config/state-backend.json",
        "{\n  \"schemaVersion\": 1,\n  \"backend\": \"postgres\"\n}\n",
    );
    dir
}

fn url(host: &str, pg: &Postgres, params: &str) -> String {
    format!(
        "postgres://postgres:{PASSWORD}@{host}:{}/postgres?{params}",
        pg.port
    )
}

/// Opens the backend with `url` and, while it is connected, counts Strata's sessions that
/// the server sees encrypted and in clear text.
fn open_and_count(root: &Path, pg: &Postgres, url: &str) -> Result<(u32, u32), StateError> {
    runtime().block_on(async {
        let url = url.to_owned();
        let backend = StateBackend::open(&Layout::new(root), move |k| {
            (k == DATABASE_URL_VAR).then(|| url.clone())
        })
        .await?;
        let count = |ssl: bool| -> u32 {
            pg.query(&format!(
                "SELECT count(*) FROM pg_stat_ssl s JOIN pg_stat_activity a USING (pid)
                 WHERE a.application_name = 'strata' AND s.ssl = {ssl}"
            ))
            .trim()
            .parse()
            .unwrap()
        };
        let counts = (count(true), count(false));
        drop(backend);
        Ok(counts)
    })
}

fn shown(err: &StateError) -> String {
    let mut shown = format!("{err} {err:?} {}", err.hint().unwrap_or_default());
    let mut cause = std::error::Error::source(err);
    while let Some(c) = cause {
        shown.push_str(&format!(" {c}"));
        cause = c.source();
    }
    assert!(!shown.contains(PASSWORD), "{shown}");
    assert!(!shown.contains("postgres://"), "{shown}");
    shown
}

#[test]
fn verify_full_with_the_servers_ca_connects_encrypted() {
    let Some(pg) = Postgres::start_tls() else {
        return;
    };
    let ca = pg.ca.clone().unwrap();
    let root = checkout();
    for host in ["127.0.0.1", "localhost"] {
        let url = url(
            host,
            &pg,
            &format!("sslmode=verify-full&sslrootcert={}", ca.display()),
        );
        assert_eq!(
            open_and_count(root.path(), &pg, &url).unwrap(),
            (1, 0),
            "{host}"
        );
    }
    // The same as libpq key=value pairs, the path quoted.
    let kv = format!(
        "host=127.0.0.1 port={} user=postgres password={PASSWORD} dbname=postgres sslmode=verify-full sslrootcert='{}'",
        pg.port,
        ca.display()
    );
    assert_eq!(open_and_count(root.path(), &pg, &kv).unwrap(), (1, 0));
    // `require` verifies as `verify-full` does; `prefer` encrypts when the server offers TLS.
    let require = url(
        "127.0.0.1",
        &pg,
        &format!("sslmode=require&sslrootcert={}", ca.display()),
    );
    assert_eq!(open_and_count(root.path(), &pg, &require).unwrap(), (1, 0));
    let prefer = url("127.0.0.1", &pg, "sslmode=prefer");
    assert_eq!(open_and_count(root.path(), &pg, &prefer).unwrap(), (1, 0));
    let disable = url("127.0.0.1", &pg, "sslmode=disable");
    assert_eq!(open_and_count(root.path(), &pg, &disable).unwrap(), (0, 1));
}

#[test]
fn a_certificate_from_an_unknown_ca_is_not_trusted() {
    let Some(pg) = Postgres::start_tls() else {
        return;
    };
    let root = checkout();
    // Without `sslrootcert` the system's trust store decides, and it does not know the test CA.
    for mode in ["verify-full", "verify-ca", "require"] {
        let url = url("127.0.0.1", &pg, &format!("sslmode={mode}"));
        let err = open_and_count(root.path(), &pg, &url).unwrap_err();
        let shown = shown(&err);
        assert!(matches!(err, StateError::Untrusted { .. }), "{shown}");
        assert_eq!(err.kind(), ErrorKind::Failed);
        assert!(
            shown.contains(&format!(
                "the server's certificate is not trusted at `127.0.0.1:{}`",
                pg.port
            )),
            "{shown}"
        );
        assert!(shown.contains("sslrootcert=<file>"), "{shown}");
    }
}

#[test]
fn verify_ca_checks_the_chain_and_verify_full_the_name_too() {
    let Some(pg) = Postgres::start_tls() else {
        return;
    };
    let ca = pg.ca.clone().unwrap();
    let root = checkout();
    // 127.0.0.2 reaches the same server, but the certificate names 127.0.0.1 and localhost.
    let at = |mode: &str| {
        url(
            "127.0.0.2",
            &pg,
            &format!("sslmode={mode}&sslrootcert={}", ca.display()),
        )
    };
    assert_eq!(
        open_and_count(root.path(), &pg, &at("verify-ca")).unwrap(),
        (1, 0)
    );
    let err = open_and_count(root.path(), &pg, &at("verify-full")).unwrap_err();
    let shown = shown(&err);
    assert!(matches!(err, StateError::Untrusted { .. }), "{shown}");
    assert!(shown.contains("not issued for this host name"), "{shown}");
    assert!(shown.contains("sslmode=verify-ca"), "{shown}");
}

#[test]
fn tls_required_of_a_server_without_it_fails_clearly() {
    let Some(pg) = Postgres::start() else { return };
    let root = checkout();
    for mode in ["require", "verify-full"] {
        let url = url("127.0.0.1", &pg, &format!("sslmode={mode}"));
        let err = open_and_count(root.path(), &pg, &url).unwrap_err();
        let shown = shown(&err);
        assert!(matches!(err, StateError::TlsNotOffered { .. }), "{shown}");
        assert_eq!(err.kind(), ErrorKind::Failed);
        assert!(
            shown.contains(&format!("`127.0.0.1:{}` does not offer TLS", pg.port)),
            "{shown}"
        );
        assert!(shown.contains("ssl = on"), "{shown}");
    }
    // `prefer` falls back to clear text, as libpq's does; `disable` never asks.
    for mode in ["prefer", "disable"] {
        let url = url("127.0.0.1", &pg, &format!("sslmode={mode}"));
        assert_eq!(
            open_and_count(root.path(), &pg, &url).unwrap(),
            (0, 1),
            "{mode}"
        );
    }
}
