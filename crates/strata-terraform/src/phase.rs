//! One infrastructure module for one environment: stage, then init and the chosen action.

use std::path::{Path, PathBuf};

use sha2::{Digest as _, Sha256};
use strata_bundle::Bundle;
use strata_config::{DEFAULT_PLATFORM, Layout, module_rel, module_variables};
use strata_exec::{Command, Context, Output, RunOptions, run};
use strata_metadata::{
    ArtifactRecord, BackendSettings, FileKind, PlanCounts, ProvisionerConfig,
    TERRAFORM_BACKEND_FILE,
};
use tracing::instrument;

use crate::ssh::{SSH_MODULES, check_ssh};
use crate::stage::{StageOutcome, render, stage};
use crate::{BACKEND_OVERRIDE_FILE, LockInfo, STAGED_FILE, TerraformCli, TerraformError};

/// What to do with a module.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// Plan, and apply that plan when it has changes.
    Apply,
    /// Plan and keep the plan for a later `ApplyPlan`.
    Plan,
    /// Apply the plan `Plan` saved, refusing when the bundle or module changed since.
    ApplyPlan,
    /// Destroy everything the module manages (the caller confirmed).
    Destroy,
    /// Read the module's outputs.
    Outputs,
}

/// How to run a module.
#[derive(Debug, Clone)]
pub struct PhaseOptions<'a> {
    /// What to do.
    pub action: Action,
    /// Overwrite a hand-edited staged tfvars.
    pub force: bool,
    /// terraform's `-lock-timeout`.
    pub lock_timeout: &'a str,
    /// The run: a dry run stages the tfvars but only reports the terraform commands; output
    /// lines go to its hook, its interrupt stops terraform.
    pub ctx: Context<'a>,
    /// Where terraform's output is streamed.
    pub log: Option<&'a Path>,
}

/// How a module's run ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PhaseResult {
    /// Dry run: commands reported, nothing run.
    DryRun,
    /// The plan had no changes; nothing was applied.
    NoChanges,
    /// Changes were applied.
    Applied,
    /// A plan was saved for `--apply-plan`; what it would do, from `terraform show -json`.
    Planned(PlanCounts),
    /// Everything the module managed was destroyed.
    Destroyed,
    /// The module's outputs (`output -json`), also recorded under `.strata/<env>/terraform/`.
    Outputs(serde_json::Value),
}

/// What running a module did.
#[derive(Debug, Clone)]
pub struct PhaseReport {
    /// The module (`images`, `templates`, `nodes`).
    pub module: String,
    /// What staging the tfvars did.
    pub staged: StageOutcome,
    /// The terraform commands, in order (run, or reported in a dry run).
    pub commands: Vec<Command>,
    /// The outcome.
    pub result: PhaseResult,
    /// The outputs recorded after an apply (or read by `Outputs`), sensitive values dropped.
    pub outputs: Option<serde_json::Value>,
}

/// Where an environment keeps a module's Terraform files, under `.strata/<env>/`.
#[derive(Debug, Clone)]
pub struct StatePaths {
    /// The local backend's state file.
    pub state: PathBuf,
    /// `TF_DATA_DIR`.
    pub data_dir: PathBuf,
    /// The saved plan.
    pub plan: PathBuf,
    /// The digest of the inputs the saved plan was made from.
    pub plan_inputs: PathBuf,
    /// The module's last recorded outputs.
    pub outputs: PathBuf,
}

impl StatePaths {
    /// The paths of `module` in environment `env`.
    pub fn new(layout: &Layout, env: &str, module: &str) -> Self {
        let base = layout.state_dir(env).join("terraform");
        let plans = layout.state_dir(env).join("plans");
        Self {
            state: base.join(format!("{module}.tfstate")),
            data_dir: base.join(module),
            plan: plans.join(format!("{module}.tfplan")),
            plan_inputs: plans.join(format!("{module}.inputs")),
            outputs: layout.terraform_outputs(env, module),
        }
    }
}

