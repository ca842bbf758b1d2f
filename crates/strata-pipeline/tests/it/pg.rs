//! The PostgreSQL state backend against a real server: two checkouts (two roots, standing
//! for two machines) sharing one database.

use std::collections::BTreeMap;
use std::io::BufRead as _;
use std::path::Path;
use std::time::{Duration, Instant};

use strata_config::Layout;
use strata_metadata::{DeployReport, Phase, PhaseRecord, PhaseStatus, PipelineState, RunResult};
use strata_pipeline::{
    DATABASE_URL_VAR, DatabaseUrl, Holder, LockState, StateBackend, StateError, UnlockOptions,
    UnlockOutcome, local_reports, write_local_report, write_state,
};
use strata_testkit::{Postgres, TempDir};

/// A password trust authentication never asks for: it must appear nowhere Strata writes.
const PASSWORD: &str = "s3cret-pw-4711";

fn url(pg: &Postgres) -> String {
    format!(
        "postgres://postgres:{PASSWORD}@127.0.0.1:{}/postgres?sslmode=disable",
        pg.port
    )
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime")
}

/// A checkout whose committed configuration chooses PostgreSQL.
fn checkout(label: &str) -> TempDir {
    let dir = TempDir::new(label);
    strata_testkit::write(
        dir.path(),
        "config/state-backend.json",
        "{\n  \"schemaVersion\": 1,\n  \"backend\": \"postgres\"\n}\n",
    );
    dir
}

async fn open(root: &Path, url: &str) -> Result<StateBackend, StateError> {
    let url = url.to_owned();
    StateBackend::open(&Layout::new(root), move |k| {
        (k == DATABASE_URL_VAR).then(|| url.clone())
    })
    .await
}

fn holder(who: &str) -> Holder {
    Holder {
        pid: 4242,
        host: format!("{who}-laptop"),
        user: who.to_owned(),
        started_at: "2026-11-25T10:00:00Z".to_owned(),
        command: format!("cargo xtask deploy --env dev # {who}"),
    }
}

fn record(status: PhaseStatus, finished_at: &str, run_id: &str) -> PhaseRecord {
    PhaseRecord {
        status,
        digest: format!("sha256:{run_id}"),
        inputs: BTreeMap::from([
            ("bundle terraform.tfvars".to_owned(), "sha256:aa".to_owned()),
            ("tool terraform".to_owned(), "1.11.4".to_owned()),
        ]),
        // A phase it builds on: stored beside the inputs, read back into `needs`.
        needs: BTreeMap::from([(strata_metadata::Phase::Images, "sha256:images".to_owned())]),
        finished_at: finished_at.to_owned(),
        seconds: 12.5,
        run_id: run_id.to_owned(),
    }
}

fn report(run_id: &str, started_at: &str, result: RunResult) -> DeployReport {
    DeployReport {
        run_id: run_id.to_owned(),
        environment: "dev".to_owned(),
        command: "cargo xtask deploy --env dev".to_owned(),
        started_at: started_at.to_owned(),
        finished_at: started_at.to_owned(),
        result,
        phases: Vec::new(),
        resume: None,
    }
}

/// No file under `root` holds the connection string or its password.
fn assert_no_secret_in(root: &Path) {
    for (path, bytes) in strata_testkit::read_tree(root) {
        let text = String::from_utf8_lossy(&bytes);
        assert!(
            !text.contains(PASSWORD) && !text.contains("postgres://"),
            "`{path}` holds the connection string"
        );
    }
}

