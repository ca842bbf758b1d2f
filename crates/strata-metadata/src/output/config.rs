//! The configuration commands' documents: `validate`, `generate env`, `bundle verify`,
//! `config lock` and `backfill`.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::Diagnostic;
use crate::{BundleMetadata, ConfigPackageRef, Digest, EnvironmentId, FileKind, PackageId};

/// `validate --output json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ValidateOutput {
    /// No errors were found (warnings allowed).
    pub ok: bool,
    /// Errors found.
    pub errors: usize,
    /// Warnings found.
    pub warnings: usize,
    /// What was looked at.
    pub checked: Checked,
    /// Every problem, errors and warnings.
    pub diagnostics: Vec<Diagnostic>,
}

/// What `validate` looked at, so that a clean result says what it vouches for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Checked {
    /// Whether the definitions were checked.
    pub definitions: bool,
    /// Packages whose manifest loaded.
    pub packages: usize,
    /// Package environments whose files were checked.
    pub environments: usize,
    /// Module selector files read.
    pub selectors: usize,
}

/// `generate env --output json`, on success.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct GenerateOutput {
    /// Always `true` (a refusal is a [`super::Refusal`]).
    pub ok: bool,
    /// The environment.
    pub environment: EnvironmentId,
    /// The bundle folder, relative to the repository root.
    pub bundle: String,
    /// The package it was rendered from.
    pub config_package: ConfigPackageRef,
    /// RFC 3339 UTC time of generation, as in `metadata.json`.
    pub generated_at: String,
    /// Where each kind of file lives in the bundle.
    pub files: BTreeMap<FileKind, String>,
    /// Files digested in `metadata.json`.
    pub file_count: usize,
    /// The bundle already held exactly this content.
    pub unchanged: bool,
}

/// `bundle verify --output json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct VerifyOutput {
    /// The bundle matches its metadata (no drift).
    pub ok: bool,
    /// The bundle folder, relative to the repository root.
    pub bundle: String,
    /// Files whose digest was checked.
    pub checked: usize,
    /// The package the bundle names.
    pub config_package: ConfigPackageRef,
    /// Every way the bundle differs from its metadata.
    pub drift: Vec<DriftEntry>,
}

/// One way a bundle differs from what its metadata says.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(
    tag = "kind",
    rename_all = "camelCase",
    rename_all_fields = "camelCase"
)]
pub enum DriftEntry {
    /// A file's content no longer matches its digest.
    Modified {
        /// Path inside the bundle.
        path: String,
        /// The digest recorded.
        expected: Digest,
        /// The digest now.
        actual: Digest,
    },
    /// A file the metadata lists is gone.
    Missing {
        /// Path inside the bundle.
        path: String,
    },
    /// `metadata.json` points a kind of file somewhere other than its place in the bundle.
    Remapped {
        /// The kind.
        file_kind: FileKind,
        /// Where the metadata points.
        path: String,
        /// Where the bundle's schema version puts it.
        expected: String,
    },
    /// A file is present that the metadata does not list.
    Unexpected {
        /// Path inside the bundle.
        path: String,
    },
    /// The package changed since the bundle was generated.
    PackageChanged {
        /// The package.
        package: String,
        /// The version in the bundle.
        bundle_version: String,
        /// The version in the package now.
        current_version: String,
    },
}

/// `config lock --output json`, when the lock could be planned.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct LockOutput {
    /// The lock is current, or was updated; `false` when `--check` found it out of date.
    pub ok: bool,
    /// Whether `--check` was given (nothing written).
    pub check: bool,
    /// Each change, as the human output words it (`would record core 0.2.0 -> 0.2.1`).
    pub changes: Vec<String>,
}

/// `backfill --output json`: the bundle alone, or (with `--to-package`) the package written.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(untagged)]
pub enum BackfillOutput {
    /// Without `--to-package`.
    Bundle(BackfillBundleOutput),
    /// With `--to-package`.
    Package(BackfillPackageOutput),
}

/// `backfill` without `--to-package`: the bundle made.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct BackfillBundleOutput {
    /// Always `true`.
    pub ok: bool,
    /// The bundle folder, relative to the repository root.
    pub bundle: String,
    /// Its `metadata.json`.
    pub metadata: BundleMetadata,
}

/// `backfill --to-package`: the package environment written.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct BackfillPackageOutput {
    /// Always `true`.
    pub ok: bool,
    /// The package written into.
    pub package: PackageId,
    /// The environment it now offers.
    pub environment: EnvironmentId,
    /// Its new version, recorded in `config/packages.lock`.
    #[schemars(with = "String")]
    pub version: semver::Version,
}
