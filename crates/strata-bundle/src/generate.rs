//! Rendering one environment of a package into a bundle.

use std::collections::BTreeMap;
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use strata_config::{Layout, Package, check_for_generate, sha256};
use strata_metadata::{
    BUNDLE_SCHEMA_VERSION, BackendKind, BackendSettings, BundleMetadata, ConfigPackageRef,
    EnvironmentId, FileKind, PackageId, TERRAFORM_BACKEND_FILE,
};
use tracing::{debug, instrument};

use crate::BundleError;
use crate::error::io;
use strata_util::{remove_stale_siblings, rfc3339, sibling, swap_in};

/// How to generate.
#[derive(Debug, Clone, Default)]
pub struct GenerateOptions {
    /// Render without validating first (the package must still load).
    pub skip_validate: bool,
    /// Seconds since the epoch for `generatedAt`; the current time when `None`.
    pub generated_at: Option<u64>,
}

/// A bundle that was written.
#[derive(Debug, Clone)]
pub struct Generated {
    /// The bundle directory.
    pub dir: PathBuf,
    /// Its metadata.
    pub metadata: BundleMetadata,
    /// Whether the files were identical to the bundle it replaced (only `generatedAt` moved).
    pub unchanged: bool,
    /// Problems validation reported that do not block generation.
    pub warnings: Vec<strata_config::Diagnostic>,
}

/// Reads `SOURCE_DATE_EPOCH`, the reproducible-builds convention for a fixed timestamp.
pub fn source_date_epoch() -> Result<Option<u64>, BundleError> {
    match std::env::var("SOURCE_DATE_EPOCH") {
        Ok(v) if v.trim().is_empty() => Ok(None),
        Ok(v) => v
            .trim()
            .parse()
            .map(Some)
            .map_err(|_| BundleError::SourceDateEpoch(v)),
        Err(_) => Ok(None),
    }
}

/// Validates `package` for `env` (unless told not to) and writes `api/outputs/<env>/`.
///
/// Nothing under `api/outputs/<env>` changes unless the whole new bundle was written; a bundle
/// `provision build` recorded images in keeps its `provisioner/` records.
#[instrument(skip_all, fields(env = env.as_str(), package = package.as_str()))]
pub fn generate(
    layout: &Layout,
    env: &EnvironmentId,
    package: &PackageId,
    opts: &GenerateOptions,
) -> Result<Generated, BundleError> {
    let (loaded, report) = check_for_generate(layout, env, package);
    let blocking = if opts.skip_validate {
        // Without validation the package must still load and offer the environment.
        loaded.is_none()
            || loaded
                .as_ref()
                .is_some_and(|p| !p.manifest.environments.contains_key(env))
    } else {
        report.has_errors()
    };
    if blocking {
        return Err(BundleError::Invalid(report));
    }
    let package = loaded.expect("a package that did not load is an error above");
    let generated_at = match opts.generated_at {
        Some(s) => s,
        None => std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs()),
    };

    let target = layout.bundle_dir(env.as_str());
    let outputs = layout.outputs_dir();
    fs::create_dir_all(&outputs).map_err(io("create", &outputs))?;
    remove_stale_siblings(&target);
    let staged = sibling(&target, "new");
    let result = write_staged(&staged, &target, env, &package, generated_at);
    let metadata = match result {
        Ok(m) => m,
        Err(e) => {
            let _ = fs::remove_dir_all(&staged);
            return Err(e);
        }
    };
    // "Unchanged" is a claim about the files on disk, so the old bundle must also verify.
    let unchanged = crate::Bundle::open(&target).is_ok_and(|old| {
        old.metadata().digests == metadata.digests
            && old.metadata().config_package == metadata.config_package
            && crate::verify(&old, None).is_ok_and(|r| r.is_clean())
    });
    if let Err(e) = swap_in(&staged, &target) {
        let _ = fs::remove_dir_all(&staged);
        return Err(io("swap in", &target)(e));
    }
    debug!(dir = %target.display(), "bundle written");
    // With --skip-validate every problem that was not enforced is still shown, as a warning.
    let warnings = report
        .diagnostics
        .into_iter()
        .filter(|d| opts.skip_validate || !d.is_error())
        .map(|d| strata_config::Diagnostic {
            severity: strata_config::Severity::Warning,
            ..d
        })
        .collect();
    Ok(Generated {
        dir: target,
        metadata,
        unchanged,
        warnings,
    })
}

