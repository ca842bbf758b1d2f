//! Tier 2: the repository's Helm charts against the real helm 3 and helm 4 (built by
//! `cargo xtask ci` from the Go module proxy): what these tests check is what each major renders
//! and lints from the values `generate env` writes. Installing them is `kube_real.rs`'s part.

use std::path::Path;

use serde_json::{Value, json};
use strata_metadata::{Application, BusinessConfig, PlatformConfig};
use strata_testkit::{TempDir, helms};

use crate::support::{read, write, xtask};

const ENVS: [&str; 3] = ["development", "staging", "production"];
const APPS_CHART: &str = "business/charts/cluster-apps";
const ISSUERS_CHART: &str = "platform/charts/cluster-issuers";

/// What one run of helm did.
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

/// Runs helm in `root`, as Strata runs helm from the repository root.
fn helm(program: &Path, root: &Path, args: &[&str]) -> Helm {
    #[expect(clippy::disallowed_methods, reason = "the test runs the real helm")]
    let out = std::process::Command::new(program)
        .args(args)
        .current_dir(root)
        .env_remove("KUBECONFIG")
        .output()
        .expect("helm runs");
    Helm {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// Every document of a YAML stream as JSON (empty documents, such as a template that renders
/// nothing, left out).
fn yaml_docs(text: &str) -> Vec<Value> {
    use serde::Deserialize as _;
    serde_yaml_ng::Deserializer::from_str(text)
        .map(|doc| {
            Value::deserialize(doc).unwrap_or_else(|e| panic!("the YAML parses: {e}\n{text}"))
        })
        .filter(|v| !v.is_null())
        .collect()
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
pub(crate) fn expected_application(app: &Application, shared: &Value) -> Value {
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
fn assert_applications(program: &Path, root: &Path, values: &str, business: &BusinessConfig) {
    let args = [
        "template",
        "cluster-apps",
        APPS_CHART,
        "-n",
        "argocd",
        "-f",
        values,
    ];
    let out = helm(program, root, &args);
    assert_eq!(out.code, 0, "{}", out.context(&args));
    let shared = serde_json::to_value(&business.config).unwrap();
    let docs = yaml_docs(&out.stdout);
    // Helm installs kinds it does not know sorted by kind, one kind after the other: the
    // AppProjects, first here, exist before any Application that uses them.
    let kinds: Vec<&str> = docs.iter().map(|d| d["kind"].as_str().unwrap()).collect();
    let projects = kinds.iter().filter(|k| **k == "AppProject").count();
    assert!(
        projects > 0 && kinds[..projects].iter().all(|k| *k == "AppProject"),
        "AppProjects first: {kinds:?}"
    );
    assert_projects(&docs[..projects], business);
    let rendered = docs[projects..].to_vec();
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

/// The AppProjects the chart renders: `config.project` (unless `default`) and every entry of
/// `projects`, each permitting exactly its applications' repositories and namespaces, and
/// Namespaces (for CreateNamespace=true).
fn assert_projects(docs: &[Value], business: &BusinessConfig) {
    let mut want: Vec<&str> = Vec::new();
    if business.config.project != "default" {
        want.push(&business.config.project);
    }
    for p in &business.projects {
        if !want.contains(&p.name.as_str()) {
            want.push(&p.name);
        }
    }
    let names: Vec<&str> = docs
        .iter()
        .map(|d| d["metadata"]["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, want, "one AppProject per project");
    for doc in docs {
        let name = doc["metadata"]["name"].as_str().unwrap();
        let mut repos: Vec<&str> = Vec::new();
        let mut destinations: Vec<Value> = Vec::new();
        for a in business
            .applications
            .iter()
            .filter(|a| a.project.as_deref().unwrap_or(&business.config.project) == name)
        {
            let repo = a.repo_url.as_deref().unwrap_or(&business.config.repo_url);
            if !repos.contains(&repo) {
                repos.push(repo);
            }
            let d = json!({"server": business.config.destination_server, "namespace": a.namespace});
            if !destinations.contains(&d) {
                destinations.push(d);
            }
        }
        assert_eq!(doc["metadata"]["namespace"], "argocd", "{name}");
        assert_eq!(
            doc["metadata"]["finalizers"],
            json!(["resources-finalizer.argocd.argoproj.io"]),
            "{name}"
        );
        assert_eq!(doc["spec"]["sourceRepos"], json!(repos), "{name}");
        assert_eq!(doc["spec"]["destinations"], json!(destinations), "{name}");
        assert_eq!(
            doc["spec"]["clusterResourceWhitelist"],
            json!([{"group": "", "kind": "Namespace"}]),
            "{name}"
        );
        if let Some(description) = business
            .projects
            .iter()
            .find(|p| p.name == name)
            .and_then(|p| p.description.as_deref())
        {
            assert_eq!(doc["spec"]["description"], description, "{name}");
        }
    }
}

#[test]
fn the_app_of_apps_renders_each_environments_business_values() {
    for program in helms() {
        let repo = generated();
        for env in ENVS {
            let values = format!("api/outputs/{env}/business.yaml");
            let business: BusinessConfig = yaml_doc(&read(repo.path(), &values));
            assert!(
                business.applications.iter().any(|a| a.chart.is_some())
                    && business.applications.iter().any(|a| a.path.is_some()),
                "{env} covers both kinds of source"
            );
            assert_applications(&program, repo.path(), &values, &business);
        }
    }
}

#[test]
fn the_app_of_apps_honours_per_application_overrides() {
    for program in helms() {
        let repo = generated();
        let mut business: BusinessConfig =
            yaml_doc(&read(repo.path(), "api/outputs/staging/business.yaml"));
        // A path in another repository at its own revision, in its own project.
        let app = &mut business.applications[0];
        app.repo_url = Some("https://git.example.internal/team/storefront.git".into());
        app.target_revision = Some("v1.4.2".into());
        app.project = Some("storefront".into());
        // A project of its own is declared, and the chart creates it.
        business.projects.push(strata_metadata::BusinessProject {
            name: "storefront".into(),
            description: Some("The storefront team's applications".into()),
        });
        // JSON is YAML, so the values file is the struct as serde writes it.
        write(
            repo.path(),
            "overrides.json",
            serde_json::to_string_pretty(&business).unwrap(),
        );
        assert_applications(&program, repo.path(), "overrides.json", &business);
    }
}

#[test]
fn the_app_of_apps_lints_strictly_with_each_environments_values() {
    for program in helms() {
        let repo = generated();
        for env in ENVS {
            let values = format!("api/outputs/{env}/business.yaml");
            let args = [
                "lint", "--strict", APPS_CHART, "-n", "argocd", "-f", &values,
            ];
            let out = helm(&program, repo.path(), &args);
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
}

#[test]
fn the_cluster_issuers_chart_renders_with_its_release_values() {
    for program in helms() {
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
            let out = helm(&program, repo.path(), &args);
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
        let prod: PlatformConfig =
            yaml_doc(&read(repo.path(), "api/outputs/production/platform.yaml"));
        let issuers = prod
            .releases
            .iter()
            .find(|r| r.name == "cluster-issuers")
            .unwrap();
        assert_eq!(
            issuers.values["acme"]["server"],
            "https://acme-v02.api.letsencrypt.org/directory"
        );
    }
}

#[test]
fn broken_business_values_fail_with_the_charts_message() {
    for program in helms() {
        let repo = generated();
        let good = yaml_docs(&read(repo.path(), "api/outputs/development/business.yaml")).remove(0);
        type Break = fn(&mut Value);
        let cases: [(&str, Break, &str); 8] = [
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
                "unknown-project",
                |v| v["applications"][2]["project"] = json!("payments"),
                "application `payments-worker` is in project `payments`, which nothing creates: ArgoCD never syncs an Application whose project does not exist; add it to `projects`, or use `business` (config.project) or `default`",
            ),
            (
                "default-project",
                |v| v["projects"] = json!([{"name": "default"}]),
                "projects: `default` is ArgoCD's own project and exists already",
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
            let out = helm(&program, repo.path(), &args);
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
        let out = helm(&program, repo.path(), &args);
        assert_eq!(out.code, 1, "{}", out.context(&args));
        assert!(
            // Helm 4 adds "cannot unmarshal yaml document: " in the middle.
            out.stderr
                .starts_with("Error: failed to parse broken.yaml: ")
                && out
                    .stderr
                    .contains("error converting YAML to JSON: yaml: line 2: "),
            "{}",
            out.context(&args)
        );
    }
}
