//! `cargo xtask kubespray`: Kubespray's lifecycle playbooks for one environment.

use std::path::PathBuf;

use strata_config::{Layout, read_inventory};
use strata_exec::{ExecError, expand_home, tool_version};
use strata_kubespray::{
    Extras, KubesprayError, KubesprayRun, Operation, check_ansible_version, check_private_key,
    inventory_drift, lock_staging, runtime_tool, stage_inventory,
};
use strata_metadata::{FileKind, KubesprayConfig, KubesprayRuntime};

use crate::Exit;
use crate::cli::{KubesprayCommand, RuntimeArg};
use crate::report;
use crate::ui::Ui;

pub(crate) fn run(layout: &Layout, cmd: &KubesprayCommand, ui: &Ui) -> anyhow::Result<Exit> {
    let (args, op) = match cmd {
        KubesprayCommand::Deploy(a) => (a, Operation::Deploy),
        KubesprayCommand::Reset { common, .. } => (common, Operation::Reset),
        KubesprayCommand::Scale { common, limit } => (
            common,
            Operation::Scale {
                limit: limit.clone(),
            },
        ),
        KubesprayCommand::Upgrade {
            common,
            kube_version,
            serial,
        } => (
            common,
            Operation::Upgrade {
                kube_version: kube_version.clone(),
                serial: *serial,
            },
        ),
        KubesprayCommand::RemoveNode { common, node } => (
            common,
            Operation::RemoveNode {
                nodes: node.clone(),
            },
        ),
        KubesprayCommand::Recover(a) => (a, Operation::Recover),
    };
    let env = args.env.as_str();
    let Some(bundle) = report::open_bundle(layout, env, ui)? else {
        return Ok(Exit::Invalid);
    };
    let config_path = bundle
        .path(FileKind::KubesprayConfig)
        .unwrap_or_else(|| bundle.dir().join("kubesprayConfig.json"));
    let config: KubesprayConfig = match std::fs::read_to_string(&config_path)
        .map_err(|e| e.to_string())
        .and_then(|t| serde_json::from_str(&t).map_err(|e| e.to_string()))
    {
        Ok(c) => c,
        Err(message) => {
            return Ok(fail(
                ui,
                &KubesprayError::Config {
                    path: config_path,
                    message,
                },
                None,
            ));
        }
    };
    let runtime = match args.runtime {
        Some(RuntimeArg::Docker) => KubesprayRuntime::Docker,
        Some(RuntimeArg::Podman) => KubesprayRuntime::Podman,
        Some(RuntimeArg::Local) => KubesprayRuntime::Local,
        None => config.runtime,
    };

    // Every environment stages into the same folder: one run uses it at a time.
    let _staging = match lock_staging(layout) {
        Ok(lock) => lock,
        Err(e) => return Ok(fail(ui, &e, None)),
    };
    let staged = match stage_inventory(layout, &bundle) {
        Ok(s) => s,
        Err(e) => return Ok(fail(ui, &e, None)),
    };
    let shown_inventory = staged
        .dir
        .strip_prefix(layout.root())
        .unwrap_or(&staged.dir)
        .display()
        .to_string();
    ui.note(&if staged.unchanged {
        format!(
            "inventory already staged in {shown_inventory} ({})",
            staged.digest
        )
    } else {
        format!(
            "staged the inventory of api/outputs/{env} into {shown_inventory} ({})",
            staged.digest
        )
    });

    // The nodes Terraform recorded, when the infrastructure phases ran here: a host whose
    // address moved is the classic cause of a run that hangs on SSH for an hour.
    let outputs_path = layout.terraform_outputs(env, "nodes");
    if let Ok(text) = std::fs::read_to_string(&outputs_path) {
        let outputs: serde_json::Value = serde_json::from_str(&text).unwrap_or_default();
        if let Ok(inventory) = read_inventory(&staged.dir.join("hosts.yaml")) {
            for drift in inventory_drift(&inventory, &outputs) {
                ui.warning(
                    &format!("inventory drift: {drift}"),
                    Some("make the package's inventory and tfvars describe the same machines, then regenerate the bundle"),
                );
            }
        }
    }

    let program = match runtime_tool(runtime) {
        Ok(found) => {
            if runtime == KubesprayRuntime::Local && !args.dry_run {
                let (_, version) = tool_version(&found, layout.root())?;
                let checkout = expand_home(config.kubespray_path.as_deref().unwrap_or_default());
                if let Err(e) =
                    check_ansible_version(&checkout, version.as_deref().unwrap_or_default())
                {
                    return Ok(fail(ui, &e, None));
                }
            }
            found.path
        }
        Err(ExecError::ToolNotFound { .. }) if args.dry_run => PathBuf::from(runtime_name(runtime)),
        Err(e) => return Err(e.into()),
    };
    let ks = KubesprayRun {
        runtime,
        program,
        root: layout.root().to_owned(),
        config,
        inventory: staged.dir.clone(),
    };
    if !args.dry_run
        && let Err(e) = check_private_key(&ks.key())
    {
        return Ok(fail(ui, &e, None));
    }
    let extras = Extras {
        extra_vars: args.extra_vars.clone(),
        tags: args.tags.clone(),
        skip_tags: args.skip_tags.clone(),
    };
    let logs = layout
        .state_dir(env)
        .join("runs")
        .join(crate::runs::run_id());
    let log = logs.join("kubespray.log");
    let commands = match ks.run(&op, &extras, args.dry_run, Some(&log)) {
        Ok(c) => c,
        Err(e) => {
            let shown = log
                .strip_prefix(layout.root())
                .unwrap_or(&log)
                .display()
                .to_string();
            return Ok(fail(ui, &e, Some(&shown)));
        }
    };
    for cmd in &commands {
        if args.dry_run {
            ui.result(&format!("  {cmd}"));
        } else {
            ui.note(&format!("  ran {}", cmd.display()));
        }
    }
    let what = op
        .plays()
        .iter()
        .map(|(p, _)| *p)
        .collect::<Vec<_>>()
        .join(", ");
    ui.result(&format!(
        "kubespray {what}: {}",
        if args.dry_run { "dry run" } else { "done" }
    ));
    ui.json(&serde_json::json!({
        "ok": true,
        "environment": env,
        "runtime": runtime_name(runtime),
        "inventory": {"dir": shown_inventory, "digest": staged.digest},
        "commands": commands.iter().map(ToString::to_string).collect::<Vec<_>>(),
    }));
    if logs.is_dir() {
        ui.note(&format!(
            "log: {}",
            log.strip_prefix(layout.root()).unwrap_or(&log).display()
        ));
    }
    Ok(Exit::Success)
}

