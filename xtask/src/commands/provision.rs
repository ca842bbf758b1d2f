//! `cargo xtask provision`: build, list and publish the VM images of an environment's roles.

use std::io::{IsTerminal as _, Write as _};
use std::path::PathBuf;
use std::sync::Mutex;

use strata_config::Layout;
use strata_exec::{ExecError, FoundTool, TOOLS, find_tool, tool_version};
use strata_metadata::{Builder, FileKind, ProvisionerConfig, RoleImage};
use strata_provisioner::{
    ArtifactState, BuildContext, Event, Outcome, ProvisionError, PublishAuth, Tools, build_all,
    publish,
};

use crate::Exit;
use crate::cli::{ProvisionBuildArgs, ProvisionCommand};
use crate::report;
use crate::ui::Ui;

pub(crate) fn run(layout: &Layout, cmd: &ProvisionCommand, ui: &Ui) -> anyhow::Result<Exit> {
    match cmd {
        ProvisionCommand::Build(args) => build(layout, args, ui),
        ProvisionCommand::List { env } => list(layout, env.as_str(), ui),
        ProvisionCommand::Publish { env, role } => publish_role(layout, env.as_str(), role, ui),
    }
}

/// The bundle's provisioner config, or the exit after saying why there is none.
fn config(layout: &Layout, env: &str, ui: &Ui) -> anyhow::Result<Result<ProvisionerConfig, Exit>> {
    let Some(bundle) = report::open_bundle(layout, env, ui)? else {
        return Ok(Err(Exit::Invalid));
    };
    let path = bundle
        .path(FileKind::Provisioner)
        .unwrap_or_else(|| bundle.dir().join("provisioner.json"));
    match std::fs::read_to_string(&path)
        .map_err(|e| e.to_string())
        .and_then(|t| serde_json::from_str(&t).map_err(|e| e.to_string()))
    {
        Ok(c) => Ok(Ok(c)),
        Err(message) => Ok(Err(fail(
            ui,
            env,
            &ProvisionError::Config { path, message },
            None,
        ))),
    }
}

/// The context of a run: found tools (only those `roles` need, unless `best_effort`, which
/// finds what it can), the cache, the log folder and the build time.
fn context(
    layout: &Layout,
    env: &str,
    roles: &[(String, RoleImage)],
    best_effort: bool,
) -> Result<BuildContext, ExecError> {
    let needs = |b: Builder| roles.iter().any(|(_, r)| r.builder == b);
    let versioned = |found: FoundTool| -> Result<(FoundTool, Option<String>), ExecError> {
        let (_, version) = tool_version(&found, layout.root())?;
        Ok((found, version))
    };
    let want = |needed: bool, tool| -> Result<Option<FoundTool>, ExecError> {
        match find_tool(tool) {
            Ok(found) => Ok(Some(found)),
            Err(_) if best_effort || !needed => Ok(None),
            Err(e) => Err(e),
        }
    };
    let seeds = roles
        .iter()
        .any(|(_, r)| r.builder == Builder::QemuImg && r.cloud_init.is_some());
    let tools = Tools {
        qemu_img: want(needs(Builder::QemuImg), &TOOLS[5])?
            .map(versioned)
            .transpose()?,
        packer: want(needs(Builder::Packer), &TOOLS[6])?
            .map(versioned)
            .transpose()?,
        cloud_localds: want(seeds, &TOOLS[7])?,
        // Only needed for a base image given by URL that is not in the cache yet; the build
        // says so (NoCurl) when it needs curl and there is none.
        curl: find_tool(&TOOLS[8]).ok(),
    };
    let cache = std::env::var_os("STRATA_IMAGE_CACHE")
        .filter(|v| !v.is_empty())
        .map_or_else(|| layout.abs(".strata/cache/images"), PathBuf::from);
    let secs = strata_bundle::source_date_epoch()
        .ok()
        .flatten()
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_secs())
        });
    // Builders run in their temporary folders: every path they get must be absolute.
    let root = std::path::absolute(layout.root()).unwrap_or_else(|_| layout.root().to_owned());
    Ok(BuildContext {
        layout: Layout::new(root),
        env: env.to_owned(),
        tools,
        cache,
        log_dir: Some(
            layout
                .state_dir(env)
                .join("runs")
                .join(crate::runs::run_id()),
        ),
        built_at: strata_bundle::rfc3339(secs),
    })
}

