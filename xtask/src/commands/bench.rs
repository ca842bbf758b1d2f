//! `cargo xtask bench`: the repository benchmark, or with `--hash` the large-file SHA-256
//! benchmark, built with optimisations.

use std::path::PathBuf;

use strata_config::Layout;
use strata_exec::{Command, RunOptions, run as exec};

use crate::Exit;
use crate::cli::BenchArgs;
use crate::ui::Ui;

pub(crate) fn run(layout: &Layout, args: &BenchArgs, ui: &Ui) -> anyhow::Result<Exit> {
    let cargo = std::env::var_os("CARGO").map_or_else(|| PathBuf::from("cargo"), PathBuf::from);
    let cmd = Command::new(cargo, layout.root()).arg("bench");
    // The two benchmarks measure unrelated things and the hash one writes a 2 GiB file, so
    // `--hash` runs it alone.
    let cmd = if args.hash {
        cmd.args(["--package", "strata-provisioner", "--bench", "hash"])
    } else {
        cmd.args([
            "--package",
            "strata-bundle",
            "--bench",
            "repository",
            "--",
            "--packages",
        ])
        .arg(args.packages.to_string())
    };
    ui.note(&format!("==> {}", cmd.display()));
    exec(
        &cmd,
        &RunOptions {
            inherit_output: true,
            ..RunOptions::default()
        },
    )?;
    Ok(Exit::Success)
}
