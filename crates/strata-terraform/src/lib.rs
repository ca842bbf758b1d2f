//! The infrastructure layer: stages a bundle's tfvars into the Terraform modules and drives
//! terraform (or tofu) through init, plan and apply, one environment at a time.
//!
//! Each module receives only the variables it declares, in a `terraform.tfvars` whose header
//! names the bundle and the digest of its own content, so a later run can tell an out-of-date
//! file (replaced) from a hand-edited one (refused). Each environment keeps its own state and
//! `.terraform` data under `.strata/<env>/terraform/`, so environments that share a module never
//! touch each other's state.
//!
//! The `ansible` phase, a team's own playbook run after the nodes exist, lives here too.
//!
//! The entry point is [`run_infra`]: one [`InfraRequest`] (a module or all of them, an action,
//! or the hook) for one bundle, with typed events and a typed [`InfraOutcome`]. Errors know
//! their kind ([`TerraformError::kind`]); a state lock held by another run is
//! [`TerraformError::StateLocked`], naming the holder where the backend records one.
//!
//! This crate never spawns a process itself (it builds `strata_exec::Command`s), never prints,
//! and knows nothing of the phase graph.

#![warn(missing_docs)]

mod cli;
mod error;
mod hook;
mod infra;
mod lock;
mod phase;
mod ssh;
mod stage;
mod tools;

pub use cli::{TerraformCli, check_version};
pub use error::TerraformError;
pub use hook::{ANSIBLE_HOOK, HookOutcome, ansible_hook};
pub use infra::{
    InfraEvent, InfraOutcome, InfraPhase, InfraRequest, infra_modules, run_infra, runs_hook,
};
pub use lock::{LockInfo, STATE_LOCK_ERROR};
pub use phase::{
    Action, PhaseOptions, PhaseReport, PhaseResult, StatePaths, module_order, run_module,
    staged_values,
};
pub use ssh::{SSH_MODULES, check_ssh};
pub use stage::{BACKEND_OVERRIDE_FILE, STAGED_FILE, StageOutcome, render, stage};
pub use tools::{ANSIBLE_PLAYBOOK, TERRAFORM, TOOLS};
