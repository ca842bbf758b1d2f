//! `cargo xtask platform deploy|template|diff`, `business deploy` and `graph`: the Helm layers.

use std::path::{Path, PathBuf};
use std::sync::Mutex;

use strata_bundle::Bundle;
use strata_config::Layout;
use strata_exec::{Command, ExecError, RunOptions, TOOLS, find_tool, run as exec, tool_version};
use strata_helm::{
    DIFF_PLUGIN_URL, GraphEvent, Helm, HelmError, ReleasePlan, ReleaseResult, argocd_gate,
    argocd_namespace, dependency_builds, diff_plugin_install_args, dot, helm_major, mermaid, order,
    read_platform, run_graph, work_dir,
};
use strata_kubespray::{Kubeconfig, artifacts_dir, cluster_status, find_kubeconfig};
use strata_metadata::{FileKind, PlatformConfig, Release};

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

/// The bundle and its platform releases, checked for order; or the exit after saying why not.
fn platform(
    layout: &Layout,
    env: &str,
    ui: &Ui,
) -> anyhow::Result<Result<(Bundle, PlatformConfig), Exit>> {
    let Some(bundle) = report::open_bundle(layout, env, ui)? else {
        return Ok(Err(Exit::Invalid));
    };
    let path = bundle
        .path(FileKind::Platform)
        .unwrap_or_else(|| bundle.dir().join("platform.yaml"));
    let config = match read_platform(&path) {
        Ok(c) => c,
        Err(e) => return Ok(Err(fail(ui, &e, None))),
    };
    if let Err(e) = order(&config.releases) {
        return Ok(Err(fail(ui, &e, None)));
    }
    Ok(Ok((bundle, config)))
}

/// helm, with its major version; in a dry run a missing helm is shown by name as Helm 3.
fn helm(layout: &Layout, dry_run: bool, ui: &Ui) -> anyhow::Result<Helm> {
    match find_tool(&TOOLS[3]) {
        Ok(found) => {
            let (line, _) = tool_version(&found, layout.root())?;
            let major = helm_major(&line)?;
            Ok(Helm {
                program: found.path,
                major,
            })
        }
        Err(ExecError::ToolNotFound { .. }) if dry_run => {
            ui.note("helm is not installed here: showing the commands with Helm 3's flags");
            Ok(Helm {
                program: PathBuf::from("helm"),
                major: 3,
            })
        }
        Err(e) => Err(e.into()),
    }
}

/// The kubeconfig for `env` (see `kubespray status`), or in a dry run the path Kubespray's
/// would have.
fn kubeconfig(
    layout: &Layout,
    env: &str,
    explicit: Option<&Path>,
    dry_run: bool,
    ui: &Ui,
) -> Result<Kubeconfig, Exit> {
    match find_kubeconfig(
        layout,
        env,
        explicit,
        std::env::var_os("KUBECONFIG").as_deref(),
    ) {
        Ok(k) => {
            ui.note(&format!(
                "kubeconfig: {} (from {})",
                shown(layout, &k.path),
                k.source
            ));
            Ok(k)
        }
        Err(_) if dry_run => Ok(Kubeconfig {
            path: artifacts_dir(layout, env).join("admin.conf"),
            source: "Kubespray artifacts",
        }),
        Err(e) => {
            let message = report::chain(&e);
            let hint = format!(
                "deploy the cluster first (`cargo xtask kubespray deploy --env {env}` keeps its admin.conf), or pass `--kubeconfig FILE`"
            );
            ui.error(&message, Some(&hint));
            ui.json(&serde_json::json!({"ok": false, "error": message, "hint": hint}));
            Err(Exit::Invalid)
        }
    }
}

fn logs_dir(layout: &Layout, env: &str) -> PathBuf {
    layout
        .state_dir(env)
        .join("runs")
        .join(crate::runs::run_id())
}

