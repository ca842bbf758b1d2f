//! Tier 2: Strata against a real Kubernetes control plane (etcd and kube-apiserver on loopback,
//! built by `cargo xtask ci`), with the real helm 3 and helm 4: `kubespray status` reads the
//! nodes registered through the API, `business deploy` is gated on ArgoCD's CRD and installs
//! the app-of-apps, and `platform deploy --wait` installs local charts, rolls a failing
//! release back and skips what needs it.
//!
//! No kubelet runs, so a Deployment never becomes available: that is the failing release.

use std::path::Path;

use strata_testkit::{KubeApiServer, TempDir, helms};

use crate::support::{Run, generate_unchecked, json, read, write, xtask, xtask_env};

fn helm_name(helm: &Path) -> String {
    helm.file_name().unwrap().to_string_lossy().into_owned()
}

/// `cargo xtask <layer> deploy --env development` with `helm` against `cluster`.
fn deploy_with(root: &Path, layer: &str, helm: &Path, cluster: &KubeApiServer) -> Run {
    let kubeconfig = cluster.kubeconfig.display().to_string();
    let helm = helm.display().to_string();
    xtask_env(
        root,
        &[
            layer,
            "deploy",
            "--env",
            "development",
            "--kubeconfig",
            &kubeconfig,
        ],
        &[("STRATA_HELM", helm.as_str())],
    )
}

#[test]
fn kubespray_status_reads_the_nodes_the_api_server_has() {
    let Some(cluster) = KubeApiServer::start() else {
        return;
    };
    cluster.register_node("dev-cp-1", &["control-plane"], true);
    cluster.register_node("dev-worker-1", &["worker"], false);
    cluster.register_node("dev-worker-2", &["worker"], true);
    let repo = strata_testkit::sample_repo();
    let root = repo.path();
    // Kubespray's kept admin.conf wins over an ambient KUBECONFIG for another cluster.
    write(
        root,
        ".strata/development/kubespray/artifacts/admin.conf",
        read(cluster.dir(), "admin.conf"),
    );
    let other = TempDir::new("other");
    write(
        other.path(),
        "config",
        format!(
            "apiVersion: v1\nkind: Config\nclusters:\n- name: other\n  cluster:\n    server: {}\n    certificate-authority: {}\ncontexts:\n- name: other\n  context: {{cluster: other, user: someone}}\ncurrent-context: other\nusers:\n- name: someone\n  user:\n    token: someone-elses-token\n",
            cluster.url,
            cluster.dir().join("ca.crt").display()
        ),
    );
    let other_s = other.join("config").display().to_string();
    let home = TempDir::new("home");
    let home_s = home.path().display().to_string();
    let run = xtask_env(
        root,
        &["kubespray", "status", "--env", "development"],
        &[("KUBECONFIG", other_s.as_str()), ("HOME", home_s.as_str())],
    );
    assert_eq!(run.code, 1, "{}\n{}", run.stdout, run.stderr);
    assert!(
        run.stdout.contains("API server: ok"),
        "{}\n{}",
        run.stdout,
        run.stderr
    );
    for row in [
        "dev-cp-1      Ready     control-plane  v1.33.5",
        "dev-worker-1  NotReady  worker         v1.33.5",
        "dev-worker-2  Ready     worker         v1.33.5",
    ] {
        assert!(run.stdout.contains(row), "{row}:\n{}", run.stdout);
    }
    assert!(
        run.stderr
            .contains("1 of 3 nodes is not Ready: dev-worker-1"),
        "{}",
        run.stderr
    );

    // The same server, asked with a token it does not know: the API server's refusal shows, and
    // the token does not.
    let refused = xtask_env(
        root,
        &[
            "kubespray",
            "status",
            "--env",
            "development",
            "--kubeconfig",
            &other_s,
        ],
        &[("HOME", home_s.as_str())],
    );
    assert_eq!(refused.code, 1, "{}", refused.stderr);
    assert!(
        refused.stderr.contains("the cluster does not answer")
            && refused
                .stderr
                .contains("You must be logged in to the server"),
        "{}",
        refused.stderr
    );
    assert!(
        !refused.stderr.contains("someone-elses-token"),
        "a token never reaches a message"
    );

    // Once the node reports Ready, the cluster is healthy.
    cluster.register_node("dev-worker-1", &["worker"], true);
    let run = xtask_env(
        root,
        &["kubespray", "status", "--env", "development"],
        &[("HOME", home_s.as_str())],
    );
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    assert!(
        run.stdout
            .contains("cluster development: ready, 3 nodes Ready"),
        "{}",
        run.stdout
    );
}

