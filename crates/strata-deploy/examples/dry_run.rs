//! A dry run of one environment through strata-deploy's public API alone, with an event
//! printer of its own: what another Rust tool would write to embed Strata's deploy.
//!
//! ```sh
//! cargo run -p strata-deploy --example dry_run -- [ROOT] [ENV]
//! ```

// An example program's job is to print.
#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::process::ExitCode;

use strata_config::Layout;
use strata_deploy::{DeployEvent, DeployOptions, Interrupt, Mode, RunResult, SkipReason};

fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    let root = args.next().unwrap_or_else(|| ".".to_owned());
    let env = args.next().unwrap_or_else(|| "development".to_owned());
    let env = match env.parse() {
        Ok(env) => env,
        Err(e) => {
            eprintln!("{env}: {e}");
            return ExitCode::from(2);
        }
    };
    let layout = Layout::new(std::path::absolute(&root).unwrap_or(root.into()));
    let opts = DeployOptions {
        mode: Mode::DryRun,
        command: "dry_run example".to_owned(),
        ..DeployOptions::new(env)
    };
    let report = strata_deploy::deploy(&layout, &opts, &Interrupt::new(), |event| match event {
        DeployEvent::Started { run_id, .. } => println!("run {run_id}"),
        DeployEvent::Skipped { phase, reason } => match reason {
            SkipReason::NotSelected | SkipReason::NotRun => {}
            other => println!("{phase:>10}: skipped ({other:?})"),
        },
        DeployEvent::PhaseStarted { phase, what } => println!("{phase:>10}: {what}"),
        DeployEvent::Shown { phase, line } => println!("{phase:>10}  $ {line}"),
        DeployEvent::Notice { notice, .. } => println!("    notice: {}", notice.message),
        DeployEvent::PhaseFinished { report, failure } => {
            println!(
                "{:>10}: {} in {:.2}s",
                report.phase, report.status, report.seconds
            );
            if let Some(f) = failure {
                println!("    because: {}", f.message);
            }
        }
        _ => {}
    });
    match report {
        Ok(r) => {
            println!("result: {}", r.result);
            if r.result == RunResult::DryRun {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            }
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(e.kind().exit().code())
        }
    }
}
