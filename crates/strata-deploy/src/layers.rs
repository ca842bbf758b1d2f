//! Each phase through its layer's entry point: what it is given, what it hands back.

use strata_bundle::{Bootstrap, Bundle, GenerateOptions, ensure_current};
use strata_config::{Layout, Severity, Target};
use strata_exec::{Context, ExecError};
use strata_metadata::{EnvironmentId, ErrorKind, Mode, Notice, Phase, PhaseDetail};

use crate::event::DeployEvent;

/// What a phase runs with.
pub(crate) struct Step<'a> {
    pub(crate) layout: &'a Layout,
    pub(crate) env: &'a EnvironmentId,
    pub(crate) bundle: Option<&'a Bundle>,
    pub(crate) mode: Mode,
    pub(crate) forced: bool,
    pub(crate) jobs: Option<usize>,
    pub(crate) generated_at: Option<u64>,
    pub(crate) ctx: Context<'a>,
    pub(crate) emit: &'a (dyn Fn(DeployEvent) + Sync),
    pub(crate) phase: Phase,
}

impl Step<'_> {
    fn notice(&self, notice: Notice) {
        (self.emit)(DeployEvent::Notice {
            phase: Some(self.phase),
            notice,
        });
    }

    fn shown(&self, line: impl Into<String>) {
        (self.emit)(DeployEvent::Shown {
            phase: self.phase,
            line: line.into(),
        });
    }

    fn bundle(&self) -> Result<&Bundle, PhaseFailure> {
        self.bundle.ok_or_else(|| PhaseFailure {
            message: format!("no bundle for `{}`", self.env),
            hint: Some(format!(
                "run `cargo xtask deploy --env {}` with the generate phase",
                self.env
            )),
            kind: ErrorKind::Invalid,
            ..PhaseFailure::default()
        })
    }
}

/// A phase that ended well.
#[derive(Debug, Default)]
pub(crate) struct Done {
    pub(crate) note: Option<String>,
    pub(crate) detail: Option<PhaseDetail>,
    pub(crate) notices: Vec<Notice>,
    pub(crate) command: Option<String>,
    pub(crate) exit_code: Option<i32>,
    /// Generate's bundle.
    pub(crate) bundle: Option<Bundle>,
}

/// A phase that failed.
#[derive(Debug)]
pub(crate) struct PhaseFailure {
    pub(crate) message: String,
    pub(crate) hint: Option<String>,
    pub(crate) kind: ErrorKind,
    pub(crate) tail: Vec<String>,
    pub(crate) command: Option<String>,
    pub(crate) exit_code: Option<i32>,
}

impl Default for PhaseFailure {
    fn default() -> Self {
        Self {
            message: String::new(),
            hint: None,
            kind: ErrorKind::Failed,
            tail: Vec::new(),
            command: None,
            exit_code: None,
        }
    }
}