/// Builds the dependencies of the local charts that need it (`helm dependency build`), one
/// after the other, before any release runs; in a dry run only shows the commands. `None`
/// when they are built; otherwise the exit after reporting the failure.
fn build_dependencies(
    layout: &Layout,
    plans: &[ReleasePlan],
    helm: &Helm,
    cwd: &Path,
    logs: &Path,
    dry_run: bool,
    ui: &Ui,
) -> Option<Exit> {
    let builds = match dependency_builds(plans, helm, cwd) {
        Ok(b) => b,
        Err(e) => return Some(fail(ui, &e, None)),
    };
    for (release, cmd) in builds {
        if dry_run {
            ui.result(&format!("  {cmd}"));
            continue;
        }
        ui.note(&format!("[{release}] building the chart's dependencies"));
        let log = logs.join(format!("dependencies-{release}.log"));
        let opts = RunOptions {
            log: Some(&log),
            tail_lines: 20,
            ..RunOptions::default()
        };
        if let Err(source) = exec(&cmd, &opts) {
            report::show_tail(ui, &source);
            let e = HelmError::Command {
                release,
                step: "helm dependency build",
                source: Box::new(source),
            };
            return Some(fail(ui, &e, Some(&shown(layout, &log))));
        }
    }
    None
}

fn deploy(layout: &Layout, args: &PlatformDeployArgs, ui: &Ui) -> anyhow::Result<Exit> {
    let env = args.env.as_str();
    let (_bundle, config) = match platform(layout, env, ui)? {
        Ok(p) => p,
        Err(exit) => return Ok(exit),
    };
    let kubeconfig = match kubeconfig(layout, env, args.kubeconfig.as_deref(), args.dry_run, ui) {
        Ok(k) => k,
        Err(exit) => return Ok(exit),
    };
    if args.dry_run {
        // Nothing reaches the cluster.
    } else if args.skip_gate {
        ui.warning(
            "not checking that the cluster answers (--skip-gate)",
            Some("a release then fails on its own, after its --timeout"),
        );
    } else if let Some(exit) = gate(layout, env, &kubeconfig, ui)? {
        return Ok(exit);
    }
    let helm = helm(layout, args.dry_run, ui)?;
    let values_dir = layout.state_dir(env).join("helm").join("values");
    let mut plans = Vec::new();
    for release in &config.releases {
        match ReleasePlan::new(layout, release, &values_dir) {
            Ok(p) => plans.push(p),
            Err(e) => return Ok(fail(ui, &e, None)),
        }
    }
    let logs = logs_dir(layout, env);
    let cwd = match work_dir(layout, env) {
        Ok(d) => d,
        Err(e) => return Ok(fail(ui, &e, None)),
    };
    if let Some(exit) = build_dependencies(layout, &plans, &helm, &cwd, &logs, args.dry_run, ui) {
        return Ok(exit);
    }
    let printed = Mutex::new(Vec::new());
    let step = |release: &Release| -> Result<(), HelmError> {
        let plan = plans
            .iter()
            .find(|p| p.release.name == release.name)
            .expect("a plan per release");
        let cmd = plan.upgrade(&helm, &cwd, &kubeconfig.path);
        if args.dry_run {
            printed.lock().expect("not poisoned").push(cmd.to_string());
            return Ok(());
        }
        let log = logs.join(format!("platform-{}.log", release.name));
        let opts = RunOptions {
            log: Some(&log),
            tail_lines: 20,
            ..RunOptions::default()
        };
        exec(&cmd, &opts)
            .map(|_| ())
            .map_err(|source| HelmError::Command {
                release: release.name.clone(),
                step: "helm upgrade --install",
                source: Box::new(source),
            })
    };
    let events = |e: GraphEvent<'_>| match e {
        GraphEvent::Started(r) if !args.dry_run => ui.note(&format!("[{r}] deploying")),
        GraphEvent::Finished(r, ok) if !args.dry_run => {
            ui.note(&format!("[{r}] {}", if ok { "deployed" } else { "failed" }))
        }
        GraphEvent::Skipped(r, failed) => {
            ui.note(&format!("[{r}] skipped: it needs `{failed}`, which failed"))
        }
        _ => {}
    };
    // A dry run prints in a stable order.
    let jobs = if args.dry_run {
        1
    } else {
        usize::from(args.jobs)
    };
    let outcomes = run_graph(&config.releases, jobs, step, &events)?;
    if args.dry_run {
        for cmd in printed.into_inner().expect("not poisoned") {
            ui.result(&format!("  {cmd}"));
        }
        ui.result(&format!(
            "platform deploy: dry run, {} {}",
            outcomes.len(),
            super::validate::plural(outcomes.len(), "release")
        ));
        ui.json(&serde_json::json!({"ok": true, "environment": env, "dryRun": true}));
        return Ok(Exit::Success);
    }
    summarize(layout, ui, env, "platform deploy", &outcomes, &logs)
}

