//! `cargo xtask provision`: build, list and publish the VM images of an environment's roles.
//! strata-provisioner does the work; this renders its events and outcomes.

use std::io::{IsTerminal as _, Write as _};
use std::sync::Mutex;

use strata_config::Layout;
use strata_exec::Context;
use strata_metadata::output::{
    BuildOutput, BuildResult, BuiltRole, Failure, ImageState, ListOutput, ListedRole, PublishOutput,
};
use strata_provisioner::{
    BuildRequest, Event, ListRequest, ListState, Outcome, ProvisionError, PublishAuth,
    PublishRequest, build, list, publish, publish_log,
};

use crate::Exit;
use crate::cli::{ProvisionBuildArgs, ProvisionCommand};
use crate::report;
use crate::ui::Ui;

pub(crate) fn run(layout: &Layout, cmd: &ProvisionCommand, ui: &Ui) -> anyhow::Result<Exit> {
    match cmd {
        ProvisionCommand::Build(args) => build_roles(layout, args, ui),
        ProvisionCommand::List { env } => list_roles(layout, env.as_str(), ui),
        ProvisionCommand::Publish { env, role } => publish_role(layout, env.as_str(), role, ui),
    }
}

fn build_roles(layout: &Layout, args: &ProvisionBuildArgs, ui: &Ui) -> anyhow::Result<Exit> {
    let env = args.env.as_str();
    let Some(bundle) = report::open_bundle(layout, env, ui)? else {
        return Ok(Exit::Invalid);
    };
    let logs = crate::runs::log_dir(layout, env);
    let ctx = Context {
        logs: Some(&logs),
        ..Context::default()
    };
    let request = BuildRequest {
        roles: args.role.clone().map(|r| vec![r]),
        force: args.force,
        jobs: args
            .jobs
            .map_or_else(strata_util::default_workers, usize::from),
        ..BuildRequest::default()
    };
    // The role column's width: the roles asked for, else every role of the environment.
    let width = match &args.role {
        Some(role) => role.len(),
        None => strata_provisioner::read_config(&bundle)
            .map(|c| c.roles.keys().map(String::len).max().unwrap_or(0))
            .unwrap_or(0),
    };
    let meter = DownloadMeter::new(!ui.quiet && !ui.json && std::io::stderr().is_terminal());
    let mut events = |e: Event<'_>| match e {
        Event::Started { role } => meter.note(ui, &format!("[{role:width$}] started")),
        Event::Step { role, message } => meter.note(ui, &format!("[{role:width$}] {message}")),
        Event::Download {
            role,
            received,
            total,
        } => meter.update(ui, &format!("[{role:width$}]"), received, total),
    };
    let outcome = match build(layout, &bundle, &request, &ctx, &mut events) {
        Ok(o) => o,
        Err(e) => return Ok(fail(ui, &e, None)),
    };
    meter.finish();

    ui.note("");
    let mut json_roles = Vec::new();
    for r in &outcome.results {
        let took = format!("{:.1}s", r.took.as_secs_f64());
        match &r.outcome {
            Ok(Outcome::Built(rec) | Outcome::UpToDate(rec)) => {
                let built = matches!(r.outcome, Ok(Outcome::Built(_)));
                let what = if built {
                    ui.ok("built     ")
                } else {
                    ui.ok("up to date")
                };
                ui.result(&format!(
                    "  {:width$}  {what}  {:>9}  {}  {}  ({took})",
                    r.role,
                    human(rec.file_size),
                    &rec.sha256[..12],
                    rec.path,
                ));
                json_roles.push(BuiltRole {
                    role: r.role.clone(),
                    result: if built {
                        BuildResult::Built
                    } else {
                        BuildResult::UpToDate
                    },
                    record: Some(rec.clone()),
                    error: None,
                });
            }
            Err(e) => {
                ui.result(&format!(
                    "  {:width$}  {}  ({took})",
                    r.role,
                    ui.bad("FAILED    ")
                ));
                json_roles.push(BuiltRole {
                    role: r.role.clone(),
                    result: BuildResult::Failed,
                    record: None,
                    error: Some(report::chain(e)),
                });
            }
        }
    }
    for r in &outcome.results {
        if let Err(e) = &r.outcome {
            let log = outcome
                .log(&r.role)
                .map(|l| strata_util::shown(layout.root(), &l));
            fail_quiet(ui, e, log.as_deref());
        }
    }
    ui.json(&BuildOutput {
        ok: !outcome.failed(),
        environment: env.to_owned(),
        roles: json_roles,
    });
    match outcome.error_kind() {
        None => {
            let n = outcome.results.len();
            ui.result(&format!(
                "provision build: {n} role{} ready",
                if n == 1 { "" } else { "s" }
            ));
            Ok(Exit::Success)
        }
        Some(kind) => Ok(kind.exit()),
    }
}

