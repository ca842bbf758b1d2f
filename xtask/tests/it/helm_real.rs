//! Tier 2: the repository's Helm charts against the real Helm v4 engine. No helm CLI can be
//! installed on these machines, so `helm_sdk.py` puts the helm command line over the PyPI
//! package `helm-python-sdk` (Helm's own Go SDK): what these tests check is what Helm renders
//! and lints from the values `generate env` writes.

use std::path::{Path, PathBuf};

use serde_json::{Value, json};
use strata_metadata::{Application, BusinessConfig, PlatformConfig};
use strata_testkit::{TempDir, real_tool, real_tools_required};

use crate::support::{read, write, xtask};

const ENVS: [&str; 3] = ["development", "staging", "production"];
const APPS_CHART: &str = "business/charts/cluster-apps";
const ISSUERS_CHART: &str = "platform/charts/cluster-issuers";

/// The helm stand-in, when the `python3` on PATH can import the engine. Without it the test
/// prints one line and is skipped, unless `STRATA_REAL_TOOLS=1`, which makes it a failure.
pub(crate) fn helm_sdk() -> Option<PathBuf> {
    let python = real_tool("python3")?;
    #[expect(
        clippy::disallowed_methods,
        reason = "the test asks the real python3 whether it has the Helm engine"
    )]
    let probe = std::process::Command::new(&python)
        .args(["-c", "import helm_python"])
        .output()
        .expect("python3 runs");
    if probe.status.success() {
        return Some(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/it/helm_sdk.py"));
    }
    let why = String::from_utf8_lossy(&probe.stderr);
    let why = why.lines().last().unwrap_or_default();
    if real_tools_required() {
        panic!(
            "`{}` cannot import helm_python ({why}) and STRATA_REAL_TOOLS=1 requires it: \
             pip install helm-python-sdk",
            python.display()
        );
    }
    eprintln!(
        "skipped: `{}` cannot import helm_python (pip install helm-python-sdk; set \
         STRATA_REAL_TOOLS=1 to make this a failure)",
        python.display()
    );
    None
}

/// What one run of the stand-in did.
struct Helm {
    code: i32,
    stdout: String,
    stderr: String,
}

impl Helm {
    fn context(&self, args: &[&str]) -> String {
        format!(
            "helm {}\nexit: {}\n--- stdout\n{}--- stderr\n{}",
            args.join(" "),
            self.code,
            self.stdout,
            self.stderr
        )
    }
}

/// Runs the stand-in in `root`, as Strata runs helm from the repository root.
fn helm(sdk: &Path, root: &Path, args: &[&str]) -> Helm {
    #[expect(
        clippy::disallowed_methods,
        reason = "the test runs the helm stand-in over the real engine"
    )]
    let out = std::process::Command::new(sdk)
        .args(args)
        .current_dir(root)
        .env_remove("KUBECONFIG")
        .output()
        .expect("the helm stand-in runs");
    Helm {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// Every document of a YAML stream as JSON, read by Helm's own YAML reader (xtask has no YAML
/// crate, and this is the reader the charts' values go through anyway).
fn yaml_docs(text: &str) -> Vec<Value> {
    use std::io::Write as _;
    const TO_JSON: &str = r#"
import json, re, sys
import helm_python as helm
docs = re.split(r"(?m)^---[ \t]*(?:#.*)?$", sys.stdin.read())
print(json.dumps([helm.values_from_yaml(d) for d in docs if re.search(r"(?m)^[^#\s]", d)]))
"#;
    #[expect(
        clippy::disallowed_methods,
        reason = "the test reads YAML with the engine's own parser"
    )]
    let mut child = std::process::Command::new("python3")
        .args(["-c", TO_JSON])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("python3 runs");
    child
        .stdin
        .take()
        .expect("stdin is piped")
        .write_all(text.as_bytes())
        .expect("python3 reads its stdin");
    let out = child.wait_with_output().expect("python3 finishes");
    assert!(
        out.status.success(),
        "the YAML parses: {}\n{text}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("the converter prints JSON")
}

fn yaml_doc<T: serde::de::DeserializeOwned>(text: &str) -> T {
    let doc = yaml_docs(text).into_iter().next().expect("one document");
    serde_json::from_value(doc).expect("the document has the expected shape")
}

