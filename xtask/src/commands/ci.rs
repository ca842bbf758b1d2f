//! `cargo xtask ci`: everything CI checks, in the order that fails fastest.

use std::path::PathBuf;
use std::time::Instant;

use anyhow::Context as _;
use strata_config::Layout;
use strata_exec::{Command, ExecError, RunOptions, run as exec};

use super::ci_tools;
use crate::Exit;
use crate::cli::CiArgs;
use crate::ui::Ui;

pub(crate) fn run(layout: &Layout, args: &CiArgs, ui: &Ui) -> anyhow::Result<Exit> {
    let root = layout.root();
    let cargo = std::env::var_os("CARGO").map_or_else(|| PathBuf::from("cargo"), PathBuf::from);
    let xtask = std::env::current_exe().context("failed to find the running xtask binary")?;
    let root_arg = root.to_string_lossy().into_owned();
    let tools = ci_tools::prepare(root, args.allow_missing_tools, ui)?;
    if args.tools_only {
        ui.result(&format!(
            "{} the real tools are ready in {}",
            ui.ok("ci:"),
            ci_tools::CI_TOOLS
        ));
        return Ok(Exit::Success);
    }
    let path = std::env::join_paths(
        tools.path.iter().cloned().chain(
            std::env::var_os("PATH")
                .iter()
                .flat_map(std::env::split_paths),
        ),
    )
    .context("a tools folder has a `:` in its path")?;
    let tests = Command::new(&cargo, root)
        .args(["test", "--workspace", "--locked"])
        .env("PATH", &path);
    let tests = if args.allow_missing_tools {
        tests
    } else {
        tests.env("STRATA_REAL_TOOLS", "1")
    };
    let steps = [
        (
            "format",
            Command::new(&cargo, root).args(["fmt", "--all", "--", "--check"]),
        ),
        (
            "clippy",
            Command::new(&cargo, root).args([
                "clippy",
                "--workspace",
                "--all-targets",
                "--locked",
                "--",
                "-D",
                "warnings",
            ]),
        ),
        ("tests", tests),
        (
            "validate",
            Command::new(&xtask, root).args(["validate", "--root", &root_arg]),
        ),
        (
            "main command",
            Command::new(&xtask, root).args([
                "deploy",
                "--env",
                "development",
                "--dry-run",
                "--root",
                &root_arg,
            ]),
        ),
    ];
    let mut summary = Vec::new();
    for (name, cmd) in &steps {
        ui.note(&ui.bold(&format!("==> {name}: {}", cmd.display())));
        let started = Instant::now();
        let outcome = exec(
            cmd,
            &RunOptions {
                inherit_output: true,
                ..RunOptions::default()
            },
        );
        let secs = started.elapsed().as_secs_f64();
        match outcome {
            Ok(_) => summary.push(format!("{} {name} ({secs:.1}s)", ui.ok("ok"))),
            Err(e @ ExecError::Failed { .. }) => {
                summary.push(format!("{} {name} ({secs:.1}s)", ui.bad("FAILED")));
                print_summary(ui, &summary);
                ui.error(&format!("ci step `{name}` failed: {e}"), None);
                return Ok(Exit::Failed);
            }
            Err(e) => return Err(e).with_context(|| format!("ci step `{name}` could not run")),
        }
    }
    print_summary(ui, &summary);
    ui.result(&format!("{} every CI step passed", ui.ok("ci:")));
    Ok(Exit::Success)
}

fn print_summary(ui: &Ui, lines: &[String]) {
    ui.note("");
    for l in lines {
        ui.note(&format!("  {l}"));
    }
}
