//! `cargo xtask kubespray`: Kubespray's lifecycle playbooks for one environment.

use std::path::PathBuf;

use strata_config::{Layout, Severity, read_inventory};
use strata_exec::{ExecError, TOOLS, expand_home, find_tool, tool_version};
use strata_kubespray::{
    Artifacts, CONNECT_TIMEOUT_SECS, Extras, KubesprayError, KubesprayRun, Operation, Reach,
    StagedInventory, artifacts_dir, check_ansible_version, check_private_key, check_staged,
    cluster_status, facts_dir, find_kubeconfig, inventory_drift, inventory_file, lock_staging,
    runtime_tool, settle_artifacts, stage_inventory,
};
use strata_metadata::{
    FileKind, KUBE_VERSION_SOURCE, KubeVersionSupport, KubesprayConfig, KubesprayRuntime,
};

use crate::Exit;
use crate::cli::{KubesprayCommand, RuntimeArg, StatusArgs, TargetArgs};
use crate::report;
use crate::ui::Ui;

pub(crate) fn run(layout: &Layout, cmd: &KubesprayCommand, ui: &Ui) -> anyhow::Result<Exit> {
    let (args, op) = match cmd {
        KubesprayCommand::Deploy { common, limit } => (
            common,
            Operation::Deploy {
                limit: limit.clone(),
            },
        ),
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
            limit,
        } => (
            common,
            Operation::Upgrade {
                kube_version: kube_version.clone(),
                serial: *serial,
                limit: limit.clone(),
            },
        ),
        KubesprayCommand::RemoveNode {
            common,
            node,
            force,
        } => (
            common,
            Operation::RemoveNode {
                nodes: node.clone(),
                force: *force,
            },
        ),
        KubesprayCommand::Recover { common, limit } => (
            common,
            Operation::Recover {
                limit: limit.clone(),
            },
        ),
        KubesprayCommand::Validate(a) => return preflight(layout, a, ui),
        KubesprayCommand::Status(a) => return status(layout, a, ui),
    };
    let target = &args.target;
    let env = target.env.as_str();
    let prepared = match prepare(layout, target, ui)? {
        Ok(p) => p,
        Err(exit) => return Ok(exit),
    };
    let Prepared {
        ks,
        staged,
        shown_inventory,
        ..
    } = &prepared;
    let runtime = ks.runtime;
    // The version this run installs: the upgrade's own, else the config's (checked at
    // validation too, but a bundle can be generated past it).
    let kube_version = match &op {
        Operation::Upgrade { kube_version, .. } => Some((kube_version.as_str(), "--kube-version")),
        _ => ks
            .config
            .kube_version
            .as_deref()
            .map(|v| (v, "kubeVersion")),
    };
    if let Some((version, source)) = kube_version {
        let release = ks.config.version.as_str();
        let problem = strata_metadata::kube_version_problem(release, version).map(|p| {
            (
                p,
                "Kubespray asserts the form at its first task; nothing was run",
            )
        });
        let problem = problem.or_else(|| {
            match strata_metadata::kube_version_support(release, version) {
                KubeVersionSupport::Supported => None,
                KubeVersionSupport::Unsupported(p) => Some((
                    p,
                    "Kubespray would fail on the nodes after changing them; pick a version in that range, or pin a Kubespray release that installs this one",
                )),
                KubeVersionSupport::Unknown(p) => {
                    ui.warning(
                        &format!("{source}: {p}"),
                        Some(&format!(
                            "check that the release lists it in `{KUBE_VERSION_SOURCE}` (`kubelet_checksums`)"
                        )),
                    );
                    None
                }
            }
        });
        if let Some((problem, hint)) = problem {
            ui.error(&format!("{source}: {problem}"), Some(hint));
            ui.json(&serde_json::json!({"ok": false, "error": problem, "hint": hint}));
            return Ok(Exit::Invalid);
        }
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
    let result = ks.run(&op, &extras, target.dry_run, Some(&log));
    // Kubespray writes admin.conf into the staged inventory, which the next staging replaces:
    // keep it with the environment, whether or not the run got to the end (a reset drops it).
    if !target.dry_run {
        let kept = shown(layout, &artifacts_dir(layout, env));
        match settle_artifacts(layout, env, &staged.dir, &op, result.is_ok()) {
            Ok(Artifacts::Kept) => ui.note(&format!(
                "kept Kubespray's artifacts (admin.conf) in {kept}"
            )),
            Ok(Artifacts::Dropped) => ui.note(&format!(
                "removed the kept artifacts of the reset cluster (admin.conf) from {kept}"
            )),
            Ok(Artifacts::None) => {}
            Err(e) => ui.warning(&report::chain(&e), None),
        }
    }
    let commands = match result {
        Ok(c) => c,
        Err(e) => {
            return Ok(fail(ui, env, &e, Some(&shown(layout, &log))));
        }
    };
    for cmd in &commands {
        if target.dry_run {
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
        if target.dry_run { "dry run" } else { "done" }
    ));
    ui.json(&serde_json::json!({
        "ok": true,
        "environment": env,
        "runtime": runtime_name(runtime),
        "inventory": {"dir": shown_inventory, "digest": staged.digest},
        "commands": commands.iter().map(ToString::to_string).collect::<Vec<_>>(),
    }));
    if logs.is_dir() {
        ui.note(&format!("log: {}", shown(layout, &log)));
    }
    Ok(Exit::Success)
}