/// A sample repository with the bundles of all three environments generated.
fn generated() -> TempDir {
    let repo = strata_testkit::sample_repo();
    for env in ENVS {
        let run = xtask(
            repo.path(),
            &["generate", "env", "--id", env, "--config", "core"],
        );
        assert_eq!(run.code, 0, "{env} generates: {}", run.stderr);
    }
    repo
}

/// The Application ArgoCD should receive for `app`, built from the values independently of the
/// chart's templates.
fn expected_application(app: &Application, shared: &Value) -> Value {
    let mut source = match (&app.path, &app.chart) {
        (Some(path), None) => json!({
            "repoURL": app.repo_url.as_deref().unwrap_or(shared["repoURL"].as_str().unwrap()),
            "targetRevision": app
                .target_revision
                .as_deref()
                .unwrap_or(shared["targetRevision"].as_str().unwrap()),
            "path": path,
        }),
        (None, Some(chart)) => json!({
            "repoURL": app.repo_url.as_deref().expect("a chart names its repository"),
            "targetRevision": app.target_revision.as_deref().expect("a chart is pinned"),
            "chart": chart,
        }),
        _ => panic!("application {} has one source", app.name),
    };
    if let Some(h) = &app.helm {
        let mut helm = json!({});
        if !h.value_files.is_empty() {
            helm["valueFiles"] = json!(h.value_files);
        }
        if !h.values.is_empty() {
            helm["valuesObject"] = json!(h.values);
        }
        source["helm"] = helm;
    }
    json!({
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "Application",
        "metadata": {
            "name": app.name,
            "namespace": "argocd",
            "finalizers": ["resources-finalizer.argocd.argoproj.io"],
        },
        "spec": {
            "project": app.project.as_deref().unwrap_or(shared["project"].as_str().unwrap()),
            "source": source,
            "destination": {
                "server": shared["destinationServer"],
                "namespace": app.namespace,
            },
            "syncPolicy": {
                "automated": { "prune": true, "selfHeal": true },
                "syncOptions": ["CreateNamespace=true"],
            },
        },
    })
}

/// Renders the app-of-apps with `values` (a path in `root`) and checks every Application.
fn assert_applications(sdk: &Path, root: &Path, values: &str, business: &BusinessConfig) {
    let args = [
        "template",
        "cluster-apps",
        APPS_CHART,
        "-n",
        "argocd",
        "-f",
        values,
    ];
    let out = helm(sdk, root, &args);
    assert_eq!(out.code, 0, "{}", out.context(&args));
    let shared = serde_json::to_value(&business.config).unwrap();
    let rendered = yaml_docs(&out.stdout);
    let names = |docs: &[Value]| -> Vec<String> {
        docs.iter()
            .map(|d| {
                d["metadata"]["name"]
                    .as_str()
                    .unwrap_or_default()
                    .to_owned()
            })
            .collect()
    };
    let want: Vec<String> = business
        .applications
        .iter()
        .map(|a| a.name.clone())
        .collect();
    assert_eq!(
        names(&rendered),
        want,
        "one Application per entry, in order"
    );
    for (doc, app) in rendered.iter().zip(&business.applications) {
        let mut doc = doc.clone();
        // The labels say which chart made the object; everything else is compared whole.
        let labels = doc["metadata"]
            .as_object_mut()
            .unwrap()
            .remove("labels")
            .expect("labels");
        assert_eq!(labels["app.kubernetes.io/instance"], "cluster-apps");
        assert_eq!(doc, expected_application(app, &shared), "{}", app.name);
    }
}

#[test]
fn the_app_of_apps_renders_each_environments_business_values() {
    let Some(sdk) = helm_sdk() else { return };
    let repo = generated();
    for env in ENVS {
        let values = format!("api/outputs/{env}/business.yaml");
        let business: BusinessConfig = yaml_doc(&read(repo.path(), &values));
        assert!(
            business.applications.iter().any(|a| a.chart.is_some())
                && business.applications.iter().any(|a| a.path.is_some()),
            "{env} covers both kinds of source"
        );
        assert_applications(&sdk, repo.path(), &values, &business);
    }
}

