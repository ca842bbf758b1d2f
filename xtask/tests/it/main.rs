//! End-to-end tests of the `cargo xtask` binary on temporary copies of the sample repository.

mod backfill;
mod bundle;
mod cli;
mod corpus;
mod deploy;
mod deploy_real;
mod helm_cli;
mod helm_cluster;
mod helm_real;
mod infra;
mod kube_real;
mod kubespray;
mod kubespray_real;
mod platform;
mod platform_real;
mod provision;
mod provision_fetch;
mod provision_real;
mod state;
mod support;
mod tidy;
