//! What `cargo xtask deploy` records: the per-environment run state and each run's report.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// One phase of `deploy`, in run order.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum Phase {
    /// Check definitions, packages, the lock and selectors.
    Validate,
    /// Bring the bundle up to date with its package.
    Generate,
    /// Build the role images.
    Provision,
    /// Terraform: download the cloud image onto the Proxmox nodes.
    Images,
    /// Terraform: make the VM template.
    Templates,
    /// Terraform: clone the nodes.
    Nodes,
    /// The team's playbook over the new nodes (only when there is one).
    Ansible,
    /// Kubespray's cluster.yml.
    Kubespray,
    /// The platform's Helm releases.
    Platform,
    /// The ArgoCD app-of-apps.
    Business,
}

impl Phase {
    /// Every phase, in run order.
    pub const ALL: [Phase; 10] = [
        Phase::Validate,
        Phase::Generate,
        Phase::Provision,
        Phase::Images,
        Phase::Templates,
        Phase::Nodes,
        Phase::Ansible,
        Phase::Kubespray,
        Phase::Platform,
        Phase::Business,
    ];

    /// Its name on the command line and in state files.
    pub fn name(self) -> &'static str {
        match self {
            Phase::Validate => "validate",
            Phase::Generate => "generate",
            Phase::Provision => "provision",
            Phase::Images => "images",
            Phase::Templates => "templates",
            Phase::Nodes => "nodes",
            Phase::Ansible => "ansible",
            Phase::Kubespray => "kubespray",
            Phase::Platform => "platform",
            Phase::Business => "business",
        }
    }

    /// The phase named `name`.
    pub fn from_name(name: &str) -> Option<Phase> {
        Phase::ALL.into_iter().find(|p| p.name() == name)
    }

    /// The phases whose recorded digests are among this one's inputs: a change in theirs
    /// re-runs this one. Unlike [`Phase::needs`], nothing lists `generate` past `validate`: the
    /// later phases read the bundle files they use directly, so a regenerated bundle re-runs
    /// only the phases whose files changed.
    pub fn digest_needs(self) -> &'static [Phase] {
        match self {
            Phase::Provision => &[],
            Phase::Images => &[Phase::Provision],
            other => other.needs(),
        }
    }

    /// The phases this one builds on (what `graph` draws).
    pub fn needs(self) -> &'static [Phase] {
        match self {
            Phase::Validate => &[],
            Phase::Generate => &[Phase::Validate],
            Phase::Provision => &[Phase::Generate],
            Phase::Images => &[Phase::Generate, Phase::Provision],
            Phase::Templates => &[Phase::Images],
            Phase::Nodes => &[Phase::Templates],
            Phase::Ansible => &[Phase::Nodes],
            Phase::Kubespray => &[Phase::Nodes, Phase::Ansible],
            Phase::Platform => &[Phase::Kubespray],
            Phase::Business => &[Phase::Platform],
        }
    }
}

impl std::fmt::Display for Phase {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

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
#[serde(rename_all = "camelCase", deny_unknown_fields, from = "RecordFile")]
pub struct PhaseRecord {
    /// How it ended.
    pub status: PhaseStatus,
    /// `sha256:` over `inputs` and `needs`.
    pub digest: String,
    /// Each input (a bundle file, a module or chart folder, a tool) and its digest, so
    /// `status` can name what changed.
    pub inputs: BTreeMap<String, String>,
    /// The recorded digest of each phase it builds on (`never run` when that had not
    /// succeeded): a change upstream re-runs it.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub needs: BTreeMap<Phase, String>,
    /// RFC 3339 UTC end time.
    pub finished_at: String,
    /// Wall time in seconds.
    pub seconds: f64,
    /// The run that recorded it (`.strata/<env>/runs/<run-id>/`).
    pub run_id: String,
}

/// A record as files hold it: before the `needs` field, the phases a record built on were
/// inputs named `phase <name>`; reading moves them to `needs`, so old state stays valid (and
/// its digests, computed over the same names, still match).
#[derive(Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct RecordFile {
    /// How it ended.
    status: PhaseStatus,
    /// `sha256:` over `inputs` and `needs`.
    digest: String,
    /// Each input (a bundle file, a module or chart folder, a tool) and its digest, so
    /// `status` can name what changed. (Files written before `needs` existed also hold the
    /// phases it builds on here, as `phase <name>`.)
    inputs: BTreeMap<String, String>,
    /// The recorded digest of each phase it builds on (`never run` when that had not
    /// succeeded): a change upstream re-runs it.
    #[serde(default)]
    needs: BTreeMap<Phase, String>,
    /// RFC 3339 UTC end time.
    finished_at: String,
    /// Wall time in seconds.
    seconds: f64,
    /// The run that recorded it (`.strata/<env>/runs/<run-id>/`).
    run_id: String,
}

impl PhaseRecord {
    /// Its inputs and needs in one map, each phase it builds on named `phase <name>`: what its
    /// digest covers, and how a store with one column for both keeps them.
    pub fn flat_inputs(&self) -> BTreeMap<String, String> {
        let mut all = self.inputs.clone();
        for (phase, digest) in &self.needs {
            all.insert(format!("phase {phase}"), digest.clone());
        }
        all
    }

    /// The inverse of [`PhaseRecord::flat_inputs`]: own inputs, and needs.
    pub fn split_inputs(
        flat: BTreeMap<String, String>,
    ) -> (BTreeMap<String, String>, BTreeMap<Phase, String>) {
        let mut inputs = BTreeMap::new();
        let mut needs = BTreeMap::new();
        for (name, digest) in flat {
            match name.strip_prefix("phase ").and_then(Phase::from_name) {
                Some(phase) => {
                    needs.insert(phase, digest);
                }
                None => {
                    inputs.insert(name, digest);
                }
            }
        }
        (inputs, needs)
    }
}

