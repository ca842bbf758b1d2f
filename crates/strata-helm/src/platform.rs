//! The platform layer's entry points: deploy every release of the bundle's `platform.yaml` as a
//! dependency graph, diff them against the cluster, or render them offline. Each finds helm and
//! the kubeconfig itself, builds local charts' dependencies, runs helm in its own empty folder
//! and reports what happens as [`HelmEvent`]s while it happens.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::Duration;

use strata_bundle::Bundle;
use strata_config::Layout;
use strata_exec::{Context, ExecError, RunOptions, TOOLS};
use strata_metadata::{
    ErrorKind, FileKind, Notice, PhaseDetail, PlatformConfig, Release, ReleaseStatus,
};

use crate::cluster::{Kubeconfig, cluster_gate, kubeconfig_for};
use crate::{
    Helm, HelmError, ReleaseOutcome, ReleasePlan, ReleaseResult, dependency_builds, helm_major,
    order, read_platform, run_graph, work_dir,
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

/// What `platform deploy` is asked to do, beyond the bundle.
#[derive(Debug, Clone, Default)]
pub struct PlatformRequest {
    /// The cluster's kubeconfig; else the one Kubespray kept for the environment, else
    /// `KUBECONFIG`.
    pub kubeconfig: Option<PathBuf>,
    /// How many independent releases are deployed at once (at least 1; a dry run uses 1, so
    /// its commands come in a stable order).
    pub jobs: usize,
    /// Deploy without first checking that the cluster answers (a warning says so).
    pub skip_gate: bool,
    /// The programs to run.
    pub tools: HelmTools,
}

/// What a platform deploy did.
#[derive(Debug)]
pub struct PlatformOutcome {
    /// Whether it was a dry run (every command shown, none run).
    pub dry_run: bool,
    /// The kubeconfig every command was given.
    pub kubeconfig: Kubeconfig,
    /// What was worth knowing, in order (also sent as [`HelmEvent::Notice`]).
    pub notices: Vec<Notice>,
    /// Every helm command, shell-quoted with secrets masked, in the order it ran (or would):
    /// the dependency builds, then the releases.
    pub commands: Vec<String>,
    /// Each release, in `needs` order.
    pub releases: Vec<ReleaseOutcome>,
    /// Each release's log, relative to the repository root when inside it.
    pub logs: BTreeMap<String, PathBuf>,
}

impl PlatformOutcome {
    /// Whether any release failed or was skipped.
    pub fn failed(&self) -> bool {
        self.releases
            .iter()
            .any(|r| !matches!(r.result, ReleaseResult::Done))
    }

    /// The errors of the releases that failed, in order.
    pub fn errors(&self) -> impl Iterator<Item = (&str, &HelmError)> {
        self.releases.iter().filter_map(|r| match &r.result {
            ReleaseResult::Failed(e) => Some((r.name.as_str(), e)),
            _ => None,
        })
    }

    /// The kind of the run's failure, when a release failed: `Interrupted` when the run was
    /// stopped, else `Failed` (helm or the cluster failed).
    pub fn error_kind(&self) -> Option<ErrorKind> {
        let kinds: Vec<ErrorKind> = self.errors().map(|(_, e)| e.kind()).collect();
        if kinds.contains(&ErrorKind::Interrupted) {
            Some(ErrorKind::Interrupted)
        } else if self.failed() {
            Some(ErrorKind::Failed)
        } else {
            None
        }
    }

    /// The typed detail for the run's report.
    pub fn detail(&self) -> PhaseDetail {
        PhaseDetail::Releases {
            releases: self
                .releases
                .iter()
                .map(|r| release_outcome(r, self.dry_run))
                .collect(),
        }
    }
}

/// One release as the report records it.
fn release_outcome(r: &ReleaseOutcome, dry_run: bool) -> strata_metadata::ReleaseOutcome {
    let (status, message) = match &r.result {
        ReleaseResult::Done if dry_run => (ReleaseStatus::DryRun, None),
        ReleaseResult::Done => (ReleaseStatus::Deployed, None),
        ReleaseResult::Failed(e) => (ReleaseStatus::Failed, Some(error_chain(e))),
        ReleaseResult::Skipped { failed } => (
            ReleaseStatus::Skipped,
            Some(format!("needs `{failed}`, which failed")),
        ),
    };
    strata_metadata::ReleaseOutcome {
        name: r.name.clone(),
        namespace: r.namespace.clone(),
        status,
        seconds: r.took.as_secs_f64(),
        message,
    }
}

/// An error and each of its causes, joined with `: `.
pub(crate) fn error_chain(err: &dyn std::error::Error) -> String {
    let mut message = err.to_string();
    let mut cause = err.source();
    while let Some(c) = cause {
        message.push_str(&format!(": {c}"));
        cause = c.source();
    }
    message
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
            tool: TOOLS[3],
            path: path.to_owned(),
            from_override: true,
        }),
        None => strata_exec::find_tool(&TOOLS[3]),
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
        None => Ok(strata_exec::find_tool(&TOOLS[4])?.path),
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
fn plans(
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

/// `platform deploy`: the cluster gate (unless skipped, and never in a dry run), then
/// `helm upgrade --install` of every release of the bundle's `platform.yaml`, each once the
/// releases it `needs` are deployed, at most `request.jobs` at a time; a failure skips what
/// needs it and nothing else. In a dry run nothing reaches the cluster: every command is
/// recorded instead.
///
/// A release that fails is in the outcome ([`PlatformOutcome::failed`]); an error means no
/// release ran: the input is wrong, or helm, the kubeconfig or the gate is missing or refused.
#[tracing::instrument(skip_all, fields(env = %bundle.metadata().environment))]
pub fn deploy_platform(
    layout: &Layout,
    bundle: &Bundle,
    request: &PlatformRequest,
    ctx: &Context<'_>,
    on_event: &mut dyn FnMut(HelmEvent<'_>),
) -> Result<PlatformOutcome, HelmError> {
    let env = bundle.metadata().environment.as_str();
    let config = platform_config(bundle)?;
    let mut notes = Notes {
        all: Vec::new(),
        on_event,
    };
    let kubeconfig = kubeconfig_for(layout, env, request.kubeconfig.as_deref(), ctx.dry_run)?;
    notes.kubeconfig(layout, &kubeconfig);
    let cwd = work_dir(layout, env)?;
    if ctx.dry_run {
        // Nothing reaches the cluster.
    } else if request.skip_gate {
        notes.push(Notice::warning(
            "not checking that the cluster answers (--skip-gate)",
            Some("a release then fails on its own, after its --timeout".to_owned()),
        ));
    } else {
        let kubectl = find_kubectl(request.tools.kubectl.as_deref())?;
        let nodes = cluster_gate(env, &kubectl, &kubeconfig.path, &cwd)?;
        notes.push(Notice::info(format!(
            "gate: the cluster answers, {nodes} {} Ready",
            if nodes == 1 { "node" } else { "nodes" }
        )));
    }
    let (helm, helm_note) = find_helm(request.tools.helm.as_deref(), layout.root(), ctx.dry_run)?;
    if let Some(n) = helm_note {
        notes.push(n);
    }
    let plans = plans(layout, env, &config)?;
    let mut commands = Vec::new();
    build_dependencies(
        layout,
        &plans,
        &helm,
        &cwd,
        ctx,
        &mut commands,
        notes.on_event,
    )?;
    let logs: BTreeMap<String, PathBuf> = match ctx.logs {
        Some(_) if !ctx.dry_run => plans
            .iter()
            .filter_map(|p| {
                let name = &p.release.name;
                ctx.log(&format!("platform-{name}.log"))
                    .map(|l| (name.clone(), shown(layout, &l)))
            })
            .collect(),
        _ => BTreeMap::new(),
    };
    let ran = Mutex::new(Vec::new());
    let step = |release: &Release| -> Result<(), HelmError> {
        let plan = plans
            .iter()
            .find(|p| p.release.name == release.name)
            .expect("a plan per release");
        let cmd = plan.upgrade(&helm, &cwd, &kubeconfig.path);
        ran.lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(cmd.to_string());
        if ctx.dry_run {
            return Ok(());
        }
        if ctx.interrupted() {
            return Err(HelmError::Interrupted);
        }
        let log = ctx.log(&format!("platform-{}.log", release.name));
        let opts = RunOptions {
            tail_lines: 20,
            ..ctx.run_options(log.as_deref())
        };
        strata_exec::run(&cmd, &opts)
            .map(|_| ())
            .map_err(|source| HelmError::Command {
                release: release.name.clone(),
                step: "helm upgrade --install",
                log: log.map(|l| shown(layout, &l)),
                source: Box::new(source),
            })
    };
    // A dry run records its commands in a stable order.
    let jobs = if ctx.dry_run { 1 } else { request.jobs.max(1) };
    let on_event = notes.on_event;
    let releases = run_graph(&config.releases, jobs, step, &mut |e| match e {
        crate::GraphEvent::Started(release) if !ctx.dry_run => {
            on_event(HelmEvent::Started { release });
        }
        crate::GraphEvent::Started(_) => {}
        crate::GraphEvent::Finished(outcome) => on_event(HelmEvent::Finished(outcome)),
    })?;
    commands.extend(ran.into_inner().unwrap_or_else(|e| e.into_inner()));
    Ok(PlatformOutcome {
        dry_run: ctx.dry_run,
        kubeconfig,
        notices: notes.all,
        commands,
        releases,
        logs,
    })
}

/// What `platform diff` is asked to do, beyond the bundle.
#[derive(Debug, Clone, Default)]
pub struct DiffRequest {
    /// The cluster's kubeconfig; else the one Kubespray kept for the environment, else
    /// `KUBECONFIG`.
    pub kubeconfig: Option<PathBuf>,
    /// The programs to run.
    pub tools: HelmTools,
}

/// What `platform template` is asked to do, beyond the bundle.
#[derive(Debug, Clone, Default)]
pub struct TemplateRequest {
    /// The programs to run.
    pub tools: HelmTools,
}

/// One release compared with the cluster.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReleaseDiff {
    /// The release.
    pub name: String,
    /// Its namespace.
    pub namespace: String,
    /// helm-diff's output when the release would change; `None` when nothing would.
    pub diff: Option<String>,
}

/// What a platform diff found.
#[derive(Debug)]
pub struct DiffOutcome {
    /// The kubeconfig every command was given.
    pub kubeconfig: Kubeconfig,
    /// What was worth knowing, in order.
    pub notices: Vec<Notice>,
    /// Every helm command run, in order.
    pub commands: Vec<String>,
    /// Each release, in `needs` order.
    pub releases: Vec<ReleaseDiff>,
    /// Wall time of each diff.
    pub took: Vec<Duration>,
}

impl DiffOutcome {
    /// Whether any release would change.
    pub fn has_changes(&self) -> bool {
        self.releases.iter().any(|r| r.diff.is_some())
    }

    /// The releases that would change, in order.
    pub fn changed(&self) -> Vec<&str> {
        self.releases
            .iter()
            .filter(|r| r.diff.is_some())
            .map(|r| r.name.as_str())
            .collect()
    }

    /// The typed detail for the run's report.
    pub fn detail(&self) -> PhaseDetail {
        PhaseDetail::Releases {
            releases: self
                .releases
                .iter()
                .zip(&self.took)
                .map(|(r, took)| strata_metadata::ReleaseOutcome {
                    name: r.name.clone(),
                    namespace: r.namespace.clone(),
                    status: if r.diff.is_some() {
                        ReleaseStatus::Changes
                    } else {
                        ReleaseStatus::NoChanges
                    },
                    seconds: took.as_secs_f64(),
                    message: None,
                })
                .collect(),
        }
    }
}

/// `platform diff`: `helm diff upgrade --detailed-exitcode` (the helm-diff plugin) of every
/// release against the cluster, in `needs` order. helm-diff's exit 2 means "would change" and
/// is an answer, not a failure: [`DiffOutcome::has_changes`] says it. A missing plugin is
/// [`HelmError::NoDiffPlugin`] (kind `Failed`: a plan that cannot be made is never "changes"),
/// and the first diff that fails stops the run.
#[tracing::instrument(skip_all, fields(env = %bundle.metadata().environment))]
pub fn diff_platform(
    layout: &Layout,
    bundle: &Bundle,
    request: &DiffRequest,
    ctx: &Context<'_>,
    on_event: &mut dyn FnMut(HelmEvent<'_>),
) -> Result<DiffOutcome, HelmError> {
    let env = bundle.metadata().environment.as_str();
    let config = platform_config(bundle)?;
    let mut notes = Notes {
        all: Vec::new(),
        on_event,
    };
    let (helm, _) = find_helm(request.tools.helm.as_deref(), layout.root(), false)?;
    let cwd = work_dir(layout, env)?;
    let plugins = strata_exec::run(
        &strata_exec::Command::new(&helm.program, &cwd).args(["plugin", "list"]),
        &RunOptions {
            capture_stdout: true,
            ..RunOptions::default()
        },
    )?;
    if !plugins
        .stdout
        .lines()
        .any(|l| l.split_whitespace().next() == Some("diff"))
    {
        return Err(HelmError::NoDiffPlugin { major: helm.major });
    }
    let kubeconfig = kubeconfig_for(layout, env, request.kubeconfig.as_deref(), false)?;
    notes.kubeconfig(layout, &kubeconfig);
    let plans = plans(layout, env, &config)?;
    let mut commands = Vec::new();
    // A diff shows what a deploy would change, so its dependency builds run, dry run or not.
    let build_ctx = Context {
        dry_run: false,
        ..*ctx
    };
    build_dependencies(
        layout,
        &plans,
        &helm,
        &cwd,
        &build_ctx,
        &mut commands,
        notes.on_event,
    )?;
    let mut releases = Vec::new();
    let mut took = Vec::new();
    for plan in &plans {
        let release = &plan.release;
        let cmd = plan.diff(&helm, &cwd, &kubeconfig.path);
        commands.push(cmd.to_string());
        let started = std::time::Instant::now();
        let out = strata_exec::run(
            &cmd,
            &RunOptions {
                capture_stdout: true,
                success_codes: &[0, 2],
                tail_lines: 20,
                interrupt: ctx.interrupt.map(strata_exec::Interrupt::flag),
                ..RunOptions::default()
            },
        )
        .map_err(|source| HelmError::Command {
            release: release.name.clone(),
            step: "helm diff upgrade",
            log: None,
            source: Box::new(source),
        })?;
        let diff = (out.code == 2).then(|| out.stdout.trim_end().to_owned());
        (notes.on_event)(HelmEvent::Diffed {
            release: &release.name,
            diff: diff.as_deref(),
        });
        took.push(started.elapsed());
        releases.push(ReleaseDiff {
            name: release.name.clone(),
            namespace: release.namespace.clone(),
            diff,
        });
    }
    Ok(DiffOutcome {
        kubeconfig,
        notices: notes.all,
        commands,
        releases,
        took,
    })
}

/// One release rendered by `template_platform`.
#[derive(Debug)]
pub struct Rendered {
    /// The release.
    pub name: String,
    /// Its folder (`.strata/<env>/rendered/<release>/`), or why it could not be rendered.
    pub result: Result<PathBuf, HelmError>,
}

/// What a platform render did.
#[derive(Debug)]
pub struct TemplateOutcome {
    /// The folder every release is rendered into, one subfolder each.
    pub dir: PathBuf,
    /// Every helm command run, in order.
    pub commands: Vec<String>,
    /// Each release, in `needs` order.
    pub releases: Vec<Rendered>,
}

impl TemplateOutcome {
    /// Whether any release failed to render.
    pub fn failed(&self) -> bool {
        self.releases.iter().any(|r| r.result.is_err())
    }
}

/// `platform template`: `helm template` of every release into
/// `.strata/<env>/rendered/<release>/`, offline (no cluster, no kubeconfig). Each release's
/// folder holds exactly its render: whatever was there is removed first. A release that fails
/// to render does not stop the others; the outcome says which failed.
#[tracing::instrument(skip_all, fields(env = %bundle.metadata().environment))]
pub fn template_platform(
    layout: &Layout,
    bundle: &Bundle,
    request: &TemplateRequest,
    ctx: &Context<'_>,
    on_event: &mut dyn FnMut(HelmEvent<'_>),
) -> Result<TemplateOutcome, HelmError> {
    let env = bundle.metadata().environment.as_str();
    let config = platform_config(bundle)?;
    let (helm, _) = find_helm(request.tools.helm.as_deref(), layout.root(), false)?;
    let rendered = layout.state_dir(env).join("rendered");
    let cwd = work_dir(layout, env)?;
    let plans = plans(layout, env, &config)?;
    let mut commands = Vec::new();
    // Rendering is offline and local: it runs in a dry run too.
    let ctx = Context {
        dry_run: false,
        ..*ctx
    };
    build_dependencies(layout, &plans, &helm, &cwd, &ctx, &mut commands, on_event)?;
    let mut releases = Vec::new();
    for plan in &plans {
        let name = &plan.release.name;
        let out = rendered.join(name);
        let _ = std::fs::remove_dir_all(&out);
        std::fs::create_dir_all(&out).map_err(|source| HelmError::Io {
            action: "create",
            path: out.clone(),
            source,
        })?;
        let cmd = plan.template(&helm, &cwd, &out);
        commands.push(cmd.to_string());
        let log = ctx.log(&format!("template-{name}.log"));
        let opts = RunOptions {
            tail_lines: 20,
            ..ctx.run_options(log.as_deref())
        };
        let result = match strata_exec::run(&cmd, &opts) {
            Ok(_) => Ok(out),
            Err(source) => Err(HelmError::Command {
                release: name.clone(),
                step: "helm template",
                log: log.map(|l| shown(layout, &l)),
                source: Box::new(source),
            }),
        };
        on_event(HelmEvent::Rendered {
            release: name,
            result: result.as_deref(),
        });
        releases.push(Rendered {
            name: name.clone(),
            result,
        });
    }
    Ok(TemplateOutcome {
        dir: rendered,
        commands,
        releases,
    })
}