fn list_roles(layout: &Layout, env: &str, ui: &Ui) -> anyhow::Result<Exit> {
    let Some(bundle) = report::open_bundle(layout, env, ui)? else {
        return Ok(Exit::Invalid);
    };
    let outcome = match list(
        layout,
        &bundle,
        &ListRequest::default(),
        &Context::default(),
    ) {
        Ok(o) => o,
        Err(e) => return Ok(fail(ui, &e, None)),
    };
    for n in &outcome.notices {
        super::platform::notice(ui, n);
    }
    let width = outcome
        .roles
        .iter()
        .map(|r| r.role.len())
        .max()
        .unwrap_or(4)
        .max(4);
    ui.result(&format!(
        "  {:width$}  {:8}  {:>9}  {:12}  remote",
        "role", "state", "size", "sha256"
    ));
    let mut json_roles = Vec::new();
    for r in &outcome.roles {
        let name = r.state.name();
        let painted = match r.state {
            ListState::Present => ui.ok(&format!("{name:8}")),
            _ => ui.bad(&format!("{name:8}")),
        };
        let rec = r.record.as_ref();
        ui.result(&format!(
            "  {:width$}  {painted}  {:>9}  {:12}  {}",
            r.role,
            rec.map_or("-".to_owned(), |r| human(r.file_size)),
            rec.map_or("-", |r| &r.sha256[..12]),
            rec.and_then(|r| r.remote.as_deref()).unwrap_or("-"),
        ));
        json_roles.push(ListedRole {
            role: r.role.clone(),
            state: match r.state {
                ListState::Missing => ImageState::Missing,
                ListState::Modified => ImageState::Modified,
                ListState::Stale => ImageState::Stale,
                ListState::Present => ImageState::Present,
            },
            record: rec.cloned(),
        });
    }
    ui.json(&ListOutput {
        ok: true,
        environment: env.to_owned(),
        roles: json_roles,
    });
    Ok(Exit::Success)
}

fn publish_role(layout: &Layout, env: &str, role: &str, ui: &Ui) -> anyhow::Result<Exit> {
    let Some(bundle) = report::open_bundle(layout, env, ui)? else {
        return Ok(Exit::Invalid);
    };
    let logs = crate::runs::log_dir(layout, env);
    let ctx = Context {
        logs: Some(&logs),
        ..Context::default()
    };
    let request = PublishRequest {
        role: role.to_owned(),
        auth: PublishAuth::from_env(),
        ..PublishRequest::default()
    };
    match publish(layout, &bundle, &request, &ctx, &mut |n| {
        super::platform::notice(ui, n);
    }) {
        Ok(outcome) => {
            let remote = outcome.record.remote.clone().unwrap_or_default();
            ui.result(&format!("provision publish: {role} -> {remote}"));
            ui.json(&PublishOutput {
                ok: true,
                environment: env.to_owned(),
                record: outcome.record,
            });
            Ok(Exit::Success)
        }
        Err(e) => {
            let log = publish_log(&ctx, role).map(|l| strata_util::shown(layout.root(), &l));
            Ok(fail(ui, &e, log.as_deref()))
        }
    }
}

