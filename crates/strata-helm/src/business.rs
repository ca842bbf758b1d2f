//! The business layer's entry point: the ArgoCD app-of-apps (`cluster-apps`, the chart in
//! `business/charts/cluster-apps`) installed with the bundle's `business.yaml`, into the
//! namespace ArgoCD runs in, once ArgoCD's `Application` CRD is in the cluster.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use strata_bundle::Bundle;
use strata_config::Layout;
use strata_exec::{Context, RunOptions};
use strata_metadata::{FileKind, Notice, PhaseDetail, Release, ReleaseStatus};

use crate::cluster::{Kubeconfig, kubeconfig_for};
use crate::layer::{HelmTools, Notes, find_helm, find_kubectl, shown};
use crate::{
    DEFAULT_ARGOCD_NAMESPACE, HelmError, HelmEvent, ReleasePlan, argocd_gate, argocd_namespace,
    read_platform, work_dir,
};

/// The app-of-apps release's name.
pub const APP_OF_APPS_RELEASE: &str = "cluster-apps";

/// The app-of-apps chart, relative to the repository root. Its one template renders an
/// `Application` per entry of the values' `applications` (and the `AppProject`s they use).
pub const APP_OF_APPS_CHART: &str = "business/charts/cluster-apps";

/// What `business deploy` is asked to do, beyond the bundle.
#[derive(Debug, Clone, Default)]
pub struct BusinessRequest {
    /// The cluster's kubeconfig; else the one Kubespray kept for the environment, else
    /// `KUBECONFIG`.
    pub kubeconfig: Option<PathBuf>,
    /// The programs to run.
    pub tools: HelmTools,
}

/// What a business deploy did.
#[derive(Debug)]
pub struct BusinessOutcome {
    /// Whether it was a dry run (the command shown, not run).
    pub dry_run: bool,
    /// The kubeconfig the commands were given.
    pub kubeconfig: Kubeconfig,
    /// What was worth knowing, in order (also sent as [`HelmEvent::Notice`]).
    pub notices: Vec<Notice>,
    /// The namespace the app-of-apps went to: ArgoCD's.
    pub namespace: String,
    /// The bundle's business values file.
    pub values: PathBuf,
    /// The helm command, shell-quoted with secrets masked.
    pub command: String,
    /// Its log, relative to the repository root when inside it.
    pub log: Option<PathBuf>,
    /// Wall time of the helm command.
    pub took: Duration,
}

impl BusinessOutcome {
    /// The typed detail for the run's report.
    pub fn detail(&self) -> PhaseDetail {
        PhaseDetail::Releases {
            releases: vec![strata_metadata::ReleaseOutcome {
                name: APP_OF_APPS_RELEASE.to_owned(),
                namespace: self.namespace.clone(),
                status: if self.dry_run {
                    ReleaseStatus::DryRun
                } else {
                    ReleaseStatus::Deployed
                },
                seconds: self.took.as_secs_f64(),
                message: None,
            }],
        }
    }
}

/// `business deploy`: `helm upgrade --install cluster-apps` of the app-of-apps chart with the
/// bundle's `business.yaml`, into the namespace of the platform's `argo-cd` release (ArgoCD
/// reads Applications and AppProjects only from its own namespace; a bundle without a platform
/// file leaves it at `argocd`). First the gate: ArgoCD's `Application` CRD must be in the
/// cluster ([`argocd_gate`] tells "not installed", "not allowed to look" and "cannot ask"
/// apart). In a dry run nothing reaches the cluster and the command is only recorded.
#[tracing::instrument(skip_all, fields(env = %bundle.metadata().environment))]
pub fn deploy_business(
    layout: &Layout,
    bundle: &Bundle,
    request: &BusinessRequest,
    ctx: &Context<'_>,
    on_event: &mut dyn FnMut(HelmEvent<'_>),
) -> Result<BusinessOutcome, HelmError> {
    let env = bundle.metadata().environment.as_str();
    let values = bundle
        .path(FileKind::Business)
        .unwrap_or_else(|| bundle.dir().join("business.yaml"));
    let mut notes = Notes {
        all: Vec::new(),
        on_event,
    };
    let kubeconfig = kubeconfig_for(layout, env, request.kubeconfig.as_deref(), ctx, ctx.dry_run)?;
    notes.kubeconfig(layout, &kubeconfig);
    let namespace = match bundle.path(FileKind::Platform).filter(|p| p.is_file()) {
        Some(path) => argocd_namespace(&read_platform(&path)?).to_owned(),
        None => DEFAULT_ARGOCD_NAMESPACE.to_owned(),
    };
    let cwd = work_dir(layout, env)?;
    if !ctx.dry_run {
        // The app-of-apps is only useful once ArgoCD (the platform's `argo-cd`) is there.
        let kubectl = find_kubectl(request.tools.kubectl.as_deref())?;
        argocd_gate(env, &kubectl, &kubeconfig.path, &cwd, ctx.interrupt)?;
        notes.push(Notice::info("gate: ArgoCD's Application CRD is installed"));
    }
    let (helm, helm_note) = find_helm(request.tools.helm.as_deref(), layout.root(), ctx.dry_run)?;
    if let Some(n) = helm_note {
        notes.push(n);
    }
    let release: Release = serde_json::from_value(serde_json::json!({
        "name": APP_OF_APPS_RELEASE,
        "namespace": namespace,
        "chart": APP_OF_APPS_CHART,
        "valuesFiles": [values.display().to_string()],
    }))
    .expect("a valid release");
    let plan = ReleasePlan::new(layout, &release, &layout.state_dir(env).join("helm"))?;
    let cmd = plan.upgrade(&helm, &cwd, &kubeconfig.path);
    let mut outcome = BusinessOutcome {
        dry_run: ctx.dry_run,
        kubeconfig,
        notices: Vec::new(),
        namespace,
        values,
        command: cmd.to_string(),
        log: None,
        took: Duration::ZERO,
    };
    if !ctx.dry_run {
        let log = ctx.log("business.log");
        let opts = RunOptions {
            tail_lines: 20,
            ..ctx.run_options(log.as_deref())
        };
        let started = Instant::now();
        let shown_log = log.as_deref().map(|l| shown(layout, l));
        strata_exec::run(&cmd, &opts).map_err(|source| HelmError::Command {
            release: APP_OF_APPS_RELEASE.to_owned(),
            step: "helm upgrade --install",
            log: shown_log.clone(),
            source: Box::new(source),
        })?;
        outcome.took = started.elapsed();
        outcome.log = shown_log;
    }
    outcome.notices = notes.all;
    Ok(outcome)
}
