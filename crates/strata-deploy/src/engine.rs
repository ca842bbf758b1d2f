//! The run: lock, selection, the skip decision, each phase through its layer, the records.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::Instant;

use strata_bundle::Bundle;
use strata_config::Layout;
use strata_exec::{Context, Interrupt};
use strata_metadata::{
    DeployReport, Mode, Notice, Phase, PhaseReport, PhaseStatus, ReportStatus, RunResult,
};
use strata_metadata::{PhaseRecord, StateBackendKind};
use strata_pipeline::{EnvGuard, Holder, PhaseInputs, StateBackend, freshness, select};

use crate::DeployError;
use crate::event::{DeployEvent, Failure, SkipReason};
use crate::layers::{self, Done, Step};
use crate::options::DeployOptions;
use crate::runs::{new_run_id, now};
use crate::tools::phase_tools;

/// Deploys one environment: every selected phase, in order, each skipped when its inputs are
/// unchanged since it last succeeded (unless forced), stopping at the first failure. Returns
/// the run's report, which is also written to `.strata/<env>/runs/<run-id>/report.json`; a
/// failed or interrupted phase is in the report (`result`), not an `Err`.
///
/// `on_event` hears every [`DeployEvent`] as it happens, from the calling thread or from a
/// layer's worker threads (never two at once). Setting `interrupt` stops the running command
/// (SIGINT, SIGTERM, SIGKILL to its process group) and ends the run as interrupted.
///
/// # Errors
///
/// [`DeployError::Locked`] when another run holds the environment (nothing was run); an
/// error when the run state or the report cannot be written.
pub fn deploy(
    layout: &Layout,
    opts: &DeployOptions,
    interrupt: &Interrupt,
    on_event: impl FnMut(DeployEvent) + Send,
) -> Result<DeployReport, DeployError> {
    let sink = Mutex::new(on_event);
    let emit = |event: DeployEvent| {
        let mut f = sink
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        f(event);
    };
    Run::start(layout, opts, interrupt, &emit)?.go()
}

/// One run in progress.
struct Run<'a> {
    layout: &'a Layout,
    opts: &'a DeployOptions,
    interrupt: &'a Interrupt,
    emit: &'a (dyn Fn(DeployEvent) + Sync),
    run_id: String,
    logs: PathBuf,
    started_at: String,
    /// Runs the state backend's calls (a database client is async).
    runtime: tokio::runtime::Runtime,
    backend: StateBackend,
    guard: EnvGuard,
}