#[test]
fn two_checkouts_share_one_lock_their_records_and_the_run_history() {
    let Some(pg) = Postgres::start() else { return };
    // Terraform's pg backend keeps its states here; Strata must leave them alone.
    pg.query(
        "CREATE SCHEMA terraform_remote_state;
         CREATE TABLE terraform_remote_state.states (id bigserial PRIMARY KEY, name text UNIQUE, data text);
         INSERT INTO terraform_remote_state.states (name, data) VALUES ('nodes-dev', '{\"version\": 4}');",
    );
    let (a_dir, b_dir) = (checkout("pg-a"), checkout("pg-b"));
    let url = url(&pg);
    let rt = runtime();
    rt.block_on(async {
        let a = open(a_dir.path(), &url).await.unwrap();
        let b = open(b_dir.path(), &url).await.unwrap();
        assert_eq!(
            a.describe(),
            format!("PostgreSQL at `127.0.0.1:{}`, schema `strata`", pg.port)
        );
        assert!(!format!("{a:?}{b:?}").contains(PASSWORD));

        // While A deploys, B is refused at once and told who holds the lock.
        let (guard_a, before) = a.acquire("dev", &holder("alice")).await.unwrap();
        assert_eq!(before, None);
        let t0 = Instant::now();
        let err = b.acquire("dev", &holder("bob")).await.unwrap_err();
        assert!(t0.elapsed() < Duration::from_secs(2), "refused at once");
        assert_eq!(err.kind(), strata_metadata::ErrorKind::Locked);
        let StateError::Held {
            holder: Some(h), ..
        } = &err
        else {
            panic!("{err:?}")
        };
        assert_eq!(**h, holder("alice"));
        assert!(
            err.to_string()
                .contains("locked by pid 4242 on alice-laptop by alice"),
            "{err}"
        );
        assert_eq!(
            b.lock_state("dev").await.unwrap(),
            LockState::Held(Some(holder("alice")))
        );
        // Another environment is another lock.
        let (other, _) = b.acquire("prod", &holder("bob")).await.unwrap();
        other.release().await.unwrap();

        // What A records, B reads.
        let validate = record(PhaseStatus::Succeeded, "2026-11-25T10:00:05Z", "run-a");
        let nodes = record(PhaseStatus::Succeeded, "2026-11-25T10:09:00Z", "run-a");
        guard_a
            .write_phase(Phase::Validate, &validate)
            .await
            .unwrap();
        guard_a.write_phase(Phase::Nodes, &nodes).await.unwrap();
        guard_a
            .record_run(&report(
                "run-a",
                "2026-11-25T10:00:00Z",
                RunResult::Succeeded,
            ))
            .await
            .unwrap();
        guard_a.release().await.unwrap();
        let seen = b.read_state("dev").await.unwrap();
        assert_eq!(
            seen,
            PipelineState {
                phases: BTreeMap::from([
                    ("nodes".to_owned(), nodes.clone()),
                    ("validate".to_owned(), validate.clone()),
                ])
            }
        );
        assert_eq!(b.lock_state("dev").await.unwrap(), LockState::Free);

        // After A, B deploys: a record rewritten, and its run in the history.
        let (guard_b, before) = b.acquire("dev", &holder("bob")).await.unwrap();
        assert_eq!(before, None, "A released cleanly: no holder left behind");
        let failed = record(PhaseStatus::Failed, "2026-11-25T11:00:09Z", "run-b");
        guard_b.write_phase(Phase::Nodes, &failed).await.unwrap();
        guard_b
            .record_run(&report("run-b", "2026-11-25T11:00:00Z", RunResult::Failed))
            .await
            .unwrap();
        guard_b.release().await.unwrap();
        assert_eq!(a.read_state("dev").await.unwrap().phases["nodes"], failed);

        // Both runs, newest first, with who ran them and from where.
        let runs = a.runs("dev", 10).await.unwrap();
        let listed: Vec<_> = runs
            .iter()
            .map(|r| {
                (
                    r.report.run_id.as_str(),
                    r.report.result,
                    r.user.as_deref(),
                    r.host.as_deref(),
                )
            })
            .collect();
        assert_eq!(
            listed,
            [
                ("run-b", RunResult::Failed, Some("bob"), Some("bob-laptop")),
                (
                    "run-a",
                    RunResult::Succeeded,
                    Some("alice"),
                    Some("alice-laptop")
                ),
            ]
        );
        assert_eq!(
            runs[1].report,
            report("run-a", "2026-11-25T10:00:00Z", RunResult::Succeeded)
        );
        assert_eq!(b.runs("dev", 1).await.unwrap().len(), 1);
        assert!(b.runs("prod", 10).await.unwrap().is_empty());

        // Opening again migrates nothing.
        drop(open(b_dir.path(), &url).await.unwrap());
    });
    assert_eq!(
        pg.query("SELECT version FROM strata.schema_version").trim(),
        "1"
    );
    assert_eq!(
        pg.query(
            "SELECT table_schema || '.' || table_name FROM information_schema.tables
             WHERE table_schema NOT IN ('pg_catalog', 'information_schema') ORDER BY 1"
        )
        .lines()
        .collect::<Vec<_>>(),
        [
            "strata.lock_holders",
            "strata.phase_records",
            "strata.runs",
            "strata.schema_version",
            "terraform_remote_state.states",
        ]
    );
    assert_eq!(
        pg.query("SELECT name, data FROM terraform_remote_state.states")
            .trim(),
        "nodes-dev|{\"version\": 4}"
    );
    assert_no_secret_in(a_dir.path());
    assert_no_secret_in(b_dir.path());
}

