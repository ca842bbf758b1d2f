//! `cargo xtask platform deploy|template|diff`, `business deploy` and `graph`: the Helm layers.
//! strata-helm does the work; this renders its events and outcomes.

use std::path::Path;

use strata_config::Layout;
use strata_exec::Context;
use strata_helm::{
    BusinessRequest, DiffRequest, HelmError, HelmEvent, PlatformOutcome, PlatformRequest,
    ReleaseResult, TemplateRequest, deploy_business, deploy_platform, diff_platform, dot, mermaid,
    platform_config, template_platform,
};
use strata_metadata::output::{
    self, BusinessOutput, DiffOutput, GraphOutput, PlatformDeployOutput, ReleaseEntry,
    TemplateOutput,
};
use strata_metadata::{Notice, NoticeLevel};

use crate::Exit;
use crate::cli::{BusinessCommand, GraphArgs, GraphFormat, PlatformCommand, PlatformDeployArgs};
use crate::report;
use crate::ui::Ui;

pub(crate) fn run(layout: &Layout, cmd: &PlatformCommand, ui: &Ui) -> anyhow::Result<Exit> {
    match cmd {
        PlatformCommand::Deploy(args) => deploy(layout, args, ui),
        PlatformCommand::Template { env } => template(layout, env.as_str(), ui),
        PlatformCommand::Diff { env, kubeconfig } => {
            diff(layout, env.as_str(), kubeconfig.as_deref(), ui)
        }
    }
}

/// Shows a notice as it comes: information as a note, a warning with its hint.
pub(crate) fn notice(ui: &Ui, n: &Notice) {
    match n.level {
        NoticeLevel::Info => ui.note(&n.message),
        NoticeLevel::Warning => ui.warning(&n.message, n.hint.as_deref()),
    }
}

/// Shows the Helm layers' progress as it happens.
fn show_event(ui: &Ui, dry_run: bool, layout: &Layout, event: HelmEvent<'_>) {
    match event {
        HelmEvent::Notice(n) => notice(ui, n),
        HelmEvent::Dependencies { release } => {
            ui.note(&format!("[{release}] building the chart's dependencies"));
        }
        HelmEvent::Started { release } => ui.note(&format!("[{release}] deploying")),
        HelmEvent::Finished(o) => match &o.result {
            ReleaseResult::Done if !dry_run => ui.note(&format!("[{}] deployed", o.name)),
            ReleaseResult::Done => {}
            ReleaseResult::Failed(_) => ui.note(&format!("[{}] failed", o.name)),
            ReleaseResult::Skipped { failed } => ui.note(&format!(
                "[{}] skipped: it needs `{failed}`, which failed",
                o.name
            )),
        },
        HelmEvent::Diffed {
            release,
            diff: Some(diff),
        } => {
            ui.result(&format!("--- {release} would change:"));
            ui.result(diff);
        }
        HelmEvent::Diffed {
            release,
            diff: None,
        } => ui.note(&format!("{release}: no change")),
        HelmEvent::Rendered {
            release,
            result: Ok(dir),
        } => ui.result(&format!(
            "  {release}  rendered into {}",
            strata_util::shown(layout.root(), dir)
        )),
        HelmEvent::Rendered { result: Err(e), .. } => {
            if let Some(source) = e.failed_command() {
                report::show_tail(ui, source);
            }
            ui.error(&report::chain(e), e.hint().as_deref());
        }
    }
}

fn deploy(layout: &Layout, args: &PlatformDeployArgs, ui: &Ui) -> anyhow::Result<Exit> {
    let env = args.env.as_str();
    let Some(bundle) = report::open_bundle(layout, env, ui)? else {
        return Ok(Exit::Invalid);
    };
    let logs = crate::runs::log_dir(layout, env);
    let ctx = Context {
        dry_run: args.dry_run,
        logs: Some(&logs),
        ..Context::default()
    };
    let request = PlatformRequest {
        kubeconfig: args.kubeconfig.clone(),
        jobs: usize::from(args.jobs),
        skip_gate: args.skip_gate,
        ..PlatformRequest::default()
    };
    let outcome = match deploy_platform(layout, &bundle, &request, &ctx, &mut |e| {
        show_event(ui, args.dry_run, layout, e);
    }) {
        Ok(o) => o,
        Err(e) => return Ok(fail(ui, &e)),
    };
    if outcome.dry_run {
        for cmd in &outcome.commands {
            ui.result(&format!("  {cmd}"));
        }
        ui.result(&format!(
            "platform deploy: dry run, {} {}",
            outcome.releases.len(),
            super::validate::plural(outcome.releases.len(), "release")
        ));
        ui.json(&PlatformDeployOutput {
            ok: true,
            environment: env.to_owned(),
            dry_run: true,
            releases: None,
        });
        return Ok(Exit::Success);
    }
    Ok(summarize(layout, ui, env, "platform deploy", &outcome))
}