#[test]
fn business_deploy_waits_for_argocd_then_installs_the_applications() {
    for helm in helms() {
        let Some(cluster) = KubeApiServer::start() else {
            return;
        };
        let name = helm_name(&helm);
        let repo = strata_testkit::sample_repo();
        let root = repo.path();
        let generate = xtask(
            root,
            &["generate", "env", "--id", "development", "--config", "core"],
        );
        assert_eq!(generate.code, 0, "{}", generate.stderr);
        let deploy = || deploy_with(root, "business", &helm, &cluster);

        // Without ArgoCD's CRD the gate refuses, and nothing is installed.
        let refused = deploy();
        assert_eq!(refused.code, 1, "{name}: {}", refused.stderr);
        assert!(
            refused.stderr.contains(
                "ArgoCD's `Application` CRD (applications.argoproj.io) is not in the cluster"
            ) && refused.stderr.contains("cargo xtask platform deploy"),
            "{name}: {}",
            refused.stderr
        );
        let listed = cluster.kubectl(&["get", "namespaces", "-o", "name"]);
        assert!(!listed.contains("namespace/argocd"), "{name}: {listed}");

        cluster.install_argocd_crds();
        let run = deploy();
        assert_eq!(run.code, 0, "{name}: {}\n{}", run.stdout, run.stderr);
        assert!(
            run.stdout
                .contains("business deploy: cluster-apps deployed to argocd"),
            "{name}: {}",
            run.stdout
        );

        // Every application of the bundle is an Application object with the rendered spec.
        let business: strata_metadata::BusinessConfig =
            serde_yaml_ng::from_str(&read(root, "api/outputs/development/business.yaml")).unwrap();
        let objects = json(&cluster.kubectl(&[
            "get",
            "applications.argoproj.io",
            "-n",
            "argocd",
            "-o",
            "json",
        ]));
        let items = objects["items"].as_array().unwrap();
        let mut names: Vec<&str> = items
            .iter()
            .map(|i| i["metadata"]["name"].as_str().unwrap())
            .collect();
        names.sort_unstable();
        let mut want: Vec<&str> = business
            .applications
            .iter()
            .map(|a| a.name.as_str())
            .collect();
        want.sort_unstable();
        assert_eq!(names, want, "{name}");
        let shared = serde_json::to_value(&business.config).unwrap();
        for app in &business.applications {
            let object = items
                .iter()
                .find(|i| i["metadata"]["name"] == app.name.as_str())
                .unwrap();
            let expected = crate::helm_real::expected_application(app, &shared);
            assert_eq!(object["spec"], expected["spec"], "{name}: {}", app.name);
            assert_eq!(
                object["metadata"]["annotations"]["meta.helm.sh/release-name"], "cluster-apps",
                "{name}: helm owns {}",
                app.name
            );
        }
    }
}

/// A local chart: a ConfigMap, and with `deployment: true` a Deployment that never becomes
/// available (no kubelet runs its pod).
fn chart(root: &Path, name: &str) {
    write(
        root,
        &format!("platform/charts/{name}/Chart.yaml"),
        format!("apiVersion: v2\nname: {name}\nversion: 0.1.0\n"),
    );
    write(
        root,
        &format!("platform/charts/{name}/values.yaml"),
        "greeting: hello\ndeployment: false\n",
    );
    write(
        root,
        &format!("platform/charts/{name}/templates/configmap.yaml"),
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}\ndata:\n  greeting: {{ .Values.greeting | quote }}\n",
    );
    write(
        root,
        &format!("platform/charts/{name}/templates/deployment.yaml"),
        "{{- if .Values.deployment }}
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ .Release.Name }}
spec:
  replicas: 1
  selector:
    matchLabels: {app: {{ .Release.Name }}}
  template:
    metadata:
      labels: {app: {{ .Release.Name }}}
    spec:
      containers:
        - name: app
          image: registry.invalid/never-pulled:1
{{- end }}
",
    );
}

const PLATFORM: &str = "config/packages/core/environments/development.platform.yaml";