/// The modules an action runs over, in order: images, templates, nodes, and the reverse for
/// `Destroy` (nodes are clones of the template, which is made from the image).
pub fn module_order(action: Action) -> Vec<&'static str> {
    let mut modules = strata_config::TERRAFORM_MODULES.to_vec();
    if action == Action::Destroy {
        modules.reverse();
    }
    modules
}

/// The package that qemu-guest-agent comes in; a role image whose cloud-init installs it runs
/// the agent.
const GUEST_AGENT_PACKAGE: &str = "qemu-guest-agent";

/// The values Strata supplies beyond the bundle's tfvars, for the modules that declare them
/// (`render` drops the rest):
///
/// - When the provisioner config's `publish.templateRole` names a role, its published image
///   replaces the cloud image: `cloud_image_url` becomes the image's HTTP(S) location,
///   `cloud_image_file_name` pins its content (`<env>-<role>-<sha256 prefix>.img`, so a new
///   image is a new file on the Proxmox nodes) and `cloud_image_sha256` is the image's digest;
///   `qemu_guest_agent` is `true` when the role's cloud-init installs the agent.
/// - Otherwise `cloud_image_sha256`, unless the tfvars set it, is the `sha256` of the
///   provisioner's base image with the same URL as `cloud_image_url`: the package knows the
///   digest once, and Proxmox checks the download against it.
pub fn staged_values(
    bundle: &Bundle,
    env: &str,
    tfvars: &hcl::Body,
) -> Result<Vec<(&'static str, hcl::Expression)>, TerraformError> {
    let config = read_provisioner(bundle)?;
    let template_role = config
        .as_ref()
        .and_then(|c| c.publish.as_ref())
        .and_then(|p| p.template_role.clone());
    if let Some(role) = template_role {
        let config = config
            .as_ref()
            .expect("a template role comes from a config");
        return published_image(bundle, env, &role, config);
    }
    if tfvars
        .attributes()
        .any(|a| a.key() == strata_config::IMAGE_CHECKSUM_VARIABLE)
    {
        return Ok(Vec::new());
    }
    let url = tfvars.attributes().find_map(|a| match a.expr() {
        hcl::Expression::String(s) if a.key() == "cloud_image_url" => Some(s.clone()),
        _ => None,
    });
    let known = url.as_deref().and_then(|url| {
        config.iter().flat_map(|c| c.roles.values()).find_map(|r| {
            r.base_image
                .as_ref()
                .filter(|b| b.url.as_deref() == Some(url))
                .map(|b| b.sha256.to_ascii_lowercase())
        })
    });
    Ok(match known {
        Some(sha256) => vec![(strata_config::IMAGE_CHECKSUM_VARIABLE, sha256.into())],
        None => Vec::new(),
    })
}

/// The overrides of a published template role image.
fn published_image(
    bundle: &Bundle,
    env: &str,
    role: &str,
    config: &ProvisionerConfig,
) -> Result<Vec<(&'static str, hcl::Expression)>, TerraformError> {
    let missing = |problem: &str| TerraformError::ImageNotPublished {
        env: env.to_owned(),
        role: role.to_owned(),
        problem: problem.to_owned(),
    };
    let record_path = bundle
        .dir()
        .join("provisioner")
        .join(format!("{role}.json"));
    let record: ArtifactRecord = match std::fs::read_to_string(&record_path) {
        Ok(t) => serde_json::from_str(&t).map_err(|e| TerraformError::Tfvars {
            path: record_path.clone(),
            message: e.to_string(),
        })?,
        Err(_) => return Err(missing("has not been built")),
    };
    let Some(remote) = record
        .remote
        .filter(|r| r.starts_with("http://") || r.starts_with("https://"))
    else {
        return Err(missing("has not been published to an http(s) target"));
    };
    let agent = config
        .roles
        .get(role)
        .and_then(|r| r.cloud_init.as_ref())
        .is_some_and(|ci| ci.packages.iter().any(|p| p == GUEST_AGENT_PACKAGE));
    let mut values: Vec<(&'static str, hcl::Expression)> = vec![
        ("cloud_image_url", remote.into()),
        (
            "cloud_image_file_name",
            format!(
                "{env}-{role}-{}.img",
                &record.sha256[..12.min(record.sha256.len())]
            )
            .into(),
        ),
        (
            strata_config::IMAGE_CHECKSUM_VARIABLE,
            record.sha256.to_ascii_lowercase().into(),
        ),
    ];
    if agent {
        values.push(("qemu_guest_agent", true.into()));
    }
    Ok(values)
}