/// Everything a run needs, checked: the bundle's Kubespray config, the inventory staged and
/// well-formed, the program, the key. Holds the staging lock until dropped.
struct Prepared {
    ks: KubesprayRun,
    staged: StagedInventory,
    shown_inventory: String,
    _staging: std::fs::File,
}

fn prepare(
    layout: &Layout,
    target: &TargetArgs,
    ui: &Ui,
) -> anyhow::Result<Result<Prepared, Exit>> {
    let (env, dry_run) = (target.env.as_str(), target.dry_run);
    let Some(bundle) = report::open_bundle(layout, env, ui)? else {
        return Ok(Err(Exit::Invalid));
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
            let e = KubesprayError::Config {
                path: config_path,
                message,
            };
            return Ok(Err(fail(ui, env, &e, None)));
        }
    };
    let runtime = match target.runtime {
        Some(RuntimeArg::Docker) => KubesprayRuntime::Docker,
        Some(RuntimeArg::Podman) => KubesprayRuntime::Podman,
        Some(RuntimeArg::Local) => KubesprayRuntime::Local,
        None => config.runtime,
    };

    // Every environment stages into the same folder: one run uses it at a time.
    let staging = match lock_staging(layout) {
        Ok(lock) => lock,
        Err(e) => return Ok(Err(fail(ui, env, &e, None))),
    };
    let staged = match stage_inventory(layout, &bundle) {
        Ok(s) => s,
        Err(e) => return Ok(Err(fail(ui, env, &e, None))),
    };
    let shown_inventory = shown(layout, &staged.dir);
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
    // The same checks validation makes, on what Kubespray will actually read.
    let diagnostics = check_staged(layout, &staged.dir);
    for d in &diagnostics {
        ui.diagnostic(d);
    }
    if diagnostics.iter().any(|d| d.severity == Severity::Error) {
        ui.json(&serde_json::json!({
            "ok": false,
            "error": "the staged inventory is not one Kubespray can use",
            "diagnostics": diagnostics.iter().map(crate::ui::diagnostic_json).collect::<Vec<_>>(),
        }));
        return Ok(Err(Exit::Invalid));
    }

    // The nodes Terraform recorded, when the infrastructure phases ran here: a host whose
    // address moved is the classic cause of a run that hangs on SSH for an hour.
    let outputs_path = layout.terraform_outputs(env, "nodes");
    if let Ok(text) = std::fs::read_to_string(&outputs_path) {
        let outputs: serde_json::Value = serde_json::from_str(&text).unwrap_or_default();
        if let Some(file) = inventory_file(&staged.dir)
            && let Ok(inventory) = read_inventory(&file)
        {
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
            if runtime == KubesprayRuntime::Local && !dry_run {
                let (_, version) = tool_version(&found, layout.root())?;
                let checkout = expand_home(config.kubespray_path.as_deref().unwrap_or_default());
                if let Err(e) =
                    check_ansible_version(&checkout, version.as_deref().unwrap_or_default())
                {
                    return Ok(Err(fail(ui, env, &e, None)));
                }
            }
            found.path
        }
        Err(ExecError::ToolNotFound { .. }) if dry_run => PathBuf::from(runtime_name(runtime)),
        Err(e) => return Err(e.into()),
    };
    let ks = KubesprayRun {
        runtime,
        program,
        root: layout.root().to_owned(),
        config,
        inventory: staged.dir.clone(),
        facts: facts_dir(layout, env),
    };
    if !dry_run && let Err(e) = check_private_key(&ks.key()) {
        return Ok(Err(fail(ui, env, &e, None)));
    }
    Ok(Ok(Prepared {
        ks,
        staged,
        shown_inventory,
        _staging: staging,
    }))
}