impl PhaseFailure {
    /// A layer's error: its message with every cause, and the failing command's tail and
    /// exit code when a command failed.
    fn from_error(
        err: &(dyn std::error::Error + 'static),
        kind: ErrorKind,
        hint: Option<String>,
    ) -> Self {
        let mut out = PhaseFailure {
            message: chain(err),
            hint,
            kind,
            ..PhaseFailure::default()
        };
        let mut cause: Option<&(dyn std::error::Error + 'static)> = Some(err);
        while let Some(c) = cause {
            match c.downcast_ref::<ExecError>() {
                Some(ExecError::Failed {
                    command,
                    code,
                    stdout_tail,
                    stderr_tail,
                    ..
                }) => {
                    out.tail = stdout_tail.iter().chain(stderr_tail).cloned().collect();
                    out.exit_code = *code;
                    out.command = Some(command.clone());
                    break;
                }
                // Stopped for its timeout: no exit code of its own, but the last lines say
                // where it hung.
                Some(ExecError::TimedOut {
                    command,
                    stdout_tail,
                    stderr_tail,
                    ..
                }) => {
                    out.tail = stdout_tail.iter().chain(stderr_tail).cloned().collect();
                    out.command = Some(command.clone());
                    break;
                }
                _ => {}
            }
            cause = c.source();
        }
        out
    }
}

/// An error and each of its causes, joined with `: `.
pub(crate) fn chain(err: &dyn std::error::Error) -> String {
    strata_util::error_chain(err)
}

/// Whether `--plan` has something to show for `phase`.
pub(crate) fn has_plan(phase: Phase) -> bool {
    matches!(
        phase,
        Phase::Validate
            | Phase::Generate
            | Phase::Images
            | Phase::Templates
            | Phase::Nodes
            | Phase::Platform
    )
}

/// What the phase does, for the live line.
pub(crate) fn describe(phase: Phase, mode: Mode) -> String {
    let plan = mode == Mode::Plan;
    match phase {
        Phase::Validate => "checking definitions, packages and selectors",
        Phase::Generate => "bringing the bundle up to date",
        Phase::Provision if mode == Mode::DryRun => "listing the role images",
        Phase::Provision => "building the role images",
        Phase::Images | Phase::Templates | Phase::Nodes if plan => "terraform plan",
        Phase::Images | Phase::Templates | Phase::Nodes => "terraform apply",
        Phase::Ansible => "the team's playbook",
        Phase::Kubespray => "Kubespray cluster.yml",
        Phase::Platform if plan => "helm diff",
        Phase::Platform => "helm upgrade --install, in needs order",
        Phase::Business => "the ArgoCD app-of-apps",
    }
    .to_owned()
}

/// Runs one phase through its layer.
pub(crate) fn run(step: Step<'_>) -> Result<Done, PhaseFailure> {
    match step.phase {
        Phase::Validate => validate(&step),
        Phase::Generate => generate(&step),
        Phase::Provision => provision(&step),
        Phase::Images | Phase::Templates | Phase::Nodes | Phase::Ansible => infra(&step),
        Phase::Kubespray => kubespray(&step),
        Phase::Platform => platform(&step),
        Phase::Business => business(&step),
    }
}

fn validate(step: &Step<'_>) -> Result<Done, PhaseFailure> {
    let report = strata_config::validate(
        step.layout,
        &[Target::Definitions, Target::Packages, Target::Environments],
    );
    let (mut errors, mut warnings) = (0, 0);
    for d in &report.diagnostics {
        match d.severity {
            Severity::Error => errors += 1,
            Severity::Warning => warnings += 1,
        }
        if d.severity == Severity::Error {
            (step.emit)(DeployEvent::Diagnostic {
                phase: step.phase,
                diagnostic: d.clone(),
            });
        }
    }
    let detail = PhaseDetail::Validate { errors, warnings };
    if errors == 0 {
        Ok(Done {
            note: Some("0 errors".to_owned()),
            detail: Some(detail),
            ..Done::default()
        })
    } else {
        Err(PhaseFailure {
            message: format!(
                "{errors} {} (`cargo xtask validate` lists them all)",
                strata_metadata::plural(errors, "error")
            ),
            kind: ErrorKind::Invalid,
            ..PhaseFailure::default()
        })
    }
}

fn generate(step: &Step<'_>) -> Result<Done, PhaseFailure> {
    let opts = GenerateOptions {
        skip_validate: false,
        generated_at: step.generated_at,
    };
    match ensure_current(step.layout, step.env, &opts) {
        Ok((bundle, how)) => {
            let (note, word) = match how {
                Bootstrap::Current => ("the bundle matched its package", "current"),
                Bootstrap::Generated => ("generated the bundle", "generated"),
                Bootstrap::Regenerated => ("regenerated the bundle", "regenerated"),
            };
            Ok(Done {
                note: Some(note.to_owned()),
                detail: Some(PhaseDetail::Generate {
                    bundle: word.to_owned(),
                }),
                bundle: Some(bundle),
                ..Done::default()
            })
        }
        Err(e) => Err(PhaseFailure::from_error(&e, e.kind(), None)),
    }
}

/// The command that does the same as the phase, for people and `report.json`.
pub(crate) fn equivalent(phase: Phase, env: &EnvironmentId, mode: Mode) -> Option<String> {
    let base = match phase {
        Phase::Validate | Phase::Generate => return None,
        Phase::Provision if mode == Mode::DryRun => format!("provision list --env {env}"),
        Phase::Provision => format!("provision build --env {env} --all"),
        Phase::Images | Phase::Templates | Phase::Nodes | Phase::Ansible => {
            format!("infra --env {env} --phase {phase}")
        }
        Phase::Kubespray => format!("kubespray deploy --env {env}"),
        Phase::Platform if mode == Mode::Plan => format!("platform diff --env {env}"),
        Phase::Platform => format!("platform deploy --env {env}"),
        Phase::Business => format!("business deploy --env {env}"),
    };
    let flag = match (mode, phase) {
        (Mode::Plan, Phase::Images | Phase::Templates | Phase::Nodes) => " --plan",
        (Mode::DryRun, p) if p != Phase::Provision => " --dry-run",
        _ => "",
    };
    Some(format!("cargo xtask {base}{flag}"))
}

fn done(step: &Step<'_>) -> Done {
    Done {
        command: equivalent(step.phase, step.env, step.mode),
        ..Done::default()
    }
}

fn failed(step: &Step<'_>, mut failure: PhaseFailure) -> PhaseFailure {
    if failure.command.is_none() {
        failure.command = equivalent(step.phase, step.env, step.mode);
    }
    failure
}

fn infra(step: &Step<'_>) -> Result<Done, PhaseFailure> {
    use strata_terraform::{
        Action, HookOutcome, InfraEvent, InfraPhase, InfraRequest, PhaseResult, run_infra,
    };
    let bundle = step.bundle()?;
    let request = InfraRequest {
        phase: match step.phase {
            Phase::Images => InfraPhase::Images,
            Phase::Templates => InfraPhase::Templates,
            Phase::Nodes => InfraPhase::Nodes,
            _ => InfraPhase::Ansible,
        },
        action: if step.mode == Mode::Plan {
            Action::Plan
        } else {
            Action::Apply
        },
        force: false,
        lock_timeout: "5m".to_owned(),
        terraform: None,
        ansible_playbook: None,
    };
    let mut on_event = |event: InfraEvent<'_>| match event {
        InfraEvent::Notice(n) => step.notice(n.clone()),
        InfraEvent::Started(_) => {}
        InfraEvent::Module(report) => {
            if step.ctx.dry_run {
                for cmd in &report.commands {
                    step.shown(cmd.to_string());
                }
            }
            if let PhaseResult::Planned(p) = &report.result {
                step.shown(format!(
                    "{}: {} to add, {} to change, {} to destroy",
                    report.module, p.add, p.change, p.destroy
                ));
            }
        }
        InfraEvent::Hook(HookOutcome::DryRun(cmd)) => step.shown(cmd.to_string()),
        InfraEvent::Hook(_) => {}
    };
    match run_infra(step.layout, bundle, &request, &step.ctx, &mut on_event) {
        Ok(outcome) => Ok(Done {
            detail: Some(outcome.detail()),
            notices: outcome.notices.clone(),
            ..done(step)
        }),
        Err(e) => Err(failed(
            step,
            PhaseFailure::from_error(&e, e.kind(), e.hint()),
        )),
    }
}

fn kubespray(step: &Step<'_>) -> Result<Done, PhaseFailure> {
    use strata_kubespray::{Extras, Operation, Session, SessionRequest};
    let bundle = step.bundle()?;
    let fail = |e: strata_kubespray::KubesprayError| {
        failed(step, PhaseFailure::from_error(&e, e.kind(), e.hint()))
    };
    let session = Session::prepare(step.layout, bundle, &SessionRequest::default(), &step.ctx)
        .map_err(fail)?;
    for n in &session.notices {
        step.notice(n.clone());
    }
    let outcome = session
        .run(
            &Operation::Deploy { limit: None },
            &Extras::default(),
            &step.ctx,
        )
        .map_err(fail)?;
    for n in &outcome.notices {
        step.notice(n.clone());
    }
    if step.ctx.dry_run {
        for cmd in &outcome.commands {
            step.shown(cmd.to_string());
        }
    }
    let mut notices = session.notices.clone();
    notices.extend(outcome.notices.iter().cloned());
    Ok(Done {
        detail: Some(outcome.detail()),
        notices,
        ..done(step)
    })
}

/// A tool found as the context says (`STRATA_*`, then `PATH`), for a layer request that takes
/// the program's path; `None` leaves the layer to report it missing.
fn tool(step: &Step<'_>, tool: &strata_exec::Tool) -> Option<std::path::PathBuf> {
    step.ctx.find_tool(tool).ok().map(|found| found.path)
}

fn provision(step: &Step<'_>) -> Result<Done, PhaseFailure> {
    use strata_provisioner::{
        BuildRequest, Event, ListRequest, ProvisionError, ProvisionTools, build, list,
    };
    let bundle = step.bundle()?;
    let fail =
        |e: ProvisionError| failed(step, PhaseFailure::from_error(&e, e.kind(), e.hint(None)));
    let tools = ProvisionTools {
        qemu_img: tool(step, &strata_provisioner::QEMU_IMG),
        packer: tool(step, &strata_provisioner::PACKER),
        cloud_localds: tool(step, &strata_provisioner::CLOUD_LOCALDS),
        curl: tool(step, &strata_provisioner::CURL),
    };
    if step.mode == Mode::DryRun {
        // What a deploy would build, from the records: nothing is run.
        let outcome = list(step.layout, bundle, &ListRequest { tools }, &step.ctx).map_err(fail)?;
        for n in &outcome.notices {
            step.notice(n.clone());
        }
        let detail = outcome.detail();
        if let PhaseDetail::Images { images } = &detail {
            for image in images {
                (step.emit)(DeployEvent::Image {
                    phase: step.phase,
                    image: image.clone(),
                });
            }
        }
        return Ok(Done {
            detail: Some(detail),
            notices: outcome.notices,
            ..done(step)
        });
    }
    let request = BuildRequest {
        roles: None,
        // `--force provision` means build the images again, which the provisioner would
        // otherwise find up to date.
        force: step.forced,
        jobs: step.jobs.unwrap_or_else(strata_util::default_workers),
        tools,
    };
    let mut on_event = |event: Event<'_>| match event {
        Event::Step { role, message } => (step.emit)(DeployEvent::Output {
            phase: step.phase,
            line: format!("{role}: {message}"),
        }),
        Event::Started { .. } | Event::Download { .. } => {}
    };
    let outcome = build(step.layout, bundle, &request, &step.ctx, &mut on_event).map_err(fail)?;
    let detail = outcome.detail();
    if let PhaseDetail::Images { images } = &detail {
        for image in images {
            (step.emit)(DeployEvent::Image {
                phase: step.phase,
                image: image.clone(),
            });
        }
    }
    if let Some(kind) = outcome.error_kind() {
        let failed_roles: Vec<&str> = outcome
            .results
            .iter()
            .filter(|r| r.outcome.is_err())
            .map(|r| r.role.as_str())
            .collect();
        let first = outcome
            .results
            .iter()
            .find_map(|r| r.outcome.as_ref().err());
        let mut failure = match first {
            Some(e) => PhaseFailure::from_error(e, kind, e.hint(None)),
            None => PhaseFailure::default(),
        };
        failure.message = format!(
            "the image of {} failed: {}",
            failed_roles.join(", "),
            failure.message
        );
        failure.kind = kind;
        return Err(failed(step, failure));
    }
    Ok(Done {
        detail: Some(detail),
        ..done(step)
    })
}

