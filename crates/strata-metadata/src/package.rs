//! `config/packages/<id>/package.json`, `config/packages.lock` and the module selectors.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::{Digest, EnvironmentId, FileKind, PackageId};

/// A config package's manifest, `config/packages/<id>/package.json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PackageManifest {
    /// Must equal the package's folder name.
    pub id: PackageId,
    /// Strict SemVer (`0.2.0`, no leading `v`).
    #[schemars(with = "String")]
    pub version: semver::Version,
    /// One line saying what the package is for.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub description: String,
    /// The environments this package offers, each with the files it provides.
    pub environments: BTreeMap<EnvironmentId, PackageEnvironment>,
    /// How the infrastructure layer runs Terraform for this package's environments.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub terraform: Option<TerraformSettings>,
}

/// A package's Terraform settings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TerraformSettings {
    /// Where state is kept; a local file per environment and module when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub backend: Option<BackendSettings>,
}

/// A Terraform state backend: its type and its partial configuration, passed to `terraform init`
/// with `-backend-config`. Values may use `{env}` and `{module}`, and the value that names the
/// state (`schema_name`, `key`, `address`) must use both, so that no two environments or modules
/// share a state. Credentials never appear here: each backend reads them from the environment
/// (`PG_CONN_STR`, `AWS_*`, `TF_HTTP_USERNAME`/`TF_HTTP_PASSWORD`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct BackendSettings {
    /// The backend type.
    #[serde(rename = "type")]
    pub kind: BackendKind,
    /// Partial backend configuration, `key = value`.
    #[serde(default)]
    pub config: BTreeMap<String, String>,
}

/// The state backends Strata configures.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum BackendKind {
    /// A state file under `.strata/<env>/terraform/` (the default).
    Local,
    /// PostgreSQL, one schema per environment and module.
    Pg,
    /// An S3 bucket, one key per environment and module.
    S3,
    /// An HTTP state service, one address per environment and module.
    Http,
}

impl BackendKind {
    /// The name terraform uses in `backend "…"`.
    pub fn name(self) -> &'static str {
        match self {
            BackendKind::Local => "local",
            BackendKind::Pg => "pg",
            BackendKind::S3 => "s3",
            BackendKind::Http => "http",
        }
    }

    /// The setting that names one state, which must contain `{env}` and `{module}`.
    pub fn state_key(self) -> Option<&'static str> {
        match self {
            BackendKind::Local => None,
            BackendKind::Pg => Some("schema_name"),
            BackendKind::S3 => Some("key"),
            BackendKind::Http => Some("address"),
        }
    }
}

/// The files one environment of a package provides, as paths relative to the package folder.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PackageEnvironment {
    /// Terraform variables (HCL).
    pub terraform: String,
    /// Image build settings (JSON).
    pub provisioner: String,
    /// How Kubespray runs (JSON).
    pub kubespray_config: String,
    /// The Kubespray inventory directory (`hosts.yaml` + `group_vars/`).
    pub kubespray_inventory: String,
    /// Helm platform releases (YAML).
    pub platform: String,
    /// App-of-apps values (YAML).
    pub business: String,
}

impl PackageEnvironment {
    /// The path the package gives for `kind`.
    pub fn path(&self, kind: FileKind) -> &str {
        match kind {
            FileKind::Terraform => &self.terraform,
            FileKind::Provisioner => &self.provisioner,
            FileKind::KubesprayInventory => &self.kubespray_inventory,
            FileKind::KubesprayConfig => &self.kubespray_config,
            FileKind::Platform => &self.platform,
            FileKind::Business => &self.business,
        }
    }
}

/// The `schemaVersion` of `config/packages.lock`.
pub const LOCK_SCHEMA_VERSION: u32 = 1;

/// `config/packages.lock`: the last recorded version and content digest of every package, the
/// memory of the version-bump rule (no git history needed).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PackagesLock {
    /// Always [`LOCK_SCHEMA_VERSION`].
    pub schema_version: u32,
    /// Package id to its recorded version and digest.
    pub packages: BTreeMap<PackageId, LockEntry>,
}

/// One package's entry in the lock.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct LockEntry {
    /// The version recorded.
    #[schemars(with = "String")]
    pub version: semver::Version,
    /// The package's content digest at that version.
    pub digest: Digest,
}

/// A module's environment selector, `<module>/environments/<env>.yaml`: which package an
/// environment of that module (infrastructure, container-orchestration, platform, business) uses.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ModuleSelector {
    /// The config package id.
    pub config_package: PackageId,
    /// The environment id; must equal the file's stem.
    pub environment: EnvironmentId,
}
