//! Rendering shared by the commands that act on an environment's bundle and run tools.

use strata_bundle::{Bundle, BundleError};
use strata_config::Layout;
use strata_exec::ExecError;

use strata_metadata::output::Failure;
use strata_metadata::{EnvironmentId, Notice, NoticeLevel};

use crate::ui::{Ui, refusal};

/// Refuses an environment the repository does not know, before a command reads or writes
/// anything for it: the diagnostic names the definitions file, the known environments and the
/// closest one. `false` means refused (exit 2).
pub(crate) fn known_environment(layout: &Layout, env: &EnvironmentId, ui: &Ui) -> bool {
    match strata_config::check_environment(layout, env) {
        Ok(()) => true,
        Err(d) => {
            ui.diagnostic(&d);
            ui.json(&refusal(std::slice::from_ref(&d)));
            false
        }
    }
}

/// Opens `env`'s bundle, or says there is none and how to make one (then `None`: exit 2).
pub(crate) fn open_bundle(layout: &Layout, env: &str, ui: &Ui) -> anyhow::Result<Option<Bundle>> {
    match Bundle::open(&layout.bundle_dir(env)) {
        Ok(b) => Ok(Some(b)),
        Err(BundleError::NotFound { .. }) => {
            let message = format!("no bundle for `{env}` at `api/outputs/{env}`");
            let hint = format!(
                "run `cargo xtask infra --env {env} --phase bootstrap`, or `cargo xtask generate env --id {env} --config <package>`"
            );
            error(ui, &message, Some(&hint));
            Ok(None)
        }
        Err(e) => Err(e.into()),
    }
}

/// The last lines a failed command printed, as `  | line` notes before the error.
pub(crate) fn show_tail(ui: &Ui, err: &ExecError) {
    if let Some((stdout_tail, stderr_tail)) = err.tail() {
        for line in stdout_tail.iter().chain(stderr_tail) {
            ui.note(&format!("  | {line}"));
        }
    }
}

/// An error and each of its causes, joined with `: `.
pub(crate) fn chain(err: &dyn std::error::Error) -> String {
    strata_util::error_chain(err)
}

/// A layer's notices: information as notes, warnings as warnings.
pub(crate) fn notices(ui: &Ui, notices: &[Notice]) {
    for n in notices {
        match n.level {
            NoticeLevel::Info => ui.note(&n.message),
            NoticeLevel::Warning => ui.warning(&n.message, n.hint.as_deref()),
        }
    }
}

/// A failure, on stderr and (with `--output json`) as the one JSON document.
pub(crate) fn error(ui: &Ui, message: &str, hint: Option<&str>) {
    ui.error(message, hint);
    ui.json(&Failure::new(message, hint));
}