#[test]
fn two_first_runs_at_once_migrate_once() {
    let Some(pg) = Postgres::start() else { return };
    let url = url(&pg);
    let layout = Layout::new(TempDir::new("pg-race").path());
    runtime().block_on(async {
        let first_run = || {
            let (layout, url) = (
                layout.clone(),
                DatabaseUrl::parse(&url, DATABASE_URL_VAR).unwrap(),
            );
            tokio::spawn(async move { StateBackend::postgres(&layout, url, "race").await })
        };
        let (one, two) = (first_run(), first_run());
        one.await.unwrap().unwrap();
        two.await.unwrap().unwrap();
    });
    assert_eq!(
        pg.query("SELECT count(*) FROM race.schema_version").trim(),
        "1"
    );
}

const CHILD_URL: &str = "STRATA_TEST_PG_CHILD_URL";
const CHILD_ROOT: &str = "STRATA_TEST_PG_CHILD_ROOT";
const CHILD_READY: &str = "strata-test: lock held, validate recorded";

/// The child's side of the SIGKILL test: a deploy that takes the lock, records `validate`,
/// starts `nodes` and never finishes it.
#[expect(
    clippy::print_stdout,
    reason = "the child tells its parent, on stdout, that it holds the lock"
)]
fn hold_the_lock_until_killed(url: &str, root: &Path) -> ! {
    runtime().block_on(async {
        let backend = open(root, url).await.unwrap();
        let me = Holder::me("cargo xtask deploy --env dev", "2026-11-25T10:00:00Z");
        let (guard, _) = backend.acquire("dev", &me).await.unwrap();
        guard
            .write_phase(
                Phase::Validate,
                &record(PhaseStatus::Succeeded, "2026-11-25T10:00:05Z", "run-killed"),
            )
            .await
            .unwrap();
        println!("{CHILD_READY}");
        std::future::pending::<()>().await;
    });
    unreachable!("the child waits to be killed")
}

#[test]
fn a_deploy_killed_mid_phase_leaves_no_lock_and_its_phase_runs_again() {
    if let (Ok(url), Ok(root)) = (std::env::var(CHILD_URL), std::env::var(CHILD_ROOT)) {
        hold_the_lock_until_killed(&url, Path::new(&root));
    }
    let Some(pg) = Postgres::start() else { return };
    let (a_dir, b_dir) = (checkout("pg-a"), checkout("pg-b"));
    let url = url(&pg);
    // Checkout A's deploy is another process, so that SIGKILL ends it as it would a real one.
    #[expect(
        clippy::disallowed_methods,
        reason = "test: a process of our own to kill with SIGKILL"
    )]
    let mut child = std::process::Command::new(std::env::current_exe().unwrap())
        .args([
            "pg::a_deploy_killed_mid_phase_leaves_no_lock_and_its_phase_runs_again",
            "--exact",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CHILD_URL, &url)
        .env(CHILD_ROOT, a_dir.path())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let (ready_tx, ready) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in std::io::BufReader::new(stdout)
            .lines()
            .map_while(Result::ok)
        {
            // libtest prints `test <name> ... ` before the test's own output, on the same line.
            if line.ends_with(CHILD_READY) {
                let _ = ready_tx.send(());
            }
        }
    });
    let child_ready = ready.recv_timeout(Duration::from_secs(60));
    let rt = runtime();
    let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        child_ready.expect("the child took the lock");
        rt.block_on(async {
            let b = open(b_dir.path(), &url).await.unwrap();
            let err = b.acquire("dev", &holder("bob")).await.unwrap_err();
            let StateError::Held {
                holder: Some(h), ..
            } = &err
            else {
                panic!("{err:?}")
            };
            assert_eq!(h.pid, child.id(), "the child is named");

            child.kill().unwrap(); // SIGKILL: no destructor, no goodbye to the server
            child.wait().unwrap();
            // The server notices the closed socket and ends the session: the lock goes with
            // it, without anyone taking it over.
            let t0 = Instant::now();
            let (guard, before) = loop {
                match b.acquire("dev", &holder("bob")).await {
                    Ok(taken) => break taken,
                    Err(StateError::Held { .. }) if t0.elapsed() < Duration::from_secs(5) => {
                        tokio::time::sleep(Duration::from_millis(50)).await;
                    }
                    Err(e) => panic!("not released after SIGKILL: {e}"),
                }
            };
            assert_eq!(
                before.map(|h| h.pid),
                Some(child.id()),
                "the crashed holder is named"
            );
            // Validate finished; nodes did not, so nothing says it did: it runs again.
            let state = b.read_state("dev").await.unwrap();
            assert_eq!(state.phases.keys().collect::<Vec<_>>(), ["validate"]);
            guard.release().await.unwrap();
        });
    }));
    let _ = child.kill();
    let _ = child.wait();
    if let Err(panic) = outcome {
        std::panic::resume_unwind(panic);
    }
    assert_no_secret_in(a_dir.path());
}

