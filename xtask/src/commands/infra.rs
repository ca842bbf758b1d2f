//! `cargo xtask infra`: the Terraform phases of one environment.

use std::path::PathBuf;

use strata_bundle::{
    Bootstrap, BundleError, GenerateOptions, ensure_current, is_current, source_date_epoch,
};
use strata_config::Layout;
use strata_exec::{ExecError, TOOLS, find_tool};
use strata_terraform::{
    ANSIBLE_HOOK, Action, HookOutcome, PhaseOptions, PhaseResult, StageOutcome, TerraformError,
    ansible_hook, check_version, module_order, run_module,
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
        ui.json(&serde_json::json!({"ok": true, "environment": env, "modules": []}));
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
    if args.phase == InfraPhase::Ansible && action != Action::Apply {
        let message = "the ansible phase only runs its playbook; --plan, --apply-plan, --destroy and --outputs are for the Terraform phases";
        ui.error(
            message,
            Some(&format!(
                "run `cargo xtask infra --env {env} --phase ansible` on its own"
            )),
        );
        ui.json(&serde_json::json!({"ok": false, "error": message}));
        return Ok(Exit::Invalid);
    }
    let modules: Vec<&str> = match (args.outputs, args.phase) {
        (true, _) | (false, InfraPhase::Nodes) => vec!["nodes"],
        (false, InfraPhase::Images) => vec!["images"],
        (false, InfraPhase::Templates) => vec!["templates"],
        (false, InfraPhase::All) => module_order(action),
        (false, InfraPhase::Bootstrap | InfraPhase::Ansible) => Vec::new(),
    };
    let program = if modules.is_empty() {
        PathBuf::from("terraform")
    } else {
        terraform_program(layout, args, ui)?
    };
    let run_id = crate::runs::run_id();
    let logs = layout.state_dir(env).join("runs").join(&run_id);
    let shown_logs = logs
        .strip_prefix(layout.root())
        .unwrap_or(&logs)
        .display()
        .to_string();
    let mut results = Vec::new();
    for module in modules {
        ui.note(&ui.bold(&format!("==> {module}")));
        let log = logs.join(format!("{module}.log"));
        let opts = PhaseOptions {
            action,
            dry_run: args.dry_run,
            force: args.force,
            lock_timeout: &args.lock_timeout,
            log: Some(&log),
        };
        let report = match run_module(layout, &bundle, env, module, &program, &opts) {
            Ok(r) => r,
            Err(e) => return Ok(fail(ui, module, &e, &shown_logs, &results)),
        };
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
            if args.dry_run {
                ui.result(&format!("  {cmd}"));
            } else {
                ui.note(&format!("  ran {}", cmd.display()));
            }
        }
        let mut entry = serde_json::json!({
            "module": module,
            "staged": format!("{:?}", report.staged).to_lowercase(),
            "commands": report.commands.iter().map(ToString::to_string).collect::<Vec<_>>(),
        });
        let result = match &report.result {
            PhaseResult::DryRun => "dry run".to_owned(),
            PhaseResult::NoChanges => "no changes".to_owned(),
            PhaseResult::Applied => "applied".to_owned(),
            PhaseResult::Destroyed => "destroyed".to_owned(),
            PhaseResult::Planned(p) => {
                entry["plan"] =
                    serde_json::json!({"add": p.add, "change": p.change, "destroy": p.destroy});
                let saved = format!(".strata/{env}/plans/{module}.tfplan");
                format!(
                    "plan saved to {saved}: {} to add, {} to change, {} to destroy",
                    p.add, p.change, p.destroy
                )
            }
            PhaseResult::Outputs(outputs) => {
                entry["outputs"] = outputs.clone();
                print_nodes(ui, outputs);
                "outputs recorded".to_owned()
            }
        };
        ui.result(&format!("{module}: {result}"));
        entry["result"] = serde_json::Value::String(result);
        results.push(entry);
    }
    // The legacy hook runs after the nodes exist, on its own or as the last step of `all`.
    if args.phase == InfraPhase::Ansible
        || (args.phase == InfraPhase::All && action == Action::Apply)
    {
        ui.note(&ui.bold("==> ansible"));
        let log = logs.join("ansible.log");
        let program = match find_tool(&TOOLS[2]) {
            Ok(found) => found.path,
            Err(ExecError::ToolNotFound { .. })
                if args.dry_run || !layout.abs(ANSIBLE_HOOK).is_file() =>
            {
                PathBuf::from("ansible-playbook")
            }
            Err(e) => return Err(e.into()),
        };
        let result = match ansible_hook(layout, &bundle, env, &program, args.dry_run, Some(&log)) {
            Ok(HookOutcome::Skipped) => format!("skipped (no {ANSIBLE_HOOK})"),
            Ok(HookOutcome::DryRun(cmd)) => {
                ui.result(&format!("  {cmd}"));
                "dry run".to_owned()
            }
            Ok(HookOutcome::Ran(cmd)) => {
                ui.note(&format!("  ran {}", cmd.display()));
                "ran".to_owned()
            }
            Err(e) => return Ok(fail(ui, "ansible", &e, &shown_logs, &results)),
        };
        ui.result(&format!("ansible: {result}"));
        results.push(serde_json::json!({"module": "ansible", "result": result}));
    }
    if action == Action::Plan && !args.dry_run {
        ui.note(&format!(
            "apply exactly these plans with `cargo xtask infra --env {env} --apply-plan`"
        ));
    }
    ui.json(&serde_json::json!({"ok": true, "environment": env, "modules": results, "logs": (!args.dry_run).then_some(&shown_logs)}));
    if !args.dry_run && logs.is_dir() {
        ui.note(&format!("logs: {shown_logs}"));
    }
    Ok(Exit::Success)
}

