//! The Kubespray inventory directory: `hosts.yaml` and YAML `group_vars`.

use std::collections::BTreeSet;
use std::path::Path;

use strata_metadata::{FromYaml, Inventory, LEGACY_GROUPS, REQUIRED_GROUPS};

use super::text;
use crate::locate::yaml_key;
use crate::source::{parse_yaml, yaml_diagnostic};
use crate::{Diagnostic, secrets};

/// The inventory directory: `hosts.yaml` with the groups Kubespray needs, and YAML group_vars.
///
/// `files` are the directory's files by relative path; diagnostics name them under `rel_dir`.
/// Packages are checked with this at validation, and staged inventories again before a run.
pub fn check_inventory(rel_dir: &Path, files: &[(&str, &[u8])]) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    let hosts = files
        .iter()
        .find(|(p, _)| *p == "hosts.yaml" || *p == "hosts.yml");
    let Some((hosts_name, hosts_bytes)) = hosts else {
        let hint = if files.iter().any(|(p, _)| p.ends_with(".ini")) {
            "Strata reads YAML inventories: convert with `ansible-inventory -i inventory.ini --list -y > hosts.yaml`"
        } else {
            "add hosts.yaml with `all:` → `children:` → kube_control_plane, kube_node, etcd"
        };
        return vec![
            Diagnostic::error(rel_dir, "inventory-hosts", "inventory has no hosts.yaml").hint(hint),
        ];
    };
    for (p, bytes) in files {
        let is_yaml = p.ends_with(".yml") || p.ends_with(".yaml");
        if is_yaml && p != hosts_name {
            let rel = rel_dir.join(p);
            match text(&rel, bytes) {
                Ok(t) => match <serde_yaml_ng::Value as FromYaml>::from_yaml(&t) {
                    Ok(vars) => out.extend(var_secrets(&rel, &t, &vars)),
                    Err(e) => out.push(yaml_diagnostic(&rel, &e)),
                },
                Err(d) => out.push(d),
            }
        }
    }
    let rel = rel_dir.join(hosts_name);
    let text = match text(&rel, hosts_bytes) {
        Ok(t) => t,
        Err(d) => {
            out.push(d);
            return out;
        }
    };
    let inv: Inventory = match parse_yaml(&rel, &text) {
        Ok(i) => i,
        Err(d) => {
            out.push(d);
            return out;
        }
    };
    if let Ok(raw) = <serde_yaml_ng::Value as FromYaml>::from_yaml(&text) {
        out.extend(var_secrets(&rel, &text, &raw));
    }
    let groups = inv.group_names();
    // Only a problem needs a position, so the keys are searched for then.
    let children_pos = || yaml_key(&text, &["all", "children"]);
    for (legacy, new) in LEGACY_GROUPS {
        if groups.contains(legacy) {
            out.push(
                Diagnostic::warning(
                    &rel,
                    "legacy-group",
                    format!("group `{legacy}` is the old name of `{new}`"),
                )
                .at_opt(yaml_key(&text, &["all", "children", legacy]))
                .hint(format!("rename it to `{new}`")),
            );
        }
    }
    for group in REQUIRED_GROUPS {
        if !groups.contains(group) {
            let legacy = LEGACY_GROUPS
                .iter()
                .find(|(_, n)| *n == group)
                .map(|(l, _)| *l);
            let hint = match legacy {
                Some(l) if groups.contains(l) => format!("rename `{l}` to `{group}`"),
                _ => format!("add `{group}:` with its `hosts:` under `all.children`"),
            };
            out.push(
                Diagnostic::error(
                    &rel,
                    "inventory-group",
                    format!("inventory has no `{group}` group"),
                )
                .at_opt(children_pos())
                .hint(hint),
            );
        } else if inv.hosts_of(group).is_empty() && group != "kube_node" {
            out.push(
                Diagnostic::error(
                    &rel,
                    "inventory-group",
                    format!("group `{group}` has no hosts"),
                )
                .at_opt(yaml_key(&text, &["all", "children", group])),
            );
        }
    }
    if groups.contains("k8s_cluster") {
        let cluster = inv.hosts_of("k8s_cluster");
        let mut missing: Vec<&str> = inv
            .hosts_of("kube_control_plane")
            .union(&inv.hosts_of("kube_node"))
            .filter(|h| !cluster.contains(*h))
            .copied()
            .collect();
        missing.sort_unstable();
        if !missing.is_empty() {
            out.push(
                Diagnostic::error(&rel, "inventory-group", format!("`k8s_cluster` leaves out {}", missing.iter().map(|h| format!("`{h}`")).collect::<Vec<_>>().join(", ")))
                    .at_opt(yaml_key(&text, &["all", "children", "k8s_cluster"]))
                    .hint("declare `k8s_cluster` with children `kube_control_plane` and `kube_node`, or drop it: Kubespray derives it"),
            );
        }
    }
    // Kubespray's own assertion (roles/validate_inventory) refuses an even etcd unless a run
    // passes `ignore_assert_errors`, which its procedure for adding an etcd member does: the
    // inventory holds the even count between adding the new member and removing an old one. So
    // a package may hold it (a warning), and a run without that variable is refused.
    let etcd = inv.hosts_of("etcd");
    if !etcd.is_empty() && etcd.len().is_multiple_of(2) {
        out.push(
            Diagnostic::warning(
                &rel,
                "etcd-quorum",
                format!(
                    "`etcd` has {} members; etcd needs an odd number for quorum",
                    etcd.len()
                ),
            )
            .at_opt(yaml_key(&text, &["all", "children", "etcd"]))
            .hint("use 1 member, or 3 or more for high availability; an even count is only a step of adding or replacing a member, and Kubespray runs it only with `-e ignore_assert_errors=yes`"),
        );
    }
    let mut k8s: BTreeSet<&str> = BTreeSet::new();
    for g in ["kube_control_plane", "kube_node", "etcd"] {
        k8s.extend(inv.hosts_of(g));
    }
    for host in k8s {
        if !inv.host_vars(host).contains_key("ansible_host") {
            out.push(
                Diagnostic::error(
                    &rel,
                    "inventory-host",
                    format!("host `{host}` has no `ansible_host`"),
                )
                .at_opt(
                    yaml_key(&text, &["all", "hosts", host]).or_else(|| yaml_key(&text, &[host])),
                )
                .hint("set `ansible_host` to the address Ansible connects to"),
            );
        }
    }
    // Addresses must parse, and one machine must not appear twice under different names: a
    // duplicate gets the same node configured twice, with two identities.
    let mut seen: std::collections::BTreeMap<String, &str> = std::collections::BTreeMap::new();
    for host in inv.hosts_of("all") {
        let vars = inv.host_vars(host);
        let pos = || yaml_key(&text, &["all", "hosts", host]).or_else(|| yaml_key(&text, &[host]));
        for key in ["ansible_host", "ip", "access_ip"] {
            let Some(value) = vars.get(key) else { continue };
            let address = value
                .as_str()
                .map(str::to_owned)
                .unwrap_or_else(|| value.to_string());
            if !is_address(&address) {
                out.push(
                    Diagnostic::error(
                        &rel,
                        "inventory-address",
                        format!(
                            "host `{host}`: `{key}` is `{address}`, not an IP address or host name"
                        ),
                    )
                    .at_opt(pos()),
                );
            } else if key == "ansible_host"
                && let Some(first) = seen.insert(address.clone(), host)
            {
                out.push(
                    Diagnostic::error(
                        &rel,
                        "inventory-duplicate-host",
                        format!("hosts `{first}` and `{host}` have the same address {address}"),
                    )
                    .at_opt(pos())
                    .hint("list each machine once, under one name"),
                );
            }
        }
    }
    out
}

