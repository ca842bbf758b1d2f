//! What can go wrong staging or running a Terraform phase.

use std::path::PathBuf;

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
