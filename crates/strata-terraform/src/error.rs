//! What can go wrong staging or running a Terraform phase.

use std::path::PathBuf;

use strata_exec::ExecError;
use strata_metadata::ErrorKind;

use crate::LockInfo;

/// A Terraform phase could not be staged or run.
#[derive(Debug, thiserror::Error)]
pub enum TerraformError {
    /// The module folder is missing.
    #[error("module `{}` does not exist", .dir.display())]
    ModuleMissing {
        /// The module folder.
        dir: PathBuf,
    },

    /// The module's variables could not be read.
    #[error("cannot read the variables of module `{}`: {message}", .dir.display())]
    ModuleInvalid {
        /// The module folder.
        dir: PathBuf,
        /// The first problem.
        message: String,
    },

    /// The bundle's tfvars do not parse.
    #[error("`{}` is not valid HCL: {message}", .path.display())]
    Tfvars {
        /// The tfvars file.
        path: PathBuf,
        /// The parser's message.
        message: String,
    },

    /// The staged tfvars were edited by hand since Strata wrote them.
    #[error("`{}` was edited by hand since Strata staged it", .path.display())]
    HandEdited {
        /// The staged file.
        path: PathBuf,
    },

    /// `--apply-plan` found no saved plan.
    #[error("there is no saved plan for module `{module}`")]
    NoSavedPlan {
        /// The module.
        module: String,
    },

    /// The bundle or module changed since the saved plan was made.
    #[error(
        "the saved plan for module `{module}` was made from other inputs: the bundle or the module changed since"
    )]
    PlanStale {
        /// The module.
        module: String,
    },

    /// The provisioner config names a template role whose image is not published over HTTP.
    #[error("the template image of `{env}` is role `{role}`'s, which {problem}")]
    ImageNotPublished {
        /// The environment.
        env: String,
        /// The role.
        role: String,
        /// What is missing.
        problem: String,
    },

    /// The images module needs the cloud image's checksum and nothing in the package gives it.
    #[error(
        "`{}` sets no `cloud_image_sha256`, and no provisioner base image has its `cloud_image_url`", .path.display()
    )]
    NoImageChecksum {
        /// The bundle's tfvars.
        path: PathBuf,
    },

    /// A module whose apply runs commands on the Proxmox node over SSH, without SSH settings.
    #[error("module `{module}` imports its disk over SSH on the Proxmox node, but {missing}")]
    SshMissing {
        /// The module.
        module: String,
        /// What the provider would lack.
        missing: &'static str,
    },

    /// The SSH key the bundle names is not there.
    #[error("the SSH private key `{}` does not exist", .path.display())]
    SshKey {
        /// The key's path, with `~` expanded.
        path: PathBuf,
    },

    /// The terraform binary is older than the modules need.
    #[error("`{program}` is version {found}; Strata needs terraform >= 1.5 or tofu >= 1.6")]
    TooOld {
        /// The program.
        program: String,
        /// The version it reported.
        found: String,
    },

    /// The ansible hook's playbook failed.
    #[error("the ansible phase's playbook failed")]
    Hook {
        /// The command's failure.
        #[source]
        source: Box<strata_exec::ExecError>,
    },

    /// Another run holds the module's Terraform state lock, and `-lock-timeout` ran out.
    #[error("the Terraform state of module `{module}` is locked by {}", .lock.holder().unwrap_or("another run"))]
    StateLocked {
        /// The module.
        module: String,
        /// What terraform said about the lock.
        lock: Box<LockInfo>,
        /// The command's failure.
        #[source]
        source: Box<ExecError>,
    },

    /// The `ansible` phase was asked for an action other than a plain apply.
    #[error(
        "the ansible phase only runs its playbook; --plan, --apply-plan, --destroy and --outputs are for the Terraform phases"
    )]
    HookAction {
        /// The environment.
        env: String,
    },

    /// terraform, tofu or ansible-playbook is missing, or would not say its version.
    #[error(transparent)]
    Tool(ExecError),

    /// Running terraform failed.
    #[error("terraform {step} failed for module `{module}`")]
    Command {
        /// `init`, `plan` or `apply`.
        step: &'static str,
        /// The module.
        module: String,
        /// The command's failure.
        #[source]
        source: Box<strata_exec::ExecError>,
    },

    /// Reading or writing a file failed.
    #[error("could not {action} `{}`", .path.display())]
    Io {
        /// What was being done.
        action: &'static str,
        /// The path.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
}

