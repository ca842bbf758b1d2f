//! The external tools this crate drives: how each is found and asked for its version.

use strata_exec::Tool;

/// Terraform, or OpenTofu when only `tofu` is installed (`STRATA_TERRAFORM` overrides).
pub const TERRAFORM: Tool = Tool {
    name: "terraform",
    env_var: "STRATA_TERRAFORM",
    candidates: &["terraform", "tofu"],
    version_args: &["version"],
};

/// ansible-playbook, for the team's own playbook (the `ansible` phase's hook).
///
/// strata-kubespray owns this tool (its `ANSIBLE_PLAYBOOK`, listed by `doctor`); tool crates
/// never depend on each other, so this is a copy with the same values, which a test in xtask
/// holds equal to the owner's.
pub const ANSIBLE_PLAYBOOK: Tool = Tool {
    name: "ansible-playbook",
    env_var: "STRATA_ANSIBLE_PLAYBOOK",
    candidates: &["ansible-playbook"],
    version_args: &["--version"],
};

/// The tools this crate owns, in the order `doctor` lists them.
pub const TOOLS: &[Tool] = &[TERRAFORM];
