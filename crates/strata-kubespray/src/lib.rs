//! The container-orchestration layer: stages a bundle's Kubespray inventory and runs Kubespray's
//! lifecycle playbooks (deploy, reset, scale, upgrade, remove-node, recover) in the pinned
//! Kubespray image under docker or podman, or with `ansible-playbook` from a local checkout.
//!
//! The inventory is staged as one directory swap, so files of an earlier environment never
//! survive. The SSH private key is checked (present, private, owner-only) and mounted alone,
//! read-only; it is never copied into a bundle, the staged inventory or a log.
//!
//! The entry points: [`Session::prepare`] prepares one environment (config, runtime, staged
//! and checked inventory, drift against Terraform's nodes as notices, program, key), then
//! [`Session::run`] runs an operation, [`Session::validate`] pings every host; [`status`] asks
//! the cluster. Errors know their kind ([`KubesprayError::kind`]).
//!
//! Before a run, [`KubesprayRun::ping`] checks that every host answers over SSH; after one,
//! [`cluster_status`] asks the cluster, through an explicit kubeconfig, whether it is ready.
//!
//! This crate never spawns a process itself (it builds `strata_exec::Command`s), never prints,
//! and knows nothing of the phase graph.

#![warn(missing_docs)]

mod checks;
mod error;
mod key;
mod preflight;
mod run;
mod session;
mod stage;
mod status;
mod tools;

pub use checks::{ansible_range, check_ansible_version, inventory_drift};
pub use error::KubesprayError;
pub use key::check_private_key;
pub use preflight::{CONNECT_TIMEOUT_SECS, HostReach, PREFLIGHT_SSH_ARGS, Reach, parse_ping};
pub use run::{
    Extras, FACTS_PLAYBOOK, KubesprayRun, Operation, facts_dir, inventory_file, runtime_tool,
};
pub use session::{
    PingOutcome, RunOutcome, Session, SessionRequest, StatusOutcome, StatusRequest, runtime_name,
    staged_notice, status,
};
pub use stage::{
    SOURCE_FILE, STAGED_INVENTORY, StagedInventory, check_staged, lock_staging, stage_inventory,
};
pub use status::{
    Artifacts, ClusterStatus, Kubeconfig, NodeStatus, REQUEST_TIMEOUT, artifacts_dir,
    cluster_status, find_kubeconfig, keep_artifacts, settle_artifacts, status_commands,
};
pub use tools::{ANSIBLE_PLAYBOOK, CONTAINER_RUNTIME, KUBECTL, TOOLS};
