//! The Kubespray config (`kubesprayConfig.json`) and the inventory (`hosts.yaml`).

use std::collections::{BTreeMap, BTreeSet};

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// The groups every Kubespray inventory must have.
pub const REQUIRED_GROUPS: [&str; 3] = ["kube_control_plane", "kube_node", "etcd"];

/// Group names older Kubespray releases used, with their current names.
pub const LEGACY_GROUPS: [(&str, &str); 3] = [
    ("kube-master", "kube_control_plane"),
    ("kube-node", "kube_node"),
    ("k8s-cluster", "k8s_cluster"),
];

/// How Kubespray is run for an environment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct KubesprayConfig {
    /// The container image without its tag, normally `quay.io/kubespray/kubespray`.
    pub image: String,
    /// The Kubespray release, which is also the image tag (`v2.29.0`).
    pub version: String,
    /// Where the playbooks run.
    #[serde(default)]
    pub runtime: KubesprayRuntime,
    /// The user Ansible connects as; it needs passwordless sudo.
    pub ssh_user: String,
    /// The PATH of the private key on the machine that runs Kubespray. Never the key itself.
    pub ssh_private_key_path: String,
    /// A Kubespray checkout, for the `local` runtime.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kubespray_path: Option<String>,
    /// The Kubernetes version to install (`kube_version`), when not Kubespray's default.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kube_version: Option<String>,
    /// Extra variables passed with `-e`.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub extra_vars: BTreeMap<String, serde_json::Value>,
}

/// Why `kube_version` is not in the form the Kubespray release `kubespray_version` (a tag such
/// as `v2.29.0`) takes, if it is not: from v2.28 Kubespray wants the bare version (`1.33.5`) and
/// stops at its first task on `v1.33.5`; earlier releases want the `v`.
pub fn kube_version_problem(kubespray_version: &str, kube_version: &str) -> Option<String> {
    let release: Vec<u64> = kubespray_version
        .trim_start_matches('v')
        .split('.')
        .map_while(|p| p.parse().ok())
        .collect();
    let (major, minor) = (*release.first()?, *release.get(1)?);
    let bare = (major, minor) >= (2, 28);
    match (bare, kube_version.starts_with('v')) {
        (true, true) => Some(format!(
            "Kubespray {kubespray_version} takes the Kubernetes version without a `v`: `{}`, not `{kube_version}`",
            &kube_version[1..]
        )),
        (false, false) => Some(format!(
            "Kubespray {kubespray_version} takes the Kubernetes version with a `v`: `v{kube_version}`, not `{kube_version}`"
        )),
        _ => None,
    }
}

/// Where Kubespray's playbooks run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum KubesprayRuntime {
    /// The pinned Kubespray image under docker.
    #[default]
    Docker,
    /// The pinned Kubespray image under podman.
    Podman,
    /// `ansible-playbook` from a local Kubespray checkout.
    Local,
}

/// An Ansible YAML inventory: `all:` with `hosts`, `children` and `vars`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Inventory {
    /// The root group.
    pub all: InventoryGroup,
}

/// One inventory group.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct InventoryGroup {
    /// Hosts directly in this group, with their variables (`ansible_host`, `ip`, `access_ip`, …).
    #[serde(
        default,
        skip_serializing_if = "BTreeMap::is_empty",
        deserialize_with = "nullable_map"
    )]
    pub hosts: BTreeMap<String, BTreeMap<String, serde_json::Value>>,
    /// Child groups.
    #[serde(
        default,
        skip_serializing_if = "BTreeMap::is_empty",
        deserialize_with = "nullable_map"
    )]
    pub children: BTreeMap<String, InventoryGroup>,
    /// Group variables.
    #[serde(
        default,
        skip_serializing_if = "BTreeMap::is_empty",
        deserialize_with = "nullable_map"
    )]
    pub vars: BTreeMap<String, serde_json::Value>,
}

/// Ansible writes an empty group or host as `name:` (null); read that as empty.
fn nullable_map<'de, D, K, V>(d: D) -> Result<BTreeMap<K, V>, D::Error>
where
    D: serde::Deserializer<'de>,
    K: Deserialize<'de> + Ord,
    V: Deserialize<'de> + Default,
{
    let map: Option<BTreeMap<K, Option<V>>> = Option::deserialize(d)?;
    Ok(map
        .unwrap_or_default()
        .into_iter()
        .map(|(k, v)| (k, v.unwrap_or_default()))
        .collect())
}

