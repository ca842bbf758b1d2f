//! A run's id and the clock.

/// A sortable, unique id for one run: UTC time and process id (`20261125T180247Z-11950`).
pub fn new_run_id() -> String {
    format!("{}-{}", now().replace([':', '-'], ""), std::process::id())
}

/// The time now, RFC 3339 UTC to the second.
pub fn now() -> String {
    strata_util::now_rfc3339()
}
