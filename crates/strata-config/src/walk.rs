//! Reading a package folder once: every file's bytes and the package's content digest.

use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};

use sha2::{Digest as _, Sha256};
use strata_metadata::Digest;

use crate::Diagnostic;
use crate::source::check_size;

/// Every file of a package, by path relative to the package folder with `/` separators.
#[derive(Debug, Default, Clone)]
pub(crate) struct PackageFiles {
    pub(crate) files: BTreeMap<String, Vec<u8>>,
    pub(crate) dirs: HashSet<String>,
    /// Paths (relative) that are symlinks resolving outside the package.
    pub(crate) escaping: HashSet<String>,
    /// Hidden files (any path segment starting with `.`): not package content, but still
    /// scanned for private keys.
    pub(crate) hidden: BTreeMap<String, Vec<u8>>,
}

impl PackageFiles {
    /// Reads `dir` (the package folder, `rel_dir` relative to the root) recursively. Symlinks
    /// are followed while they stay inside the package; ones that leave it are reported.
    pub(crate) fn read(dir: &Path, rel_dir: &Path, diags: &mut Vec<Diagnostic>) -> Self {
        let out = PackageFiles::default();
        let canonical_root = match dir.canonicalize() {
            Ok(p) => p,
            Err(e) => {
                diags.push(crate::source::io_diagnostic(rel_dir, &e));
                return out;
            }
        };
        let mut walker = Walker {
            visited: HashSet::from([canonical_root.clone()]),
            canonical_root: &canonical_root,
            rel_dir,
            diags,
            out,
        };
        walker.walk(dir, "", false);
        walker.out
    }

    /// The digest of the whole package: every file's relative path and bytes, in path order.
    pub(crate) fn digest(&self) -> Digest {
        let mut h = Sha256::new();
        for (path, bytes) in &self.files {
            h.update(path.as_bytes());
            h.update([0]);
            h.update((bytes.len() as u64).to_le_bytes());
            h.update(bytes);
        }
        Digest::sha256(&h.finalize().into())
    }
}

/// One recursive read of a package folder.
struct Walker<'a> {
    canonical_root: &'a Path,
    rel_dir: &'a Path,
    visited: HashSet<PathBuf>,
    diags: &'a mut Vec<Diagnostic>,
    out: PackageFiles,
}

impl Walker<'_> {
    fn walk(&mut self, dir: &Path, prefix: &str, in_hidden: bool) {
        let (canonical_root, rel_dir) = (self.canonical_root, self.rel_dir);
        let entries = match std::fs::read_dir(dir) {
            Ok(e) => e,
            Err(e) => {
                self.diags
                    .push(crate::source::io_diagnostic(&rel_dir.join(prefix), &e));
                return;
            }
        };
        let mut names: Vec<_> = entries
            .filter_map(Result::ok)
            .map(|e| e.file_name())
            .collect();
        names.sort();
        for name in names {
            let name = name.to_string_lossy().into_owned();
            // Hidden files (editor swap files, `.DS_Store`, `.gitkeep`) are not package content:
            // they neither change the digest nor end up in a bundle.
            let hidden = in_hidden || name.starts_with('.');
            let rel = if prefix.is_empty() {
                name.clone()
            } else {
                format!("{prefix}/{name}")
            };
            let path = dir.join(&name);
            let rel_for_diag = rel_dir.join(&rel);
            let Ok(lmeta) = path.symlink_metadata() else {
                continue;
            };
            let meta = if lmeta.file_type().is_symlink() {
                match path.canonicalize() {
                    Ok(target) if target.starts_with(canonical_root) => match target.metadata() {
                        Ok(m) => {
                            if m.is_dir() && !self.visited.insert(target) {
                                continue;
                            }
                            m
                        }
                        Err(_) => continue,
                    },
                    Ok(target) => {
                        self.diags.push(
                            Diagnostic::error(
                                &rel_for_diag,
                                "path-escapes",
                                format!(
                                    "symlink points outside the package (to `{}`)",
                                    target.display()
                                ),
                            )
                            .hint(
                                "a package must be self-contained: copy the file into the package",
                            ),
                        );
                        self.out.escaping.insert(rel);
                        continue;
                    }
                    Err(_) => {
                        self.diags.push(Diagnostic::error(
                            &rel_for_diag,
                            "missing-file",
                            "symlink target does not exist",
                        ));
                        continue;
                    }
                }
            } else {
                lmeta
            };
            if meta.is_dir() {
                if !hidden {
                    self.out.dirs.insert(rel.clone());
                }
                self.walk(&path, &rel, hidden);
            } else if meta.is_file() {
                if let Err(d) = check_size(&rel_for_diag, meta.len()) {
                    self.diags.push(d);
                    continue;
                }
                match std::fs::read(&path) {
                    Ok(bytes) if hidden => {
                        self.out.hidden.insert(rel, bytes);
                    }
                    Ok(bytes) => {
                        self.out.files.insert(rel, bytes);
                    }
                    Err(e) => self
                        .diags
                        .push(crate::source::io_diagnostic(&rel_for_diag, &e)),
                }
            }
        }
    }
}

