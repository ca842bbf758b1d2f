//! The platform and business layers: an environment's Helm releases (from the bundle's
//! `platform.yaml`) deployed as a dependency graph, independent releases in parallel and a
//! failure stopping only what needs it; every release rendered offline; `helm diff` when the
//! plugin is there; and the ArgoCD app-of-apps chart of the business applications.
//!
//! helm runs in an empty folder of Strata's own ([`work_dir`]), never the repository root, so
//! no chart name can resolve to a folder of the repository; local charts' dependencies are
//! built first ([`dependencies`]).
//!
//! One entry point per command, each owning its preparation (helm and its major version, the
//! kubeconfig, the gate, dependency builds, the working folder): [`deploy_platform`],
//! [`diff_platform`], [`template_platform`] and [`deploy_business`]. Each takes the layout,
//! the opened bundle, a request, a [`strata_exec::Context`] and an event callback, and returns
//! a typed outcome (notices, commands, per-release results, [`strata_metadata::PhaseDetail`])
//! or a [`HelmError`] whose [`HelmError::kind`] decides the exit code.
//!
//! Every command gets the kubeconfig explicitly, so an ambient kubectl context never decides
//! which cluster is touched: the one asked for, else the `admin.conf` Kubespray kept for the
//! environment (a path of [`strata_config::Layout`], so this crate needs nothing of
//! strata-kubespray), else `KUBECONFIG`. The platform gate (the API server is ready and every
//! node Ready) is [`cluster_gate`].
//!
//! This crate never spawns a process itself (it runs `strata_exec::Command`s), never prints,
//! and knows nothing of the phase graph.

#![warn(missing_docs)]

mod argocd;
mod business;
mod cluster;
mod deps;
mod diff;
mod error;
mod graph;
mod layer;
mod platform;
mod release;
mod tools;

pub use argocd::{
    ARGOCD_CHART, DEFAULT_ARGOCD_NAMESPACE, argocd_crd_query, argocd_gate, argocd_namespace,
};
pub use business::{
    APP_OF_APPS_CHART, APP_OF_APPS_RELEASE, BusinessOutcome, BusinessRequest, deploy_business,
};
pub use cluster::{
    GATE_REQUEST_TIMEOUT, Kubeconfig, KubeconfigSource, cluster_gate, find_kubeconfig,
    gate_commands,
};
pub use deps::{Dependencies, dependencies, dependency_build, dependency_builds};
pub use diff::{
    DiffOutcome, DiffRequest, ReleaseDiff, Rendered, TemplateOutcome, TemplateRequest,
    diff_platform, template_platform,
};
pub use error::HelmError;
pub use graph::{GraphEvent, ReleaseOutcome, ReleaseResult, dot, mermaid, order, run_graph};
pub use layer::{HelmEvent, HelmTools, find_helm, platform_config};
pub use platform::{PlatformOutcome, PlatformRequest, deploy_platform, release_outcome};
pub use release::{
    ChartRef, DEFAULT_TIMEOUT, DIFF_PLUGIN_URL, Helm, ReleasePlan, diff_plugin_install_args,
    helm_major, read_platform, work_dir, write_inline_values,
};
pub use tools::{HELM, KUBECTL, TOOLS};