fn build(layout: &Layout, args: &ProvisionBuildArgs, ui: &Ui) -> anyhow::Result<Exit> {
    let env = args.env.as_str();
    let config = match config(layout, env, ui)? {
        Ok(c) => c,
        Err(exit) => return Ok(exit),
    };
    let roles: Vec<(String, RoleImage)> = match &args.role {
        Some(role) => match config.roles.get(role) {
            Some(image) => vec![(role.clone(), image.clone())],
            None => {
                let e = ProvisionError::UnknownRole {
                    role: role.clone(),
                    env: env.to_owned(),
                    known: config.roles.keys().cloned().collect(),
                };
                return Ok(fail(ui, env, &e, None));
            }
        },
        None => config.roles.into_iter().collect(),
    };
    let ctx = match context(layout, env, &roles, false) {
        Ok(c) => c,
        Err(e) => {
            let hint = match &e {
                ExecError::ToolNotFound { tool, .. } if tool.contains("cloud-localds") => {
                    "install it with `apt-get install cloud-image-utils`; it writes the NoCloud seed of roles with `cloudInit`"
                }
                _ => "`cargo xtask doctor` lists what is found",
            };
            ui.error(&report::chain(&e), Some(hint));
            ui.json(&serde_json::json!({"ok": false, "error": report::chain(&e), "hint": hint}));
            return Ok(Exit::Invalid);
        }
    };
    let jobs = args.jobs.map_or_else(
        || std::thread::available_parallelism().map_or(1, usize::from),
        usize::from,
    );
    let width = roles.iter().map(|(r, _)| r.len()).max().unwrap_or(0);
    let meter = DownloadMeter::new(!ui.quiet && !ui.json && std::io::stderr().is_terminal());
    let events = |e: Event<'_>| match e {
        Event::Started { role } => meter.note(ui, &format!("[{role:width$}] started")),
        Event::Step { role, message } => meter.note(ui, &format!("[{role:width$}] {message}")),
        Event::Download {
            role,
            received,
            total,
        } => meter.update(ui, &format!("[{role:width$}]"), received, total),
    };
    let results = build_all(&ctx, &roles, jobs, args.force, &events);
    meter.finish();

    ui.note("");
    let mut failed = Vec::new();
    let mut json_roles = Vec::new();
    for r in &results {
        let took = format!("{:.1}s", r.took.as_secs_f64());
        match &r.outcome {
            Ok(Outcome::Built(rec) | Outcome::UpToDate(rec)) => {
                let what = if matches!(r.outcome, Ok(Outcome::Built(_))) {
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
                json_roles.push(serde_json::json!({
                    "role": r.role,
                    "result": if matches!(r.outcome, Ok(Outcome::Built(_))) { "built" } else { "up to date" },
                    "record": rec,
                }));
            }
            Err(e) => {
                ui.result(&format!(
                    "  {:width$}  {}  ({took})",
                    r.role,
                    ui.bad("FAILED    ")
                ));
                json_roles.push(serde_json::json!({
                    "role": r.role,
                    "result": "failed",
                    "error": report::chain(e),
                }));
                failed.push((r.role.as_str(), e));
            }
        }
    }
    let log_dir = ctx.log_dir.as_ref().expect("builds log");
    for (role, e) in &failed {
        let log = log_dir.join(format!("provision-{role}.log"));
        let shown = log.is_file().then(|| shown(layout, &log));
        fail_quiet(ui, env, e, shown.as_deref());
    }
    ui.json(&serde_json::json!({
        "ok": failed.is_empty(),
        "environment": env,
        "roles": json_roles,
    }));
    if failed.is_empty() {
        ui.result(&format!(
            "provision build: {} role{} ready",
            results.len(),
            if results.len() == 1 { "" } else { "s" }
        ));
        return Ok(Exit::Success);
    }
    Ok(if failed.iter().all(|(_, e)| e.is_invalid_input()) {
        Exit::Invalid
    } else {
        Exit::Failed
    })
}

