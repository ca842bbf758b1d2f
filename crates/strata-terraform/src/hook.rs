//! The `ansible` phase: a team's own post-provisioning playbook, the old deploy.sh hook.

use std::path::Path;

use strata_bundle::Bundle;
use strata_config::Layout;
use strata_exec::{Command, Context, RunOptions, expand_home, run};
use strata_metadata::{FileKind, KubesprayConfig};

use crate::TerraformError;

/// The playbook the hook runs, relative to the repository root; the phase is skipped without it.
pub const ANSIBLE_HOOK: &str = "infrastructure/ansible/playbook.yml";

/// What the hook did.
#[derive(Debug, Clone)]
pub enum HookOutcome {
    /// There is no playbook: nothing to do.
    Skipped,
    /// Dry run: the command that would run.
    DryRun(Command),
    /// The playbook ran on every host.
    Ran(Command),
}

/// Runs the hook playbook against the bundle's inventory, as the SSH user and with the key the
/// bundle's Kubespray config names.
pub fn ansible_hook(
    layout: &Layout,
    bundle: &Bundle,
    env: &str,
    program: &Path,
    ctx: &Context<'_>,
    log: Option<&Path>,
) -> Result<HookOutcome, TerraformError> {
    let playbook = layout.abs(ANSIBLE_HOOK);
    if !playbook.is_file() {
        return Ok(HookOutcome::Skipped);
    }
    let config_path = bundle
        .path(FileKind::KubesprayConfig)
        .unwrap_or_else(|| bundle.dir().join("kubesprayConfig.json"));
    let text = std::fs::read_to_string(&config_path).map_err(|source| TerraformError::Io {
        action: "read",
        path: config_path.clone(),
        source,
    })?;
    let config: KubesprayConfig =
        serde_json::from_str(&text).map_err(|e| TerraformError::Tfvars {
            path: config_path,
            message: e.to_string(),
        })?;
    let key = expand_home(&config.ssh_private_key_path);
    let inventory = bundle
        .path(FileKind::KubesprayInventory)
        .unwrap_or_else(|| bundle.dir().join("kubespray"))
        .join("hosts.yaml");
    let cmd = Command::new(program, layout.root())
        .args([
            "-i",
            &inventory.display().to_string(),
            &playbook.display().to_string(),
        ])
        .args([
            "-u",
            &config.ssh_user,
            "--private-key",
            &key.display().to_string(),
        ])
        .arg("-e")
        .arg(format!("strata_env={env}"))
        // Fresh VMs from the template have host keys no one has seen yet; Kubespray's own
        // image runs with the same setting.
        .env("ANSIBLE_HOST_KEY_CHECKING", "False")
        .env("ANSIBLE_NOCOLOR", "1")
        .env("ANSIBLE_RETRY_FILES_ENABLED", "False")
        .env("ANSIBLE_INVENTORY_UNPARSED_FAILED", "true");
    if ctx.dry_run {
        return Ok(HookOutcome::DryRun(cmd));
    }
    if !key.is_file() {
        return Err(TerraformError::SshKey { path: key });
    }
    let opts = RunOptions {
        tail_lines: 40,
        ..ctx.run_options(log)
    };
    run(&cmd, &opts).map_err(|source| TerraformError::Hook {
        source: Box::new(source),
    })?;
    Ok(HookOutcome::Ran(cmd))
}