impl TerraformError {
    /// What kind of failure this is, which decides the exit code: the one mapping.
    pub fn kind(&self) -> ErrorKind {
        use TerraformError as E;
        match self {
            E::ModuleMissing { .. }
            | E::ModuleInvalid { .. }
            | E::Tfvars { .. }
            | E::HandEdited { .. }
            | E::NoSavedPlan { .. }
            | E::PlanStale { .. }
            | E::ImageNotPublished { .. }
            | E::NoImageChecksum { .. }
            | E::SshMissing { .. }
            | E::SshKey { .. }
            | E::TooOld { .. }
            | E::HookAction { .. }
            | E::Tool(ExecError::ToolNotFound { .. } | ExecError::BadOverride { .. }) => {
                ErrorKind::Invalid
            }
            // Someone else's run holds the state: the same situation as another deploy holding
            // the environment's lock.
            E::StateLocked { .. } => ErrorKind::Locked,
            E::Tool(_) | E::Hook { .. } | E::Command { .. } | E::Io { .. } => ErrorKind::Failed,
        }
    }

    /// How to fix it, where that is clear. (Where a failed command's log is, the caller knows.)
    pub fn hint(&self) -> Option<String> {
        use TerraformError as E;
        Some(match self {
            E::HandEdited { .. } => "rerun with `--force` to replace it with the bundle's; to keep the edit, first put it in the package's tfvars (bump, lock, regenerate), then rerun with `--force`".to_owned(),
            E::SshKey { .. } => "put the key there, or fix `sshPrivateKeyPath` in the package's Kubespray config".to_owned(),
            E::NoSavedPlan { .. } => "make one first with `--plan`".to_owned(),
            E::NoImageChecksum { .. } => "add `cloud_image_sha256 = \"<64 hex digits>\"` to the package's tfvars, or give a provisioner role a `baseImage` with the same `url` and its `sha256`".to_owned(),
            E::SshMissing { .. } => "nothing was applied; export PROXMOX_VE_SSH_USERNAME (root, or a user with passwordless sudo for pvesm and qm) and PROXMOX_VE_SSH_AGENT=true with a loaded ssh-agent, or PROXMOX_VE_SSH_PRIVATE_KEY with an unencrypted key, then rerun".to_owned(),
            E::ImageNotPublished { env, role, .. } => format!(
                "run `cargo xtask provision build --env {env} --role {role}` and `cargo xtask provision publish --env {env} --role {role}`, or remove `publish.templateRole` to use the tfvars' cloud image"
            ),
            E::PlanStale { .. } => "nothing was applied; review a fresh plan with `--plan`, then `--apply-plan` it".to_owned(),
            E::TooOld { .. } => "install a newer terraform, or point STRATA_TERRAFORM at one (or at tofu)".to_owned(),
            E::HookAction { env } => {
                format!("run `cargo xtask infra --env {env} --phase ansible` on its own")
            }
            // A tool missing, or a probe that hung past its timeout: strata-exec knows what to say.
            E::Tool(e) => return e.hint(),
            E::StateLocked { lock, .. } => match lock.holder() {
                Some(who) => format!(
                    "{who} holds this state's lock; wait for them, or retry with a longer `--lock-timeout` (such as 10m)"
                ),
                None => "another run holds this state's lock (this backend does not record whose); wait for it, or retry with a longer `--lock-timeout` (such as 10m)".to_owned(),
            },
            E::Hook { .. } | E::Command { .. } => {
                return self.command_failure().and_then(ExecError::hint);
            }
            E::ModuleMissing { .. } | E::ModuleInvalid { .. } | E::Tfvars { .. } | E::Io { .. } => {
                return None;
            }
        })
    }

    /// The failed command underneath, when there is one: its tail is worth showing.
    pub fn command_failure(&self) -> Option<&ExecError> {
        match self {
            TerraformError::Hook { source }
            | TerraformError::Command { source, .. }
            | TerraformError::StateLocked { source, .. } => Some(source),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A version probe that hung past its timeout is a failure (exit 1), not bad input, and its
    /// hint says what to look at, whether it reaches the caller directly or as a failed step; a
    /// missing terraform stays bad input.
    #[test]
    fn a_probe_that_timed_out_is_a_failure_with_a_hint() {
        let timed_out = || ExecError::TimedOut {
            command: "terraform version".to_owned(),
            after: std::time::Duration::from_secs(60),
            stdout_tail: Vec::new(),
            stderr_tail: Vec::new(),
            log: None,
        };
        let as_step = TerraformError::Command {
            step: "version",
            module: String::new(),
            source: Box::new(timed_out()),
        };
        for err in [as_step, TerraformError::Tool(timed_out())] {
            assert_eq!(err.kind(), ErrorKind::Failed, "{err}");
            assert!(
                err.hint().is_some_and(|h| h.contains("run it by hand")),
                "{err}"
            );
        }
        let missing = TerraformError::Tool(ExecError::ToolNotFound {
            tool: "terraform".to_owned(),
            env_var: "STRATA_TERRAFORM",
        });
        assert_eq!(missing.kind(), ErrorKind::Invalid);
        assert_eq!(
            missing.hint().as_deref(),
            Some("`cargo xtask doctor` lists what is found")
        );
    }
}
