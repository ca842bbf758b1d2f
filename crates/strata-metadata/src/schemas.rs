//! The JSON Schema of every file kind and of every `--output json` document, as checked in
//! under `api/schemas/` (the documents under `api/schemas/output/`).

use schemars::{JsonSchema, generate::SchemaSettings};

use crate::{
    ArtifactRecord, BundleMetadata, BusinessConfig, DeployReport, EnvironmentDefinitions,
    Inventory, KubesprayConfig, ModuleSelector, PackageManifest, PackagesLock, PipelineState,
    PlatformConfig, ProvisionerConfig, RoleDefinitions, StateBackendConfig, output,
};

/// One schema file: its name under `api/schemas/` and its pretty-printed content.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SchemaFile {
    /// Path under `api/schemas/`, such as `metadata.schema.json` or
    /// `output/validate.schema.json`.
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
        render::<output::Failure>("output/failure.schema.json"),
        render::<output::Refusal>("output/refusal.schema.json"),
        render::<output::ValidateOutput>("output/validate.schema.json"),
        render::<output::GenerateOutput>("output/generate-env.schema.json"),
        render::<output::VerifyOutput>("output/bundle-verify.schema.json"),
        render::<output::LockOutput>("output/config-lock.schema.json"),
        render::<output::BackfillOutput>("output/backfill.schema.json"),
        render::<output::DoctorOutput>("output/doctor.schema.json"),
        render::<output::InfraOutput>("output/infra.schema.json"),
        render::<output::InfraFailure>("output/infra-failure.schema.json"),
        render::<output::BuildOutput>("output/provision-build.schema.json"),
        render::<output::ListOutput>("output/provision-list.schema.json"),
        render::<output::PublishOutput>("output/provision-publish.schema.json"),
        render::<output::KubesprayOutput>("output/kubespray.schema.json"),
        render::<output::KubesprayValidateOutput>("output/kubespray-validate.schema.json"),
        render::<output::KubesprayStatusOutput>("output/kubespray-status.schema.json"),
        render::<output::PlatformDeployOutput>("output/platform-deploy.schema.json"),
        render::<output::TemplateOutput>("output/platform-template.schema.json"),
        render::<output::DiffOutput>("output/platform-diff.schema.json"),
        render::<output::BusinessOutput>("output/business-deploy.schema.json"),
        render::<output::GraphOutput>("output/graph.schema.json"),
        render::<output::StatusOutput>("output/status.schema.json"),
        render::<output::UnlockOutput>("output/unlock.schema.json"),
        render::<output::RunsOutput>("output/runs.schema.json"),
        render::<output::PushOutput>("output/state-push.schema.json"),
    ]
}
