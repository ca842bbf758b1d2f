//! What the real Proxmox modules say, read from their HCL: the settings a first deploy on the
//! bpg/proxmox provider depends on. The provider cannot be downloaded here, so these hold the
//! modules to what its source says (see the comments), not to a plan.

use hcl::{Block, Body, Expression};

/// The provider range the modules are pinned to. Every attribute the modules set was checked
/// against the provider's source at both ends, v0.109.0 and v0.111.1.
const PINNED: &str = ">= 0.109.0, < 0.112.0";

fn module(name: &str) -> Body {
    let dir = strata_testkit::workspace_root()
        .join("infrastructure/platforms/proxmox/terraform")
        .join(name);
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "tf"))
        .filter(|p| !p.to_string_lossy().ends_with("_override.tf"))
        .collect();
    files.sort();
    let mut body = Body::default();
    for f in files {
        let parsed = hcl::parse(&std::fs::read_to_string(&f).unwrap()).unwrap();
        body.0.extend(parsed.0);
    }
    body
}

fn resources<'a>(body: &'a Body, kind: &str) -> Vec<&'a Block> {
    body.blocks()
        .filter(|b| b.identifier() == "resource" && b.labels()[0].as_str() == kind)
        .collect()
}

fn one<'a>(body: &'a Body, kind: &str) -> &'a Block {
    let found = resources(body, kind);
    assert_eq!(found.len(), 1, "one `{kind}` resource");
    found[0]
}

fn attr<'a>(body: &'a Body, key: &str) -> Option<&'a Expression> {
    body.attributes().find(|a| a.key() == key).map(|a| a.expr())
}

fn block<'a>(body: &'a Body, ident: &str) -> Vec<&'a Block> {
    body.blocks().filter(|b| b.identifier() == ident).collect()
}

fn expr(text: &str) -> Expression {
    text.parse().unwrap()
}

fn variable<'a>(body: &'a Body, name: &str) -> &'a Block {
    body.blocks()
        .find(|b| b.identifier() == "variable" && b.labels()[0].as_str() == name)
        .unwrap_or_else(|| panic!("variable `{name}` is declared"))
}

/// Each module pins the provider to the tested range; `~> 0.66` let `init` pick any of some
/// 45 minor releases, breaking changes included.
#[test]
fn every_module_pins_the_tested_provider_range() {
    for name in strata_config::TERRAFORM_MODULES {
        let body = module(name);
        let terraform = block(&body, "terraform");
        let providers = block(terraform[0].body(), "required_providers");
        let Some(Expression::Object(proxmox)) = attr(providers[0].body(), "proxmox") else {
            panic!("{name}: required_providers.proxmox is an object");
        };
        let field = |k: &str| {
            proxmox
                .iter()
                .find(|(key, _)| key.to_string() == k)
                .map(|(_, v)| v.clone())
        };
        assert_eq!(field("source"), Some(expr("\"bpg/proxmox\"")), "{name}");
        assert_eq!(
            field("version"),
            Some(Expression::String(PINNED.to_owned())),
            "{name}"
        );
    }
}

/// `proxmox_virtual_environment_download_file` is deprecated from v0.100; `proxmox_download_file`
/// is its name in the whole pinned range (`fwprovider/nodes/resource_download_file_short.go`).
#[test]
fn no_module_uses_a_deprecated_resource_name() {
    for name in strata_config::TERRAFORM_MODULES {
        let body = module(name);
        assert!(
            resources(&body, "proxmox_virtual_environment_download_file").is_empty(),
            "{name} uses the deprecated download resource"
        );
    }
}