/// Resolves `.` and `..` in a package-relative path without touching the disk; `None` when the
/// path is absolute or climbs out of the package.
pub(crate) fn normalize(path: &str) -> Option<String> {
    if path.starts_with('/') || path.starts_with('\\') || Path::new(path).is_absolute() {
        return None;
    }
    let mut parts: Vec<&str> = Vec::new();
    for part in segments(path) {
        match part {
            "" | "." => {}
            ".." => {
                parts.pop()?;
            }
            p => parts.push(p),
        }
    }
    Some(parts.join("/"))
}

/// The segments of a path split at `/` and `\\`, as `str::split(['/', '\\'])` gives them. Every
/// path of every package passes here, so it splits at bytes (both separators are ASCII, so each
/// piece is whole UTF-8) instead of decoding characters, which is slow in the unoptimised build.
pub(crate) fn segments(path: &str) -> impl Iterator<Item = &str> {
    let mut rest = Some(path);
    std::iter::from_fn(move || {
        let s = rest?;
        match s.bytes().position(|b| b == b'/' || b == b'\\') {
            Some(i) => {
                rest = Some(&s[i + 1..]);
                Some(&s[..i])
            }
            None => {
                rest = None;
                Some(s)
            }
        }
    })
}

/// Every file under `dir`, by `/`-separated relative path.
pub fn list_files(dir: &Path) -> std::io::Result<std::collections::BTreeSet<String>> {
    let mut out = std::collections::BTreeSet::new();
    walk_files(dir, "", &mut out)?;
    Ok(out)
}

fn walk_files(
    dir: &Path,
    prefix: &str,
    out: &mut std::collections::BTreeSet<String>,
) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let name = entry.file_name().to_string_lossy().into_owned();
        let rel = if prefix.is_empty() {
            name
        } else {
            format!("{prefix}/{name}")
        };
        if entry.file_type()?.is_dir() {
            walk_files(&entry.path(), &rel, out)?;
        } else {
            out.insert(rel);
        }
    }
    Ok(())
}

/// SHA-256 of bytes, as a [`Digest`].
pub fn sha256(bytes: &[u8]) -> Digest {
    Digest::sha256(&Sha256::digest(bytes).into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn segments_split_like_str_split() {
        for p in ["", "a", "a/b\\c", "/x//y/", "\\", "é/ü\\ß", "a/./../b"] {
            assert_eq!(
                segments(p).collect::<Vec<_>>(),
                p.split(['/', '\\']).collect::<Vec<_>>(),
                "{p:?}"
            );
        }
    }

    #[test]
    fn normalize_keeps_paths_inside() {
        assert_eq!(normalize("a/./b/../c").as_deref(), Some("a/c"));
        assert_eq!(normalize("../x"), None);
        assert_eq!(normalize("a/../../x"), None);
        assert_eq!(normalize("/etc/passwd"), None);
    }
}
