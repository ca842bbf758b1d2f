//! Environment bundles: `api/outputs/<env>/metadata.json` and the files it describes.
//!
//! [`generate`] renders one environment of a config package into a bundle, deterministically
//! and atomically: the new bundle is built beside the old one and swapped in with one rename,
//! so a reader sees the old bundle or the new one, never half of either. [`Bundle::open`] reads
//! a bundle for the later layers and [`verify`] recomputes its digests.
//!
//! This crate writes only under `api/outputs/` (the directory swap it uses is
//! `strata_util::swap_in`, shared with the layers that stage whole directories). It never runs
//! external tools and never prints.

#![warn(missing_docs)]

mod backfill;
mod bootstrap;
mod error;
mod generate;
mod read;
mod verify;

pub use backfill::backfill;
pub use bootstrap::{Bootstrap, ensure_current, is_current};
pub use error::BundleError;
pub use generate::{GenerateOptions, Generated, generate, source_date_epoch};
pub use read::Bundle;
pub use strata_config::list_files;
pub use verify::{Drift, VerifyReport, verify};
