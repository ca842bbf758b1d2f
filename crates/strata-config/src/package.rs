//! Loading one config package: its manifest, its files, its digest, and every rule on them.

use std::path::{Path, PathBuf};

use strata_metadata::{
    Digest, EnvironmentDefinitions, FileKind, PackageId, PackageManifest, did_you_mean,
};

use crate::kinds::{self, KindContext};
use crate::locate::JsonPositions;
use crate::source::{decode, parse_json};
use crate::walk::{PackageFiles, normalize};
use crate::{Definitions, Diagnostic, Layout};

/// A loaded config package.
#[derive(Debug, Clone)]
pub struct Package {
    /// The folder name (equal to `manifest.id` when valid).
    pub folder: String,
    /// The parsed `package.json`.
    pub manifest: PackageManifest,
    /// The digest of the package's whole content.
    pub digest: Digest,
    files: PackageFiles,
}

/// How much of a package to check.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Depth {
    /// The manifest and the content digest only.
    Manifest,
    /// Every referenced file, parsed and checked as its kind.
    Full,
}

impl Package {
    /// The package folder, relative to the repository root.
    pub fn rel_dir(&self) -> PathBuf {
        Layout::package_rel(&self.folder)
    }

    /// The id.
    pub fn id(&self) -> &PackageId {
        &self.manifest.id
    }

    /// The bytes of a file, by path relative to the package folder.
    pub fn file(&self, rel: &str) -> Option<&[u8]> {
        normalize(rel)
            .and_then(|p| self.files.files.get(&p))
            .map(Vec::as_slice)
    }

    /// The files of a directory, by path relative to that directory, in path order.
    pub fn dir_files<'a>(&'a self, rel: &'a str) -> Vec<(&'a str, &'a [u8])> {
        match normalize(rel) {
            Some(dir) if self.files.dirs.contains(&dir) => {
                let prefix_len = dir.len() + 1;
                self.files
                    .files
                    .iter()
                    .filter(|(k, _)| {
                        k.len() > prefix_len
                            && k.starts_with(&dir)
                            && k.as_bytes()[dir.len()] == b'/'
                    })
                    .map(|(k, v)| (&k[prefix_len..], v.as_slice()))
                    .collect()
            }
            _ => Vec::new(),
        }
    }
}

/// Loads the package in folder `config/packages/<folder>` and checks it.
///
/// Returns the package whenever its manifest parsed, so that callers can go on checking what
/// depends on it, together with every problem found.
pub fn load_package(
    layout: &Layout,
    folder: &str,
    defs: &Definitions,
    depth: Depth,
) -> (Option<Package>, Vec<Diagnostic>) {
    let rel_dir = Layout::package_rel(folder);
    let mut diags = Vec::new();
    let files = PackageFiles::read(&layout.abs(&rel_dir), &rel_dir, &mut diags);
    let manifest_rel = rel_dir.join("package.json");
    let Some(bytes) = files.files.get("package.json") else {
        if !diags.iter().any(|d| d.path == manifest_rel) {
            diags.push(
                Diagnostic::error(&manifest_rel, "missing-file", "package has no package.json")
                    .hint(
                        "every folder under config/packages is a package and needs a package.json",
                    ),
            );
        }
        return (None, diags);
    };
    let text = match decode(&manifest_rel, bytes.clone()) {
        Ok(t) => t,
        Err(d) => {
            diags.push(d);
            return (None, diags);
        }
    };
    let positions = JsonPositions::scan(&text);
    for (ptr, pos) in &positions.duplicates {
        let (what, name) = match ptr.strip_prefix("/environments/") {
            Some(env) if !env.contains('/') => ("environment", env),
            _ => ("key", ptr.as_str()),
        };
        diags.push(
            Diagnostic::error(
                &manifest_rel,
                "duplicate-key",
                format!("{what} `{name}` is defined twice"),
            )
            .at(*pos)
            .hint("JSON keeps only the last one; merge them into one entry"),
        );
    }
    let manifest: PackageManifest = match parse_json(&manifest_rel, &text) {
        Ok(m) => m,
        Err(d) => {
            diags.push(d);
            return (None, diags);
        }
    };
    if manifest.id.as_str() != folder {
        diags.push(
            Diagnostic::error(
                &manifest_rel,
                "package-id",
                format!(
                    "package id `{}` differs from its folder name `{folder}`",
                    manifest.id
                ),
            )
            .at_opt(positions.get(&["id"]))
            .hint(format!(
                "set `\"id\": \"{folder}\"` or rename the folder to `{}`",
                manifest.id
            )),
        );
    }
    if manifest.environments.is_empty() {
        diags.push(
            Diagnostic::error(
                &manifest_rel,
                "no-environments",
                "package offers no environments",
            )
            .at_opt(positions.get(&["environments"])),
        );
    }
    if let Some(backend) = manifest.terraform.as_ref().and_then(|t| t.backend.as_ref()) {
        diags.extend(crate::terraform::check_backend(
            &manifest_rel,
            &positions,
            backend,
        ));
    }
    let package = Package {
        folder: folder.to_owned(),
        digest: files.digest(),
        manifest,
        files,
    };
    check_private_keys(&package, &rel_dir, &mut diags);
    if let Some(envs) = &defs.environments {
        check_defined(&package, envs, &manifest_rel, &positions, &mut diags);
    }
    if depth == Depth::Full {
        check_environment_files(
            layout,
            &package,
            defs,
            &manifest_rel,
            &positions,
            &mut diags,
        );
    }
    (Some(package), diags)
}

