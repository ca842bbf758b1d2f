//! A deploy run in a test: its options, the events it emitted and its report.

use std::sync::Mutex;

use strata_config::Layout;
use strata_deploy::{DeployError, DeployEvent, DeployOptions, DeployReport, Interrupt, Mode};
use strata_metadata::EnvironmentId;
use strata_testkit::TempDir;

pub(crate) fn env() -> EnvironmentId {
    "development".parse().unwrap()
}

pub(crate) fn options(mode: Mode) -> DeployOptions {
    DeployOptions {
        mode,
        command: "engine test".to_owned(),
        generated_at: Some(1_795_599_715),
        ..DeployOptions::new(env())
    }
}

/// What one `deploy()` did.
pub(crate) struct Recorded {
    pub(crate) events: Vec<DeployEvent>,
    pub(crate) result: Result<DeployReport, DeployError>,
}

impl Recorded {
    pub(crate) fn report(&self) -> &DeployReport {
        match &self.result {
            Ok(r) => r,
            Err(e) => panic!("the deploy did not run: {e}"),
        }
    }
}

/// Runs `deploy()` on `repo`, keeping every event; `on_event` may act on each (to interrupt).
pub(crate) fn run_with(
    repo: &TempDir,
    opts: &DeployOptions,
    interrupt: &Interrupt,
    on_event: impl Fn(&DeployEvent) + Sync,
) -> Recorded {
    let layout = Layout::new(repo.path().to_owned());
    let events = Mutex::new(Vec::new());
    let result = strata_deploy::deploy(&layout, opts, interrupt, |e| {
        on_event(&e);
        events.lock().unwrap().push(e);
    });
    Recorded {
        events: events.into_inner().unwrap(),
        result,
    }
}

pub(crate) fn run(repo: &TempDir, opts: &DeployOptions) -> Recorded {
    run_with(repo, opts, &Interrupt::new(), |_| {})
}
