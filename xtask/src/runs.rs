//! Naming a run's log folder, `.strata/<env>/runs/<run-id>/`.

/// The variable through which `deploy` hands its run id to the commands it starts, so their
/// logs land in the same run folder.
pub(crate) const RUN_ID_VAR: &str = "STRATA_RUN_ID";

/// A sortable, unique id for one run: UTC time and process id (`20261125T180247Z-11950`), or
/// the id of the `deploy` that started this command.
pub(crate) fn run_id() -> String {
    if let Ok(id) = std::env::var(RUN_ID_VAR)
        && !id.is_empty()
        && id.len() <= 64
        && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
    {
        return id;
    }
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    format!(
        "{}-{}",
        strata_util::rfc3339(secs).replace([':', '-'], ""),
        std::process::id()
    )
}

/// This run's log folder for `env`: `.strata/<env>/runs/<run-id>/` (created by the first log).
pub(crate) fn log_dir(layout: &strata_config::Layout, env: &str) -> std::path::PathBuf {
    layout.state_dir(env).join("runs").join(run_id())
}