fn write_staged(
    staged: &Path,
    target: &Path,
    env: &EnvironmentId,
    package: &Package,
    generated_at: u64,
) -> Result<BundleMetadata, BundleError> {
    fs::create_dir(staged).map_err(io("create", staged))?;
    let files = &package.manifest.environments[env];
    let mut digests = BTreeMap::new();
    let mut kinds = BTreeMap::new();
    for kind in FileKind::ALL {
        let source = files.path(kind);
        let name = kind.bundle_name();
        if kind.is_dir() {
            for (rel, bytes) in package.dir_files(source) {
                let path = format!("{name}/{rel}");
                write_file(&staged.join(&path), bytes)?;
                digests.insert(path, sha256(bytes));
            }
        } else {
            let bytes = package.file(source).ok_or_else(|| BundleError::Io {
                action: "read",
                path: package.rel_dir().join(source),
                source: std::io::ErrorKind::NotFound.into(),
            })?;
            write_file(&staged.join(name), bytes)?;
            digests.insert(name.to_owned(), sha256(bytes));
        }
        kinds.insert(kind, name.to_owned());
    }
    // The Terraform backend travels with the bundle, since later layers read nothing else.
    let backend = package
        .manifest
        .terraform
        .as_ref()
        .and_then(|t| t.backend.as_ref());
    if let Some(backend) = backend.filter(|b| b.kind != BackendKind::Local) {
        let expanded = BackendSettings {
            kind: backend.kind,
            config: backend
                .config
                .iter()
                .map(|(k, v)| (k.clone(), v.replace("{env}", env.as_str())))
                .collect(),
        };
        let mut json = serde_json::to_vec_pretty(&expanded).expect("backend settings serialize");
        json.push(b'\n');
        write_file(&staged.join(TERRAFORM_BACKEND_FILE), &json)?;
        digests.insert(TERRAFORM_BACKEND_FILE.to_owned(), sha256(&json));
    }
    // Image records describe artifacts built for this environment, not package content: they
    // survive regeneration.
    let records = target.join("provisioner");
    if records.is_dir() {
        copy_dir(&records, &staged.join("provisioner"))?;
    }
    let metadata = BundleMetadata {
        schema_version: BUNDLE_SCHEMA_VERSION,
        environment: env.clone(),
        config_package: ConfigPackageRef {
            id: package.id().clone(),
            version: package.manifest.version.clone(),
            digest: package.digest.clone(),
            backfill: None,
        },
        generated_at: rfc3339(generated_at),
        files: kinds,
        digests,
    };
    let mut json = serde_json::to_vec_pretty(&metadata).expect("metadata serializes");
    json.push(b'\n');
    write_file(&staged.join("metadata.json"), &json)?;
    sync_dir(staged)?;
    Ok(metadata)
}

pub(crate) fn write_file(path: &Path, bytes: &[u8]) -> Result<(), BundleError> {
    if let Some(dir) = path.parent() {
        fs::create_dir_all(dir).map_err(io("create", dir))?;
    }
    let mut f = fs::File::create(path).map_err(io("write", path))?;
    f.write_all(bytes).map_err(io("write", path))?;
    f.sync_all().map_err(io("write", path))
}

pub(crate) fn sync_dir(dir: &Path) -> Result<(), BundleError> {
    fs::File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(io("sync", dir))
}

pub(crate) fn copy_dir(from: &Path, to: &Path) -> Result<(), BundleError> {
    fs::create_dir_all(to).map_err(io("create", to))?;
    for entry in fs::read_dir(from).map_err(io("read", from))? {
        let entry = entry.map_err(io("read", from))?;
        let dest = to.join(entry.file_name());
        if entry
            .file_type()
            .map_err(io("read", entry.path()))?
            .is_dir()
        {
            copy_dir(&entry.path(), &dest)?;
        } else {
            fs::copy(entry.path(), &dest).map_err(io("copy", &dest))?;
        }
    }
    Ok(())
}