/// The bundle's provisioner config, when it has one.
fn read_provisioner(bundle: &Bundle) -> Result<Option<ProvisionerConfig>, TerraformError> {
    let Some(path) = bundle.path(FileKind::Provisioner) else {
        return Ok(None);
    };
    let Ok(text) = std::fs::read_to_string(&path) else {
        return Ok(None);
    };
    serde_json::from_str(&text)
        .map(Some)
        .map_err(|e| TerraformError::Tfvars {
            path: path.clone(),
            message: e.to_string(),
        })
}

/// Stages the bundle's tfvars into `module`, initialises the environment's own state and runs
/// the action.
#[instrument(skip_all, fields(env = env, module = module))]
pub fn run_module(
    layout: &Layout,
    bundle: &Bundle,
    env: &str,
    module: &str,
    program: &Path,
    opts: &PhaseOptions<'_>,
) -> Result<PhaseReport, TerraformError> {
    let rel = module_rel(DEFAULT_PLATFORM, module);
    let dir = layout.abs(&rel);
    if !dir.is_dir() {
        return Err(TerraformError::ModuleMissing { dir: rel });
    }
    // Environments share the module folder (its staged tfvars and backend override): one run
    // uses it at a time, and the lock is held until this run's terraform is done with it.
    let _module_lock = lock_module(layout, module)?;
    let variables = module_variables(layout, &rel).map_err(|d| TerraformError::ModuleInvalid {
        dir: rel.clone(),
        message: d.first().map(ToString::to_string).unwrap_or_default(),
    })?;
    let tfvars_path = bundle
        .path(FileKind::Terraform)
        .unwrap_or_else(|| bundle.dir().join(FileKind::Terraform.bundle_name()));
    let tfvars = read(&tfvars_path)?;
    let source = strata_util::shown(layout.root(), &tfvars_path);
    let body = hcl::parse(&tfvars).map_err(|e| TerraformError::Tfvars {
        path: tfvars_path.clone(),
        message: e.to_string(),
    })?;
    let overrides = staged_values(bundle, env, &body)?;
    if variables.declares(strata_config::IMAGE_CHECKSUM_VARIABLE)
        && !body
            .attributes()
            .any(|a| a.key() == strata_config::IMAGE_CHECKSUM_VARIABLE)
        && !overrides
            .iter()
            .any(|(k, _)| *k == strata_config::IMAGE_CHECKSUM_VARIABLE)
    {
        return Err(TerraformError::NoImageChecksum {
            path: PathBuf::from(&source),
        });
    }
    let rendered = render(&tfvars, &source, &variables, &overrides)?;
    let paths = StatePaths::new(layout, env, module);
    let backend = read_backend(bundle)?;
    let backend_config: Vec<String> = match &backend {
        Some(b) => b
            .config
            .iter()
            .map(|(k, v)| format!("{k}={}", v.replace("{module}", module)))
            .collect(),
        None => vec![format!("path={}", paths.state.display())],
    };
    let inputs = inputs_digest(&dir, &rendered, &backend_config)?;
    let saved = if opts.action == Action::ApplyPlan && !opts.ctx.dry_run {
        Some(check_saved_plan(&paths, &inputs, module)?)
    } else {
        None
    };
    stage_backend(&dir, backend.as_ref())?;
    let staged = stage(&dir, &rendered, opts.force, opts.ctx.dry_run).map_err(|e| match e {
        TerraformError::HandEdited { .. } => TerraformError::HandEdited {
            path: rel.join(STAGED_FILE),
        },
        other => other,
    })?;

    let cli = TerraformCli {
        program: program.to_owned(),
        root: layout.root().to_owned(),
        module_dir: dir,
        data_dir: paths.data_dir.clone(),
    };
    let init = cli.init(&backend_config);
    let plan = cli.plan(&paths.plan, opts.lock_timeout);
    let apply = cli.apply(&paths.plan, opts.lock_timeout);
    let planned = match opts.action {
        Action::Apply => vec![init.clone(), plan.clone(), apply.clone()],
        Action::Plan => vec![init.clone(), plan.clone(), cli.show_json(&paths.plan)],
        Action::ApplyPlan => vec![init.clone(), apply.clone()],
        Action::Destroy => vec![init.clone(), cli.destroy(opts.lock_timeout)],
        Action::Outputs => vec![init.clone(), cli.output_json()],
    };
    let report = |commands: Vec<Command>, result| PhaseReport {
        module: module.to_owned(),
        staged,
        commands,
        result,
        outputs: None,
    };
    if opts.ctx.dry_run {
        return Ok(report(planned, PhaseResult::DryRun));
    }

    for dir in [
        &paths.data_dir,
        paths.plan.parent().unwrap_or(layout.root()),
    ] {
        std::fs::create_dir_all(dir).map_err(|source| io("create", dir, source))?;
    }
    let runner = Runner {
        module,
        ctx: &opts.ctx,
        log: opts.log,
    };
    let step =
        |name, cmd: &Command, success: &[i32], capture| runner.step(name, cmd, success, capture);
    step("init", &init, &[0], false)?;
    let mut recorded = None;
    let result = match opts.action {
        Action::Apply => {
            let has_changes = step("plan", &plan, &[0, 2], false)?.code == 2;
            restrict(&paths.plan)?;
            if !has_changes {
                remove_plan(&paths);
                return Ok(report(vec![init, plan], PhaseResult::NoChanges));
            }
            if let Err(e) = ssh_ready(module) {
                remove_plan(&paths);
                return Err(e);
            }
            step("apply", &apply, &[0], false)?;
            // A plan holds secrets in clear text; once applied it has no use. A failed apply
            // keeps it (mode 0600) for inspection.
            remove_plan(&paths);
            recorded = Some(record_outputs(&cli, &paths, &runner)?);
            PhaseResult::Applied
        }
        Action::Plan => {
            let has_changes = step("plan", &plan, &[0, 2], false)?.code == 2;
            restrict(&paths.plan)?;
            // The inputs are recorded either way: `--apply-plan` then knows that "no changes"
            // was the plan, rather than finding no plan at all.
            std::fs::write(&paths.plan_inputs, &inputs)
                .map_err(|source| io("write", &paths.plan_inputs, source))?;
            if !has_changes {
                let _ = std::fs::remove_file(&paths.plan);
                return Ok(report(vec![init, plan], PhaseResult::NoChanges));
            }
            let shown = step("show", &cli.show_json(&paths.plan), &[0], true)?;
            PhaseResult::Planned(summarize(&shown.stdout))
        }
        // The record of an empty plan stays: a rerun after a later module was refused still
        // finds it, and the inputs digest keeps it honest.
        Action::ApplyPlan if saved == Some(SavedPlan::NoChanges) => {
            return Ok(report(vec![init], PhaseResult::NoChanges));
        }
        Action::ApplyPlan => {
            ssh_ready(module)?;
            step("apply", &apply, &[0], false)?;
            remove_plan(&paths);
            recorded = Some(record_outputs(&cli, &paths, &runner)?);
            PhaseResult::Applied
        }
        Action::Destroy => {
            step("destroy", &cli.destroy(opts.lock_timeout), &[0], false)?;
            remove_plan(&paths);
            let _ = std::fs::remove_file(&paths.outputs);
            PhaseResult::Destroyed
        }
        Action::Outputs => {
            let outputs = record_outputs(&cli, &paths, &runner)?;
            recorded = Some(outputs.clone());
            PhaseResult::Outputs(outputs)
        }
    };
    Ok(PhaseReport {
        outputs: recorded,
        ..report(planned, result)
    })
}

