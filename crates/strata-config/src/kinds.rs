//! The rules each kind of file in a package environment must follow.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use strata_metadata::{
    BusinessConfig, Inventory, KubesprayConfig, LEGACY_GROUPS, PlatformConfig, ProvisionerConfig,
    REQUIRED_GROUPS, RoleDefinitions, did_you_mean,
};

use crate::Diagnostic;
use crate::locate::{JsonPositions, hcl_attribute, yaml_entries, yaml_entry, yaml_key};
use crate::source::{decode, parse_json, parse_yaml, yaml_diagnostic};

/// What per-kind checks may consult beyond the file itself.
pub(crate) struct KindContext<'a> {
    /// The repository root, for local charts.
    pub(crate) root: &'a Path,
    /// Known image roles, when the definitions loaded.
    pub(crate) roles: Option<&'a RoleDefinitions>,
}

/// Attribute names whose values are secrets and must come from the environment.
const SECRET_WORDS: [&str; 5] = ["token", "password", "secret", "private_key", "api_key"];

pub(crate) fn text(rel: &Path, bytes: &[u8]) -> Result<String, Diagnostic> {
    decode(rel, bytes.to_vec())
}

/// `terraform.tfvars`: HCL assignments only, and no secret values.
pub(crate) fn check_terraform(rel: &Path, text: &str) -> Vec<Diagnostic> {
    let body = match hcl::parse(text) {
        Ok(body) => body,
        Err(hcl::Error::Parse(e)) => {
            let loc = e.location();
            return vec![
                Diagnostic::error(rel, "invalid-hcl", format!("invalid HCL: {}", e.message()))
                    .at((loc.line(), loc.column())),
            ];
        }
        Err(e) => {
            return vec![Diagnostic::error(
                rel,
                "invalid-hcl",
                format!("invalid HCL: {e}"),
            )];
        }
    };
    let mut out = Vec::new();
    for block in body.blocks() {
        let ident = block.identifier();
        out.push(
            Diagnostic::error(
                rel,
                "tfvars-block",
                format!("tfvars hold only `name = value` assignments, found a `{ident}` block"),
            )
            .at_opt(
                text.lines()
                    .position(|l| l.trim_start().starts_with(ident))
                    .map(|n| (n + 1, 1)),
            ),
        );
    }
    for attr in body.attributes() {
        let key = attr.key();
        let lower = key.to_ascii_lowercase();
        let is_secret_name = SECRET_WORDS.iter().any(|w| lower.contains(w));
        let has_value = matches!(attr.expr(), hcl::Expression::String(s) if !s.is_empty());
        if is_secret_name && has_value {
            out.push(
                Diagnostic::error(rel, "secret-in-package", format!("`{key}` holds a secret value; secrets never belong in a package"))
                    .at_opt(hcl_attribute(text, key))
                    .hint(format!("remove it and export TF_VAR_{key} (or the provider's variable, such as PROXMOX_VE_API_TOKEN) where Terraform runs")),
            );
        }
    }
    out
}

fn json_at(text: &str) -> impl Fn(&[&str]) -> Option<(usize, usize)> {
    let positions = JsonPositions::scan(text);
    move |path: &[&str]| positions.get(path)
}

