//! `api/outputs/<env>/metadata.json`: what a bundle holds and the digest of each file.

use std::collections::BTreeMap;
use std::fmt;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::{EnvironmentId, PackageId};

/// The bundle file that carries the package's Terraform backend, with `{env}` filled in; present
/// only when the package declares a backend other than `local`. Like every file of a bundle it
/// is covered by `digests`.
pub const TERRAFORM_BACKEND_FILE: &str = "terraform-backend.json";

/// The `schemaVersion` this crate reads and writes.
pub const BUNDLE_SCHEMA_VERSION: u32 = 1;

/// The kinds of file a package environment provides and a bundle carries.
///
/// The order of the variants is the order of `files` in `metadata.json`.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "camelCase")]
pub enum FileKind {
    /// Terraform variables for the Proxmox modules (`terraform.tfvars`).
    Terraform,
    /// VM image build settings (`provisioner.json`).
    Provisioner,
    /// The Kubespray inventory directory (`kubespray/`).
    KubesprayInventory,
    /// How Kubespray is run (`kubesprayConfig.json`).
    KubesprayConfig,
    /// Helm platform releases (`platform.yaml`).
    Platform,
    /// Values of the ArgoCD app-of-apps chart (`business.yaml`).
    Business,
}

impl FileKind {
    /// Every kind, in bundle order.
    pub const ALL: [FileKind; 6] = [
        FileKind::Terraform,
        FileKind::Provisioner,
        FileKind::KubesprayInventory,
        FileKind::KubesprayConfig,
        FileKind::Platform,
        FileKind::Business,
    ];

    /// The key used in `package.json` and `metadata.json`.
    pub fn key(self) -> &'static str {
        match self {
            FileKind::Terraform => "terraform",
            FileKind::Provisioner => "provisioner",
            FileKind::KubesprayInventory => "kubesprayInventory",
            FileKind::KubesprayConfig => "kubesprayConfig",
            FileKind::Platform => "platform",
            FileKind::Business => "business",
        }
    }

    /// The file (or directory) name this kind gets inside a bundle.
    pub fn bundle_name(self) -> &'static str {
        match self {
            FileKind::Terraform => "terraform.tfvars",
            FileKind::Provisioner => "provisioner.json",
            FileKind::KubesprayInventory => "kubespray",
            FileKind::KubesprayConfig => "kubesprayConfig.json",
            FileKind::Platform => "platform.yaml",
            FileKind::Business => "business.yaml",
        }
    }

    /// Whether this kind is a directory rather than a single file.
    pub fn is_dir(self) -> bool {
        self == FileKind::KubesprayInventory
    }
}

impl fmt::Display for FileKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.key())
    }
}

/// A content digest, written `sha256:<64 lowercase hex digits>`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Digest(String);

impl Digest {
    /// Wraps raw SHA-256 output.
    pub fn sha256(bytes: &[u8; 32]) -> Self {
        use fmt::Write;
        let mut s = String::with_capacity(7 + 64);
        s.push_str("sha256:");
        for b in bytes {
            let _ = write!(s, "{b:02x}");
        }
        Self(s)
    }

    /// The `sha256:…` form.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The first `n` hex digits, for display.
    pub fn short(&self, n: usize) -> &str {
        let hex = &self.0["sha256:".len()..];
        &hex[..n.min(hex.len())]
    }
}

impl TryFrom<String> for Digest {
    type Error = String;
    fn try_from(s: String) -> Result<Self, String> {
        let hex = s
            .strip_prefix("sha256:")
            .ok_or_else(|| format!("digest `{s}` does not start with `sha256:`"))?;
        if hex.len() != 64
            || !hex
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
        {
            return Err(format!(
                "digest `{s}` is not `sha256:` and 64 lowercase hex digits"
            ));
        }
        Ok(Self(s))
    }
}

impl From<Digest> for String {
    fn from(d: Digest) -> String {
        d.0
    }
}

impl fmt::Display for Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl JsonSchema for Digest {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Digest".into()
    }
    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({ "type": "string", "pattern": "^sha256:[0-9a-f]{64}$" })
    }
}

/// Where a bundle's content came from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ConfigPackageRef {
    /// The package id.
    pub id: PackageId,
    /// The package version.
    #[schemars(with = "String")]
    pub version: semver::Version,
    /// The digest of the package's whole content when the bundle was generated; for a
    /// backfill, of the copied files.
    pub digest: Digest,
    /// Set when the bundle was built by `backfill` from an environment's existing files rather
    /// than from a package: where each kind came from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub backfill: Option<BackfillSources>,
}

/// The files a backfilled bundle was built from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct BackfillSources {
    /// Each kind and the path it was copied from (relative to the repository root when inside
    /// it).
    pub sources: BTreeMap<FileKind, String>,
}

/// The package id a backfilled bundle names.
pub const BACKFILL_PACKAGE: &str = "backfill";

/// `metadata.json`, schema version 1.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct BundleMetadata {
    /// Always [`BUNDLE_SCHEMA_VERSION`].
    pub schema_version: u32,
    /// The environment this bundle is for.
    pub environment: EnvironmentId,
    /// The package it was rendered from.
    pub config_package: ConfigPackageRef,
    /// RFC 3339 UTC time of generation (honours `SOURCE_DATE_EPOCH`).
    pub generated_at: String,
    /// Where each kind of file lives, relative to the bundle directory.
    pub files: BTreeMap<FileKind, String>,
    /// The digest of every file in the bundle except `metadata.json` and `provisioner/`, keyed by
    /// path relative to the bundle directory with `/` separators.
    pub digests: BTreeMap<String, Digest>,
}
