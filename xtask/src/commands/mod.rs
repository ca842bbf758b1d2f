//! One module per subcommand, each with a `run`.

pub(crate) mod backfill;
pub(crate) mod bench;
pub(crate) mod bundle;
pub(crate) mod ci;
mod ci_tools;
pub(crate) mod config;
pub(crate) mod deploy;
#[cfg(test)]
mod docs_check;
pub(crate) mod doctor;
pub(crate) mod generate;
pub(crate) mod infra;
pub(crate) mod kubespray;
pub(crate) mod platform;
pub(crate) mod provision;
pub(crate) mod reference;
pub(crate) mod state;
pub(crate) mod validate;
