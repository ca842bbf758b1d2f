//! Where an environment's phase records, run history and deploy lock live: the state backend.
//!
//! A repository chooses one in `config/state-backend.json` (absent: `local`). `local` keeps
//! today's files under `.strata/<env>/` with an OS file lock; `postgres` keeps them in Strata's
//! own schema of the team's database, the lock a session advisory lock. Both answer the same
//! calls, so `deploy`, `status`, `unlock`, `runs` and `state push` behave alike.
//!
//! How the deploy engine uses it:
//!
//! 1. [`StateBackend::open`] before any phase: a bad configuration is [`ErrorKind::Invalid`],
//!    an unreachable database [`ErrorKind::Failed`] naming `host:port`.
//! 2. [`StateBackend::acquire`]: refused at once with [`StateError::Held`] (kind `Locked`,
//!    exit 3) naming the holder.
//! 3. [`StateBackend::read_state`] for the skip decisions.
//! 4. After each phase, [`EnvGuard::write_phase`]; before starting a phase,
//!    [`EnvGuard::check`]. Either failing with [`StateError::ConnectionLost`] means the lock is
//!    gone: stop, record the running phase as failed in the run's report (it was never
//!    recorded as succeeded, so the next deploy runs it again), write the report locally and
//!    end the run as failed.
//! 5. [`EnvGuard::record_run`] with the run's report, then [`EnvGuard::release`].
//!
//! [`ErrorKind::Invalid`]: strata_metadata::ErrorKind::Invalid
//! [`ErrorKind::Failed`]: strata_metadata::ErrorKind::Failed

use std::path::{Path, PathBuf};

use serde::Serialize;
use strata_config::Layout;
use strata_metadata::{
    DeployReport, Phase, PhaseRecord, PipelineState, STATE_BACKEND_SCHEMA_VERSION,
    StateBackendConfig, StateBackendKind,
};

use crate::error::StateError;
use crate::history::{local_reports, write_local_report};
use crate::lock::{EnvLock, Holder, LockError, LockState, Unlocked, lock_state, unlock};
use crate::pg::{PgBackend, PgGuard};
use crate::pg_schema::valid_schema_name;
use crate::state::{read_state, write_state};
use crate::url::DatabaseUrl;

/// The schema Strata creates in the database unless the configuration names another.
pub const DEFAULT_SCHEMA: &str = "strata";

/// Reads `config/state-backend.json` of the repository; absent, the `local` backend.
pub fn read_backend_config(layout: &Layout) -> Result<StateBackendConfig, StateError> {
    let rel = Layout::state_backend_rel();
    let path = layout.abs(rel);
    let text = match std::fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Ok(StateBackendConfig {
                schema_version: STATE_BACKEND_SCHEMA_VERSION,
                backend: StateBackendKind::Local,
                schema: None,
            });
        }
        Err(source) => return Err(StateError::ReadConfig { path, source }),
    };
    parse_backend_config(rel, &text)
}