/// Reports `err` (error, hint, JSON) and returns its exit code.
fn fail(ui: &Ui, err: &ProvisionError, log: Option<&str>) -> Exit {
    let (message, hint) = fail_quiet(ui, err, log);
    ui.json(&Failure::new(message, hint.as_deref()));
    err.kind().exit()
}

/// Prints `err` and its hint (and a failed command's last lines), without the JSON document.
fn fail_quiet(ui: &Ui, err: &ProvisionError, log: Option<&str>) -> (String, Option<String>) {
    if let Some(source) = err.failed_command() {
        report::show_tail(ui, source);
    }
    let hint = err.hint(log.map(std::path::Path::new));
    let message = report::chain(err);
    ui.error(&message, hint.as_deref());
    (message, hint)
}

/// Renders base image downloads: on a terminal one line per download, rewritten in place; else
/// a plain line at every tenth of the way (every 64 MiB when the size is not known).
struct DownloadMeter {
    live: bool,
    /// On a terminal, whether a progress line is showing; else the last step printed per role.
    state: Mutex<(bool, std::collections::BTreeMap<String, u64>)>,
}

impl DownloadMeter {
    fn new(live: bool) -> Self {
        Self {
            live,
            state: Mutex::new((false, std::collections::BTreeMap::new())),
        }
    }

    /// A note, clearing the progress line first.
    fn note(&self, ui: &Ui, line: &str) {
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        if std::mem::take(&mut state.0) {
            let _ = write!(std::io::stderr(), "\r\x1b[2K");
        }
        ui.note(line);
    }

    fn update(&self, ui: &Ui, prefix: &str, received: u64, total: Option<u64>) {
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        if self.live {
            let _ = write!(
                std::io::stderr(),
                "\r\x1b[2K{prefix} downloading {}",
                download_text(received, total)
            );
            state.0 = true;
        } else {
            let step = download_step(received, total);
            let last = state.1.insert(prefix.to_owned(), step);
            if last.is_none_or(|l| l < step) && received > 0 {
                ui.note(&format!(
                    "{prefix} downloaded {}",
                    download_text(received, total)
                ));
            }
        }
    }

    fn finish(&self) {
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        if std::mem::take(&mut state.0) {
            let _ = writeln!(std::io::stderr());
        }
    }
}

/// `12.0 MiB of 48.0 MiB (25%)`, or `12.0 MiB` when the size is not known.
fn download_text(received: u64, total: Option<u64>) -> String {
    match total {
        Some(t) if t > 0 => format!(
            "{} of {} ({}%)",
            human(received),
            human(t),
            received.saturating_mul(100) / t
        ),
        _ => human(received),
    }
}

/// Which plain line a download has reached: tenths of the way, or 64 MiB blocks.
fn download_step(received: u64, total: Option<u64>) -> u64 {
    match total {
        Some(t) if t > 0 => received.saturating_mul(10) / t,
        _ => received >> 26,
    }
}

/// A size in binary units, such as `1.5 GiB`.
fn human(bytes: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut value = bytes as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit + 1 < UNITS.len() {
        value /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{bytes} B")
    } else {
        format!("{value:.1} {}", UNITS[unit])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_download_shows_its_share_and_plain_lines_come_every_tenth() {
        assert_eq!(
            download_text(12 << 20, Some(48 << 20)),
            "12.0 MiB of 48.0 MiB (25%)"
        );
        assert_eq!(download_text(512, None), "512 B");
        let steps: Vec<u64> = [0u64, 9, 10, 55, 99, 100]
            .iter()
            .map(|r| download_step(*r, Some(100)))
            .collect();
        assert_eq!(steps, [0, 0, 1, 5, 9, 10]);
        assert_eq!(download_step(3 << 26, None), 3);
    }
}
