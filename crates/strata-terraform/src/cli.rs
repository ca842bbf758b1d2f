//! `TerraformCli`: the terraform (or tofu) command lines Strata runs, as data.

use std::path::{Path, PathBuf};

use strata_exec::{Command, FoundTool, tool_version};

use crate::TerraformError;

/// Builds the commands for one module of one environment. Every command runs from the
/// repository root with `-chdir=<module>`, non-interactively, with the environment's own
/// `TF_DATA_DIR`, so environments sharing a module never share `.terraform` data.
#[derive(Debug, Clone)]
pub struct TerraformCli {
    /// The terraform or tofu executable.
    pub program: PathBuf,
    /// The repository root (the working directory).
    pub root: PathBuf,
    /// The module folder, absolute.
    pub module_dir: PathBuf,
    /// `TF_DATA_DIR` for this environment and module, absolute.
    pub data_dir: PathBuf,
}

impl TerraformCli {
    fn base(&self, subcommand: &str) -> Command {
        Command::new(&self.program, &self.root)
            .arg(format!("-chdir={}", self.module_dir.display()))
            .arg(subcommand)
            .env("TF_IN_AUTOMATION", "1")
            .env("TF_INPUT", "0")
            .env("CHECKPOINT_DISABLE", "1")
            .env("TF_DATA_DIR", &self.data_dir)
    }

    /// `init`, pointing the backend at this environment's state with `-backend-config`.
    pub fn init(&self, backend_config: &[String]) -> Command {
        self.base("init")
            .args(["-input=false", "-no-color", "-reconfigure"])
            .args(
                backend_config
                    .iter()
                    .map(|c| format!("-backend-config={c}")),
            )
    }

    /// `plan -detailed-exitcode -out=PLAN`: exit 0 means no changes, 2 means changes.
    pub fn plan(&self, plan_file: &Path, lock_timeout: &str) -> Command {
        self.base("plan")
            .args(["-input=false", "-no-color", "-detailed-exitcode"])
            .arg(format!("-lock-timeout={lock_timeout}"))
            .arg(format!("-out={}", plan_file.display()))
    }

    /// `apply PLAN`: applies exactly the saved plan, without a prompt.
    pub fn apply(&self, plan_file: &Path, lock_timeout: &str) -> Command {
        self.base("apply")
            .args(["-input=false", "-no-color"])
            .arg(format!("-lock-timeout={lock_timeout}"))
            .arg(plan_file)
    }

    /// `show -json PLAN`: the saved plan as JSON, for its summary.
    pub fn show_json(&self, plan_file: &Path) -> Command {
        self.base("show")
            .args(["-json", "-no-color"])
            .arg(plan_file)
    }

    /// `destroy -auto-approve`: only ever run after the user confirmed with `--yes`.
    pub fn destroy(&self, lock_timeout: &str) -> Command {
        self.base("destroy")
            .args(["-input=false", "-no-color", "-auto-approve"])
            .arg(format!("-lock-timeout={lock_timeout}"))
    }

    /// `output -json`: `{name: {sensitive, type, value}}`.
    pub fn output_json(&self) -> Command {
        self.base("output").args(["-json", "-no-color"])
    }
}

/// Checks that the binary is recent enough for the modules: terraform >= 1.5, tofu >= 1.6.
pub fn check_version(found: &FoundTool, cwd: &Path) -> Result<String, TerraformError> {
    let program = found.path.display().to_string();
    let (line, version) = tool_version(found, cwd).map_err(|source| TerraformError::Command {
        step: "version",
        module: String::new(),
        source: Box::new(source),
    })?;
    let tofu = line.contains("OpenTofu") || found.path.file_name().is_some_and(|n| n == "tofu");
    let minimum = if tofu { (1, 6) } else { (1, 5) };
    let parsed = version.as_deref().map(|v| {
        let mut parts = v.split('.').map(|p| p.parse::<u64>().unwrap_or(0));
        (parts.next().unwrap_or(0), parts.next().unwrap_or(0))
    });
    match parsed {
        Some(v) if v >= minimum => Ok(line),
        _ => Err(TerraformError::TooOld {
            program,
            found: version.unwrap_or(line),
        }),
    }
}
