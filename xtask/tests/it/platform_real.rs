//! Tier 2: `cargo xtask platform template|diff|deploy --dry-run` and `business deploy --dry-run`
//! driving the real helm 3 and helm 4 (built by `cargo xtask ci`) on local charts.

use strata_testkit::TempDir;

use crate::support::{edit, write, xtask, xtask_env};

const PLATFORM: &str = "config/packages/core/environments/development.platform.yaml";

/// The sample with development's platform reduced to the repository's own charts: the
/// cluster issuers, and the app-of-apps chart installed as a platform release after them.
fn local_platform(apps_values: &str, skip_validate: bool) -> TempDir {
    let repo = strata_testkit::sample_repo();
    let root = repo.path();
    write(
        root,
        PLATFORM,
        format!(
            "releases:
  - name: cluster-issuers
    namespace: cert-manager
    chart: platform/charts/cluster-issuers
    values:
      acme:
        email: platform@example.internal
        server: https://acme-staging-v02.api.letsencrypt.org/directory
  - name: apps
    namespace: argocd
    chart: business/charts/cluster-apps
    needs: [cluster-issuers]
    values:
{apps_values}"
        ),
    );
    edit(
        root,
        "config/packages/core/package.json",
        "\"0.2.0\"",
        "\"0.2.1\"",
    );
    let mut generate = vec!["generate", "env", "--id", "development", "--config", "core"];
    if skip_validate {
        generate.push("--skip-validate");
    } else {
        assert_eq!(xtask(root, &["config", "lock"]).code, 0);
    }
    let run = xtask(root, &generate);
    assert_eq!(run.code, 0, "{}", run.stderr);
    repo
}

const APPS: &str = "      config:
        destinationServer: https://kubernetes.default.svc
        repoURL: https://git.example.internal/platform/business-apps.git
        targetRevision: main
        project: business
      applications:
        - name: storefront
          namespace: storefront
          path: apps/storefront/overlays/development
";

fn helms() -> Vec<String> {
    strata_testkit::helms()
        .into_iter()
        .map(|p| p.display().to_string())
        .collect()
}

#[test]
fn template_renders_the_local_charts_with_the_real_engine() {
    for helm in helms() {
        let repo = local_platform(APPS, false);
        let root = repo.path();
        let run = xtask_env(
            root,
            &["platform", "template", "--env", "development"],
            &[("STRATA_HELM", helm.as_str())],
        );
        assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
        let issuers = std::fs::read_to_string(root.join(
        ".strata/development/rendered/cluster-issuers/cluster-issuers/templates/cluster-issuer.yaml",
    ))
    .unwrap();
        assert!(issuers.contains("platform@example.internal"), "{issuers}");
        let apps = std::fs::read_to_string(
            root.join(".strata/development/rendered/apps/cluster-apps/templates/applications.yaml"),
        )
        .unwrap();
        assert!(
            apps.contains("kind: Application")
                && apps.contains("path: \"apps/storefront/overlays/development\""),
            "{apps}"
        );
    }
}

#[test]
fn a_broken_values_file_fails_with_the_charts_own_message() {
    for helm in helms() {
        // Past validation: an application with no source.
        let broken = APPS.replace("          path: apps/storefront/overlays/development\n", "");
        let repo = local_platform(&broken, true);
        let run = xtask_env(
            repo.path(),
            &["platform", "template", "--env", "development"],
            &[("STRATA_HELM", helm.as_str())],
        );
        assert_eq!(run.code, 1, "{}\n{}", run.stdout, run.stderr);
        assert!(
            run.stderr.contains("has no source")
                && run
                    .stderr
                    .contains("error: release `apps`: helm template failed"),
            "the chart's message is shown: {}",
            run.stderr
        );
        assert!(
            run.stdout.contains("cluster-issuers  rendered into"),
            "{}",
            run.stdout
        );
    }
}

#[test]
fn each_helm_major_is_detected_and_gets_its_own_flags() {
    for helm in helms() {
        let short = strata_testkit::run_tool(std::path::Path::new(&helm), &["version", "--short"]);
        let major = strata_helm::helm_major(&short).expect("the version parses");
        // Helm 3 rolls back with --atomic and waits with a bare --wait; Helm 4 deprecates
        // --atomic for --rollback-on-failure and wants a wait strategy.
        let (wait, rollback, other) = match major {
            3 => ("--wait ", "--atomic", "--rollback-on-failure"),
            4 => ("--wait=watcher", "--rollback-on-failure", "--atomic"),
            _ => panic!("{helm} is helm {major}"),
        };
        let repo = local_platform(APPS, false);
        for args in [
            &["platform", "deploy", "--env", "development", "--dry-run"][..],
            &["business", "deploy", "--env", "development", "--dry-run"][..],
        ] {
            let run = xtask_env(repo.path(), args, &[("STRATA_HELM", helm.as_str())]);
            assert_eq!(run.code, 0, "{}", run.stderr);
            assert!(
                run.stdout.contains(wait)
                    && run.stdout.contains(rollback)
                    && !run.stdout.contains(other),
                "helm {major} ({short}) {args:?}: {}",
                run.stdout
            );
        }
    }
}

#[test]
fn diff_without_the_plugin_is_refused_by_each_helm() {
    for helm in helms() {
        let repo = local_platform(APPS, false);
        // A helm with no plugins at all, as a fresh install is.
        let plugins = TempDir::new("plugins");
        let plugins_s = plugins.path().display().to_string();
        let kubeconfig = repo.join("kubeconfig");
        std::fs::write(&kubeconfig, "apiVersion: v1\nkind: Config\n").unwrap();
        let run = xtask_env(
            repo.path(),
            &[
                "platform",
                "diff",
                "--env",
                "development",
                "--kubeconfig",
                &kubeconfig.display().to_string(),
            ],
            &[
                ("STRATA_HELM", helm.as_str()),
                ("HELM_PLUGINS", plugins_s.as_str()),
            ],
        );
        assert!(
            run.stderr
                .contains("`helm diff` needs the helm-diff plugin, which is not installed"),
            "{helm}: {}",
            run.stderr
        );
        assert_eq!(run.code, 1, "{helm}: no diff was made");

        // `deploy --plan` says the same: a plan that could not be made is a failure.
        let plan = xtask_env(
            repo.path(),
            &[
                "deploy",
                "--env",
                "development",
                "--plan",
                "--only",
                "platform",
            ],
            &[
                ("STRATA_HELM", helm.as_str()),
                ("HELM_PLUGINS", plugins_s.as_str()),
                ("KUBECONFIG", &kubeconfig.display().to_string()),
            ],
        );
        assert_eq!(plan.code, 1, "{helm}: {}\n{}", plan.stdout, plan.stderr);
        assert!(
            plan.stdout
                .lines()
                .any(|l| l.trim_start().starts_with("platform") && l.contains("failed")),
            "{helm}: {}",
            plan.stdout
        );
    }
}
