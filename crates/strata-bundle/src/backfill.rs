//! A bundle for an environment that predates config packages: its existing files, checked as
//! their kinds and copied in with digests, the sources recorded in `metadata.json`.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use sha2::{Digest as _, Sha256};
use strata_config::{Diagnostic, Layout, Report, check_source, load_definitions, sha256};
use strata_metadata::{
    BACKFILL_PACKAGE, BUNDLE_SCHEMA_VERSION, BackfillSources, BundleMetadata, ConfigPackageRef,
    Digest, EnvironmentId, FileKind, PackageId,
};

use crate::error::io;
use crate::generate::{copy_dir, sync_dir, write_file};
use crate::{Bundle, BundleError, Generated};
use strata_util::{remove_stale_siblings, rfc3339, sibling, swap_in};

/// Builds `api/outputs/<env>/` from existing files: `sources` maps each kind to a file (the
/// inventory: a folder). Every source is checked with the rules of its kind first; nothing is
/// written unless all pass. A bundle generated from a package is never replaced.
pub fn backfill(
    layout: &Layout,
    env: &EnvironmentId,
    sources: &BTreeMap<FileKind, PathBuf>,
    generated_at: u64,
) -> Result<Generated, BundleError> {
    let target = layout.bundle_dir(env.as_str());
    if let Ok(existing) = Bundle::open(&target)
        && existing.metadata().config_package.backfill.is_none()
    {
        let shown = target.strip_prefix(layout.root()).unwrap_or(&target);
        return Err(BundleError::Invalid(Report {
            diagnostics: vec![
                Diagnostic::error(
                    shown,
                    "bundle-exists",
                    format!(
                        "`{}` was generated from package `{}`; a backfill would replace it",
                        shown.display(),
                        existing.metadata().config_package.id
                    ),
                )
                .hint("backfill is for environments without a package; regenerate this one with `cargo xtask generate env`"),
            ],
            ..Default::default()
        }));
    }
    let shown = |p: &Path| p.strip_prefix(layout.root()).unwrap_or(p).to_owned();
    let (defs, _) = load_definitions(layout);
    let mut diagnostics = Vec::new();
    for (kind, path) in sources {
        diagnostics.extend(check_source(layout, &defs, *kind, path, &shown(path)));
    }
    if diagnostics.iter().any(Diagnostic::is_error) {
        return Err(BundleError::Invalid(Report {
            diagnostics,
            ..Default::default()
        }));
    }

    let outputs = layout.outputs_dir();
    fs::create_dir_all(&outputs).map_err(io("create", &outputs))?;
    remove_stale_siblings(&target);
    let staged = sibling(&target, "new");
    let result = (|| {
        fs::create_dir(&staged).map_err(io("create", &staged))?;
        let mut digests: BTreeMap<String, Digest> = BTreeMap::new();
        let mut files = BTreeMap::new();
        for (kind, path) in sources {
            let name = kind.bundle_name();
            if kind.is_dir() {
                for rel in crate::list_files(path).map_err(io("read", path))? {
                    let bytes = fs::read(path.join(&rel)).map_err(io("read", path.join(&rel)))?;
                    let dest = format!("{name}/{rel}");
                    write_file(&staged.join(&dest), &bytes)?;
                    digests.insert(dest, sha256(&bytes));
                }
            } else {
                let bytes = fs::read(path).map_err(io("read", path))?;
                write_file(&staged.join(name), &bytes)?;
                digests.insert(name.to_owned(), sha256(&bytes));
            }
            files.insert(*kind, name.to_owned());
        }
        let records = target.join("provisioner");
        if records.is_dir() {
            copy_dir(&records, &staged.join("provisioner"))?;
        }
        let mut h = Sha256::new();
        for (p, d) in &digests {
            h.update(p.as_bytes());
            h.update(d.as_str().as_bytes());
        }
        let digest = Digest::sha256(&h.finalize().into());
        let metadata = BundleMetadata {
            schema_version: BUNDLE_SCHEMA_VERSION,
            environment: env.clone(),
            config_package: ConfigPackageRef {
                id: PackageId::new(BACKFILL_PACKAGE).expect("a valid id"),
                version: "0.0.0".parse().expect("a valid version"),
                digest,
                backfill: Some(BackfillSources {
                    sources: sources
                        .iter()
                        .map(|(k, p)| (*k, shown(p).display().to_string()))
                        .collect(),
                }),
            },
            generated_at: rfc3339(generated_at),
            files,
            digests,
        };
        let mut json = serde_json::to_vec_pretty(&metadata).expect("metadata serializes");
        json.push(b'\n');
        write_file(&staged.join("metadata.json"), &json)?;
        sync_dir(&staged)?;
        Ok(metadata)
    })();
    let metadata = match result {
        Ok(m) => m,
        Err(e) => {
            let _ = fs::remove_dir_all(&staged);
            return Err(e);
        }
    };
    if let Err(e) = swap_in(&staged, &target) {
        let _ = fs::remove_dir_all(&staged);
        return Err(io("swap in", &target)(e));
    }
    Ok(Generated {
        dir: target,
        metadata,
        unchanged: false,
        warnings: diagnostics,
    })
}