fn parse_backend_config(rel: &Path, text: &str) -> Result<StateBackendConfig, StateError> {
    let error = |line, column, message: String, hint: &str| StateError::Config {
        path: rel.to_owned(),
        line,
        column,
        message,
        hint: hint.to_owned(),
    };
    let config: StateBackendConfig = serde_json::from_str(text).map_err(|e| {
        let message = e.to_string();
        // serde_json appends " at line L column C": the position is given apart.
        let message = message
            .rsplit_once(" at line ")
            .map_or(message.as_str(), |(m, _)| m)
            .to_owned();
        let hint = if ["conn", "url", "password", "user", "host"]
            .iter()
            .any(|k| message.contains(&format!("`{k}")))
        {
            "the connection string is never committed: set STRATA_STATE_DATABASE_URL (or PG_CONN_STR) where Strata runs"
        } else {
            r#"write `{"schemaVersion": 1, "backend": "local"}` or `{"schemaVersion": 1, "backend": "postgres"}` (docs/team-state.md)"#
        };
        error(e.line(), e.column(), message, hint)
    })?;
    if config.schema_version != STATE_BACKEND_SCHEMA_VERSION {
        let (line, column) = locate(text, "schemaVersion");
        return Err(error(
            line,
            column,
            format!(
                "schemaVersion {} is not supported (this Strata reads {STATE_BACKEND_SCHEMA_VERSION})",
                config.schema_version
            ),
            "set `\"schemaVersion\": 1`",
        ));
    }
    if let Some(schema) = &config.schema {
        let (line, column) = locate(text, "schema");
        if config.backend != StateBackendKind::Postgres {
            return Err(error(
                line,
                column,
                "`schema` applies to the `postgres` backend only".to_owned(),
                "remove it, or set `\"backend\": \"postgres\"`",
            ));
        }
        if !valid_schema_name(schema) {
            return Err(error(
                line,
                column,
                format!("`{schema}` is not a schema name Strata accepts"),
                "use lowercase letters, digits and `_`, starting with a letter, such as `strata`",
            ));
        }
    }
    Ok(config)
}

/// The 1-based line and column of the key `"key"` in `text`, else 1:1.
fn locate(text: &str, key: &str) -> (usize, usize) {
    let needle = format!("\"{key}\"");
    text.lines()
        .enumerate()
        .find_map(|(i, line)| line.find(&needle).map(|c| (i + 1, c + 1)))
        .unwrap_or((1, 1))
}

/// An opened state backend.
#[derive(Debug)]
pub struct StateBackend {
    layout: Layout,
    inner: Inner,
}

#[derive(Debug)]
enum Inner {
    Local,
    Postgres(Box<PgBackend>),
}

/// A run's report with who ran it and from where (known for runs a shared backend recorded).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RunEntry {
    /// The report, as `report.json` holds it.
    pub report: DeployReport,
    /// The user who ran it.
    pub user: Option<String>,
    /// The machine it ran on.
    pub host: Option<String>,
}

/// How `unlock` goes about a live holder.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct UnlockOptions {
    /// Remove (local) or end (postgres) the lock of a holder that is still running.
    pub force: bool,
    /// Confirms ending a live holder's database session (postgres needs both).
    pub yes: bool,
}

/// What [`StateBackend::unlock`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UnlockOutcome {
    /// Nothing held or named the lock.
    NotLocked,
    /// Local: the lock file was removed; it named this holder, if readable.
    Removed(Option<Holder>),
    /// PostgreSQL: the holder's session had already ended, and its lock with it; only its name
    /// was left, and is now cleared.
    AlreadyReleased(Option<Holder>),
    /// PostgreSQL: the live holder's session was ended (`--force --yes`); its deploy fails.
    Ended(Option<Holder>),
}

/// What [`StateBackend::push`] did, and a record it did not copy because the shared one is
/// newer: the types `state push --output json` prints.
pub use strata_metadata::output::{PushRefused as Refused, PushReport};

impl StateBackend {
    /// Opens the backend the repository configures, reading the connection string through
    /// `var` (pass `|k| std::env::var(k).ok()`). PostgreSQL is connected and its schema
    /// migrated here, so an unreachable database fails before anything runs.
    pub async fn open(
        layout: &Layout,
        var: impl Fn(&str) -> Option<String>,
    ) -> Result<Self, StateError> {
        let config = read_backend_config(layout)?;
        match config.backend {
            StateBackendKind::Local => Ok(Self::local(layout)),
            StateBackendKind::Postgres => {
                let url =
                    DatabaseUrl::from_env(var)?.ok_or_else(|| StateError::NoConnectionString {
                        config: Layout::state_backend_rel().to_owned(),
                    })?;
                let schema = config.schema.as_deref().unwrap_or(DEFAULT_SCHEMA);
                Self::postgres(layout, url, schema).await
            }
        }
    }

    /// The local backend of `layout`: files under `.strata/<env>/`.
    pub fn local(layout: &Layout) -> Self {
        Self {
            layout: layout.clone(),
            inner: Inner::Local,
        }
    }

