//! Small helpers every Strata crate shares, written once: the atomic file write and directory
//! swap, file locks, RFC 3339 time, showing a path relative to the repository, a bounded worker
//! pool, and the names of the environment variables Strata reads.
//!
//! It knows nothing of Strata's domain and depends on no other crate of ours, so any crate may
//! use it (in the manner of rust-analyzer's `stdx`).

#![warn(missing_docs)]

mod fs;
mod path;
mod pool;
mod time;
pub mod vars;

pub use fs::{lock_exclusive, remove_stale_siblings, sibling, swap_in, write_atomic};
pub use path::shown;
pub use pool::{default_workers, map_bounded};
pub use time::{now_rfc3339, rfc3339, unix_now};

/// An error and each of its causes, joined with `: `: how messages and reports show a failure.
pub fn error_chain(err: &dyn std::error::Error) -> String {
    let mut message = err.to_string();
    let mut cause = err.source();
    while let Some(c) = cause {
        message.push_str(&format!(": {c}"));
        cause = c.source();
    }
    message
}

#[cfg(test)]
mod tests {
    #[test]
    fn an_error_chain_names_every_cause_once() {
        let io = std::io::Error::other("disk full");
        #[derive(Debug)]
        struct Outer(std::io::Error);
        impl std::fmt::Display for Outer {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("could not write `state.json`")
            }
        }
        impl std::error::Error for Outer {
            fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
                Some(&self.0)
            }
        }
        assert_eq!(
            super::error_chain(&Outer(io)),
            "could not write `state.json`: disk full"
        );
    }
}
