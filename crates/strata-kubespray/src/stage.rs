//! Staging the bundle's inventory for Kubespray: a whole-directory swap, so files from an
//! earlier environment never survive, with a record of the bundle it came from.

use std::path::{Path, PathBuf};

use sha2::{Digest as _, Sha256};
use strata_bundle::Bundle;
use strata_config::Layout;
use strata_metadata::FileKind;
use strata_util::{remove_stale_siblings, sibling, swap_in};

use crate::KubesprayError;

/// Where the inventory is staged, relative to the repository root.
pub const STAGED_INVENTORY: &str = "container-orchestration/providers/kubespray/inventory/current";

/// The file in the staged inventory that records where it came from.
pub const SOURCE_FILE: &str = ".strata-source";

/// The staged inventory.
#[derive(Debug, Clone)]
pub struct StagedInventory {
    /// The staged folder, absolute.
    pub dir: PathBuf,
    /// `sha256:` of the inventory's files, from the bundle's digests.
    pub digest: String,
    /// Whether the staged folder already held exactly this inventory.
    pub unchanged: bool,
}

/// Copies the bundle's inventory into [`STAGED_INVENTORY`] as one directory swap.
pub fn stage_inventory(
    layout: &Layout,
    bundle: &Bundle,
) -> Result<StagedInventory, KubesprayError> {
    let source_dir = bundle
        .path(FileKind::KubesprayInventory)
        .unwrap_or_else(|| bundle.dir().join("kubespray"));
    let prefix = format!("{}/", FileKind::KubesprayInventory.bundle_name());
    let mut h = Sha256::new();
    let mut files = Vec::new();
    for (path, digest) in &bundle.metadata().digests {
        if let Some(rel) = path.strip_prefix(&prefix) {
            h.update(rel.as_bytes());
            h.update(digest.as_str().as_bytes());
            files.push(rel.to_owned());
        }
    }
    let digest = format!(
        "sha256:{}",
        h.finalize()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect::<String>()
    );
    let shown_bundle = strata_util::shown(layout.root(), bundle.dir());
    let record = format!(
        "bundle {shown_bundle} (environment {}) inventory {digest}\n",
        bundle.metadata().environment
    );
    // The bundle is the only input: a file edited after generation is refused rather than
    // deployed (or silently not deployed) under a digest that no longer describes it.
    let mut contents = Vec::with_capacity(files.len());
    for rel in &files {
        let from = source_dir.join(rel);
        let bytes = std::fs::read(&from).map_err(|source| io("read", &from, source))?;
        if strata_config::sha256(&bytes) != bundle.metadata().digests[&format!("{prefix}{rel}")] {
            return Err(KubesprayError::BundleModified {
                env: bundle.metadata().environment.to_string(),
                path: from,
            });
        }
        contents.push(bytes);
    }
    let target = layout.abs(STAGED_INVENTORY);
    if std::fs::read_to_string(target.join(SOURCE_FILE)).is_ok_and(|r| r == record)
        && intact(&target, bundle, &prefix, &files)
    {
        return Ok(StagedInventory {
            dir: target,
            digest,
            unchanged: true,
        });
    }
    let parent = target.parent().expect("the staged inventory has a parent");
    std::fs::create_dir_all(parent).map_err(|source| io("create", parent, source))?;
    remove_stale_siblings(&target);
    let staged = sibling(&target, "new");
    let result = (|| {
        for (rel, bytes) in files.iter().zip(&contents) {
            let to = staged.join(rel);
            std::fs::create_dir_all(to.parent().unwrap_or(&staged))
                .map_err(|source| io("create", &to, source))?;
            std::fs::write(&to, bytes).map_err(|source| io("write", &to, source))?;
        }
        std::fs::create_dir_all(&staged).map_err(|source| io("create", &staged, source))?;
        std::fs::write(staged.join(SOURCE_FILE), &record)
            .map_err(|source| io("write", &staged, source))?;
        swap_in(&staged, &target).map_err(|source| io("swap in", &target, source))
    })();
    if result.is_err() {
        let _ = std::fs::remove_dir_all(&staged);
    }
    result?;
    Ok(StagedInventory {
        dir: target,
        digest,
        unchanged: false,
    })
}

fn io(action: &'static str, path: &Path, source: std::io::Error) -> KubesprayError {
    KubesprayError::Io {
        action,
        path: path.to_owned(),
        source,
    }
}

/// Whether the staged folder holds exactly the bundle's inventory files, byte for byte: a hand
/// edit in the staged copy is undone by staging again.
fn intact(target: &Path, bundle: &Bundle, prefix: &str, files: &[String]) -> bool {
    let present = strata_bundle::list_files(target).unwrap_or_default();
    let expected: std::collections::BTreeSet<String> = files
        .iter()
        .cloned()
        .chain([SOURCE_FILE.to_owned()])
        .collect();
    present == expected
        && files.iter().all(|rel| {
            let want = &bundle.metadata().digests[&format!("{prefix}{rel}")];
            std::fs::read(target.join(rel))
                .is_ok_and(|bytes| &strata_config::sha256(&bytes) == want)
        })
}

/// Holds the staged inventory for one run at a time: every environment stages into the same
/// folder, so a second run waits until the first is done with it.
pub fn lock_staging(layout: &Layout) -> Result<std::fs::File, KubesprayError> {
    let path = layout.folder_lock("kubespray-inventory");
    strata_util::lock_exclusive(&path).map_err(|source| io("lock", &path, source))
}

/// Checks the staged inventory as validation checks a package's: `hosts.yaml` parses, the
/// required groups exist, `etcd` is odd, every host has a parseable `ansible_host`, no address
/// is listed twice, legacy group names are named. Diagnostics name the staged files relative to
/// the repository root.
pub fn check_staged(layout: &Layout, staged: &Path) -> Vec<strata_config::Diagnostic> {
    let names = strata_bundle::list_files(staged).unwrap_or_default();
    let files: Vec<(String, Vec<u8>)> = names
        .into_iter()
        .filter(|n| n != SOURCE_FILE && !n.starts_with("artifacts/"))
        .filter_map(|n| std::fs::read(staged.join(&n)).ok().map(|b| (n, b)))
        .collect();
    let borrowed: Vec<(&str, &[u8])> = files
        .iter()
        .map(|(n, b)| (n.as_str(), b.as_slice()))
        .collect();
    let shown = staged.strip_prefix(layout.root()).unwrap_or(staged);
    strata_config::check_inventory(shown, &borrowed)
}