impl<'a> Run<'a> {
    fn start(
        layout: &'a Layout,
        opts: &'a DeployOptions,
        interrupt: &'a Interrupt,
        emit: &'a (dyn Fn(DeployEvent) + Sync),
    ) -> Result<Self, DeployError> {
        let env = opts.env.as_str();
        let state_dir = layout.state_dir(env);
        let run_id = opts.run_id.clone().unwrap_or_else(new_run_id);
        let started_at = now();
        let me = Holder::me(&opts.command, &started_at);
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|source| DeployError::Write {
                path: state_dir.clone(),
                source,
            })?;
        // The backend the repository configures; its connection string comes from the
        // caller's variables or the environment, never from a file.
        let var = |name: &str| {
            opts.vars
                .get(name)
                .map(|v| v.to_string_lossy().into_owned())
                .or_else(|| std::env::var(name).ok())
        };
        let backend = runtime.block_on(StateBackend::open(layout, var))?;
        let (guard, took_over) = runtime.block_on(backend.acquire(env, &me))?;
        if let Some(old) = took_over {
            let message = match backend.kind() {
                StateBackendKind::Local => {
                    format!("took over a lock left by a process that is gone ({old})")
                }
                StateBackendKind::Postgres => format!(
                    "the last deploy ended without releasing the lock ({old}); its session is gone, and so is its lock"
                ),
            };
            emit(DeployEvent::Notice {
                phase: None,
                notice: Notice::warning(message, None),
            });
        }
        let logs = state_dir.join("runs").join(&run_id);
        Ok(Self {
            layout,
            opts,
            interrupt,
            emit,
            run_id,
            logs,
            started_at,
            runtime,
            backend,
            guard,
        })
    }

    fn go(self) -> Result<DeployReport, DeployError> {
        let (layout, opts, emit) = (self.layout, self.opts, self.emit);
        let env = opts.env.as_str();
        let mode = opts.mode;
        emit(DeployEvent::Started {
            run_id: self.run_id.clone(),
            environment: env.to_owned(),
            mode,
            logs: self.logs.clone(),
        });
        let mut state = self.runtime.block_on(self.backend.read_state(env))?;
        let selected = select(opts.from, opts.to, &opts.only);
        let mut bundle: Option<Bundle> = Bundle::open(&layout.bundle_dir(env)).ok();
        // Without generate, the later phases run on the bundle as it is: say so when the
        // package has moved on since.
        if !selected.contains(&Phase::Generate)
            && let Some(b) = &bundle
            && !strata_bundle::is_current(layout, b)
        {
            emit(DeployEvent::Notice {
                phase: None,
                notice: Notice::warning(
                    format!(
                        "the bundle of `{env}` is older than its package, and this run does not include `generate`"
                    ),
                    Some(format!(
                        "the selected phases use the old bundle; run `cargo xtask deploy --env {env}` (or `--only generate` first) to use the package as it is now"
                    )),
                ),
            });
        }

        let mut reports: Vec<PhaseReport> = Vec::new();
        let mut stopped: Option<(Phase, RunResult)> = None;
        for phase in Phase::ALL {
            let skip = |reason: SkipReason, reports: &mut Vec<PhaseReport>| {
                let mut rep = blank(phase, reason.status());
                if let SkipReason::NotConfigured(why) = &reason {
                    rep.note = Some(why.clone());
                }
                emit(DeployEvent::Skipped { phase, reason });
                reports.push(rep);
            };
            if stopped.is_some() {
                skip(SkipReason::NotRun, &mut reports);
                continue;
            }
            if !selected.contains(&phase) {
                skip(SkipReason::NotSelected, &mut reports);
                continue;
            }
            let inputs =
                match PhaseInputs::read(layout, bundle.as_ref(), &state, phase, phase_tools(phase))
                {
                    Ok(i) => i,
                    Err(why) => {
                        skip(SkipReason::NotConfigured(why), &mut reports);
                        continue;
                    }
                };
            let fresh = freshness(
                state.phases.get(phase.name()),
                &inputs,
                phase,
                &BTreeSet::new(),
            );
            // A dry run or plan shows what a deploy would do, so it never skips.
            if fresh.is_up_to_date() && !opts.force.covers(phase) && mode == Mode::Deploy {
                skip(
                    SkipReason::UpToDate {
                        inputs: inputs.flattened().len(),
                    },
                    &mut reports,
                );
                continue;
            }
            if mode == Mode::Plan && !layers::has_plan(phase) {
                skip(SkipReason::NoPlan, &mut reports);
                continue;
            }

            // A shared backend whose session is gone holds no lock any more: stop before
            // starting anything.
            if let Err(e) = self.runtime.block_on(self.guard.check()) {
                let mut rep = blank(phase, ReportStatus::Failed);
                rep.note = Some(crate::layers::chain(&e));
                emit(DeployEvent::PhaseFinished {
                    report: rep.clone(),
                    failure: Some(Failure {
                        message: crate::layers::chain(&e),
                        hint: e.hint(),
                        kind: e.kind(),
                        tail: Vec::new(),
                    }),
                });
                reports.push(rep);
                stopped = Some((phase, RunResult::Failed));
                continue;
            }
            let log_name = format!("deploy-{phase}.log");
            let started = Instant::now();
            let mut rep = blank(phase, ReportStatus::Failed);
            rep.started_at = Some(now());
            emit(DeployEvent::PhaseStarted {
                phase,
                what: layers::describe(phase, mode),
            });
            // Every line the phase's tools print, in order, in one log (each layer also keeps
            // its own logs, with the commands, in the run folder).
            let phase_log = PhaseLog::new(self.logs.join(&log_name));
            phase_log.line(&format!(
                "== {phase}: {} ({})",
                layers::describe(phase, mode),
                rep.started_at.as_deref().unwrap_or_default()
            ));
            let on_line = |line: &str| {
                phase_log.line(line);
                emit(DeployEvent::Output {
                    phase,
                    line: line.to_owned(),
                });
            };
            let ctx = Context {
                dry_run: mode == Mode::DryRun,
                logs: Some(&self.logs),
                on_line: Some(&on_line),
                interrupt: Some(self.interrupt),
                vars: Some(&opts.vars),
            };
            let step = Step {
                layout,
                env: &opts.env,
                bundle: bundle.as_ref(),
                mode,
                forced: opts.force.covers(phase),
                jobs: opts.jobs,
                generated_at: opts.generated_at,
                ctx,
                emit,
                phase,
            };
            let outcome = layers::run(step);
            rep.seconds = started.elapsed().as_secs_f64();
            phase_log.line(&match &outcome {
                Ok(_) => format!("== {phase}: done in {:.1}s", rep.seconds),
                Err(f) => format!(
                    "== {phase}: failed after {:.1}s: {}",
                    rep.seconds, f.message
                ),
            });
            let log = self.logs.join(&log_name);
            if log.is_file() {
                rep.log = Some(strata_util::shown(layout.root(), &log));
            }

            // Generate's output, the bundle, is one of its inputs: record it as it is now, so
            // the next run sees it unchanged.
            let inputs = match &outcome {
                Ok(done) if phase == Phase::Generate => {
                    bundle = done.bundle.clone();
                    PhaseInputs::read(layout, bundle.as_ref(), &state, phase, phase_tools(phase))
                        .unwrap_or(inputs)
                }
                _ => inputs,
            };
            // Validate and generate are real in every mode; the others only when deploying.
            let records =
                mode == Mode::Deploy || matches!(phase, Phase::Validate | Phase::Generate);
            let mut written: Option<PhaseRecord> = None;
            let mut record = |status: PhaseStatus| {
                if records {
                    let r = inputs.record(status, now(), rep.seconds, &self.run_id);
                    state.phases.insert(phase.name().to_owned(), r.clone());
                    written = Some(r);
                }
            };
            let mut failure = match outcome {
                _ if self.interrupt.is_set() => {
                    rep.status = ReportStatus::Interrupted;
                    if mode == Mode::Deploy {
                        record(PhaseStatus::Interrupted);
                    }
                    stopped = Some((phase, RunResult::Interrupted));
                    None
                }
                Ok(done) => {
                    let Done {
                        note,
                        detail,
                        notices,
                        command,
                        exit_code,
                        bundle: _,
                    } = done;
                    rep.status = match mode {
                        Mode::DryRun => ReportStatus::DryRun,
                        Mode::Plan => ReportStatus::Planned,
                        Mode::Deploy => ReportStatus::Succeeded,
                    };
                    rep.note = note;
                    rep.detail = detail;
                    rep.notices = notices;
                    rep.command = command;
                    rep.exit_code = exit_code;
                    record(PhaseStatus::Succeeded);
                    None
                }
                Err(failure) => {
                    rep.status = ReportStatus::Failed;
                    rep.note = Some(failure.message.clone());
                    rep.command = failure.command.clone();
                    rep.exit_code = failure.exit_code;
                    record(PhaseStatus::Failed);
                    stopped = Some((phase, RunResult::Failed));
                    Some(failure.into_event())
                }
            };
            if let Some(r) = &written
                && let Err(e) = self.runtime.block_on(self.guard.write_phase(phase, r))
            {
                // Not recorded, so never "succeeded": the next deploy runs it again.
                rep.status = ReportStatus::Failed;
                rep.note = Some(format!(
                    "its result could not be recorded: {}",
                    crate::layers::chain(&e)
                ));
                failure = Some(Failure {
                    message: rep.note.clone().unwrap_or_default(),
                    hint: e.hint(),
                    kind: e.kind(),
                    tail: Vec::new(),
                });
                stopped = Some((phase, RunResult::Failed));
            }
            emit(DeployEvent::PhaseFinished {
                report: rep.clone(),
                failure,
            });
            reports.push(rep);
        }

        let result = match stopped {
            Some((_, r)) => r,
            None => match mode {
                Mode::DryRun => RunResult::DryRun,
                Mode::Plan => RunResult::Plan,
                Mode::Deploy => RunResult::Succeeded,
            },
        };
        let report = DeployReport {
            run_id: self.run_id.clone(),
            environment: env.to_owned(),
            command: opts.command.clone(),
            started_at: self.started_at.clone(),
            finished_at: now(),
            result,
            phases: reports,
            resume: stopped.map(|(p, _)| format!("cargo xtask deploy --env {env} --from {p}")),
        };
        write_report(&self.logs, &report)?;
        // The shared history; the local report beside the logs is written either way.
        let shared = if self.backend.kind() == StateBackendKind::Postgres {
            self.runtime.block_on(self.guard.record_run(&report))
        } else {
            Ok(())
        };
        let Run { runtime, guard, .. } = self;
        let ended = shared.and(runtime.block_on(guard.release()));
        match ended {
            Ok(()) => {}
            // A run that already failed for a lost connection only loses its shared copy.
            Err(e) if report.result == RunResult::Failed => emit(DeployEvent::Notice {
                phase: None,
                notice: Notice::warning(
                    format!(
                        "the run's report is only in this checkout: {}",
                        crate::layers::chain(&e)
                    ),
                    e.hint(),
                ),
            }),
            Err(e) => return Err(e.into()),
        }
        Ok(report)
    }
}

