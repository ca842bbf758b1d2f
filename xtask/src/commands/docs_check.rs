//! Tests that keep the Mermaid diagrams in `docs/` true: every node names a crate, a deploy
//! phase or a path of the repository, the phase graph is the one `strata-pipeline` runs, and
//! every arrow between crates is a dependency in that crate's `Cargo.toml`.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// Folders commands create (git-ignored): a diagram may name paths inside them.
const GENERATED: [&str; 4] = [
    "api/outputs/",
    "provisioner/outputs/",
    ".strata/",
    "container-orchestration/providers/kubespray/inventory/current",
];

struct Diagram {
    file: PathBuf,
    /// Node id to label (the id itself when unlabelled).
    nodes: Vec<(String, String)>,
    edges: BTreeSet<(String, String)>,
    /// Dotted arrows (`-.->`): a dev-dependency in a crate diagram.
    dotted: BTreeSet<(String, String)>,
}

/// The arrow of an edge line and the text on either side of it.
fn split_edge(t: &str) -> Option<(&str, &'static str, &str)> {
    ["-.->", "==>", "-->", "---"]
        .into_iter()
        .filter_map(|arrow| t.find(arrow).map(|i| (i, arrow)))
        .min_by_key(|(i, _)| *i)
        .map(|(i, arrow)| (&t[..i], arrow, &t[i + arrow.len()..]))
}

/// Every Markdown file a reader sees: README.md, ARCHITECTURE.md and everything under docs/.
pub(crate) fn markdown_files() -> Vec<PathBuf> {
    let mut files = vec![root().join("README.md"), root().join("ARCHITECTURE.md")];
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
            let p = e.path();
            if p.is_dir() {
                walk(&p, out);
            } else if p.extension().is_some_and(|x| x == "md") {
                out.push(p);
            }
        }
    }
    walk(&root().join("docs"), &mut files);
    files.sort();
    files
}

fn diagrams() -> Vec<Diagram> {
    let files = markdown_files();
    let mut out = Vec::new();
    for file in files {
        let text = std::fs::read_to_string(&file).unwrap_or_default();
        let mut current: Option<Diagram> = None;
        for line in text.lines() {
            let t = line.trim();
            if t == "```mermaid" {
                current = Some(Diagram {
                    file: file.clone(),
                    nodes: Vec::new(),
                    edges: BTreeSet::new(),
                    dotted: BTreeSet::new(),
                });
                continue;
            }
            let Some(d) = current.as_mut() else { continue };
            if t.starts_with("```") {
                out.push(current.take().expect("a diagram"));
                continue;
            }
            if t.is_empty()
                || t.starts_with("flowchart")
                || t.starts_with("graph ")
                || t.starts_with("subgraph")
                || t == "end"
                || t.starts_with("%%")
                || t.starts_with("classDef")
                || t.starts_with("class ")
                || t.starts_with("style ")
            {
                continue;
            }
            if let Some((a, arrow, b)) = split_edge(t) {
                // `a -->|label| b`: the edge label is not a node.
                let b = b.trim();
                let b = match b.strip_prefix('|') {
                    Some(rest) => rest.split_once('|').map_or(rest, |(_, r)| r),
                    None => b,
                };
                let (a, b) = (node(a), node(b));
                for (id, label) in [a.clone(), b.clone()] {
                    if !d.nodes.iter().any(|(x, _)| *x == id) || id != label {
                        d.nodes.retain(|(x, _)| *x != id || id != label);
                        if !d.nodes.iter().any(|(x, _)| *x == id) {
                            d.nodes.push((id, label));
                        }
                    }
                }
                if arrow == "-.->" {
                    d.dotted.insert((a.0, b.0));
                } else {
                    d.edges.insert((a.0, b.0));
                }
            } else {
                let (id, label) = node(t);
                d.nodes.retain(|(x, _)| *x != id);
                d.nodes.push((id, label));
            }
        }
    }
    out
}

