//! `cargo xtask deploy`, `status` and `unlock`: every phase of an environment in order, each
//! skipped when its inputs are unchanged since it last succeeded.

use std::collections::BTreeSet;
use std::io::{IsTerminal as _, Write as _};
use std::path::Path;
use std::sync::Mutex;
use std::time::Instant;

use strata_bundle::{Bootstrap, Bundle, GenerateOptions, ensure_current, source_date_epoch};
use strata_config::{Layout, Severity, Target};
use strata_exec::{Command, RunOptions, interrupt_flag, interrupted, run as exec};
use strata_metadata::{
    DeployReport, EnvironmentId, Mode, Phase, PhaseReport, PhaseStatus, ReportStatus, RunResult,
};
use strata_pipeline::{
    EnvLock, Holder, LockError, LockState, PhaseInputs, Unlocked, forecast, freshness, lock_state,
    phase_inputs, read_state, select, write_state,
};

use crate::Exit;
use crate::cli::{DeployArgs, StatusArgs2};
use crate::report;
use crate::ui::Ui;

fn now() -> String {
    strata_bundle::rfc3339(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs()),
    )
}

fn shown(layout: &Layout, path: &Path) -> String {
    path.strip_prefix(layout.root())
        .unwrap_or(path)
        .display()
        .to_string()
}

/// The arguments of the `cargo xtask` command that runs `phase`.
fn phase_command(
    phase: Phase,
    env: &str,
    dry_run: bool,
    plan: bool,
    forced: bool,
) -> Option<Vec<String>> {
    let v = |a: &[&str]| Some(a.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>());
    let mut args = match (phase, plan) {
        (Phase::Validate | Phase::Generate, _) => return None,
        (Phase::Provision, false) if dry_run => v(&["provision", "list", "--env", env]),
        (Phase::Provision, false) => v(&["provision", "build", "--env", env, "--all"]),
        (Phase::Images | Phase::Templates | Phase::Nodes, _) => {
            v(&["infra", "--env", env, "--phase", phase.name()])
        }
        (Phase::Ansible, false) => v(&["infra", "--env", env, "--phase", "ansible"]),
        (Phase::Kubespray, false) => v(&["kubespray", "deploy", "--env", env]),
        (Phase::Platform, false) => v(&["platform", "deploy", "--env", env]),
        (Phase::Platform, true) => v(&["platform", "diff", "--env", env]),
        (Phase::Business, false) => v(&["business", "deploy", "--env", env]),
        // No plan of their own.
        (Phase::Provision | Phase::Ansible | Phase::Kubespray | Phase::Business, true) => None,
    }?;
    // `--force provision` means build the images again, which `provision build` would
    // otherwise find up to date. (Other layers' `--force` discards hand edits: never implied.)
    if forced && phase == Phase::Provision && !dry_run && !plan {
        args.push("--force".to_owned());
    }
    if plan && matches!(phase, Phase::Images | Phase::Templates | Phase::Nodes) {
        args.push("--plan".to_owned());
    } else if dry_run && phase != Phase::Provision {
        args.push("--dry-run".to_owned());
    }
    Some(args)
}

/// One line per phase while it runs: a line rewritten in place on a terminal, plain prefixed
/// lines otherwise.
struct Progress<'a> {
    ui: &'a Ui,
    live: bool,
    phase: Phase,
    started: Instant,
    ticks: Mutex<usize>,
}

impl<'a> Progress<'a> {
    fn new(ui: &'a Ui, phase: Phase) -> Self {
        Self {
            ui,
            live: !ui.quiet && !ui.json && std::io::stderr().is_terminal(),
            phase,
            started: Instant::now(),
            ticks: Mutex::new(0),
        }
    }

    fn line(&self, text: &str) {
        let text = text.trim();
        if text.is_empty() || self.ui.quiet || self.ui.json {
            return;
        }
        if self.live {
            const SPIN: [char; 4] = ['|', '/', '-', '\\'];
            let mut t = self.ticks.lock().unwrap_or_else(|e| e.into_inner());
            *t += 1;
            let shown: String = text.chars().take(100).collect();
            let _ = write!(
                std::io::stderr(),
                "\r\x1b[2K{} {:10} {:>5.0}s  {shown}",
                SPIN[*t % 4],
                self.phase.name(),
                self.started.elapsed().as_secs_f64()
            );
        } else {
            self.ui.note(&format!("[{}] {text}", self.phase));
        }
    }

    fn done(&self) {
        if self.live {
            let _ = write!(std::io::stderr(), "\r\x1b[2K");
        }
    }
}

