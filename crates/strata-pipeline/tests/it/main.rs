//! Integration tests of strata-pipeline: the state backends against real services.

mod pg;
mod tls;
