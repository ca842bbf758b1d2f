//! `platform deploy`: every release of the bundle's `platform.yaml` as a dependency graph,
//! behind the cluster gate.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Mutex;

use strata_bundle::Bundle;
use strata_config::Layout;
use strata_exec::{Context, RunOptions};
use strata_metadata::{ErrorKind, Notice, PhaseDetail, Release, ReleaseStatus};

use crate::cluster::{Kubeconfig, cluster_gate, kubeconfig_for};
use crate::layer::{
    HelmEvent, HelmTools, Notes, build_dependencies, error_chain, find_helm, find_kubectl, plans,
    platform_config, shown,
};
use crate::{HelmError, ReleaseOutcome, ReleaseResult, run_graph, work_dir};

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

/// One release as the report records it (a release done in a dry run was only shown).
pub fn release_outcome(r: &ReleaseOutcome, dry_run: bool) -> strata_metadata::ReleaseOutcome {
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
    let kubeconfig = kubeconfig_for(layout, env, request.kubeconfig.as_deref(), ctx, ctx.dry_run)?;
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
        let nodes = cluster_gate(env, &kubectl, &kubeconfig.path, &cwd, ctx.interrupt)?;
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
    let (plans, helm, cwd, kubeconfig_path, ran_ref) =
        (&plans, &helm, &cwd, &kubeconfig.path, &ran);
    let step = move |release: &Release| {
        let plan = plans
            .iter()
            .find(|p| p.release.name == release.name)
            .expect("a plan per release");
        let cmd = plan.upgrade(helm, cwd, kubeconfig_path);
        ran_ref
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(cmd.to_string());
        let name = release.name.clone();
        async move {
            if ctx.dry_run {
                return Ok(());
            }
            if ctx.interrupted() {
                return Err(HelmError::Interrupted);
            }
            let log = ctx.log(&format!("platform-{name}.log"));
            let opts = RunOptions {
                tail_lines: 20,
                ..ctx.run_options(log.as_deref())
            };
            strata_exec::run_async(&cmd, &opts)
                .await
                .map(|_| ())
                .map_err(|source| HelmError::Command {
                    release: name,
                    step: "helm upgrade --install",
                    log: log.map(|l| shown(layout, &l)),
                    source: Box::new(source),
                })
        }
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