/// `id["label"]`, `id[label]`, `id("label")` or a bare `id`.
fn node(s: &str) -> (String, String) {
    let s = s.trim();
    match s.find(['[', '(', '{']) {
        Some(i) => {
            let id = s[..i].trim().to_owned();
            let label = s[i..]
                .trim_matches(['[', ']', '(', ')', '{', '}', '"'])
                .to_owned();
            (id, label)
        }
        None => (s.to_owned(), s.to_owned()),
    }
}

fn crates() -> BTreeSet<String> {
    let mut out: BTreeSet<String> = std::fs::read_dir(root().join("crates"))
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    out.insert("xtask".to_owned());
    out
}

fn phases() -> BTreeSet<String> {
    strata_metadata::Phase::ALL
        .iter()
        .map(|p| p.name().to_owned())
        .collect()
}

fn deps(krate: &str, section: &str) -> BTreeSet<String> {
    let manifest = if krate == "xtask" {
        root().join("xtask/Cargo.toml")
    } else {
        root().join("crates").join(krate).join("Cargo.toml")
    };
    let text = std::fs::read_to_string(manifest).unwrap_or_default();
    // Normal dependencies only: up to the next section.
    let mut out = BTreeSet::new();
    let mut in_deps = false;
    for line in text.lines() {
        if line.starts_with('[') {
            in_deps = line.trim() == section;
            continue;
        }
        if in_deps && let Some((name, _)) = line.split_once('.') {
            out.insert(name.trim().to_owned());
        }
    }
    out
}

#[test]
fn mermaid_diagrams_name_only_what_exists() {
    let crates = crates();
    let phases = phases();
    let all = diagrams();
    assert!(
        !all.is_empty(),
        "docs/general/modular-architecture.md has Mermaid diagrams"
    );
    let mut problems = Vec::new();
    for d in &all {
        for (id, label) in &d.nodes {
            let name = label.split(" (").next().unwrap_or(label).trim();
            let ok = crates.contains(name)
                || phases.contains(name)
                || root().join(name).exists()
                || GENERATED.iter().any(|g| name.starts_with(g) || *g == name);
            if !ok {
                problems.push(format!(
                    "{}: node `{id}` names `{name}`, which is no crate, phase or path",
                    d.file.display()
                ));
            }
        }
        let labels = |id: &str| -> String {
            d.nodes
                .iter()
                .find(|(n, _)| n == id)
                .map_or(id.to_owned(), |(_, l)| l.clone())
        };
        // A diagram of phases is the graph deploy runs.
        if d.nodes.iter().all(|(_, l)| phases.contains(l.as_str())) && !d.edges.is_empty() {
            let code: BTreeSet<(String, String)> = strata_pipeline::mermaid()
                .lines()
                .filter_map(|l| l.split_once("-->"))
                .map(|(a, b)| (a.trim().to_owned(), b.trim().to_owned()))
                .collect();
            let drawn: BTreeSet<(String, String)> = d
                .edges
                .iter()
                .map(|(a, b)| (labels(a), labels(b)))
                .collect();
            if drawn != code {
                problems.push(format!(
                    "{}: the phase graph differs from strata-pipeline's: drawn {drawn:?}, code {code:?}",
                    d.file.display()
                ));
            }
        }
        // An arrow between two crates is a dependency.
        for (a, b) in &d.edges {
            let (a, b) = (labels(a), labels(b));
            if crates.contains(&a)
                && crates.contains(&b)
                && !deps(&a, "[dependencies]").contains(&b)
            {
                problems.push(format!(
                    "{}: `{a} --> {b}`, but {a} does not depend on {b}",
                    d.file.display()
                ));
            }
        }
        for (a, b) in &d.dotted {
            let (a, b) = (labels(a), labels(b));
            if crates.contains(&a)
                && crates.contains(&b)
                && !deps(&a, "[dev-dependencies]").contains(&b)
            {
                problems.push(format!(
                    "{}: `{a} -.-> {b}`, but {b} is no dev-dependency of {a}",
                    d.file.display()
                ));
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}
