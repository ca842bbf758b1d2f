//! `cargo xtask kubespray`: Kubespray's lifecycle playbooks for one environment.

use strata_config::Layout;
use strata_exec::Context;
use strata_kubespray::{
    Artifacts, CONNECT_TIMEOUT_SECS, Extras, KubesprayError, Operation, Reach, Session,
    SessionRequest, StatusOutcome, StatusRequest, artifacts_dir, runtime_name, staged_notice,
    status as kubespray_status,
};
use strata_metadata::KubesprayRuntime;
use strata_metadata::output::{
    HostAnswer, InventoryRef, KubesprayOutput, KubesprayStatusOutput, KubesprayValidateOutput,
    Refusal,
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
    let session = match prepare(layout, target, ui)? {
        Ok(s) => s,
        Err(exit) => return Ok(exit),
    };
    // Shown before the long run, not after it: `run` repeats the same check and returns these
    // notices first.
    let checked = match session.check(&op) {
        Ok(notices) => notices,
        Err(e) => return Ok(fail(ui, &e, None)),
    };
    report::notices(ui, &checked);
    let extras = Extras {
        extra_vars: args.extra_vars.clone(),
        tags: args.tags.clone(),
        skip_tags: args.skip_tags.clone(),
    };
    let logs = crate::runs::log_dir(layout, env);
    let log = strata_util::shown(layout.root(), &logs.join("kubespray.log"));
    let ctx = Context {
        dry_run: target.dry_run,
        logs: Some(&logs),
        ..Context::default()
    };
    let outcome = match session.run(&op, &extras, &ctx) {
        Ok(o) => o,
        Err(e) => {
            if let KubesprayError::Run { artifacts, .. } = &e {
                artifacts_note(ui, layout, env, *artifacts);
            }
            return Ok(fail(ui, &e, Some(&log)));
        }
    };
    report::notices(ui, &outcome.notices[checked.len()..]);
    artifacts_note(ui, layout, env, outcome.artifacts);
    for cmd in &outcome.commands {
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
    ui.json(&KubesprayOutput {
        ok: true,
        environment: env.to_owned(),
        runtime: runtime_name(session.kubespray.runtime).to_owned(),
        inventory: InventoryRef {
            dir: strata_util::shown(layout.root(), &session.staged.dir),
            digest: session.staged.digest.clone(),
        },
        commands: outcome.commands.iter().map(ToString::to_string).collect(),
    });
    if logs.is_dir() {
        ui.note(&format!("log: {log}"));
    }
    Ok(Exit::Success)
}

/// What became of Kubespray's artifacts, as a note.
fn artifacts_note(ui: &Ui, layout: &Layout, env: &str, artifacts: Artifacts) {
    let kept = strata_util::shown(layout.root(), &artifacts_dir(layout, env));
    match artifacts {
        Artifacts::Kept => ui.note(&format!(
            "kept Kubespray's artifacts (admin.conf) in {kept}"
        )),
        Artifacts::Dropped => ui.note(&format!(
            "removed the kept artifacts of the reset cluster (admin.conf) from {kept}"
        )),
        Artifacts::None => {}
    }
}

/// Opens the bundle and prepares the session, rendering what preparing found; the exit code
/// when that failed (the reason printed).
fn prepare(layout: &Layout, target: &TargetArgs, ui: &Ui) -> anyhow::Result<Result<Session, Exit>> {
    let env = target.env.as_str();
    let Some(bundle) = report::open_bundle(layout, env, ui)? else {
        return Ok(Err(Exit::Invalid));
    };
    let request = SessionRequest {
        runtime: target.runtime.map(|r| match r {
            RuntimeArg::Docker => KubesprayRuntime::Docker,
            RuntimeArg::Podman => KubesprayRuntime::Podman,
            RuntimeArg::Local => KubesprayRuntime::Local,
        }),
        program: None,
    };
    let ctx = Context {
        dry_run: target.dry_run,
        ..Context::default()
    };
    match Session::prepare(layout, &bundle, &request, &ctx) {
        Ok(session) => {
            report::notices(ui, &session.notices);
            Ok(Ok(session))
        }
        Err(KubesprayError::StagedInvalid {
            staged,
            diagnostics,
        }) => {
            report::notices(ui, &[staged_notice(layout, env, &staged)]);
            for d in &diagnostics {
                ui.diagnostic(d);
            }
            ui.json(&Refusal {
                error: Some("the staged inventory is not one Kubespray can use".to_owned()),
                ..crate::ui::refusal(&diagnostics)
            });
            Ok(Err(Exit::Invalid))
        }
        Err(e) => Ok(Err(fail(ui, &e, None))),
    }
}

/// `kubespray validate`: the checks every run makes, then an Ansible ping of every host.
fn preflight(layout: &Layout, args: &TargetArgs, ui: &Ui) -> anyhow::Result<Exit> {
    let env = args.env.as_str();
    let session = match prepare(layout, args, ui)? {
        Ok(s) => s,
        Err(exit) => return Ok(exit),
    };
    let logs = crate::runs::log_dir(layout, env);
    let ctx = Context {
        dry_run: args.dry_run,
        logs: Some(&logs),
        ..Context::default()
    };
    let user = session.kubespray.config.ssh_user.clone();
    if !args.dry_run {
        ui.note(&format!(
            "asking every host over SSH as `{user}` (Ansible ping, {CONNECT_TIMEOUT_SECS} s timeout)"
        ));
    }
    let outcome = match session.validate(&ctx) {
        Ok(o) => o,
        Err(KubesprayError::Inventory { diagnostic }) => {
            ui.diagnostic(&diagnostic);
            ui.json(&crate::ui::refusal(std::slice::from_ref(&diagnostic)));
            return Ok(Exit::Invalid);
        }
        Err(e) => {
            let log = strata_util::shown(layout.root(), &logs.join("kubespray-validate.log"));
            return Ok(fail(ui, &e, Some(&log)));
        }
    };
    if args.dry_run {
        ui.result(&format!("  {}", outcome.command));
        ui.result("kubespray validate: dry run");
        ui.json(&KubesprayValidateOutput {
            ok: true,
            environment: env.to_owned(),
            commands: Some(vec![outcome.command.to_string()]),
            hosts: None,
        });
        return Ok(Exit::Success);
    }
    let answers = &outcome.hosts;
    let width = answers.iter().map(|a| a.host.len()).max().unwrap_or(0);
    let addr_width = answers.iter().map(|a| a.address.len()).max().unwrap_or(0);
    for a in answers {
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
    let bad = outcome.unreachable();
    ui.json(&KubesprayValidateOutput {
        ok: bad.is_empty(),
        environment: env.to_owned(),
        commands: None,
        hosts: Some(
            answers
                .iter()
                .map(|a| HostAnswer {
                    host: a.host.clone(),
                    address: a.address.clone(),
                    ok: a.ok(),
                    error: match &a.reach {
                        Reach::Answered => None,
                        Reach::Unreachable(m) | Reach::Failed(m) => Some(m.clone()),
                        Reach::NoReport => Some("no answer".to_owned()),
                    },
                })
                .collect(),
        ),
    });
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
            session.kubespray.config.ssh_private_key_path
        )),
    );
    Ok(Exit::Failed)
}

