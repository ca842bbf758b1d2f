//! `bundle verify`: recompute every digest and compare with the package it came from.

use strata_config::{Definitions, Depth, Layout, list_files, load_package, sha256};

use crate::Bundle;
use crate::error::{BundleError, io};

/// One way a bundle differs from what its metadata says: the type `bundle verify --output json`
/// prints, so the library and the document cannot drift apart.
pub use strata_metadata::output::DriftEntry as Drift;

/// What verification found.
#[derive(Debug, Clone, Default)]
pub struct VerifyReport {
    /// The number of files whose digest was checked.
    pub checked: usize,
    /// Every difference.
    pub drift: Vec<Drift>,
}

impl VerifyReport {
    /// Whether the bundle is intact and current.
    pub fn is_clean(&self) -> bool {
        self.drift.is_empty()
    }
}

/// Recomputes every digest of `bundle` and, when its package is in `layout`, checks that the
/// package has not changed since.
pub fn verify(bundle: &Bundle, layout: Option<&Layout>) -> Result<VerifyReport, BundleError> {
    let mut report = VerifyReport::default();
    // The file map is fixed by the schema; an edited metadata.json shows here.
    // A backfill holds only the kinds it was given; each of those has its fixed name too.
    let backfill = bundle.metadata().config_package.backfill.is_some();
    for kind in strata_metadata::FileKind::ALL {
        let path = bundle.metadata().files.get(&kind);
        if backfill && path.is_none() {
            continue;
        }
        if path.map(String::as_str) != Some(kind.bundle_name()) {
            report.drift.push(Drift::Remapped {
                file_kind: kind,
                path: path.cloned().unwrap_or_default(),
                expected: kind.bundle_name().to_owned(),
            });
        }
    }
    for (path, expected) in &bundle.metadata().digests {
        let full = bundle.dir().join(path);
        match std::fs::read(&full) {
            Ok(bytes) => {
                report.checked += 1;
                let actual = sha256(&bytes);
                if &actual != expected {
                    report.drift.push(Drift::Modified {
                        path: path.clone(),
                        expected: expected.clone(),
                        actual,
                    });
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                report.drift.push(Drift::Missing { path: path.clone() })
            }
            Err(e) => return Err(io("read", full)(e)),
        }
    }
    let present = list_files(bundle.dir()).map_err(io("read", bundle.dir()))?;
    for path in present {
        let ignored = path == "metadata.json" || path.starts_with("provisioner/");
        if !ignored && !bundle.metadata().digests.contains_key(&path) {
            report.drift.push(Drift::Unexpected { path });
        }
    }
    if let Some(layout) = layout.filter(|_| !backfill) {
        let pkg = &bundle.metadata().config_package;
        let (current, _) = load_package(
            layout,
            pkg.id.as_str(),
            &Definitions::default(),
            Depth::Manifest,
        );
        if let Some(current) = current.filter(|c| c.digest != pkg.digest) {
            report.drift.push(Drift::PackageChanged {
                package: pkg.id.to_string(),
                bundle_version: pkg.version.to_string(),
                current_version: current.manifest.version.to_string(),
            });
        }
    }
    Ok(report)
}
