//! `cargo xtask config lock`.

use anyhow::Context as _;
use strata_config::{Layout, LockChange, plan_lock, render_lock};

use crate::Exit;
use crate::cli::ConfigCommand;
use strata_metadata::output::LockOutput;

use crate::ui::{Ui, refusal};

pub(crate) fn run(layout: &Layout, cmd: &ConfigCommand, ui: &Ui) -> anyhow::Result<Exit> {
    let ConfigCommand::Lock(args) = cmd;
    let planned = plan_lock(layout);
    let (lock, changes) = match planned {
        Ok(p) => p,
        Err(diags) => {
            for d in &diags {
                ui.diagnostic(d);
            }
            ui.json(&refusal(&diags));
            if !ui.json {
                ui.error("config/packages.lock not updated", None);
            }
            return Ok(Exit::Invalid);
        }
    };
    let lines: Vec<String> = changes.iter().map(|c| describe(c, args.check)).collect();
    // `--check` that finds the lock out of date fails (exit 1), and says so in `ok`.
    ui.json(&LockOutput {
        ok: changes.is_empty() || !args.check,
        check: args.check,
        changes: lines.clone(),
    });
    if changes.is_empty() {
        ui.result(&format!(
            "config/packages.lock is up to date ({} {})",
            lock.packages.len(),
            super::validate::plural(lock.packages.len(), "package")
        ));
        return Ok(Exit::Success);
    }
    for line in &lines {
        ui.result(&format!("  {line}"));
    }
    if args.check {
        if !ui.json {
            ui.error(
                "config/packages.lock is out of date",
                Some("run `cargo xtask config lock` and commit it"),
            );
        }
        return Ok(Exit::Failed);
    }
    let path = layout.abs(Layout::lock_rel());
    strata_util::write_atomic(&path, render_lock(&lock).as_bytes())
        .with_context(|| format!("failed to write `{}`", path.display()))?;
    ui.result(&format!("{} config/packages.lock", ui.ok("updated")));
    Ok(Exit::Success)
}

fn describe(c: &LockChange, check: bool) -> String {
    let (record, drop) = if check {
        ("would record", "would drop")
    } else {
        ("recorded", "dropped")
    };
    match c {
        LockChange::Added { id, version } => format!("{record} {id} {version} (new)"),
        LockChange::Bumped { id, from, to } => format!("{record} {id} {from} -> {to}"),
        LockChange::Removed { id } => format!("{drop} {id} (package removed)"),
    }
}
