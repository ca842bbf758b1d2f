//! The typed results a layer hands back for one run, stored in `report.json` per phase.
//!
//! Each layer's entry point returns its own outcome and fills one of these in: the engine
//! records it, the CLI renders it. They are data, never text to parse.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Something a layer wants the person running it to know, which is not a failure: a drift,
/// an assumption, a kept file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Notice {
    /// How much it matters.
    pub level: NoticeLevel,
    /// What happened.
    pub message: String,
    /// What to do about it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hint: Option<String>,
}

impl Notice {
    /// For information.
    pub fn info(message: impl Into<String>) -> Self {
        Self {
            level: NoticeLevel::Info,
            message: message.into(),
            hint: None,
        }
    }

    /// A warning, with what to do about it.
    pub fn warning(message: impl Into<String>, hint: Option<String>) -> Self {
        Self {
            level: NoticeLevel::Warning,
            message: message.into(),
            hint,
        }
    }
}

/// How much a [`Notice`] matters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum NoticeLevel {
    /// For information.
    Info,
    /// Worth acting on; the run went on.
    Warning,
}

/// A Terraform plan's counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PlanCounts {
    /// Resources to create (a replacement counts here and in `destroy`).
    pub add: usize,
    /// Resources to update in place.
    pub change: usize,
    /// Resources to delete.
    pub destroy: usize,
}

impl PlanCounts {
    /// Whether the plan changes anything.
    pub fn has_changes(&self) -> bool {
        self.add + self.change + self.destroy > 0
    }
}

/// What one role's image did in a provision run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ImageOutcome {
    /// The role.
    pub role: String,
    /// How it ended.
    pub status: ImageStatus,
    /// The image, relative to the repository root.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image: Option<String>,
    /// `sha256:` of the image, when there is one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sha256: Option<String>,
    /// Wall time in seconds.
    pub seconds: f64,
    /// What failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// How a role's image ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum ImageStatus {
    /// Built and recorded.
    Built,
    /// The recorded image is intact and its inputs are unchanged.
    UpToDate,
    /// A dry run: it would be built.
    WouldBuild,
    /// Its build failed.
    Failed,
}

/// What one Helm release did.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ReleaseOutcome {
    /// The release.
    pub name: String,
    /// Its namespace.
    pub namespace: String,
    /// How it ended.
    pub status: ReleaseStatus,
    /// Wall time in seconds.
    pub seconds: f64,
    /// What failed, or why it was skipped.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

/// How a Helm release ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum ReleaseStatus {
    /// Installed or upgraded.
    Deployed,
    /// A dry run: its command was shown.
    DryRun,
    /// A diff found changes.
    Changes,
    /// A diff found none.
    NoChanges,
    /// It failed (and, with `--wait`, was rolled back by Helm).
    Failed,
    /// A release it needs failed, so it did not run.
    Skipped,
}

/// The typed detail of a phase that ran.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "kind", rename_all = "kebab-case", deny_unknown_fields)]
pub enum PhaseDetail {
    /// `validate`: what it found.
    Validate {
        /// Errors found.
        errors: usize,
        /// Warnings found.
        warnings: usize,
    },
    /// `generate`: what happened to the bundle.
    Generate {
        /// `current` (it matched its package), `generated` or `regenerated`.
        bundle: String,
    },
    /// `provision`: each role's image.
    Images {
        /// One per role.
        images: Vec<ImageOutcome>,
    },
    /// A Terraform module (`images`, `templates`, `nodes`).
    Terraform {
        /// The plan's counts, when a plan was made.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        plan: Option<PlanCounts>,
        /// Whether it was applied.
        applied: bool,
        /// The module's output names, after an apply.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        outputs: Vec<String>,
    },
    /// `kubespray` (and the `ansible` hook): the playbooks run.
    Playbooks {
        /// Each command, shell-quoted with secrets redacted.
        commands: Vec<String>,
    },
    /// `platform` or `business`: each release.
    Releases {
        /// In the order they ended.
        releases: Vec<ReleaseOutcome>,
    },
}
