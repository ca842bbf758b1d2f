//! Building several roles at once, at most `jobs` at a time.

use std::sync::atomic::{AtomicUsize, Ordering};
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
    let next = AtomicUsize::new(0);
    let mut results: Vec<Option<RoleResult>> = (0..roles.len()).map(|_| None).collect();
    let slots: Vec<std::sync::Mutex<&mut Option<RoleResult>>> =
        results.iter_mut().map(std::sync::Mutex::new).collect();
    std::thread::scope(|s| {
        for _ in 0..jobs.clamp(1, roles.len().max(1)) {
            s.spawn(|| {
                loop {
                    let i = next.fetch_add(1, Ordering::SeqCst);
                    let Some((role, image)) = roles.get(i) else {
                        return;
                    };
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
                    let outcome = ctx.build(role, image, force, &progress);
                    **slots[i].lock().unwrap_or_else(|e| e.into_inner()) = Some(RoleResult {
                        role: role.clone(),
                        outcome,
                        took: started.elapsed(),
                    });
                }
            });
        }
    });
    drop(slots);
    results
        .into_iter()
        .map(|r| r.expect("every role ran"))
        .collect()
}