#[test]
fn a_lost_connection_fails_every_later_write_and_frees_the_lock() {
    let Some(pg) = Postgres::start() else { return };
    let (a_dir, b_dir) = (checkout("pg-a"), checkout("pg-b"));
    let url = url(&pg);
    runtime().block_on(async {
        let a = open(a_dir.path(), &url).await.unwrap();
        let b = open(b_dir.path(), &url).await.unwrap();
        let (guard, _) = a.acquire("dev", &holder("alice")).await.unwrap();
        guard
            .write_phase(
                Phase::Validate,
                &record(PhaseStatus::Succeeded, "2026-11-25T10:00:05Z", "run-a"),
            )
            .await
            .unwrap();
        guard.check().await.unwrap();
        // The network drops A's lock session (as a failover or a firewall would).
        pg.query(
            "SELECT pg_terminate_backend(backend_pid) FROM strata.lock_holders WHERE env = 'dev'",
        );
        let err = guard.check().await.unwrap_err();
        assert!(matches!(err, StateError::ConnectionLost { .. }), "{err:?}");
        assert_eq!(err.kind(), strata_metadata::ErrorKind::Failed);
        // The phase that was running finished after the loss: it is not recorded.
        let err = guard
            .write_phase(
                Phase::Images,
                &record(PhaseStatus::Succeeded, "2026-11-25T10:05:00Z", "run-a"),
            )
            .await
            .unwrap_err();
        assert!(matches!(err, StateError::ConnectionLost { .. }), "{err:?}");
        assert!(err.hint().unwrap().contains("recorded as failed"));
        assert!(!format!("{err:?}").contains(PASSWORD));
        // B deploys at once, and images is not skipped.
        let (next, before) = b.acquire("dev", &holder("bob")).await.unwrap();
        assert_eq!(before, Some(holder("alice")));
        assert!(
            !b.read_state("dev")
                .await
                .unwrap()
                .phases
                .contains_key("images")
        );
        next.release().await.unwrap();
    });
}

