//! The external tools this crate drives: how each is found and asked for its version.

use strata_exec::Tool;

/// docker or podman, which run the Kubespray image (`STRATA_CONTAINER_RUNTIME` overrides
/// either).
pub const CONTAINER_RUNTIME: Tool = Tool {
    name: "container runtime",
    env_var: "STRATA_CONTAINER_RUNTIME",
    candidates: &["docker", "podman"],
    version_args: &["--version"],
};

/// ansible-playbook, which the `local` runtime runs directly.
pub const ANSIBLE_PLAYBOOK: Tool = Tool {
    name: "ansible-playbook",
    env_var: "STRATA_ANSIBLE_PLAYBOOK",
    candidates: &["ansible-playbook"],
    version_args: &["--version"],
};

/// kubectl, which `status` asks for the nodes.
///
/// strata-helm owns this tool (its `KUBECTL`, listed by `doctor`); tool crates never depend
/// on each other, so this is a copy with the same values, which a test in xtask holds equal to
/// the owner's.
pub const KUBECTL: Tool = Tool {
    name: "kubectl",
    env_var: "STRATA_KUBECTL",
    candidates: &["kubectl"],
    version_args: &["version", "--client"],
};

/// The tools this crate owns, in the order `doctor` lists them.
pub const TOOLS: &[Tool] = &[CONTAINER_RUNTIME, ANSIBLE_PLAYBOOK];
