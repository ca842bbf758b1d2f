//! A sample repository with the development bundle, and stand-in helm and kubectl.

use std::path::{Path, PathBuf};

use strata_bundle::{Bundle, GenerateOptions, generate};
use strata_config::Layout;
use strata_helm::{HelmEvent, HelmTools, ReleaseResult};
use strata_metadata::{EnvironmentId, PackageId};
use strata_testkit::TempDir;

/// How the stand-ins behave in one test.
#[derive(Default)]
pub(crate) struct Behaviour {
    /// `helm version --short` prints this (Helm 3 by default).
    pub(crate) helm_version: Option<&'static str>,
    /// `helm upgrade` of this release fails as a timed-out upgrade does.
    pub(crate) fail_release: Option<&'static str>,
    /// `helm plugin list` lists helm-diff.
    pub(crate) diff_plugin: bool,
    /// `helm diff upgrade` of this release finds changes.
    pub(crate) changed: Option<&'static str>,
    /// `helm template` of this release fails.
    pub(crate) fail_template: Option<&'static str>,
    /// The nodes the API server lists, `name:True|False`; "dev-cp-1:True" by default.
    pub(crate) nodes: Option<&'static str>,
    /// `/readyz` is refused.
    pub(crate) api_down: bool,
    /// ArgoCD's CRD: `present` (default), `missing` or `forbidden`.
    pub(crate) crd: Option<&'static str>,
}

pub(crate) struct Setup {
    pub(crate) repo: TempDir,
    bin: TempDir,
    pub(crate) layout: Layout,
    pub(crate) bundle: Bundle,
}

impl Setup {
    /// The sample with the development bundle generated and Kubespray's admin.conf kept.
    pub(crate) fn new(b: &Behaviour) -> Self {
        let repo = strata_testkit::sample_repo();
        let layout = Layout::new(repo.path());
        let env = EnvironmentId::new("development").unwrap();
        generate(
            &layout,
            &env,
            &PackageId::new("core").unwrap(),
            &GenerateOptions {
                skip_validate: false,
                generated_at: Some(1_795_599_715),
            },
        )
        .expect("the sample generates");
        let conf = layout.kubespray_kubeconfig("development");
        std::fs::create_dir_all(conf.parent().unwrap()).unwrap();
        std::fs::write(&conf, "apiVersion: v1\nkind: Config\n").unwrap();
        let bundle = Bundle::open(&layout.bundle_dir("development")).unwrap();
        let bin = TempDir::new("helm-layer-bin");
        let calls = bin.join("helm.calls");
        strata_testkit::script(
            bin.path(),
            "helm",
            &format!(
                r#"case "$1" in version) echo '{version}'; exit 0 ;; esac
printf '%s\n' "$*" >> '{calls}'
case "$1" in
  upgrade)
    if [ "$3" = '{fail}' ]; then echo "Error: UPGRADE FAILED: context deadline exceeded" >&2; exit 1; fi
    echo "Release \"$3\" has been upgraded. Happy Helming!" ;;
  template)
    if [ "$2" = '{fail_template}' ]; then echo "Error: chart not found" >&2; exit 1; fi
    while [ $# -gt 0 ]; do [ "$1" = --output-dir ] && out="$2"; shift; done
    mkdir -p "$out/chart/templates" && echo "kind: ConfigMap" > "$out/chart/templates/rendered.yaml" ;;
  plugin)
    printf 'NAME\tVERSION\tDESCRIPTION\n'
    {plugin} ;;
  diff) if [ "$3" = '{changed}' ]; then echo "argocd, argocd-server, Deployment (apps) has changed:"; exit 2; fi ;;
esac
"#,
                version = b.helm_version.unwrap_or("v3.16.2+g13654a5"),
                calls = calls.display(),
                fail = b.fail_release.unwrap_or("-"),
                fail_template = b.fail_template.unwrap_or("-"),
                changed = b.changed.unwrap_or("-"),
                plugin = if b.diff_plugin {
                    r"printf 'diff\t3.9.11\tPreview helm upgrade changes as a diff\n'"
                } else {
                    ":"
                },
            ),
        );
        let kcalls = bin.join("kubectl.calls");
        let crd = match b.crd.unwrap_or("present") {
            "present" => {
                "echo customresourcedefinition.apiextensions.k8s.io/applications.argoproj.io"
            }
            "missing" => {
                "case \"$*\" in *--ignore-not-found*) exit 0 ;; esac; echo 'Error from server (NotFound): customresourcedefinitions.apiextensions.k8s.io \"applications.argoproj.io\" not found' >&2; exit 1"
            }
            _ => {
                "echo 'Error from server (Forbidden): customresourcedefinitions.apiextensions.k8s.io \"applications.argoproj.io\" is forbidden: User \"dev\" cannot get resource' >&2; exit 1"
            }
        };
        strata_testkit::script(
            bin.path(),
            "kubectl",
            &format!(
                r#"printf '%s\n' "$*" >> '{kcalls}'
case "$*" in
  *' /readyz') {down} printf ok ;;
  *' /api/v1/nodes')
    printf '{{"items":['; sep=''
    for n in {nodes}; do
      printf '%s{{"metadata":{{"name":"%s"}},"status":{{"conditions":[{{"type":"Ready","status":"%s"}}]}}}}' "$sep" "${{n%%:*}}" "${{n#*:}}"; sep=','
    done
    printf ']}}' ;;
  *'get crd applications.argoproj.io'*) {crd} ;;
esac
"#,
                kcalls = kcalls.display(),
                down = if b.api_down {
                    "echo 'The connection to the server 10.10.0.11:6443 was refused' >&2; exit 1;"
                } else {
                    ""
                },
                nodes = b.nodes.unwrap_or("dev-cp-1:True"),
            ),
        );
        Self {
            repo,
            bin,
            layout,
            bundle,
        }
    }

    pub(crate) fn tools(&self) -> HelmTools {
        HelmTools {
            helm: Some(self.bin.join("helm")),
            kubectl: Some(self.bin.join("kubectl")),
        }
    }

    pub(crate) fn logs(&self) -> PathBuf {
        self.repo.join(".strata/development/runs/test")
    }

    /// Each call of `tool` (its arguments), the repository shown as `[ROOT]`.
    pub(crate) fn calls(&self, tool: &str) -> Vec<String> {
        std::fs::read_to_string(self.bin.join(format!("{tool}.calls")))
            .unwrap_or_default()
            .replace(&self.repo.path().display().to_string(), "[ROOT]")
            .lines()
            .map(str::to_owned)
            .collect()
    }

    pub(crate) fn root(&self) -> &Path {
        self.repo.path()
    }
}

/// An event as one line, for comparing sequences.
pub(crate) fn describe(e: &HelmEvent<'_>) -> String {
    match e {
        HelmEvent::Notice(n) => format!("notice: {}", n.message),
        HelmEvent::Dependencies { release } => format!("dependencies: {release}"),
        HelmEvent::Started { release } => format!("started: {release}"),
        HelmEvent::Finished(o) => match &o.result {
            ReleaseResult::Done => format!("done: {}", o.name),
            ReleaseResult::Failed(_) => format!("failed: {}", o.name),
            ReleaseResult::Skipped { failed } => format!("skipped: {} ({failed})", o.name),
        },
        HelmEvent::Diffed { release, diff } => format!("diffed: {release} {}", diff.is_some()),
        HelmEvent::Rendered { release, result } => {
            format!("rendered: {release} {}", result.is_ok())
        }
    }
}
