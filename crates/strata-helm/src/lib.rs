//! The platform and business layers: an environment's Helm releases (from the bundle's
//! `platform.yaml`) deployed as a dependency graph, independent releases in parallel and a
//! failure stopping only what needs it; every release rendered offline; `helm diff` when the
//! plugin is there; and the ArgoCD app-of-apps chart of the business applications.
//!
//! helm runs in an empty folder of Strata's own ([`work_dir`]), never the repository root, so
//! no chart name can resolve to a folder of the repository; local charts' dependencies are
//! built first ([`dependencies`]).
//!
//! Every command gets the kubeconfig explicitly, so an ambient kubectl context never decides
//! which cluster is touched. The cluster gate (is the API server ready?) is strata-kubespray's
//! `cluster_status`, which the caller runs first.
//!
//! This crate never spawns a process itself (it runs `strata_exec::Command`s), never prints,
//! and knows nothing of the phase graph.

#![warn(missing_docs)]

mod argocd;
mod deps;
mod error;
mod graph;
mod release;

pub use argocd::{
    ARGOCD_CHART, DEFAULT_ARGOCD_NAMESPACE, argocd_crd_query, argocd_gate, argocd_namespace,
};
pub use deps::{Dependencies, dependencies, dependency_build, dependency_builds};
pub use error::HelmError;
pub use graph::{GraphEvent, ReleaseOutcome, ReleaseResult, dot, mermaid, order, run_graph};
pub use release::{
    ChartRef, DEFAULT_TIMEOUT, DIFF_PLUGIN_URL, Helm, ReleasePlan, diff_plugin_install_args,
    helm_major, read_platform, work_dir, write_inline_values,
};
