//! The deploy pipeline of one environment: the phase graph (validate -> generate -> provision
//! -> images -> templates -> nodes -> ansible -> kubespray -> platform -> business), which
//! phases a run covers, the inputs digest that lets an unchanged phase be skipped, the run
//! state in `.strata/<env>/state.json`, and the per-environment lock.
//!
//! It decides and records; it does not run the phases itself. The caller (xtask) runs each
//! phase's command and reports back.

#![warn(missing_docs)]

mod decide;
mod digest;
mod lock;
mod phase;
mod state;

pub use decide::{Forecast, Freshness, PhaseInputs, forecast, freshness};
pub use digest::{changed_inputs, inputs_digest, phase_inputs};
pub use lock::{
    EnvLock, Holder, LockError, LockState, Unlocked, holder, lock_path, lock_state, unlock,
};
pub use phase::{dot, mermaid, select};
pub use state::{read_state, write_state};
