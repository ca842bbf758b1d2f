//! `cargo xtask bundle verify`.

use strata_bundle::{Bundle, BundleError, Drift, verify};
use strata_config::Layout;
use strata_metadata::output::VerifyOutput;

use crate::Exit;
use crate::cli::BundleCommand;
use crate::ui::Ui;

pub(crate) fn run(layout: &Layout, cmd: &BundleCommand, ui: &Ui) -> anyhow::Result<Exit> {
    let BundleCommand::Verify(args) = cmd;
    let dir = layout.bundle_dir(args.env.as_str());
    let shown = strata_util::shown(layout.root(), &dir);
    let bundle = match Bundle::open(&dir) {
        Ok(b) => b,
        Err(BundleError::NotFound { .. }) => {
            let message = format!("no bundle at `{shown}`");
            let hint = format!(
                "generate it with `cargo xtask generate env --id {} --config <package>`",
                args.env
            );
            crate::report::error(ui, &message, Some(&hint));
            return Ok(Exit::Invalid);
        }
        Err(e) => return Err(e.into()),
    };
    let report = verify(&bundle, Some(layout))?;
    let pkg = &bundle.metadata().config_package;
    ui.json(&VerifyOutput {
        ok: report.is_clean(),
        bundle: shown.clone(),
        checked: report.checked,
        config_package: pkg.clone(),
        drift: report.drift.clone(),
    });
    let regenerate = if pkg.backfill.is_some() {
        format!("cargo xtask backfill --env {} …", args.env)
    } else {
        format!(
            "cargo xtask generate env --id {} --config {}",
            args.env, pkg.id
        )
    };
    for d in &report.drift {
        if !ui.json {
            let (msg, hint) = describe(d, &regenerate);
            ui.error(&format!("{shown}: {msg}"), hint.as_deref());
        }
    }
    if report.is_clean() {
        let source = match &pkg.backfill {
            Some(b) => format!(
                "a backfill of {} sources, built {}",
                b.sources.len(),
                bundle.metadata().generated_at
            ),
            None => format!(
                "{}@{} unchanged since {}",
                pkg.id,
                pkg.version,
                bundle.metadata().generated_at
            ),
        };
        ui.result(&format!(
            "{} {shown}: {}; {source}",
            ui.ok("intact"),
            if report.checked == 1 {
                "1 file matches its digest".to_owned()
            } else {
                format!("{} files match their digests", report.checked)
            },
        ));
        Ok(Exit::Success)
    } else {
        if !ui.json {
            ui.error(
                &format!(
                    "{shown} does not match its metadata: {} {}",
                    report.drift.len(),
                    super::validate::plural(report.drift.len(), "problem")
                ),
                None,
            );
        }
        Ok(Exit::Failed)
    }
}

fn describe(d: &Drift, regenerate: &str) -> (String, Option<String>) {
    let regen = Some(format!(
        "regenerate it with `{regenerate}`; a bundle is never edited by hand"
    ));
    match d {
        Drift::Modified {
            path,
            expected,
            actual,
        } => (
            format!(
                "`{path}` was modified (expected {}, found {})",
                expected.short(12),
                actual.short(12)
            ),
            regen,
        ),
        Drift::Missing { path } => (format!("`{path}` is missing"), regen),
        Drift::Remapped {
            file_kind,
            path,
            expected,
        } => (
            format!("metadata.json points {file_kind} at `{path}` instead of `{expected}`"),
            regen,
        ),
        Drift::Unexpected { path } => (format!("`{path}` is not part of the bundle"), regen),
        Drift::PackageChanged {
            package: id,
            bundle_version,
            current_version,
        } => {
            let what = if bundle_version == current_version {
                format!("package `{id}` {bundle_version} changed since this bundle was generated")
            } else {
                format!(
                    "package `{id}` moved from {bundle_version} to {current_version} since this bundle was generated"
                )
            };
            (what, Some(format!("regenerate it with `{regenerate}`")))
        }
    }
}