fn check_private_keys(package: &Package, rel_dir: &Path, diags: &mut Vec<Diagnostic>) {
    const MARK: &[u8] = b"PRIVATE KEY-----";
    for (path, bytes) in package.files.files.iter().chain(&package.files.hidden) {
        // memchr's searcher, not a loop over `windows`: every byte of the package passes here.
        if let Some(i) = memchr::memmem::find(bytes, MARK) {
            let line = memchr::memchr_iter(b'\n', &bytes[..i]).count() + 1;
            diags.push(
                Diagnostic::error(rel_dir.join(path), "private-key", "file holds a private key; keys never belong in a package")
                    .at((line, 1))
                    .hint("remove it now, rotate the key, and reference the key's path instead (`sshPrivateKeyPath`)"),
            );
        }
    }
}

fn check_defined(
    package: &Package,
    envs: &EnvironmentDefinitions,
    manifest_rel: &Path,
    positions: &JsonPositions,
    diags: &mut Vec<Diagnostic>,
) {
    for env in package.manifest.environments.keys() {
        if !envs.environments.contains_key(env) {
            let known = envs.environments.keys().map(|e| e.as_str());
            let hint = match did_you_mean(env.as_str(), known.clone()) {
                Some(m) => format!("did you mean `{m}`?"),
                None => format!(
                    "define it in api/definitions/environments.yaml (known: {})",
                    known.collect::<Vec<_>>().join(", ")
                ),
            };
            diags.push(
                Diagnostic::error(
                    manifest_rel,
                    "unknown-environment",
                    format!(
                        "environment `{env}` is not defined in api/definitions/environments.yaml"
                    ),
                )
                .at_opt(positions.get(&["environments", env.as_str()]))
                .hint(hint),
            );
        }
    }
}

