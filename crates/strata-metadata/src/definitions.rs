//! `api/definitions/`: the environments and image roles the organisation knows about.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::EnvironmentId;

/// `api/definitions/environments.yaml`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct EnvironmentDefinitions {
    /// Environment id to its definition. A package may only offer environments listed here.
    pub environments: BTreeMap<EnvironmentId, EnvironmentDefinition>,
}

/// One known environment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct EnvironmentDefinition {
    /// What the environment is for.
    pub description: String,
    /// Whether changes to it need extra care (`--yes` on destructive operations, for example).
    #[serde(default)]
    pub protected: bool,
}

/// `api/definitions/roles.yaml`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RoleDefinitions {
    /// Role name to its definition. A provisioner config may only build roles listed here.
    pub roles: BTreeMap<String, RoleDefinition>,
}

/// One known VM image role.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RoleDefinition {
    /// What machines of this role do.
    pub description: String,
    /// The Kubespray inventory groups hosts of this role belong to.
    #[serde(default)]
    pub inventory_groups: Vec<String>,
}
