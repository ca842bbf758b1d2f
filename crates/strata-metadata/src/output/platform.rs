//! The Helm layers' documents: `platform deploy|template|diff`, `business deploy` and `graph`.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// `platform deploy --output json`: each release's result, or (with `--dry-run`) only that it
/// was a dry run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct PlatformDeployOutput {
    /// Every release was deployed.
    pub ok: bool,
    /// The environment.
    pub environment: String,
    /// `true` with `--dry-run` (then there is no `releases`).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub dry_run: bool,
    /// Each release, in the order they ended (not in a dry run).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub releases: Option<Vec<ReleaseEntry>>,
}

/// One release in `platform deploy`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ReleaseEntry {
    /// The release.
    pub release: String,
    /// How it ended.
    pub result: ReleaseResult,
    /// Wall time in seconds.
    pub seconds: f64,
    /// What failed; `null` unless it failed.
    pub error: Option<String>,
}

/// How a release ended in `platform deploy`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum ReleaseResult {
    /// Installed or upgraded.
    Done,
    /// It failed.
    Failed,
    /// A release it needs failed, so it did not run.
    Skipped,
}

/// `platform template --output json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct TemplateOutput {
    /// Every release rendered.
    pub ok: bool,
    /// The environment.
    pub environment: String,
    /// The folder rendered into, relative to the repository root.
    pub dir: String,
}

/// `platform diff --output json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct DiffOutput {
    /// Always `true`: changes are `changed` (and exit 4), not a failure.
    pub ok: bool,
    /// The environment.
    pub environment: String,
    /// The releases that would change.
    pub changed: Vec<String>,
}

/// `business deploy --output json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct BusinessOutput {
    /// Always `true` (a failure is a [`super::Failure`]).
    pub ok: bool,
    /// The environment.
    pub environment: String,
    /// With `--dry-run`: the command that would deploy the app-of-apps.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub commands: Option<Vec<String>>,
}

/// `graph --output json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct GraphOutput {
    /// Always `true`.
    pub ok: bool,
    /// The environment.
    pub environment: String,
    /// The diagram, Mermaid or Graphviz dot as `--format` asked.
    pub graph: String,
}
