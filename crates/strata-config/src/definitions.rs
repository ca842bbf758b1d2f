//! `api/definitions/`: the environments and roles the organisation knows.

use strata_metadata::{EnvironmentDefinitions, RoleDefinitions};

use crate::source::{parse_yaml, read_text};
use crate::{Diagnostic, Layout};

/// What the repository defines that packages are checked against: the known environments and
/// roles (`api/definitions/`) and the variables of the Terraform modules packages feed. A part
/// that failed to load is empty and its problem reported.
#[derive(Debug, Clone, Default)]
pub struct Definitions {
    /// `environments.yaml`.
    pub environments: Option<EnvironmentDefinitions>,
    /// `roles.yaml`.
    pub roles: Option<RoleDefinitions>,
    /// The modules under `infrastructure/platforms/proxmox/terraform/` that exist.
    pub terraform_modules: Vec<crate::ModuleVariables>,
}

/// Loads `api/definitions/environments.yaml` and `roles.yaml`.
pub fn load_definitions(layout: &Layout) -> (Definitions, Vec<Diagnostic>) {
    let mut diags = Vec::new();
    let dir = Layout::definitions_rel();
    let mut load = |name: &str| {
        let rel = dir.join(name);
        read_text(layout.root(), &rel)
            .map_err(|d| {
                if d.code == "missing-file" {
                    d.hint(format!(
                        "create {} (see docs/config-packages.md)",
                        rel.display()
                    ))
                } else {
                    d
                }
            })
            .map(|text| (rel, text))
            .map_err(|d| diags.push(d))
            .ok()
    };
    let envs = load("environments.yaml");
    let roles = load("roles.yaml");
    let environments =
        envs.and_then(|(rel, t)| parse_yaml(&rel, &t).map_err(|d| diags.push(d)).ok());
    let roles = roles.and_then(|(rel, t)| parse_yaml(&rel, &t).map_err(|d| diags.push(d)).ok());
    let (terraform_modules, module_diags) = crate::terraform::load_modules(layout);
    diags.extend(module_diags);
    let defs = Definitions {
        environments,
        roles,
        terraform_modules,
    };
    (defs, diags)
}