/// Refuses to apply changes to a module that needs SSH on the Proxmox node when the provider
/// would find no SSH settings: the apply would create the VM and then fail at the disk import.
/// Checked only when there is something to apply, so an unchanged template needs no SSH.
fn ssh_ready(module: &str) -> Result<(), TerraformError> {
    if !SSH_MODULES.contains(&module) {
        return Ok(());
    }
    check_ssh(|name| std::env::var(name).ok()).map_err(|missing| TerraformError::SshMissing {
        module: module.to_owned(),
        missing,
    })
}

/// Runs one module's terraform commands, logging to one file.
struct Runner<'a> {
    module: &'a str,
    ctx: &'a Context<'a>,
    log: Option<&'a Path>,
}

impl Runner<'_> {
    fn step(
        &self,
        step: &'static str,
        cmd: &Command,
        success: &[i32],
        capture: bool,
    ) -> Result<Output, TerraformError> {
        let opts = RunOptions {
            success_codes: success,
            capture_stdout: capture,
            // Terraform explains a failure at length, and several failures at once run longer.
            tail_lines: 40,
            ..self.ctx.run_options(self.log)
        };
        run(cmd, &opts).map_err(|source| match LockInfo::from_failure(&source) {
            Some(lock) => TerraformError::StateLocked {
                module: self.module.to_owned(),
                lock: Box::new(lock),
                source: Box::new(source),
            },
            None => TerraformError::Command {
                step,
                module: self.module.to_owned(),
                source: Box::new(source),
            },
        })
    }
}

