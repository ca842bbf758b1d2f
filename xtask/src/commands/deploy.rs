//! `cargo xtask deploy`, `status` and `unlock`: every phase of an environment in order, each
//! skipped when its inputs are unchanged since it last succeeded.

use strata_bundle::{Bundle, source_date_epoch};
use strata_config::Layout;
use strata_deploy::{DeployOptions, Force, phase_tools};
use strata_metadata::output::{PhaseForecast, StatusOutput, UnlockOutput, UnlockResult};
use strata_metadata::{
    DeployReport, ImageStatus, Mode, Phase, PhaseDetail, PhaseStatus, ReleaseStatus, ReportStatus,
    RunResult, StateBackendKind,
};
use strata_pipeline::{
    Holder, LockError, LockState, StateError, UnlockOptions, UnlockOutcome, forecast,
};

use super::state::{block_on, open};

use crate::Exit;
use crate::cli::{DeployArgs, StatusArgs2};
use crate::report;
use crate::reporter::Reporter;
use crate::ui::Ui;

pub(crate) fn run(layout: &Layout, args: &DeployArgs, ui: &Ui) -> anyhow::Result<Exit> {
    let force = match args.force.as_deref() {
        None => Force::None,
        Some("all") => Force::All,
        Some(name) => match Phase::from_name(name) {
            Some(p) => Force::Phase(p),
            None => {
                report::error(ui, &format!("`--force {name}`: no such phase"), None);
                return Ok(Exit::Invalid);
            }
        },
    };
    let mode = if args.dry_run {
        Mode::DryRun
    } else if args.plan {
        Mode::Plan
    } else {
        Mode::Deploy
    };
    let opts = DeployOptions {
        from: args.from,
        to: args.to,
        only: args.only.clone(),
        force,
        mode,
        // The generate phase makes the same bundle `generate env` would: `generatedAt`
        // honours `SOURCE_DATE_EPOCH`. A bad value is bad input, refused before anything runs.
        generated_at: source_date_epoch()?,
        command: std::env::args()
            .map(|a| strata_exec::shell_quote(&a))
            .collect::<Vec<_>>()
            .join(" "),
        ..DeployOptions::new(args.env.clone())
    };
    let interrupt = crate::signals::interrupt();
    let mut reporter = Reporter::new(ui, mode);
    let report = match strata_deploy::deploy(layout, &opts, &interrupt, |e| reporter.event(e)) {
        Ok(report) => report,
        Err(e) => {
            let message = report::chain(&e);
            let hint = e.hint();
            report::error(ui, &message, hint.as_deref());
            return Ok(e.kind().exit());
        }
    };
    drop(reporter);
    summary(layout, &report, ui);
    Ok(report.exit())
}

/// The table after a run, the report's place and how to resume.
fn summary(layout: &Layout, report: &DeployReport, ui: &Ui) {
    ui.note("");
    for p in &report.phases {
        let status = format!("{:14}", p.status.as_str());
        let painted = match p.status {
            ReportStatus::Succeeded
            | ReportStatus::UpToDate
            | ReportStatus::DryRun
            | ReportStatus::Planned => ui.ok(&status),
            ReportStatus::Failed | ReportStatus::Interrupted => ui.bad(&status),
            _ => status,
        };
        let detail = p.detail.as_ref().map(detail_text).unwrap_or_default();
        let note = match (p.note.as_deref(), detail.is_empty()) {
            (Some(n), false) => format!("{n}; {detail}"),
            (Some(n), true) => n.to_owned(),
            (None, _) => detail,
        };
        ui.result(&format!(
            "  {:10}  {painted}  {:>7}  {note}",
            p.phase.name(),
            if p.started_at.is_some() {
                format!("{:.1}s", p.seconds)
            } else {
                "-".to_owned()
            },
        ));
    }
    let logs = layout
        .state_dir(&report.environment)
        .join("runs")
        .join(&report.run_id);
    ui.note(&format!(
        "logs and report: {}",
        strata_util::shown(layout.root(), &logs)
    ));
    ui.json(report);
    if let Some(cmd) = &report.resume {
        ui.note(&format!("resume with: {cmd}"));
    }
    if !matches!(report.result, RunResult::Failed | RunResult::Interrupted) {
        ui.result(&format!("deploy {}: {}", report.environment, report.result));
    }
}

/// A phase's typed detail in a few words for the summary.
fn detail_text(detail: &PhaseDetail) -> String {
    match detail {
        PhaseDetail::Validate { .. } | PhaseDetail::Generate { .. } => String::new(),
        PhaseDetail::Images { images } => {
            let count = |s: ImageStatus| images.iter().filter(|i| i.status == s).count();
            let parts: Vec<String> = [
                (ImageStatus::Built, "built"),
                (ImageStatus::UpToDate, "up to date"),
                (ImageStatus::WouldBuild, "to build"),
                (ImageStatus::Failed, "failed"),
            ]
            .into_iter()
            .filter(|(s, _)| count(*s) > 0)
            .map(|(s, w)| format!("{} {w}", count(s)))
            .collect();
            format!("images: {}", parts.join(", "))
        }
        PhaseDetail::Terraform { plan, applied, .. } => match plan {
            Some(p) => format!(
                "plan: {} to add, {} to change, {} to destroy{}",
                p.add,
                p.change,
                p.destroy,
                if *applied { ", applied" } else { "" }
            ),
            None => String::new(),
        },
        PhaseDetail::Playbooks { commands } => format!(
            "{} {}",
            commands.len(),
            strata_metadata::plural(commands.len(), "playbook")
        ),
        PhaseDetail::Releases { releases } => {
            let count = |s: ReleaseStatus| releases.iter().filter(|r| r.status == s).count();
            let parts: Vec<String> = [
                (ReleaseStatus::Deployed, "deployed"),
                (ReleaseStatus::DryRun, "shown"),
                (ReleaseStatus::Changes, "with changes"),
                (ReleaseStatus::NoChanges, "unchanged"),
                (ReleaseStatus::Failed, "failed"),
                (ReleaseStatus::Skipped, "skipped"),
            ]
            .into_iter()
            .filter(|(s, _)| count(*s) > 0)
            .map(|(s, w)| format!("{} {w}", count(s)))
            .collect();
            format!("releases: {}", parts.join(", "))
        }
    }
}