/// `kubespray validate`: the checks every run makes, then an Ansible ping of every host.
fn preflight(layout: &Layout, args: &TargetArgs, ui: &Ui) -> anyhow::Result<Exit> {
    let env = args.env.as_str();
    let prepared = match prepare(layout, args, ui)? {
        Ok(p) => p,
        Err(exit) => return Ok(exit),
    };
    let Prepared { ks, staged, .. } = &prepared;
    let Some(file) = inventory_file(&staged.dir) else {
        let e = KubesprayError::NoInventory {
            dir: staged.dir.clone(),
        };
        return Ok(fail(ui, env, &e, None));
    };
    let inventory = match read_inventory(&file) {
        Ok(i) => i,
        Err(d) => {
            ui.diagnostic(&d);
            return Ok(Exit::Invalid);
        }
    };
    if args.dry_run {
        ui.result(&format!("  {}", ks.ping_command()));
        ui.result("kubespray validate: dry run");
        ui.json(&serde_json::json!({
            "ok": true,
            "environment": env,
            "commands": [ks.ping_command().to_string()],
        }));
        return Ok(Exit::Success);
    }
    let log = layout
        .state_dir(env)
        .join("runs")
        .join(crate::runs::run_id())
        .join("kubespray-validate.log");
    let user = ks.config.ssh_user.clone();
    ui.note(&format!(
        "asking every host over SSH as `{user}` (Ansible ping, {CONNECT_TIMEOUT_SECS} s timeout)"
    ));
    let (_, answers) = match ks.ping(&inventory, Some(&log)) {
        Ok(a) => a,
        Err(e) => return Ok(fail(ui, env, &e, Some(&shown(layout, &log)))),
    };
    let width = answers.iter().map(|a| a.host.len()).max().unwrap_or(0);
    let addr_width = answers.iter().map(|a| a.address.len()).max().unwrap_or(0);
    for a in &answers {
        let result = match &a.reach {
            Reach::Answered => ui.ok("ok"),
            Reach::Unreachable(m) => format!("{}: {m}", ui.bad("unreachable")),
            Reach::Failed(m) => format!("{}: {m}", ui.bad("failed")),
            Reach::NoReport => format!("{}: Ansible reported nothing for it", ui.bad("no answer")),
        };
        ui.result(&format!(
            "  {:width$}  {:addr_width$}  {result}",
            a.host, a.address
        ));
    }
    let bad: Vec<_> = answers.iter().filter(|a| !a.ok()).collect();
    ui.json(&serde_json::json!({
        "ok": bad.is_empty(),
        "environment": env,
        "hosts": answers.iter().map(|a| serde_json::json!({
            "host": a.host,
            "address": a.address,
            "ok": a.ok(),
            "error": match &a.reach {
                Reach::Answered => None,
                Reach::Unreachable(m) | Reach::Failed(m) => Some(m.clone()),
                Reach::NoReport => Some("no answer".to_owned()),
            },
        })).collect::<Vec<_>>(),
    }));
    if bad.is_empty() {
        ui.result(&format!(
            "kubespray validate: {} over SSH as `{user}`",
            match answers.len() {
                1 => "the one host answers".to_owned(),
                n => format!("all {n} hosts answer"),
            }
        ));
        return Ok(Exit::Success);
    }
    let names = bad
        .iter()
        .map(|a| format!("{} ({})", a.host, a.address))
        .collect::<Vec<_>>()
        .join(", ");
    ui.error(
        &format!(
            "{} of {} {} over SSH: {names}",
            bad.len(),
            answers.len(),
            if bad.len() == 1 { "hosts does not answer" } else { "hosts do not answer" }
        ),
        Some(&format!(
            "check that the machines are up, that `{user}` can log in with `{}`, and that the addresses are current (`cargo xtask infra --env {env} --outputs`)",
            ks.config.ssh_private_key_path
        )),
    );
    Ok(Exit::Failed)
}

