//! The deploy engine: [`deploy`] runs every phase of an environment, in order, in process,
//! through each layer's one entry point, and reports what happens as typed [`DeployEvent`]s.
//!
//! It selects phases (`--from`, `--to`, `--only`), skips those whose inputs are unchanged
//! (the decision is `strata_pipeline::freshness`, shared with `status`), holds the
//! environment's lock, records each phase's result in the run state, keeps one log per phase
//! under `.strata/<env>/runs/<run-id>/` and writes the run's `report.json`.
//!
//! It never writes to the terminal: a caller renders the events (the CLI's reporter does,
//! with a live line per phase), or ignores them and reads the returned [`DeployReport`].
//!
//! **Architecture Invariant:** no tool crate depends on this one; it depends on all of them.
//! The layer commands of the CLI call the same layer entry points, so `deploy` and
//! `cargo xtask infra ...` do the same by construction.

#![warn(missing_docs)]

mod engine;
mod error;
mod event;
mod layers;
mod options;
mod runs;
mod tools;

pub use engine::deploy;
pub use error::DeployError;
pub use event::{DeployEvent, Failure, SkipReason};
pub use options::{DeployOptions, Force};
pub use runs::{new_run_id, now};
pub use strata_exec::Interrupt;
pub use strata_metadata::{DeployReport, Mode, Phase, PhaseReport, ReportStatus, RunResult};
pub use tools::phase_tools;
