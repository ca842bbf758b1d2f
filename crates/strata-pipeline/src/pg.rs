//! The PostgreSQL state backend: phase records, run history and lock holders in Strata's own
//! schema, the environment lock a session-level advisory lock.
//!
//! The lock is held by one dedicated connection, the guard's: PostgreSQL releases a session
//! lock when its session ends, however it ends (a killed deploy, a lost network), so there is
//! never a stale lock to take over. Every write of a run goes through that same connection,
//! so nothing is recorded once the lock is gone: a write then fails with
//! [`StateError::ConnectionLost`].

use std::time::Duration;

use std::sync::atomic::Ordering;
use strata_metadata::{DeployReport, Phase, PhaseRecord, PhaseStatus, PipelineState};

use tokio_postgres::{Client, NoTls, Row};

use crate::backend::{Refused, RunEntry, UnlockOptions, UnlockOutcome};
use crate::error::StateError;
use crate::lock::{Holder, LockState};
use crate::pg_schema::{advisory_key, migrate, quoted};
use crate::url::DatabaseUrl;

/// How long a liveness check of the lock's connection may take.
const CHECK_TIMEOUT: Duration = Duration::from_secs(10);

/// A connected PostgreSQL backend, its schema migrated.
#[derive(Debug)]
pub(crate) struct PgBackend {
    url: DatabaseUrl,
    schema: String,
    client: Client,
}

/// Connects, with TLS as the URL's `sslmode` says, and drives the connection on the current
/// tokio runtime.
async fn connect(url: &DatabaseUrl) -> Result<Client, StateError> {
    let endpoint = || url.endpoint().to_owned();
    let client = match url.tls() {
        None => {
            let (client, connection) =
                url.config()
                    .connect(NoTls)
                    .await
                    .map_err(|source| StateError::Unreachable {
                        endpoint: endpoint(),
                        source,
                    })?;
            drive(connection);
            client
        }
        Some(tls) => {
            let (tls, started) = crate::tls::Tracked::new(tls.clone());
            let (client, connection) = url.config().connect(tls).await.map_err(|source| {
                let mode = url.ssl_mode().name();
                if let Some(reason) = crate::tls::certificate_error(&source) {
                    StateError::Untrusted {
                        endpoint: endpoint(),
                        mode,
                        reason,
                    }
                } else if !started.load(Ordering::SeqCst)
                    && url.ssl_mode() != crate::tls::SslMode::Prefer
                    && source.as_db_error().is_none()
                    && !std::error::Error::source(&source).is_some_and(|c| c.is::<std::io::Error>())
                {
                    // The server answered the TLS request with "no" (tokio-postgres says so in
                    // a message of its own; the handshake never started).
                    StateError::TlsNotOffered {
                        endpoint: endpoint(),
                        mode,
                    }
                } else {
                    StateError::Unreachable {
                        endpoint: endpoint(),
                        source,
                    }
                }
            })?;
            drive(connection);
            client
        }
    };
    Ok(client)
}

fn drive<F, E>(connection: F)
where
    F: std::future::Future<Output = Result<(), E>> + Send + 'static,
    E: std::fmt::Display,
{
    tokio::spawn(async move {
        if let Err(e) = connection.await {
            tracing::debug!("state database connection ended: {e}");
        }
    });
}

fn status_name(status: PhaseStatus) -> &'static str {
    match status {
        PhaseStatus::Succeeded => "succeeded",
        PhaseStatus::Failed => "failed",
        PhaseStatus::Interrupted => "interrupted",
    }
}

fn status_from(name: &str) -> Option<PhaseStatus> {
    [
        PhaseStatus::Succeeded,
        PhaseStatus::Failed,
        PhaseStatus::Interrupted,
    ]
    .into_iter()
    .find(|s| status_name(*s) == name)
}

/// `finished_at` as Strata writes it (RFC 3339, UTC, whole seconds).
const UTC_TEXT: &str = r#"'YYYY-MM-DD"T"HH24:MI:SS"Z"'"#;

const HOLDER_COLUMNS: &str = r#""user", host, pid, command, started_at, backend_pid"#;