/// `provisioner.json`: roles that exist, builders with their settings, checksums, sizes and
/// public keys that really are public.
pub(crate) fn check_provisioner(rel: &Path, text: &str, cx: &KindContext<'_>) -> Vec<Diagnostic> {
    let config: ProvisionerConfig = match parse_json(rel, text) {
        Ok(c) => c,
        Err(d) => return vec![d],
    };
    let at = json_at(text);
    let mut out = Vec::new();
    if config.roles.is_empty() {
        out.push(
            Diagnostic::error(
                rel,
                "no-roles",
                "no roles: add at least one image role under `roles`",
            )
            .at_opt(at(&["roles"])),
        );
    }
    for (name, role) in &config.roles {
        if let Some(defs) = cx.roles
            && !defs.roles.contains_key(name)
        {
            let hint = match did_you_mean(name, defs.roles.keys().map(String::as_str)) {
                Some(m) => format!("did you mean `{m}`?"),
                None => format!(
                    "add it to api/definitions/roles.yaml, or use one of: {}",
                    join(defs.roles.keys())
                ),
            };
            out.push(
                Diagnostic::error(
                    rel,
                    "unknown-role",
                    format!("role `{name}` is not defined in api/definitions/roles.yaml"),
                )
                .at_opt(at(&["roles", name]))
                .hint(hint),
            );
        }
        if parse_size(&role.disk_size).is_none() {
            out.push(
                Diagnostic::error(
                    rel,
                    "disk-size",
                    format!("disk size `{}` does not parse", role.disk_size),
                )
                .at_opt(at(&["roles", name, "diskSize"]))
                .hint("write a whole number with a unit, such as `40G` or `40960M`"),
            );
        }
        if let Some(base) = &role.base_image {
            let hex_ok =
                base.sha256.len() == 64 && base.sha256.bytes().all(|b| b.is_ascii_hexdigit());
            if !hex_ok {
                out.push(
                    Diagnostic::error(rel, "checksum", "`baseImage.sha256` is not 64 hex digits")
                        .at_opt(at(&["roles", name, "baseImage", "sha256"])),
                );
            }
            if base.url.is_none() && base.path.is_none() {
                out.push(
                    Diagnostic::error(
                        rel,
                        "base-image",
                        format!("role `{name}`'s base image has neither `url` nor `path`"),
                    )
                    .at_opt(at(&["roles", name, "baseImage"])),
                );
            }
        }
        use strata_metadata::Builder;
        let missing = match role.builder {
            Builder::Packer if role.packer.is_none() => Some("packer"),
            Builder::Command if role.command.is_none() => Some("command"),
            Builder::QemuImg if role.base_image.is_none() => Some("baseImage"),
            _ => None,
        };
        if let Some(section) = missing {
            out.push(
                Diagnostic::error(
                    rel,
                    "builder-settings",
                    format!(
                        "role `{name}` uses the `{}` builder but has no `{section}` settings",
                        builder_name(role.builder)
                    ),
                )
                .at_opt(at(&["roles", name])),
            );
        }
        if let Some(ci) = &role.cloud_init {
            for (u, user) in ci.users.iter().enumerate() {
                for (k, key) in user.ssh_authorized_keys.iter().enumerate() {
                    let pos = at(&[
                        "roles",
                        name,
                        "cloudInit",
                        "users",
                        &u.to_string(),
                        "sshAuthorizedKeys",
                        &k.to_string(),
                    ]);
                    if let Some(d) = check_public_key(rel, key) {
                        out.push(d.at_opt(pos));
                    }
                }
            }
        }
    }
    out
}

fn builder_name(b: strata_metadata::Builder) -> &'static str {
    match b {
        strata_metadata::Builder::QemuImg => "qemu-img",
        strata_metadata::Builder::Packer => "packer",
        strata_metadata::Builder::Command => "command",
    }
}

/// A public key line, or a diagnostic that never repeats the offending content.
fn check_public_key(rel: &Path, key: &str) -> Option<Diagnostic> {
    if key.contains("PRIVATE KEY") {
        return Some(
            Diagnostic::error(
                rel,
                "private-key",
                "a private key is given where a public key is expected",
            )
            .hint("remove it now and rotate that key; put the `.pub` line here instead"),
        );
    }
    let kinds = [
        "ssh-ed25519",
        "ssh-rsa",
        "ecdsa-sha2-",
        "sk-ssh-ed25519@",
        "sk-ecdsa-sha2-",
        "ssh-dss",
    ];
    let first = key.split_whitespace().next().unwrap_or("");
    if !kinds.iter().any(|k| first.starts_with(k)) || key.split_whitespace().count() < 2 {
        return Some(
            Diagnostic::error(rel, "public-key", "this is not an SSH public key line")
                .hint("use the content of a `.pub` file, such as `ssh-ed25519 AAAA… user@host`"),
        );
    }
    None
}