/// Reports a failed module: the command, its exit status, the last lines and the log.
fn fail(
    ui: &Ui,
    module: &str,
    err: &TerraformError,
    logs: &str,
    done: &[serde_json::Value],
) -> Exit {
    let (exit, hint) = match err {
        TerraformError::HandEdited { .. } => (
            Exit::Invalid,
            Some("rerun with `--force` to replace it with the bundle's; to keep the edit, first put it in the package's tfvars (bump, lock, regenerate), then rerun with `--force`".to_owned()),
        ),
        TerraformError::ModuleMissing { .. } | TerraformError::ModuleInvalid { .. } | TerraformError::Tfvars { .. } | TerraformError::TooOld { .. } => (Exit::Invalid, None),
        TerraformError::SshKey { .. } => (
            Exit::Invalid,
            Some("put the key there, or fix `sshPrivateKeyPath` in the package's Kubespray config".to_owned()),
        ),
        TerraformError::NoSavedPlan { .. } => (Exit::Invalid, Some("make one first with `--plan`".to_owned())),
        TerraformError::NoImageChecksum { .. } => (
            Exit::Invalid,
            Some("add `cloud_image_sha256 = \"<64 hex digits>\"` to the package's tfvars, or give a provisioner role a `baseImage` with the same `url` and its `sha256`".to_owned()),
        ),
        TerraformError::SshMissing { .. } => (
            Exit::Invalid,
            Some("nothing was applied; export PROXMOX_VE_SSH_USERNAME (root, or a user with passwordless sudo for pvesm and qm) and PROXMOX_VE_SSH_AGENT=true with a loaded ssh-agent, or PROXMOX_VE_SSH_PRIVATE_KEY with an unencrypted key, then rerun".to_owned()),
        ),
        TerraformError::ImageNotPublished { env, role, .. } => (
            Exit::Invalid,
            Some(format!("run `cargo xtask provision build --env {env} --role {role}` and `cargo xtask provision publish --env {env} --role {role}`, or remove `publish.templateRole` to use the tfvars' cloud image")),
        ),
        TerraformError::PlanStale { .. } => (
            Exit::Invalid,
            Some("nothing was applied; review a fresh plan with `--plan`, then `--apply-plan` it".to_owned()),
        ),
        TerraformError::Hook { source } => {
            report::show_tail(ui, source);
            (Exit::Failed, Some(format!("the full output is in {logs}/ansible.log")))
        }
        TerraformError::Command { source, .. } => match &**source {
            ExecError::Failed { stdout_tail, stderr_tail, .. } => {
                report::show_tail(ui, source);
                let lock = stderr_tail.iter().any(|l| l.contains("Error acquiring the state lock"));
                let hint = if lock {
                    // Terraform's lock info names the holder on a `Who:` line.
                    let who = stderr_tail
                        .iter()
                        .chain(stdout_tail)
                        .find_map(|l| l.trim().strip_prefix("Who:").map(str::trim))
                        .unwrap_or("someone else");
                    format!("{who} holds this state's lock; wait for them, or retry with a longer `--lock-timeout` (such as 10m)")
                } else {
                    format!("the full output is in {logs}/{module}.log")
                };
                (Exit::Failed, Some(hint))
            }
            _ => (Exit::Failed, None),
        },
        _ => (Exit::Failed, None),
    };
    let message = report::chain(err);
    ui.error(&message, hint.as_deref());
    ui.json(&serde_json::json!({"ok": false, "failed": module, "error": message, "hint": hint, "modules": done}));
    exit
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

/// The terraform (or tofu) to run: recent enough, or just its name for a dry run on a machine
/// without it.
fn terraform_program(layout: &Layout, args: &InfraArgs, ui: &Ui) -> anyhow::Result<PathBuf> {
    let terraform = &TOOLS[0];
    Ok(match find_tool(terraform) {
        Ok(found) => {
            if !args.dry_run {
                let version = check_version(&found, layout.root())?;
                ui.note(&format!("using {} ({version})", found.path.display()));
            }
            found.path
        }
        // A dry run only shows commands, so it works on a machine without terraform.
        Err(ExecError::ToolNotFound { .. }) if args.dry_run => PathBuf::from("terraform"),
        Err(e) => return Err(e.into()),
    })
}
