//! Tier 2: how Strata calls the real helm 3 and helm 4 (built by `cargo xtask ci`), where it
//! depends on helm's own behaviour: chart names never resolve to folders of the repository,
//! OCI repositories become `oci://…/chart` references, local charts get their dependencies
//! built, and the helm-diff install hint works on the helm it was given for. Every "remote"
//! here is a loopback port nothing listens on, so no network is touched: reaching it, and
//! being refused, is how a test sees where helm went.

use std::path::Path;

use strata_testkit::TempDir;

use crate::support::{Run, generate_unchecked, write, xtask_env};

const PLATFORM: &str = "config/packages/core/environments/development.platform.yaml";

fn closed_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

/// The sample with development's platform replaced by `releases`, and the bundle generated.
fn platform(releases: &str) -> TempDir {
    let repo = strata_testkit::sample_repo();
    write(repo.path(), PLATFORM, format!("releases:\n{releases}"));
    generate_unchecked(repo.path());
    repo
}

/// `platform template` with `helm`, its caches and plugins in a fresh HOME of their own.
fn template(root: &Path, helm: &Path) -> Run {
    let home = root.join(".test-home");
    std::fs::create_dir_all(&home).unwrap();
    xtask_env(
        root,
        &["platform", "template", "--env", "development"],
        &[
            ("STRATA_HELM", helm.display().to_string().as_str()),
            ("HOME", home.display().to_string().as_str()),
        ],
    )
}

fn chart(root: &Path, dir: &str, name: &str, extra: &str) {
    write(
        root,
        &format!("{dir}/Chart.yaml"),
        format!("apiVersion: v2\nname: {name}\nversion: 0.1.0\n{extra}"),
    );
    write(
        root,
        &format!("{dir}/templates/configmap.yaml"),
        format!(
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {name}-{{{{ .Release.Name }}}}\ndata:\n  from: {name}\n"
        ),
    );
}

#[test]
fn a_repository_chart_is_never_taken_from_a_folder_of_the_repository() {
    for helm in strata_testkit::helms() {
        // A repository chart named `docs`, and the repository's docs/ folder made a chart: Helm
        // 3 run from the repository root would render the folder and exit 0.
        let port = closed_port();
        let repo = platform(&format!(
            "  - name: handbook\n    namespace: docs\n    chart: team/docs\n    repository: http://127.0.0.1:{port}\n"
        ));
        let root = repo.path();
        chart(root, "docs", "docs", "");
        let run = template(root, &helm);
        assert_eq!(
            run.code,
            1,
            "{}: {}\n{}",
            helm.display(),
            run.stdout,
            run.stderr
        );
        assert!(
            run.stderr.contains(&format!("127.0.0.1:{port}"))
                && run.stderr.contains("connection refused")
                && run
                    .stderr
                    .contains("error: release `handbook`: helm template failed"),
            "{}: helm asked the repository: {}",
            helm.display(),
            run.stderr
        );
        assert!(
            !root
                .join(".strata/development/rendered/handbook/docs")
                .exists(),
            "nothing was rendered from docs/"
        );
    }
}

#[test]
fn an_oci_repository_is_pulled_as_an_oci_chart_reference() {
    for helm in strata_testkit::helms() {
        let port = closed_port();
        let repo = platform(&format!(
            "  - name: podinfo\n    namespace: apps\n    chart: stefanprodan/podinfo\n    repository: oci://127.0.0.1:{port}/charts\n    version: 6.7.1\n"
        ));
        let run = template(repo.path(), &helm);
        assert_eq!(run.code, 1, "{}: {}", helm.display(), run.stderr);
        // helm went to the registry for charts/podinfo: the reference was `oci://…/podinfo`,
        // not `--repo oci://…`, which helm cannot use.
        assert!(
            run.stderr
                .contains(&format!("template podinfo oci://127.0.0.1:{port}/charts/podinfo --namespace apps --version 6.7.1"))
                && !run.stderr.contains("--repo")
                && run.stderr.contains(&format!("127.0.0.1:{port}"))
                && run.stderr.contains("connection refused"),
            "{}: {}",
            helm.display(),
            run.stderr
        );
    }
}

