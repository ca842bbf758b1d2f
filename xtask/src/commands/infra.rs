//! `cargo xtask infra`: the Terraform phases of one environment.

use strata_bundle::{
    Bootstrap, BundleError, GenerateOptions, ensure_current, is_current, source_date_epoch,
};
use strata_config::Layout;
use strata_exec::Context;
use strata_metadata::output::{InfraFailure, InfraOutput, ModuleEntry, Staged};
use strata_terraform::{
    ANSIBLE_HOOK, Action, HookOutcome, InfraEvent, InfraPhase as Phase, InfraRequest, PhaseReport,
    PhaseResult, StageOutcome, TerraformError, run_infra,
};

use crate::Exit;
use crate::cli::{InfraArgs, InfraPhase};
use crate::report;
use crate::ui::Ui;

pub(crate) fn run(layout: &Layout, args: &InfraArgs, ui: &Ui) -> anyhow::Result<Exit> {
    let env = args.env.as_str();
    let bootstrap = matches!(args.phase, InfraPhase::Bootstrap | InfraPhase::All) && !args.outputs;
    let bundle = if bootstrap {
        ui.note(&ui.bold("==> bootstrap"));
        let opts = GenerateOptions {
            skip_validate: false,
            generated_at: source_date_epoch()?,
        };
        match ensure_current(layout, &args.env, &opts) {
            Ok((bundle, outcome)) => {
                let what = match outcome {
                    Bootstrap::Current => "bundle is current",
                    Bootstrap::Generated => "bundle generated",
                    Bootstrap::Regenerated => "bundle regenerated: its package changed",
                };
                ui.result(&format!("bootstrap: {what}"));
                bundle
            }
            Err(BundleError::Invalid(report)) => {
                for d in &report.diagnostics {
                    ui.diagnostic(d);
                }
                ui.json(&crate::ui::refusal(&report.diagnostics));
                ui.error(
                    &format!("bootstrap failed: the bundle for `{env}` cannot be generated"),
                    None,
                );
                return Ok(Exit::Invalid);
            }
            Err(e) => return Err(e.into()),
        }
    } else {
        let Some(b) = report::open_bundle(layout, env, ui)? else {
            return Ok(Exit::Invalid);
        };
        if !is_current(layout, &b) {
            ui.warning(
                &format!("the bundle for `{env}` is older than its package: this run uses the configuration it was generated from"),
                Some(&format!("regenerate it with `cargo xtask infra --env {env} --phase bootstrap`")),
            );
        }
        b
    };
    if args.phase == InfraPhase::Bootstrap {
        ui.json(&InfraOutput {
            ok: true,
            environment: env.to_owned(),
            modules: Vec::new(),
            logs: None,
        });
        return Ok(Exit::Success);
    }
    let action = if args.plan {
        Action::Plan
    } else if args.apply_plan {
        Action::ApplyPlan
    } else if args.destroy {
        Action::Destroy
    } else if args.outputs {
        Action::Outputs
    } else {
        Action::Apply
    };
    let request = InfraRequest {
        phase: match args.phase {
            // Bootstrap was done above.
            InfraPhase::All | InfraPhase::Bootstrap => Phase::All,
            InfraPhase::Images => Phase::Images,
            InfraPhase::Templates => Phase::Templates,
            InfraPhase::Nodes => Phase::Nodes,
            InfraPhase::Ansible => Phase::Ansible,
        },
        action,
        force: args.force,
        lock_timeout: args.lock_timeout.clone(),
        terraform: None,
        ansible_playbook: None,
    };
    let logs = crate::runs::log_dir(layout, env);
    let shown_logs = strata_util::shown(layout.root(), &logs);
    let ctx = Context {
        dry_run: args.dry_run,
        logs: Some(&logs),
        ..Context::default()
    };
    let mut results = Vec::new();
    let mut current = None;
    let result = run_infra(layout, &bundle, &request, &ctx, &mut |event| match event {
        InfraEvent::Notice(n) => report::notices(ui, std::slice::from_ref(n)),
        InfraEvent::Started(module) => {
            current = Some(module.to_owned());
            ui.note(&ui.bold(&format!("==> {module}")));
        }
        InfraEvent::Module(report) => results.push(module_result(ui, env, args.dry_run, report)),
        InfraEvent::Hook(hook) => {
            let result = match hook {
                HookOutcome::Skipped => format!("skipped (no {ANSIBLE_HOOK})"),
                HookOutcome::DryRun(cmd) => {
                    ui.result(&format!("  {cmd}"));
                    "dry run".to_owned()
                }
                HookOutcome::Ran(cmd) => {
                    ui.note(&format!("  ran {}", cmd.display()));
                    "ran".to_owned()
                }
            };
            ui.result(&format!("ansible: {result}"));
            results.push(ModuleEntry {
                module: "ansible".to_owned(),
                staged: None,
                commands: None,
                plan: None,
                outputs: None,
                result,
            });
        }
    });
    if let Err(e) = result {
        return Ok(fail(ui, current.as_deref(), &e, &shown_logs, results));
    }
    if action == Action::Plan && !args.dry_run {
        ui.note(&format!(
            "apply exactly these plans with `cargo xtask infra --env {env} --apply-plan`"
        ));
    }
    ui.json(&InfraOutput {
        ok: true,
        environment: env.to_owned(),
        modules: results,
        logs: (!args.dry_run).then(|| shown_logs.clone()),
    });
    if !args.dry_run && logs.is_dir() {
        ui.note(&format!("logs: {shown_logs}"));
    }
    Ok(Exit::Success)
}