fn holder_from(row: &Row) -> (Holder, i32) {
    let pid: i64 = row.get(2);
    (
        Holder {
            user: row.get(0),
            host: row.get(1),
            pid: u32::try_from(pid).unwrap_or(0),
            command: row.get(3),
            started_at: row.get(4),
        },
        row.get(5),
    )
}

/// The two halves of a 64-bit advisory key as `pg_locks` shows them (`classid`, `objid`).
fn lock_ids(key: i64) -> (i64, i64) {
    let k = key as u64;
    ((k >> 32) as i64, (k & 0xffff_ffff) as i64)
}

impl PgBackend {
    /// Connects and brings Strata's schema up to date.
    pub(crate) async fn connect(url: DatabaseUrl, schema: &str) -> Result<Self, StateError> {
        let mut client = connect(&url).await?;
        migrate(&mut client, schema, url.endpoint()).await?;
        Ok(Self {
            url,
            schema: schema.to_owned(),
            client,
        })
    }

    pub(crate) fn endpoint(&self) -> &str {
        self.url.endpoint()
    }

    pub(crate) fn schema(&self) -> &str {
        &self.schema
    }

    fn query_error(&self, action: String) -> impl FnOnce(tokio_postgres::Error) -> StateError {
        let endpoint = self.endpoint().to_owned();
        move |source| StateError::Query {
            action,
            endpoint,
            source,
        }
    }

    pub(crate) async fn read_state(&self, env: &str) -> Result<PipelineState, StateError> {
        read_state(&self.client, &self.schema, env, self.endpoint()).await
    }

    pub(crate) async fn runs(&self, env: &str, limit: usize) -> Result<Vec<RunEntry>, StateError> {
        let rows = self
            .client
            .query(
                &format!(
                    r#"SELECT report::text, "user", host FROM {}.runs WHERE env = $1
                       ORDER BY started_at DESC, run_id DESC LIMIT $2"#,
                    quoted(&self.schema)
                ),
                &[&env, &i64::try_from(limit).unwrap_or(i64::MAX)],
            )
            .await
            .map_err(self.query_error(format!("list the runs of `{env}`")))?;
        rows.iter()
            .map(|row| {
                let text: String = row.get(0);
                let report: DeployReport =
                    serde_json::from_str(&text).map_err(|e| StateError::Corrupt {
                        endpoint: self.endpoint().to_owned(),
                        what: format!("a run of `{env}`: {e}"),
                    })?;
                Ok(RunEntry {
                    report,
                    user: row.get(1),
                    host: row.get(2),
                })
            })
            .collect()
    }

    /// Who holds the advisory lock of `env` (its backend pid), as `pg_locks` shows it.
    async fn lock_pid(&self, env: &str) -> Result<Option<i32>, StateError> {
        let (classid, objid) = lock_ids(advisory_key("env", env));
        let row = self
            .client
            .query_opt(
                "SELECT pid FROM pg_locks
                 WHERE locktype = 'advisory' AND granted AND objsubid = 1
                   AND database = (SELECT oid FROM pg_database WHERE datname = current_database())
                   AND classid::bigint = $1 AND objid::bigint = $2",
                &[&classid, &objid],
            )
            .await
            .map_err(self.query_error(format!("inspect the lock of `{env}`")))?;
        Ok(row.map(|r| r.get(0)))
    }

    async fn holder_row(&self, env: &str) -> Result<Option<(Holder, i32)>, StateError> {
        holder_row(&self.client, &self.schema, env, self.endpoint()).await
    }

    pub(crate) async fn lock_state(&self, env: &str) -> Result<LockState, StateError> {
        let pid = self.lock_pid(env).await?;
        let named = self.holder_row(env).await?;
        Ok(match (pid, named) {
            (Some(pid), Some((h, backend))) if backend == pid => LockState::Held(Some(h)),
            (Some(_), _) => LockState::Held(None),
            // The holder's session is gone and its lock with it: only its name is left.
            (None, Some((h, _))) => LockState::Stale(Some(h)),
            (None, None) => LockState::Free,
        })
    }

