//! Small helpers every Strata crate shares, written once: the atomic file write and directory
//! swap, file locks, RFC 3339 time, showing a path relative to the repository, and the names of
//! the environment variables Strata reads.
//!
//! It knows nothing of Strata's domain and depends on no other crate of ours, so any crate may
//! use it (in the manner of rust-analyzer's `stdx`).

#![warn(missing_docs)]

mod fs;
mod path;
mod time;
pub mod vars;

pub use fs::{lock_exclusive, remove_stale_siblings, sibling, swap_in, write_atomic};
pub use path::shown;
pub use time::{now_rfc3339, rfc3339, unix_now};
