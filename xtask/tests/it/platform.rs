//! `cargo xtask platform deploy|template|diff`, `business deploy` and `graph`, with stand-in
//! helm and kubectl that record their calls.

use strata_testkit::TempDir;

use strata_metadata::output::{
    BusinessOutput, DiffOutput, Failure, PlatformDeployOutput, ReleaseResult, TemplateOutput,
};

use crate::support::{Run, document, read, repo_with_bundle, write, xtask_env};

/// A repository with the development bundle and Kubespray's admin.conf kept for it, and
/// stand-in helm and kubectl configured through environment variables.
struct Setup {
    repo: TempDir,
    bin: TempDir,
}

impl Setup {
    fn new() -> Self {
        let repo = repo_with_bundle();
        write(
            repo.path(),
            ".strata/development/kubespray/artifacts/admin.conf",
            "apiVersion: v1\nkind: Config\n",
        );
        let bin = TempDir::new("helm-bin");
        let calls = bin.join("helm.calls");
        // helm: `version` prints $HELM_VERSION; `upgrade` fails for $FAIL_RELEASE and, when
        // $BARRIER is set, waits until two upgrades have started; `template` writes a manifest;
        // `plugin list` lists diff when $DIFF_PLUGIN is set; `diff upgrade` reports a change for
        // $CHANGED.
        strata_testkit::script(
            bin.path(),
            "helm",
            &format!(
                r#"case "$1" in version) echo "${{HELM_VERSION:-v3.16.2+g13654a5}}"; exit 0 ;; esac
printf '%s\n' "$*" >> '{calls}'
case "$1" in
  upgrade)
    if [ -n "$BARRIER" ]; then
      touch "$BARRIER/$3"; i=0
      while [ "$(ls "$BARRIER" | wc -l)" -lt 2 ]; do i=$((i+1)); [ $i -gt 100 ] && exit 9; sleep 0.05; done
    fi
    if [ "$3" = "$FAIL_RELEASE" ]; then echo "Error: UPGRADE FAILED: context deadline exceeded" >&2; exit 1; fi
    echo "Release \"$3\" has been upgraded. Happy Helming!" ;;
  template)
    while [ $# -gt 0 ]; do [ "$1" = --output-dir ] && out="$2"; shift; done
    mkdir -p "$out/chart/templates" && echo "kind: ConfigMap" > "$out/chart/templates/rendered.yaml" ;;
  plugin) if [ -n "$DIFF_PLUGIN" ]; then printf 'NAME\tVERSION\tDESCRIPTION\ndiff\t3.9.11\tPreview helm upgrade changes as a diff\n'; fi ;;
  diff) if [ "$3" = "$CHANGED" ]; then echo "argocd, argocd-server, Deployment (apps) has changed:"; exit 2; fi ;;
esac
"#,
                calls = calls.display()
            ),
        );
        // kubectl: a ready API server with $NODES (name:True|False ...) and, unless $NO_CRD,
        // ArgoCD's CRD.
        let kcalls = bin.join("kubectl.calls");
        strata_testkit::script(
            bin.path(),
            "kubectl",
            &format!(
                r#"printf '%s\n' "$*" >> '{kcalls}'
case "$*" in
  *' /readyz') [ -n "$API_DOWN" ] && {{ echo "The connection to the server 10.10.0.11:6443 was refused" >&2; exit 1; }}; printf ok ;;
  *' /api/v1/nodes')
    printf '{{"items":['; sep=''
    for n in ${{NODES:-dev-cp-1:True}}; do
      printf '%s{{"metadata":{{"name":"%s"}},"status":{{"conditions":[{{"type":"Ready","status":"%s"}}]}}}}' "$sep" "${{n%%:*}}" "${{n#*:}}"; sep=','
    done
    printf ']}}' ;;
  *'get crd applications.argoproj.io'*)
    # As the real kubectl: NotFound is an error, unless --ignore-not-found makes it silence.
    if [ -n "$NO_CRD" ]; then
      case "$*" in *--ignore-not-found*) exit 0 ;; esac
      echo 'Error from server (NotFound): customresourcedefinitions.apiextensions.k8s.io "applications.argoproj.io" not found' >&2; exit 1
    fi
    echo customresourcedefinition.apiextensions.k8s.io/applications.argoproj.io ;;
