//! `cargo xtask runs` and `state push`: the run history and moving local state to the shared
//! backend, through the backend `config/state-backend.json` chooses.

use std::path::Path;

use strata_metadata::output::{PushOutput, PushReport, RunsOutput};
use strata_metadata::{Phase, ReportStatus, RunResult, StateBackendKind};

use crate::support::{command, document, snapshot_filters, write, xtask, xtask_env};

const PASSWORD: &str = "s3cret-pw-0815";

/// A report as `deploy` writes it into `.strata/<env>/runs/<run-id>/report.json`.
fn write_report(root: &Path, run_id: &str, started_at: &str, result: &str, nodes: &str) {
    let report = serde_json::json!({
        "runId": run_id,
        "environment": "development",
        "command": "cargo xtask deploy --env development",
        "startedAt": started_at,
        "finishedAt": started_at,
        "result": result,
        "phases": [
            {"phase": "validate", "status": "up to date", "seconds": 0.0},
            {"phase": "nodes", "status": nodes, "startedAt": started_at, "seconds": 42.25},
            {"phase": "kubespray", "status": "not run", "seconds": 0.0},
        ],
    });
    write(
        root,
        &format!(".strata/development/runs/{run_id}/report.json"),
        serde_json::to_string_pretty(&report).unwrap(),
    );
}

fn choose_postgres(root: &Path) {
    write(
        root,
        "config/state-backend.json",
        "{\n  \"schemaVersion\": 1,\n  \"backend\": \"postgres\"\n}\n",
    );
}

#[test]
fn runs_lists_the_local_history_newest_first() {
    let repo = strata_testkit::sample_repo();
    let root = repo.path();
    let empty = xtask(root, &["runs", "--env", "development"]);
    assert_eq!(empty.code, 0, "{}", empty.stderr);
    assert_eq!(empty.stdout, "no runs of `development` recorded\n");
    write_report(
        root,
        "20261125T100000Z-11",
        "2026-11-25T10:00:00Z",
        "failed",
        "failed",
    );
    write_report(
        root,
        "20261126T080000Z-12",
        "2026-11-26T08:00:00Z",
        "succeeded",
        "succeeded",
    );
    let args = ["runs", "--env", "development"];
    let _filters = snapshot_filters(root);
    insta_cmd::assert_cmd_snapshot!("runs_local", command(root, &args));

    let one = xtask(
        root,
        &[
            "runs",
            "--env",
            "development",
            "--limit",
            "1",
            "--output",
            "json",
        ],
    );
    assert_eq!(one.code, 0, "{}", one.stderr);
    let doc: RunsOutput = document(&one);
    assert_eq!(doc.backend, StateBackendKind::Local);
    assert_eq!(doc.runs.len(), 1);
    assert_eq!(doc.runs[0].run_id, "20261126T080000Z-12");
    assert_eq!(doc.runs[0].result, RunResult::Succeeded);
    assert_eq!(doc.runs[0].phases[1].seconds, 42.25);
}

#[test]
fn state_push_needs_a_shared_backend() {
    let repo = strata_testkit::sample_repo();
    let run = xtask(repo.path(), &["state", "push", "--env", "development"]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr
            .contains("the state backend of this repository is `local`")
            && run.stderr.contains("config/state-backend.json"),
        "{}",
        run.stderr
    );
}

#[test]
fn a_bad_backend_configuration_is_bad_input_naming_file_and_line() {
    let repo = strata_testkit::sample_repo();
    let root = repo.path();
    write(
        root,
        "config/state-backend.json",
        format!(
            "{{\n  \"schemaVersion\": 1,\n  \"backend\": \"postgres\",\n  \"url\": \"postgres://deploy:{PASSWORD}@db/infra\"\n}}\n"
        ),
    );
    let args = ["runs", "--env", "development"];
    let run = xtask(root, &args);
    insta::assert_snapshot!("state_backend_bad_config", run.render(&args, root));
    assert!(!run.stderr.contains(PASSWORD));

    choose_postgres(root);
    let run = xtask(root, &args);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr
            .contains("neither STRATA_STATE_DATABASE_URL nor PG_CONN_STR is set"),
        "{}",
        run.stderr
    );
}

