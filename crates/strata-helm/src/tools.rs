//! The external tools this crate drives: how each is found and asked for its version.

use strata_exec::Tool;

/// Helm 3 or 4 (`STRATA_HELM` overrides).
pub const HELM: Tool = Tool {
    name: "helm",
    env_var: "STRATA_HELM",
    candidates: &["helm"],
    version_args: &["version", "--short"],
};

/// kubectl, for the cluster gate and the Argo CD checks. strata-kubespray keeps a copy (its
/// `status` asks kubectl for the nodes).
pub const KUBECTL: Tool = Tool {
    name: "kubectl",
    env_var: "STRATA_KUBECTL",
    candidates: &["kubectl"],
    version_args: &["version", "--client"],
};

/// The tools this crate owns, in the order `doctor` lists them.
pub const TOOLS: &[Tool] = &[HELM, KUBECTL];