pub(crate) fn run(layout: &Layout, args: &DeployArgs, ui: &Ui) -> anyhow::Result<Exit> {
    let env_id: &EnvironmentId = &args.env;
    let env = env_id.as_str();
    let state_dir = layout.state_dir(env);
    let run_id = crate::runs::run_id();
    let logs = state_dir.join("runs").join(&run_id);
    let started_at = now();
    let command = std::env::args()
        .map(|a| strata_exec::shell_quote(&a))
        .collect::<Vec<_>>()
        .join(" ");
    let force: Option<Option<Phase>> = match args.force.as_deref() {
        None => None,
        Some("all") => Some(None),
        Some(name) => match Phase::from_name(name) {
            Some(p) => Some(Some(p)),
            None => {
                ui.error(&format!("`--force {name}`: no such phase"), None);
                return Ok(Exit::Invalid);
            }
        },
    };

    // The generate phase makes the same bundle `generate env` would: `generatedAt` honours
    // `SOURCE_DATE_EPOCH`. A bad value is bad input, refused before anything is written.
    let generate_opts = GenerateOptions {
        skip_validate: false,
        generated_at: source_date_epoch()?,
    };

    let me = Holder::me(&command, &started_at);
    let _lock = match EnvLock::acquire(&state_dir, env, &me) {
        Ok((lock, None)) => lock,
        Ok((lock, Some(old))) => {
            ui.warning(
                &format!("took over a lock left by a process that is gone ({old})"),
                None,
            );
            lock
        }
        Err(e @ LockError::Held { .. }) => {
            let message = report::chain(&e);
            // The kernel holds the lock for a live process only, so `unlock` alone would refuse.
            let hint = format!(
                "wait for it, or stop that process; `cargo xtask unlock --env {env} --force` removes the lock of one still running"
            );
            ui.error(&message, Some(&hint));
            ui.json(&serde_json::json!({"ok": false, "error": message, "hint": hint}));
            return Ok(Exit::Locked);
        }
        Err(e) => return Err(e.into()),
    };
    let flag = interrupt_flag();

    let mut state = read_state(&state_dir);
    let selected = select(args.from, args.to, &args.only);
    let mode = if args.dry_run {
        Mode::DryRun
    } else if args.plan {
        Mode::Plan
    } else {
        Mode::Deploy
    };
    let exe = std::env::current_exe()?;
    let mut reports: Vec<PhaseReport> = Vec::new();
    let mut failed: Option<Phase> = None;
    let mut was_interrupted = false;
    let mut bundle: Option<Bundle> = Bundle::open(&layout.bundle_dir(env)).ok();
    // Without generate, the later phases run on the bundle as it is: say so when the package
    // has moved on since.
    if !selected.contains(&Phase::Generate)
        && let Some(b) = &bundle
        && !strata_bundle::is_current(layout, b)
    {
        ui.warning(
            &format!("the bundle of `{env}` is older than its package, and this run does not include `generate`"),
            Some(&format!("the selected phases use the old bundle; run `cargo xtask deploy --env {env}` (or `--only generate` first) to use the package as it is now")),
        );
    }

    for phase in Phase::ALL {
        let mut rep = PhaseReport {
            phase,
            status: ReportStatus::NotRun,
            started_at: None,
            seconds: 0.0,
            command: None,
            exit_code: None,
            log: None,
            note: None,
            detail: None,
            notices: Vec::new(),
        };
        if failed.is_some() || was_interrupted {
            rep.status = ReportStatus::NotRun;
            reports.push(rep);
            continue;
        }
        if !selected.contains(&phase) {
            rep.status = ReportStatus::NotSelected;
            reports.push(rep);
            continue;
        }
        let inputs = match PhaseInputs::read(layout, bundle.as_ref(), &state, phase) {
            Ok(i) => i,
            Err(why) => {
                rep.status = ReportStatus::NotConfigured;
                rep.note = Some(why);
                reports.push(rep);
                continue;
            }
        };
        let forced = force.is_some_and(|f| f.is_none_or(|p| p == phase));
        let unchanged = freshness(
            state.phases.get(phase.name()),
            &inputs,
            phase,
            &BTreeSet::new(),
        )
        .is_up_to_date();
        if unchanged && !forced && !args.dry_run && !args.plan {
            rep.status = ReportStatus::UpToDate;
            ui.note(&format!("[{phase}] up to date"));
            reports.push(rep);
            continue;
        }

        let progress = Progress::new(ui, phase);
        let t0 = Instant::now();
        rep.started_at = Some(now());
        let outcome: Result<Option<String>, String> = match phase {
            Phase::Validate => {
                let report = strata_config::validate(
                    layout,
                    &[Target::Definitions, Target::Packages, Target::Environments],
                );
                let errors: Vec<_> = report
                    .diagnostics
                    .iter()
                    .filter(|d| d.severity == Severity::Error)
                    .collect();
                for d in errors.iter().take(20) {
                    ui.diagnostic(d);
                }
                if errors.is_empty() {
                    Ok(Some("0 errors".to_owned()))
                } else {
                    Err(format!(
                        "{} {} (`cargo xtask validate` lists them all)",
                        errors.len(),
                        super::validate::plural(errors.len(), "error")
                    ))
                }
            }
            Phase::Generate => match ensure_current(layout, env_id, &generate_opts) {
                Ok((b, how)) => {
                    bundle = Some(b);
                    Ok(Some(
                        match how {
                            Bootstrap::Current => "the bundle matched its package",
                            Bootstrap::Generated => "generated the bundle",
                            Bootstrap::Regenerated => "regenerated the bundle",
                        }
                        .to_owned(),
                    ))
                }
                Err(e) => Err(report::chain(&e)),
            },
            _ => match phase_command(phase, env, args.dry_run, args.plan, forced) {
                None => {
                    rep.status = ReportStatus::NoPlan;
                    reports.push(rep);
                    continue;
                }
                Some(cmd_args) => {
                    // The layer command logs into this run's folder too.
                    let cmd = Command::new(&exe, layout.root())
                        .args(cmd_args.iter().cloned())
                        .arg("--root")
                        .arg(layout.root().display().to_string())
                        .env(crate::runs::RUN_ID_VAR, &run_id);
                    rep.command = Some(format!("cargo xtask {}", cmd_args.join(" ")));
                    let log = logs.join(format!("deploy-{phase}.log"));
                    rep.log = Some(shown(layout, &log));
                    let hook = |line: &str| progress.line(line);
                    let opts = RunOptions {
                        log: Some(&log),
                        capture_stdout: true,
                        tail_lines: 15,
                        // A dry run or plan prints the command's own output as its result.
                        on_line: (!args.dry_run && !args.plan)
                            .then_some(&hook as &strata_exec::LineHook<'_>),
                        interrupt: Some(flag),
                        // A plan that found changes (exit 4) is not a failure; one that could
                        // not be made (1) or was refused as invalid (2) is.
                        success_codes: if args.plan { &[0, 4] } else { &[0] },
                        ..RunOptions::default()
                    };
                    let result = exec(&cmd, &opts);
                    progress.done();
                    match result {
                        Ok(out) => {
                            rep.exit_code = Some(out.code);
                            if args.dry_run || args.plan {
                                for line in out.stdout.lines() {
                                    ui.result(&format!("  [{phase}] {line}"));
                                }
                            }
                            Ok(None)
                        }
                        Err(e) => {
                            if let strata_exec::ExecError::Failed { code, .. } = &e {
                                rep.exit_code = *code;
                            }
                            // Plain progress lines already showed the output; a live line
                            // did not.
                            if progress.live || args.dry_run || args.plan {
                                report::show_tail(ui, &e);
                            }
                            Err(format!(
                                "`{}` failed",
                                rep.command.clone().unwrap_or_default()
                            ))
                        }
                    }
                }
            },
        };
        rep.seconds = t0.elapsed().as_secs_f64();
        // Generate's own output, the bundle, is one of its inputs: record it as it is now, so
        // the next run sees it unchanged.
        let inputs = if phase == Phase::Generate && outcome.is_ok() {
            PhaseInputs {
                own: phase_inputs(layout, bundle.as_ref(), phase).unwrap_or_default(),
                needs: inputs.needs,
            }
        } else {
            inputs
        };
        let record = |status| inputs.record(status, now(), rep.seconds, &run_id);
        match outcome {
            _ if interrupted() => {
                was_interrupted = true;
                rep.status = ReportStatus::Interrupted;
                if mode == Mode::Deploy {
                    state
                        .phases
                        .insert(phase.name().to_owned(), record(PhaseStatus::Interrupted));
                }
            }
            Ok(note) => {
                rep.status = match mode {
                    Mode::DryRun => ReportStatus::DryRun,
                    Mode::Plan => ReportStatus::Planned,
                    Mode::Deploy => ReportStatus::Succeeded,
                };
                rep.note = note;
                // Validate and generate are real in every mode; the others only when deploying.
                if mode == Mode::Deploy || matches!(phase, Phase::Validate | Phase::Generate) {
                    state
                        .phases
                        .insert(phase.name().to_owned(), record(PhaseStatus::Succeeded));
                }
            }
            Err(message) => {
                failed = Some(phase);
                rep.status = ReportStatus::Failed;
                rep.note = Some(message.clone());
                ui.error(&format!("phase `{phase}`: {message}"), None);
                if mode == Mode::Deploy || matches!(phase, Phase::Validate | Phase::Generate) {
                    state
                        .phases
                        .insert(phase.name().to_owned(), record(PhaseStatus::Failed));
                }
            }
        }
        write_state(&state_dir, &state)?;
        ui.note(&format!("[{phase}] {} ({:.1}s)", rep.status, rep.seconds));
        reports.push(rep);
    }

    let resume = failed
        .or(was_interrupted
            .then(|| {
                reports
                    .iter()
                    .find(|r| r.status == ReportStatus::Interrupted)
                    .map(|r| r.phase)
            })
            .flatten())
        .map(|p| format!("cargo xtask deploy --env {env} --from {p}"));
    let result = if was_interrupted {
        RunResult::Interrupted
    } else if failed.is_some() {
        RunResult::Failed
    } else {
        match mode {
            Mode::DryRun => RunResult::DryRun,
            Mode::Plan => RunResult::Plan,
            Mode::Deploy => RunResult::Succeeded,
        }
    };
    let report = DeployReport {
        run_id: run_id.clone(),
        environment: env.to_owned(),
        command,
        started_at,
        finished_at: now(),
        result,
        phases: reports,
        resume: resume.clone(),
    };
    std::fs::create_dir_all(&logs)?;
    let report_path = logs.join("report.json");
    std::fs::write(
        &report_path,
        serde_json::to_string_pretty(&report).expect("a report serializes") + "\n",
    )?;

    // The summary.
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
        ui.result(&format!(
            "  {:10}  {painted}  {:>7}  {}",
            p.phase.name(),
            if p.started_at.is_some() {
                format!("{:.1}s", p.seconds)
            } else {
                "-".to_owned()
            },
            p.note.as_deref().unwrap_or("")
        ));
    }
    ui.note(&format!("logs and report: {}", shown(layout, &logs)));
    ui.json(&serde_json::to_value(&report).expect("a report serializes"));
    if let Some(cmd) = &resume {
        ui.note(&format!("resume with: {cmd}"));
    }
    Ok(match result {
        RunResult::Interrupted => Exit::Interrupted,
        // The repository itself is wrong: bad input, as `validate` says it.
        RunResult::Failed if failed == Some(Phase::Validate) => Exit::Invalid,
        RunResult::Failed => Exit::Failed,
        _ => {
            ui.result(&format!("deploy {env}: {result}"));
            Exit::Success
        }
    })
}