    /// Takes the lock of `env` on a connection of its own, or refuses at once.
    pub(crate) async fn acquire(
        &self,
        env: &str,
        me: &Holder,
    ) -> Result<(PgGuard, Option<Holder>), StateError> {
        let client = connect(&self.url).await?;
        let key = advisory_key("env", env);
        let taken: bool = client
            .query_one("SELECT pg_try_advisory_lock($1)", &[&key])
            .await
            .map_err(self.query_error(format!("take the lock of `{env}`")))?
            .get(0);
        if !taken {
            let holder = match self.lock_state(env).await? {
                LockState::Held(h) => h,
                _ => None,
            };
            return Err(StateError::Held {
                env: env.to_owned(),
                holder: holder.map(Box::new),
            });
        }
        let before = holder_row(&client, &self.schema, env, self.endpoint()).await?;
        client
            .execute(
                &format!(
                    r#"INSERT INTO {}.lock_holders (env, {HOLDER_COLUMNS})
                       VALUES ($1, $2, $3, $4, $5, $6, pg_backend_pid())
                       ON CONFLICT (env) DO UPDATE SET "user" = $2, host = $3, pid = $4,
                           command = $5, started_at = $6, backend_pid = pg_backend_pid()"#,
                    quoted(&self.schema)
                ),
                &[
                    &env,
                    &me.user,
                    &me.host,
                    &i64::from(me.pid),
                    &me.command,
                    &me.started_at,
                ],
            )
            .await
            .map_err(self.query_error(format!("name the holder of the lock of `{env}`")))?;
        let guard = PgGuard {
            client,
            schema: self.schema.clone(),
            endpoint: self.endpoint().to_owned(),
            env: env.to_owned(),
            key,
            holder: me.clone(),
        };
        Ok((guard, before.map(|(h, _)| h)))
    }