    /// The PostgreSQL backend at `url`, in `schema` (created and migrated when needed).
    pub async fn postgres(
        layout: &Layout,
        url: DatabaseUrl,
        schema: &str,
    ) -> Result<Self, StateError> {
        if !valid_schema_name(schema) {
            return Err(StateError::Config {
                path: Layout::state_backend_rel().to_owned(),
                line: 1,
                column: 1,
                message: format!("`{schema}` is not a schema name Strata accepts"),
                hint: "use lowercase letters, digits and `_`, such as `strata`".to_owned(),
            });
        }
        let pg = PgBackend::connect(url, schema).await?;
        Ok(Self {
            layout: layout.clone(),
            inner: Inner::Postgres(Box::new(pg)),
        })
    }

    /// Which kind it is.
    pub fn kind(&self) -> StateBackendKind {
        match self.inner {
            Inner::Local => StateBackendKind::Local,
            Inner::Postgres(_) => StateBackendKind::Postgres,
        }
    }

    /// Where it keeps the state, for people: never the connection string.
    pub fn describe(&self) -> String {
        match &self.inner {
            Inner::Local => "local files under `.strata/`".to_owned(),
            Inner::Postgres(pg) => format!(
                "PostgreSQL at `{}`, schema `{}`",
                pg.endpoint(),
                pg.schema()
            ),
        }
    }

    fn state_dir(&self, env: &str) -> PathBuf {
        self.layout.state_dir(env)
    }

    /// Takes the lock of `env` for a run by `me`, or refuses at once when someone holds it
    /// ([`StateError::Held`] with the holder, or [`StateError::Lock`] locally). The second
    /// value names the previous holder when it ended without releasing the lock (a crash).
    pub async fn acquire(
        &self,
        env: &str,
        me: &Holder,
    ) -> Result<(EnvGuard, Option<Holder>), StateError> {
        match &self.inner {
            Inner::Local => {
                let state_dir = self.state_dir(env);
                let (lock, old) = EnvLock::acquire(&state_dir, env, me)?;
                Ok((
                    EnvGuard {
                        inner: GuardInner::Local {
                            _lock: lock,
                            state_dir,
                        },
                    },
                    old,
                ))
            }
            Inner::Postgres(pg) => {
                let (guard, old) = pg.acquire(env, me).await?;
                Ok((
                    EnvGuard {
                        inner: GuardInner::Postgres(Box::new(guard)),
                    },
                    old,
                ))
            }
        }
    }

    /// Every phase's last record of `env`.
    pub async fn read_state(&self, env: &str) -> Result<PipelineState, StateError> {
        match &self.inner {
            Inner::Local => Ok(read_state(&self.state_dir(env))),
            Inner::Postgres(pg) => pg.read_state(env).await,
        }
    }

    /// The runs of `env`, newest first, at most `limit`.
    pub async fn runs(&self, env: &str, limit: usize) -> Result<Vec<RunEntry>, StateError> {
        match &self.inner {
            Inner::Local => Ok(local_reports(&self.state_dir(env))?
                .into_iter()
                .take(limit)
                .map(|report| RunEntry {
                    report,
                    user: None,
                    host: None,
                })
                .collect()),
            Inner::Postgres(pg) => pg.runs(env, limit).await,
        }
    }

    /// Whether `env` is locked, and by whom. PostgreSQL's `Stale` is a holder whose session
    /// ended without releasing: its lock is already gone, only its name is left.
    pub async fn lock_state(&self, env: &str) -> Result<LockState, StateError> {
        match &self.inner {
            Inner::Local => Ok(lock_state(&self.state_dir(env))?),
            Inner::Postgres(pg) => pg.lock_state(env).await,
        }
    }