/// Reads `output -json` and records it for later phases; values marked sensitive are dropped.
fn record_outputs(
    cli: &TerraformCli,
    paths: &StatePaths,
    runner: &Runner<'_>,
) -> Result<serde_json::Value, TerraformError> {
    let out = runner.step("output", &cli.output_json(), &[0], true)?;
    let mut outputs: serde_json::Value =
        serde_json::from_str(&out.stdout).unwrap_or(serde_json::Value::Null);
    if let Some(map) = outputs.as_object_mut() {
        map.retain(|_, v| v.get("sensitive") != Some(&serde_json::Value::Bool(true)));
    }
    let text = serde_json::to_string_pretty(&outputs).expect("JSON values serialize") + "\n";
    std::fs::write(&paths.outputs, text).map_err(|source| io("write", &paths.outputs, source))?;
    Ok(outputs)
}

/// The bundle's Terraform backend, when the package declares one other than `local`.
fn read_backend(bundle: &Bundle) -> Result<Option<BackendSettings>, TerraformError> {
    let path = bundle.dir().join(TERRAFORM_BACKEND_FILE);
    if !path.is_file() {
        return Ok(None);
    }
    let text = read(&path)?;
    serde_json::from_str(&text)
        .map(Some)
        .map_err(|e| TerraformError::Tfvars {
            path,
            message: e.to_string(),
        })
}

/// Points the module at the backend: an override file declaring the remote backend's type
/// (Terraform lets an override file replace the `backend` block), or none for the local one.
fn stage_backend(
    module_dir: &Path,
    backend: Option<&BackendSettings>,
) -> Result<(), TerraformError> {
    let path = module_dir.join(BACKEND_OVERRIDE_FILE);
    match backend {
        Some(b) => {
            let content = format!(
                "# Written by Strata from the bundle's {TERRAFORM_BACKEND_FILE}; do not edit.\nterraform {{\n  backend \"{}\" {{}}\n}}\n",
                b.kind.name()
            );
            if std::fs::read_to_string(&path).ok().as_deref() != Some(content.as_str()) {
                std::fs::write(&path, content).map_err(|source| io("write", &path, source))?;
            }
        }
        None => match std::fs::remove_file(&path) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                return Err(io("remove", &path, e));
            }
            _ => {}
        },
    }
    Ok(())
}