/// Parses sizes such as `40G`, `512M`, `1T` or a plain byte count.
pub fn parse_size(s: &str) -> Option<u64> {
    let s = s.trim();
    let (num, unit) = match s.find(|c: char| !c.is_ascii_digit()) {
        Some(i) => (&s[..i], &s[i..]),
        None => (s, ""),
    };
    let n: u64 = num.parse().ok()?;
    let mul: u64 = match unit {
        "" => 1,
        "K" | "k" | "KiB" => 1 << 10,
        "M" | "MiB" => 1 << 20,
        "G" | "GiB" => 1 << 30,
        "T" | "TiB" => 1 << 40,
        _ => return None,
    };
    n.checked_mul(mul).filter(|&v| v > 0)
}

/// `kubesprayConfig.json`: a pinned release and a key PATH, never a key.
pub(crate) fn check_kubespray_config(rel: &Path, text: &str) -> Vec<Diagnostic> {
    let config: KubesprayConfig = match parse_json(rel, text) {
        Ok(c) => c,
        Err(d) => return vec![d],
    };
    let at = json_at(text);
    let mut out = Vec::new();
    let v = config.version.strip_prefix('v').unwrap_or("");
    if semver::Version::parse(v).is_err() {
        out.push(
            Diagnostic::error(
                rel,
                "kubespray-version",
                format!(
                    "Kubespray version `{}` is not a release tag",
                    config.version
                ),
            )
            .at_opt(at(&["version"]))
            .hint("use the git release tag, which is also the image tag, such as `v2.29.0`"),
        );
    }
    if config.image.trim().is_empty() || config.image.contains(':') && !config.image.contains('/') {
        out.push(Diagnostic::error(rel, "kubespray-image", "`image` must name the image without its tag, such as `quay.io/kubespray/kubespray`")
            .at_opt(at(&["image"])));
    }
    let key = &config.ssh_private_key_path;
    if key.contains("PRIVATE KEY") || key.contains('\n') || key.len() > 1024 {
        out.push(Diagnostic::error(rel, "private-key", "`sshPrivateKeyPath` holds key material; it must be the PATH of the key")
            .at_opt(at(&["sshPrivateKeyPath"]))
            .hint("remove it now and rotate that key; write a path such as `~/.ssh/strata-development`"));
    } else if key.trim().is_empty() {
        out.push(
            Diagnostic::error(rel, "ssh-key", "`sshPrivateKeyPath` is empty")
                .at_opt(at(&["sshPrivateKeyPath"])),
        );
    }
    if config.runtime == strata_metadata::KubesprayRuntime::Local && config.kubespray_path.is_none()
    {
        out.push(
            Diagnostic::error(
                rel,
                "kubespray-path",
                "the `local` runtime needs `kubesprayPath`, a Kubespray checkout",
            )
            .at_opt(at(&["runtime"])),
        );
    }
    out
}

