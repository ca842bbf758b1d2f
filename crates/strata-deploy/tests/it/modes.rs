//! Dry run, plan and Ctrl-C through the public API, with stand-in tools handed over as the
//! deploy's variables (no process environment is changed).

use std::collections::BTreeMap;
use std::ffi::OsString;

use strata_deploy::{DeployEvent, Interrupt, Mode, Phase, ReportStatus, RunResult};
use strata_metadata::{ErrorKind, PhaseDetail, PhaseStatus, ReleaseStatus};
use strata_pipeline::read_state;
use strata_testkit::TempDir;

use crate::support::{options, run, run_with};

#[test]
fn a_dry_run_of_the_sample_needs_no_tool_and_says_what_each_phase_would_do() {
    let repo = strata_testkit::sample_repo();
    let rec = run(&repo, &options(Mode::DryRun));
    let report = rec.report();
    assert_eq!(report.result, RunResult::DryRun);
    for p in &report.phases {
        let want = if p.phase == Phase::Ansible {
            ReportStatus::NotConfigured
        } else {
            ReportStatus::DryRun
        };
        assert_eq!(p.status, want, "{:?}", p);
    }
    // Typed detail, not text: the images the provisioner would build, the releases shown.
    let detail = |phase| {
        report
            .phases
            .iter()
            .find(|p| p.phase == phase)
            .unwrap()
            .detail
            .clone()
    };
    match detail(Phase::Provision) {
        Some(PhaseDetail::Images { images }) => assert_eq!(images.len(), 2),
        other => panic!("provision: {other:?}"),
    }
    match detail(Phase::Platform) {
        Some(PhaseDetail::Releases { releases }) => {
            assert_eq!(releases.len(), 4);
            assert!(releases.iter().all(|r| r.status == ReleaseStatus::DryRun));
        }
        other => panic!("platform: {other:?}"),
    }
    // Every command is shown, in phase order; nothing was started.
    let shown: Vec<(Phase, &str)> = rec
        .events
        .iter()
        .filter_map(|e| match e {
            DeployEvent::Shown { phase, line } => Some((*phase, line.as_str())),
            _ => None,
        })
        .collect();
    assert!(
        shown
            .iter()
            .any(|(p, l)| *p == Phase::Nodes && l.contains(" apply "))
    );
    assert!(
        shown
            .iter()
            .any(|(p, l)| *p == Phase::Kubespray && l.contains("cluster.yml"))
    );
    assert!(
        shown
            .iter()
            .any(|(p, l)| *p == Phase::Business && l.contains("upgrade --install cluster-apps"))
    );
    assert!(shown.windows(2).all(|w| w[0].0 <= w[1].0), "in phase order");
    // Only the local steps are recorded.
    let state = read_state(&repo.join(".strata/development"));
    assert_eq!(
        state.phases.keys().collect::<Vec<_>>(),
        ["generate", "validate"]
    );
}

/// A helm with no plugins (as a fresh install), which prints its version.
fn bare_helm(dir: &TempDir) -> OsString {
    strata_testkit::script(
        dir.path(),
        "helm",
        "case \"$1\" in version) echo 'v3.16.2' ;; plugin) exit 0 ;; *) exit 1 ;; esac\n",
    )
    .into_os_string()
}

#[test]
fn a_plan_that_cannot_be_made_is_a_failure_never_changes() {
    let repo = strata_testkit::sample_repo();
    let bin = TempDir::new("bin");
    let opts = strata_deploy::DeployOptions {
        only: vec![Phase::Validate, Phase::Generate, Phase::Platform],
        vars: BTreeMap::from([("STRATA_HELM".to_owned(), bare_helm(&bin))]),
        ..options(Mode::Plan)
    };
    let rec = run(&repo, &opts);
    let report = rec.report();
    assert_eq!(report.result, RunResult::Failed);
    assert!(!report.has_changes());
    let platform = report
        .phases
        .iter()
        .find(|p| p.phase == Phase::Platform)
        .unwrap();
    assert_eq!(platform.status, ReportStatus::Failed);
    let failure = rec
        .events
        .iter()
        .find_map(|e| match e {
            DeployEvent::PhaseFinished {
                failure: Some(f), ..
            } => Some(f.clone()),
            _ => None,
        })
        .unwrap();
    assert_eq!(failure.kind, ErrorKind::Failed);
    assert!(failure.message.contains("helm-diff"), "{}", failure.message);
    assert!(
        failure
            .hint
            .is_some_and(|h| h.contains("helm plugin install"))
    );
}

