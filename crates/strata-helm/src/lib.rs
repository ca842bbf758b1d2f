//! The platform and business layers: an environment's Helm releases (from the bundle's
//! `platform.yaml`) deployed as a dependency graph, independent releases in parallel and a
//! failure stopping only what needs it; every release rendered offline; `helm diff` when the
//! plugin is there; and the ArgoCD app-of-apps chart of the business applications.
//!
//! Every command gets the kubeconfig explicitly, so an ambient kubectl context never decides
//! which cluster is touched. The cluster gate (is the API server ready?) is strata-kubespray's
//! `cluster_status`, which the caller runs first.
//!
//! This crate never spawns a process itself (it runs `strata_exec::Command`s), never prints,
//! and knows nothing of the phase graph.

#![warn(missing_docs)]

mod error;
mod graph;
mod release;

pub use error::HelmError;
pub use graph::{GraphEvent, ReleaseOutcome, ReleaseResult, dot, mermaid, order, run_graph};
pub use release::{
    ChartRef, DEFAULT_TIMEOUT, Helm, ReleasePlan, helm_major, read_platform, write_inline_values,
};
