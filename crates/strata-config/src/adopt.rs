//! Moving an environment's existing files into a package: written in the package's layout,
//! the environment added to `package.json`, the patch version bumped and the lock recorded, or
//! nothing changed at all.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use strata_metadata::FileKind;

use crate::{Diagnostic, Layout, plan_lock, render_lock};

/// Why an environment could not be added to a package. Every variant leaves the package and
/// the lock as they were.
#[derive(Debug, thiserror::Error)]
pub enum AdoptError {
    /// The package folder has no `package.json`.
    #[error("package `{id}` does not exist (no `{}`)", .manifest.display())]
    NoPackage {
        /// The package id.
        id: String,
        /// Where its manifest should be.
        manifest: PathBuf,
    },
    /// The package already offers the environment.
    #[error("package `{id}` already has environment `{env}`")]
    EnvironmentExists {
        /// The package id.
        id: String,
        /// The environment.
        env: String,
    },
    /// A file the environment would be written to is already there.
    #[error("`{rel}` already exists in package `{id}`")]
    FileExists {
        /// The package id.
        id: String,
        /// The file, relative to the package.
        rel: String,
    },
    /// The package would not validate (or lock) with the environment.
    #[error("package `{id}` would not validate with environment `{env}`")]
    Invalid {
        /// The package id.
        id: String,
        /// The environment.
        env: String,
        /// The problems.
        diagnostics: Vec<Diagnostic>,
    },
    /// Reading or writing failed.
    #[error("could not {action} `{}`", .path.display())]
    Io {
        /// What was being done.
        action: &'static str,
        /// The path.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
}

/// Where a kind's file goes in a package for `env`, relative to the package folder (the
/// layout of the sample package).
pub fn package_path(kind: FileKind, env: &str) -> String {
    match kind {
        FileKind::Terraform => format!("environments/{env}.terraform.tfvars"),
        FileKind::Provisioner => format!("environments/{env}.provisioner.json"),
        FileKind::KubesprayConfig => format!("environments/{env}.kubespray.json"),
        FileKind::KubesprayInventory => format!("kubespray/inventory/pn-{env}"),
        FileKind::Platform => format!("environments/{env}.platform.yaml"),
        FileKind::Business => format!("environments/{env}.business.yaml"),
    }
}

/// Writes `sources` (every kind: a file each, the inventory a folder) into package `id` as
/// environment `env`, adds it to `package.json`, bumps the patch version and records it in
/// `config/packages.lock`; returns the new version. When the package would not validate, or
/// anything fails, every file is put back as it was.
pub fn add_environment(
    layout: &Layout,
    id: &str,
    env: &str,
    sources: &BTreeMap<FileKind, PathBuf>,
) -> Result<semver::Version, AdoptError> {
    let pkg_dir = layout.abs(Layout::package_rel(id));
    let manifest_path = pkg_dir.join("package.json");
    let io = |action, path: &Path| {
        let path = path.to_owned();
        move |source| AdoptError::Io {
            action,
            path,
            source,
        }
    };
    let manifest_text =
        std::fs::read_to_string(&manifest_path).map_err(|_| AdoptError::NoPackage {
            id: id.to_owned(),
            manifest: manifest_path.clone(),
        })?;
    let mut manifest: serde_json::Value = serde_json::from_str(&manifest_text).map_err(|e| {
        io("read", &manifest_path)(std::io::Error::new(std::io::ErrorKind::InvalidData, e))
    })?;
    if manifest["environments"].get(env).is_some() {
        return Err(AdoptError::EnvironmentExists {
            id: id.to_owned(),
            env: env.to_owned(),
        });
    }
    if let Some(kind) = FileKind::ALL
        .into_iter()
        .find(|k| pkg_dir.join(package_path(*k, env)).exists())
    {
        return Err(AdoptError::FileExists {
            id: id.to_owned(),
            rel: package_path(kind, env),
        });
    }
    let version: semver::Version = manifest["version"]
        .as_str()
        .and_then(|v| v.parse().ok())
        .ok_or_else(|| AdoptError::Invalid {
            id: id.to_owned(),
            env: env.to_owned(),
            diagnostics: vec![Diagnostic::error(
                Layout::package_rel(id).join("package.json"),
                "version",
                "the package's version is not SemVer",
            )],
        })?;
    let bumped = semver::Version::new(version.major, version.minor, version.patch + 1);

    let mut written: Vec<PathBuf> = Vec::new();
    let undo = |written: &[PathBuf]| {
        for p in written.iter().rev() {
            let _ = if p.is_dir() {
                std::fs::remove_dir_all(p)
            } else {
                std::fs::remove_file(p)
            };
        }
        let _ = std::fs::write(&manifest_path, &manifest_text);
    };
    let result = (|| {
        let mut entry = serde_json::Map::new();
        for kind in FileKind::ALL {
            let rel = package_path(kind, env);
            let to = pkg_dir.join(&rel);
            let parent = to.parent().expect("a file in a package has a folder");
            std::fs::create_dir_all(parent).map_err(io("create", parent))?;
            written.push(to.clone());
            if kind.is_dir() {
                copy_tree(&sources[&kind], &to).map_err(io("copy", &sources[&kind]))?;
            } else {
                std::fs::copy(&sources[&kind], &to).map_err(io("copy", &sources[&kind]))?;
            }
            entry.insert(kind.to_string(), rel.into());
        }
        manifest["environments"][env] = serde_json::Value::Object(entry);
        manifest["version"] = bumped.to_string().into();
        let text = serde_json::to_string_pretty(&manifest).expect("JSON serializes") + "\n";
        std::fs::write(&manifest_path, text).map_err(io("write", &manifest_path))?;
        // The lock refuses a package that does not validate.
        let (lock, _) = plan_lock(layout).map_err(|diagnostics| AdoptError::Invalid {
            id: id.to_owned(),
            env: env.to_owned(),
            diagnostics,
        })?;
        let lock_path = layout.abs(Layout::lock_rel());
        strata_util::write_atomic(&lock_path, render_lock(&lock).as_bytes())
            .map_err(io("write", &lock_path))
    })();
    if let Err(e) = result {
        undo(&written);
        return Err(e);
    }
    Ok(bumped)
}

fn copy_tree(from: &Path, to: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(to)?;
    for rel in crate::list_files(from)? {
        let dest = to.join(&rel);
        if let Some(dir) = dest.parent() {
            std::fs::create_dir_all(dir)?;
        }
        std::fs::copy(from.join(&rel), dest)?;
    }
    Ok(())
}
