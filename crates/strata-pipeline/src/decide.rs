//! "Is this phase up to date, and what changed": the one decision `deploy`, `status` and
//! `deploy --plan` share.

use std::collections::{BTreeMap, BTreeSet};

use strata_bundle::Bundle;
use strata_config::Layout;
use strata_exec::Tool;
use strata_metadata::{Phase, PhaseRecord, PhaseStatus, PipelineState};

use crate::digest::{changed_inputs, inputs_digest, phase_inputs};

/// What a phase reads now: its own inputs (bundle files, folders, tools) and the recorded
/// digest of each phase it builds on.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PhaseInputs {
    /// Input name to digest.
    pub own: BTreeMap<String, String>,
    /// Each phase it builds on, with that phase's last successful digest (`never run`).
    pub needs: BTreeMap<Phase, String>,
}

impl PhaseInputs {
    /// The inputs of `phase` now (`tools`: the programs it runs), with the digests `state`
    /// holds for the phases it builds on; or why the phase does not apply to this environment.
    pub fn read(
        layout: &Layout,
        bundle: Option<&Bundle>,
        state: &PipelineState,
        phase: Phase,
        tools: &[Tool],
    ) -> Result<Self, String> {
        let own = phase_inputs(layout, bundle, phase, tools)?;
        let needs = phase
            .digest_needs()
            .iter()
            .map(|need| {
                let recorded = state
                    .phases
                    .get(need.name())
                    .filter(|r| r.status == PhaseStatus::Succeeded)
                    .map_or_else(|| "never run".to_owned(), |r| r.digest.clone());
                (*need, recorded)
            })
            .collect();
        Ok(Self { own, needs })
    }

    /// Own inputs and needs in one map, the phases named `phase <name>`: what the digest
    /// covers and what "changed" lists name.
    pub fn flattened(&self) -> BTreeMap<String, String> {
        flatten(&self.own, &self.needs)
    }

    /// `sha256:` over every input.
    pub fn digest(&self) -> String {
        inputs_digest(&self.flattened())
    }

    /// The record of a run of the phase with these inputs.
    pub fn record(
        &self,
        status: PhaseStatus,
        finished_at: String,
        seconds: f64,
        run_id: &str,
    ) -> PhaseRecord {
        PhaseRecord {
            status,
            digest: self.digest(),
            inputs: self.own.clone(),
            needs: self.needs.clone(),
            finished_at,
            seconds,
            run_id: run_id.to_owned(),
        }
    }
}

fn flatten(
    own: &BTreeMap<String, String>,
    needs: &BTreeMap<Phase, String>,
) -> BTreeMap<String, String> {
    let mut all = own.clone();
    for (phase, digest) in needs {
        all.insert(format!("phase {phase}"), digest.clone());
    }
    all
}

/// Whether a phase must run, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Freshness {
    /// It has no record.
    NeverRun,
    /// Its last run did not succeed (failed or interrupted): it runs again.
    LastRun(PhaseStatus),
    /// It succeeded, and these inputs changed since (input names; `phase <name>` for a phase
    /// it builds on).
    Changed(Vec<String>),
    /// It succeeded with exactly these inputs.
    UpToDate,
}

impl Freshness {
    /// Whether the phase can be skipped.
    pub fn is_up_to_date(&self) -> bool {
        matches!(self, Freshness::UpToDate)
    }

    /// For people: `never run`, `to run again`, `changed: a, b` or `up to date`.
    pub fn describe(&self) -> String {
        match self {
            Freshness::NeverRun => "never run".to_owned(),
            Freshness::LastRun(_) => "to run again".to_owned(),
            Freshness::Changed(names) => format!("changed: {}", names.join(", ")),
            Freshness::UpToDate => "up to date".to_owned(),
        }
    }
}

