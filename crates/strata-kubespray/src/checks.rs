//! Checks before a long Kubespray run: the inventory matches what Terraform created, and a
//! local ansible-core is one the checked-out Kubespray release accepts.

use std::collections::BTreeSet;
use std::path::Path;

use strata_metadata::Inventory;

use crate::KubesprayError;

/// Differences between the inventory and the nodes Terraform recorded (`output -json` of the
/// nodes module, `{"nodes": {"value": {name: {"ip": …}}}}`), as sentences.
pub fn inventory_drift(inventory: &Inventory, nodes_outputs: &serde_json::Value) -> Vec<String> {
    let Some(nodes) = nodes_outputs["nodes"]["value"].as_object() else {
        return Vec::new();
    };
    let mut hosts: BTreeSet<&str> = inventory.hosts_of("kube_control_plane");
    hosts.extend(inventory.hosts_of("kube_node"));
    let mut out = Vec::new();
    for host in &hosts {
        let address = inventory
            .host_vars(host)
            .get("ansible_host")
            .and_then(|v| v.as_str())
            .map(str::to_owned);
        match nodes.get(*host) {
            None => out.push(format!(
                "host `{host}` is in the inventory but not among the nodes Terraform created"
            )),
            Some(node) => {
                let created = node["ip"].as_str().unwrap_or_default();
                if address.as_deref() != Some(created) {
                    out.push(format!(
                        "host `{host}` is at {} in the inventory, but Terraform created it at {created}",
                        address.as_deref().unwrap_or("no address")
                    ));
                }
            }
        }
    }
    for (name, node) in nodes {
        if !hosts.contains(name.as_str()) {
            out.push(format!(
                "node `{name}` ({}) was created by Terraform but is not in the inventory",
                node["ip"].as_str().unwrap_or("no address")
            ));
        }
    }
    out
}

/// The ansible-core range the Kubespray checkout asserts (`playbooks/ansible_version.yml`):
/// `minimal <= version < maximal`.
pub fn ansible_range(checkout: &Path) -> Option<(String, String)> {
    let text = std::fs::read_to_string(checkout.join("playbooks/ansible_version.yml")).ok()?;
    let value = |key: &str| {
        text.lines().find_map(|l| {
            l.trim()
                .strip_prefix(key)?
                .trim()
                .strip_prefix(':')
                .map(|v| v.trim().trim_matches(['"', '\'']).to_owned())
        })
    };
    Some((
        value("minimal_ansible_version")?,
        value("maximal_ansible_version")?,
    ))
}

/// Refuses an ansible-core outside the range the checkout asserts, before a run that would stop
/// at its first task anyway.
pub fn check_ansible_version(checkout: &Path, found: &str) -> Result<(), KubesprayError> {
    let Some((min, max)) = ansible_range(checkout) else {
        return Ok(());
    };
    let v = version(found);
    if v >= version(&min) && v < version(&max) {
        Ok(())
    } else {
        Err(KubesprayError::AnsibleVersion {
            checkout: checkout.to_owned(),
            found: found.to_owned(),
            min,
            max,
        })
    }
}

fn version(s: &str) -> (u64, u64, u64) {
    let mut parts = s.split('.').map(|p| p.parse().unwrap_or(0));
    (
        parts.next().unwrap_or(0),
        parts.next().unwrap_or(0),
        parts.next().unwrap_or(0),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn drift_names_moved_missing_and_extra_hosts() {
        let inv: Inventory = serde_json::from_value(serde_json::json!({"all": {
            "hosts": {"cp1": {"ansible_host": "10.0.0.1"}, "w1": {"ansible_host": "10.0.0.9"}, "w2": {"ansible_host": "10.0.0.3"}},
            "children": {"kube_control_plane": {"hosts": {"cp1": {}}}, "kube_node": {"hosts": {"w1": {}, "w2": {}}}}
        }}))
        .unwrap();
        let outputs = serde_json::json!({"nodes": {"value": {
            "cp1": {"ip": "10.0.0.1"}, "w1": {"ip": "10.0.0.2"}, "w3": {"ip": "10.0.0.4"}
        }}});
        assert_eq!(
            inventory_drift(&inv, &outputs),
            [
                "host `w1` is at 10.0.0.9 in the inventory, but Terraform created it at 10.0.0.2",
                "host `w2` is in the inventory but not among the nodes Terraform created",
                "node `w3` (10.0.0.4) was created by Terraform but is not in the inventory",
            ]
        );
    }

    #[test]
    fn ansible_core_must_fit_the_checkouts_range() {
        let dir = strata_testkit::TempDir::new("kubespray-checkout");
        strata_testkit::write(
            dir.path(),
            "playbooks/ansible_version.yml",
            "- hosts: all\n  vars:\n    minimal_ansible_version: 2.18.0\n    maximal_ansible_version: 2.19.0\n",
        );
        assert!(check_ansible_version(dir.path(), "2.18.6").is_ok());
        let err = check_ansible_version(dir.path(), "2.19.14").unwrap_err();
        assert_eq!(
            err.to_string(),
            "ansible-core 2.19.14 is outside the range this Kubespray checkout accepts (>= 2.18.0, < 2.19.0)"
        );
        assert!(check_ansible_version(dir.path(), "2.17.9").is_err());
        assert!(
            check_ansible_version(&dir.join("nowhere"), "1.0.0").is_ok(),
            "no file: the playbook's own check decides"
        );
    }
}
