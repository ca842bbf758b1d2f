//! The documents of the run history and state commands: `status`, `unlock`, `runs` and
//! `state push`.
//! `deploy` prints its [`crate::DeployReport`], the same document as `report.json`.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::{Phase, ReportStatus, RunResult, StateBackendKind};

/// `status --output json`: each phase's last run and whether its inputs changed since.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct StatusOutput {
    /// Always `true`: drift is `changed`, not a failure.
    pub ok: bool,
    /// The environment.
    pub environment: String,
    /// Some phase's inputs changed since it last succeeded (`--detailed-exitcode` exits 4).
    pub changed: bool,
    /// Every phase, in run order.
    pub phases: Vec<PhaseForecast>,
}

/// One phase in `status`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct PhaseForecast {
    /// The phase.
    pub phase: Phase,
    /// How its last run ended (`succeeded`, `failed`, `interrupted`), or `-` when there is no
    /// usable record.
    pub last: String,
    /// When that run finished (RFC 3339), or `-`.
    pub when: String,
    /// What changed in its inputs since, in words (`up to date`, `not configured`, ...).
    pub inputs: String,
}

/// `runs --output json`: the newest runs first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct RunsOutput {
    /// Always `true`.
    pub ok: bool,
    /// The environment.
    pub environment: String,
    /// The backend the history was read from.
    pub backend: StateBackendKind,
    /// The runs, newest first.
    pub runs: Vec<RunSummary>,
}

/// One run in `runs`: its report's headline and who ran it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct RunSummary {
    /// The run id, as in `.strata/<env>/runs/<run-id>/`.
    pub run_id: String,
    /// RFC 3339 UTC start time.
    pub started_at: String,
    /// RFC 3339 UTC end time.
    pub finished_at: String,
    /// How the run ended.
    pub result: RunResult,
    /// The user who ran it, when the backend records it.
    pub user: Option<String>,
    /// The machine it ran on, when the backend records it.
    pub host: Option<String>,
    /// The command line, shell-quoted.
    pub command: String,
    /// Each phase of the run.
    pub phases: Vec<RunPhase>,
}

/// One phase of a run in `runs`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct RunPhase {
    /// The phase.
    pub phase: Phase,
    /// What happened to it.
    pub status: ReportStatus,
    /// Wall time in seconds.
    pub seconds: f64,
}

/// `state push --output json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct PushOutput {
    /// Always `true`.
    pub ok: bool,
    /// The environment.
    pub environment: String,
    /// What was moved.
    pub pushed: PushReport,
}

/// What `state push` did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct PushReport {
    /// Phase records copied (new, or older in the shared backend).
    pub copied: Vec<Phase>,
    /// Phase records the shared backend already had, identical.
    pub unchanged: Vec<Phase>,
    /// Phase records left alone because the shared one finished later.
    pub refused: Vec<PushRefused>,
    /// Run reports copied.
    pub runs_copied: usize,
    /// Run reports the shared backend already had.
    pub runs_present: usize,
}

/// A phase record `state push` did not copy because the shared one is newer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct PushRefused {
    /// The phase.
    pub phase: Phase,
    /// When the local record finished.
    pub local_finished_at: String,
    /// When the shared one did.
    pub remote_finished_at: String,
}

/// `unlock --output json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct UnlockOutput {
    /// Always `true` (a lock held by a running process is a [`super::Failure`], exit 3).
    pub ok: bool,
    /// The environment.
    pub environment: String,
    /// What became of the lock.
    pub result: UnlockResult,
    /// Whom the lock named (`pid N on HOST by USER since TIME: COMMAND`), when it named anyone
    /// readable.
    pub holder: Option<String>,
}

/// What `unlock` did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum UnlockResult {
    /// Nothing held or named the lock.
    NotLocked,
    /// The local lock file was removed.
    Removed,
    /// PostgreSQL: the holder's session had already ended, and its lock with it; its name was
    /// cleared.
    AlreadyReleased,
    /// PostgreSQL: the live holder's session was ended (`--force --yes`); its deploy fails.
    Ended,
}
