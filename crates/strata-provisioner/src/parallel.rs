//! Building several roles at once, at most `jobs` at a time.

use std::time::{Duration, Instant};

use strata_metadata::RoleImage;

use crate::{BuildContext, Outcome, ProvisionError};

/// What happened to one role, for progress lines.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event<'a> {
    /// The role's build (or up-to-date check) started.
    Started {
        /// The role.
        role: &'a str,
    },
    /// A step of the role's build, or a line of its builder's output.
    Step {
        /// The role.
        role: &'a str,
        /// What it is doing.
        message: &'a str,
    },
    /// How far the download of the role's base image is (several a second while it runs).
    Download {
        /// The role.
        role: &'a str,
        /// Bytes in the cache so far, an earlier run's included.
        received: u64,
        /// The whole size, once the server said it.
        total: Option<u64>,
    },
}

/// One role's result and how long it took.
#[derive(Debug)]
pub struct RoleResult {
    /// The role.
    pub role: String,
    /// Built, up to date, or why not.
    pub outcome: Result<Outcome, ProvisionError>,
    /// Wall time.
    pub took: Duration,
}

/// Builds every role of `roles`, at most `jobs` at a time, in the given order of start. A
/// failing role does not stop the others. Results come back in the order of `roles`.
pub fn build_all(
    ctx: &BuildContext,
    roles: &[(String, RoleImage)],
    jobs: usize,
    force: bool,
    events: &(dyn Fn(Event<'_>) + Sync),
) -> Vec<RoleResult> {
    strata_util::map_bounded(roles, jobs, |(role, image)| {
        events(Event::Started { role });
        let started = Instant::now();
        let step = |message: &str| events(Event::Step { role, message });
        let download = |received, total| {
            events(Event::Download {
                role,
                received,
                total,
            });
        };
        let progress = crate::Progress {
            step: &step,
            download: &download,
        };
        RoleResult {
            role: role.clone(),
            outcome: ctx.build(role, image, force, &progress),
            took: started.elapsed(),
        }
    })
}