#[test]
fn the_app_of_apps_honours_per_application_overrides() {
    let Some(sdk) = helm_sdk() else { return };
    let repo = generated();
    let mut business: BusinessConfig =
        yaml_doc(&read(repo.path(), "api/outputs/staging/business.yaml"));
    // A path in another repository at its own revision, in its own project.
    let app = &mut business.applications[0];
    app.repo_url = Some("https://git.example.internal/team/storefront.git".into());
    app.target_revision = Some("v1.4.2".into());
    app.project = Some("storefront".into());
    // JSON is YAML, so the values file is the struct as serde writes it.
    write(
        repo.path(),
        "overrides.json",
        serde_json::to_string_pretty(&business).unwrap(),
    );
    assert_applications(&sdk, repo.path(), "overrides.json", &business);
}

#[test]
fn the_app_of_apps_lints_strictly_with_each_environments_values() {
    let Some(sdk) = helm_sdk() else { return };
    let repo = generated();
    for env in ENVS {
        let values = format!("api/outputs/{env}/business.yaml");
        let args = [
            "lint", "--strict", APPS_CHART, "-n", "argocd", "-f", &values,
        ];
        let out = helm(&sdk, repo.path(), &args);
        assert_eq!(out.code, 0, "{}", out.context(&args));
        assert!(
            out.stdout.contains("1 chart(s) linted, 0 chart(s) failed")
                && !out.stdout.contains("[WARNING]")
                && !out.stdout.contains("[ERROR]"),
            "{}",
            out.context(&args)
        );
    }
}

#[test]
fn the_cluster_issuers_chart_renders_with_its_release_values() {
    let Some(sdk) = helm_sdk() else { return };
    let repo = generated();
    for env in ENVS {
        let platform: PlatformConfig = yaml_doc(&read(
            repo.path(),
            &format!("api/outputs/{env}/platform.yaml"),
        ));
        let release = platform
            .releases
            .iter()
            .find(|r| r.name == "cluster-issuers")
            .expect("the platform deploys cluster-issuers");
        assert_eq!(release.chart, ISSUERS_CHART);
        let values = format!("{env}-cluster-issuers.json");
        write(
            repo.path(),
            &values,
            serde_json::to_string(&release.values).unwrap(),
        );
        let mut args = vec![
            "template",
            "cluster-issuers",
            ISSUERS_CHART,
            "-n",
            release.namespace.as_str(),
        ];
        for file in &release.values_files {
            args.extend(["-f", file.as_str()]);
        }
        args.extend(["-f", values.as_str()]);
        let out = helm(&sdk, repo.path(), &args);
        assert_eq!(out.code, 0, "{}", out.context(&args));
        let docs = yaml_docs(&out.stdout);
        assert_eq!(docs.len(), 1, "{}", out.context(&args));
        let issuer = &docs[0];
        assert_eq!(issuer["kind"], "ClusterIssuer");
        let acme = &issuer["spec"]["acme"];
        assert_eq!(acme["email"], release.values["acme"]["email"], "{env}");
        assert_eq!(acme["server"], release.values["acme"]["server"], "{env}");
        assert_eq!(
            acme["solvers"][0]["http01"]["ingress"]["ingressClassName"], "nginx",
            "the chart's default ingress class"
        );
    }
    // Production issues real certificates; the others stay on the staging directory.
    let prod: PlatformConfig = yaml_doc(&read(repo.path(), "api/outputs/production/platform.yaml"));
    let issuers = prod
        .releases
        .iter()
        .find(|r| r.name == "cluster-issuers")
        .unwrap();
    assert_eq!(
        issuers.values["acme"]["server"],
        "https://acme-v02.api.letsencrypt.org/directory"
    );

    // The deploy command line Strata builds, as a client-side dry run: the flags that only
    // matter against a cluster are accepted, and the release installs.
    let args = [
        "upgrade",
        "--install",
        "cluster-issuers",
        ISSUERS_CHART,
        "-n",
        "cert-manager",
        "--create-namespace",
        "-f",
        "production-cluster-issuers.json",
        "--wait",
        "--timeout",
        "10m",
        "--rollback-on-failure",
        "--dry-run",
    ];
    let out = helm(&sdk, repo.path(), &args);
    assert_eq!(out.code, 0, "{}", out.context(&args));
    assert!(
        out.stdout.contains("STATUS: pending-install")
            && out.stdout.contains("acme-v02.api.letsencrypt.org"),
        "{}",
        out.context(&args)
    );
}

