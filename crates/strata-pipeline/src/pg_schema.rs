//! Strata's own tables in the team's database: one schema of its own (`strata` by default), a
//! `schema_version` table and ordered migrations. Nothing here touches a table Strata did not
//! create (Terraform's `pg` backend keeps its states in `terraform_remote_state.states`).

use sha2::{Digest as _, Sha256};
use tokio_postgres::Client;

use crate::error::StateError;

/// The migrations, in order; migration `i` brings the schema to version `i + 1`. `{schema}` is
/// replaced by the quoted schema name. A released migration never changes: a change is a new one.
const MIGRATIONS: &[&str] = &[
    // 1: phase records, run history, lock holders.
    r#"
CREATE TABLE {schema}.phase_records (
    env         text NOT NULL,
    phase       text NOT NULL,
    status      text NOT NULL,
    digest      text NOT NULL,
    inputs      jsonb NOT NULL,
    finished_at timestamptz NOT NULL,
    seconds     double precision NOT NULL,
    run_id      text NOT NULL,
    PRIMARY KEY (env, phase)
);
CREATE TABLE {schema}.runs (
    env         text NOT NULL,
    run_id      text NOT NULL,
    started_at  timestamptz NOT NULL,
    finished_at timestamptz NOT NULL,
    result      text NOT NULL,
    "user"      text,
    host        text,
    report      jsonb NOT NULL,
    PRIMARY KEY (env, run_id)
);
CREATE INDEX runs_newest ON {schema}.runs (env, started_at DESC, run_id DESC);
CREATE TABLE {schema}.lock_holders (
    env         text PRIMARY KEY,
    "user"      text NOT NULL,
    host        text NOT NULL,
    pid         bigint NOT NULL,
    command     text NOT NULL,
    started_at  text NOT NULL,
    backend_pid integer NOT NULL
);
"#,
];

/// The schema version this build migrates to.
pub(crate) const SCHEMA_VERSION: i32 = MIGRATIONS.len() as i32;

/// Whether `name` is a schema name Strata uses as is: it is put into SQL (quoted), so only a
/// plain lowercase identifier is accepted.
pub(crate) fn valid_schema_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars.next().is_some_and(|c| c.is_ascii_lowercase())
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
        && name.len() <= 63
}

/// A 64-bit advisory lock key: the first 8 bytes of SHA-256 over `strata:<purpose>:<name>`,
/// big-endian. Deterministic across machines and PostgreSQL versions (unlike `hashtext`), and
/// scoped by a prefix so it cannot meet another tool's keys by accident.
pub(crate) fn advisory_key(purpose: &str, name: &str) -> i64 {
    let digest = Sha256::digest(format!("strata:{purpose}:{name}").as_bytes());
    let mut bytes = [0u8; 8];
    bytes.copy_from_slice(&digest[..8]);
    i64::from_be_bytes(bytes)
}

/// Brings `schema` up to [`SCHEMA_VERSION`]. One transaction under a transaction-level
/// advisory lock, so two first runs at once apply each migration once (the second waits, then
/// finds nothing to do); a failure leaves the schema as it was.
pub(crate) async fn migrate(
    client: &mut Client,
    schema: &str,
    endpoint: &str,
) -> Result<i32, StateError> {
    let query = |action: &str| {
        let action = action.to_owned();
        let endpoint = endpoint.to_owned();
        move |source| StateError::Query {
            action,
            endpoint,
            source,
        }
    };
    let q = quoted(schema);
    let tx = client
        .transaction()
        .await
        .map_err(query("start the schema migration"))?;
    tx.execute(
        "SELECT pg_advisory_xact_lock($1)",
        &[&advisory_key("migrate", schema)],
    )
    .await
    .map_err(query("lock the schema migration"))?;
    tx.batch_execute(&format!(
        "CREATE SCHEMA IF NOT EXISTS {q};
         CREATE TABLE IF NOT EXISTS {q}.schema_version (
             version    integer PRIMARY KEY,
             applied_at timestamptz NOT NULL DEFAULT now()
         );"
    ))
    .await
    .map_err(query(&format!("create the schema `{schema}`")))?;
    let found: i32 = tx
        .query_one(
            &format!("SELECT coalesce(max(version), 0) FROM {q}.schema_version"),
            &[],
        )
        .await
        .map_err(query("read the schema version"))?
        .get(0);
    if found > SCHEMA_VERSION {
        return Err(StateError::SchemaTooNew {
            endpoint: endpoint.to_owned(),
            schema: schema.to_owned(),
            found,
            known: SCHEMA_VERSION,
        });
    }
    for (i, sql) in MIGRATIONS.iter().enumerate().skip(found as usize) {
        let version = i as i32 + 1;
        tx.batch_execute(&sql.replace("{schema}", &q))
            .await
            .map_err(query(&format!("apply migration {version} of `{schema}`")))?;
        tx.execute(
            &format!("INSERT INTO {q}.schema_version (version) VALUES ($1)"),
            &[&version],
        )
        .await
        .map_err(query("record the schema version"))?;
    }
    tx.commit()
        .await
        .map_err(query("commit the schema migration"))?;
    Ok(SCHEMA_VERSION)
}

/// `"name"`: the name was checked by [`valid_schema_name`], so quoting is enough.
pub(crate) fn quoted(schema: &str) -> String {
    format!("\"{schema}\"")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_stable_and_differ_by_environment() {
        // A change here splits the lock between checkouts on two Strata versions: never.
        assert_eq!(advisory_key("env", "dev"), advisory_key("env", "dev"));
        assert_ne!(advisory_key("env", "dev"), advisory_key("env", "prod"));
        assert_ne!(advisory_key("env", "dev"), advisory_key("migrate", "dev"));
        let digest = Sha256::digest(b"strata:env:dev");
        assert_eq!(
            advisory_key("env", "dev").to_be_bytes(),
            digest[..8],
            "the documented derivation"
        );
    }

    #[test]
    fn only_plain_identifiers_are_schema_names() {
        assert!(valid_schema_name("strata"));
        assert!(valid_schema_name("strata_team2"));
        for bad in ["", "2x", "Strata", "a-b", "a\"; DROP", "public.x"] {
            assert!(!valid_schema_name(bad), "{bad}");
        }
    }
}