/// Renders one module's report (staging, commands, result) and returns its JSON entry.
fn module_result(ui: &Ui, env: &str, dry_run: bool, report: &PhaseReport) -> ModuleEntry {
    let module = report.module.as_str();
    let staged = match report.staged {
        StageOutcome::Created => "staged terraform.tfvars",
        StageOutcome::Unchanged => "terraform.tfvars already staged",
        StageOutcome::Replaced => "replaced the out-of-date terraform.tfvars",
        StageOutcome::Overwrote => "overwrote the hand-edited terraform.tfvars (--force)",
        StageOutcome::WouldOverwrite => {
            "would overwrite the hand-edited terraform.tfvars (--force); kept it in this dry run"
        }
    };
    ui.note(&format!("  {staged}"));
    for cmd in &report.commands {
        if dry_run {
            ui.result(&format!("  {cmd}"));
        } else {
            ui.note(&format!("  ran {}", cmd.display()));
        }
    }
    let mut entry = ModuleEntry {
        module: module.to_owned(),
        staged: Some(match report.staged {
            StageOutcome::Created => Staged::Created,
            StageOutcome::Unchanged => Staged::Unchanged,
            StageOutcome::Replaced => Staged::Replaced,
            StageOutcome::Overwrote => Staged::Overwrote,
            StageOutcome::WouldOverwrite => Staged::WouldOverwrite,
        }),
        commands: Some(report.commands.iter().map(ToString::to_string).collect()),
        plan: None,
        outputs: None,
        result: String::new(),
    };
    let result = match &report.result {
        PhaseResult::DryRun => "dry run".to_owned(),
        PhaseResult::NoChanges => "no changes".to_owned(),
        PhaseResult::Applied => "applied".to_owned(),
        PhaseResult::Destroyed => "destroyed".to_owned(),
        PhaseResult::Planned(p) => {
            entry.plan = Some(*p);
            let saved = format!(".strata/{env}/plans/{module}.tfplan");
            format!(
                "plan saved to {saved}: {} to add, {} to change, {} to destroy",
                p.add, p.change, p.destroy
            )
        }
        PhaseResult::Outputs(outputs) => {
            entry.outputs = Some(outputs.clone());
            print_nodes(ui, outputs);
            "outputs recorded".to_owned()
        }
    };
    ui.result(&format!("{module}: {result}"));
    entry.result = result;
    entry
}

/// Reports a failure: the failed command's last lines, the error with its hint (else where the
/// module's whole output is), and the JSON with the modules done before it.
fn fail(
    ui: &Ui,
    module: Option<&str>,
    err: &TerraformError,
    logs: &str,
    done: Vec<ModuleEntry>,
) -> Exit {
    let tail = err.command_failure();
    if let Some(source) = tail {
        report::show_tail(ui, source);
    }
    let hint = err.hint().or_else(|| {
        let log = module?;
        tail.map(|_| format!("the full output is in {logs}/{log}.log"))
    });
    let message = report::chain(err);
    ui.error(&message, hint.as_deref());
    ui.json(&InfraFailure {
        ok: false,
        error: message,
        hint,
        failed: module.map(str::to_owned),
        modules: module.map(|_| done),
    });
    err.kind().exit()
}

/// The nodes module's `nodes` output as a table: name, address, role.
fn print_nodes(ui: &Ui, outputs: &serde_json::Value) {
    let Some(nodes) = outputs["nodes"]["value"].as_object() else {
        return;
    };
    for (name, node) in nodes {
        ui.result(&format!(
            "  {name:<16} {:<15} {}",
            node["ip"].as_str().unwrap_or("-"),
            node["role"].as_str().unwrap_or("-")
        ));
    }
}