    pub(crate) async fn unlock(
        &self,
        env: &str,
        opts: UnlockOptions,
    ) -> Result<UnlockOutcome, StateError> {
        match self.lock_state(env).await? {
            LockState::Free => Ok(UnlockOutcome::NotLocked),
            LockState::Stale(named) => {
                // Clear the name under the lock itself, so a deploy taking it at this moment
                // keeps its own.
                let client = connect(&self.url).await?;
                let key = advisory_key("env", env);
                let taken: bool = client
                    .query_one("SELECT pg_try_advisory_lock($1)", &[&key])
                    .await
                    .map_err(self.query_error(format!("take the lock of `{env}`")))?
                    .get(0);
                if !taken {
                    return Err(StateError::Held {
                        env: env.to_owned(),
                        holder: None,
                    });
                }
                client
                    .execute(
                        &format!(
                            "DELETE FROM {}.lock_holders WHERE env = $1",
                            quoted(&self.schema)
                        ),
                        &[&env],
                    )
                    .await
                    .map_err(self.query_error(format!("clear the holder of `{env}`")))?;
                // Released now, not when this connection's close reaches the server: the next
                // look at the lock must find it free.
                client
                    .execute("SELECT pg_advisory_unlock($1)", &[&key])
                    .await
                    .map_err(self.query_error(format!("release the lock of `{env}`")))?;
                Ok(UnlockOutcome::AlreadyReleased(named))
            }
            LockState::Held(named) if !opts.force => Err(StateError::Held {
                env: env.to_owned(),
                holder: named.map(Box::new),
            }),
            LockState::Held(named) if !opts.yes => Err(StateError::NotConfirmed {
                env: env.to_owned(),
                holder: named.map(Box::new),
            }),
            LockState::Held(named) => {
                let Some(pid) = self.lock_pid(env).await? else {
                    return Ok(UnlockOutcome::AlreadyReleased(named));
                };
                self.client
                    .execute("SELECT pg_terminate_backend($1)", &[&pid])
                    .await
                    .map_err(
                        self.query_error(format!("end the session holding the lock of `{env}`")),
                    )?;
                // The session ends a moment after it is signalled.
                for _ in 0..100 {
                    if self.lock_pid(env).await? != Some(pid) {
                        break;
                    }
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
                self.client
                    .execute(
                        &format!(
                            "DELETE FROM {}.lock_holders WHERE env = $1 AND backend_pid = $2",
                            quoted(&self.schema)
                        ),
                        &[&env, &pid],
                    )
                    .await
                    .map_err(self.query_error(format!("clear the holder of `{env}`")))?;
                Ok(UnlockOutcome::Ended(named))
            }
        }
    }

    /// Copies local phase records and run reports of `env` here, under the remote lock:
    /// a record is refused when the remote one finished later.
    pub(crate) async fn push(
        &self,
        env: &str,
        me: &Holder,
        local: &PipelineState,
        reports: &[DeployReport],
    ) -> Result<crate::backend::PushReport, StateError> {
        let (guard, _) = self.acquire(env, me).await?;
        let remote = read_state(&guard.client, &self.schema, env, self.endpoint()).await?;
        let mut out = crate::backend::PushReport::default();
        for (name, record) in &local.phases {
            let Some(phase) = Phase::from_name(name) else {
                continue;
            };
            match remote.phases.get(name) {
                Some(r) if r == record => out.unchanged.push(phase),
                Some(r) if r.finished_at > record.finished_at => out.refused.push(Refused {
                    phase,
                    local_finished_at: record.finished_at.clone(),
                    remote_finished_at: r.finished_at.clone(),
                }),
                _ => {
                    guard.write_phase(phase, record).await?;
                    out.copied.push(phase);
                }
            }
        }
        for report in reports {
            if guard.insert_run(report, None).await? {
                out.runs_copied += 1;
            } else {
                out.runs_present += 1;
            }
        }
        guard.release().await?;
        Ok(out)
    }
}

async fn holder_row(
    client: &Client,
    schema: &str,
    env: &str,
    endpoint: &str,
) -> Result<Option<(Holder, i32)>, StateError> {
    let row = client
        .query_opt(
            &format!(
                "SELECT {HOLDER_COLUMNS} FROM {}.lock_holders WHERE env = $1",
                quoted(schema)
            ),
            &[&env],
        )
        .await
        .map_err(|source| StateError::Query {
            action: format!("read the holder of `{env}`"),
            endpoint: endpoint.to_owned(),
            source,
        })?;
    Ok(row.as_ref().map(holder_from))
}

async fn read_state(
    client: &Client,
    schema: &str,
    env: &str,
    endpoint: &str,
) -> Result<PipelineState, StateError> {
    let rows = client
        .query(
            &format!(
                "SELECT phase, status, digest, inputs::text,
                        to_char(finished_at AT TIME ZONE 'UTC', {UTC_TEXT}), seconds, run_id
                 FROM {}.phase_records WHERE env = $1",
                quoted(schema)
            ),
            &[&env],
        )
        .await
        .map_err(|source| StateError::Query {
            action: format!("read the phase records of `{env}`"),
            endpoint: endpoint.to_owned(),
            source,
        })?;
    let mut state = PipelineState::default();
    for row in rows {
        let phase: String = row.get(0);
        let corrupt = |why: String| StateError::Corrupt {
            endpoint: endpoint.to_owned(),
            what: format!("the record of phase `{phase}` of `{env}`: {why}"),
        };
        let status: String = row.get(1);
        let status = status_from(&status).ok_or_else(|| corrupt(format!("status `{status}`")))?;
        let inputs: String = row.get(3);
        // One column holds both: the phases it builds on are `phase <name>` inputs.
        let flat = serde_json::from_str(&inputs).map_err(|e| corrupt(e.to_string()))?;
        let (inputs, needs) = PhaseRecord::split_inputs(flat);
        state.phases.insert(
            phase.clone(),
            PhaseRecord {
                status,
                digest: row.get(2),
                inputs,
                needs,
                finished_at: row.get(4),
                seconds: row.get(5),
                run_id: row.get(6),
            },
        );
    }
    Ok(state)
}

/// The lock of one environment, held by this connection's session.
#[derive(Debug)]
pub(crate) struct PgGuard {
    client: Client,
    schema: String,
    endpoint: String,
    env: String,
    key: i64,
    holder: Holder,
}

impl PgGuard {
    /// A failed statement on the lock's session: [`StateError::ConnectionLost`] when the
    /// session is gone (closed, or ended by the server), else a query error.
    fn failed(&self, action: String) -> impl FnOnce(tokio_postgres::Error) -> StateError + '_ {
        move |source| {
            let fatal = source
                .as_db_error()
                .is_some_and(|d| d.severity() == "FATAL" || d.severity() == "PANIC");
            if source.is_closed() || self.client.is_closed() || fatal {
                StateError::ConnectionLost {
                    endpoint: self.endpoint.clone(),
                    env: self.env.clone(),
                    source: Some(source),
                }
            } else {
                StateError::Query {
                    action,
                    endpoint: self.endpoint.clone(),
                    source,
                }
            }
        }
    }

