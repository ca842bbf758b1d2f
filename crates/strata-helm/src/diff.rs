//! `platform diff` and `platform template`: every release compared with the cluster (the
//! helm-diff plugin), or rendered offline.

use std::path::PathBuf;
use std::time::Duration;

use strata_bundle::Bundle;
use strata_config::Layout;
use strata_exec::{Context, RunOptions};
use strata_metadata::{Notice, PhaseDetail, ReleaseStatus};

use crate::cluster::{Kubeconfig, kubeconfig_for};
use crate::layer::{
    HelmEvent, HelmTools, Notes, build_dependencies, find_helm, plans, platform_config, shown,
};
use crate::{HelmError, work_dir};

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
            timeout: Some(strata_exec::PROBE_TIMEOUT),
            interrupt: ctx.interrupt,
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
    let kubeconfig = kubeconfig_for(layout, env, request.kubeconfig.as_deref(), ctx, false)?;
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
                interrupt: ctx.interrupt,
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