impl Inventory {
    /// Every group name at any depth, `all` excluded.
    pub fn group_names(&self) -> BTreeSet<&str> {
        let mut out = BTreeSet::new();
        fn walk<'a>(g: &'a InventoryGroup, out: &mut BTreeSet<&'a str>) {
            for (name, child) in &g.children {
                out.insert(name.as_str());
                walk(child, out);
            }
        }
        walk(&self.all, &mut out);
        out
    }

    /// The hosts of a group, including those of its child groups.
    ///
    /// Ansible groups are global: every place a name appears is the same group, and a child
    /// listed under a parent (`k8s_cluster: {children: {kube_node: {}}}`) brings in all of that
    /// group's hosts, wherever they are declared. `all` holds every host.
    pub fn hosts_of(&self, name: &str) -> BTreeSet<&str> {
        let mut out = BTreeSet::new();
        let mut seen = BTreeSet::new();
        self.collect(name, &mut out, &mut seen);
        out
    }

    fn collect<'a>(&'a self, name: &str, out: &mut BTreeSet<&'a str>, seen: &mut BTreeSet<String>) {
        if !seen.insert(name.to_owned()) {
            return;
        }
        for group in self.occurrences(name) {
            out.extend(group.hosts.keys().map(String::as_str));
            for child in group.children.keys() {
                self.collect(child, out, seen);
            }
        }
    }

    /// Every place the group `name` appears.
    fn occurrences(&self, name: &str) -> Vec<&InventoryGroup> {
        fn walk<'a>(g: &'a InventoryGroup, name: &str, out: &mut Vec<&'a InventoryGroup>) {
            for (n, child) in &g.children {
                if n == name {
                    out.push(child);
                }
                walk(child, name, out);
            }
        }
        let mut out = Vec::new();
        if name == "all" {
            out.push(&self.all);
        } else {
            walk(&self.all, name, &mut out);
        }
        out
    }

    /// The variables of a host, merged from every group that lists it (later wins, as Ansible
    /// does for equal depth).
    pub fn host_vars(&self, host: &str) -> BTreeMap<&str, &serde_json::Value> {
        let mut out = BTreeMap::new();
        fn walk<'a>(
            g: &'a InventoryGroup,
            host: &str,
            out: &mut BTreeMap<&'a str, &'a serde_json::Value>,
        ) {
            if let Some(vars) = g.hosts.get(host) {
                out.extend(vars.iter().map(|(k, v)| (k.as_str(), v)));
            }
            for child in g.children.values() {
                walk(child, host, out);
            }
        }
        walk(&self.all, host, &mut out);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_kube_version_form_follows_the_kubespray_release() {
        assert!(kube_version_problem("v2.29.0", "1.33.5").is_none());
        assert!(
            kube_version_problem("v2.29.0", "v1.33.5")
                .unwrap()
                .contains("without a `v`: `1.33.5`")
        );
        assert!(kube_version_problem("v2.27.1", "v1.31.4").is_none());
        assert!(kube_version_problem("v2.27.1", "1.31.4").is_some());
        assert!(
            kube_version_problem("main", "v1.33.5").is_none(),
            "not a release: no opinion"
        );
    }

    #[test]
    fn groups_are_global_and_children_bring_their_hosts() {
        let inv: Inventory = serde_json::from_value(serde_json::json!({"all": {
            "hosts": {"cp1": {"ansible_host": "10.0.0.1"}, "w1": {"ansible_host": "10.0.0.2"}},
            "children": {
                "kube_control_plane": {"hosts": {"cp1": null}},
                "kube_node": {"hosts": {"w1": {}}},
                "k8s_cluster": {"children": {"kube_control_plane": {}, "kube_node": null}},
                "loop_a": {"children": {"loop_b": {}}},
                "loop_b": {"children": {"loop_a": {}}}
            }
        }}))
        .unwrap();
        assert_eq!(inv.hosts_of("k8s_cluster"), BTreeSet::from(["cp1", "w1"]));
        assert_eq!(inv.hosts_of("all"), BTreeSet::from(["cp1", "w1"]));
        assert!(inv.hosts_of("loop_a").is_empty(), "cycles end");
        assert_eq!(inv.host_vars("w1")["ansible_host"], "10.0.0.2");
    }
}