fn list(layout: &Layout, env: &str, ui: &Ui) -> anyhow::Result<Exit> {
    let config = match config(layout, env, ui)? {
        Ok(c) => c,
        Err(exit) => return Ok(exit),
    };
    let roles: Vec<(String, RoleImage)> = config.roles.into_iter().collect();
    let ctx = context(layout, env, &roles, true)?;
    let width = roles.iter().map(|(r, _)| r.len()).max().unwrap_or(4).max(4);
    ui.result(&format!(
        "  {:width$}  {:8}  {:>9}  {:12}  remote",
        "role", "state", "size", "sha256"
    ));
    let mut json_roles = Vec::new();
    for (role, image) in &roles {
        let tool_known = match image.builder {
            Builder::QemuImg => ctx.tools.qemu_img.is_some(),
            Builder::Packer => ctx.tools.packer.is_some(),
            Builder::Command => true,
        };
        let state = match ctx.state(role, image, false) {
            Ok(s) => s,
            Err(e) => {
                ui.warning(&report::chain(&e), None);
                ArtifactState::Missing
            }
        };
        let (name, rec) = match &state {
            ArtifactState::Missing => ("missing", None),
            ArtifactState::Modified(r) => ("modified", Some(r)),
            // Without the builder its version is unknown, and so is whether the inputs changed.
            ArtifactState::Stale(r) if !tool_known => ("present", Some(r)),
            ArtifactState::Stale(r) => ("stale", Some(r)),
            ArtifactState::Current(r) => ("present", Some(r)),
        };
        let painted = match name {
            "present" => ui.ok(&format!("{name:8}")),
            _ => ui.bad(&format!("{name:8}")),
        };
        ui.result(&format!(
            "  {role:width$}  {painted}  {:>9}  {:12}  {}",
            rec.map_or("-".to_owned(), |r| human(r.file_size)),
            rec.map_or("-", |r| &r.sha256[..12]),
            rec.and_then(|r| r.remote.as_deref()).unwrap_or("-"),
        ));
        json_roles.push(serde_json::json!({"role": role, "state": name, "record": rec}));
    }
    ui.json(&serde_json::json!({"ok": true, "environment": env, "roles": json_roles}));
    Ok(Exit::Success)
}

fn publish_role(layout: &Layout, env: &str, role: &str, ui: &Ui) -> anyhow::Result<Exit> {
    let config = match config(layout, env, ui)? {
        Ok(c) => c,
        Err(exit) => return Ok(exit),
    };
    if !config.roles.contains_key(role) {
        let e = ProvisionError::UnknownRole {
            role: role.to_owned(),
            env: env.to_owned(),
            known: config.roles.keys().cloned().collect(),
        };
        return Ok(fail(ui, env, &e, None));
    }
    let Some(target) = config.publish else {
        return Ok(fail(
            ui,
            env,
            &ProvisionError::NoPublishTarget {
                env: env.to_owned(),
            },
            None,
        ));
    };
    let ctx = context(layout, env, &[], true)?;
    let curl = if target.uri.starts_with("http") {
        Some(find_tool(&TOOLS[8])?)
    } else {
        None
    };
    let var = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
    let auth = PublishAuth {
        token: var("STRATA_PUBLISH_TOKEN"),
        basic: var("STRATA_PUBLISH_USER")
            .map(|u| (u, var("STRATA_PUBLISH_PASSWORD").unwrap_or_default())),
    };
    ui.note(&format!("publishing {role} of {env} to {}", target.uri));
    match publish(&ctx, role, &target, curl.as_ref(), &auth) {
        Ok(record) => {
            let remote = record.remote.clone().unwrap_or_default();
            ui.result(&format!("provision publish: {role} -> {remote}"));
            ui.json(&serde_json::json!({"ok": true, "environment": env, "record": record}));
            Ok(Exit::Success)
        }
        Err(e) => {
            let log = ctx
                .log_dir
                .as_ref()
                .map(|d| d.join(format!("publish-{role}.log")))
                .filter(|l| l.is_file())
                .map(|l| shown(layout, &l));
            Ok(fail(ui, env, &e, log.as_deref()))
        }
    }
}

