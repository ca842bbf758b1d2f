//! Naming a run's log folder, `.strata/<env>/runs/<run-id>/`.

/// A sortable, unique id for one run: UTC time and process id (`20261125T180247Z-11950`).
pub(crate) fn run_id() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    format!(
        "{}-{}",
        strata_bundle::rfc3339(secs).replace([':', '-'], ""),
        std::process::id()
    )
}
