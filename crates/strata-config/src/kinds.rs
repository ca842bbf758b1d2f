//! The rules each kind of file in a package environment must follow, one module per kind.

mod business;
mod inventory;
mod kubespray;
mod platform;
mod provisioner;
mod terraform;

use std::path::Path;

use strata_metadata::RoleDefinitions;

use crate::Diagnostic;
use crate::locate::JsonPositions;
use crate::source::decode;

pub(crate) use business::check_business;
pub use inventory::check_inventory;
pub(crate) use kubespray::check_kubespray_config;
pub(crate) use platform::check_platform;
pub use platform::find_cycle;
pub(crate) use provisioner::check_provisioner;
pub use provisioner::parse_size;
pub(crate) use terraform::check_terraform;

/// What per-kind checks may consult beyond the file itself.
pub(crate) struct KindContext<'a> {
    /// The repository root, for local charts.
    pub(crate) root: &'a Path,
    /// Known image roles, when the definitions loaded.
    pub(crate) roles: Option<&'a RoleDefinitions>,
    /// The Terraform modules tfvars must fit.
    pub(crate) terraform_modules: &'a [crate::ModuleVariables],
}

pub(crate) fn text(rel: &Path, bytes: &[u8]) -> Result<String, Diagnostic> {
    decode(rel, bytes.to_vec())
}

/// A lookup of JSON member positions by path, for semantic errors. The file is scanned on the
/// first lookup: a valid file, the common case, is never scanned.
pub(crate) fn json_at(text: &str) -> impl Fn(&[&str]) -> Option<(usize, usize)> {
    let positions = std::cell::OnceCell::new();
    move |path: &[&str]| {
        positions
            .get_or_init(|| JsonPositions::scan(text))
            .get(path)
    }
}

/// Why `name` is not a DNS label Kubernetes accepts, if it is not.
pub(crate) fn dns_label_problem(name: &str, max: usize) -> Option<String> {
    if name.is_empty() || name.len() > max {
        return Some(format!("must be 1 to {max} characters"));
    }
    let ok = name
        .bytes()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !name.starts_with('-')
        && !name.ends_with('-');
    (!ok).then(|| {
        "must be lowercase letters, digits and `-`, starting and ending with a letter or digit"
            .to_owned()
    })
}

/// Reads an Ansible YAML inventory (`hosts.yaml`) from anywhere, as the layers after the bundle
/// do; problems come back as a diagnostic with line and column.
pub fn read_inventory(path: &Path) -> Result<strata_metadata::Inventory, Diagnostic> {
    let bytes = std::fs::read(path).map_err(|e| crate::source::io_diagnostic(path, &e))?;
    let text = decode(path, bytes)?;
    crate::source::parse_yaml(path, &text)
}

/// The hosts of `group` in the order the inventory file lists them: the group's own `hosts:`,
/// then its children's, depth first. Ansible keeps that order, and Kubespray treats the first
/// member of `kube_control_plane` and of `etcd` as the one the others join.
pub fn group_order(path: &Path, group: &str) -> Result<Vec<String>, Diagnostic> {
    use serde_yaml_ng::Value;
    fn find<'a>(node: &'a Value, name: &str) -> Option<&'a Value> {
        let children = node.get("children")?.as_mapping()?;
        children.iter().find_map(|(k, v)| {
            if k.as_str() == Some(name) && (v.get("hosts").is_some() || v.get("children").is_some())
            {
                Some(v)
            } else {
                find(v, name)
            }
        })
    }
    fn collect(root: &Value, node: &Value, seen: &mut Vec<String>, out: &mut Vec<String>) {
        if let Some(hosts) = node.get("hosts").and_then(Value::as_mapping) {
            for host in hosts.keys().filter_map(Value::as_str) {
                if !out.iter().any(|h| h == host) {
                    out.push(host.to_owned());
                }
            }
        }
        if let Some(children) = node.get("children").and_then(Value::as_mapping) {
            for child in children.keys().filter_map(Value::as_str) {
                if seen.iter().any(|s| s == child) {
                    continue;
                }
                seen.push(child.to_owned());
                if let Some(def) = find(root, child) {
                    collect(root, def, seen, out);
                }
            }
        }
    }
    let bytes = std::fs::read(path).map_err(|e| crate::source::io_diagnostic(path, &e))?;
    let text = decode(path, bytes)?;
    let doc: Value = crate::source::parse_yaml(path, &text)?;
    let Some(all) = doc.get("all") else {
        return Ok(Vec::new());
    };
    let mut out = Vec::new();
    if let Some(def) = find(all, group) {
        collect(all, def, &mut vec![group.to_owned()], &mut out);
    }
    Ok(out)
}

/// Checks one file (or, for the inventory, one folder) as its kind, outside any package: what
/// `backfill` runs on an environment's existing files. Diagnostics name the file as `shown`.
pub fn check_source(
    layout: &crate::Layout,
    defs: &crate::Definitions,
    kind: strata_metadata::FileKind,
    path: &Path,
    shown: &Path,
) -> Vec<Diagnostic> {
    use strata_metadata::FileKind;
    if kind == FileKind::KubesprayInventory {
        let Ok(names) = crate::list_files(path) else {
            return vec![
                Diagnostic::error(shown, "missing-file", "the inventory folder cannot be read")
                    .hint("give the folder that holds hosts.yaml"),
            ];
        };
        let files: Vec<(String, Vec<u8>)> = names
            .into_iter()
            .filter_map(|n| std::fs::read(path.join(&n)).ok().map(|b| (n, b)))
            .collect();
        let borrowed: Vec<(&str, &[u8])> = files
            .iter()
            .map(|(n, b)| (n.as_str(), b.as_slice()))
            .collect();
        return check_inventory(shown, &borrowed);
    }
    let bytes = match std::fs::read(path) {
        Ok(b) => b,
        Err(e) => return vec![crate::source::io_diagnostic(shown, &e)],
    };
    let text = match text(shown, &bytes) {
        Ok(t) => t,
        Err(d) => return vec![d],
    };
    let cx = KindContext {
        root: layout.root(),
        roles: defs.roles.as_ref(),
        terraform_modules: &defs.terraform_modules,
    };
    match kind {
        FileKind::Terraform => check_terraform(shown, &text, &cx),
        FileKind::Provisioner => check_provisioner(shown, &text, &cx),
        FileKind::KubesprayConfig => check_kubespray_config(shown, &text),
        FileKind::Platform => check_platform(shown, &text, &cx),
        FileKind::Business => check_business(shown, &text),
        FileKind::KubesprayInventory => unreachable!("handled above"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn group_order_is_the_files_order_with_children_after() {
        let dir = strata_testkit::TempDir::new("inventory");
        strata_testkit::write(
            dir.path(),
            "hosts.yaml",
            "all:\n  hosts:\n    a: {}\n    b: {}\n    c: {}\n  children:\n    kube_control_plane:\n      hosts:\n        c: {}\n        a: {}\n    etcd:\n      children:\n        kube_control_plane: {}\n      hosts:\n        b: {}\n",
        );
        let path = dir.join("hosts.yaml");
        assert_eq!(
            group_order(&path, "kube_control_plane").unwrap(),
            ["c", "a"]
        );
        assert_eq!(group_order(&path, "etcd").unwrap(), ["b", "c", "a"]);
        assert!(group_order(&path, "kube_node").unwrap().is_empty());
    }
}
