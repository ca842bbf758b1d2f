//! What a deploy tells its caller while it runs.

use std::path::PathBuf;

use strata_config::Diagnostic;
use strata_metadata::{
    ErrorKind, ImageOutcome, Mode, Notice, Phase, PhaseReport, ReleaseOutcome, ReportStatus,
};

/// Why a phase did not run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SkipReason {
    /// `--from`, `--to` or `--only` left it out.
    NotSelected,
    /// The environment does not use it, and why.
    NotConfigured(String),
    /// It succeeded with exactly these inputs (how many were compared).
    UpToDate {
        /// The inputs compared.
        inputs: usize,
    },
    /// An earlier phase failed or the run was interrupted.
    NotRun,
    /// `--plan`, and this phase has no plan of its own.
    NoPlan,
}

impl SkipReason {
    /// The status the report records for it.
    pub fn status(&self) -> ReportStatus {
        match self {
            SkipReason::NotSelected => ReportStatus::NotSelected,
            SkipReason::NotConfigured(_) => ReportStatus::NotConfigured,
            SkipReason::UpToDate { .. } => ReportStatus::UpToDate,
            SkipReason::NotRun => ReportStatus::NotRun,
            SkipReason::NoPlan => ReportStatus::NoPlan,
        }
    }
}

/// Why a phase failed, for the reporter: the message, what to do, and the last lines the
/// failing command printed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    /// The error and its causes.
    pub message: String,
    /// What to do about it.
    pub hint: Option<String>,
    /// What kind of failure (bad input, a tool that failed, ...).
    pub kind: ErrorKind,
    /// The last lines of the failing command's output, secrets masked.
    pub tail: Vec<String>,
}

/// One thing that happened during a deploy, in order.
#[derive(Debug, Clone)]
pub enum DeployEvent {
    /// The run holds the lock and starts.
    Started {
        /// The run id.
        run_id: String,
        /// The environment.
        environment: String,
        /// Deploy, dry run or plan.
        mode: Mode,
        /// The run's folder (logs and `report.json`).
        logs: PathBuf,
    },
    /// Something worth saying that is not a failure (a lock taken over, a stale bundle, an
    /// inventory drift).
    Notice {
        /// The phase that said it, if any.
        phase: Option<Phase>,
        /// What.
        notice: Notice,
    },
    /// A phase does not run.
    Skipped {
        /// The phase.
        phase: Phase,
        /// Why.
        reason: SkipReason,
    },
    /// A phase starts.
    PhaseStarted {
        /// The phase.
        phase: Phase,
        /// What it runs, for people (`terraform apply` in `nodes`, ...), when known.
        what: String,
    },
    /// A line of a tool's output (secrets masked).
    Output {
        /// The phase running the tool.
        phase: Phase,
        /// The line, without its newline.
        line: String,
    },
    /// A problem validation found.
    Diagnostic {
        /// The phase (`validate`, or a layer's own checks).
        phase: Phase,
        /// The problem.
        diagnostic: Diagnostic,
    },
    /// A role's image finished.
    Image {
        /// The phase (`provision`).
        phase: Phase,
        /// How it ended.
        image: ImageOutcome,
    },
    /// A Helm release finished (or was skipped).
    Release {
        /// The phase (`platform`, `business`).
        phase: Phase,
        /// How it ended.
        release: ReleaseOutcome,
    },
    /// A command's text result in a dry run or plan (the command line, a plan's text).
    Shown {
        /// The phase.
        phase: Phase,
        /// One line.
        line: String,
    },
    /// A phase ended: its report (status, time, typed detail) and, when it failed, why.
    PhaseFinished {
        /// The report, as `report.json` stores it.
        report: PhaseReport,
        /// Why it failed.
        failure: Option<Failure>,
    },
}