#[test]
fn the_first_ctrl_c_stops_the_running_command_and_the_run_is_interrupted() {
    let repo = strata_testkit::sample_repo();
    let bin = TempDir::new("bin");
    let marks = bin.join("terraform.log");
    // A terraform whose plan takes its time, and which says when SIGINT reaches it.
    let terraform = strata_testkit::script(
        bin.path(),
        "terraform",
        &format!(
            "case \"$1\" in version) echo 'Terraform v1.11.4'; exit 0 ;; esac\n\
             case \"$2\" in plan) ;; *) exit 0 ;; esac\n\
             trap 'echo interrupted >> {log}; exit 130' INT\n\
             echo started >> {log}; echo 'Refreshing state...'\n\
             i=0; while [ $i -lt 400 ]; do sleep 0.05; i=$((i+1)); done\n",
            log = marks.display()
        ),
    );
    let opts = strata_deploy::DeployOptions {
        only: vec![Phase::Validate, Phase::Generate, Phase::Images],
        vars: BTreeMap::from([("STRATA_TERRAFORM".to_owned(), terraform.into_os_string())]),
        ..options(Mode::Deploy)
    };
    let interrupt = Interrupt::new();
    let started = std::time::Instant::now();
    let rec = run_with(&repo, &opts, &interrupt, |event| {
        // Ctrl-C once terraform's plan prints its first line.
        if matches!(
            event,
            DeployEvent::Output {
                phase: Phase::Images,
                ..
            }
        ) {
            interrupt.trigger();
        }
    });
    let report = rec.report();
    assert_eq!(report.result, RunResult::Interrupted, "{report:#?}");
    assert!(started.elapsed().as_secs() < 15, "stopped, not waited out");
    assert!(
        std::fs::read_to_string(&marks)
            .unwrap()
            .contains("interrupted"),
        "terraform got SIGINT"
    );
    let images = report
        .phases
        .iter()
        .find(|p| p.phase == Phase::Images)
        .unwrap();
    assert_eq!(images.status, ReportStatus::Interrupted);
    assert!(
        report
            .phases
            .iter()
            .filter(|p| p.phase > Phase::Images)
            .all(|p| matches!(p.status, ReportStatus::NotRun)),
        "{report:#?}"
    );
    assert_eq!(
        report.resume.as_deref(),
        Some("cargo xtask deploy --env development --from images")
    );
    let state = read_state(&repo.join(".strata/development"));
    assert_eq!(state.phases["images"].status, PhaseStatus::Interrupted);
}

/// The platform gate asks the cluster with kubectl, under a one-minute limit. A Ctrl-C while
/// it waits on a cluster that never answers stops it at once, as it stops any command of the
/// run, and the run is interrupted, not failed a minute later.
#[test]
fn a_ctrl_c_during_a_hung_cluster_gate_stops_it_and_the_run_is_interrupted() {
    let repo = strata_testkit::sample_repo();
    let bin = TempDir::new("bin");
    let kubeconfig = bin.join("admin.conf");
    std::fs::write(&kubeconfig, "apiVersion: v1\nkind: Config\n").unwrap();
    let kubectl = strata_testkit::script(
        bin.path(),
        "kubectl",
        "case \"$*\" in *version*) echo 'Client Version: v1.33.13'; exit 0 ;; esac\n\
         exec sleep 120\n",
    );
    let opts = strata_deploy::DeployOptions {
        only: vec![Phase::Validate, Phase::Generate, Phase::Platform],
        vars: BTreeMap::from([
            ("STRATA_HELM".to_owned(), bare_helm(&bin)),
            ("STRATA_KUBECTL".to_owned(), kubectl.into_os_string()),
            ("KUBECONFIG".to_owned(), kubeconfig.into_os_string()),
        ]),
        ..options(Mode::Deploy)
    };
    let interrupt = Interrupt::new();
    let started = std::time::Instant::now();
    let rec = run_with(&repo, &opts, &interrupt, |event| {
        if matches!(
            event,
            DeployEvent::PhaseStarted {
                phase: Phase::Platform,
                ..
            }
        ) {
            // Once the gate is waiting: a Ctrl-C handler runs on a thread of its own.
            let interrupt = interrupt.clone();
            std::thread::spawn(move || {
                std::thread::sleep(std::time::Duration::from_secs(2));
                interrupt.trigger();
            });
        }
    });
    let report = rec.report();
    assert_eq!(report.result, RunResult::Interrupted, "{report:#?}");
    assert!(
        started.elapsed().as_secs() < 45,
        "stopped, not left to its one-minute limit: {:?}",
        started.elapsed()
    );
    let platform = report
        .phases
        .iter()
        .find(|p| p.phase == Phase::Platform)
        .unwrap();
    assert_eq!(platform.status, ReportStatus::Interrupted);
}