/// Secrets in inventory variables (`ansible_become_password`, `vault_token`, …).
fn var_secrets(rel: &Path, text: &str, vars: &serde_yaml_ng::Value) -> Vec<Diagnostic> {
    let mut found = Vec::new();
    if secrets::is_plain_yaml(vars) {
        // The common case, walked as it is: the same paths as the JSON below would give.
        secrets::yaml_secrets(vars, "vars", &mut found);
    } else {
        // YAML with keys JSON cannot hold (null, lists) has no variables worth checking by
        // name; other keys (numbers, tags) are named as JSON names them.
        let Ok(json) = serde_json::to_value(vars) else {
            return Vec::new();
        };
        secrets::json_secrets(&json, "vars", &mut found);
    }
    found
        .iter()
        .map(|path| {
            let path = path.strip_prefix("vars.").unwrap_or(path);
            secrets::secret_diagnostic(
                rel,
                text,
                path,
                "keep it in Ansible Vault or pass it with `-e` from the environment at run time",
            )
        })
        .collect()
}

/// An IP address, or a host name made of DNS labels.
fn is_address(s: &str) -> bool {
    if s.parse::<std::net::IpAddr>().is_ok() {
        return true;
    }
    let label = |l: &str| {
        !l.is_empty()
            && l.len() <= 63
            && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
            && !l.starts_with('-')
            && !l.ends_with('-')
    };
    // A dotted quad that failed to parse is a broken address, not a name.
    let numeric = s.bytes().all(|b| b.is_ascii_digit() || b == b'.');
    !numeric && s.len() <= 253 && s.split('.').all(label)
}