/// A phase's own log, created with its first line.
struct PhaseLog {
    path: PathBuf,
    file: Mutex<Option<std::fs::File>>,
}

impl PhaseLog {
    fn new(path: PathBuf) -> Self {
        Self {
            path,
            file: Mutex::new(None),
        }
    }

    fn line(&self, line: &str) {
        use std::io::Write as _;
        let mut file = self
            .file
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if file.is_none() {
            if let Some(dir) = self.path.parent() {
                let _ = std::fs::create_dir_all(dir);
            }
            *file = std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(&self.path)
                .ok();
        }
        if let Some(f) = file.as_mut() {
            // A log that cannot be written loses lines, never the run.
            let _ = writeln!(f, "{line}");
        }
    }
}

fn blank(phase: Phase, status: ReportStatus) -> PhaseReport {
    PhaseReport {
        phase,
        status,
        started_at: None,
        seconds: 0.0,
        command: None,
        exit_code: None,
        log: None,
        note: None,
        detail: None,
        notices: Vec::new(),
    }
}

fn write_report(logs: &Path, report: &DeployReport) -> Result<(), DeployError> {
    let path = logs.join("report.json");
    let text = serde_json::to_string_pretty(report).expect("a report serializes") + "\n";
    strata_util::write_atomic(&path, text.as_bytes())
        .map_err(|source| DeployError::Write { path, source })
}

impl crate::layers::PhaseFailure {
    fn into_event(self) -> Failure {
        Failure {
            message: self.message,
            hint: self.hint,
            kind: self.kind,
            tail: self.tail,
        }
    }
}
