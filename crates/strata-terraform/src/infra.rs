//! The layer's entry point: one infrastructure request (a module, every module in order, or the
//! `ansible` hook) for one environment's bundle.
//!
//! `cargo xtask infra` and the deploy engine both call [`run_infra`], so the two choose modules,
//! programs and the hook the same way by construction.

use std::path::PathBuf;

use strata_bundle::Bundle;
use strata_config::Layout;
use strata_exec::{Context, ExecError, FoundTool, Tool};
use strata_metadata::{Notice, PhaseDetail, PlanCounts};
use tracing::instrument;

use crate::{
    ANSIBLE_HOOK, Action, HookOutcome, PhaseOptions, PhaseReport, PhaseResult, TerraformError,
    ansible_hook, check_version, module_order, run_module,
};

/// Which part of the infrastructure a request is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InfraPhase {
    /// Every module in order, then (after a plain apply) the `ansible` hook.
    All,
    /// The `images` module.
    Images,
    /// The `templates` module.
    Templates,
    /// The `nodes` module.
    Nodes,
    /// Only the hook: a team's own playbook over the nodes.
    Ansible,
}

/// What `cargo xtask infra` is asked: the phase, the action and their flags.
#[derive(Debug, Clone)]
pub struct InfraRequest {
    /// Which modules (and whether the hook).
    pub phase: InfraPhase,
    /// What to do with each module; [`Action::Outputs`] reads the `nodes` module only.
    pub action: Action,
    /// Overwrite a hand-edited staged tfvars.
    pub force: bool,
    /// terraform's `-lock-timeout`, such as `5m`.
    pub lock_timeout: String,
    /// The terraform or tofu to run, for a caller that has found it already; otherwise
    /// `STRATA_TERRAFORM`, else `terraform`, else `tofu` on `PATH`.
    pub terraform: Option<PathBuf>,
    /// The hook's `ansible-playbook`, likewise (`STRATA_ANSIBLE_PLAYBOOK`, else `PATH`).
    pub ansible_playbook: Option<PathBuf>,
}

