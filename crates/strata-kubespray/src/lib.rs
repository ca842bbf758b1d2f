//! The container-orchestration layer: stages a bundle's Kubespray inventory and runs Kubespray's
//! lifecycle playbooks (deploy, reset, scale, upgrade, remove-node, recover) in the pinned
//! Kubespray image under docker or podman, or with `ansible-playbook` from a local checkout.
//!
//! The inventory is staged as one directory swap, so files of an earlier environment never
//! survive. The SSH private key is checked (present, private, owner-only) and mounted alone,
//! read-only; it is never copied into a bundle, the staged inventory or a log.
//!
//! This crate never spawns a process itself (it builds `strata_exec::Command`s), never prints,
//! and knows nothing of the phase graph.

#![warn(missing_docs)]

mod checks;
mod error;
mod key;
mod run;
mod stage;

pub use checks::{ansible_range, check_ansible_version, inventory_drift};
pub use error::KubesprayError;
pub use key::check_private_key;
pub use run::{Extras, KubesprayRun, Operation, runtime_tool};
pub use stage::{SOURCE_FILE, STAGED_INVENTORY, StagedInventory, lock_staging, stage_inventory};