/// The development platform as four local releases: `base`, `web` (needs base), `worker`
/// (needs base, with `worker_values`) and `reports` (needs worker).
fn platform_yaml(worker_values: &str) -> String {
    format!(
        "releases:
  - name: base
    namespace: platform-base
    chart: platform/charts/base
    timeout: 60s
  - name: web
    namespace: platform-apps
    chart: platform/charts/web
    needs: [base]
    timeout: 60s
    values:
      greeting: from-web
  - name: worker
    namespace: platform-apps
    chart: platform/charts/worker
    needs: [base]
    timeout: 4s
    values:
{worker_values}
  - name: reports
    namespace: platform-apps
    chart: platform/charts/reports
    needs: [worker]
    timeout: 60s
"
    )
}

#[test]
fn platform_deploy_waits_rolls_a_failing_release_back_and_skips_its_dependents() {
    for helm in helms() {
        let Some(cluster) = KubeApiServer::start() else {
            return;
        };
        cluster.register_node("dev-cp-1", &["control-plane"], true);
        let name = helm_name(&helm);
        let repo = strata_testkit::sample_repo();
        let root = repo.path();
        for c in ["base", "web", "worker", "reports"] {
            chart(root, c);
        }
        write(root, PLATFORM, platform_yaml("      greeting: v1"));
        generate_unchecked(root);
        let deploy = || deploy_with(root, "platform", &helm, &cluster);

        let first = deploy();
        assert_eq!(first.code, 0, "{name}: {}\n{}", first.stdout, first.stderr);
        assert!(
            first.stdout.contains("platform deploy: 4 releases done"),
            "{name}: {}",
            first.stdout
        );
        let greeting = |ns: &str, cm: &str| {
            cluster.kubectl(&[
                "get",
                "configmap",
                cm,
                "-n",
                ns,
                "-o",
                "jsonpath={.data.greeting}",
            ])
        };
        assert_eq!(greeting("platform-apps", "web"), "from-web", "{name}");
        assert_eq!(greeting("platform-apps", "worker"), "v1", "{name}");
        assert_eq!(greeting("platform-base", "base"), "hello", "{name}");

        // The worker's next version adds a Deployment that never becomes available: helm waits
        // out its timeout and rolls the release back; `reports` is not attempted.
        write(
            root,
            PLATFORM,
            platform_yaml("      greeting: v2\n      deployment: true"),
        );
        generate_unchecked(root);
        let second = deploy();
        assert_eq!(
            second.code, 1,
            "{name}: {}\n{}",
            second.stdout, second.stderr
        );
        for row in [
            ("worker", "FAILED"),
            ("reports", "skipped"),
            ("base", "done"),
            ("web", "done"),
        ] {
            assert!(
                second
                    .stdout
                    .lines()
                    .any(|l| l.trim_start().starts_with(row.0) && l.contains(row.1)),
                "{name}: {row:?}\n{}",
                second.stdout
            );
        }
        assert!(
            second.stdout.contains("needs `worker`, which failed"),
            "{name}: {}",
            second.stdout
        );
        assert!(
            second
                .stderr
                .contains("error: release `worker`: helm upgrade --install failed"),
            "{name}: {}",
            second.stderr
        );
        // Rolled back: the ConfigMap has the first version's value again, the Deployment is gone,
        // and helm's history ends in a deployed rollback.
        assert_eq!(greeting("platform-apps", "worker"), "v1", "{name}");
        let deployments =
            cluster.kubectl(&["get", "deployments", "-n", "platform-apps", "-o", "name"]);
        assert!(deployments.trim().is_empty(), "{name}: {deployments}");
        let history = strata_testkit::run_tool(
            &helm,
            &[
                "history",
                "worker",
                "-n",
                "platform-apps",
                "--kubeconfig",
                &cluster.kubeconfig.display().to_string(),
                "-o",
                "json",
            ],
        );
        let history = json(&history);
        let last = history.as_array().unwrap().last().unwrap().clone();
        assert_eq!(last["status"], "deployed", "{name}: {history}");
        assert_eq!(last["description"], "Rollback to 1", "{name}: {history}");
        let reports =
            cluster.kubectl_output(&["get", "configmap", "reports", "-n", "platform-apps"]);
        assert!(
            reports.status.success(),
            "{name}: reports stays at its first version"
        );
    }
}