#[test]
fn unlock_explains_a_dead_holder_and_ends_a_live_one_only_when_confirmed() {
    let Some(pg) = Postgres::start() else { return };
    let (a_dir, b_dir) = (checkout("pg-a"), checkout("pg-b"));
    let url = url(&pg);
    runtime().block_on(async {
        let a = open(a_dir.path(), &url).await.unwrap();
        let b = open(b_dir.path(), &url).await.unwrap();
        assert_eq!(
            b.unlock("dev", UnlockOptions::default()).await.unwrap(),
            UnlockOutcome::NotLocked
        );
        let (guard, _) = a.acquire("dev", &holder("alice")).await.unwrap();
        let err = b.unlock("dev", UnlockOptions::default()).await.unwrap_err();
        assert_eq!(err.kind(), strata_metadata::ErrorKind::Locked, "{err}");
        let force = UnlockOptions {
            force: true,
            yes: false,
        };
        let err = b.unlock("dev", force).await.unwrap_err();
        assert!(matches!(err, StateError::NotConfirmed { .. }), "{err:?}");
        assert!(err.hint().unwrap().contains("--force --yes"));
        guard.check().await.unwrap();
        let ended = b
            .unlock(
                "dev",
                UnlockOptions {
                    force: true,
                    yes: true,
                },
            )
            .await
            .unwrap();
        assert_eq!(ended, UnlockOutcome::Ended(Some(holder("alice"))));
        assert!(matches!(
            guard.check().await,
            Err(StateError::ConnectionLost { .. })
        ));
        assert_eq!(b.lock_state("dev").await.unwrap(), LockState::Free);

        // A holder that dies without releasing leaves its name, not its lock.
        let (crashed, _) = a.acquire("dev", &holder("carol")).await.unwrap();
        drop(crashed);
        let t0 = Instant::now();
        while b.lock_state("dev").await.unwrap() != LockState::Stale(Some(holder("carol"))) {
            assert!(t0.elapsed() < Duration::from_secs(5), "the session ended");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        assert_eq!(
            b.unlock("dev", UnlockOptions::default()).await.unwrap(),
            UnlockOutcome::AlreadyReleased(Some(holder("carol")))
        );
        assert_eq!(b.lock_state("dev").await.unwrap(), LockState::Free);
    });
}

#[test]
fn push_copies_local_records_and_never_overwrites_newer_shared_ones() {
    let Some(pg) = Postgres::start() else { return };
    let (a_dir, b_dir) = (checkout("pg-a"), checkout("pg-b"));
    let url = url(&pg);
    // Checkout A deployed with the local backend before the team switched.
    let state_dir = Layout::new(a_dir.path()).state_dir("dev");
    let local_validate = record(PhaseStatus::Succeeded, "2026-11-25T09:00:05Z", "run-local");
    let local_nodes = record(PhaseStatus::Succeeded, "2026-11-25T09:10:00Z", "run-local");
    write_state(
        &state_dir,
        &PipelineState {
            phases: BTreeMap::from([
                ("validate".to_owned(), local_validate.clone()),
                ("nodes".to_owned(), local_nodes.clone()),
            ]),
        },
    )
    .unwrap();
    let local_run = report("run-local", "2026-11-25T09:00:00Z", RunResult::Succeeded);
    write_local_report(&state_dir, &local_run).unwrap();
    assert_eq!(
        local_reports(&state_dir).unwrap(),
        std::slice::from_ref(&local_run)
    );
    runtime().block_on(async {
        let a = open(a_dir.path(), &url).await.unwrap();
        let b = open(b_dir.path(), &url).await.unwrap();
        // Meanwhile B deployed nodes against the shared backend, later.
        let shared_nodes = record(PhaseStatus::Succeeded, "2026-11-25T11:00:00Z", "run-b");
        let (guard, _) = b.acquire("dev", &holder("bob")).await.unwrap();
        guard
            .write_phase(Phase::Nodes, &shared_nodes)
            .await
            .unwrap();
        guard.release().await.unwrap();

        let pushed = a.push("dev", &holder("alice")).await.unwrap();
        assert_eq!(pushed.copied, [Phase::Validate]);
        assert_eq!(pushed.unchanged, []);
        assert_eq!(pushed.refused.len(), 1);
        assert_eq!(pushed.refused[0].phase, Phase::Nodes);
        assert_eq!(pushed.refused[0].remote_finished_at, "2026-11-25T11:00:00Z");
        assert_eq!((pushed.runs_copied, pushed.runs_present), (1, 0));
        let shared = b.read_state("dev").await.unwrap();
        assert_eq!(shared.phases["validate"], local_validate);
        assert_eq!(
            shared.phases["nodes"], shared_nodes,
            "the newer one is kept"
        );
        let runs = b.runs("dev", 10).await.unwrap();
        assert_eq!(runs.len(), 1);
        assert_eq!(
            (runs[0].report.clone(), runs[0].user.clone()),
            (local_run.clone(), None)
        );

        // Pushing again changes nothing.
        let again = a.push("dev", &holder("alice")).await.unwrap();
        assert_eq!(again.copied, []);
        assert_eq!(again.unchanged, [Phase::Validate]);
        assert_eq!((again.runs_copied, again.runs_present), (0, 1));

        // Refused while someone deploys.
        let (busy, _) = b.acquire("dev", &holder("bob")).await.unwrap();
        let err = a.push("dev", &holder("alice")).await.unwrap_err();
        assert_eq!(err.kind(), strata_metadata::ErrorKind::Locked, "{err}");
        busy.release().await.unwrap();

        // With the local backend there is nowhere to push to.
        let local = StateBackend::local(&Layout::new(a_dir.path()));
        let err = local.push("dev", &holder("alice")).await.unwrap_err();
        assert!(matches!(err, StateError::NothingToPushTo), "{err:?}");
    });
    assert_no_secret_in(a_dir.path());
}