/// Something that happened during [`run_infra`], in order, as it happened.
#[derive(Debug)]
pub enum InfraEvent<'a> {
    /// Worth telling, such as which terraform runs.
    Notice(&'a Notice),
    /// A module (or `ansible`) starts.
    Started(&'a str),
    /// A module finished.
    Module(&'a PhaseReport),
    /// The hook finished.
    Hook(&'a HookOutcome),
}

/// What [`run_infra`] did.
#[derive(Debug, Clone)]
pub struct InfraOutcome {
    /// Each module's report, in the order they ran.
    pub modules: Vec<PhaseReport>,
    /// The hook's outcome, when the request included it.
    pub hook: Option<HookOutcome>,
    /// What is worth telling.
    pub notices: Vec<Notice>,
}

impl InfraOutcome {
    /// The plans' counts added up, when plans were made ([`Action::Plan`], not a dry run):
    /// a module whose plan found nothing counts zero.
    pub fn plan(&self) -> Option<PlanCounts> {
        let mut total: Option<PlanCounts> = None;
        for m in &self.modules {
            let counts = match &m.result {
                PhaseResult::Planned(p) => *p,
                PhaseResult::NoChanges => PlanCounts::default(),
                _ => continue,
            };
            let t = total.get_or_insert_with(PlanCounts::default);
            t.add += counts.add;
            t.change += counts.change;
            t.destroy += counts.destroy;
        }
        total
    }

    /// Whether a plan found changes: "no changes" and "changes" are told apart here, and a plan
    /// that could not be made is an error, never either.
    pub fn has_changes(&self) -> bool {
        self.plan().is_some_and(|p| p.has_changes())
    }

    /// The typed detail for a deploy report.
    pub fn detail(&self) -> PhaseDetail {
        let outputs = self
            .modules
            .iter()
            .filter_map(|m| m.outputs.as_ref().and_then(|v| v.as_object()))
            .flat_map(|o| o.keys().cloned())
            .collect();
        PhaseDetail::Terraform {
            plan: self.plan(),
            applied: self
                .modules
                .iter()
                .any(|m| m.result == PhaseResult::Applied),
            outputs,
        }
    }
}

/// The modules a request runs, in order: the one its phase names, or all of them (reversed to
/// destroy); `nodes` alone for [`Action::Outputs`]; none for the hook.
pub fn infra_modules(phase: InfraPhase, action: Action) -> Vec<&'static str> {
    if action == Action::Outputs {
        return vec!["nodes"];
    }
    match phase {
        InfraPhase::All => module_order(action),
        InfraPhase::Images => vec!["images"],
        InfraPhase::Templates => vec!["templates"],
        InfraPhase::Nodes => vec!["nodes"],
        InfraPhase::Ansible => Vec::new(),
    }
}

/// Whether a request runs the hook: the `ansible` phase, or `all` with a plain apply (the hook
/// runs after the nodes exist).
pub fn runs_hook(phase: InfraPhase, action: Action) -> bool {
    phase == InfraPhase::Ansible || (phase == InfraPhase::All && action == Action::Apply)
}

/// Runs `request` for `bundle`'s environment: each module in order through [`run_module`]
/// (its log `<module>.log` in the context's run folder), then the hook when the request
/// includes it (`ansible.log`). terraform is found and its version checked first (a dry run
/// does without it); it stops at the first failure. `on_event` hears each step as it happens.
#[instrument(skip_all, fields(env = %bundle.metadata().environment))]
pub fn run_infra(
    layout: &Layout,
    bundle: &Bundle,
    request: &InfraRequest,
    ctx: &Context<'_>,
    on_event: &mut dyn FnMut(InfraEvent<'_>),
) -> Result<InfraOutcome, TerraformError> {
    let env = bundle.metadata().environment.to_string();
    if request.phase == InfraPhase::Ansible && request.action != Action::Apply {
        return Err(TerraformError::HookAction { env });
    }
    let mut outcome = InfraOutcome {
        modules: Vec::new(),
        hook: None,
        notices: Vec::new(),
    };
    let modules = infra_modules(request.phase, request.action);
    if !modules.is_empty() {
        let (program, notice) = terraform_program(layout, request, ctx)?;
        if let Some(n) = notice {
            on_event(InfraEvent::Notice(&n));
            outcome.notices.push(n);
        }
        for module in modules {
            on_event(InfraEvent::Started(module));
            let log = ctx.log(&format!("{module}.log"));
            let opts = PhaseOptions {
                action: request.action,
                force: request.force,
                lock_timeout: &request.lock_timeout,
                ctx: *ctx,
                log: log.as_deref(),
            };
            let report = run_module(layout, bundle, &env, module, &program, &opts)?;
            on_event(InfraEvent::Module(&report));
            outcome.modules.push(report);
        }
    }
    if runs_hook(request.phase, request.action) {
        on_event(InfraEvent::Started("ansible"));
        let program = hook_program(layout, request, ctx)?;
        let log = ctx.log("ansible.log");
        let hook = ansible_hook(layout, bundle, &env, &program, ctx, log.as_deref())?;
        on_event(InfraEvent::Hook(&hook));
        outcome.hook = Some(hook);
    }
    Ok(outcome)
}

/// The terraform (or tofu) to run, recent enough, and a notice naming it; just its name for a
/// dry run on a machine without it.
fn terraform_program(
    layout: &Layout,
    request: &InfraRequest,
    ctx: &Context<'_>,
) -> Result<(PathBuf, Option<Notice>), TerraformError> {
    match found(&request.terraform, crate::TERRAFORM, ctx) {
        Ok(found) => {
            if ctx.dry_run {
                return Ok((found.path, None));
            }
            let version = check_version(&found, layout.root())?;
            let notice = Notice::info(format!("using {} ({version})", found.path.display()));
            Ok((found.path, Some(notice)))
        }
        // A dry run only shows commands, so it works on a machine without terraform.
        Err(ExecError::ToolNotFound { .. }) if ctx.dry_run => {
            Ok((PathBuf::from("terraform"), None))
        }
        Err(e) => Err(TerraformError::Tool(e)),
    }
}

/// The hook's `ansible-playbook`; only its name when it will not run (a dry run, or no
/// playbook).
fn hook_program(
    layout: &Layout,
    request: &InfraRequest,
    ctx: &Context<'_>,
) -> Result<PathBuf, TerraformError> {
    match found(&request.ansible_playbook, crate::ANSIBLE_PLAYBOOK, ctx) {
        Ok(found) => Ok(found.path),
        Err(ExecError::ToolNotFound { .. })
            if ctx.dry_run || !layout.abs(ANSIBLE_HOOK).is_file() =>
        {
            Ok(PathBuf::from("ansible-playbook"))
        }
        Err(e) => Err(TerraformError::Tool(e)),
    }
}

/// The program the caller gave, else `tool` looked up as `ctx` says.
fn found(given: &Option<PathBuf>, tool: Tool, ctx: &Context<'_>) -> Result<FoundTool, ExecError> {
    match given {
        Some(path) => Ok(FoundTool {
            tool,
            path: path.clone(),
            from_override: true,
        }),
        None => ctx.find_tool(&tool),
    }
}
