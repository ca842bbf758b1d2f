//! `deploy_business`: the ArgoCD gate, then the app-of-apps.

use strata_exec::Context;
use strata_helm::{BusinessRequest, HelmError, deploy_business};
use strata_metadata::{ErrorKind, PhaseDetail, ReleaseStatus};

use crate::support::{Behaviour, Setup};

fn request(s: &Setup) -> BusinessRequest {
    BusinessRequest {
        tools: s.tools(),
        ..BusinessRequest::default()
    }
}

#[test]
fn the_gate_tells_missing_refused_and_unreachable_apart() {
    let missing = Setup::new(&Behaviour {
        crd: Some("missing"),
        ..Behaviour::default()
    });
    let err = deploy_business(
        &missing.layout,
        &missing.bundle,
        &request(&missing),
        &Context::default(),
        &mut |_| {},
    )
    .unwrap_err();
    assert!(matches!(err, HelmError::NoArgoCd { .. }), "{err:?}");
    assert_eq!(err.kind(), ErrorKind::Failed);
    assert!(
        err.hint()
            .unwrap()
            .contains("cargo xtask platform deploy --env development"),
        "{:?}",
        err.hint()
    );
    assert!(missing.calls("helm").is_empty());

    let forbidden = Setup::new(&Behaviour {
        crd: Some("forbidden"),
        ..Behaviour::default()
    });
    let err = deploy_business(
        &forbidden.layout,
        &forbidden.bundle,
        &request(&forbidden),
        &Context::default(),
        &mut |_| {},
    )
    .unwrap_err();
    assert!(matches!(err, HelmError::ArgoCdRefused { .. }), "{err:?}");
    assert_eq!(err.kind(), ErrorKind::Failed);
}

#[test]
fn the_app_of_apps_goes_to_argocds_namespace_with_the_bundles_values() {
    let s = Setup::new(&Behaviour::default());
    let logs = s.logs();
    let ctx = Context {
        logs: Some(&logs),
        ..Context::default()
    };
    let mut notes = Vec::new();
    let outcome = deploy_business(&s.layout, &s.bundle, &request(&s), &ctx, &mut |e| {
        if let strata_helm::HelmEvent::Notice(n) = e {
            notes.push(n.message.clone());
        }
    })
    .unwrap();
    assert_eq!(outcome.namespace, "argocd");
    assert_eq!(
        notes,
        [
            "kubeconfig: .strata/development/kubespray/artifacts/admin.conf (from Kubespray artifacts)",
            "gate: ArgoCD's Application CRD is installed",
        ]
    );
    let upgrade = s.calls("helm").pop().unwrap();
    assert!(
        upgrade.starts_with(
            "upgrade --install cluster-apps [ROOT]/business/charts/cluster-apps --namespace argocd --values [ROOT]/api/outputs/development/business.yaml --create-namespace --wait"
        ),
        "{upgrade}"
    );
    assert_eq!(
        outcome.log.as_deref(),
        Some(std::path::Path::new(
            ".strata/development/runs/test/business.log"
        ))
    );
    let PhaseDetail::Releases { releases } = outcome.detail() else {
        panic!()
    };
    assert_eq!(releases.len(), 1);
    assert_eq!(
        (
            releases[0].name.as_str(),
            releases[0].namespace.as_str(),
            releases[0].status
        ),
        ("cluster-apps", "argocd", ReleaseStatus::Deployed)
    );
}
