//! What the Helm layers share: their events, the programs they run (helm with its major
//! version, kubectl), the bundle's platform releases and their dependency builds.

use std::path::{Path, PathBuf};

use strata_bundle::Bundle;
use strata_config::Layout;
use strata_exec::{Context, ExecError, RunOptions};
use strata_metadata::{FileKind, Notice, PlatformConfig};

use crate::cluster::Kubeconfig;
use crate::{
    Helm, HelmError, ReleaseOutcome, ReleasePlan, dependency_builds, helm_major, order,
    read_platform,
};

/// What happens during a Helm layer's run, in the order it happens. The outcome keeps all of
/// it too; events are for showing progress while the run goes on.
#[derive(Debug, Clone, Copy)]
pub enum HelmEvent<'a> {
    /// Something worth knowing that is not a failure (which kubeconfig, the gate's answer).
    Notice(&'a Notice),
    /// A local chart's dependencies are being built for this release (not in a dry run).
    Dependencies {
        /// The first release that uses the chart.
        release: &'a str,
    },
    /// A release's `helm upgrade --install` started (not in a dry run).
    Started {
        /// The release.
        release: &'a str,
    },
    /// A release ended: deployed (or, in a dry run, shown), failed, or skipped because a
    /// release it needs failed.
    Finished(&'a ReleaseOutcome),
    /// `diff_platform`: a release was compared with the cluster; its diff when it would change.
    Diffed {
        /// The release.
        release: &'a str,
        /// helm-diff's output, when anything would change.
        diff: Option<&'a str>,
    },
    /// `template_platform`: a release was rendered into its folder, or failed to.
    Rendered {
        /// The release.
        release: &'a str,
        /// The folder, or why not.
        result: Result<&'a Path, &'a HelmError>,
    },
}

/// An error and each of its causes, joined with `: `.
pub(crate) fn error_chain(err: &dyn std::error::Error) -> String {
    strata_util::error_chain(err)
}

/// A path relative to the repository root when it is inside it.
pub(crate) fn shown(layout: &Layout, path: &Path) -> PathBuf {
    path.strip_prefix(layout.root()).unwrap_or(path).to_owned()
}

/// The bundle's platform releases, checked for order (every `needs` is a release, no cycle).
pub fn platform_config(bundle: &Bundle) -> Result<PlatformConfig, HelmError> {
    let path = bundle
        .path(FileKind::Platform)
        .unwrap_or_else(|| bundle.dir().join("platform.yaml"));
    let config = read_platform(&path)?;
    order(&config.releases)?;
    Ok(config)
}

/// The programs the Helm layers run. `None` finds each through its override variable
/// (`STRATA_HELM`, `STRATA_KUBECTL`), else on `PATH`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HelmTools {
    /// helm.
    pub helm: Option<PathBuf>,
    /// kubectl, for the gates.
    pub kubectl: Option<PathBuf>,
}

/// helm (`program`, else through `STRATA_HELM`, else on `PATH`) and its major version, asked
/// in `cwd`; in a dry run a missing helm is shown by name with Helm 3's flags, which a notice
/// says.
pub fn find_helm(
    program: Option<&Path>,
    cwd: &Path,
    dry_run: bool,
) -> Result<(Helm, Option<Notice>), HelmError> {
    let found = match program {
        Some(path) => Ok(strata_exec::FoundTool {
            tool: crate::HELM,
            path: path.to_owned(),
            from_override: true,
        }),
        None => strata_exec::find_tool(&crate::HELM),
    };
    match found {
        Ok(found) => {
            let (line, _) = strata_exec::tool_version(&found, cwd)?;
            let major = helm_major(&line)?;
            Ok((
                Helm {
                    program: found.path,
                    major,
                },
                None,
            ))
        }
        Err(ExecError::ToolNotFound { .. }) if dry_run => Ok((
            Helm {
                program: PathBuf::from("helm"),
                major: 3,
            },
            Some(Notice::info(
                "helm is not installed here: showing the commands with Helm 3's flags",
            )),
        )),
        Err(e) => Err(e.into()),
    }
}

/// kubectl: `program`, else through `STRATA_KUBECTL`, else on `PATH`.
pub(crate) fn find_kubectl(program: Option<&Path>) -> Result<PathBuf, HelmError> {
    match program {
        Some(path) => Ok(path.to_owned()),
        None => Ok(strata_exec::find_tool(&crate::KUBECTL)?.path),
    }
}

/// Collects notices and sends each to the caller as it comes.
pub(crate) struct Notes<'e, 'f> {
    pub(crate) all: Vec<Notice>,
    pub(crate) on_event: &'e mut (dyn FnMut(HelmEvent<'_>) + 'f),
}

impl Notes<'_, '_> {
    pub(crate) fn push(&mut self, notice: Notice) {
        (self.on_event)(HelmEvent::Notice(&notice));
        self.all.push(notice);
    }

    /// Which kubeconfig is used, unless it is only assumed (a dry run that found none).
    pub(crate) fn kubeconfig(&mut self, layout: &Layout, k: &Kubeconfig) {
        if k.source == crate::KubeconfigSource::Assumed {
            return;
        }
        self.push(Notice::info(format!(
            "kubeconfig: {} (from {})",
            shown(layout, &k.path).display(),
            k.source
        )));
    }
}

/// The releases resolved against the repository, in `needs` order, their inline values
/// written under `.strata/<env>/helm/values/`.
pub(crate) fn plans(
    layout: &Layout,
    env: &str,
    config: &PlatformConfig,
) -> Result<Vec<ReleasePlan>, HelmError> {
    let values_dir = layout.state_dir(env).join("helm").join("values");
    order(&config.releases)?
        .into_iter()
        .map(|r| ReleasePlan::new(layout, r, &values_dir))
        .collect()
}

/// Builds the dependencies of the local charts that need it (`helm dependency build`), one
/// after the other, before any release runs; in a dry run only records the commands.
pub(crate) fn build_dependencies(
    layout: &Layout,
    plans: &[ReleasePlan],
    helm: &Helm,
    cwd: &Path,
    ctx: &Context<'_>,
    commands: &mut Vec<String>,
    on_event: &mut dyn FnMut(HelmEvent<'_>),
) -> Result<(), HelmError> {
    for (release, cmd) in dependency_builds(plans, helm, cwd)? {
        commands.push(cmd.to_string());
        if ctx.dry_run {
            continue;
        }
        on_event(HelmEvent::Dependencies { release: &release });
        let log = ctx.log(&format!("dependencies-{release}.log"));
        let opts = RunOptions {
            tail_lines: 20,
            ..ctx.run_options(log.as_deref())
        };
        strata_exec::run(&cmd, &opts).map_err(|source| HelmError::Command {
            release,
            step: "helm dependency build",
            log: log.map(|l| shown(layout, &l)),
            source: Box::new(source),
        })?;
    }
    Ok(())
}