#[test]
fn an_unreachable_state_database_fails_naming_its_host_and_port_only() {
    let repo = strata_testkit::sample_repo();
    let root = repo.path();
    choose_postgres(root);
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .unwrap()
        .port();
    let url = format!("postgres://deploy:{PASSWORD}@127.0.0.1:{port}/infra?sslmode=disable");
    for args in [
        &["runs", "--env", "development"][..],
        &["state", "push", "--env", "development"],
        &["deploy", "--env", "development", "--dry-run"],
        &["status", "--env", "development"],
        &["unlock", "--env", "development"],
    ] {
        let run = xtask_env(root, args, &[("STRATA_STATE_DATABASE_URL", &url)]);
        assert_eq!(run.code, 1, "{args:?}: {}", run.stderr);
        // Before any phase ran: nothing was validated, generated or logged.
        assert!(!run.stderr.contains("[validate]"), "{}", run.stderr);
        assert!(!root.join("api/outputs/development").exists());
        assert!(
            run.stderr.contains(&format!(
                "error: could not connect to the state database at `127.0.0.1:{port}`"
            )),
            "{}",
            run.stderr
        );
        assert!(!run.stderr.contains(PASSWORD), "{}", run.stderr);
        assert!(!run.stderr.contains("postgres://"), "{}", run.stderr);
    }
    // TLS asked for: the connection is still tried (and fails as any other), the password
    // still unshown.
    let tls_url = format!("postgres://deploy:{PASSWORD}@127.0.0.1:{port}/infra?sslmode=require");
    let tls = xtask_env(
        root,
        &["runs", "--env", "development"],
        &[("PG_CONN_STR", &tls_url)],
    );
    assert_eq!(tls.code, 1, "{}", tls.stderr);
    assert!(
        tls.stderr.contains(&format!(
            "error: could not connect to the state database at `127.0.0.1:{port}`"
        )),
        "{}",
        tls.stderr
    );
    assert!(!tls.stderr.contains(PASSWORD), "{}", tls.stderr);
    // A CA file that is not there is bad input: refused before connecting, with a hint.
    let missing = root.join("no-such-ca.pem");
    let bad_ca = format!(
        "postgres://deploy:{PASSWORD}@db.internal/infra?sslmode=verify-full&sslrootcert={}",
        missing.display()
    );
    let tls = xtask_env(
        root,
        &["runs", "--env", "development"],
        &[("PG_CONN_STR", &bad_ca)],
    );
    assert_eq!(tls.code, 2, "{}", tls.stderr);
    assert!(tls.stderr.contains("`db.internal:5432`"), "{}", tls.stderr);
    assert!(
        tls.stderr
            .contains(&format!("`sslrootcert={}`", missing.display())),
        "{}",
        tls.stderr
    );
    assert!(
        tls.stderr.contains("hint: set `sslrootcert=<file>`"),
        "{}",
        tls.stderr
    );
    assert!(!tls.stderr.contains(PASSWORD), "{}", tls.stderr);
}

#[test]
fn a_pushed_history_is_listed_from_another_checkout() {
    let Some(pg) = strata_testkit::Postgres::start() else {
        return;
    };
    let url = format!(
        "postgres://postgres:{PASSWORD}@127.0.0.1:{}/postgres?sslmode=disable",
        pg.port
    );
    let env = [("STRATA_STATE_DATABASE_URL", url.as_str())];
    let (a, b) = (strata_testkit::sample_repo(), strata_testkit::sample_repo());
    write_report(
        a.path(),
        "20261125T100000Z-11",
        "2026-11-25T10:00:00Z",
        "succeeded",
        "succeeded",
    );
    write(
        a.path(),
        ".strata/development/state.json",
        r#"{"phases": {"nodes": {"status": "succeeded", "digest": "sha256:n", "inputs": {}, "finishedAt": "2026-11-25T10:00:42Z", "seconds": 42.25, "runId": "20261125T100000Z-11"}}}"#,
    );
    choose_postgres(a.path());
    choose_postgres(b.path());
    let push = xtask_env(a.path(), &["state", "push", "--env", "development"], &env);
    assert_eq!(push.code, 0, "{}", push.stderr);
    assert_eq!(
        push.stdout,
        format!(
            "pushed the state of `development` to PostgreSQL at `127.0.0.1:{}`, schema `strata`\n  copied:    nodes\n  unchanged: none\n  runs:      1 copied, 0 already there\n",
            pg.port
        )
    );
    let runs = xtask_env(
        b.path(),
        &["runs", "--env", "development", "--output", "json"],
        &env,
    );
    assert_eq!(runs.code, 0, "{}", runs.stderr);
    let doc: RunsOutput = document(&runs);
    assert_eq!(doc.backend, StateBackendKind::Postgres);
    assert_eq!(doc.runs[0].run_id, "20261125T100000Z-11");
    assert_eq!(doc.runs[0].phases[1].status, ReportStatus::Succeeded);
    // Pushed again, everything is already there.
    let again = xtask_env(
        a.path(),
        &["state", "push", "--env", "development", "--output", "json"],
        &env,
    );
    assert_eq!(again.code, 0, "{}", again.stderr);
    let pushed: PushOutput = document(&again);
    assert_eq!(
        pushed.pushed,
        PushReport {
            copied: vec![],
            unchanged: vec![Phase::Nodes],
            refused: vec![],
            runs_copied: 0,
            runs_present: 1,
        }
    );
    for root in [a.path(), b.path()] {
        for (path, bytes) in strata_testkit::read_tree(root) {
            assert!(
                !String::from_utf8_lossy(&bytes).contains(PASSWORD),
                "`{path}` holds the connection string"
            );
        }
    }
}
