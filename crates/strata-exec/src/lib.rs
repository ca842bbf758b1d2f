//! The one place Strata spawns processes.
//!
//! A [`Command`] is data: program, arguments, working directory and environment, with secret
//! arguments and variables marked so that every rendering of it ([`Command::display`], logs,
//! errors) masks them. [`run`] executes a command — or, in dry-run mode, only reports it —
//! streaming its output line by line into a log file and keeping the tail for error messages;
//! [`run_async`] is the same on the caller's tokio runtime. A command given an [`Interrupt`]
//! runs in its own process group, which a stop (the interrupt or a [`RunOptions::timeout`])
//! ends in order: SIGINT, SIGTERM, SIGKILL; one with only a timeout is stopped alone.
//! [`find_tool`] resolves external tools on `PATH` or through their `STRATA_*` override.
//!
//! This crate knows nothing of Strata's domain: it never builds tool-specific arguments (the tool
//! crates do) and never writes to the terminal.

#![warn(missing_docs)]

mod command;
mod context;
mod error;
mod run;
mod stop;
mod tool;

pub use command::{Command, shell_quote};
pub use context::{Context, Interrupt};
pub use error::ExecError;
pub use run::{LineHook, Output, PROBE_TIMEOUT, RunOptions, run, run_async};
pub use tool::{
    FoundTool, Tool, expand_home, find_tool, find_tool_with, parse_version, tool_version,
};
