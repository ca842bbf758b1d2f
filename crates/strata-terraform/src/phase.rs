//! One infrastructure module for one environment: stage, init, plan, apply.

use std::path::{Path, PathBuf};

use strata_bundle::Bundle;
use strata_config::{DEFAULT_PLATFORM, Layout, module_rel, module_variables};
use strata_exec::{Command, RunOptions, run};
use strata_metadata::FileKind;
use tracing::instrument;

use crate::stage::{StageOutcome, render, stage};
use crate::{TerraformCli, TerraformError};

/// How to run a module.
#[derive(Debug, Clone)]
pub struct PhaseOptions<'a> {
    /// Stage the tfvars, but only report the terraform commands.
    pub dry_run: bool,
    /// Overwrite a hand-edited staged tfvars.
    pub force: bool,
    /// terraform's `-lock-timeout`.
    pub lock_timeout: &'a str,
    /// Where terraform's output is streamed.
    pub log: Option<&'a Path>,
}

/// How a module's run ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PhaseResult {
    /// Dry run: commands reported, nothing run.
    DryRun,
    /// The plan had no changes; nothing was applied.
    NoChanges,
    /// The plan had changes and was applied.
    Applied,
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
}

/// Where an environment keeps a module's Terraform state, data and plans, under `.strata/<env>/`.
#[derive(Debug, Clone)]
pub struct StatePaths {
    /// The local backend's state file.
    pub state: PathBuf,
    /// `TF_DATA_DIR`.
    pub data_dir: PathBuf,
    /// The saved plan.
    pub plan: PathBuf,
}

impl StatePaths {
    /// The paths of `module` in environment `env`.
    pub fn new(layout: &Layout, env: &str, module: &str) -> Self {
        let base = layout.state_dir(env).join("terraform");
        Self {
            state: base.join(format!("{module}.tfstate")),
            data_dir: base.join(module),
            plan: layout
                .state_dir(env)
                .join("plans")
                .join(format!("{module}.tfplan")),
        }
    }
}

/// Stages the bundle's tfvars into `module` and runs init, plan and (when the plan has changes)
/// apply of that plan, with the environment's own state.
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
    let variables = module_variables(layout, &rel).map_err(|d| TerraformError::ModuleInvalid {
        dir: rel.clone(),
        message: d.first().map(ToString::to_string).unwrap_or_default(),
    })?;
    let tfvars_path = bundle
        .path(FileKind::Terraform)
        .unwrap_or_else(|| bundle.dir().join(FileKind::Terraform.bundle_name()));
    let tfvars = std::fs::read_to_string(&tfvars_path).map_err(|source| TerraformError::Io {
        action: "read",
        path: tfvars_path.clone(),
        source,
    })?;
    let source = tfvars_path
        .strip_prefix(layout.root())
        .unwrap_or(&tfvars_path)
        .display()
        .to_string();
    let staged =
        stage(&dir, &render(&tfvars, &source, &variables)?, opts.force).map_err(|e| match e {
            TerraformError::HandEdited { .. } => TerraformError::HandEdited {
                path: rel.join(crate::STAGED_FILE),
            },
            other => other,
        })?;

    let paths = StatePaths::new(layout, env, module);
    let cli = TerraformCli {
        program: program.to_owned(),
        root: layout.root().to_owned(),
        module_dir: dir,
        data_dir: paths.data_dir.clone(),
    };
    let init = cli.init(&[format!("path={}", paths.state.display())]);
    let plan = cli.plan(&paths.plan, opts.lock_timeout);
    let apply = cli.apply(&paths.plan, opts.lock_timeout);
    let report = |commands: Vec<Command>, result| PhaseReport {
        module: module.to_owned(),
        staged,
        commands,
        result,
    };
    if opts.dry_run {
        return Ok(report(vec![init, plan, apply], PhaseResult::DryRun));
    }

    for dir in [
        &paths.data_dir,
        paths.plan.parent().unwrap_or(layout.root()),
    ] {
        std::fs::create_dir_all(dir).map_err(|source| TerraformError::Io {
            action: "create",
            path: dir.to_owned(),
            source,
        })?;
    }
    let run_opts = RunOptions {
        log: opts.log,
        ..RunOptions::default()
    };
    let step = |step, cmd: &Command, success: &[i32]| {
        run(
            cmd,
            &RunOptions {
                success_codes: success,
                ..run_opts.clone()
            },
        )
        .map_err(|source| TerraformError::Command {
            step,
            module: module.to_owned(),
            source: Box::new(source),
        })
    };
    step("init", &init, &[0])?;
    let planned = step("plan", &plan, &[0, 2])?;
    restrict(&paths.plan)?;
    if planned.code == 0 {
        let _ = std::fs::remove_file(&paths.plan);
        return Ok(report(vec![init, plan], PhaseResult::NoChanges));
    }
    step("apply", &apply, &[0])?;
    // A plan holds secrets in clear text; once applied it has no use. A failed apply keeps it
    // (mode 0600) for inspection.
    let _ = std::fs::remove_file(&paths.plan);
    Ok(report(vec![init, plan, apply], PhaseResult::Applied))
}

/// Makes a plan file readable by its owner only.
fn restrict(plan: &Path) -> Result<(), TerraformError> {
    use std::os::unix::fs::PermissionsExt;
    match std::fs::set_permissions(plan, std::fs::Permissions::from_mode(0o600)) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(TerraformError::Io {
            action: "protect",
            path: plan.to_owned(),
            source: e,
        }),
        _ => Ok(()),
    }
}