/// Prints the result table and the failures; the exit code.
fn summarize(
    layout: &Layout,
    ui: &Ui,
    env: &str,
    what: &str,
    outcomes: &[strata_helm::ReleaseOutcome],
    logs: &Path,
) -> anyhow::Result<Exit> {
    let width = outcomes.iter().map(|o| o.name.len()).max().unwrap_or(0);
    ui.note("");
    let mut json = Vec::new();
    for o in outcomes {
        let (result, note) = match &o.result {
            ReleaseResult::Done => (ui.ok("done   "), String::new()),
            ReleaseResult::Failed(_) => (
                ui.bad("FAILED "),
                format!(
                    "log: {}",
                    shown(layout, &logs.join(format!("platform-{}.log", o.name)))
                ),
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
        json.push(serde_json::json!({
            "release": o.name,
            "result": match &o.result {
                ReleaseResult::Done => "done",
                ReleaseResult::Failed(_) => "failed",
                ReleaseResult::Skipped { .. } => "skipped",
            },
            "seconds": o.took.as_secs_f64(),
            "error": match &o.result {
                ReleaseResult::Failed(e) => Some(report::chain(e)),
                _ => None,
            },
        }));
    }
    let failed: Vec<&HelmError> = outcomes
        .iter()
        .filter_map(|o| match &o.result {
            ReleaseResult::Failed(e) => Some(e),
            _ => None,
        })
        .collect();
    for e in &failed {
        if let HelmError::Command { source, .. } = e {
            report::show_tail(ui, source);
        }
        ui.error(&report::chain(*e), None);
    }
    ui.json(&serde_json::json!({"ok": failed.is_empty(), "environment": env, "releases": json}));
    if failed.is_empty() {
        ui.result(&format!(
            "{what}: {} {} done",
            outcomes.len(),
            super::validate::plural(outcomes.len(), "release")
        ));
        return Ok(Exit::Success);
    }
    Ok(Exit::Failed)
}

/// The platform gate: the API server is ready and every node Ready (`kubespray status`).
fn gate(
    layout: &Layout,
    env: &str,
    kubeconfig: &Kubeconfig,
    ui: &Ui,
) -> anyhow::Result<Option<Exit>> {
    let kubectl = find_tool(&TOOLS[4])?;
    let hint = format!(
        "`cargo xtask kubespray status --env {env}` shows the cluster; `--skip-gate` deploys anyway"
    );
    match cluster_status(&kubectl.path, kubeconfig, layout.root()) {
        Ok(status) if status.healthy() => {
            ui.note(&format!(
                "gate: the cluster answers, {} {} Ready",
                status.nodes.len(),
                super::validate::plural(status.nodes.len(), "node")
            ));
            Ok(None)
        }
        Ok(status) => {
            let names: Vec<&str> = status.not_ready().iter().map(|n| n.name.as_str()).collect();
            let message = if names.is_empty() {
                "gate: the cluster has no nodes".to_owned()
            } else {
                format!("gate: nodes are not Ready: {}", names.join(", "))
            };
            ui.error(&message, Some(&hint));
            ui.json(&serde_json::json!({"ok": false, "error": message, "hint": hint}));
            Ok(Some(Exit::Failed))
        }
        Err(e) => {
            if let strata_kubespray::KubesprayError::ClusterUnreachable { source, .. } = &e {
                report::show_tail(ui, source);
            }
            let message = format!("gate: {}", report::chain(&e));
            ui.error(&message, Some(&hint));
            ui.json(&serde_json::json!({"ok": false, "error": message, "hint": hint}));
            Ok(Some(Exit::Failed))
        }
    }
}

fn template(layout: &Layout, env: &str, ui: &Ui) -> anyhow::Result<Exit> {
    let (_bundle, config) = match platform(layout, env, ui)? {
        Ok(p) => p,
        Err(exit) => return Ok(exit),
    };
    let helm = helm(layout, false, ui)?;
    let values_dir = layout.state_dir(env).join("helm").join("values");
    let rendered = layout.state_dir(env).join("rendered");
    let logs = logs_dir(layout, env);
    let cwd = match work_dir(layout, env) {
        Ok(d) => d,
        Err(e) => return Ok(fail(ui, &e, None)),
    };
    let mut plans = Vec::new();
    for release in order(&config.releases)? {
        match ReleasePlan::new(layout, release, &values_dir) {
            Ok(p) => plans.push(p),
            Err(e) => return Ok(fail(ui, &e, None)),
        }
    }
    if let Some(exit) = build_dependencies(layout, &plans, &helm, &cwd, &logs, false, ui) {
        return Ok(exit);
    }
    let mut failed = 0;
    for plan in &plans {
        let release = &plan.release;
        // Each release's folder holds exactly this render: nothing stale survives.
        let out = rendered.join(&release.name);
        let _ = std::fs::remove_dir_all(&out);
        std::fs::create_dir_all(&out)?;
        let cmd = plan.template(&helm, &cwd, &out);
        let log = logs.join(format!("template-{}.log", release.name));
        let opts = RunOptions {
            log: Some(&log),
            tail_lines: 20,
            ..RunOptions::default()
        };
        match exec(&cmd, &opts) {
            Ok(_) => ui.result(&format!(
                "  {}  rendered into {}",
                release.name,
                shown(layout, &out)
            )),
            Err(source) => {
                failed += 1;
                report::show_tail(ui, &source);
                let e = HelmError::Command {
                    release: release.name.clone(),
                    step: "helm template",
                    source: Box::new(source),
                };
                ui.error(
                    &report::chain(&e),
                    Some(&format!("the full output is in {}", shown(layout, &log))),
                );
            }
        }
    }
    ui.json(&serde_json::json!({"ok": failed == 0, "environment": env, "dir": shown(layout, &rendered)}));
    if failed > 0 {
        return Ok(Exit::Failed);
    }
    ui.result(&format!(
        "platform template: {} {} rendered into {}",
        config.releases.len(),
        super::validate::plural(config.releases.len(), "release"),
        shown(layout, &rendered)
    ));
    Ok(Exit::Success)
}

fn diff(layout: &Layout, env: &str, explicit: Option<&Path>, ui: &Ui) -> anyhow::Result<Exit> {
    let (_bundle, config) = match platform(layout, env, ui)? {
        Ok(p) => p,
        Err(exit) => return Ok(exit),
    };
    let helm = helm(layout, false, ui)?;
    let cwd = match work_dir(layout, env) {
        Ok(d) => d,
        Err(e) => return Ok(fail(ui, &e, None)),
    };
    let plugins = exec(
        &Command::new(&helm.program, &cwd).args(["plugin", "list"]),
        &RunOptions {
            capture_stdout: true,
            ..RunOptions::default()
        },
    )?;
    if !plugins
        .stdout
        .lines()
        .any(|l| l.split_whitespace().next() == Some("diff"))
    {
        return Ok(fail(
            ui,
            &HelmError::NoDiffPlugin { major: helm.major },
            None,
        ));
    }
    let kubeconfig = match kubeconfig(layout, env, explicit, false, ui) {
        Ok(k) => k,
        Err(exit) => return Ok(exit),
    };
    let values_dir = layout.state_dir(env).join("helm").join("values");
    let mut plans = Vec::new();
    for release in order(&config.releases)? {
        match ReleasePlan::new(layout, release, &values_dir) {
            Ok(p) => plans.push(p),
            Err(e) => return Ok(fail(ui, &e, None)),
        }
    }
    let logs = logs_dir(layout, env);
    if let Some(exit) = build_dependencies(layout, &plans, &helm, &cwd, &logs, false, ui) {
        return Ok(exit);
    }
    let mut changed = Vec::new();
    for plan in &plans {
        let release = &plan.release;
        let cmd = plan.diff(&helm, &cwd, &kubeconfig.path);
        let out = exec(
            &cmd,
            &RunOptions {
                capture_stdout: true,
                success_codes: &[0, 2],
                tail_lines: 20,
                ..RunOptions::default()
            },
        );
        match out {
            Ok(o) if o.code == 2 => {
                ui.result(&format!("--- {} would change:", release.name));
                ui.result(o.stdout.trim_end());
                changed.push(release.name.clone());
            }
            Ok(_) => ui.note(&format!("{}: no change", release.name)),
            Err(source) => {
                let e = HelmError::Command {
                    release: release.name.clone(),
                    step: "helm diff upgrade",
                    source: Box::new(source),
                };
                return Ok(fail(ui, &e, None));
            }
        }
    }
    ui.json(&serde_json::json!({"ok": true, "environment": env, "changed": changed}));
    if changed.is_empty() {
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
        kubeconfig: explicit,
        dry_run,
    } = cmd;
    let env = env.as_str();
    let Some(bundle) = report::open_bundle(layout, env, ui)? else {
        return Ok(Exit::Invalid);
    };
    let values = bundle
        .path(FileKind::Business)
        .unwrap_or_else(|| bundle.dir().join("business.yaml"));
    let kubeconfig = match kubeconfig(layout, env, explicit.as_deref(), *dry_run, ui) {
        Ok(k) => k,
        Err(exit) => return Ok(exit),
    };
    // ArgoCD reads Applications and AppProjects only from its own namespace: the one the
    // platform's argo-cd release installs it into. A bundle without a platform file (a
    // backfill of only some layers) leaves ArgoCD where its chart puts it by default.
    let platform_path = bundle.path(FileKind::Platform).filter(|p| p.is_file());
    let namespace = match platform_path.as_deref().map(read_platform) {
        Some(Ok(p)) => argocd_namespace(&p).to_owned(),
        Some(Err(e)) => return Ok(fail(ui, &e, None)),
        None => strata_helm::DEFAULT_ARGOCD_NAMESPACE.to_owned(),
    };
    let cwd = match work_dir(layout, env) {
        Ok(d) => d,
        Err(e) => return Ok(fail(ui, &e, None)),
    };
    if !dry_run {
        // The app-of-apps is only useful once ArgoCD (the platform's `argo-cd`) is there.
        let kubectl = find_tool(&TOOLS[4])?;
        if let Err(e) = argocd_gate(&kubectl.path, &kubeconfig.path, &cwd) {
            if let HelmError::ArgoCdRefused { source, .. }
            | HelmError::ClusterUnreachable { source, .. } = &e
            {
                report::show_tail(ui, source);
            }
            let message = report::chain(&e);
            let hint = match &e {
                HelmError::NoArgoCd => format!(
                    "deploy the platform first: `cargo xtask platform deploy --env {env}` installs ArgoCD"
                ),
                HelmError::ArgoCdRefused { .. } => "the kubeconfig's user needs the rights to read CustomResourceDefinitions and to manage Applications and AppProjects (the cluster-admin Kubespray's admin.conf has); pass another with `--kubeconfig FILE`".to_owned(),
                _ => format!(
                    "`cargo xtask kubespray status --env {env}` shows whether the cluster answers"
                ),
            };
            ui.error(&message, Some(&hint));
            ui.json(&serde_json::json!({"ok": false, "error": message, "hint": hint}));
            return Ok(Exit::Failed);
        }
        ui.note("gate: ArgoCD's Application CRD is installed");
    }
    let helm = helm(layout, *dry_run, ui)?;
    let release: Release = serde_json::from_value(serde_json::json!({
        "name": "cluster-apps",
        "namespace": namespace,
        "chart": "business/charts/cluster-apps",
        "valuesFiles": [values.display().to_string()],
    }))
    .expect("a valid release");
    let plan = match ReleasePlan::new(layout, &release, &layout.state_dir(env).join("helm")) {
        Ok(p) => p,
        Err(e) => return Ok(fail(ui, &e, None)),
    };
    let cmd = plan.upgrade(&helm, &cwd, &kubeconfig.path);
    if *dry_run {
        ui.result(&format!("  {cmd}"));
        ui.result("business deploy: dry run");
        ui.json(
            &serde_json::json!({"ok": true, "environment": env, "commands": [cmd.to_string()]}),
        );
        return Ok(Exit::Success);
    }
    let log = logs_dir(layout, env).join("business.log");
    let opts = RunOptions {
        log: Some(&log),
        tail_lines: 20,
        ..RunOptions::default()
    };
    match exec(&cmd, &opts) {
        Ok(_) => {
            ui.result(&format!(
                "business deploy: cluster-apps deployed to {namespace} from {}",
                shown(layout, &values)
            ));
            ui.json(&serde_json::json!({"ok": true, "environment": env}));
            Ok(Exit::Success)
        }
        Err(source) => {
            report::show_tail(ui, &source);
            let e = HelmError::Command {
                release: "cluster-apps".to_owned(),
                step: "helm upgrade --install",
                source: Box::new(source),
            };
            Ok(fail(ui, &e, Some(&shown(layout, &log))))
        }
    }
}

pub(crate) fn graph(layout: &Layout, args: &GraphArgs, ui: &Ui) -> anyhow::Result<Exit> {
    let (_bundle, config) = match platform(layout, args.env.as_str(), ui)? {
        Ok(p) => p,
        Err(exit) => return Ok(exit),
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
    ui.json(&serde_json::json!({"ok": true, "environment": args.env.as_str(), "graph": text}));
    Ok(Exit::Success)
}

/// Reports `err` with its hint; its exit code.
fn fail(ui: &Ui, err: &HelmError, log: Option<&str>) -> Exit {
    let hint = match err {
        HelmError::NoDiffPlugin { major } => {
            let command = format!("helm {}", diff_plugin_install_args(*major, DIFF_PLUGIN_URL).join(" "));
            Some(if *major >= 4 {
                format!("install it with `{command}`: Helm 4 verifies plugin signatures and refuses a git source, which it cannot verify, unless given `--verify=false` (Helm 3 has no such flag); Helm 4 needs helm-diff 3.14 or later")
            } else {
                format!("install it with `{command}`")
            })
        }
        HelmError::ValuesPathComma { .. } => Some(
            "helm splits each --values argument at commas; rename the file or folder (`cargo xtask validate` names the line for a package's valuesFiles)"
                .to_owned(),
        ),
        HelmError::ValuesFileMissing { .. } => Some(
            "`valuesFiles` are relative to the repository root; fix the path in the package's platform.yaml"
                .to_owned(),
        ),
        HelmError::Graph(_) => Some("`cargo xtask validate` names the release and line".to_owned()),
        _ => log.map(|l| format!("the full output is in {l}")),
    };
    let message = report::chain(err);
    ui.error(&message, hint.as_deref());
    ui.json(&serde_json::json!({"ok": false, "error": message, "hint": hint}));
    if err.is_invalid_input() {
        Exit::Invalid
    } else {
        Exit::Failed
    }
}

/// A path relative to the repository root when it is inside it.
fn shown(layout: &Layout, path: &Path) -> String {
    path.strip_prefix(layout.root())
        .unwrap_or(path)
        .display()
        .to_string()
}
