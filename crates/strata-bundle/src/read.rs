//! Reading a bundle: `Bundle::open(dir)` and `Bundle::path(kind)`.

use std::path::{Path, PathBuf};

use strata_metadata::{BUNDLE_SCHEMA_VERSION, BundleMetadata, FileKind};

use crate::BundleError;
use crate::error::io;

/// An opened bundle: its directory and its parsed `metadata.json`.
#[derive(Debug, Clone)]
pub struct Bundle {
    dir: PathBuf,
    metadata: BundleMetadata,
}

impl Bundle {
    /// Opens the bundle in `dir`, checking its schema version and that every path it names
    /// stays inside it.
    pub fn open(dir: &Path) -> Result<Self, BundleError> {
        let path = dir.join("metadata.json");
        let text = match std::fs::read_to_string(&path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let env = dir
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_default();
                return Err(BundleError::NotFound {
                    dir: dir.to_owned(),
                    env,
                });
            }
            Err(e) => return Err(io("read", &path)(e)),
        };
        let version: Option<u32> = serde_json::from_str::<serde_json::Value>(&text)
            .ok()
            .and_then(|v| v.get("schemaVersion")?.as_u64())
            .and_then(|v| u32::try_from(v).ok());
        if let Some(found) = version.filter(|&v| v != BUNDLE_SCHEMA_VERSION) {
            return Err(BundleError::SchemaVersion {
                path,
                found,
                expected: BUNDLE_SCHEMA_VERSION,
            });
        }
        let metadata: BundleMetadata =
            serde_json::from_str(&text).map_err(|e| BundleError::Metadata {
                path: path.clone(),
                line: e.line(),
                column: e.column(),
                message: e
                    .to_string()
                    .split(" at line ")
                    .next()
                    .unwrap_or_default()
                    .to_owned(),
            })?;
        for entry in metadata.files.values().chain(metadata.digests.keys()) {
            if !is_inside(entry) {
                return Err(BundleError::PathEscapes {
                    path,
                    entry: entry.clone(),
                });
            }
        }
        Ok(Self {
            dir: dir.to_owned(),
            metadata,
        })
    }

    /// The bundle directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The parsed `metadata.json`.
    pub fn metadata(&self) -> &BundleMetadata {
        &self.metadata
    }

    /// The absolute path of a kind of file, or `None` when the bundle has none.
    pub fn path(&self, kind: FileKind) -> Option<PathBuf> {
        self.metadata.files.get(&kind).map(|rel| self.dir.join(rel))
    }
}

/// Whether a metadata path is relative and stays inside the bundle.
fn is_inside(entry: &str) -> bool {
    !entry.is_empty()
        && !entry.starts_with('/')
        && !entry.contains('\\')
        && entry
            .split('/')
            .all(|part| !part.is_empty() && part != ".." && part != ".")
}
