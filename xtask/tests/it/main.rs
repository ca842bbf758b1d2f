//! End-to-end tests of the `cargo xtask` binary on temporary copies of the sample repository.

mod bundle;
mod cli;
mod corpus;
mod infra;
mod kubespray;
mod kubespray_real;
mod platform;
mod provision;
mod provision_real;
mod support;
