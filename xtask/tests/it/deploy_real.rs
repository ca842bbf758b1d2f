//! Tier 2: `cargo xtask deploy --to kubespray` through the real tools this machine has: qemu-img
//! and cloud-localds build the images, terraform (or OpenTofu) applies the built-ins twin of the Proxmox
//! modules, and the `local` Kubespray runtime runs a test tree with ansible-playbook over SSH
//! to two sshd "hosts" on loopback.

use strata_testkit::real_tool;

use crate::kubespray_real::{hosts, kubespray_tree, repo_on, whoami};
use crate::support::{read, write, xtask, xtask_env};

#[test]
fn deploy_runs_the_real_pieces_together_and_then_nothing() {
    // terraform where the machine has it, else OpenTofu (the Terraform tests cover both).
    let (Some(qemu_img), Some(_), Some(terraform)) = (
        real_tool("qemu-img"),
        real_tool("cloud-localds"),
        strata_testkit::terraform_engines().into_iter().next(),
    ) else {
        return;
    };
    let Some(hosts) = hosts() else { return };
    let user = whoami();
    let tree = kubespray_tree(&user);
    let repo = repo_on(&hosts, tree.path(), &user);
    let root = repo.path();
    let markers = strata_testkit::TempDir::new("markers");

    // Images from a tiny base image; Kubespray told where to leave its markers.
    let base = root.join("images/base.qcow2");
    std::fs::create_dir_all(base.parent().unwrap()).unwrap();
    #[expect(clippy::disallowed_methods, reason = "the test makes its base image")]
    let made = std::process::Command::new(&qemu_img)
        .args(["create", "-q", "-f", "qcow2"])
        .arg(&base)
        .arg("64M")
        .status()
        .unwrap();
    assert!(made.success());
    let sha: String = {
        use sha2::Digest as _;
        sha2::Sha256::digest(std::fs::read(&base).unwrap())
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    };
    let prov = "config/packages/core/environments/development.provisioner.json";
    let mut config: serde_json::Value = serde_json::from_str(&read(root, prov)).unwrap();
    for role in config["roles"].as_object_mut().unwrap().values_mut() {
        role["baseImage"] = serde_json::json!({"path": "images/base.qcow2", "sha256": sha});
        role["diskSize"] = "1G".into();
    }
    write(root, prov, serde_json::to_string_pretty(&config).unwrap());
    // The base image is a local file, so no download URL tells the images phase its checksum:
    // the tfvars state it.
    let tfvars = "config/packages/core/environments/development.terraform.tfvars";
    let text = read(root, tfvars);
    write(
        root,
        tfvars,
        text + &format!("cloud_image_sha256 = \"{sha}\"\n"),
    );
    let ks = "config/packages/core/environments/development.kubespray.json";
    let mut kcfg: serde_json::Value = serde_json::from_str(&read(root, ks)).unwrap();
    kcfg["extraVars"]["marker_dir"] = markers.path().display().to_string().into();
    write(root, ks, serde_json::to_string_pretty(&kcfg).unwrap());
    crate::support::edit(
        root,
        "config/packages/core/package.json",
        "\"0.2.1\"",
        "\"0.2.2\"",
    );
    assert_eq!(xtask(root, &["config", "lock"]).code, 0);
    // The built-ins twin in place of the Proxmox modules.
    let modules = root.join("infrastructure/platforms/proxmox/terraform");
    std::fs::remove_dir_all(&modules).unwrap();
    strata_testkit::copy_dir(
        &strata_testkit::workspace_root()
            .join("crates/strata-terraform/tests/fixtures/proxmox-builtins"),
        &modules,
    );

    let tf = terraform.display().to_string();
    let home = hosts.dir.path().display().to_string();
    let env = [
        ("STRATA_TERRAFORM", tf.as_str()),
        ("TF_CLI_CONFIG_FILE", "/dev/null"),
        ("HOME", home.as_str()),
    ];
    let args = ["deploy", "--env", "development", "--to", "kubespray"];
    let first = xtask_env(root, &args, &env);
    assert_eq!(first.code, 0, "{}\n{}", first.stdout, first.stderr);
    for phase in [
        "validate",
        "generate",
        "provision",
        "images",
        "templates",
        "nodes",
        "kubespray",
    ] {
        assert!(
            first
                .stdout
                .lines()
                .any(|l| l.split_whitespace().take(2).eq([phase, "succeeded"])),
            "{phase}: {}",
            first.stdout
        );
    }
    // Each piece did its real work.
    assert!(
        root.join("provisioner/outputs/development/k8s-worker.img")
            .is_file()
    );
    assert!(read(root, ".strata/development/terraform/nodes.tfstate").contains("dev-cp-1"));
    assert!(markers.join("dev-cp-1").is_file() && markers.join("dev-worker-1").is_file());

    let second = xtask_env(root, &args, &env);
    assert_eq!(second.code, 0, "{}", second.stderr);
    assert!(
        second
            .stdout
            .lines()
            .filter(|l| l.starts_with("  "))
            .all(|l| l.contains("up to date")
                || l.contains("not configured")
                || l.contains("not selected")),
        "{}",
        second.stdout
    );
}