/// Prints the result table and the failures; the exit code.
fn summarize(layout: &Layout, ui: &Ui, env: &str, what: &str, outcome: &PlatformOutcome) -> Exit {
    let width = outcome
        .releases
        .iter()
        .map(|o| o.name.len())
        .max()
        .unwrap_or(0);
    ui.note("");
    let mut json = Vec::new();
    for o in &outcome.releases {
        let (result, note) = match &o.result {
            ReleaseResult::Done => (ui.ok("done   "), String::new()),
            ReleaseResult::Failed(_) => (
                ui.bad("FAILED "),
                outcome
                    .logs
                    .get(&o.name)
                    .map(|l| format!("log: {}", strata_util::shown(layout.root(), l)))
                    .unwrap_or_default(),
            ),
            ReleaseResult::Skipped { failed } => {
                (ui.bad("skipped"), format!("needs `{failed}`, which failed"))
            }
        };
        ui.result(&format!(
            "  {:width$}  {result}  {:>6.1}s  {note}",
            o.name,
            o.took.as_secs_f64()
        ));
        json.push(ReleaseEntry {
            release: o.name.clone(),
            result: match &o.result {
                ReleaseResult::Done => output::ReleaseResult::Done,
                ReleaseResult::Failed(_) => output::ReleaseResult::Failed,
                ReleaseResult::Skipped { .. } => output::ReleaseResult::Skipped,
            },
            seconds: o.took.as_secs_f64(),
            error: match &o.result {
                ReleaseResult::Failed(e) => Some(report::chain(e)),
                _ => None,
            },
        });
    }
    for (_, e) in outcome.errors() {
        if let Some(source) = e.failed_command() {
            report::show_tail(ui, source);
        }
        ui.error(&report::chain(e), None);
    }
    ui.json(&PlatformDeployOutput {
        ok: !outcome.failed(),
        environment: env.to_owned(),
        dry_run: false,
        releases: Some(json),
    });
    match outcome.error_kind() {
        None => {
            ui.result(&format!(
                "{what}: {} {} done",
                outcome.releases.len(),
                super::validate::plural(outcome.releases.len(), "release")
            ));
            Exit::Success
        }
        Some(kind) => kind.exit(),
    }
}

fn template(layout: &Layout, env: &str, ui: &Ui) -> anyhow::Result<Exit> {
    let Some(bundle) = report::open_bundle(layout, env, ui)? else {
        return Ok(Exit::Invalid);
    };
    let logs = crate::runs::log_dir(layout, env);
    let ctx = Context {
        logs: Some(&logs),
        ..Context::default()
    };
    let outcome = match template_platform(
        layout,
        &bundle,
        &TemplateRequest::default(),
        &ctx,
        &mut |e| {
            show_event(ui, false, layout, e);
        },
    ) {
        Ok(o) => o,
        Err(e) => return Ok(fail(ui, &e)),
    };
    let dir = strata_util::shown(layout.root(), &outcome.dir);
    ui.json(&TemplateOutput {
        ok: !outcome.failed(),
        environment: env.to_owned(),
        dir: dir.clone(),
    });
    if outcome.failed() {
        return Ok(Exit::Failed);
    }
    ui.result(&format!(
        "platform template: {} {} rendered into {dir}",
        outcome.releases.len(),
        super::validate::plural(outcome.releases.len(), "release"),
    ));
    Ok(Exit::Success)
}