/// Renders the Helm layers' events as the engine's.
fn helm_event(step: &Step<'_>, dry_run: bool, event: strata_helm::HelmEvent<'_>) {
    use strata_helm::HelmEvent;
    match event {
        HelmEvent::Notice(n) => step.notice(n.clone()),
        HelmEvent::Dependencies { release } => (step.emit)(DeployEvent::Output {
            phase: step.phase,
            line: format!("{release}: building the chart's dependencies"),
        }),
        HelmEvent::Started { release } => (step.emit)(DeployEvent::Output {
            phase: step.phase,
            line: format!("{release}: deploying"),
        }),
        HelmEvent::Finished(outcome) => (step.emit)(DeployEvent::Release {
            phase: step.phase,
            release: strata_helm::release_outcome(outcome, dry_run),
        }),
        HelmEvent::Diffed {
            release,
            diff: Some(diff),
        } => {
            step.shown(format!("--- {release} would change:"));
            for line in diff.lines() {
                step.shown(line);
            }
        }
        HelmEvent::Diffed {
            release,
            diff: None,
        } => step.shown(format!("{release}: no change")),
        HelmEvent::Rendered { .. } => {}
    }
}

fn helm_tools(step: &Step<'_>) -> strata_helm::HelmTools {
    strata_helm::HelmTools {
        helm: tool(step, &strata_helm::HELM),
        kubectl: tool(step, &strata_helm::KUBECTL),
    }
}