impl From<RecordFile> for PhaseRecord {
    fn from(file: RecordFile) -> Self {
        let (inputs, mut needs) = PhaseRecord::split_inputs(file.inputs);
        needs.extend(file.needs);
        Self {
            status: file.status,
            digest: file.digest,
            inputs,
            needs,
            finished_at: file.finished_at,
            seconds: file.seconds,
            run_id: file.run_id,
        }
    }
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
    /// How the run ended.
    pub result: RunResult,
    /// Every phase, in order.
    pub phases: Vec<PhaseReport>,
    /// The command that resumes after a failure.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resume: Option<String>,
}

impl DeployReport {
    /// The exit code of the command that made this run: 130 interrupted; 2 when `validate`
    /// failed (the repository itself is wrong), 1 for any other failed phase; with `--plan`, 4
    /// when a plan or diff found changes; else 0.
    pub fn exit(&self) -> crate::Exit {
        use crate::Exit;
        match self.result {
            RunResult::Interrupted => Exit::Interrupted,
            RunResult::Failed => {
                let failed = self
                    .phases
                    .iter()
                    .find(|p| p.status == ReportStatus::Failed);
                if failed.is_some_and(|p| p.phase == Phase::Validate) {
                    Exit::Invalid
                } else {
                    Exit::Failed
                }
            }
            RunResult::Plan if self.has_changes() => Exit::Changes,
            _ => Exit::Success,
        }
    }

    /// Whether a plan in it found changes: a Terraform plan that adds, changes or destroys,
    /// or a release whose diff is not empty.
    pub fn has_changes(&self) -> bool {
        self.phases.iter().any(|p| match &p.detail {
            Some(crate::PhaseDetail::Terraform {
                plan: Some(plan), ..
            }) => plan.has_changes(),
            Some(crate::PhaseDetail::Releases { releases }) => releases
                .iter()
                .any(|r| r.status == crate::ReleaseStatus::Changes),
            _ => false,
        })
    }
}

/// One phase of a deploy run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PhaseReport {
    /// The phase.
    pub phase: Phase,
    /// What happened to it.
    pub status: ReportStatus,
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
    /// What it did, typed: the plan, the releases, the images.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<crate::PhaseDetail>,
    /// What the layer wanted said (drifts, kept files), in order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notices: Vec<crate::Notice>,
}

/// What happened to a phase in one run (`report.json`, the summary).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
pub enum ReportStatus {
    /// It ran and succeeded.
    #[serde(rename = "succeeded")]
    Succeeded,
    /// It ran and failed.
    #[serde(rename = "failed")]
    Failed,
    /// It was stopped by Ctrl-C.
    #[serde(rename = "interrupted")]
    Interrupted,
    /// Its inputs are unchanged since it last succeeded.
    #[serde(rename = "up to date")]
    UpToDate,
    /// `--from`, `--to` or `--only` left it out.
    #[serde(rename = "not selected")]
    NotSelected,
    /// The environment does not use it (no playbook, no platform releases, ...).
    #[serde(rename = "not configured")]
    NotConfigured,
    /// An earlier phase failed or the run was interrupted first.
    #[serde(rename = "not run")]
    NotRun,
    /// `--dry-run`: its commands were shown, not run.
    #[serde(rename = "dry run")]
    DryRun,
    /// `--plan`: its plan was made.
    #[serde(rename = "planned")]
    Planned,
    /// `--plan`: it has no plan of its own (provision, ansible, kubespray, business).
    #[serde(rename = "no plan")]
    NoPlan,
}

impl ReportStatus {
    /// Its spelling in reports and the summary.
    pub fn as_str(self) -> &'static str {
        match self {
            ReportStatus::Succeeded => "succeeded",
            ReportStatus::Failed => "failed",
            ReportStatus::Interrupted => "interrupted",
            ReportStatus::UpToDate => "up to date",
            ReportStatus::NotSelected => "not selected",
            ReportStatus::NotConfigured => "not configured",
            ReportStatus::NotRun => "not run",
            ReportStatus::DryRun => "dry run",
            ReportStatus::Planned => "planned",
            ReportStatus::NoPlan => "no plan",
        }
    }

    /// Whether it ran and ended well (or had nothing to do).
    pub fn is_ok(self) -> bool {
        !matches!(self, ReportStatus::Failed | ReportStatus::Interrupted)
    }
}

impl std::fmt::Display for ReportStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What a run does: deploy, show (`--dry-run`) or plan (`--plan`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Mode {
    /// Run every selected phase.
    #[default]
    Deploy,
    /// Run the local, reversible steps and show every external command.
    DryRun,
    /// Make Terraform plans and Helm diffs; change nothing.
    Plan,
}

/// How a whole run ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum RunResult {
    /// Every selected phase succeeded or was up to date.
    Succeeded,
    /// A phase failed.
    Failed,
    /// Ctrl-C stopped it.
    Interrupted,
    /// A dry run ended without failure.
    DryRun,
    /// A plan ended without failure.
    Plan,
}

impl RunResult {
    /// Its spelling in reports.
    pub fn as_str(self) -> &'static str {
        match self {
            RunResult::Succeeded => "succeeded",
            RunResult::Failed => "failed",
            RunResult::Interrupted => "interrupted",
            RunResult::DryRun => "dry-run",
            RunResult::Plan => "plan",
        }
    }
}

impl std::fmt::Display for RunResult {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}