    /// Removes the lock of `env` on purpose. Local: today's rules (a stale lock is removed, a
    /// live one only with `force`). PostgreSQL: a dead holder's lock is already gone
    /// ([`UnlockOutcome::AlreadyReleased`]); a live holder's session is ended only with
    /// `force` and `yes` ([`StateError::NotConfirmed`] with `force` alone).
    pub async fn unlock(
        &self,
        env: &str,
        opts: UnlockOptions,
    ) -> Result<UnlockOutcome, StateError> {
        match &self.inner {
            Inner::Local => match unlock(&self.state_dir(env), env, opts.force) {
                Ok(Unlocked::NotLocked) => Ok(UnlockOutcome::NotLocked),
                Ok(Unlocked::Removed(h)) => Ok(UnlockOutcome::Removed(h)),
                Err(LockError::Held { env, holder }) => Err(StateError::Held { env, holder }),
                Err(e) => Err(e.into()),
            },
            Inner::Postgres(pg) => pg.unlock(env, opts).await,
        }
    }

    /// `state push`: copies this checkout's local records and run reports of `env` to this
    /// (shared) backend, holding the local lock and the shared one while it does. A local
    /// record is refused when the shared one finished later; identical ones are left alone.
    pub async fn push(&self, env: &str, me: &Holder) -> Result<PushReport, StateError> {
        let Inner::Postgres(pg) = &self.inner else {
            return Err(StateError::NothingToPushTo);
        };
        let state_dir = self.state_dir(env);
        let (_local, _) = EnvLock::acquire(&state_dir, env, me)?;
        let local = read_state(&state_dir);
        let mut reports = local_reports(&state_dir)?;
        reports.reverse();
        pg.push(env, me, &local, &reports).await
    }
}

/// A held environment lock, through which a run records what it did. Dropped without
/// [`EnvGuard::release`], the lock is released all the same (the file lock by the kernel, the
/// advisory lock with its connection); only the holder's name is left behind.
#[derive(Debug)]
pub struct EnvGuard {
    inner: GuardInner,
}

#[derive(Debug)]
enum GuardInner {
    Local { _lock: EnvLock, state_dir: PathBuf },
    Postgres(Box<PgGuard>),
}

impl EnvGuard {
    /// Records `phase`'s result. Call it only once the phase has ended; on PostgreSQL it fails
    /// with [`StateError::ConnectionLost`] when the lock's session is gone.
    pub async fn write_phase(&self, phase: Phase, record: &PhaseRecord) -> Result<(), StateError> {
        match &self.inner {
            GuardInner::Local { state_dir, .. } => {
                let mut state = read_state(state_dir);
                state.phases.insert(phase.name().to_owned(), record.clone());
                write_state(state_dir, &state).map_err(|source| StateError::Io {
                    action: "write",
                    path: state_dir.join("state.json"),
                    source,
                })
            }
            GuardInner::Postgres(pg) => pg.write_phase(phase, record).await,
        }
    }

    /// Records the run's report in the history (local: `.strata/<env>/runs/<id>/report.json`;
    /// PostgreSQL: the `runs` table, with this holder's user and host).
    pub async fn record_run(&self, report: &DeployReport) -> Result<(), StateError> {
        match &self.inner {
            GuardInner::Local { state_dir, .. } => write_local_report(state_dir, report),
            GuardInner::Postgres(pg) => pg.record_run(report).await,
        }
    }

    /// Whether the lock is still held: always locally; on PostgreSQL a round trip on the
    /// lock's session, failing with [`StateError::ConnectionLost`] when it is gone.
    pub async fn check(&self) -> Result<(), StateError> {
        match &self.inner {
            GuardInner::Local { .. } => Ok(()),
            GuardInner::Postgres(pg) => pg.check().await,
        }
    }