esac
"#,
                kcalls = kcalls.display()
            ),
        );
        Self { repo, bin }
    }

    fn run(&self, args: &[&str], env: &[(&str, &str)]) -> Run {
        let helm = self.bin.join("helm").display().to_string();
        let kubectl = self.bin.join("kubectl").display().to_string();
        let mut all = vec![
            ("STRATA_HELM", helm.as_str()),
            ("STRATA_KUBECTL", kubectl.as_str()),
        ];
        all.extend(env);
        xtask_env(self.repo.path(), args, &all)
    }

    fn calls(&self, tool: &str) -> Vec<String> {
        std::fs::read_to_string(self.bin.join(format!("{tool}.calls")))
            .unwrap_or_default()
            .replace(&self.repo.path().display().to_string(), "[ROOT]")
            .lines()
            .map(str::to_owned)
            .collect()
    }

    fn upgrades(&self) -> Vec<String> {
        self.calls("helm")
            .into_iter()
            .filter(|c| c.starts_with("upgrade"))
            .map(|c| c.split_whitespace().nth(2).unwrap_or_default().to_owned())
            .collect()
    }
}

const DEPLOY: [&str; 6] = ["platform", "deploy", "--env", "development", "--jobs", "1"];

#[test]
fn deploy_gates_then_installs_every_release_in_needs_order() {
    let s = Setup::new();
    let run = s.run(&DEPLOY, &[]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stderr
            .contains("gate: the cluster answers, 1 node Ready"),
        "{}",
        run.stderr
    );
    assert_eq!(
        s.upgrades(),
        [
            "cert-manager",
            "ingress-nginx",
            "cluster-issuers",
            "argo-cd"
        ]
    );
    insta::assert_snapshot!("platform_deploy_helm3", s.calls("helm").join("\n"));
    // The kubeconfig is always explicit, for kubectl as for helm.
    assert!(
        s.calls("kubectl").iter().all(|c| c
            .starts_with("--kubeconfig [ROOT]/.strata/development/kubespray/artifacts/admin.conf")),
        "{:?}",
        s.calls("kubectl")
    );
    // Inline values from the bundle, as YAML.
    let values = read(
        s.repo.path(),
        ".strata/development/helm/values/cert-manager.yaml",
    );
    assert!(values.contains("crds:\n  enabled: true\n"), "{values}");
    assert!(
        run.stdout.contains("platform deploy: 4 releases done"),
        "{}",
        run.stdout
    );
    let mut json_args = DEPLOY.to_vec();
    json_args.extend(["--output", "json"]);
    let doc: PlatformDeployOutput = document(&s.run(&json_args, &[]));
    assert!(doc.ok && !doc.dry_run);
    let releases = doc.releases.unwrap();
    assert_eq!(releases.len(), 4);
    assert!(
        releases
            .iter()
            .all(|r| r.result == ReleaseResult::Done && r.error.is_none())
    );
    json_args.push("--dry-run");
    let dry: PlatformDeployOutput = document(&s.run(&json_args, &[]));
    assert!(dry.ok && dry.dry_run && dry.releases.is_none());
}