/// Reports `err` (error, hint, JSON) and returns its exit code.
fn fail(ui: &Ui, env: &str, err: &ProvisionError, log: Option<&str>) -> Exit {
    let (message, hint) = fail_quiet(ui, env, err, log);
    ui.json(&serde_json::json!({"ok": false, "error": message, "hint": hint}));
    if err.is_invalid_input() {
        Exit::Invalid
    } else {
        Exit::Failed
    }
}

/// Prints `err` and its hint (and a failed command's last lines), without the JSON document.
fn fail_quiet(
    ui: &Ui,
    env: &str,
    err: &ProvisionError,
    log: Option<&str>,
) -> (String, Option<String>) {
    let hint = match err {
        ProvisionError::UnknownRole { known, .. } => Some(format!(
            "the roles of `{env}` are: {}",
            known.join(", ")
        )),
        ProvisionError::BaseImageMissing { url: Some(_), .. } => Some(
            "it was downloaded but is gone again: run the build again (STRATA_IMAGE_CACHE moves the cache)"
                .to_owned(),
        ),
        ProvisionError::NoCurl { .. } => Some(
            "install curl (Debian: `apt-get install curl`), or point STRATA_CURL at it; `cargo xtask doctor` lists what is found"
                .to_owned(),
        ),
        ProvisionError::DownloadUnreachable { source, .. } => {
            report::show_tail(ui, source);
            Some("check the network; behind a proxy, set https_proxy (or http_proxy) and no_proxy, which curl reads".to_owned())
        }
        ProvisionError::DownloadFailed { source, .. } => {
            report::show_tail(ui, source);
            Some(match log {
                Some(l) => format!("run the build again to continue the download; curl's output is in {l}"),
                None => "run the build again to continue the download".to_owned(),
            })
        }
        ProvisionError::DownloadChecksum { .. } => Some(
            "the server sent another file than the one the config pins: check `baseImage.url` and `baseImage.sha256` in the package's provisioner config (an image that changes under one URL needs a dated release URL)"
                .to_owned(),
        ),
        ProvisionError::BaseImageMissing { url: None, .. } => Some(
            "put the image there, or fix `baseImage.path` in the package's provisioner config"
                .to_owned(),
        ),
        ProvisionError::BaseImageChecksum { .. } => Some(
            "this is not the image the config pins: fetch it again, or set `baseImage.sha256` to the new image's checksum if it is the one you want"
                .to_owned(),
        ),
        ProvisionError::DiskTooSmall { .. } => Some(
            "raise `diskSize` in the package's provisioner config to at least the base image's size"
                .to_owned(),
        ),
        ProvisionError::BadDiskSize { .. } => {
            Some("write a whole number with a unit, such as `40G` or `40960M`".to_owned())
        }
        ProvisionError::NotAPublicKey { private: true, .. } => Some(
            "put the public key (the line of the `.pub` file) in `sshAuthorizedKeys`, and treat the private key as leaked if it was committed"
                .to_owned(),
        ),
        ProvisionError::NotAPublicKey { .. } => Some(
            "`sshAuthorizedKeys` takes OpenSSH public key lines, such as `ssh-ed25519 AAAA… user@host`"
                .to_owned(),
        ),
        ProvisionError::NotBuilt { role, .. } => Some(format!(
            "build it first: `cargo xtask provision build --env {env} --role {role}`"
        )),
        ProvisionError::ArtifactModified { .. } => Some(format!(
            "the image changed after it was built; rebuild it with `cargo xtask provision build --env {env} --force`"
        )),
        ProvisionError::NoPublishTarget { .. } => Some(
            "add `\"publish\": {\"uri\": \"file:///srv/images\"}` (or an http(s) URL that accepts PUT) to the environment's provisioner config"
                .to_owned(),
        ),
        ProvisionError::Tool { source, .. } => {
            report::show_tail(ui, source);
            log.map(|l| format!("the full output is in {l}"))
        }
        _ => None,
    };
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

/// A path relative to the repository root when it is inside it.
fn shown(layout: &Layout, path: &std::path::Path) -> String {
    path.strip_prefix(layout.root())
        .unwrap_or(path)
        .display()
        .to_string()
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