pub(crate) fn status(layout: &Layout, args: &StatusArgs2, ui: &Ui) -> anyhow::Result<Exit> {
    let env = args.env.as_str();
    let state_dir = layout.state_dir(env);
    let state = read_state(&state_dir);
    let bundle = Bundle::open(&layout.bundle_dir(env)).ok();
    let mut any_changed = false;
    let mut json = Vec::new();
    match lock_state(&state_dir)? {
        LockState::Free => {}
        LockState::Held(h) => ui.note(&format!("locked by {}", named(h.as_ref()))),
        LockState::Stale(h) => ui.note(&format!(
            "a stale lock is left by {} (its process is gone; the next deploy takes it over)",
            named(h.as_ref())
        )),
    }
    for f in forecast(layout, bundle.as_ref(), &state) {
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
        json.push(
            serde_json::json!({"phase": f.phase, "last": last, "when": when, "inputs": change}),
        );
    }
    ui.json(&serde_json::json!({"ok": true, "environment": env, "changed": any_changed, "phases": json}));
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

pub(crate) fn unlock(layout: &Layout, env: &str, force: bool, ui: &Ui) -> anyhow::Result<Exit> {
    match strata_pipeline::unlock(&layout.state_dir(env), env, force) {
        Ok(Unlocked::NotLocked) => ui.result(&format!("`{env}` is not locked")),
        Ok(Unlocked::Removed(None)) => ui.result(&format!("removed an unreadable lock of `{env}`")),
        Ok(Unlocked::Removed(Some(h))) => {
            ui.result(&format!("removed the lock of `{env}` ({h})"));
        }
        Err(LockError::Held { holder, .. }) => {
            ui.error(
                &format!(
                    "the lock of `{env}` is held by a running process: {}",
                    named(holder.as_deref())
                ),
                Some("stop that deploy (Ctrl-C releases the lock), or pass `--force` if you are sure"),
            );
            return Ok(Exit::Locked);
        }
        Err(e) => return Err(e.into()),
    }
    Ok(Exit::Success)
}
