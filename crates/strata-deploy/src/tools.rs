//! Which programs each phase runs: the tool crates own the tools, the engine knows the phases.

use strata_exec::Tool;
use strata_metadata::Phase;

/// The tools `phase` runs, whose identity (path, size, modification time) is one of its
/// inputs: a new terraform or helm re-runs the phases that use it.
///
/// Each is recorded under its name (`terraform`, `container runtime`, ...), the names the
/// state has always used, so existing records keep their digests.
pub fn phase_tools(phase: Phase) -> &'static [Tool] {
    match phase {
        Phase::Validate | Phase::Generate => &[],
        Phase::Provision => &[strata_provisioner::QEMU_IMG, strata_provisioner::PACKER],
        Phase::Images | Phase::Templates | Phase::Nodes => &[strata_terraform::TERRAFORM],
        Phase::Ansible => &[strata_terraform::ANSIBLE_PLAYBOOK],
        Phase::Kubespray => &[
            strata_kubespray::CONTAINER_RUNTIME,
            strata_kubespray::ANSIBLE_PLAYBOOK,
        ],
        Phase::Platform | Phase::Business => &[strata_helm::HELM],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The input names of each phase's tools are part of every recorded digest: these are the
    /// names state files written before the tool crates owned their tools hold.
    #[test]
    fn phases_keep_the_tool_input_names_recorded_state_uses() {
        let names = |phase| -> Vec<&str> { phase_tools(phase).iter().map(|t| t.name).collect() };
        let none: [&str; 0] = [];
        assert_eq!(names(Phase::Validate), none);
        assert_eq!(names(Phase::Generate), none);
        assert_eq!(names(Phase::Provision), ["qemu-img", "packer"]);
        for phase in [Phase::Images, Phase::Templates, Phase::Nodes] {
            assert_eq!(names(phase), ["terraform"]);
        }
        assert_eq!(names(Phase::Ansible), ["ansible-playbook"]);
        assert_eq!(
            names(Phase::Kubespray),
            ["container runtime", "ansible-playbook"]
        );
        assert_eq!(names(Phase::Platform), ["helm"]);
        assert_eq!(names(Phase::Business), ["helm"]);
    }
}
