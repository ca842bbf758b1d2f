//! `deploy_platform`, `diff_platform` and `template_platform`.

use strata_exec::Context;
use strata_helm::{
    DiffRequest, HelmError, PlatformRequest, TemplateRequest, deploy_platform, diff_platform,
    template_platform,
};
use strata_metadata::{ErrorKind, NoticeLevel, PhaseDetail, ReleaseStatus};

use crate::support::{Behaviour, Setup, describe};

fn statuses(detail: PhaseDetail) -> Vec<(String, String, ReleaseStatus)> {
    let PhaseDetail::Releases { releases } = detail else {
        panic!("not releases: {detail:?}");
    };
    releases
        .into_iter()
        .map(|r| (r.name, r.namespace, r.status))
        .collect()
}

fn request(s: &Setup) -> PlatformRequest {
    PlatformRequest {
        jobs: 1,
        tools: s.tools(),
        ..PlatformRequest::default()
    }
}

#[test]
fn deploy_gates_then_deploys_in_needs_order_and_reports_each_release() {
    let s = Setup::new(&Behaviour::default());
    let logs = s.logs();
    let ctx = Context {
        logs: Some(&logs),
        ..Context::default()
    };
    let mut events = Vec::new();
    let outcome = deploy_platform(&s.layout, &s.bundle, &request(&s), &ctx, &mut |e| {
        events.push(describe(&e));
    })
    .unwrap();
    assert_eq!(
        events,
        [
            "notice: kubeconfig: .strata/development/kubespray/artifacts/admin.conf (from Kubespray artifacts)",
            "notice: gate: the cluster answers, 1 node Ready",
            "started: cert-manager",
            "done: cert-manager",
            "started: ingress-nginx",
            "done: ingress-nginx",
            "started: cluster-issuers",
            "done: cluster-issuers",
            "started: argo-cd",
            "done: argo-cd",
        ]
    );
    assert!(!outcome.failed());
    assert_eq!(outcome.error_kind(), None);
    assert_eq!(outcome.notices.len(), 2);
    let upgrades: Vec<String> = s
        .calls("helm")
        .into_iter()
        .filter(|c| c.starts_with("upgrade"))
        .collect();
    assert_eq!(upgrades.len(), 4);
    assert!(
        upgrades.iter().all(|c| c.ends_with(
            "--atomic --kubeconfig [ROOT]/.strata/development/kubespray/artifacts/admin.conf"
        )),
        "{upgrades:?}"
    );
    assert_eq!(outcome.commands.len(), 4, "{:?}", outcome.commands);
    assert_eq!(
        statuses(outcome.detail()),
        [
            (
                "cert-manager".into(),
                "cert-manager".into(),
                ReleaseStatus::Deployed
            ),
            (
                "ingress-nginx".into(),
                "ingress-nginx".into(),
                ReleaseStatus::Deployed
            ),
            (
                "cluster-issuers".into(),
                "cert-manager".into(),
                ReleaseStatus::Deployed
            ),
            ("argo-cd".into(), "argocd".into(), ReleaseStatus::Deployed),
        ]
    );
    // Each release's output went to its log in the run's folder.
    let log = std::fs::read_to_string(logs.join("platform-argo-cd.log")).unwrap();
    assert!(log.contains("Happy Helming!"), "{log}");
}

