//! The local backend's files: written whole, and a write that fails leaves nothing behind.

use std::collections::BTreeMap;

use strata_metadata::{PhaseRecord, PhaseStatus, PipelineState};
use strata_pipeline::{read_state, write_state};
use strata_testkit::TempDir;

fn names(dir: &std::path::Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

fn state(run_id: &str) -> PipelineState {
    let record = PhaseRecord {
        status: PhaseStatus::Succeeded,
        digest: "sha256:00".to_owned(),
        inputs: BTreeMap::new(),
        needs: BTreeMap::new(),
        finished_at: "2026-11-25T09:41:55Z".to_owned(),
        seconds: 1.0,
        run_id: run_id.to_owned(),
    };
    PipelineState {
        phases: BTreeMap::from([("validate".to_owned(), record)]),
    }
}

#[test]
fn a_state_write_replaces_the_file_and_a_failed_one_leaves_no_temporary() {
    let dir = TempDir::new("local-state");
    let state_dir = dir.join(".strata/dev");
    write_state(&state_dir, &state("run-1")).unwrap();
    write_state(&state_dir, &state("run-2")).unwrap();
    assert_eq!(read_state(&state_dir), state("run-2"));
    assert_eq!(names(&state_dir), ["state.json"]);

    // Something (an operator's `mkdir`, a bad restore) left a folder where state.json goes:
    // the write fails, and no hidden half-written file is left to pile up beside it.
    let blocked = dir.join(".strata/blocked");
    std::fs::create_dir_all(blocked.join("state.json/x")).unwrap();
    assert!(write_state(&blocked, &state("run-3")).is_err());
    assert_eq!(names(&blocked), ["state.json"]);
}