pub(crate) fn status(layout: &Layout, args: &StatusArgs2, ui: &Ui) -> anyhow::Result<Exit> {
    let env = args.env.as_str();
    // What the backend the repository configures holds: on PostgreSQL, what any checkout
    // deployed.
    let (backend, state, lock) = block_on(async {
        let backend = open(layout).await?;
        let state = backend.read_state(env).await?;
        let lock = backend.lock_state(env).await?;
        Ok((backend, state, lock))
    })?;
    let bundle = Bundle::open(&layout.bundle_dir(env)).ok();
    let mut any_changed = false;
    let mut phases = Vec::new();
    match lock {
        LockState::Free => {}
        LockState::Held(h) => ui.note(&format!("locked by {}", named(h.as_ref()))),
        LockState::Stale(h) if backend.kind() == StateBackendKind::Postgres => ui.note(&format!(
            "the last deploy by {} ended without releasing the lock; its session is gone, and so is its lock",
            named(h.as_ref())
        )),
        LockState::Stale(h) => ui.note(&format!(
            "a stale lock is left by {} (its process is gone; the next deploy takes it over)",
            named(h.as_ref())
        )),
    }
    for f in forecast(layout, bundle.as_ref(), &state, phase_tools) {
        let (last, when) = match &f.last {
            Some(r) if f.freshness.is_ok() => (
                match r.status {
                    PhaseStatus::Succeeded => "succeeded",
                    PhaseStatus::Failed => "failed",
                    PhaseStatus::Interrupted => "interrupted",
                }
                .to_owned(),
                r.finished_at.clone(),
            ),
            _ => ("-".to_owned(), "-".to_owned()),
        };
        let change = match &f.freshness {
            Err(_) => "not configured".to_owned(),
            Ok(fresh) => {
                any_changed |= !fresh.is_up_to_date();
                fresh.describe()
            }
        };
        ui.result(&format!(
            "  {:10}  {last:11}  {when:20}  {change}",
            f.phase.name()
        ));
        phases.push(PhaseForecast {
            phase: f.phase,
            last,
            when,
            inputs: change,
        });
    }
    ui.json(&StatusOutput {
        ok: true,
        environment: env.to_owned(),
        changed: any_changed,
        phases,
    });
    // 4, never 2: a drift check must not read a typo'd environment (exit 2) as drift.
    Ok(if args.detailed_exitcode && any_changed {
        Exit::Changes
    } else {
        Exit::Success
    })
}

fn named(holder: Option<&Holder>) -> String {
    holder.map_or_else(
        || "a process that has not named itself".to_owned(),
        Holder::to_string,
    )
}

pub(crate) fn unlock(
    layout: &Layout,
    env: &str,
    force: bool,
    yes: bool,
    ui: &Ui,
) -> anyhow::Result<Exit> {
    let outcome = block_on(async {
        let backend = open(layout).await?;
        Ok(backend.unlock(env, UnlockOptions { force, yes }).await)
    })?;
    let (result, holder) = match outcome {
        Ok(UnlockOutcome::NotLocked) => {
            ui.result(&format!("`{env}` is not locked"));
            (UnlockResult::NotLocked, None)
        }
        Ok(UnlockOutcome::Removed(None)) => {
            ui.result(&format!("removed an unreadable lock of `{env}`"));
            (UnlockResult::Removed, None)
        }
        Ok(UnlockOutcome::Removed(Some(h))) => {
            ui.result(&format!("removed the lock of `{env}` ({h})"));
            (UnlockResult::Removed, Some(h))
        }
        Ok(UnlockOutcome::AlreadyReleased(h)) => {
            ui.result(&format!(
                "`{env}` is not locked: the lock of {} went with its database session; its name is cleared",
                named(h.as_ref())
            ));
            (UnlockResult::AlreadyReleased, h)
        }
        Ok(UnlockOutcome::Ended(h)) => {
            ui.result(&format!(
                "ended the database session of {}, and with it its lock of `{env}`; that deploy fails",
                named(h.as_ref())
            ));
            (UnlockResult::Ended, h)
        }
        Err(StateError::Lock(LockError::Held { holder, .. }) | StateError::Held { holder, .. }) => {
            report::error(
                ui,
                &format!(
                    "the lock of `{env}` is held by a running process: {}",
                    named(holder.as_deref())
                ),
                Some(
                    "stop that deploy (Ctrl-C releases the lock), or pass `--force` if you are sure",
                ),
            );
            return Ok(Exit::Locked);
        }
        Err(e) => {
            report::error(ui, &report::chain(&e), e.hint().as_deref());
            return Ok(e.kind().exit());
        }
    };
    ui.json(&UnlockOutput {
        ok: true,
        environment: env.to_owned(),
        result,
        holder: holder.as_ref().map(ToString::to_string),
    });
    Ok(Exit::Success)
}
