//! Naming a run's log folder, `.strata/<env>/runs/<run-id>/`.

use strata_util::vars::RUN_ID;

/// This command's run id: the one in `STRATA_RUN_ID` when a caller (a CI job, a wrapper that
/// runs several layer commands as one run) hands it over and it is a valid folder name, else a
/// new one from the engine's [`strata_deploy::new_run_id`].
pub(crate) fn run_id() -> String {
    if let Ok(id) = std::env::var(RUN_ID)
        && !id.is_empty()
        && id.len() <= 64
        && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
    {
        return id;
    }
    strata_deploy::new_run_id()
}

/// This run's log folder for `env`: `.strata/<env>/runs/<run-id>/` (created by the first log).
pub(crate) fn log_dir(layout: &strata_config::Layout, env: &str) -> std::path::PathBuf {
    layout.state_dir(env).join("runs").join(run_id())
}
