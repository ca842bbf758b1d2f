//! `cargo xtask`: Strata's command line.
//!
//! It parses arguments, calls the library crates and renders their results; it holds no domain
//! logic. Exit codes: 0 done, 1 a command or check failed, 2 invalid input or configuration,
//! 3 the environment is locked, 130 interrupted.

mod cli;
mod commands;
mod report;
mod reporter;
mod runs;
mod signals;
mod ui;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;
use strata_bundle::BundleError;
use strata_config::Layout;
use strata_exec::ExecError;

use crate::cli::{Cli, Command};
use crate::ui::Ui;

/// How a command ended: the public exit-code set, its message already printed.
pub(crate) use strata_metadata::Exit;

fn main() -> ExitCode {
    let cli = Cli::parse();
    let ui = Ui::new(&cli.global);
    init_tracing(&cli.global);
    // Absolute, so every path handed to an external tool means the same from any folder.
    let root = repository_root(cli.global.root.clone());
    let layout = Layout::new(std::path::absolute(&root).unwrap_or(root));
    // An unknown environment is bad input: refused before anything is written for it. (A lock
    // left for an environment that is no longer defined can still be removed.)
    if let Some(env) = cli.command.known_environment()
        && !(matches!(cli.command, Command::Unlock { .. })
            && strata_pipeline::lock_path(&layout.state_dir(env.as_str())).exists())
        && !report::known_environment(&layout, env, &ui)
    {
        return ExitCode::from(Exit::Invalid.code());
    }
    let result = match cli.command {
        Command::Validate(args) => commands::validate::run(&layout, &args, &ui),
        Command::Generate(cmd) => commands::generate::run(&layout, &cmd, &ui),
        Command::Bundle(cmd) => commands::bundle::run(&layout, &cmd, &ui),
        Command::Config(cmd) => commands::config::run(&layout, &cmd, &ui),
        Command::Infra(args) => commands::infra::run(&layout, &args, &ui),
        Command::Provision(cmd) => commands::provision::run(&layout, &cmd, &ui),
        Command::Kubespray(cmd) => commands::kubespray::run(&layout, &cmd, &ui),
        Command::Platform(cmd) => commands::platform::run(&layout, &cmd, &ui),
        Command::Business(cmd) => commands::platform::business(&layout, &cmd, &ui),
        Command::Graph(args) => commands::platform::graph(&layout, &args, &ui),
        Command::Deploy(args) => commands::deploy::run(&layout, &args, &ui),
        Command::Backfill(args) => commands::backfill::run(&layout, &args, &ui),
        Command::Completions { shell } => commands::reference::completions(shell),
        Command::Status(args) => commands::deploy::status(&layout, &args, &ui),
        Command::Unlock { env, force, yes } => {
            commands::deploy::unlock(&layout, env.as_str(), force, yes, &ui)
        }
        Command::Runs(args) => commands::state::runs(&layout, &args, &ui),
        Command::State(cmd) => commands::state::run(&layout, &cmd, &ui),
        Command::Doctor => commands::doctor::run(&layout, &ui),
        Command::Ci(args) => commands::ci::run(&layout, &args, &ui),
        Command::Bench(args) => commands::bench::run(&layout, &args, &ui),
    };
    match result {
        Ok(exit) => ExitCode::from(exit.code()),
        Err(err) => {
            let (exit, hint) = classify(&err);
            let message = format!("{err:#}");
            // `--output json` promises one JSON document on stdout, failures included.
            report::error(&ui, &message, hint.as_deref());
            ExitCode::from(exit.code())
        }
    }
}

/// Sorts an unexpected error into an exit code and, where a fix is clear, a hint.
fn classify(err: &anyhow::Error) -> (Exit, Option<String>) {
    use strata_metadata::ErrorKind;
    for cause in err.chain() {
        // Each library error says what kind it is; `ErrorKind::exit` is the one mapping.
        let found = if let Some(e) = cause.downcast_ref::<strata_pipeline::StateError>() {
            Some((e.kind(), e.hint()))
        } else if let Some(e) = cause.downcast_ref::<BundleError>() {
            Some((e.kind(), e.hint()))
        } else if let Some(e) = cause.downcast_ref::<strata_terraform::TerraformError>() {
            Some((e.kind(), e.hint()))
        } else if let Some(e) = cause.downcast_ref::<strata_deploy::DeployError>() {
            Some((e.kind(), e.hint()))
        } else if let Some(e) = cause.downcast_ref::<ExecError>() {
            let kind = if e.is_configuration() {
                ErrorKind::Invalid
            } else {
                ErrorKind::Failed
            };
            Some((kind, e.hint()))
        } else {
            None
        };
        if let Some((kind, hint)) = found {
            return (kind.exit(), hint);
        }
    }
    (Exit::Failed, None)
}

/// `--root`, else `STRATA_ROOT`, else the workspace holding this crate (at run time through
/// cargo's `CARGO_MANIFEST_DIR`, else where it was built).
fn repository_root(flag: Option<PathBuf>) -> PathBuf {
    if let Some(root) = flag.or_else(|| {
        std::env::var_os("STRATA_ROOT")
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
    }) {
        return root;
    }
    let manifest = std::env::var_os("CARGO_MANIFEST_DIR")
        .map(PathBuf::from)
        .filter(|p| p.join("src/commands").is_dir())
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")));
    manifest.parent().map(PathBuf::from).unwrap_or(manifest)
}

fn init_tracing(global: &cli::Global) {
    use tracing_subscriber::EnvFilter;
    let default = match (global.quiet, global.verbose) {
        (true, _) => "error",
        (false, 0) => "warn",
        (false, 1) => "info",
        (false, 2) => "debug",
        _ => "trace",
    };
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default));
    let color = std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
        && std::io::IsTerminal::is_terminal(&std::io::stderr());
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(color)
        .without_time()
        .with_target(false)
        .init();
}
