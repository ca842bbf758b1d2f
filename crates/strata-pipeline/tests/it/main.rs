//! Integration tests of strata-pipeline: the state backends against real services, and what
//! a phase's inputs capture.

mod inputs;
mod local;
mod pg;
mod tls;