#[test]
fn broken_business_values_fail_with_the_charts_message() {
    let Some(sdk) = helm_sdk() else { return };
    let repo = generated();
    let good = yaml_docs(&read(repo.path(), "api/outputs/development/business.yaml")).remove(0);
    type Break = fn(&mut Value);
    let cases: [(&str, Break, &str); 6] = [
        (
            "no-source",
            |v| {
                let app = v["applications"][3].as_object_mut().unwrap();
                app.remove("chart");
                app.remove("repoURL");
                app.remove("targetRevision");
            },
            "application `orders-redis` has no source: set `path` (a folder in config.repoURL) or `chart` with `repoURL` (a Helm repository)",
        ),
        (
            "both-sources",
            |v| v["applications"][3]["path"] = json!("apps/redis"),
            "application `orders-redis` sets both `path` and `chart`",
        ),
        (
            "chart-unpinned",
            |v| {
                v["applications"][3]
                    .as_object_mut()
                    .unwrap()
                    .remove("targetRevision");
            },
            "application `orders-redis` names chart `redis` but no `targetRevision` (the chart version to install)",
        ),
        (
            "no-destination",
            |v| {
                v["config"]
                    .as_object_mut()
                    .unwrap()
                    .remove("destinationServer");
            },
            "config.destinationServer is required: the cluster ArgoCD deploys to",
        ),
        (
            "duplicate",
            |v| {
                let first = v["applications"][0].clone();
                v["applications"].as_array_mut().unwrap().push(first);
            },
            "application `storefront` is defined twice",
        ),
        (
            "typo",
            |v| v["applications"][1]["helm"]["valuesFiles"] = json!(["values.yaml"]),
            "- at '/applications/1/helm': additional properties 'valuesFiles' not allowed",
        ),
    ];
    for (name, break_it, message) in cases {
        let mut values = good.clone();
        break_it(&mut values);
        let file = format!("{name}.json");
        write(repo.path(), &file, serde_json::to_string(&values).unwrap());
        let args = [
            "template",
            "cluster-apps",
            APPS_CHART,
            "-n",
            "argocd",
            "-f",
            &file,
        ];
        let out = helm(&sdk, repo.path(), &args);
        assert_eq!(out.code, 1, "{name}: {}", out.context(&args));
        assert!(out.stdout.is_empty(), "{name}: {}", out.context(&args));
        assert!(
            out.stderr.starts_with("Error: ") && out.stderr.contains(message),
            "{name}: {}",
            out.context(&args)
        );
    }

    // A values file that is not YAML fails in the engine's reader, before any template runs.
    write(
        repo.path(),
        "broken.yaml",
        "config:\n  repoURL: [unclosed\n",
    );
    let args = ["template", "cluster-apps", APPS_CHART, "-f", "broken.yaml"];
    let out = helm(&sdk, repo.path(), &args);
    assert_eq!(out.code, 1, "{}", out.context(&args));
    assert!(
        out.stderr.starts_with(
            "Error: failed to parse broken.yaml: error converting YAML to JSON: yaml: line "
        ),
        "{}",
        out.context(&args)
    );
}

#[test]
fn the_stand_in_reports_helm_4_and_refuses_what_it_cannot_do() {
    let Some(sdk) = helm_sdk() else { return };
    let repo = generated();
    let out = helm(&sdk, repo.path(), &["version", "--short"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(out.stdout.starts_with("v4."), "{}", out.stdout);

    let refusals: [(&[&str], &str); 3] = [
        (
            &[
                "upgrade",
                "--install",
                "argo-cd",
                "argo/argo-cd",
                "--version",
                "7.7.5",
                "--dry-run",
            ],
            "is not a local chart directory or archive",
        ),
        (
            &["upgrade", "--install", "cluster-issuers", ISSUERS_CHART],
            "add --dry-run for a client-side dry run",
        ),
        (
            &["template", "x", ISSUERS_CHART, "--set", "a=b"],
            "unknown flag: --set",
        ),
    ];
    for (args, message) in refusals {
        let out = helm(&sdk, repo.path(), args);
        assert!(
            out.code == 1 && out.stderr.contains(message),
            "{}",
            out.context(args)
        );
    }
}