fn diff(layout: &Layout, env: &str, explicit: Option<&Path>, ui: &Ui) -> anyhow::Result<Exit> {
    let Some(bundle) = report::open_bundle(layout, env, ui)? else {
        return Ok(Exit::Invalid);
    };
    let logs = crate::runs::log_dir(layout, env);
    let ctx = Context {
        logs: Some(&logs),
        ..Context::default()
    };
    let request = DiffRequest {
        kubeconfig: explicit.map(Path::to_owned),
        ..DiffRequest::default()
    };
    let outcome = match diff_platform(layout, &bundle, &request, &ctx, &mut |e| {
        show_event(ui, false, layout, e);
    }) {
        Ok(o) => o,
        Err(e) => return Ok(fail(ui, &e)),
    };
    let changed = outcome.changed();
    ui.json(&DiffOutput {
        ok: true,
        environment: env.to_owned(),
        changed: changed.iter().map(ToString::to_string).collect(),
    });
    if !outcome.has_changes() {
        ui.result("platform diff: nothing would change");
        Ok(Exit::Success)
    } else {
        ui.result(&format!(
            "platform diff: {} would change: {}",
            changed.len(),
            changed.join(", ")
        ));
        // Not helm-diff's 2: Strata's 2 is invalid input, and a plan that found changes must
        // never look like one that could not be made.
        Ok(Exit::Changes)
    }
}

pub(crate) fn business(layout: &Layout, cmd: &BusinessCommand, ui: &Ui) -> anyhow::Result<Exit> {
    let BusinessCommand::Deploy {
        env,
        kubeconfig,
        dry_run,
    } = cmd;
    let env = env.as_str();
    let Some(bundle) = report::open_bundle(layout, env, ui)? else {
        return Ok(Exit::Invalid);
    };
    let logs = crate::runs::log_dir(layout, env);
    let ctx = Context {
        dry_run: *dry_run,
        logs: Some(&logs),
        ..Context::default()
    };
    let request = BusinessRequest {
        kubeconfig: kubeconfig.clone(),
        ..BusinessRequest::default()
    };
    let outcome = match deploy_business(layout, &bundle, &request, &ctx, &mut |e| {
        show_event(ui, *dry_run, layout, e);
    }) {
        Ok(o) => o,
        Err(e) => return Ok(fail(ui, &e)),
    };
    if outcome.dry_run {
        ui.result(&format!("  {}", outcome.command));
        ui.result("business deploy: dry run");
        ui.json(&BusinessOutput {
            ok: true,
            environment: env.to_owned(),
            commands: Some(vec![outcome.command.clone()]),
        });
        return Ok(Exit::Success);
    }
    ui.result(&format!(
        "business deploy: cluster-apps deployed to {} from {}",
        outcome.namespace,
        strata_util::shown(layout.root(), &outcome.values)
    ));
    ui.json(&BusinessOutput {
        ok: true,
        environment: env.to_owned(),
        commands: None,
    });
    Ok(Exit::Success)
}

pub(crate) fn graph(layout: &Layout, args: &GraphArgs, ui: &Ui) -> anyhow::Result<Exit> {
    let Some(bundle) = report::open_bundle(layout, args.env.as_str(), ui)? else {
        return Ok(Exit::Invalid);
    };
    let config = match platform_config(&bundle) {
        Ok(c) => c,
        Err(e) => return Ok(fail(ui, &e)),
    };
    // The deploy phases, then the platform's releases.
    // One diagram, two subgraphs: the deploy phases, then the platform's releases.
    let body = |graph: String| -> String {
        graph
            .lines()
            .skip(1)
            .filter(|l| !l.trim().is_empty() && l.trim() != "}" && !l.contains("rankdir"))
            .map(|l| format!("  {l}\n"))
            .collect()
    };
    let text = match args.format {
        GraphFormat::Mermaid => format!(
            "flowchart LR\n  subgraph phases[\"deploy phases\"]\n{}  end\n  subgraph releases[\"platform releases\"]\n{}  end\n",
            body(strata_pipeline::mermaid()),
            body(mermaid(&config.releases))
        ),
        GraphFormat::Dot => format!(
            "digraph strata {{\n  rankdir=LR;\n  subgraph cluster_phases {{\n    label=\"deploy phases\";\n{}  }}\n  subgraph cluster_releases {{\n    label=\"platform releases\";\n{}  }}\n}}\n",
            body(strata_pipeline::dot()),
            body(dot(&config.releases))
        ),
    };
    ui.result(text.trim_end());
    ui.json(&GraphOutput {
        ok: true,
        environment: args.env.to_string(),
        graph: text,
    });
    Ok(Exit::Success)
}

/// Reports `err` (a failed command's last lines, the error, its hint, the JSON document); its
/// exit code, from its kind.
fn fail(ui: &Ui, err: &HelmError) -> Exit {
    if let Some(source) = err.failed_command() {
        report::show_tail(ui, source);
    }
    let message = report::chain(err);
    let hint = err.hint();
    report::error(ui, &message, hint.as_deref());
    err.kind().exit()
}