/// The inventory directory: `hosts.yaml` with the groups Kubespray needs, and YAML group_vars.
pub(crate) fn check_inventory(rel_dir: &Path, files: &[(&str, &[u8])]) -> Vec<Diagnostic> {
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
                Ok(t) => {
                    if let Err(e) = serde_yaml_ng::from_str::<serde_yaml_ng::Value>(&t) {
                        out.push(yaml_diagnostic(&rel, &e));
                    }
                }
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
    let groups = inv.group_names();
    let children_pos = yaml_key(&text, &["all", "children"]);
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
                .at_opt(children_pos)
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
    let etcd = inv.hosts_of("etcd");
    if !etcd.is_empty() && etcd.len().is_multiple_of(2) {
        out.push(
            Diagnostic::error(
                &rel,
                "etcd-quorum",
                format!(
                    "`etcd` has {} members; etcd needs an odd number for quorum",
                    etcd.len()
                ),
            )
            .at_opt(yaml_key(&text, &["all", "children", "etcd"]))
            .hint("use 1 member, or 3 or more for high availability"),
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
    out
}

/// `platform.yaml`: unique releases whose `needs` exist and form no cycle; local charts exist.
pub(crate) fn check_platform(rel: &Path, text: &str, cx: &KindContext<'_>) -> Vec<Diagnostic> {
    let config: PlatformConfig = match parse_yaml(rel, text) {
        Ok(c) => c,
        Err(d) => return vec![d],
    };
    let mut out = Vec::new();
    let pos = |name: &str| yaml_entry(text, "name", name);
    let mut seen = BTreeSet::new();
    for r in &config.releases {
        if !seen.insert(r.name.as_str()) {
            let second = yaml_entries(text, "name", &r.name).nth(1);
            out.push(
                Diagnostic::error(
                    rel,
                    "duplicate-release",
                    format!("release `{}` is defined twice", r.name),
                )
                .at_opt(second)
                .hint("release names are unique within an environment; rename or merge one"),
            );
        }
        if let Some(msg) = dns_label_problem(&r.name, 53) {
            out.push(
                Diagnostic::error(
                    rel,
                    "release-name",
                    format!("release name `{}` {msg}", r.name),
                )
                .at_opt(pos(&r.name)),
            );
        }
        let local = !r.chart.starts_with("oci://") && r.repository.is_none();
        if local {
            let chart_dir = cx.root.join(&r.chart);
            if crate::walk::normalize(&r.chart).is_none() || !chart_dir.join("Chart.yaml").is_file()
            {
                out.push(Diagnostic::error(rel, "chart-missing", format!("release `{}`: local chart `{}` has no Chart.yaml", r.name, r.chart))
                    .at_opt(pos(&r.name))
                    .hint("give a chart under platform/charts/, or `repo/chart` with `repository`, or an `oci://` reference"));
            }
        }
    }
    let names: BTreeSet<&str> = config.releases.iter().map(|r| r.name.as_str()).collect();
    for r in &config.releases {
        for need in &r.needs {
            if !names.contains(need.as_str()) {
                let hint = did_you_mean(need, names.iter().copied())
                    .map(|m| format!("did you mean `{m}`?"));
                out.push(
                    Diagnostic::error(
                        rel,
                        "unknown-need",
                        format!(
                            "release `{}` needs `{need}`, which is not a release here",
                            r.name
                        ),
                    )
                    .at_opt(pos(&r.name))
                    .hint_opt(hint),
                );
            }
        }
    }
    let graph: BTreeMap<&str, Vec<&str>> = config
        .releases
        .iter()
        .map(|r| {
            (
                r.name.as_str(),
                r.needs
                    .iter()
                    .map(String::as_str)
                    .filter(|n| names.contains(n))
                    .collect(),
            )
        })
        .collect();
    if let Some(cycle) = find_cycle(&graph) {
        out.push(
            Diagnostic::error(
                rel,
                "needs-cycle",
                format!(
                    "releases need each other in a cycle: {}",
                    cycle.join(" -> ")
                ),
            )
            .at_opt(pos(cycle[0]))
            .hint("remove one of these `needs`"),
        );
    }
    out
}

/// A cycle in a `needs` graph, as the path that closes it.
pub fn find_cycle<'a>(graph: &BTreeMap<&'a str, Vec<&'a str>>) -> Option<Vec<&'a str>> {
    #[derive(Clone, Copy, PartialEq)]
    enum Mark {
        Open,
        Done,
    }
    fn visit<'a>(
        n: &'a str,
        g: &BTreeMap<&'a str, Vec<&'a str>>,
        marks: &mut BTreeMap<&'a str, Mark>,
        stack: &mut Vec<&'a str>,
    ) -> Option<Vec<&'a str>> {
        match marks.get(n) {
            Some(Mark::Done) => return None,
            Some(Mark::Open) => {
                let start = stack.iter().position(|&s| s == n).unwrap_or(0);
                let mut cycle = stack[start..].to_vec();
                cycle.push(n);
                return Some(cycle);
            }
            None => {}
        }
        marks.insert(n, Mark::Open);
        stack.push(n);
        for &m in g.get(n).into_iter().flatten() {
            if let Some(c) = visit(m, g, marks, stack) {
                return Some(c);
            }
        }
        stack.pop();
        marks.insert(n, Mark::Done);
        None
    }
    let mut marks = BTreeMap::new();
    graph
        .keys()
        .find_map(|&n| visit(n, graph, &mut marks, &mut Vec::new()))
}

