//! The types of every file Strata's crates exchange, and their JSON Schemas.
//!
//! A config package (`package.json`), the packages lock, the module selectors
//! (`<module>/environments/<env>.yaml`), the organisation's definitions, the per-kind configs a
//! package provides (provisioner, Kubespray, platform, business) and the bundle's
//! `metadata.json` are all defined here, once, with `serde` for reading and writing and `schemars`
//! for the schemas checked in under `api/schemas/`.
//!
//! This crate never touches the file system and never validates anything that needs more than
//! one value: it parses and describes. Rules that span files live in `strata-config`.

#![warn(missing_docs)]

mod bundle;
mod business;
mod definitions;
mod deploy;
mod exit;
mod ids;
mod kube_versions;
mod kubespray;
mod outcome;
pub mod output;
mod package;
mod parse;
mod platform;
mod provisioner;
mod schemas;
mod state;
mod suggest;

pub use bundle::{
    BACKFILL_PACKAGE, BUNDLE_SCHEMA_VERSION, BackfillSources, BundleMetadata, ConfigPackageRef,
    Digest, FileKind, TERRAFORM_BACKEND_FILE,
};
pub use business::{AppHelm, Application, BusinessConfig, BusinessProject, BusinessShared};
pub use definitions::{
    EnvironmentDefinition, EnvironmentDefinitions, RoleDefinition, RoleDefinitions,
};
pub use deploy::{
    DeployReport, Mode, Phase, PhaseRecord, PhaseReport, PhaseStatus, PipelineState, ReportStatus,
    RunResult,
};
pub use exit::{ErrorKind, Exit};
pub use ids::{EnvironmentId, ID_PATTERN, IdError, PackageId};
pub use kube_versions::{
    KUBE_VERSION_RANGES, KUBE_VERSION_SOURCE, KubeVersionRange, KubeVersionSupport,
    kube_version_support,
};
pub use kubespray::{
    Inventory, InventoryGroup, KubesprayConfig, KubesprayRuntime, LEGACY_GROUPS, REQUIRED_GROUPS,
    kube_version_problem,
};
pub use outcome::{
    ImageOutcome, ImageStatus, Notice, NoticeLevel, PhaseDetail, PlanCounts, ReleaseOutcome,
    ReleaseStatus,
};
pub use package::{
    BackendKind, BackendSettings, LOCK_SCHEMA_VERSION, LockEntry, ModuleSelector,
    PackageEnvironment, PackageManifest, PackagesLock, TerraformSettings,
};
pub use parse::{FromJson, FromYaml};
pub use platform::{PlatformConfig, Release};
pub use provisioner::{
    ARTIFACT_SCHEMA_VERSION, ArtifactRecord, BaseImage, Builder, BuilderInfo, CloudInit, CloudUser,
    CommandBuilder, ImageFormat, PackerBuilder, ProvisionerConfig, PublishTarget, RoleImage,
    SeedRecord, WriteFile,
};
pub use schemas::{SchemaFile, schema_files};
pub use state::{STATE_BACKEND_SCHEMA_VERSION, StateBackendConfig, StateBackendKind};
pub use suggest::{did_you_mean, plural, unknown_field_hint};
