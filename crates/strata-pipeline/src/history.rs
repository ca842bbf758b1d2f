//! The local run history: one `report.json` per run under `.strata/<env>/runs/<run-id>/`.

use std::path::{Path, PathBuf};

use strata_metadata::DeployReport;

use crate::error::StateError;

/// `.strata/<env>/runs/<run-id>/report.json`.
pub fn report_path(state_dir: &Path, run_id: &str) -> PathBuf {
    state_dir.join("runs").join(run_id).join("report.json")
}

fn io(action: &'static str, path: &Path) -> impl FnOnce(std::io::Error) -> StateError {
    let path = path.to_owned();
    move |source| StateError::Io {
        action,
        path,
        source,
    }
}

/// Every readable report under `state_dir`, newest first (by start, then run id). A folder
/// without a readable report (a run still going, or one killed before it wrote it) is left out.
pub fn local_reports(state_dir: &Path) -> Result<Vec<DeployReport>, StateError> {
    let runs = state_dir.join("runs");
    let entries = match std::fs::read_dir(&runs) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(io("list", &runs)(e)),
    };
    let mut reports: Vec<DeployReport> = entries
        .filter_map(Result::ok)
        .filter_map(|e| {
            let path = e.path().join("report.json");
            let text = std::fs::read_to_string(&path).ok()?;
            match serde_json::from_str(&text) {
                Ok(r) => Some(r),
                Err(err) => {
                    tracing::warn!("skipping `{}`: {err}", path.display());
                    None
                }
            }
        })
        .collect();
    reports.sort_by(|a, b| (&b.started_at, &b.run_id).cmp(&(&a.started_at, &a.run_id)));
    Ok(reports)
}

/// Writes a run's report through a temporary file, so a reader never sees half of it.
pub fn write_local_report(state_dir: &Path, report: &DeployReport) -> Result<(), StateError> {
    let id = &report.run_id;
    if id.is_empty() || !id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-') {
        return Err(StateError::Io {
            action: "name the run folder of",
            path: state_dir.join("runs"),
            source: std::io::Error::other(format!("`{id}` is not a run id")),
        });
    }
    let path = report_path(state_dir, id);
    let mut text = serde_json::to_string_pretty(report).expect("a report serializes");
    text.push('\n');
    strata_util::write_atomic(&path, text.as_bytes()).map_err(io("write", &path))
}