/// Compares a phase's last record with its inputs now. `reruns` are phases known to run
/// before it in the same deploy (which will give it new `needs`): `status` passes what it
/// predicts; a running deploy passes none, since its state is already updated.
pub fn freshness(
    record: Option<&PhaseRecord>,
    now: &PhaseInputs,
    phase: Phase,
    reruns: &BTreeSet<Phase>,
) -> Freshness {
    let Some(record) = record else {
        return Freshness::NeverRun;
    };
    if record.status != PhaseStatus::Succeeded {
        return Freshness::LastRun(record.status);
    }
    let mut changed = changed_inputs(&flatten(&record.inputs, &record.needs), &now.flattened());
    for need in phase.digest_needs() {
        let name = format!("phase {need}");
        if reruns.contains(need) && !changed.contains(&name) {
            changed.push(name);
        }
    }
    if changed.is_empty() && record.digest == now.digest() {
        Freshness::UpToDate
    } else if changed.is_empty() {
        // Same inputs, another digest: recorded by another version of Strata.
        Freshness::Changed(vec!["digest".to_owned()])
    } else {
        Freshness::Changed(changed)
    }
}

/// One phase as `status` shows it.
#[derive(Debug, Clone, PartialEq)]
pub struct Forecast {
    /// The phase.
    pub phase: Phase,
    /// Its last record.
    pub last: Option<PhaseRecord>,
    /// Whether the next deploy runs it; `Err` says why it does not apply.
    pub freshness: Result<Freshness, String>,
}

/// What the next full deploy would run, phase by phase, from the recorded state and the
/// inputs now: a phase that will run makes every phase that builds on it run too. `tools`
/// gives the programs each phase runs (strata-deploy's `phase_tools`).
pub fn forecast(
    layout: &Layout,
    bundle: Option<&Bundle>,
    state: &PipelineState,
    tools: impl Fn(Phase) -> &'static [Tool],
) -> Vec<Forecast> {
    let mut reruns = BTreeSet::new();
    Phase::ALL
        .into_iter()
        .map(|phase| {
            let last = state.phases.get(phase.name()).cloned();
            let freshness = PhaseInputs::read(layout, bundle, state, phase, tools(phase))
                .map(|now| freshness(last.as_ref(), &now, phase, &reruns));
            if freshness.as_ref().is_ok_and(|f| !f.is_up_to_date()) {
                reruns.insert(phase);
            }
            Forecast {
                phase,
                last,
                freshness,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn inputs(tfvars: &str, images: &str) -> PhaseInputs {
        PhaseInputs {
            own: BTreeMap::from([("terraform.tfvars".to_owned(), tfvars.to_owned())]),
            needs: BTreeMap::from([(Phase::Images, images.to_owned())]),
        }
    }

    #[test]
    fn a_record_written_before_needs_existed_reads_the_same() {
        let now = inputs("sha256:a", "sha256:i");
        let old = serde_json::json!({
            "status": "succeeded",
            "digest": now.digest(),
            "inputs": {"terraform.tfvars": "sha256:a", "phase images": "sha256:i"},
            "finishedAt": "2026-11-30T10:00:00Z",
            "seconds": 1.0,
            "runId": "r1",
        });
        let record: PhaseRecord = serde_json::from_value(old).unwrap();
        assert_eq!(record.needs[&Phase::Images], "sha256:i");
        assert!(!record.inputs.contains_key("phase images"));
        let none = BTreeSet::new();
        assert_eq!(
            freshness(Some(&record), &now, Phase::Templates, &none),
            Freshness::UpToDate
        );
    }

    #[test]
    fn names_what_changed_and_what_will_rerun_upstream() {
        let then = inputs("sha256:a", "sha256:i");
        let record = then.record(PhaseStatus::Succeeded, "t".to_owned(), 0.0, "r1");
        let none = BTreeSet::new();
        assert_eq!(
            freshness(
                Some(&record),
                &inputs("sha256:b", "sha256:j"),
                Phase::Templates,
                &none
            ),
            Freshness::Changed(vec![
                "phase images".to_owned(),
                "terraform.tfvars".to_owned()
            ])
        );
        let images = BTreeSet::from([Phase::Images]);
        assert_eq!(
            freshness(Some(&record), &then, Phase::Templates, &images).describe(),
            "changed: phase images"
        );
        let failed = then.record(PhaseStatus::Failed, "t".to_owned(), 0.0, "r1");
        assert_eq!(
            freshness(Some(&failed), &then, Phase::Templates, &none).describe(),
            "to run again"
        );
        assert_eq!(
            freshness(None, &then, Phase::Templates, &none),
            Freshness::NeverRun
        );
    }
}
