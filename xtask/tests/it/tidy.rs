//! The architecture's rules, checked mechanically on the workspace's own files: which crate may
//! depend on which, every dependency pinned once in the workspace, and no test switched off.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_owned()
}

/// A dependency entry: its section, the dependency's name and the whole line.
type Entry = (String, String, String);

/// Each member's name, its manifest and its `[dependencies]` / `[dev-dependencies]` entries.
fn manifests() -> BTreeMap<String, (PathBuf, Vec<Entry>)> {
    let root = workspace();
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(root.join("crates"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.join("Cargo.toml").is_file())
        .collect();
    dirs.push(root.join("xtask"));
    let mut out = BTreeMap::new();
    for dir in dirs {
        let path = dir.join("Cargo.toml");
        let text = std::fs::read_to_string(&path).unwrap();
        let mut name = String::new();
        let mut section = String::new();
        let mut deps = Vec::new();
        for line in text.lines().map(str::trim) {
            if line.starts_with('[') {
                section = line.trim_matches(['[', ']']).to_owned();
                continue;
            }
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            if section == "package"
                && let Some(v) = line.strip_prefix("name = ")
            {
                name = v.trim_matches('"').to_owned();
            }
            if section == "dependencies" || section == "dev-dependencies" {
                let dep = line
                    .split(['=', '.', ' '])
                    .next()
                    .unwrap_or_default()
                    .to_owned();
                deps.push((section.clone(), dep, line.to_owned()));
            }
        }
        out.insert(name, (path, deps));
    }
    out
}

const TOOL_CRATES: [&str; 4] = [
    "strata-provisioner",
    "strata-terraform",
    "strata-kubespray",
    "strata-helm",
];

/// The crates `krate` must not depend on (normal dependencies), per DESIGN.md's layering.
fn forbidden(krate: &str) -> Vec<&'static str> {
    let mut no = Vec::new();
    match krate {
        "strata-metadata" | "strata-exec" => {
            // The bottom: no crate of ours (exec may use a shared util crate).
            no.extend([
                "strata-metadata",
                "strata-config",
                "strata-bundle",
                "strata-pipeline",
                "strata-deploy",
            ]);
            no.extend(TOOL_CRATES);
            if krate == "strata-metadata" {
                no.push("strata-exec");
            }
        }
        "strata-config" | "strata-bundle" | "strata-pipeline" => {
            no.push("strata-deploy");
            no.extend(TOOL_CRATES);
        }
        k if TOOL_CRATES.contains(&k) => {
            no.extend(["strata-deploy", "strata-pipeline"]);
            no.extend(TOOL_CRATES.iter().filter(|t| **t != k));
        }
        _ => {}
    }
    no
}

#[test]
fn crates_depend_only_downwards() {
    let mut wrong = Vec::new();
    for (krate, (path, deps)) in manifests() {
        for (section, dep, _) in &deps {
            if section == "dependencies" && forbidden(&krate).contains(&dep.as_str()) {
                wrong.push(format!("{}: {krate} depends on {dep}", path.display()));
            }
        }
        // Only the CLI uses the engine (and nobody uses the CLI).
        for (_, dep, _) in &deps {
            if dep == "xtask" || (dep == "strata-deploy" && krate != "xtask") {
                wrong.push(format!("{}: {krate} depends on {dep}", path.display()));
            }
        }
    }
    assert!(wrong.is_empty(), "forbidden edges:\n{}", wrong.join("\n"));
}

#[test]
fn every_dependency_is_pinned_once_in_the_workspace() {
    let mut loose = Vec::new();
    for (krate, (path, deps)) in manifests() {
        for (section, dep, line) in deps {
            if !(line.contains(".workspace = true") || line.contains("workspace = true")) {
                loose.push(format!(
                    "{}: [{section}] {dep} of {krate} is not `{dep}.workspace = true`",
                    path.display()
                ));
            }
        }
    }
    assert!(
        loose.is_empty(),
        "add these to [workspace.dependencies] in the root Cargo.toml and use `workspace = true`:\n{}",
        loose.join("\n")
    );
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            if path
                .file_name()
                .is_some_and(|n| n == "target" || n.to_string_lossy().starts_with('.'))
            {
                continue;
            }
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

#[test]
fn no_test_is_switched_off() {
    let root = workspace();
    let mut files = Vec::new();
    rust_files(&root.join("crates"), &mut files);
    rust_files(&root.join("xtask"), &mut files);
    // Spelled in two halves, so this file does not match itself.
    let attribute = format!("#[{}", "ignore");
    let found: Vec<String> = files
        .iter()
        .filter_map(|f| {
            let text = std::fs::read_to_string(f).ok()?;
            text.lines()
                .position(|l| l.trim_start().starts_with(&attribute))
                .map(|n| format!("{}:{}", f.strip_prefix(&root).unwrap_or(f).display(), n + 1))
        })
        .collect();
    assert!(
        found.is_empty(),
        "a test that never runs proves nothing; make it run (a real tool it needs is installed by `cargo xtask ci`) or delete it:\n{}",
        found.join("\n")
    );
}

#[test]
fn the_layering_rule_catches_a_forbidden_edge() {
    // The rule itself, so a refactor of `forbidden` cannot make every edge allowed.
    assert!(forbidden("strata-helm").contains(&"strata-kubespray"));
    assert!(forbidden("strata-kubespray").contains(&"strata-deploy"));
    assert!(forbidden("strata-metadata").contains(&"strata-exec"));
    assert!(!forbidden("strata-helm").contains(&"strata-exec"));
}