#[test]
fn a_failed_release_skips_what_needs_it_and_the_outcome_says_so() {
    let s = Setup::new(&Behaviour {
        fail_release: Some("cert-manager"),
        ..Behaviour::default()
    });
    let logs = s.logs();
    let ctx = Context {
        logs: Some(&logs),
        ..Context::default()
    };
    let outcome = deploy_platform(&s.layout, &s.bundle, &request(&s), &ctx, &mut |_| {}).unwrap();
    assert!(outcome.failed());
    assert_eq!(outcome.error_kind(), Some(ErrorKind::Failed));
    assert_eq!(
        statuses(outcome.detail())
            .into_iter()
            .map(|(n, _, st)| (n, st))
            .collect::<Vec<_>>(),
        [
            ("cert-manager".to_owned(), ReleaseStatus::Failed),
            ("ingress-nginx".to_owned(), ReleaseStatus::Deployed),
            ("cluster-issuers".to_owned(), ReleaseStatus::Skipped),
            ("argo-cd".to_owned(), ReleaseStatus::Skipped),
        ]
    );
    let (name, err) = outcome.errors().next().unwrap();
    assert_eq!(name, "cert-manager");
    assert_eq!(err.kind(), ErrorKind::Failed);
    let HelmError::Command { log, source, .. } = err else {
        panic!("{err:?}");
    };
    assert_eq!(
        log.as_deref(),
        Some(std::path::Path::new(
            ".strata/development/runs/test/platform-cert-manager.log"
        ))
    );
    let strata_exec::ExecError::Failed { stderr_tail, .. } = &**source else {
        panic!("{source:?}");
    };
    assert_eq!(
        stderr_tail,
        &["Error: UPGRADE FAILED: context deadline exceeded"]
    );
    let PhaseDetail::Releases { releases } = outcome.detail() else {
        unreachable!()
    };
    assert_eq!(
        releases[2].message.as_deref(),
        Some("needs `cert-manager`, which failed")
    );
}

#[test]
fn the_gate_refuses_a_cluster_with_a_node_not_ready_before_any_release() {
    let s = Setup::new(&Behaviour {
        nodes: Some("dev-cp-1:True dev-worker-1:False"),
        ..Behaviour::default()
    });
    let err = deploy_platform(
        &s.layout,
        &s.bundle,
        &request(&s),
        &Context::default(),
        &mut |_| {},
    )
    .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Failed);
    assert_eq!(err.to_string(), "gate: nodes are not Ready: dev-worker-1");
    assert!(
        err.hint().unwrap().contains("--skip-gate"),
        "{:?}",
        err.hint()
    );
    assert!(s.calls("helm").is_empty(), "nothing was deployed");

    let down = Setup::new(&Behaviour {
        api_down: true,
        ..Behaviour::default()
    });
    let err = deploy_platform(
        &down.layout,
        &down.bundle,
        &request(&down),
        &Context::default(),
        &mut |_| {},
    )
    .unwrap_err();
    assert!(matches!(err, HelmError::GateUnreachable { .. }), "{err:?}");
    let strata_exec::ExecError::Failed { stderr_tail, .. } = err.failed_command().unwrap() else {
        panic!("{err:?}");
    };
    assert!(stderr_tail[0].contains("was refused"), "{stderr_tail:?}");

    // Skipping the gate is a warning, and the releases go ahead.
    let mut skip = request(&down);
    skip.skip_gate = true;
    let outcome = deploy_platform(
        &down.layout,
        &down.bundle,
        &skip,
        &Context::default(),
        &mut |_| {},
    )
    .unwrap();
    assert!(!outcome.failed());
    assert!(
        outcome
            .notices
            .iter()
            .any(|n| n.level == NoticeLevel::Warning
                && n.message == "not checking that the cluster answers (--skip-gate)"),
        "{:?}",
        outcome.notices
    );
}

#[test]
fn a_dry_run_records_every_command_and_touches_no_cluster() {
    let s = Setup::new(&Behaviour {
        helm_version: Some("v4.2.3+g1a2b3c4"),
        ..Behaviour::default()
    });
    let ctx = Context {
        dry_run: true,
        ..Context::default()
    };
    let mut events = Vec::new();
    let outcome = deploy_platform(&s.layout, &s.bundle, &request(&s), &ctx, &mut |e| {
        events.push(describe(&e));
    })
    .unwrap();
    assert!(s.calls("helm").is_empty() && s.calls("kubectl").is_empty());
    assert_eq!(outcome.commands.len(), 4);
    assert!(
        outcome.commands[0].contains(
            "upgrade --install cert-manager cert-manager --repo https://charts.jetstack.io"
        ) && outcome.commands[0].contains("--wait=watcher")
            && outcome.commands[0].contains("--rollback-on-failure"),
        "{}",
        outcome.commands[0]
    );
    assert!(
        events.iter().all(|e| !e.starts_with("started")),
        "{events:?}"
    );
    assert!(
        statuses(outcome.detail())
            .iter()
            .all(|(_, _, st)| *st == ReleaseStatus::DryRun)
    );
}

