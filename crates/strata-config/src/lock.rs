//! `config/packages.lock` and the version-bump rule: changed content needs a higher version.

use strata_metadata::{LOCK_SCHEMA_VERSION, LockEntry, PackageId, PackagesLock};

use crate::locate::JsonPositions;
use crate::source::{parse_json, read_text};
use crate::{Diagnostic, Layout, Package};

/// Reads the lock; `Ok(None)` when there is none yet.
pub fn read_lock(layout: &Layout) -> Result<Option<(PackagesLock, String)>, Diagnostic> {
    let rel = Layout::lock_rel();
    if !layout.abs(rel).exists() {
        return Ok(None);
    }
    let text = read_text(layout.root(), rel)?;
    let lock: PackagesLock = parse_json(rel, &text)?;
    if lock.schema_version != LOCK_SCHEMA_VERSION {
        return Err(Diagnostic::error(
            rel,
            "lock-schema",
            format!(
                "lock has schemaVersion {}, this Strata reads {LOCK_SCHEMA_VERSION}",
                lock.schema_version
            ),
        )
        .hint(if lock.schema_version > LOCK_SCHEMA_VERSION {
            "a newer Strata wrote this lock: upgrade Strata to read it"
        } else {
            "delete it and run `cargo xtask config lock` to record the current packages"
        }));
    }
    Ok(Some((lock, text)))
}

/// Checks every package against the lock.
pub fn check_lock(layout: &Layout, packages: &[Package]) -> Vec<Diagnostic> {
    check_lock_of(layout, &packages.iter().collect::<Vec<_>>())
}

/// [`check_lock`] over borrowed packages, so `validate` need not copy the ones it judges.
pub(crate) fn check_lock_of(layout: &Layout, packages: &[&Package]) -> Vec<Diagnostic> {
    let rel = Layout::lock_rel();
    let (lock, text) = match read_lock(layout) {
        Ok(Some(l)) => l,
        Ok(None) => {
            return vec![Diagnostic::error(rel, "lock-missing", "file does not exist")
                .hint("record the current packages with `cargo xtask config lock` and commit the file")];
        }
        Err(d) => return vec![d],
    };
    let mut out = Vec::new();
    for &p in packages {
        let manifest_rel = p.rel_dir().join("package.json");
        // Only a problem needs the position, so the manifest is scanned only then.
        let version_pos = || package_version_position(p);
        match lock.packages.get(p.id()) {
            None => out.push(
                Diagnostic::error(
                    &manifest_rel,
                    "lock-unrecorded",
                    format!(
                        "package `{}` is not recorded in config/packages.lock",
                        p.id()
                    ),
                )
                .at_opt(version_pos())
                .hint("run `cargo xtask config lock` and commit config/packages.lock"),
            ),
            Some(entry) => {
                let v = &p.manifest.version;
                if *v < entry.version {
                    out.push(
                        Diagnostic::error(
                            &manifest_rel,
                            "version-lowered",
                            format!("version {v} is lower than the recorded {}", entry.version),
                        )
                        .at_opt(version_pos())
                        .hint(format!(
                            "versions only go up: use a version above {}",
                            entry.version
                        )),
                    );
                } else if *v == entry.version && p.digest != entry.digest {
                    out.push(Diagnostic::error(&manifest_rel, "version-not-bumped", format!("content changed but version is still {v}"))
                        .at_opt(version_pos())
                        .hint(format!(
                            "bump `version` above {v} in package.json, then run `cargo xtask config lock` (`git diff {}` shows what changed)",
                            p.rel_dir().display()
                        )));
                } else if *v > entry.version {
                    out.push(
                        Diagnostic::error(
                            &manifest_rel,
                            "lock-outdated",
                            format!(
                                "version {v} is not recorded yet (the lock has {})",
                                entry.version
                            ),
                        )
                        .at_opt(version_pos())
                        .hint("run `cargo xtask config lock` and commit config/packages.lock"),
                    );
                }
            }
        }
    }
    let loaded: std::collections::HashSet<&PackageId> = packages.iter().map(|p| p.id()).collect();
    let positions = std::cell::OnceCell::new();
    for id in lock.packages.keys() {
        if !loaded.contains(id) && !layout.abs(Layout::package_rel(id.as_str())).exists() {
            out.push(
                Diagnostic::error(
                    rel,
                    "lock-stale",
                    format!("the lock records package `{id}`, which no longer exists"),
                )
                .at_opt(
                    positions
                        .get_or_init(|| JsonPositions::scan(&text))
                        .get(&["packages", id.as_str()]),
                )
                .hint("run `cargo xtask config lock` to drop it"),
            );
        }
    }
    out
}

