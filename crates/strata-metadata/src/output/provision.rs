//! The `provision` commands' documents: `build`, `list` and `publish`.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::ArtifactRecord;

/// `provision build --output json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct BuildOutput {
    /// Every role's image is ready.
    pub ok: bool,
    /// The environment.
    pub environment: String,
    /// Each role built or checked.
    pub roles: Vec<BuiltRole>,
}

/// One role in `provision build`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct BuiltRole {
    /// The role.
    pub role: String,
    /// How it ended.
    pub result: BuildResult,
    /// The image's record, when there is an image.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub record: Option<ArtifactRecord>,
    /// What failed, when it failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// How a role's build ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub enum BuildResult {
    /// Built and recorded.
    #[serde(rename = "built")]
    Built,
    /// The recorded image is intact and its inputs are unchanged.
    #[serde(rename = "up to date")]
    UpToDate,
    /// Its build failed.
    #[serde(rename = "failed")]
    Failed,
}

/// `provision list --output json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ListOutput {
    /// Always `true`.
    pub ok: bool,
    /// The environment.
    pub environment: String,
    /// Every role of the environment.
    pub roles: Vec<ListedRole>,
}

/// One role in `provision list`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ListedRole {
    /// The role.
    pub role: String,
    /// Whether its image is there and current.
    pub state: ImageState,
    /// Its image's record; `null` when there is none.
    pub record: Option<ArtifactRecord>,
}

/// `provision publish --output json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct PublishOutput {
    /// Always `true` (a failure is a [`super::Failure`]).
    pub ok: bool,
    /// The environment.
    pub environment: String,
    /// The image's record, with where it was published.
    pub record: ArtifactRecord,
}

/// Whether a role's image is there and current, in `provision list`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum ImageState {
    /// No record, or no image.
    Missing,
    /// The image's size differs from its record.
    Modified,
    /// Built from other inputs.
    Stale,
    /// Built from the current inputs, as far as is known.
    Present,
}
