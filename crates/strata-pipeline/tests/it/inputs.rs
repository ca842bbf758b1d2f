//! What `validate`'s inputs capture: every byte validate reads, whether or not the packages
//! lock has recorded it yet.

use std::collections::BTreeSet;

use strata_config::{Layout, Target, validate};
use strata_metadata::{Phase, PhaseStatus, PipelineState};
use strata_pipeline::{Freshness, PhaseInputs, freshness};

/// The state after a successful validate of the repository as it is now.
fn validated(layout: &Layout) -> PipelineState {
    let inputs = PhaseInputs::read(
        layout,
        None,
        &PipelineState::default(),
        Phase::Validate,
        &[],
    )
    .unwrap();
    let record = inputs.record(
        PhaseStatus::Succeeded,
        "2026-12-02T00:00:00Z".to_owned(),
        0.1,
        "t",
    );
    PipelineState {
        phases: [("validate".to_owned(), record)].into(),
    }
}

fn validate_freshness(layout: &Layout, state: &PipelineState) -> Freshness {
    let now = PhaseInputs::read(layout, None, state, Phase::Validate, &[]).unwrap();
    freshness(
        state.phases.get("validate"),
        &now,
        Phase::Validate,
        &BTreeSet::new(),
    )
}

fn codes(layout: &Layout) -> Vec<&'static str> {
    validate(layout, &Target::ALL)
        .diagnostics
        .iter()
        .filter(|d| d.is_error())
        .map(|d| d.code)
        .collect()
}

#[test]
fn a_package_edit_the_lock_does_not_reflect_yet_reruns_validate() {
    let repo = strata_testkit::sample_repo();
    let layout = Layout::new(repo.path());
    assert!(codes(&layout).is_empty(), "the sample is valid");
    let state = validated(&layout);
    assert_eq!(validate_freshness(&layout, &state), Freshness::UpToDate);

    // Content changed, version and lock not: the lock's digest still says the old content,
    // so a plan that trusted it would skip validate and deploy an unrecorded package.
    strata_testkit::edit(
        repo.path(),
        "config/packages/core/environments/development.platform.yaml",
        "releases:",
        "# edited\nreleases:",
    );
    assert_eq!(
        validate_freshness(&layout, &state),
        Freshness::Changed(vec!["config".to_owned()])
    );
    assert_eq!(codes(&layout), ["version-not-bumped"]);
}

#[test]
fn a_hidden_file_is_outside_the_package_digest_but_inside_validates_inputs() {
    let repo = strata_testkit::sample_repo();
    let layout = Layout::new(repo.path());
    let state = validated(&layout);
    let digest = |layout: &Layout| {
        let (defs, _) = strata_config::load_definitions(layout);
        strata_config::load_package(layout, "core", &defs, strata_config::Depth::Manifest)
            .0
            .unwrap()
            .digest
    };
    let before = digest(&layout);
    let key = ["-----BEGIN OPENSSH ", "PRIVATE KEY-----\n"].concat();
    strata_testkit::write(repo.path(), "config/packages/core/.notes", &key);
    assert_eq!(
        digest(&layout),
        before,
        "hidden files are not package content"
    );
    assert_eq!(
        validate_freshness(&layout, &state),
        Freshness::Changed(vec!["config".to_owned()])
    );
    assert_eq!(codes(&layout), ["private-key"]);
}

#[test]
fn a_terraform_module_variable_reruns_validate() {
    let repo = strata_testkit::sample_repo();
    let layout = Layout::new(repo.path());
    let state = validated(&layout);
    let module = "infrastructure/platforms/proxmox/terraform/nodes";
    let variables = repo.join(module).join("variables.tf");
    let mut text = std::fs::read_to_string(&variables).unwrap();
    text.push_str("\nvariable \"strata_test_required\" {\n  type = string\n}\n");
    std::fs::write(&variables, text).unwrap();
    assert_eq!(
        validate_freshness(&layout, &state),
        Freshness::Changed(vec![module.to_owned()])
    );
    assert!(codes(&layout).contains(&"tfvars-missing"));
}