fn platform(step: &Step<'_>) -> Result<Done, PhaseFailure> {
    use strata_helm::{DiffRequest, HelmError, PlatformRequest, deploy_platform, diff_platform};
    let bundle = step.bundle()?;
    let fail = |e: HelmError| failed(step, PhaseFailure::from_error(&e, e.kind(), e.hint()));
    let dry_run = step.ctx.dry_run;
    let mut on_event = |e: strata_helm::HelmEvent<'_>| helm_event(step, dry_run, e);
    if step.mode == Mode::Plan {
        let request = DiffRequest {
            kubeconfig: None,
            tools: helm_tools(step),
        };
        let outcome =
            diff_platform(step.layout, bundle, &request, &step.ctx, &mut on_event).map_err(fail)?;
        return Ok(Done {
            detail: Some(outcome.detail()),
            notices: outcome.notices,
            ..done(step)
        });
    }
    let request = PlatformRequest {
        kubeconfig: None,
        jobs: step.jobs.unwrap_or(4),
        skip_gate: false,
        tools: helm_tools(step),
    };
    let outcome =
        deploy_platform(step.layout, bundle, &request, &step.ctx, &mut on_event).map_err(fail)?;
    if dry_run {
        for cmd in &outcome.commands {
            step.shown(cmd.clone());
        }
    }
    if let Some(kind) = outcome.error_kind() {
        let mut failure = PhaseFailure::default();
        let mut names = Vec::new();
        for (name, e) in outcome.errors() {
            if failure.message.is_empty() {
                failure = PhaseFailure::from_error(e, kind, e.hint());
            }
            names.push(name.to_owned());
        }
        failure.message = format!(
            "{} failed: {}",
            names
                .iter()
                .map(|n| format!("`{n}`"))
                .collect::<Vec<_>>()
                .join(", "),
            failure.message
        );
        failure.kind = kind;
        return Err(failed(step, failure));
    }
    Ok(Done {
        detail: Some(outcome.detail()),
        notices: outcome.notices,
        ..done(step)
    })
}

fn business(step: &Step<'_>) -> Result<Done, PhaseFailure> {
    use strata_helm::{BusinessRequest, HelmError, deploy_business};
    let bundle = step.bundle()?;
    let fail = |e: HelmError| failed(step, PhaseFailure::from_error(&e, e.kind(), e.hint()));
    let dry_run = step.ctx.dry_run;
    let request = BusinessRequest {
        kubeconfig: None,
        tools: helm_tools(step),
    };
    let outcome = deploy_business(step.layout, bundle, &request, &step.ctx, &mut |e| {
        helm_event(step, dry_run, e);
    })
    .map_err(fail)?;
    if dry_run {
        step.shown(outcome.command.clone());
    }
    Ok(Done {
        detail: Some(outcome.detail()),
        notices: outcome.notices.clone(),
        ..done(step)
    })
}
