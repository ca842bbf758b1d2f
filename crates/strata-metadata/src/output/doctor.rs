//! `doctor --output json`: which external tools are here.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// `doctor --output json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct DoctorOutput {
    /// Every tool Strata drives, in the order `doctor` shows them.
    pub tools: Vec<ToolRow>,
}

/// One tool.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ToolRow {
    /// The tool, such as `terraform` or `container runtime`.
    pub tool: String,
    /// The program found (`tofu` for terraform, `podman` for the container runtime).
    pub program: Option<String>,
    /// Found, missing, or found but not answering its version command.
    pub status: ToolStatus,
    /// Its version, when it said one.
    pub version: Option<String>,
    /// Where it was found.
    pub path: Option<String>,
    /// Found through its `STRATA_*` variable rather than `PATH`.
    pub from_override: bool,
    /// The version line it printed, or why it is missing or broken.
    pub detail: String,
    /// The variable that points Strata at another binary (`STRATA_TERRAFORM`, ...).
    #[serde(rename = "override")]
    pub override_var: String,
}

/// Whether a tool is usable.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum ToolStatus {
    /// Found and it answered.
    Found,
    /// Not found.
    Missing,
    /// Found, but its version command failed.
    Broken,
}

impl ToolStatus {
    /// The word `doctor` shows.
    pub fn as_str(self) -> &'static str {
        match self {
            ToolStatus::Found => "found",
            ToolStatus::Missing => "missing",
            ToolStatus::Broken => "broken",
        }
    }
}
