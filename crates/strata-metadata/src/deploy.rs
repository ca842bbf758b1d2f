//! What `cargo xtask deploy` records: the per-environment run state and each run's report.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// `.strata/<env>/state.json`: each phase's last result and the inputs it ran with.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PipelineState {
    /// Phase name to its last recorded run.
    #[serde(default)]
    pub phases: BTreeMap<String, PhaseRecord>,
}

/// A phase's last run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PhaseRecord {
    /// How it ended.
    pub status: PhaseStatus,
    /// `sha256:` over `inputs`.
    pub digest: String,
    /// Each input (a bundle file, a module or chart folder, a tool, a phase it needs) and its
    /// digest, so `status` can name what changed.
    pub inputs: BTreeMap<String, String>,
    /// RFC 3339 UTC end time.
    pub finished_at: String,
    /// Wall time in seconds.
    pub seconds: f64,
    /// The run that recorded it (`.strata/<env>/runs/<run-id>/`).
    pub run_id: String,
}

/// How a phase ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum PhaseStatus {
    /// It ran and succeeded.
    Succeeded,
    /// It ran and failed.
    Failed,
    /// It was stopped by Ctrl-C.
    Interrupted,
}

/// `.strata/<env>/runs/<run-id>/report.json`: one deploy run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct DeployReport {
    /// The run id (UTC start time and process id).
    pub run_id: String,
    /// The environment.
    pub environment: String,
    /// The command line that started it.
    pub command: String,
    /// RFC 3339 UTC start.
    pub started_at: String,
    /// RFC 3339 UTC end.
    pub finished_at: String,
    /// `succeeded`, `failed`, `interrupted`, `dry-run` or `plan`.
    pub result: String,
    /// Every phase, in order.
    pub phases: Vec<PhaseReport>,
    /// The command that resumes after a failure.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resume: Option<String>,
}

/// One phase of a deploy run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PhaseReport {
    /// The phase.
    pub phase: String,
    /// `succeeded`, `failed`, `interrupted`, `up to date`, `not selected`, `not configured`,
    /// `not run` (after an earlier failure), `dry run` or `planned`.
    pub status: String,
    /// RFC 3339 UTC start, when it ran.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub started_at: Option<String>,
    /// Wall time in seconds.
    pub seconds: f64,
    /// The command it ran, when it ran one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub command: Option<String>,
    /// Its exit code.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exit_code: Option<i32>,
    /// Its log, relative to the repository root.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub log: Option<String>,
    /// Why it was skipped, or what failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}
