//! What a caller asks of one deploy.

use std::collections::BTreeMap;
use std::ffi::OsString;

use strata_metadata::{EnvironmentId, Mode, Phase};

/// Which phases run even when they are up to date.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Force {
    /// None: an up-to-date phase is skipped.
    #[default]
    None,
    /// Every selected phase.
    All,
    /// This one (`--force provision` also rebuilds the images the provisioner finds current).
    Phase(Phase),
}

impl Force {
    /// Whether `phase` runs whatever its inputs.
    pub fn covers(self, phase: Phase) -> bool {
        match self {
            Force::None => false,
            Force::All => true,
            Force::Phase(p) => p == phase,
        }
    }
}

/// One deploy of one environment.
#[derive(Debug, Clone)]
pub struct DeployOptions {
    /// The environment.
    pub env: EnvironmentId,
    /// Start at this phase.
    pub from: Option<Phase>,
    /// Stop after this phase.
    pub to: Option<Phase>,
    /// Exactly these phases (overrides `from` and `to`).
    pub only: Vec<Phase>,
    /// What runs even when up to date.
    pub force: Force,
    /// Deploy, dry run or plan.
    pub mode: Mode,
    /// At most this many image builds or Helm releases at once; each layer's default when
    /// `None` (the CPUs for images, 4 for releases).
    pub jobs: Option<usize>,
    /// `generatedAt` of a regenerated bundle (`SOURCE_DATE_EPOCH`), else the time now.
    pub generated_at: Option<u64>,
    /// The command line, for the lock's holder and the report.
    pub command: String,
    /// The run's id; a new one when `None`.
    pub run_id: Option<String>,
    /// Variables that win over the process environment when a layer looks up its tools
    /// (`STRATA_TERRAFORM`, `STRATA_HELM`, `PATH`, ...).
    pub vars: BTreeMap<String, OsString>,
}

impl DeployOptions {
    /// A deploy of every phase of `env`.
    pub fn new(env: EnvironmentId) -> Self {
        Self {
            env,
            from: None,
            to: None,
            only: Vec::new(),
            force: Force::None,
            mode: Mode::Deploy,
            jobs: None,
            generated_at: None,
            command: String::new(),
            run_id: None,
            vars: BTreeMap::new(),
        }
    }
}