#[test]
fn diff_needs_its_plugin_and_says_which_releases_would_change() {
    let none = Setup::new(&Behaviour::default());
    let request = |s: &Setup| DiffRequest {
        tools: s.tools(),
        ..DiffRequest::default()
    };
    let err = diff_platform(
        &none.layout,
        &none.bundle,
        &request(&none),
        &Context::default(),
        &mut |_| {},
    )
    .unwrap_err();
    // A plan that cannot be made is a failure, never "changes" nor bad input.
    assert!(
        matches!(err, HelmError::NoDiffPlugin { major: 3 }),
        "{err:?}"
    );
    assert_eq!(err.kind(), ErrorKind::Failed);
    assert_eq!(
        err.hint().as_deref(),
        Some("install it with `helm plugin install https://github.com/databus23/helm-diff`")
    );

    let s = Setup::new(&Behaviour {
        diff_plugin: true,
        changed: Some("argo-cd"),
        ..Behaviour::default()
    });
    let mut events = Vec::new();
    let outcome = diff_platform(
        &s.layout,
        &s.bundle,
        &request(&s),
        &Context::default(),
        &mut |e| {
            events.push(describe(&e));
        },
    )
    .unwrap();
    assert!(outcome.has_changes());
    assert_eq!(outcome.changed(), ["argo-cd"]);
    assert_eq!(
        outcome.releases[3].diff.as_deref(),
        Some("argocd, argocd-server, Deployment (apps) has changed:")
    );
    assert_eq!(events.last().unwrap(), "diffed: argo-cd true");
    assert_eq!(
        statuses(outcome.detail())
            .into_iter()
            .map(|(_, _, st)| st)
            .collect::<Vec<_>>(),
        [
            ReleaseStatus::NoChanges,
            ReleaseStatus::NoChanges,
            ReleaseStatus::NoChanges,
            ReleaseStatus::Changes
        ]
    );
    assert!(
        s.calls("helm")
            .iter()
            .filter(|c| c.starts_with("diff"))
            .all(|c| c.contains("--allow-unreleased --detailed-exitcode --kubeconfig")),
    );
}

#[test]
fn template_renders_every_release_and_a_failure_stops_only_its_own() {
    let s = Setup::new(&Behaviour {
        fail_template: Some("ingress-nginx"),
        ..Behaviour::default()
    });
    let stale = s.repo.join(".strata/development/rendered/argo-cd/old.yaml");
    std::fs::create_dir_all(stale.parent().unwrap()).unwrap();
    std::fs::write(&stale, "kind: Gone\n").unwrap();
    let request = TemplateRequest { tools: s.tools() };
    let outcome = template_platform(
        &s.layout,
        &s.bundle,
        &request,
        &Context::default(),
        &mut |_| {},
    )
    .unwrap();
    assert!(outcome.failed());
    let results: Vec<(&str, bool)> = outcome
        .releases
        .iter()
        .map(|r| (r.name.as_str(), r.result.is_ok()))
        .collect();
    assert_eq!(
        results,
        [
            ("cert-manager", true),
            ("ingress-nginx", false),
            ("cluster-issuers", true),
            ("argo-cd", true)
        ]
    );
    assert!(
        s.root()
            .join(".strata/development/rendered/argo-cd/chart/templates/rendered.yaml")
            .is_file()
    );
    assert!(!stale.exists(), "nothing stale survives");
    assert!(s.calls("kubectl").is_empty(), "no cluster involved");
}
