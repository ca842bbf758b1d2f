//! The `--output json` documents keep the spellings scripts read: each literal below is what
//! the command printed before the documents had types, and parses back to the same text.

use serde::{Serialize, de::DeserializeOwned};
use strata_metadata::output::{
    BackfillOutput, BuildOutput, DoctorOutput, DriftEntry, Failure, InfraFailure, InfraOutput,
    ListOutput, PushOutput, Refusal, StatusOutput, VerifyOutput,
};

/// `text` parses as `T` and serializes back to the same JSON.
fn round_trip<T: Serialize + DeserializeOwned + std::fmt::Debug>(text: &str) -> T {
    let parsed: T = serde_json::from_str(text).unwrap_or_else(|e| panic!("{e}: {text}"));
    let again: serde_json::Value = serde_json::to_value(&parsed).unwrap();
    let want: serde_json::Value = serde_json::from_str(text).unwrap();
    assert_eq!(again, want, "{parsed:#?}");
    parsed
}

#[test]
fn the_shared_envelopes_keep_their_spellings() {
    let failure: Failure =
        round_trip(r#"{"ok": false, "error": "no bundle at `api/outputs/staging`", "hint": null}"#);
    assert_eq!(
        failure,
        Failure::new("no bundle at `api/outputs/staging`", None)
    );
    round_trip::<Refusal>(
        r#"{"ok": false, "diagnostics": [{"severity": "error", "path": "api/definitions/environments.yaml", "line": 1, "column": 1, "code": "unknown-environment", "message": "no environment `nosuch`", "hint": "did you mean `staging`?"}]}"#,
    );
    round_trip::<Refusal>(
        r#"{"ok": false, "error": "the staged inventory is not one Kubespray can use", "diagnostics": []}"#,
    );
}

/// A reader built against this version keeps working when a later CLI adds a field: the
/// documents are read leniently (the files Strata reads as input are not).
#[test]
fn a_field_added_later_does_not_break_a_reader() {
    let failure: Failure =
        serde_json::from_str(r#"{"ok": false, "error": "x", "hint": null, "extra": 1}"#).unwrap();
    assert_eq!(failure.error, "x");
    let drift: DriftEntry =
        serde_json::from_str(r#"{"kind": "missing", "path": "a", "since": "b"}"#).unwrap();
    assert_eq!(drift, DriftEntry::Missing { path: "a".into() });
}

#[test]
fn drift_entries_are_tagged_by_kind_in_camel_case() {
    let digest = format!("sha256:{}", "a".repeat(64));
    let verified: VerifyOutput = round_trip(&format!(
        r#"{{"ok": false, "bundle": "api/outputs/development", "checked": 8,
            "configPackage": {{"id": "core", "version": "0.2.0", "digest": "{digest}"}},
            "drift": [
              {{"kind": "modified", "path": "terraform.tfvars", "expected": "{digest}", "actual": "{digest}"}},
              {{"kind": "remapped", "fileKind": "terraform", "path": "platform.yaml", "expected": "terraform.tfvars"}},
              {{"kind": "packageChanged", "package": "core", "bundleVersion": "0.2.0", "currentVersion": "0.2.1"}}
            ]}}"#
    ));
    assert_eq!(verified.drift.len(), 3);
}

#[test]
fn tool_image_and_staging_words_are_the_ones_printed() {
    round_trip::<DoctorOutput>(
        r#"{"tools": [
          {"tool": "terraform", "program": "tofu", "status": "found", "version": "1.8.3", "path": "/usr/bin/tofu", "fromOverride": false, "detail": "OpenTofu v1.8.3", "override": "STRATA_TERRAFORM"},
          {"tool": "helm", "program": null, "status": "missing", "version": null, "path": null, "fromOverride": false, "detail": "`helm` not found on PATH", "override": "STRATA_HELM"}
        ]}"#,
    );
    round_trip::<BuildOutput>(
        r#"{"ok": false, "environment": "development", "roles": [
          {"role": "k8s-control-plane", "result": "failed", "error": "the build command failed"}
        ]}"#,
    );
    let up_to_date: serde_json::Value =
        serde_json::to_value(strata_metadata::output::BuildResult::UpToDate).unwrap();
    assert_eq!(up_to_date, "up to date");
    round_trip::<ListOutput>(
        r#"{"ok": true, "environment": "development", "roles": [{"role": "k8s-worker", "state": "missing", "record": null}]}"#,
    );
    round_trip::<InfraOutput>(
        r#"{"ok": true, "environment": "development", "logs": null, "modules": [
          {"module": "nodes", "staged": "wouldoverwrite", "commands": ["terraform plan"], "plan": {"add": 1, "change": 0, "destroy": 2}, "result": "dry run"},
          {"module": "ansible", "result": "skipped (no infrastructure/ansible/playbook.yml)"}
        ]}"#,
    );
    round_trip::<InfraFailure>(
        r#"{"ok": false, "error": "terraform apply failed", "hint": null, "failed": "templates", "modules": []}"#,
    );
}

#[test]
fn the_state_documents_keep_their_spellings() {
    round_trip::<StatusOutput>(
        r#"{"ok": true, "environment": "development", "changed": true, "phases": [
          {"phase": "validate", "last": "succeeded", "when": "2026-11-25T10:00:42Z", "inputs": "changed: config"},
          {"phase": "business", "last": "-", "when": "-", "inputs": "not configured"}
        ]}"#,
    );
    // `state push` needs a PostgreSQL database; its tests run where one can be started.
    round_trip::<PushOutput>(
        r#"{"ok": true, "environment": "development", "pushed": {"copied": ["nodes"], "unchanged": [], "refused": [{"phase": "images", "localFinishedAt": "2026-11-25T10:00:00Z", "remoteFinishedAt": "2026-11-26T10:00:00Z"}], "runsCopied": 1, "runsPresent": 0}}"#,
    );
}

#[test]
fn backfill_prints_one_of_two_documents() {
    let package: BackfillOutput = round_trip(
        r#"{"ok": true, "package": "core", "environment": "legacy-prod", "version": "0.2.1"}"#,
    );
    assert!(
        matches!(package, BackfillOutput::Package(_)),
        "{package:#?}"
    );
    // Neither shape: an error, not a half-read document.
    assert!(serde_json::from_str::<BackfillOutput>(r#"{"ok": true, "package": "core"}"#).is_err());
}
