//! `cargo xtask validate`.

use std::time::Instant;

use strata_config::{Layout, Target, validate};
/// Shared by the commands that count things in their messages.
pub(crate) use strata_metadata::plural;

use crate::Exit;
use crate::cli::{ValidateArgs, ValidateTarget};
use strata_metadata::output::{Checked, ValidateOutput};

use crate::ui::{Ui, diagnostic_output};

pub(crate) fn run(layout: &Layout, args: &ValidateArgs, ui: &Ui) -> anyhow::Result<Exit> {
    let targets = match args.target {
        None => Target::ALL.to_vec(),
        Some(ValidateTarget::Definitions) => vec![Target::Definitions],
        Some(ValidateTarget::Packages) => vec![Target::Packages],
        Some(ValidateTarget::Environments) => vec![Target::Environments],
    };
    let started = Instant::now();
    let report = validate(layout, &targets);
    let elapsed = started.elapsed();
    for d in &report.diagnostics {
        ui.diagnostic(d);
    }
    let c = report.checked;
    ui.json(&ValidateOutput {
        ok: !report.has_errors(),
        errors: report.error_count(),
        warnings: report.warning_count(),
        checked: Checked {
            definitions: c.definitions,
            packages: c.packages,
            environments: c.environments,
            selectors: c.selectors,
        },
        diagnostics: report.diagnostics.iter().map(diagnostic_output).collect(),
    });
    let mut parts = Vec::new();
    if c.definitions {
        parts.push("definitions".to_owned());
    }
    if targets.contains(&Target::Packages) {
        parts.push(format!(
            "{} {} ({} {})",
            c.packages,
            plural(c.packages, "package"),
            c.environments,
            plural(c.environments, "environment")
        ));
    }
    if targets.contains(&Target::Environments) {
        parts.push(format!(
            "{} {}",
            c.selectors,
            plural(c.selectors, "selector")
        ));
    }
    let counts = format!(
        "{} {}, {} {}",
        report.error_count(),
        plural(report.error_count(), "error"),
        report.warning_count(),
        plural(report.warning_count(), "warning")
    );
    if report.has_errors() {
        if !ui.json {
            ui.error(&format!("validation failed: {counts}"), None);
        }
        return Ok(Exit::Invalid);
    }
    ui.result(&format!(
        "{} {}: {counts} ({} ms)",
        ui.ok("validated"),
        parts.join(", "),
        elapsed.as_millis()
    ));
    Ok(Exit::Success)
}
