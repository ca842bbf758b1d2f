//! Integration tests of strata-pipeline: the state backends against real services.

mod local;
mod pg;
mod tls;
