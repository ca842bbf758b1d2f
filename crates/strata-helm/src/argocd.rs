//! Where ArgoCD is and whether it is there: the namespace of the platform's `argo-cd` release,
//! and the gate of the business layer (its `Application` CRD is in the cluster).

use std::path::Path;

use strata_exec::{Command, ExecError, Interrupt, RunOptions};
use strata_metadata::PlatformConfig;

use crate::HelmError;

/// The chart name of ArgoCD's own Helm chart (argo-helm's `argo-cd`).
pub const ARGOCD_CHART: &str = "argo-cd";

/// Where ArgoCD runs when the platform installs no `argo-cd` chart (its documented default).
pub const DEFAULT_ARGOCD_NAMESPACE: &str = "argocd";

/// The namespace ArgoCD runs in: that of the first platform release whose chart is `argo-cd`
/// (`argo/argo-cd`, `oci://…/argo-cd`), else `argocd`. ArgoCD reads Applications and
/// AppProjects only from its own namespace, so the app-of-apps must go there.
pub fn argocd_namespace(platform: &PlatformConfig) -> &str {
    platform
        .releases
        .iter()
        .find(|r| r.chart.trim_end_matches('/').rsplit('/').next() == Some(ARGOCD_CHART))
        .map_or(DEFAULT_ARGOCD_NAMESPACE, |r| r.namespace.as_str())
}

/// `kubectl get crd applications.argoproj.io -o name --ignore-not-found`: prints the name when
/// the CRD is there and nothing (exit 0) when the API server says NotFound, so "not installed"
/// never has to be read out of an error message.
pub fn argocd_crd_query(kubectl: &Path, kubeconfig: &Path, cwd: &Path) -> Command {
    Command::new(kubectl, cwd)
        .arg("--kubeconfig")
        .arg(kubeconfig)
        .args([
            "--request-timeout=10s",
            "get",
            "crd",
            "applications.argoproj.io",
            "-o",
            "name",
            "--ignore-not-found",
        ])
}

/// Checks that ArgoCD's `Application` CRD is in the cluster, telling apart "not there"
/// ([`HelmError::NoArgoCd`]), "not allowed to look" ([`HelmError::ArgoCdRefused`]: kubectl's
/// `Error from server (Forbidden)` or `(Unauthorized)`) and "could not ask"
/// ([`HelmError::ClusterUnreachable`]). `interrupt`, the run's stop request, stops a kubectl
/// that hangs.
pub fn argocd_gate(
    env: &str,
    kubectl: &Path,
    kubeconfig: &Path,
    cwd: &Path,
    interrupt: Option<&Interrupt>,
) -> Result<(), HelmError> {
    let query = argocd_crd_query(kubectl, kubeconfig, cwd);
    let opts = RunOptions {
        capture_stdout: true,
        timeout: Some(strata_exec::PROBE_TIMEOUT),
        interrupt,
        ..RunOptions::default()
    };
    match strata_exec::run(&query, &opts) {
        Ok(out) if out.stdout.trim().is_empty() => Err(HelmError::NoArgoCd {
            env: env.to_owned(),
        }),
        Ok(_) => Ok(()),
        Err(source) => {
            let refused = matches!(&source, ExecError::Failed { stderr_tail, .. }
                if stderr_tail.iter().any(|l| l.contains("(Forbidden)") || l.contains("(Unauthorized)")));
            let kubeconfig = kubeconfig.to_owned();
            let source = Box::new(source);
            Err(if refused {
                HelmError::ArgoCdRefused { kubeconfig, source }
            } else {
                HelmError::ClusterUnreachable {
                    env: env.to_owned(),
                    kubeconfig,
                    source,
                }
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn platform(releases: serde_json::Value) -> PlatformConfig {
        serde_json::from_value(serde_json::json!({ "releases": releases })).unwrap()
    }

    #[test]
    fn argocd_lives_where_its_release_puts_it() {
        let p = platform(serde_json::json!([
            {"name": "cert-manager", "namespace": "cert-manager", "chart": "jetstack/cert-manager", "repository": "https://charts.jetstack.io"},
            {"name": "gitops", "namespace": "gitops", "chart": "argo/argo-cd", "repository": "https://argoproj.github.io/argo-helm"},
        ]));
        assert_eq!(argocd_namespace(&p), "gitops");
        let oci = platform(serde_json::json!([
            {"name": "argo", "namespace": "cd", "chart": "oci://ghcr.io/argoproj/argo-helm/argo-cd"},
        ]));
        assert_eq!(argocd_namespace(&oci), "cd");
        assert_eq!(argocd_namespace(&platform(serde_json::json!([]))), "argocd");
    }
}