    pub(crate) async fn check(&self) -> Result<(), StateError> {
        let lost = |source| StateError::ConnectionLost {
            endpoint: self.endpoint.clone(),
            env: self.env.clone(),
            source,
        };
        if self.client.is_closed() {
            return Err(lost(None));
        }
        match tokio::time::timeout(CHECK_TIMEOUT, self.client.simple_query("SELECT 1")).await {
            Ok(Ok(_)) => Ok(()),
            Ok(Err(e)) => Err(lost(Some(e))),
            Err(_) => Err(lost(None)),
        }
    }

    pub(crate) async fn write_phase(
        &self,
        phase: Phase,
        record: &PhaseRecord,
    ) -> Result<(), StateError> {
        let inputs = serde_json::to_string(&record.flat_inputs()).expect("inputs serialize");
        self.client
            .execute(
                &format!(
                    "INSERT INTO {}.phase_records
                         (env, phase, status, digest, inputs, finished_at, seconds, run_id)
                     VALUES ($1, $2, $3, $4, $5::text::jsonb, $6::text::timestamptz, $7, $8)
                     ON CONFLICT (env, phase) DO UPDATE SET status = $3, digest = $4,
                         inputs = $5::text::jsonb, finished_at = $6::text::timestamptz,
                         seconds = $7, run_id = $8",
                    quoted(&self.schema)
                ),
                &[
                    &self.env,
                    &phase.name(),
                    &status_name(record.status),
                    &record.digest,
                    &inputs,
                    &record.finished_at,
                    &record.seconds,
                    &record.run_id,
                ],
            )
            .await
            .map_err(self.failed(format!("record phase `{phase}` of `{}`", self.env)))?;
        Ok(())
    }

    /// Inserts or replaces a run; with `holder` `None` an existing run is kept. Whether a row
    /// was written.
    pub(crate) async fn insert_run(
        &self,
        report: &DeployReport,
        holder: Option<&Holder>,
    ) -> Result<bool, StateError> {
        let text = serde_json::to_string(report).expect("a report serializes");
        let on_conflict = if holder.is_some() {
            r#"DO UPDATE SET started_at = $3::text::timestamptz, finished_at = $4::text::timestamptz,
                   result = $5, "user" = $6, host = $7, report = $8::text::jsonb"#
        } else {
            "DO NOTHING"
        };
        let n = self
            .client
            .execute(
                &format!(
                    r#"INSERT INTO {}.runs (env, run_id, started_at, finished_at, result, "user", host, report)
                       VALUES ($1, $2, $3::text::timestamptz, $4::text::timestamptz, $5, $6, $7, $8::text::jsonb)
                       ON CONFLICT (env, run_id) {on_conflict}"#,
                    quoted(&self.schema)
                ),
                &[
                    &self.env,
                    &report.run_id,
                    &report.started_at,
                    &report.finished_at,
                    &report.result.as_str(),
                    &holder.map(|h| h.user.as_str()),
                    &holder.map(|h| h.host.as_str()),
                    &text,
                ],
            )
            .await
            .map_err(self.failed(format!("record run `{}` of `{}`", report.run_id, self.env)))?;
        Ok(n > 0)
    }

    pub(crate) async fn record_run(&self, report: &DeployReport) -> Result<(), StateError> {
        self.insert_run(report, Some(&self.holder.clone())).await?;
        Ok(())
    }

    pub(crate) async fn release(self) -> Result<(), StateError> {
        self.client
            .execute(
                &format!(
                    "DELETE FROM {}.lock_holders WHERE env = $1 AND backend_pid = pg_backend_pid()",
                    quoted(&self.schema)
                ),
                &[&self.env],
            )
            .await
            .map_err(self.failed(format!("clear the holder of `{}`", self.env)))?;
        self.client
            .execute("SELECT pg_advisory_unlock($1)", &[&self.key])
            .await
            .map_err(self.failed(format!("release the lock of `{}`", self.env)))?;
        Ok(())
    }
}