fn runtime_name(runtime: KubesprayRuntime) -> &'static str {
    match runtime {
        KubesprayRuntime::Docker => "docker",
        KubesprayRuntime::Podman => "podman",
        KubesprayRuntime::Local => "ansible-playbook",
    }
}

fn fail(ui: &Ui, err: &KubesprayError, log: Option<&str>) -> Exit {
    let (exit, hint) = match err {
        KubesprayError::KeyPermissions { path, .. } => (Exit::Invalid, Some(format!("run `chmod 600 {}`", path.display()))),
        KubesprayError::NotAPrivateKey { .. } => {
            (Exit::Invalid, Some("point `sshPrivateKeyPath` in the Kubespray config at the private key, not the `.pub` file".to_owned()))
        }
        KubesprayError::KeyMissing { .. } => (Exit::Invalid, Some("put the key there, or fix `sshPrivateKeyPath` in the package's Kubespray config".to_owned())),
        KubesprayError::AnsibleVersion { min, max, .. } => (
            Exit::Invalid,
            Some(format!("install a fitting one (`pip install 'ansible-core>={min},<{max}'`), or use the docker runtime, whose image brings its own")),
        ),
        KubesprayError::NoCheckout | KubesprayError::Config { .. } => (Exit::Invalid, None),
        KubesprayError::Run { source, .. } => {
            report::show_tail(ui, source);
            (Exit::Failed, log.map(|l| format!("the full output is in {l}")))
        }
        KubesprayError::Io { .. } => (Exit::Failed, None),
    };
    let message = report::chain(err);
    ui.error(&message, hint.as_deref());
    ui.json(&serde_json::json!({"ok": false, "error": message, "hint": hint}));
    exit
}