/// The image is downloaded once, by the node that builds the template, checked against its
/// SHA-256. One download per Proxmox node fails on shared storage (the second finds the file).
#[test]
fn the_image_is_downloaded_once_and_checked() {
    let body = module("images");
    let download = one(&body, "proxmox_download_file").body();
    assert_eq!(attr(download, "for_each"), None, "no download per node");
    assert_eq!(attr(download, "count"), None, "no download per node");
    assert_eq!(
        attr(download, "node_name"),
        Some(&expr("var.proxmox_nodes[0]")),
        "the template's node downloads it"
    );
    assert_eq!(
        attr(download, "checksum"),
        Some(&expr("var.cloud_image_sha256"))
    );
    assert_eq!(
        attr(download, "checksum_algorithm"),
        Some(&expr("\"sha256\""))
    );
    let sha = variable(&body, strata_config::IMAGE_CHECKSUM_VARIABLE).body();
    assert_eq!(attr(sha, "type"), Some(&expr("string")));
    assert_eq!(attr(sha, "default"), None, "the checksum is never optional");
    let templates = module("templates");
    let locals = block(&templates, "locals");
    assert_eq!(
        attr(locals[0].body(), "template_node"),
        Some(&expr("var.proxmox_nodes[0]")),
        "the template is built where the image is"
    );
}

/// The clone's redeclared `virtio0` keeps the template's `discard = "on"`: a disk block takes
/// only what it says (at create from provider v0.74).
#[test]
fn the_clone_disk_keeps_discard() {
    for (name, kind) in [
        ("templates", "proxmox_virtual_environment_vm"),
        ("nodes", "proxmox_virtual_environment_vm"),
    ] {
        let body = module(name);
        let vm = one(&body, kind).body();
        let disks = block(vm, "disk");
        let virtio0 = disks
            .iter()
            .find(|d| attr(d.body(), "interface") == Some(&expr("\"virtio0\"")))
            .unwrap_or_else(|| panic!("{name}: a virtio0 disk"));
        assert_eq!(
            attr(virtio0.body(), "discard"),
            Some(&expr("\"on\"")),
            "{name}"
        );
    }
}

/// The guest agent is enabled only when the image runs it, and without it a destroy stops the
/// VM rather than waiting 30 minutes for a shutdown the guest never hears of.
#[test]
fn the_guest_agent_follows_the_image() {
    for name in ["templates", "nodes"] {
        let body = module(name);
        let vm = one(&body, "proxmox_virtual_environment_vm").body();
        let agent = block(vm, "agent");
        assert_eq!(
            attr(agent[0].body(), "enabled"),
            Some(&expr("var.qemu_guest_agent")),
            "{name}"
        );
        assert_eq!(
            attr(vm, "stop_on_destroy"),
            Some(&expr("!var.qemu_guest_agent")),
            "{name}"
        );
        let var = variable(&body, "qemu_guest_agent").body();
        assert_eq!(attr(var, "type"), Some(&expr("bool")), "{name}");
        assert_eq!(
            attr(var, "default"),
            Some(&expr("false")),
            "{name}: a stock cloud image has no agent"
        );
    }
}

/// The template's disk comes from `file_id`, which the provider imports over SSH: the module
/// says so (required, not "may"), so nobody starts with an API token alone.
#[test]
fn the_template_module_says_ssh_is_required() {
    let root = strata_testkit::workspace_root().join("infrastructure/platforms/proxmox");
    let provider = std::fs::read_to_string(root.join("terraform/templates/provider.tf")).unwrap();
    assert!(
        provider.contains("SSH to the Proxmox node is required")
            && provider.contains("PROXMOX_VE_SSH_USERNAME")
            && provider.contains("sudo"),
        "{provider}"
    );
    let body = module("templates");
    let vm = one(&body, "proxmox_virtual_environment_vm").body();
    let disk = block(vm, "disk");
    assert!(
        attr(disk[0].body(), "file_id").is_some() && attr(disk[0].body(), "import_from").is_none(),
        "the disk is imported with file_id (over SSH), which strata_terraform::SSH_MODULES covers"
    );
    assert!(strata_terraform::SSH_MODULES.contains(&"templates"));
}
