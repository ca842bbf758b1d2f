//! Repository checks for the Terraform modules.

mod infra;
mod modules;

use std::path::Path;

/// The built-ins twin the real-tool tests apply stands in for the Proxmox modules only while
/// their variables are the same, byte for byte.
#[test]
fn twin_declares_exactly_the_real_modules_variables() {
    let root = strata_testkit::workspace_root();
    for module in strata_config::TERRAFORM_MODULES {
        let real = root
            .join("infrastructure/platforms/proxmox/terraform")
            .join(module)
            .join("variables.tf");
        let twin = root
            .join("crates/strata-terraform/tests/fixtures/proxmox-builtins")
            .join(module)
            .join("variables.tf");
        assert_eq!(
            std::fs::read_to_string(&twin).unwrap(),
            std::fs::read_to_string(&real).unwrap(),
            "{module}: the twin's variables.tf must equal the real module's; copy it over"
        );
    }
}

/// `terraform fmt -check` passes on the modules and the twin (tier 2: needs terraform).
#[test]
fn modules_are_terraform_fmt_clean() {
    for terraform in strata_testkit::terraform_engines() {
        modules_are_terraform_fmt_clean_with(&terraform);
    }
}

fn modules_are_terraform_fmt_clean_with(terraform: &std::path::Path) {
    let root = strata_testkit::workspace_root();
    // A copy: the checkout may hold a staged terraform.tfvars, which is not ours to format.
    let copy = strata_testkit::sample_repo();
    strata_testkit::copy_dir(
        &root.join("crates/strata-terraform/tests/fixtures"),
        &copy.join("fixtures"),
    );
    for dir in [copy.join("infrastructure/platforms"), copy.join("fixtures")] {
        check_fmt(terraform, &dir);
    }
}

fn check_fmt(terraform: &Path, dir: &Path) {
    let cmd = strata_exec::Command::new(terraform, dir)
        .args(["fmt", "-check", "-recursive", "-diff"])
        .env("CHECKPOINT_DISABLE", "1")
        .env("TF_CLI_CONFIG_FILE", "/dev/null");
    let result = strata_exec::run(
        &cmd,
        &strata_exec::RunOptions {
            capture_stdout: true,
            ..Default::default()
        },
    );
    assert!(
        result.is_ok(),
        "terraform fmt -check fails in {}: {result:?}",
        dir.display()
    );
}
