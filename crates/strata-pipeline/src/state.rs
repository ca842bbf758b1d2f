//! `.strata/<env>/state.json`, read and written whole.

use std::path::Path;

use strata_metadata::PipelineState;

/// Reads the state; a missing or unreadable file is an empty state (every phase "never run").
pub fn read_state(state_dir: &Path) -> PipelineState {
    std::fs::read_to_string(state_dir.join("state.json"))
        .ok()
        .and_then(|t| serde_json::from_str(&t).ok())
        .unwrap_or_default()
}

/// Writes the state through a temporary file, so a reader never sees half of it.
pub fn write_state(state_dir: &Path, state: &PipelineState) -> std::io::Result<()> {
    let mut text = serde_json::to_string_pretty(state).expect("state serializes");
    text.push('\n');
    strata_util::write_atomic(&state_dir.join("state.json"), text.as_bytes())
}
