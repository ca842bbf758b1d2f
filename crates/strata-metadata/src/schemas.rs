//! The JSON Schema of every file kind, as checked in under `api/schemas/`.

use schemars::{JsonSchema, generate::SchemaSettings};

use crate::{
    ArtifactRecord, BundleMetadata, BusinessConfig, DeployReport, EnvironmentDefinitions,
    Inventory, KubesprayConfig, ModuleSelector, PackageManifest, PackagesLock, PipelineState,
    PlatformConfig, ProvisionerConfig, RoleDefinitions, StateBackendConfig,
};

/// One schema file: its name under `api/schemas/` and its pretty-printed content.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SchemaFile {
    /// File name, such as `metadata.schema.json`.
    pub name: &'static str,
    /// The schema, pretty-printed JSON with a trailing newline.
    pub content: String,
}

fn render<T: JsonSchema>(name: &'static str) -> SchemaFile {
    let schema = SchemaSettings::draft2020_12()
        .into_generator()
        .into_root_schema_for::<T>();
    let mut content = serde_json::to_string_pretty(&schema).expect("a schema serializes");
    content.push('\n');
    SchemaFile { name, content }
}

/// Every schema, in a stable order.
pub fn schema_files() -> Vec<SchemaFile> {
    vec![
        render::<BundleMetadata>("metadata.schema.json"),
        render::<PackageManifest>("package.schema.json"),
        render::<PackagesLock>("packages-lock.schema.json"),
        render::<ModuleSelector>("module-environment.schema.json"),
        render::<EnvironmentDefinitions>("definitions-environments.schema.json"),
        render::<RoleDefinitions>("definitions-roles.schema.json"),
        render::<ProvisionerConfig>("provisioner.schema.json"),
        render::<ArtifactRecord>("provisioner-artifact.schema.json"),
        render::<KubesprayConfig>("kubespray-config.schema.json"),
        render::<Inventory>("kubespray-inventory.schema.json"),
        render::<PlatformConfig>("platform.schema.json"),
        render::<BusinessConfig>("business.schema.json"),
        render::<PipelineState>("deploy-state.schema.json"),
        render::<DeployReport>("deploy-report.schema.json"),
        render::<StateBackendConfig>("state-backend.schema.json"),
    ]
}