    /// Releases the lock and clears the holder's name.
    pub async fn release(self) -> Result<(), StateError> {
        match self.inner {
            GuardInner::Local { .. } => Ok(()),
            GuardInner::Postgres(pg) => pg.release().await,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<StateBackendConfig, StateError> {
        parse_backend_config(Layout::state_backend_rel(), text)
    }

    #[test]
    fn a_committed_connection_string_is_refused_with_its_line() {
        let text = "{\n  \"schemaVersion\": 1,\n  \"backend\": \"postgres\",\n  \"url\": \"postgres://u:hunter2@db/x\"\n}\n";
        let err = parse(text).unwrap_err();
        let StateError::Config { line, ref hint, .. } = err else {
            panic!("{err:?}")
        };
        assert_eq!(line, 4);
        assert!(hint.contains("STRATA_STATE_DATABASE_URL"), "{hint}");
        let shown = format!("{err} {hint}");
        assert!(
            shown.starts_with("config/state-backend.json:4:7: unknown field `url`"),
            "{shown}"
        );
        assert!(!shown.contains("hunter2"), "{shown}");
        assert_eq!(err.kind(), strata_metadata::ErrorKind::Invalid);
    }

    #[test]
    fn bad_versions_and_schema_names_name_their_line() {
        let err =
            parse("{\"schemaVersion\": 1,\n \"backend\": \"postgres\",\n \"schema\": \"Team-A\"}")
                .unwrap_err();
        assert!(matches!(err, StateError::Config { line: 3, .. }), "{err:?}");
        let err = parse("{\n\"schemaVersion\": 2, \"backend\": \"local\"}").unwrap_err();
        assert!(matches!(err, StateError::Config { line: 2, .. }), "{err:?}");
        let err = parse("{\"schemaVersion\": 1, \"backend\": \"etcd\"}").unwrap_err();
        assert!(err.to_string().contains("unknown variant `etcd`"), "{err}");
        let ok = parse("{\"schemaVersion\": 1, \"backend\": \"postgres\", \"schema\": \"team_a\"}")
            .unwrap();
        assert_eq!(ok.schema.as_deref(), Some("team_a"));
    }

    #[test]
    fn no_file_is_the_local_backend_and_postgres_without_a_variable_is_bad_input() {
        let dir = strata_testkit::TempDir::new("backend");
        let layout = Layout::new(dir.path());
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let backend = rt.block_on(StateBackend::open(&layout, |_| None)).unwrap();
        assert_eq!(backend.kind(), StateBackendKind::Local);
        std::fs::create_dir_all(dir.join("config")).unwrap();
        std::fs::write(
            dir.join("config/state-backend.json"),
            r#"{"schemaVersion": 1, "backend": "postgres"}"#,
        )
        .unwrap();
        let err = rt
            .block_on(StateBackend::open(&layout, |_| None))
            .unwrap_err();
        assert!(
            matches!(err, StateError::NoConnectionString { .. }),
            "{err:?}"
        );
        assert_eq!(err.kind(), strata_metadata::ErrorKind::Invalid);
        assert!(err.hint().unwrap().contains("STRATA_STATE_DATABASE_URL"));
    }

    #[test]
    fn an_unreachable_database_fails_naming_only_its_endpoint() {
        let dir = strata_testkit::TempDir::new("backend");
        let layout = Layout::new(dir.path());
        // A port nobody listens on: bound, then released.
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .unwrap()
            .port();
        let url =
            format!("postgres://deploy:hunter2-secret@127.0.0.1:{port}/infra?sslmode=disable");
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let err = rt
            .block_on(async {
                let url = DatabaseUrl::parse(&url, crate::url::DATABASE_URL_VAR)?;
                StateBackend::postgres(&layout, url, DEFAULT_SCHEMA).await
            })
            .unwrap_err();
        assert!(matches!(err, StateError::Unreachable { .. }), "{err:?}");
        assert_eq!(err.kind(), strata_metadata::ErrorKind::Failed);
        let mut shown = format!("{err:?} {}", err.hint().unwrap_or_default());
        let mut cause: Option<&dyn std::error::Error> = Some(&err);
        while let Some(c) = cause {
            shown.push_str(&c.to_string());
            cause = c.source();
        }
        assert!(shown.contains(&format!("127.0.0.1:{port}")), "{shown}");
        assert!(!shown.contains("hunter2"), "{shown}");
    }
}
