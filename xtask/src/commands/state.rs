//! `cargo xtask runs` and `cargo xtask state push`: the run history and moving a checkout's
//! local state to the shared backend, both through the backend the repository configures.

use strata_config::Layout;
use strata_metadata::output::{PushOutput, RunPhase, RunSummary, RunsOutput};
use strata_metadata::{ReportStatus, RunResult};
use strata_pipeline::{Holder, RunEntry, StateBackend};

use crate::Exit;
use crate::cli::{RunsArgs, StateCommand};
use crate::ui::Ui;

/// The backend calls are async (tokio-postgres); these commands wait for one at a time.
pub(crate) fn block_on<T>(work: impl Future<Output = anyhow::Result<T>>) -> anyhow::Result<T> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?
        .block_on(work)
}

pub(crate) async fn open(layout: &Layout) -> anyhow::Result<StateBackend> {
    Ok(StateBackend::open(layout, |k| std::env::var(k).ok()).await?)
}

pub(crate) fn runs(layout: &Layout, args: &RunsArgs, ui: &Ui) -> anyhow::Result<Exit> {
    let env = args.env.as_str();
    let (backend, runs) = block_on(async {
        let backend = open(layout).await?;
        let runs = backend.runs(env, args.limit as usize).await?;
        Ok((backend, runs))
    })?;
    ui.note(&format!("runs of `{env}` in {}", backend.describe()));
    if runs.is_empty() {
        ui.result(&format!("no runs of `{env}` recorded"));
    }
    for run in &runs {
        ui.result(&headline(run, ui));
        for p in &run.report.phases {
            if p.started_at.is_none() && p.status != ReportStatus::UpToDate {
                continue;
            }
            ui.result(&format!(
                "    {:10}  {:12}  {:>7}",
                p.phase.name(),
                p.status.as_str(),
                if p.started_at.is_some() {
                    format!("{:.1}s", p.seconds)
                } else {
                    "-".to_owned()
                }
            ));
        }
    }
    ui.json(&RunsOutput {
        ok: true,
        environment: env.to_owned(),
        backend: backend.kind(),
        runs: runs
            .iter()
            .map(|r| RunSummary {
                run_id: r.report.run_id.clone(),
                started_at: r.report.started_at.clone(),
                finished_at: r.report.finished_at.clone(),
                result: r.report.result,
                user: r.user.clone(),
                host: r.host.clone(),
                command: r.report.command.clone(),
                phases: r
                    .report
                    .phases
                    .iter()
                    .map(|p| RunPhase {
                        phase: p.phase,
                        status: p.status,
                        seconds: p.seconds,
                    })
                    .collect(),
            })
            .collect(),
    });
    Ok(Exit::Success)
}

fn headline(run: &RunEntry, ui: &Ui) -> String {
    let result = format!("{:11}", run.report.result.as_str());
    let result = match run.report.result {
        RunResult::Succeeded | RunResult::DryRun | RunResult::Plan => ui.ok(&result),
        RunResult::Failed | RunResult::Interrupted => ui.bad(&result),
    };
    let who = match (&run.user, &run.host) {
        (Some(u), Some(h)) => format!("{u}@{h}"),
        (Some(u), None) => u.clone(),
        (None, Some(h)) => h.clone(),
        (None, None) => "this checkout".to_owned(),
    };
    format!(
        "  {}  {result}  {who}  {}",
        run.report.started_at, run.report.run_id
    )
}

pub(crate) fn run(layout: &Layout, cmd: &StateCommand, ui: &Ui) -> anyhow::Result<Exit> {
    let StateCommand::Push(args) = cmd;
    let env = args.env.as_str();
    let command = std::env::args()
        .map(|a| strata_exec::shell_quote(&a))
        .collect::<Vec<_>>()
        .join(" ");
    let now = strata_util::rfc3339(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs()),
    );
    let me = Holder::me(&command, &now);
    let (backend, pushed) = block_on(async {
        let backend = open(layout).await?;
        let pushed = backend.push(env, &me).await?;
        Ok((backend, pushed))
    })?;
    let names = |phases: &[strata_metadata::Phase]| {
        if phases.is_empty() {
            "none".to_owned()
        } else {
            phases
                .iter()
                .map(|p| p.name())
                .collect::<Vec<_>>()
                .join(", ")
        }
    };
    ui.result(&format!(
        "pushed the state of `{env}` to {}",
        backend.describe()
    ));
    ui.result(&format!("  copied:    {}", names(&pushed.copied)));
    ui.result(&format!("  unchanged: {}", names(&pushed.unchanged)));
    ui.result(&format!(
        "  runs:      {} copied, {} already there",
        pushed.runs_copied, pushed.runs_present
    ));
    for r in &pushed.refused {
        ui.warning(
            &format!(
                "kept the shared record of `{}`: it finished at {}, after this checkout's ({})",
                r.phase, r.remote_finished_at, r.local_finished_at
            ),
            None,
        );
    }
    ui.json(&PushOutput {
        ok: true,
        environment: env.to_owned(),
        pushed,
    });
    Ok(Exit::Success)
}
