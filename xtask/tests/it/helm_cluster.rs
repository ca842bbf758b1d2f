//! Tier 2: the business layer against a real Kubernetes API server (etcd and kube-apiserver
//! on loopback, built by `cargo xtask ci`) with the real helm 3 and helm 4: the app-of-apps
//! creates the AppProjects its Applications use, in the namespace the platform's argo-cd
//! release installs ArgoCD into, and the CRD gate tells "not installed", "not allowed to look"
//! and "cannot ask" apart.

use std::path::Path;

use serde_json::Value;
use strata_testkit::{KubeApiServer, TempDir, helms};

use crate::support::{edit, generate_unchecked, json, read, xtask, xtask_env};

const PLATFORM: &str = "config/packages/core/environments/development.platform.yaml";

/// The sample, its development argo-cd release moved to `gitops`, and the bundle generated.
fn sample_with_argocd_in(namespace: &str) -> TempDir {
    let repo = strata_testkit::sample_repo();
    let root = repo.path();
    edit(
        root,
        PLATFORM,
        "  - name: argo-cd\n    namespace: argocd\n",
        &format!("  - name: argo-cd\n    namespace: {namespace}\n"),
    );
    generate_unchecked(root);
    repo
}

#[test]
fn business_deploy_creates_the_projects_in_argocds_own_namespace() {
    for helm in helms() {
        let Some(cluster) = KubeApiServer::start() else {
            return;
        };
        cluster.install_argocd_crds();
        let repo = sample_with_argocd_in("gitops");
        let root = repo.path();
        let kubeconfig = cluster.kubeconfig.display().to_string();
        let helm_s = helm.display().to_string();
        let run = xtask_env(
            root,
            &[
                "business",
                "deploy",
                "--env",
                "development",
                "--kubeconfig",
                &kubeconfig,
            ],
            &[("STRATA_HELM", helm_s.as_str())],
        );
        assert_eq!(run.code, 0, "{}: {}\n{}", helm_s, run.stdout, run.stderr);
        assert!(
            run.stdout
                .contains("business deploy: cluster-apps deployed to gitops"),
            "{}",
            run.stdout
        );
        let business: strata_metadata::BusinessConfig =
            serde_yaml_ng::from_str(&read(root, "api/outputs/development/business.yaml")).unwrap();
        // The project every Application uses exists, beside them, in ArgoCD's namespace.
        let project = json(&cluster.kubectl(&[
            "get",
            "appprojects.argoproj.io",
            "business",
            "-n",
            "gitops",
            "-o",
            "json",
        ]));
        // Each application's repository and namespace, once, in the order they first appear.
        let mut repos: Vec<&str> = Vec::new();
        let mut namespaces: Vec<&str> = Vec::new();
        for a in &business.applications {
            let repo = a.repo_url.as_deref().unwrap_or(&business.config.repo_url);
            if !repos.contains(&repo) {
                repos.push(repo);
            }
            if !namespaces.contains(&a.namespace.as_str()) {
                namespaces.push(&a.namespace);
            }
        }
        let destinations: Vec<Value> = namespaces
            .iter()
            .map(|ns| serde_json::json!({"server": business.config.destination_server, "namespace": ns}))
            .collect();
        assert_eq!(project["spec"]["sourceRepos"], serde_json::json!(repos));
        assert_eq!(project["spec"]["destinations"], Value::Array(destinations));
        // CreateNamespace=true needs the project to permit Namespaces, and nothing else
        // cluster-scoped.
        assert_eq!(
            project["spec"]["clusterResourceWhitelist"],
            serde_json::json!([{"group": "", "kind": "Namespace"}])
        );
        let apps = json(&cluster.kubectl(&[
            "get",
            "applications.argoproj.io",
            "-n",
            "gitops",
            "-o",
            "json",
        ]));
        let items = apps["items"].as_array().unwrap();
        assert_eq!(items.len(), business.applications.len(), "{apps}");
        assert!(
            items.iter().all(|i| i["spec"]["project"] == "business"),
            "{apps}"
        );
        let elsewhere = cluster.kubectl(&["get", "applications.argoproj.io", "-A", "-o", "name"]);
        assert_eq!(
            elsewhere.lines().count(),
            items.len(),
            "none outside gitops"
        );
        let namespaces = cluster.kubectl(&["get", "namespaces", "-o", "name"]);
        assert!(
            !namespaces.contains("namespace/argocd"),
            "nothing went to argocd: {namespaces}"
        );
    }
}

/// `business deploy --kubeconfig K` with the real helm; the run.
fn business_deploy(root: &Path, kubeconfig: &Path, helm: &Path) -> crate::support::Run {
    xtask_env(
        root,
        &[
            "business",
            "deploy",
            "--env",
            "development",
            "--kubeconfig",
            &kubeconfig.display().to_string(),
        ],
        &[("STRATA_HELM", helm.display().to_string().as_str())],
    )
}

#[test]
fn the_argocd_gate_tells_missing_refused_and_unreachable_apart() {
    let Some(helm) = helms().into_iter().next() else {
        return;
    };
    let Some(cluster) = KubeApiServer::start() else {
        return;
    };
    let repo = strata_testkit::sample_repo();
    let root = repo.path();
    let run = xtask(
        root,
        &["generate", "env", "--id", "development", "--config", "core"],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    let dir = TempDir::new("kubeconfigs");

    // The API server says NotFound: ArgoCD is not installed.
    let missing = business_deploy(root, &cluster.kubeconfig, &helm);
    assert_eq!(missing.code, 1, "{}", missing.stderr);
    assert!(
        missing.stderr.contains(
            "error: ArgoCD's `Application` CRD (applications.argoproj.io) is not in the cluster"
        ) && missing
            .stderr
            .contains("cargo xtask platform deploy --env development"),
        "{}",
        missing.stderr
    );

    // With ArgoCD's CRD there, a user whom RBAC allows nothing is refused, and is told so,
    // not that ArgoCD is missing.
    cluster.install_argocd_crds();
    let Some(nobody) = strata_testkit::unprivileged_kubeconfig(&cluster, "nobody", dir.path())
    else {
        return;
    };
    let refused = business_deploy(root, &nobody, &helm);
    assert_eq!(refused.code, 1, "{}", refused.stderr);
    assert!(
        refused.stderr.contains(
            "error: the cluster refuses to show ArgoCD's `Application` CRD to the user of"
        ) && refused.stderr.contains("Error from server (Forbidden)")
            && refused
                .stderr
                .contains("User \"nobody\" cannot get resource")
            && refused
                .stderr
                .contains("pass another with `--kubeconfig FILE`")
            && !refused.stderr.contains("is not in the cluster"),
        "{}",
        refused.stderr
    );

    // A server that is not there: kubectl cannot ask.
    let down = strata_testkit::closed_port_kubeconfig(&cluster, dir.path());
    let unreachable = business_deploy(root, &down, &helm);
    assert_eq!(unreachable.code, 1, "{}", unreachable.stderr);
    assert!(
        unreachable
            .stderr
            .contains("error: cannot ask the cluster whether ArgoCD is installed")
            && unreachable
                .stderr
                .contains("connection to the server 127.0.0.1:")
            && unreachable.stderr.contains("was refused")
            && unreachable
                .stderr
                .contains("cargo xtask kubespray status --env development")
            && !unreachable.stderr.contains("is not in the cluster"),
        "{}",
        unreachable.stderr
    );

    // The admin passes the gate.
    let ok = business_deploy(root, &cluster.kubeconfig, &helm);
    assert_eq!(ok.code, 0, "{}\n{}", ok.stdout, ok.stderr);
}