/// `kubespray status`: the API server's readiness and the nodes, through an explicit kubeconfig.
fn status(layout: &Layout, args: &StatusArgs, ui: &Ui) -> anyhow::Result<Exit> {
    let env = args.env.as_str();
    let kubeconfig = match find_kubeconfig(
        layout,
        env,
        args.kubeconfig.as_deref(),
        std::env::var_os("KUBECONFIG").as_deref(),
    ) {
        Ok(k) => k,
        Err(e) => return Ok(fail(ui, env, &e, None)),
    };
    let kubectl = find_tool(&TOOLS[4])?;
    ui.note(&format!(
        "kubeconfig: {} (from {})",
        shown(layout, &kubeconfig.path),
        kubeconfig.source
    ));
    let status = match cluster_status(&kubectl.path, &kubeconfig, layout.root()) {
        Ok(s) => s,
        Err(e) => return Ok(fail(ui, env, &e, None)),
    };
    ui.result(&format!("API server: {}", status.readyz));
    let width = status.nodes.iter().map(|n| n.name.len()).max().unwrap_or(0);
    for n in &status.nodes {
        ui.result(&format!(
            "  {:width$}  {}  {:13}  {}",
            n.name,
            if n.ready {
                ui.ok(&format!("{:8}", "Ready"))
            } else {
                ui.bad(&format!("{:8}", "NotReady"))
            },
            if n.roles.is_empty() {
                "<none>".to_owned()
            } else {
                n.roles.join(",")
            },
            n.version,
        ));
    }
    ui.json(&serde_json::json!({
        "ok": status.healthy(),
        "environment": env,
        "kubeconfig": shown(layout, &kubeconfig.path),
        "readyz": status.readyz,
        "nodes": status.nodes,
    }));
    if status.healthy() {
        ui.result(&format!(
            "cluster {env}: ready, {} {} Ready",
            status.nodes.len(),
            super::validate::plural(status.nodes.len(), "node")
        ));
        return Ok(Exit::Success);
    }
    let message = if status.nodes.is_empty() {
        "the API server answers but the cluster has no nodes".to_owned()
    } else {
        format!(
            "{} of {} {} Ready: {}",
            status.not_ready().len(),
            status.nodes.len(),
            if status.not_ready().len() == 1 {
                "nodes is not"
            } else {
                "nodes are not"
            },
            status
                .not_ready()
                .iter()
                .map(|n| n.name.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        )
    };
    ui.error(
        &message,
        Some("`kubectl describe node NAME` with the same kubeconfig shows why"),
    );
    Ok(Exit::Failed)
}

/// A path relative to the repository root when it is inside it.
fn shown(layout: &Layout, path: &std::path::Path) -> String {
    path.strip_prefix(layout.root())
        .unwrap_or(path)
        .display()
        .to_string()
}

fn runtime_name(runtime: KubesprayRuntime) -> &'static str {
    match runtime {
        KubesprayRuntime::Docker => "docker",
        KubesprayRuntime::Podman => "podman",
        KubesprayRuntime::Local => "ansible-playbook",
    }
}