/// What the saved plan was made from: the staged tfvars, the backend, and every file of the
/// module (but the files Strata itself stages there).
fn inputs_digest(
    module_dir: &Path,
    staged: &str,
    backend_config: &[String],
) -> Result<String, TerraformError> {
    let mut h = Sha256::new();
    h.update(staged.as_bytes());
    for line in backend_config {
        h.update(line.as_bytes());
        h.update([0]);
    }
    let mut files: Vec<PathBuf> = std::fs::read_dir(module_dir)
        .map_err(|source| io("read", module_dir, source))?
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| {
            p.is_file()
                && p.file_name().is_some_and(|n| {
                    n != STAGED_FILE
                        && n != BACKEND_OVERRIDE_FILE
                        && !n.to_string_lossy().starts_with('.')
                })
        })
        .collect();
    files.sort();
    for f in files {
        h.update(f.file_name().unwrap_or_default().as_encoded_bytes());
        h.update(read(&f)?.as_bytes());
    }
    Ok(h.finalize().iter().map(|b| format!("{b:02x}")).collect())
}

/// What `--plan` left for `--apply-plan`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum SavedPlan {
    /// A plan with changes.
    Changes,
    /// The plan found nothing to change.
    NoChanges,
}

fn check_saved_plan(
    paths: &StatePaths,
    inputs: &str,
    module: &str,
) -> Result<SavedPlan, TerraformError> {
    let stale = || TerraformError::PlanStale {
        module: module.to_owned(),
    };
    match std::fs::read_to_string(&paths.plan_inputs) {
        Err(_) => Err(TerraformError::NoSavedPlan {
            module: module.to_owned(),
        }),
        Ok(saved) if saved != inputs => Err(stale()),
        Ok(_) if paths.plan.is_file() => Ok(SavedPlan::Changes),
        Ok(_) => Ok(SavedPlan::NoChanges),
    }
}

/// Takes the module folder's lock under `.strata/modules/`, waiting while another run holds it.
fn lock_module(layout: &Layout, module: &str) -> Result<std::fs::File, TerraformError> {
    let path = layout.folder_lock(module);
    strata_util::lock_exclusive(&path).map_err(|source| io("lock", &path, source))
}

/// Counts what a plan does from `terraform show -json`.
fn summarize(show_json: &str) -> PlanCounts {
    let mut s = PlanCounts::default();
    let plan: serde_json::Value = serde_json::from_str(show_json).unwrap_or_default();
    for change in plan["resource_changes"].as_array().into_iter().flatten() {
        let actions: Vec<&str> = change["change"]["actions"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|a| a.as_str())
            .collect();
        s.add += usize::from(actions.contains(&"create"));
        s.change += usize::from(actions.contains(&"update"));
        s.destroy += usize::from(actions.contains(&"delete"));
    }
    s
}

fn remove_plan(paths: &StatePaths) {
    let _ = std::fs::remove_file(&paths.plan);
    let _ = std::fs::remove_file(&paths.plan_inputs);
}

/// Makes a plan file readable by its owner only.
fn restrict(plan: &Path) -> Result<(), TerraformError> {
    use std::os::unix::fs::PermissionsExt;
    match std::fs::set_permissions(plan, std::fs::Permissions::from_mode(0o600)) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(io("protect", plan, e)),
        _ => Ok(()),
    }
}

fn read(path: &Path) -> Result<String, TerraformError> {
    std::fs::read_to_string(path).map_err(|source| io("read", path, source))
}

fn io(action: &'static str, path: &Path, source: std::io::Error) -> TerraformError {
    TerraformError::Io {
        action,
        path: path.to_owned(),
        source,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plan_summary_counts_replacements_twice() {
        let json = r#"{"resource_changes":[
            {"change":{"actions":["create"]}},{"change":{"actions":["create"]}},
            {"change":{"actions":["update"]}},{"change":{"actions":["delete","create"]}},
            {"change":{"actions":["no-op"]}}]}"#;
        assert_eq!(
            summarize(json),
            PlanCounts {
                add: 3,
                change: 1,
                destroy: 1
            }
        );
    }
}
