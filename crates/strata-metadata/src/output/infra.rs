//! `infra --output json`: the Terraform modules (and the Ansible hook) one run went through.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::PlanCounts;

/// `infra --output json`, when every module it ran succeeded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct InfraOutput {
    /// Always `true` (a failure is an [`InfraFailure`]).
    pub ok: bool,
    /// The environment.
    pub environment: String,
    /// Each module, in the order it ran; empty for `--phase bootstrap`.
    pub modules: Vec<ModuleEntry>,
    /// The folder holding each module's log, relative to the repository root; `null` in a dry
    /// run and for `--phase bootstrap`, which run nothing.
    pub logs: Option<String>,
}

/// `infra --output json` after a failure: the error, and the modules done before it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct InfraFailure {
    /// Always `false`.
    pub ok: bool,
    /// The error and each of its causes, joined with `: `.
    pub error: String,
    /// What to do about it; `null` when there is nothing clear to say.
    pub hint: Option<String>,
    /// The module that failed, when one had started.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failed: Option<String>,
    /// The modules that finished before it, when one had started.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub modules: Option<Vec<ModuleEntry>>,
}

/// One Terraform module, or the Ansible hook (which has only `module` and `result`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ModuleEntry {
    /// `images`, `templates`, `nodes` or `ansible`.
    pub module: String,
    /// What became of the module's `terraform.tfvars` (Terraform modules only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub staged: Option<Staged>,
    /// Each command run (or, in a dry run, shown), shell-quoted with secrets redacted
    /// (Terraform modules only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub commands: Option<Vec<String>>,
    /// The plan's counts, with `--plan`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub plan: Option<PlanCounts>,
    /// `terraform output -json` of the nodes module, with `--outputs`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub outputs: Option<serde_json::Value>,
    /// What happened, as the human output words it (`applied`, `no changes`, `dry run`,
    /// `plan saved to ...`, `outputs recorded`; for the hook `ran`, `dry run` or `skipped ...`).
    pub result: String,
}

/// What a run did with a module's `terraform.tfvars`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Staged {
    /// Written where there was none.
    Created,
    /// Already the bundle's.
    Unchanged,
    /// An out-of-date copy replaced.
    Replaced,
    /// A hand-edited copy overwritten (`--force`).
    Overwrote,
    /// A dry run kept a hand-edited copy that `--force` would overwrite.
    WouldOverwrite,
}