/// `kubespray status`: the API server's readiness and the nodes, through an explicit kubeconfig.
fn status(layout: &Layout, args: &StatusArgs, ui: &Ui) -> anyhow::Result<Exit> {
    let env = args.env.as_str();
    let request = StatusRequest {
        kubeconfig: args.kubeconfig.clone(),
    };
    let kubeconfig_note = |path: &std::path::Path, from: &str| {
        ui.note(&format!(
            "kubeconfig: {} (from {from})",
            strata_util::shown(layout.root(), path)
        ));
    };
    let StatusOutcome { kubeconfig, status } =
        match kubespray_status(layout, &args.env, &request, &Context::default()) {
            Ok(o) => o,
            Err(e) => {
                if let KubesprayError::ClusterUnreachable {
                    kubeconfig, from, ..
                } = &e
                {
                    kubeconfig_note(kubeconfig, from);
                }
                return Ok(fail(ui, &e, None));
            }
        };
    kubeconfig_note(&kubeconfig.path, kubeconfig.source);
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
    ui.json(&KubesprayStatusOutput {
        ok: status.healthy(),
        environment: env.to_owned(),
        kubeconfig: strata_util::shown(layout.root(), &kubeconfig.path),
        readyz: status.readyz.clone(),
        nodes: status.nodes.clone(),
    });
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

/// Renders a failure: the failed command's last lines, the error with its hint (else, for a
/// failed command, where its whole output is), and its JSON. Returns the error's exit code.
fn fail(ui: &Ui, err: &KubesprayError, log: Option<&str>) -> Exit {
    let tail = err.command_failure();
    if let Some(source) = tail {
        report::show_tail(ui, source);
    }
    let hint = err
        .hint()
        .or_else(|| tail.and(log).map(|l| format!("the full output is in {l}")));
    report::error(ui, &report::chain(err), hint.as_deref());
    err.kind().exit()
}