fn fail(ui: &Ui, env: &str, err: &KubesprayError, log: Option<&str>) -> Exit {
    let (exit, hint) = match err {
        KubesprayError::KeyPermissions { path, .. } => (Exit::Invalid, Some(format!("run `chmod 600 {}`", path.display()))),
        KubesprayError::NotAPrivateKey { .. } => {
            (Exit::Invalid, Some("point `sshPrivateKeyPath` in the Kubespray config at the private key, not the `.pub` file".to_owned()))
        }
        KubesprayError::KeyMissing { .. } => (Exit::Invalid, Some("put the key there, or fix `sshPrivateKeyPath` in the package's Kubespray config".to_owned())),
        // ansible-core alone lacks the collections Kubespray needs (ansible.utils, …): the
        // checkout's own requirements bring both, at the versions the release was tested with.
        KubesprayError::AnsibleVersion { checkout, .. } => (
            Exit::Invalid,
            Some(format!("install the checkout's own requirements (`pip install -r {}`), or use the docker runtime, whose image brings its own", checkout.join("requirements.txt").display())),
        ),
        KubesprayError::NoInventory { .. } | KubesprayError::NoHosts { .. } => (
            Exit::Invalid,
            Some("Ansible would skip every play and exit 0; give the package's inventory a hosts.yaml that lists the cluster's hosts, then regenerate the bundle".to_owned()),
        ),
        KubesprayError::EvenEtcd { .. } => (
            Exit::Invalid,
            Some("use 1 member, or 3 or more; while adding or replacing a member, Kubespray's procedure runs `deploy --limit etcd,kube_control_plane -e ignore_assert_errors=yes`".to_owned()),
        ),
        KubesprayError::FirstNode { group, .. } => (
            Exit::Invalid,
            Some(format!("move it down the `{group}` list in the package's inventory, regenerate the bundle and run `cargo xtask kubespray upgrade` (or `deploy`) first, as Kubespray's procedure says; or pass `--force`")),
        ),
        KubesprayError::HandBack { source } => {
            report::show_tail(ui, source);
            (Exit::Failed, log.map(|l| format!("the full output is in {l}")))
        }
        KubesprayError::NoCheckout | KubesprayError::Config { .. } => (Exit::Invalid, None),
        KubesprayError::BundleModified { .. } => (
            Exit::Invalid,
            Some(format!("`cargo xtask bundle verify --env {env}` lists every change; regenerate the bundle from its package instead of editing it")),
        ),
        KubesprayError::KubeconfigMissing { .. } | KubesprayError::KubeconfigAmbiguous { .. } => (
            Exit::Invalid,
            Some("pass the cluster's kubeconfig with `--kubeconfig FILE`".to_owned()),
        ),
        KubesprayError::NoKubeconfig { .. } => (
            Exit::Invalid,
            Some(format!("Kubespray writes it on `cargo xtask kubespray deploy --env {env}` when the inventory sets `kubeconfig_localhost: true`; or pass `--kubeconfig FILE`")),
        ),
        KubesprayError::ClusterUnreachable { source, .. } => {
            report::show_tail(ui, source);
            (Exit::Failed, Some("check that the control plane is up and that its address in the kubeconfig is reachable from here".to_owned()))
        }
        KubesprayError::BadAnswer { .. } => (Exit::Failed, None),
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
