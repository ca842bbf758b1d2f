//! The deploy pipeline of one environment: the phase graph (validate -> generate -> provision
//! -> images -> templates -> nodes -> ansible -> kubespray -> platform -> business), which
//! phases a run covers, the inputs digest that lets an unchanged phase be skipped, and the
//! state backend that keeps each phase's record, the run history and the per-environment lock
//! (local files under `.strata/<env>/`, or Strata's own schema in a PostgreSQL database).
//!
//! It decides and records; it does not run the phases itself. The caller (the deploy engine)
//! runs each phase and reports back; [`StateBackend`] says how.

#![warn(missing_docs)]

mod backend;
mod decide;
mod digest;
mod error;
mod history;
mod lock;
mod pg;
mod pg_schema;
mod phase;
mod state;
mod tls;
mod url;

pub use backend::{
    DEFAULT_SCHEMA, EnvGuard, PushReport, Refused, RunEntry, StateBackend, UnlockOptions,
    UnlockOutcome, read_backend_config,
};
pub use decide::{Forecast, Freshness, PhaseInputs, forecast, freshness};
pub use digest::{changed_inputs, inputs_digest, phase_inputs};
pub use error::StateError;
pub use history::{local_reports, report_path, write_local_report};
pub use lock::{
    EnvLock, Holder, LockError, LockState, Unlocked, holder, lock_path, lock_state, unlock,
};
pub use phase::{dot, mermaid, select};
pub use state::{read_state, write_state};
pub use url::{DATABASE_URL_VAR, DatabaseUrl, FALLBACK_URL_VAR};
