//! Selection, the skip decision, records, failure and resume, the lock.

use strata_deploy::{DeployError, DeployEvent, Mode, Phase, ReportStatus, RunResult, SkipReason};
use strata_metadata::{PhaseDetail, PhaseStatus};
use strata_pipeline::{EnvLock, Holder, read_state};

use crate::support::{options, run};

fn only(phases: &[Phase]) -> strata_deploy::DeployOptions {
    strata_deploy::DeployOptions {
        only: phases.to_vec(),
        ..options(Mode::Deploy)
    }
}

#[test]
fn an_unchanged_phase_is_skipped_with_the_inputs_it_compared() {
    let repo = strata_testkit::sample_repo();
    let opts = only(&[Phase::Validate, Phase::Generate]);
    let first = run(&repo, &opts);
    let report = first.report();
    assert_eq!(report.result, RunResult::Succeeded);
    let status = |r: &strata_deploy::DeployReport, p: Phase| {
        r.phases.iter().find(|x| x.phase == p).unwrap().status
    };
    assert_eq!(status(report, Phase::Validate), ReportStatus::Succeeded);
    assert_eq!(status(report, Phase::Generate), ReportStatus::Succeeded);
    assert_eq!(status(report, Phase::Provision), ReportStatus::NotSelected);
    let generate = report
        .phases
        .iter()
        .find(|p| p.phase == Phase::Generate)
        .unwrap();
    assert_eq!(
        generate.detail,
        Some(PhaseDetail::Generate {
            bundle: "generated".to_owned()
        })
    );
    // The report on disk is the one returned.
    let on_disk: strata_deploy::DeployReport = serde_json::from_str(
        &std::fs::read_to_string(
            repo.join(".strata/development/runs")
                .join(&report.run_id)
                .join("report.json"),
        )
        .unwrap(),
    )
    .unwrap();
    assert_eq!(&on_disk, report);

    let second = run(&repo, &opts);
    assert_eq!(second.report().result, RunResult::Succeeded);
    let skipped: Vec<(Phase, usize)> = second
        .events
        .iter()
        .filter_map(|e| match e {
            DeployEvent::Skipped {
                phase,
                reason: SkipReason::UpToDate { inputs },
            } => Some((*phase, *inputs)),
            _ => None,
        })
        .collect();
    assert_eq!(skipped.len(), 2, "{:?}", second.events);
    assert!(skipped.iter().all(|(_, n)| *n > 0));
    assert!(
        !second
            .events
            .iter()
            .any(|e| matches!(e, DeployEvent::PhaseStarted { .. })),
        "nothing runs the second time"
    );
}

#[test]
fn a_failed_phase_stops_the_run_and_is_where_it_resumes() {
    let repo = strata_testkit::sample_repo();
    std::fs::write(
        repo.join("config/packages/core/package.json"),
        "{ \"id\": \"core\",\n  \"version\": 1.0.0 }\n",
    )
    .unwrap();
    let rec = run(&repo, &options(Mode::Deploy));
    let report = rec.report();
    assert_eq!(report.result, RunResult::Failed);
    assert_eq!(
        report.resume.as_deref(),
        Some("cargo xtask deploy --env development --from validate")
    );
    assert_eq!(report.phases[0].status, ReportStatus::Failed);
    assert!(
        report.phases[1..]
            .iter()
            .all(|p| p.status == ReportStatus::NotRun)
    );
    // The problem itself came as a diagnostic naming the file and line.
    let diagnostic = rec
        .events
        .iter()
        .find_map(|e| match e {
            DeployEvent::Diagnostic { diagnostic, .. } => Some(diagnostic.clone()),
            _ => None,
        })
        .expect("a diagnostic");
    assert!(
        diagnostic
            .path
            .ends_with("config/packages/core/package.json")
    );
    assert_eq!(diagnostic.line, 2);
    let failure = rec
        .events
        .iter()
        .find_map(|e| match e {
            DeployEvent::PhaseFinished {
                failure: Some(f), ..
            } => Some(f.clone()),
            _ => None,
        })
        .expect("the failure");
    assert_eq!(failure.kind, strata_metadata::ErrorKind::Invalid);
    let state = read_state(&repo.join(".strata/development"));
    assert_eq!(state.phases["validate"].status, PhaseStatus::Failed);
    assert!(!state.phases.contains_key("generate"));
}

#[test]
fn a_second_run_is_refused_and_told_who_holds_the_environment() {
    let repo = strata_testkit::sample_repo();
    let holder = Holder::me(
        "cargo xtask deploy --env development",
        "2026-12-01T10:00:00Z",
    );
    let (_held, _) =
        EnvLock::acquire(&repo.join(".strata/development"), "development", &holder).unwrap();
    let rec = run(&repo, &options(Mode::Deploy));
    match &rec.result {
        Err(
            e @ DeployError::Locked {
                holder: Some(h), ..
            },
        ) => {
            assert_eq!(h.command, "cargo xtask deploy --env development");
            assert_eq!(e.kind(), strata_metadata::ErrorKind::Locked);
        }
        other => panic!("expected a lock refusal, got {other:?}"),
    }
    assert!(rec.events.is_empty(), "nothing ran: {:?}", rec.events);
}
