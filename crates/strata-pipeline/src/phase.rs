//! The phases of a deploy, their order and what each depends on.

use serde::{Deserialize, Serialize};

/// One phase of `deploy`, in run order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Phase {
    /// Check definitions, packages, the lock and selectors.
    Validate,
    /// Bring the bundle up to date with its package.
    Generate,
    /// Build the role images.
    Provision,
    /// Terraform: download the cloud image onto the Proxmox nodes.
    Images,
    /// Terraform: make the VM template.
    Templates,
    /// Terraform: clone the nodes.
    Nodes,
    /// The team's playbook over the new nodes (only when there is one).
    Ansible,
    /// Kubespray's cluster.yml.
    Kubespray,
    /// The platform's Helm releases.
    Platform,
    /// The ArgoCD app-of-apps.
    Business,
}

impl Phase {
    /// Every phase, in run order.
    pub const ALL: [Phase; 10] = [
        Phase::Validate,
        Phase::Generate,
        Phase::Provision,
        Phase::Images,
        Phase::Templates,
        Phase::Nodes,
        Phase::Ansible,
        Phase::Kubespray,
        Phase::Platform,
        Phase::Business,
    ];

    /// Its name on the command line and in state files.
    pub fn name(self) -> &'static str {
        match self {
            Phase::Validate => "validate",
            Phase::Generate => "generate",
            Phase::Provision => "provision",
            Phase::Images => "images",
            Phase::Templates => "templates",
            Phase::Nodes => "nodes",
            Phase::Ansible => "ansible",
            Phase::Kubespray => "kubespray",
            Phase::Platform => "platform",
            Phase::Business => "business",
        }
    }

    /// The phase named `name`.
    pub fn from_name(name: &str) -> Option<Phase> {
        Phase::ALL.into_iter().find(|p| p.name() == name)
    }

    /// The phases whose recorded digests are among this one's inputs: a change in theirs
    /// re-runs this one. Unlike [`Phase::needs`], nothing lists `generate` past `validate`: the
    /// later phases read the bundle files they use directly, so a regenerated bundle re-runs
    /// only the phases whose files changed.
    pub fn digest_needs(self) -> &'static [Phase] {
        match self {
            Phase::Provision => &[],
            Phase::Images => &[Phase::Provision],
            other => other.needs(),
        }
    }

    /// The phases this one builds on (what `graph` draws).
    pub fn needs(self) -> &'static [Phase] {
        match self {
            Phase::Validate => &[],
            Phase::Generate => &[Phase::Validate],
            Phase::Provision => &[Phase::Generate],
            Phase::Images => &[Phase::Generate, Phase::Provision],
            Phase::Templates => &[Phase::Images],
            Phase::Nodes => &[Phase::Templates],
            Phase::Ansible => &[Phase::Nodes],
            Phase::Kubespray => &[Phase::Nodes, Phase::Ansible],
            Phase::Platform => &[Phase::Kubespray],
            Phase::Business => &[Phase::Platform],
        }
    }
}

impl std::fmt::Display for Phase {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// Which phases a run covers: `--from`, `--to`, or exactly `--only`.
pub fn select(from: Option<Phase>, to: Option<Phase>, only: &[Phase]) -> Vec<Phase> {
    if !only.is_empty() {
        return Phase::ALL
            .into_iter()
            .filter(|p| only.contains(p))
            .collect();
    }
    Phase::ALL
        .into_iter()
        .filter(|p| from.is_none_or(|f| *p >= f) && to.is_none_or(|t| *p <= t))
        .collect()
}

/// The phase graph as a Mermaid flowchart.
pub fn mermaid() -> String {
    let mut out = String::from("flowchart LR\n");
    for p in Phase::ALL {
        for n in p.needs() {
            out.push_str(&format!("  {n} --> {p}\n"));
        }
    }
    out
}

/// The phase graph in Graphviz DOT.
pub fn dot() -> String {
    let mut out = String::from("digraph phases {\n  rankdir=LR;\n");
    for p in Phase::ALL {
        for n in p.needs() {
            out.push_str(&format!("  \"{n}\" -> \"{p}\";\n"));
        }
    }
    out.push_str("}\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn selection_keeps_run_order() {
        assert_eq!(
            select(Some(Phase::Kubespray), None, &[]),
            [Phase::Kubespray, Phase::Platform, Phase::Business]
        );
        assert_eq!(
            select(None, Some(Phase::Generate), &[]),
            [Phase::Validate, Phase::Generate]
        );
        assert_eq!(
            select(None, None, &[Phase::Business, Phase::Images]),
            [Phase::Images, Phase::Business]
        );
        assert_eq!(Phase::from_name("nodes"), Some(Phase::Nodes));
        assert!(mermaid().contains("  nodes --> kubespray\n"));
    }
}