/// `business.yaml`: unique applications, each with exactly one source.
pub(crate) fn check_business(rel: &Path, text: &str) -> Vec<Diagnostic> {
    let config: BusinessConfig = match parse_yaml(rel, text) {
        Ok(c) => c,
        Err(d) => return vec![d],
    };
    let mut out = Vec::new();
    let mut seen = BTreeSet::new();
    for app in &config.applications {
        let pos = yaml_entry(text, "name", &app.name);
        if !seen.insert(app.name.as_str()) {
            out.push(
                Diagnostic::error(
                    rel,
                    "duplicate-app",
                    format!("application `{}` is defined twice", app.name),
                )
                .at_opt(pos),
            );
        }
        if let Some(msg) = dns_label_problem(&app.name, 63) {
            out.push(
                Diagnostic::error(
                    rel,
                    "app-name",
                    format!("application name `{}` {msg}", app.name),
                )
                .at_opt(pos),
            );
        }
        match (&app.path, &app.chart) {
            (None, None) => out.push(Diagnostic::error(rel, "app-source", format!("application `{}` has no source", app.name))
                .at_opt(pos)
                .hint("set `path` (a folder in the git repository) or `chart` with `repoURL` (a Helm repository)")),
            (Some(_), Some(_)) => out.push(Diagnostic::error(rel, "app-source", format!("application `{}` sets both `path` and `chart`", app.name))
                .at_opt(pos)
                .hint("keep `path` for a git source or `chart` for a Helm repository")),
            (None, Some(_)) if app.repo_url.is_none() => out.push(Diagnostic::error(rel, "app-source", format!("application `{}` names a chart but no `repoURL` for its Helm repository", app.name))
                .at_opt(pos)),
            _ => {}
        }
    }
    out
}

/// Why `name` is not a DNS label Kubernetes accepts, if it is not.
fn dns_label_problem(name: &str, max: usize) -> Option<String> {
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

fn join<'a>(items: impl IntoIterator<Item = &'a String>) -> String {
    items
        .into_iter()
        .map(|s| format!("`{s}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes() {
        assert_eq!(parse_size("40G"), Some(40 << 30));
        assert_eq!(parse_size("512M"), Some(512 << 20));
        assert_eq!(parse_size("1024"), Some(1024));
        assert_eq!(parse_size("forty"), None);
        assert_eq!(parse_size("0G"), None);
        assert_eq!(parse_size("4X"), None);
    }

    #[test]
    fn cycles_are_found() {
        let g = BTreeMap::from([
            ("a", vec!["b"]),
            ("b", vec!["c"]),
            ("c", vec!["a"]),
            ("d", vec![]),
        ]);
        assert_eq!(find_cycle(&g), Some(vec!["a", "b", "c", "a"]));
        let g = BTreeMap::from([("a", vec!["b"]), ("b", vec![])]);
        assert_eq!(find_cycle(&g), None);
    }
}