fn check_environment_files(
    layout: &Layout,
    package: &Package,
    defs: &Definitions,
    manifest_rel: &Path,
    positions: &JsonPositions,
    diags: &mut Vec<Diagnostic>,
) {
    let rel_dir = package.rel_dir();
    let cx = KindContext {
        root: layout.root(),
        roles: defs.roles.as_ref(),
        terraform_modules: &defs.terraform_modules,
    };
    let mut checked = std::collections::HashSet::new();
    for (env, files) in &package.manifest.environments {
        for kind in FileKind::ALL {
            let given = files.path(kind);
            // Only a problem needs the position: the lookup waits for one.
            let problem = |code, msg: String| {
                Diagnostic::error(manifest_rel, code, msg).at_opt(positions.get(&[
                    "environments",
                    env.as_str(),
                    kind.key(),
                ]))
            };
            if crate::walk::segments(given)
                .any(|seg| seg.starts_with('.') && seg != "." && seg != "..")
            {
                diags.push(
                    problem(
                        "path-hidden",
                        format!("{kind} path `{given}` names a hidden file or folder"),
                    )
                    .hint(
                        "hidden files are not package content; rename it without the leading `.`",
                    ),
                );
                continue;
            }
            let Some(path) = normalize(given) else {
                let d = if Path::new(given).is_absolute() {
                    problem(
                        "path-absolute",
                        format!("{kind} path `{given}` is absolute"),
                    )
                    .hint("paths are relative to the package folder")
                } else {
                    problem(
                        "path-escapes",
                        format!("{kind} path `{given}` leaves the package"),
                    )
                    .hint("a package must be self-contained: keep its files inside its folder")
                };
                diags.push(d);
                continue;
            };
            if package.files.escaping.contains(&path) {
                diags.push(problem(
                    "path-escapes",
                    format!("{kind} path `{given}` is a symlink that leaves the package"),
                ));
                continue;
            }
            let is_dir = package.files.dirs.contains(&path);
            let is_file = package.files.files.contains_key(&path);
            match (kind.is_dir(), is_dir, is_file) {
                (true, true, _) | (false, _, true) => {}
                (true, false, true) => {
                    diags.push(problem("not-a-directory", format!("{kind} path `{given}` is a file, expected a directory"))
                        .hint("point it at the inventory directory that holds hosts.yaml and group_vars/"));
                    continue;
                }
                (false, true, _) => {
                    diags.push(problem(
                        "not-a-file",
                        format!("{kind} path `{given}` is a directory, expected a file"),
                    ));
                    continue;
                }
                _ => {
                    if !layout.abs(&rel_dir).join(&path).exists()
                        || diags.iter().all(|d| d.path != rel_dir.join(&path))
                    {
                        diags.push(
                            problem(
                                "missing-file",
                                format!("{kind} file `{given}` does not exist"),
                            )
                            .hint(format!(
                                "create {} or fix the path",
                                rel_dir.join(&path).display()
                            )),
                        );
                    }
                    continue;
                }
            }
            // Environments often share a file; check each one once.
            if !checked.insert((kind, path.clone())) {
                continue;
            }
            let rel = rel_dir.join(&path);
            if kind == FileKind::KubesprayInventory {
                diags.extend(kinds::check_inventory(&rel, &package.dir_files(&path)));
                continue;
            }
            let text = match kinds::text(&rel, &package.files.files[&path]) {
                Ok(t) => t,
                Err(d) => {
                    diags.push(d);
                    continue;
                }
            };
            diags.extend(match kind {
                FileKind::Terraform => kinds::check_terraform(&rel, &text, &cx),
                FileKind::Provisioner => kinds::check_provisioner(&rel, &text, &cx),
                FileKind::KubesprayConfig => kinds::check_kubespray_config(&rel, &text),
                FileKind::Platform => kinds::check_platform(&rel, &text, &cx),
                FileKind::Business => kinds::check_business(&rel, &text),
                FileKind::KubesprayInventory => unreachable!("handled above"),
            });
        }
    }
}

/// The folder names under `config/packages`, sorted.
pub fn package_folders(layout: &Layout) -> Vec<String> {
    let Ok(entries) = std::fs::read_dir(layout.abs(Layout::packages_rel())) else {
        return Vec::new();
    };
    let mut out: Vec<String> = entries
        .filter_map(Result::ok)
        .filter(|e| e.path().is_dir())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| !n.starts_with('.'))
        .collect();
    out.sort();
    out
}