#[test]
fn a_local_chart_gets_its_dependencies_built_or_uses_the_vendored_ones() {
    for helm in strata_testkit::helms() {
        // `app` needs `lib` through file://, with nothing built yet.
        let repo = platform("  - name: app\n    namespace: apps\n    chart: platform/charts/app\n");
        let root = repo.path();
        chart(root, "platform/charts/lib", "lib", "");
        chart(
            root,
            "platform/charts/app",
            "app",
            "dependencies:\n  - name: lib\n    version: 0.1.0\n    repository: file://../lib\n",
        );
        let run = template(root, &helm);
        assert_eq!(
            run.code,
            0,
            "{}: {}\n{}",
            helm.display(),
            run.stdout,
            run.stderr
        );
        let sub = std::fs::read_to_string(
            root.join(".strata/development/rendered/app/app/charts/lib/templates/configmap.yaml"),
        )
        .unwrap_or_else(|e| {
            panic!(
                "{}: the subchart rendered ({e}): {}",
                helm.display(),
                run.stderr
            )
        });
        assert!(sub.contains("name: lib-app"), "{sub}");
        assert!(root.join("platform/charts/app/Chart.lock").is_file());
        assert!(
            root.join("platform/charts/app/charts/lib-0.1.0.tgz")
                .is_file()
        );

        // Vendored: the lock and the archive are there and the dependency's source is gone, so a
        // build could only fail. Nothing is built: the render needs nothing but the chart.
        std::fs::remove_dir_all(root.join("platform/charts/lib")).unwrap();
        let offline = template(root, &helm);
        assert_eq!(offline.code, 0, "{}: {}", helm.display(), offline.stderr);
        assert!(
            !offline.stderr.contains("building the chart's dependencies"),
            "{}",
            offline.stderr
        );

        // Not vendored any more: helm has to build, and says why it cannot.
        std::fs::remove_file(root.join("platform/charts/app/charts/lib-0.1.0.tgz")).unwrap();
        let build = template(root, &helm);
        assert_eq!(build.code, 1, "{}: {}", helm.display(), build.stderr);
        assert!(
            build
                .stderr
                .contains("[app] building the chart's dependencies")
                && build
                    .stderr
                    .contains("error: release `app`: helm dependency build failed")
                && build.stderr.contains("platform/charts/lib"),
            "{}: {}",
            helm.display(),
            build.stderr
        );
    }
}

#[test]
fn the_diff_plugin_hint_installs_on_the_helm_it_names() {
    for helm in strata_testkit::helms() {
        let short = strata_testkit::run_tool(&helm, &["version", "--short"]);
        let major = strata_helm::helm_major(&short).unwrap();
        let home = TempDir::new("helm-home");
        let env = |cmd: &[String], helm: &Path| -> (i32, String) {
            let h = home.path();
            #[expect(clippy::disallowed_methods, reason = "the test runs the real helm")]
            let out = std::process::Command::new(helm)
                .args(cmd)
                .env("HOME", h)
                .env("HELM_PLUGINS", h.join("plugins"))
                .env("HELM_CACHE_HOME", h.join("cache"))
                .env("HELM_DATA_HOME", h.join("data"))
                .env("HELM_CONFIG_HOME", h.join("config"))
                .current_dir(h)
                .output()
                .expect("helm runs");
            (
                out.status.code().unwrap_or(-1),
                String::from_utf8_lossy(&out.stderr).into_owned(),
            )
        };
        // The hinted command, its source swapped for a git repository on a closed port: helm
        // accepts the command and goes to fetch (and is refused), which is as far as any
        // install gets without a network.
        let source = format!("git://127.0.0.1:{}/databus23/helm-diff", closed_port());
        let (code, stderr) = env(
            &strata_helm::diff_plugin_install_args(major, &source),
            &helm,
        );
        assert_ne!(code, 0);
        assert!(
            !stderr.contains("unknown flag")
                && !stderr.contains("does not support verification")
                && (stderr.contains("Connection refused") || stderr.contains("connection refused")),
            "helm {major}: {stderr}"
        );
        // The other major's command does not get that far.
        let other = strata_helm::diff_plugin_install_args(if major >= 4 { 3 } else { 4 }, &source);
        let (_, stderr) = env(&other, &helm);
        let refusal = if major >= 4 {
            "plugin source does not support verification. Use --verify=false"
        } else {
            "unknown flag: --verify"
        };
        assert!(stderr.contains(refusal), "helm {major}: {stderr}");
    }
}