/// Where `version` is written in the package's manifest, from the bytes the package was loaded
/// with (the file on disk is not read again).
fn package_version_position(p: &Package) -> Option<(usize, usize)> {
    let text = std::str::from_utf8(p.file("package.json")?).ok()?;
    JsonPositions::scan(text).get(&["version"])
}

/// A change `config lock` made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LockChange {
    /// A package recorded for the first time.
    Added {
        /// The package.
        id: PackageId,
        /// Its version.
        version: semver::Version,
    },
    /// A version bump recorded.
    Bumped {
        /// The package.
        id: PackageId,
        /// The version recorded before.
        from: semver::Version,
        /// The version recorded now.
        to: semver::Version,
    },
    /// A package that no longer exists, dropped.
    Removed {
        /// The package.
        id: PackageId,
    },
}

/// Computes the new lock for the repository: every package is loaded and fully checked first,
/// because the lock vouches for content (a package with a secret or a broken file is never
/// recorded), then [`plan_lock_for`] applies the version-bump rule.
pub fn plan_lock(layout: &Layout) -> Result<(PackagesLock, Vec<LockChange>), Vec<Diagnostic>> {
    let (defs, def_diags) = crate::load_definitions(layout);
    let (packages, diags) = crate::load_all_packages(layout, &defs, crate::Depth::Full);
    let errors: Vec<Diagnostic> = def_diags
        .into_iter()
        .chain(diags)
        .filter(Diagnostic::is_error)
        .collect();
    if !errors.is_empty() {
        return Err(errors);
    }
    plan_lock_for(layout, &packages)
}

/// Computes the new lock for `packages`, refusing (with diagnostics) when a package changed
/// without a version bump or went down.
pub fn plan_lock_for(
    layout: &Layout,
    packages: &[Package],
) -> Result<(PackagesLock, Vec<LockChange>), Vec<Diagnostic>> {
    let old = match read_lock(layout) {
        Ok(l) => l.map(|(l, _)| l).unwrap_or_default(),
        Err(d) => return Err(vec![d]),
    };
    let mut refused = Vec::new();
    let mut changes = Vec::new();
    let mut new = PackagesLock {
        schema_version: LOCK_SCHEMA_VERSION,
        packages: Default::default(),
    };
    for p in packages {
        let entry = LockEntry {
            version: p.manifest.version.clone(),
            digest: p.digest.clone(),
        };
        match old.packages.get(p.id()) {
            None => changes.push(LockChange::Added {
                id: p.id().clone(),
                version: entry.version.clone(),
            }),
            Some(prev) if entry.version > prev.version => changes.push(LockChange::Bumped {
                id: p.id().clone(),
                from: prev.version.clone(),
                to: entry.version.clone(),
            }),
            Some(prev) if entry.version == prev.version && entry.digest == prev.digest => {}
            Some(_) => {
                refused.extend(check_lock(layout, std::slice::from_ref(p)));
                continue;
            }
        }
        new.packages.insert(p.id().clone(), entry);
    }
    for id in old.packages.keys() {
        if !new.packages.contains_key(id) && !packages.iter().any(|p| p.id() == id) {
            changes.push(LockChange::Removed { id: id.clone() });
        }
    }
    if refused.is_empty() {
        Ok((new, changes))
    } else {
        Err(refused)
    }
}

/// The lock as written to disk: pretty JSON with a trailing newline.
pub fn render_lock(lock: &PackagesLock) -> String {
    let mut s = serde_json::to_string_pretty(lock).expect("the lock serializes");
    s.push('\n');
    s
}
