//! The library API: `validate` reports every problem at once; the lock plan follows the rule.

use strata_config::{Layout, LockChange, Severity, Target, plan_lock, validate};
use strata_testkit::edit;

#[test]
fn sample_repository_is_clean() {
    let report = validate(&Layout::new(strata_testkit::workspace_root()), &Target::ALL);
    assert!(report.diagnostics.is_empty(), "{:#?}", report.diagnostics);
    assert_eq!(
        (
            report.checked.packages,
            report.checked.environments,
            report.checked.selectors
        ),
        (1, 3, 12)
    );
}

#[test]
fn every_problem_is_reported_in_file_order() {
    let repo = strata_testkit::sample_repo();
    let root = repo.path();
    strata_testkit::copy_package(root, "core", "edge");
    edit(
        root,
        "config/packages/edge/environments/staging.business.yaml",
        "    path: apps/storefront/overlays/staging\n",
        "",
    );
    edit(
        root,
        "config/packages/core/environments/production.kubespray.json",
        "\"docker\"",
        "\"dokcer\"",
    );
    edit(
        root,
        "platform/environments/staging.yaml",
        "environment: staging",
        "environment: stagin",
    );
    let report = validate(&Layout::new(root), &Target::ALL);
    let found: Vec<(String, &str, Severity)> = report
        .diagnostics
        .iter()
        .map(|d| (d.path.display().to_string(), d.code, d.severity))
        .collect();
    assert_eq!(
        found,
        [
            (
                "config/packages/core/environments/production.kubespray.json".to_owned(),
                "invalid-json",
                Severity::Error
            ),
            (
                "config/packages/edge/environments/staging.business.yaml".to_owned(),
                "app-source",
                Severity::Error
            ),
            (
                "platform/environments/staging.yaml".to_owned(),
                "selector-environment",
                Severity::Error
            ),
        ],
        "three problems in three files, each found; edge is not in the lock but has errors, so the lock rule waits"
    );
    assert_eq!(report.checked.packages, 2);
}

#[test]
fn lock_plan_records_new_and_bumped_packages() {
    let repo = strata_testkit::sample_repo();
    let root = repo.path();
    let layout = Layout::new(root);
    let (_, changes) = plan_lock(&layout).unwrap();
    assert!(
        changes.is_empty(),
        "the sample lock is current: {changes:?}"
    );
    strata_testkit::copy_package(root, "core", "edge");
    edit(
        root,
        "config/packages/core/package.json",
        "\"0.2.0\"",
        "\"1.0.0\"",
    );
    let (lock, changes) = plan_lock(&layout).unwrap();
    assert_eq!(changes.len(), 2, "{changes:?}");
    assert!(
        matches!(&changes[0], LockChange::Bumped { id, to, .. } if id.as_str() == "core" && to.to_string() == "1.0.0")
    );
    assert!(matches!(&changes[1], LockChange::Added { id, .. } if id.as_str() == "edge"));
    assert_eq!(lock.packages.len(), 2);
    let core = lock.packages.values().next().unwrap();
    assert_eq!(core.version.to_string(), "1.0.0");
}