#[test]
fn helm_4_rolls_back_with_its_own_flag() {
    let s = Setup::new();
    let run = s.run(&DEPLOY, &[("HELM_VERSION", "v4.2.3+g1a2b3c4")]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let first = &s.calls("helm")[0];
    assert!(
        first.contains("--wait=watcher")
            && first.contains("--rollback-on-failure")
            && !first.contains("--atomic"),
        "{first}"
    );
}

#[test]
fn a_failed_release_stops_its_dependents_and_not_its_siblings() {
    let s = Setup::new();
    let run = s.run(&DEPLOY, &[("FAIL_RELEASE", "cert-manager")]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert_eq!(s.upgrades(), ["cert-manager", "ingress-nginx"]);
    let rows: Vec<Vec<&str>> = run
        .stdout
        .lines()
        .map(|l| l.split_whitespace().collect())
        .collect();
    let row = |name: &str| {
        rows.iter()
            .find(|r| r.first() == Some(&name))
            .unwrap_or_else(|| panic!("no row for {name}: {}", run.stdout))
            .clone()
    };
    assert_eq!(row("cert-manager")[1], "FAILED");
    assert_eq!(row("ingress-nginx")[1], "done");
    assert_eq!(
        row("cluster-issuers")[1..],
        [
            "skipped",
            "0.0s",
            "needs",
            "`cert-manager`,",
            "which",
            "failed"
        ]
    );
    assert_eq!(row("argo-cd")[1], "skipped");
    let mut json_args = DEPLOY.to_vec();
    json_args.extend(["--output", "json"]);
    let json = s.run(&json_args, &[("FAIL_RELEASE", "cert-manager")]);
    assert_eq!(json.code, 1);
    let doc: PlatformDeployOutput = document(&json);
    assert!(!doc.ok);
    let results: Vec<(String, ReleaseResult, bool)> = doc
        .releases
        .unwrap()
        .into_iter()
        .map(|r| (r.release, r.result, r.error.is_some()))
        .collect();
    assert!(
        results.contains(&("cert-manager".to_owned(), ReleaseResult::Failed, true))
            && results.contains(&("ingress-nginx".to_owned(), ReleaseResult::Done, false))
            && results.contains(&("argo-cd".to_owned(), ReleaseResult::Skipped, false)),
        "{results:?}"
    );
    assert!(
        run.stderr
            .contains("  | Error: UPGRADE FAILED: context deadline exceeded")
            && run
                .stderr
                .contains("error: release `cert-manager`: helm upgrade --install failed"),
        "{}",
        run.stderr
    );
}

#[test]
fn independent_releases_deploy_at_the_same_time() {
    let s = Setup::new();
    let barrier = TempDir::new("barrier");
    let b = barrier.path().display().to_string();
    // cert-manager and ingress-nginx need nothing: each waits for the other to start.
    let run = s.run(
        &["platform", "deploy", "--env", "development", "--jobs", "2"],
        &[("BARRIER", b.as_str())],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    let mut first_two = s.upgrades()[..2].to_vec();
    first_two.sort();
    assert_eq!(first_two, ["cert-manager", "ingress-nginx"]);
}

#[test]
fn the_gate_stops_a_deploy_to_a_cluster_that_does_not_answer() {
    let s = Setup::new();
    let down = s.run(&DEPLOY, &[("API_DOWN", "1")]);
    assert_eq!(down.code, 1, "{}", down.stderr);
    assert!(
        down.stderr
            .contains("error: gate: the cluster does not answer")
            && down
                .stderr
                .contains("  | The connection to the server 10.10.0.11:6443 was refused")
            && down.stderr.contains("`--skip-gate` deploys anyway"),
        "{}",
        down.stderr
    );
    let not_ready = s.run(&DEPLOY, &[("NODES", "dev-cp-1:True dev-worker-1:False")]);
    assert_eq!(not_ready.code, 1);
    assert!(
        not_ready
            .stderr
            .contains("gate: nodes are not Ready: dev-worker-1"),
        "{}",
        not_ready.stderr
    );
    assert!(s.upgrades().is_empty(), "nothing was deployed");

    let mut skip = DEPLOY.to_vec();
    skip.push("--skip-gate");
    let skipped = s.run(&skip, &[("API_DOWN", "1")]);
    assert_eq!(skipped.code, 0, "{}", skipped.stderr);
    assert!(
        skipped
            .stderr
            .contains("warning: not checking that the cluster answers (--skip-gate)")
    );
    assert_eq!(s.upgrades().len(), 4);

    std::fs::remove_file(
        s.repo
            .join(".strata/development/kubespray/artifacts/admin.conf"),
    )
    .unwrap();
    let none = s.run(&DEPLOY, &[]);
    assert_eq!(none.code, 2, "{}", none.stderr);
    assert!(
        none.stderr.contains("no kubeconfig for this environment"),
        "{}",
        none.stderr
    );
}

#[test]
fn template_renders_each_release_into_its_own_folder() {
    let s = Setup::new();
    let stale = ".strata/development/rendered/argo-cd/old/templates/gone.yaml";
    write(s.repo.path(), stale, "kind: Gone\n");
    let run = s.run(&["platform", "template", "--env", "development"], &[]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    for release in [
        "cert-manager",
        "ingress-nginx",
        "cluster-issuers",
        "argo-cd",
    ] {
        assert!(
            s.repo
                .join(format!(
                    ".strata/development/rendered/{release}/chart/templates/rendered.yaml"
                ))
                .is_file(),
            "{release}"
        );
    }
    assert!(!s.repo.join(stale).exists(), "nothing stale survives");
    insta::assert_snapshot!("platform_template", s.calls("helm").join("\n"));
    assert!(s.calls("kubectl").is_empty(), "no cluster involved");
    let json = s.run(
        &[
            "platform",
            "template",
            "--env",
            "development",
            "--output",
            "json",
        ],
        &[],
    );
    let doc: TemplateOutput = document(&json);
    assert_eq!(
        (doc.ok, doc.dir.as_str()),
        (true, ".strata/development/rendered")
    );
    assert!(
        s.calls("helm")
            .iter()
            .all(|c| c.starts_with("template") && !c.contains("--kubeconfig")),
        "{:?}",
        s.calls("helm")
    );
}

#[test]
fn diff_needs_its_plugin_and_exits_4_on_changes() {
    let s = Setup::new();
    let diff = ["platform", "diff", "--env", "development"];
    // No plugin: the plan cannot be made, which is a failure (1), never "changes" and never
    // "invalid input" (2).
    let missing = s.run(&diff, &[]);
    assert_eq!(missing.code, 1, "{}", missing.stderr);
    assert!(
        missing
            .stderr
            .contains("`helm diff` needs the helm-diff plugin")
            && missing
                .stderr
                .contains("helm plugin install https://github.com/databus23/helm-diff"),
        "{}",
        missing.stderr
    );
    // Helm 4 refuses the unsigned git source without --verify=false; Helm 3 has no such flag.
    let missing4 = s.run(&diff, &[("HELM_VERSION", "v4.3.2+g1a2b3c4")]);
    assert_eq!(missing4.code, 1, "{}", missing4.stderr);
    assert!(
        missing4.stderr.contains(
            "install it with `helm plugin install --verify=false https://github.com/databus23/helm-diff`: Helm 4 verifies plugin signatures"
        ),
        "{}",
        missing4.stderr
    );
    assert!(!missing.stderr.contains("--verify"), "{}", missing.stderr);
    let mut json_args = diff.to_vec();
    json_args.extend(["--output", "json"]);
    let failure: Failure = document(&s.run(&json_args, &[]));
    assert!(failure.error.contains("helm-diff plugin"), "{failure:#?}");
    let same = s.run(&diff, &[("DIFF_PLUGIN", "1")]);
    assert_eq!(same.code, 0, "{}", same.stderr);
    assert!(same.stdout.contains("platform diff: nothing would change"));
    insta::assert_snapshot!(
        "platform_diff",
        s.calls("helm")
            .iter()
            .filter(|c| c.starts_with("diff"))
            .cloned()
            .collect::<Vec<_>>()
            .join("\n")
    );
    let changed = s.run(&diff, &[("DIFF_PLUGIN", "1"), ("CHANGED", "argo-cd")]);
    assert_eq!(changed.code, 4, "{}", changed.stderr);
    let json = s.run(&json_args, &[("DIFF_PLUGIN", "1"), ("CHANGED", "argo-cd")]);
    assert_eq!(json.code, 4);
    assert_eq!(document::<DiffOutput>(&json).changed, ["argo-cd"]);
    assert!(
        changed.stdout.contains(
            "--- argo-cd would change:\nargocd, argocd-server, Deployment (apps) has changed:"
        ),
        "{}",
        changed.stdout
    );
    assert!(
        s.calls("helm")
            .iter()
            .filter(|c| c.starts_with("diff"))
            .all(|c| c.contains("--allow-unreleased --detailed-exitcode --kubeconfig")),
    );
}

#[test]
fn business_deploy_needs_argocd_then_installs_the_app_of_apps() {
    let s = Setup::new();
    let args = ["business", "deploy", "--env", "development"];
    let no_argo = s.run(&args, &[("NO_CRD", "1")]);
    assert_eq!(no_argo.code, 1, "{}", no_argo.stderr);
    assert!(
        no_argo.stderr.contains(
            "ArgoCD's `Application` CRD (applications.argoproj.io) is not in the cluster"
        ) && no_argo
            .stderr
            .contains("cargo xtask platform deploy --env development"),
        "{}",
        no_argo.stderr
    );
    assert!(s.upgrades().is_empty());
    let run = s.run(&args, &[]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    insta::assert_snapshot!("business_deploy_helm3", s.calls("helm").join("\n"));
    let mut json_args = args.to_vec();
    json_args.extend(["--output", "json"]);
    let done: BusinessOutput = document(&s.run(&json_args, &[]));
    assert_eq!((done.ok, done.commands), (true, None));
    json_args.push("--dry-run");
    let dry: BusinessOutput = document(&s.run(&json_args, &[]));
    let commands = dry.commands.unwrap();
    assert!(
        commands.len() == 1 && commands[0].contains("upgrade --install cluster-apps"),
        "{commands:?}"
    );
}

#[test]
fn business_deploy_goes_to_the_namespace_of_the_argocd_release() {
    let s = Setup::new();
    // The platform installs ArgoCD (the argo-cd chart) into `gitops`.
    strata_testkit::edit(
        s.repo.path(),
        "api/outputs/development/platform.yaml",
        "  namespace: argocd\n",
        "  namespace: gitops\n",
    );
    let run = s.run(&["business", "deploy", "--env", "development"], &[]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let upgrade = s.calls("helm").pop().unwrap();
    assert!(
        upgrade.starts_with(
            "upgrade --install cluster-apps [ROOT]/business/charts/cluster-apps --namespace gitops "
        ),
        "{upgrade}"
    );
    assert!(
        run.stdout
            .contains("business deploy: cluster-apps deployed to gitops"),
        "{}",
        run.stdout
    );
}

#[test]
fn graph_draws_the_release_dag() {
    let s = Setup::new();
    let mermaid = s.run(&["graph", "--env", "development"], &[]);
    assert_eq!(mermaid.code, 0);
    insta::assert_snapshot!("graph_mermaid", mermaid.stdout);
    let dot = s.run(&["graph", "--env", "development", "--format", "dot"], &[]);
    assert!(
        dot.stdout.contains("  \"cert-manager\" -> \"argo-cd\";"),
        "{}",
        dot.stdout
    );
}
