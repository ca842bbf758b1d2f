//! The `kubespray` commands' documents: a playbook run, `validate` and `status`.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// `kubespray deploy|reset|scale|upgrade|remove-node|recover --output json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct KubesprayOutput {
    /// Always `true` (a failure is a [`super::Failure`]).
    pub ok: bool,
    /// The environment.
    pub environment: String,
    /// What ran the playbooks: `docker`, `podman` or `ansible-playbook`.
    pub runtime: String,
    /// The inventory the run used.
    pub inventory: InventoryRef,
    /// Each command run (or, in a dry run, shown), shell-quoted with secrets redacted.
    pub commands: Vec<String>,
}

/// The staged inventory a run used.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct InventoryRef {
    /// The staged folder, relative to the repository root.
    pub dir: String,
    /// `sha256:` of the inventory's files, from the bundle's digests.
    pub digest: String,
}

/// `kubespray validate --output json`: the ping command in a dry run, else every host's answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct KubesprayValidateOutput {
    /// Every host answered (always `true` in a dry run).
    pub ok: bool,
    /// The environment.
    pub environment: String,
    /// With `--dry-run`: the command that would ask the hosts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub commands: Option<Vec<String>>,
    /// Without `--dry-run`: each host's answer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hosts: Option<Vec<HostAnswer>>,
}

/// One host's answer to the Ansible ping.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct HostAnswer {
    /// The inventory host name.
    pub host: String,
    /// The address asked.
    pub address: String,
    /// It answered.
    pub ok: bool,
    /// Why not; `null` when it answered.
    pub error: Option<String>,
}

/// `kubespray status --output json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct StatusOutput {
    /// The API server is ready and every node, at least one, is Ready.
    pub ok: bool,
    /// The environment.
    pub environment: String,
    /// The kubeconfig used, relative to the repository root when inside it.
    pub kubeconfig: String,
    /// The API server's `/readyz` answer.
    pub readyz: String,
    /// Every node.
    pub nodes: Vec<NodeStatus>,
}

/// One node and whether it is Ready.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct NodeStatus {
    /// The node name.
    pub name: String,
    /// Its `Ready` condition is `True`.
    pub ready: bool,
    /// Its roles, from the `node-role.kubernetes.io/<role>` labels.
    pub roles: Vec<String>,
    /// The kubelet version.
    pub version: String,
}
