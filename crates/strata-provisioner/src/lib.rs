//! The provisioner layer: builds each role's VM image for an environment from the bundle's
//! `provisioner.json`, records it (`api/outputs/<env>/provisioner/<role>.json`: path, format,
//! sizes, sha256, builder and version, inputs digest, remote location), and publishes it to the
//! environment's storage target.
//!
//! A base image given by URL is downloaded into the image cache with curl (resumable, and
//! checked against its pinned sha256 before it is used).
//!
//! Three builders: `qemu-img` (the base image, verified against its sha256, converted to the
//! role's format and grown to its disk size, plus a NoCloud seed rendered from its cloud-init
//! settings), `packer` (a template directory with a generated var-file, its machine-readable
//! output read for progress and the artifact), and `command` (a team's own program). Every build
//! happens in a temporary folder beside the outputs and is renamed into place only when it
//! succeeded; a build whose inputs digest matches an intact recorded image is skipped.
//!
//! One entry point per command, each reading the bundle and discovering its own build context
//! (the programs the roles need, the image cache, the log folder, the build time): [`build`]
//! (events per role, download progress included, and a [`ProvisionOutcome`] whose `detail()`
//! is the report's `PhaseDetail::Images`), [`list`] (what a dry run of the layer shows) and
//! [`publish`]. Errors have a [`ProvisionError::kind`] that decides the exit code.
//!
//! This crate never spawns a process itself (it runs `strata_exec::Command`s), never prints
//! (progress goes to a callback), and knows nothing of the phase graph.

#![warn(missing_docs)]

mod build;
mod cloud_init;
mod error;
mod fetch;
mod hash;
mod image;
mod layer;
mod parallel;
mod publish;
mod tools;

pub use build::{
    ArtifactPaths, ArtifactState, BuildContext, Outcome, Progress, Tools, read_record, write_record,
};
pub use cloud_init::{check_public_keys, hostname, meta_data, user_data};
pub use error::ProvisionError;
pub use hash::{copy_hashing, sha256_file};
pub use image::{format_name, probe, virtual_size};
pub use layer::{
    BuildRequest, ListOutcome, ListRequest, ListState, ProvisionOutcome, ProvisionTools,
    PublishOutcome, PublishRequest, RoleListing, build, build_context, image_cache, list, publish,
    publish_log, read_config,
};
pub use parallel::{Event, RoleResult, build_all};
pub use publish::{PublishAuth, publish_image};
pub use tools::{CLOUD_LOCALDS, CURL, PACKER, QEMU_IMG, TOOLS};
