//! Broken repositories: each must fail `validate` and `generate env` with exit 2, name the
//! file at fault, and leave the existing bundle byte-for-byte as it was.

use std::path::Path;

use crate::support::{edit, read, repo_with_bundle, write, xtask};

const PKG: &str = "config/packages/core/package.json";
const DEV: &str = "config/packages/core/environments/development";
const HOSTS: &str = "config/packages/core/kubespray/inventory/pn-development/hosts.yaml";
const GENERATE: [&str; 6] = ["generate", "env", "--id", "development", "--config", "core"];

/// Breaks a fresh copy of the sample repository with `mutate`, then checks the contract and
/// snapshots both commands' output.
fn check(name: &str, names_file: &str, mutate: impl FnOnce(&Path)) {
    let repo = repo_with_bundle();
    let root = repo.path();
    let outputs = root.join("api/outputs");
    let before = strata_testkit::read_tree(&outputs);
    mutate(root);

    let validate = xtask(root, &["validate"]);
    let generate = xtask(root, &GENERATE);
    assert_eq!(validate.code, 2, "validate exits 2:\n{}", validate.stderr);
    assert!(
        validate.stderr.contains(names_file),
        "validate names `{names_file}`:\n{}",
        validate.stderr
    );
    assert!(
        generate.code == 2 || generate.code == 0,
        "generate either refuses (2) or is unaffected (0), never crashes:\n{}",
        generate.stderr
    );
    assert!(!validate.stderr.contains("panicked") && !generate.stderr.contains("panicked"));
    assert_eq!(
        strata_testkit::read_tree(&outputs),
        before,
        "the existing bundle is left byte-for-byte unchanged"
    );
    let entries: Vec<_> = std::fs::read_dir(&outputs)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(
        entries,
        ["development"],
        "no staging directory is left behind"
    );

    let text = format!(
        "{}\n{}",
        validate.render(&["validate"], root),
        generate.render(&GENERATE, root)
    );
    insta::assert_snapshot!(name, text);
}

macro_rules! corpus {
    ($($name:ident, $file:expr, $mutate:expr;)*) => {
        $(
            #[test]
            fn $name() {
                check(stringify!($name), $file, $mutate);
            }
        )*
    };
}

fn tfvars() -> String {
    format!("{DEV}.terraform.tfvars")
}

corpus! {
    json_trailing_comma, PKG, |r| edit(r, PKG, "development.business.yaml\"", "development.business.yaml\",");
    json_truncated, PKG, |r| { let t = read(r, PKG); write(r, PKG, &t[..200]) };
    json_wrong_type, "development.provisioner.json", |r| edit(r, &format!("{DEV}.provisioner.json"), "\"40G\"", "40");
    json_unknown_field, PKG, |r| edit(r, PKG, "\"version\"", "\"verison\"");
    json_unknown_variant, "development.kubespray.json", |r| edit(r, &format!("{DEV}.kubespray.json"), "\"docker\"", "\"dokcer\"");
    json_duplicate_environment, PKG, |r| edit(r, PKG, "\"production\": {", "\"staging\": {");
    yaml_tab_indentation, "development.platform.yaml", |r| edit(r, &format!("{DEV}.platform.yaml"), "    namespace: cert-manager\n    chart: jetstack", "\tnamespace: cert-manager\n    chart: jetstack");
    yaml_bad_indentation, "development.business.yaml", |r| edit(r, &format!("{DEV}.business.yaml"), "  - name: storefront\n    namespace", "  - name: storefront\n   namespace");
    yaml_wrong_type, "development.platform.yaml", |r| edit(r, &format!("{DEV}.platform.yaml"), "version: 4.11.3", "version: [4, 11]");
    yaml_unknown_field, "development.platform.yaml", |r| edit(r, &format!("{DEV}.platform.yaml"), "namespace: ingress-nginx", "namespce: ingress-nginx");
    yaml_duplicate_key, "development.business.yaml", |r| edit(r, &format!("{DEV}.business.yaml"), "  project: business\n", "  project: business\n  project: other\n");
    tfvars_syntax, "development.terraform.tfvars", |r| edit(r, &tfvars(), "proxmox_insecure = true", "proxmox_insecure = = true");
    empty_file, "development.business.yaml", |r| write(r, &format!("{DEV}.business.yaml"), "");
    utf8_bom, PKG, |r| { let t = read(r, PKG); write(r, PKG, format!("\u{feff}{t}")) };
    not_utf8, "development.business.yaml", |r| write(r, &format!("{DEV}.business.yaml"), b"config:\n  project: caf\xe9\n");
    file_50_mib, "development.platform.yaml", |r| write(r, &format!("{DEV}.platform.yaml"), vec![b'#'; 50 * 1024 * 1024]);
    missing_referenced_file, PKG, |r| std::fs::remove_file(r.join(format!("{DEV}.platform.yaml"))).unwrap();
    missing_package_json, "package.json", |r| std::fs::remove_file(r.join(PKG)).unwrap();
    directory_where_file_expected, PKG, |r| edit(r, PKG, "\"environments/development.terraform.tfvars\"", "\"kubespray/inventory/pn-development\"");
    file_where_directory_expected, PKG, |r| edit(r, PKG, "\"kubespray/inventory/pn-development\"", "\"environments/development.kubespray.json\"");
    absolute_path, PKG, |r| edit(r, PKG, "\"environments/development.terraform.tfvars\"", "\"/etc/hostname\"");
    parent_escape, PKG, |r| {
        write(r, "outside.tfvars", "a = 1\n");
        edit(r, PKG, "\"environments/development.terraform.tfvars\"", "\"../../../outside.tfvars\"");
    };
    symlink_outside_package, "development.terraform.tfvars", |r| {
        write(r, "outside.tfvars", "a = 1\n");
        std::fs::remove_file(r.join(tfvars())).unwrap();
        std::os::unix::fs::symlink(r.join("outside.tfvars"), r.join(tfvars())).unwrap();
    };
    environment_id_traversal, PKG, |r| edit(r, PKG, "\"development\": {", "\"../prod\": {");
    environment_id_uppercase, PKG, |r| edit(r, PKG, "\"development\": {", "\"Dev\": {");
    environment_id_too_long, PKG, |r| edit(r, PKG, "\"development\": {", &format!("\"{}\": {{", "d".repeat(200)));
    package_id_mismatch, PKG, |r| edit(r, PKG, "\"id\": \"core\"", "\"id\": \"kore\"");
    version_invalid, PKG, |r| edit(r, PKG, "\"0.2.0\"", "\"0.2\"");
    version_v_prefix, PKG, |r| edit(r, PKG, "\"0.2.0\"", "\"v0.2.0\"");
    version_lowered, PKG, |r| edit(r, PKG, "\"0.2.0\"", "\"0.1.9\"");
    content_changed_without_bump, PKG, |r| { let t = read(r, &tfvars()); write(r, &tfvars(), t + "# tweak\n") };
    lock_malformed, "config/packages.lock", |r| write(r, "config/packages.lock", "{\n  \"schemaVersion\": 1,\n  \"packages\": {\n");
    selectors_disagree, "platform/environments/development.yaml", |r| {
        strata_testkit::copy_package(r, "core", "edge");
        assert_eq!(xtask(r, &["config", "lock"]).code, 0);
        edit(r, "platform/environments/development.yaml", "configPackage: core", "configPackage: edge");
    };
    selector_unknown_package, "infrastructure/environments/development.yaml", |r| edit(r, "infrastructure/environments/development.yaml", "configPackage: core", "configPackage: kore");
    selector_hostile_file_name, "infrastructure/environments/Dev.yaml", |r| write(r, "infrastructure/environments/Dev.yaml", "configPackage: core\nenvironment: development\n");
    selector_environment_mismatch, "business/environments/staging.yaml", |r| edit(r, "business/environments/staging.yaml", "environment: staging", "environment: production");
    inventory_missing_etcd, "hosts.yaml", |r| edit(r, HOSTS, "    etcd:\n      hosts:\n        dev-cp-1: {}\n", "");
    inventory_even_etcd, "hosts.yaml", |r| edit(r, HOSTS, "    etcd:\n      hosts:\n        dev-cp-1: {}\n", "    etcd:\n      hosts:\n        dev-cp-1: {}\n        dev-worker-1: {}\n");
    inventory_host_without_address, "hosts.yaml", |r| edit(r, HOSTS, "      ansible_host: 10.10.0.21\n", "");
    tfvars_secret, "development.terraform.tfvars", |r| { let t = read(r, &tfvars()); write(r, &tfvars(), t + "proxmox_api_token = \"root@pam!strata=6f1c0d1e-very-secret\"\n") };
    private_key_file, "id_ed25519", |r| write(r, "config/packages/core/kubespray/inventory/pn-development/id_ed25519", "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQ-very-secret\n-----END OPENSSH PRIVATE KEY-----\n");
    private_key_as_public_key, "development.provisioner.json", |r| edit(r, &format!("{DEV}.provisioner.json"), "\"ssh-ed25519 AAAAC3", "\"-----BEGIN OPENSSH PRIVATE KEY-----\\nvery-secret\\n-----END OPENSSH PRIVATE KEY----- AAAAC3");
    key_material_as_key_path, "development.kubespray.json", |r| edit(r, &format!("{DEV}.kubespray.json"), "\"~/.ssh/strata-development\"", "\"-----BEGIN RSA PRIVATE KEY-----\\nvery-secret\\n-----END RSA PRIVATE KEY-----\"");
    unknown_role, "development.provisioner.json", |r| edit(r, &format!("{DEV}.provisioner.json"), "\"k8s-worker\": {", "\"k8s-wroker\": {");
    needs_cycle, "development.platform.yaml", |r| edit(r, &format!("{DEV}.platform.yaml"), "    values:\n      crds:", "    needs:\n      - argo-cd\n    values:\n      crds:");
    unknown_need, "development.platform.yaml", |r| edit(r, &format!("{DEV}.platform.yaml"), "      - cert-manager\n", "      - cert-manger\n");
    duplicate_release, "development.platform.yaml", |r| edit(r, &format!("{DEV}.platform.yaml"), "  - name: ingress-nginx", "  - name: cert-manager");
    app_without_source, "development.business.yaml", |r| edit(r, &format!("{DEV}.business.yaml"), "    path: apps/storefront/overlays/development\n", "");
    definitions_missing_environment, PKG, |r| edit(r, "api/definitions/environments.yaml", "  staging:\n    description: Pre-production cluster that tracks the current release branch.\n", "");
    definitions_missing_file, "api/definitions/roles.yaml", |r| std::fs::remove_file(r.join("api/definitions/roles.yaml")).unwrap();
}

/// Secrets found in a package are reported without ever being repeated.
#[test]
fn secrets_are_never_echoed() {
    let repo = repo_with_bundle();
    let root = repo.path();
    let t = read(root, &tfvars());
    write(
        root,
        &tfvars(),
        t + "proxmox_password = \"hunter2-very-secret\"\n",
    );
    edit(
        root,
        &format!("{DEV}.kubespray.json"),
        "\"~/.ssh/strata-development\"",
        "\"-----BEGIN RSA PRIVATE KEY-----\\nvery-secret\\n-----END RSA PRIVATE KEY-----\"",
    );
    for args in [
        &["validate"][..],
        &GENERATE,
        &["validate", "--output", "json"],
    ] {
        let run = xtask(root, args);
        assert_eq!(run.code, 2);
        for out in [&run.stdout, &run.stderr] {
            assert!(
                !out.contains("very-secret"),
                "a secret leaked from {args:?}:\n{out}"
            );
        }
    }
}

corpus! {
    tfvars_nested_secret, "development.terraform.tfvars", |r| { let t = read(r, &tfvars()); write(r, &tfvars(), t + "proxmox = {\n  endpoint  = \"https://pve\"\n  api_token = \"root@pam!ci=0a1b2c-very-secret\"\n}\n") };
    platform_values_secret, "development.platform.yaml", |r| edit(r, &format!("{DEV}.platform.yaml"), "      crds:\n        enabled: true\n", "      crds:\n        enabled: true\n      existingSecret: cert-manager-creds\n      webhook:\n        adminPassword: very-secret-hunter2\n");
    kubespray_image_with_tag, "development.kubespray.json", |r| edit(r, &format!("{DEV}.kubespray.json"), "\"quay.io/kubespray/kubespray\"", "\"quay.io/kubespray/kubespray:v2.29.0\"");
    inventory_cluster_group_incomplete, "hosts.yaml", |r| edit(r, HOSTS, "        kube_control_plane: {}\n        kube_node: {}\n", "        kube_control_plane: {}\n");
}

corpus! {
    unknown_project, "development.business.yaml", |r| edit(r, &format!("{DEV}.business.yaml"), "    path: apps/payments-worker/overlays/development\n", "    path: apps/payments-worker/overlays/development\n    project: payments\n");
    default_project_declared, "development.business.yaml", |r| edit(r, &format!("{DEV}.business.yaml"), "\napplications:\n", "\nprojects:\n  - name: default\n\napplications:\n");
    release_timeout_without_unit, "development.platform.yaml", |r| edit(r, &format!("{DEV}.platform.yaml"), "    timeout: 15m\n", "    timeout: 900\n");
    values_file_with_comma, "development.platform.yaml", |r| {
        write(r, "platform/values/issuers,staging.yaml", "acme: {}\n");
        edit(r, &format!("{DEV}.platform.yaml"), "    chart: platform/charts/cluster-issuers\n", "    chart: platform/charts/cluster-issuers\n    valuesFiles:\n      - platform/values/issuers,staging.yaml\n");
    };
    oci_chart_with_repository, "development.platform.yaml", |r| edit(r, &format!("{DEV}.platform.yaml"), "    chart: jetstack/cert-manager\n", "    chart: oci://quay.io/jetstack/charts/cert-manager\n");
}

corpus! {
    duplicate_application, "development.business.yaml", |r| edit(r, &format!("{DEV}.business.yaml"), "  - name: payments-worker", "  - name: storefront");
}

corpus! {
    kubespray_extra_vars_secret, "development.kubespray.json", |r| edit(r, &format!("{DEV}.kubespray.json"), "\"runtime\": \"docker\",", "\"runtime\": \"docker\",\n  \"extraVars\": {\"registry_token\": \"glpat-very-secret\"},");
    business_values_secret, "development.business.yaml", |r| edit(r, &format!("{DEV}.business.yaml"), "      valueFiles:\n", "      values:\n        auth:\n          password: very-secret-pw\n      valueFiles:\n");
    lock_newer_schema, "config/packages.lock", |r| edit(r, "config/packages.lock", "\"schemaVersion\": 1", "\"schemaVersion\": 2");
}

corpus! {
    hidden_private_key, ".keys/id_ed25519", |r| write(r, "config/packages/core/.keys/id_ed25519", "-----BEGIN OPENSSH PRIVATE KEY-----\nvery-secret\n-----END OPENSSH PRIVATE KEY-----\n");
    hidden_file_reference, PKG, |r| {
        std::fs::copy(r.join(tfvars()), r.join("config/packages/core/environments/.development.terraform.tfvars")).unwrap();
        edit(r, PKG, "\"environments/development.terraform.tfvars\"", "\"environments/.development.terraform.tfvars\"");
    };
    inventory_vars_secret, "group_vars/all/all.yml", |r| {
        let vars = "config/packages/core/kubespray/inventory/pn-development/group_vars/all/all.yml";
        let t = read(r, vars);
        write(r, vars, t + "ansible_become_password: very-secret-sudo\n");
    };
}

corpus! {
    tfvars_undeclared_variable, "development.terraform.tfvars", |r| edit(r, &tfvars(), "vlan_id            = 110", "vlan_idd           = 110");
    tfvars_missing_required_variable, "development.terraform.tfvars", |r| edit(r, &tfvars(), "template_name         = \"ubuntu-2404-dev-template\"\n", "");
    tfvars_wrong_type, "development.terraform.tfvars", |r| {
        edit(r, &tfvars(), "proxmox_nodes    = [\"pve-dev-01\"]", "proxmox_nodes    = 42");
        edit(r, &tfvars(), "    cores        = 4\n    memory_mb    = 8192\n    disk_gb      = 60\n  }\n  \"dev-worker-2\"", "    cores        = \"four\"\n    memory_mb    = 8192\n    disk_gb      = 60\n  }\n  \"dev-worker-2\"");
        edit(r, &tfvars(), "    memory_mb    = 4096\n", "");
        edit(r, &tfvars(), "proxmox_insecure = true", "proxmox_insecure = \"yes\"");
    };
}

fn backend(r: &Path, json: &str) {
    edit(
        r,
        PKG,
        "\"description\": \"Proxmox + Kubespray baseline\",",
        &format!(
            "\"description\": \"Proxmox + Kubespray baseline\",\n  \"terraform\": {{\"backend\": {json}}},"
        ),
    );
}

corpus! {
    backend_shared_state, PKG, |r| backend(r, r#"{"type": "pg", "config": {"schema_name": "strata_{env}"}}"#);
    backend_credentials, PKG, |r| backend(r, r#"{"type": "pg", "config": {"schema_name": "strata_{env}_{module}", "conn_str": "postgres://admin:very-secret@db/state"}}"#);
    backend_unknown_type, PKG, |r| backend(r, r#"{"type": "consul", "config": {}}"#);
}

corpus! {
    module_variables_syntax, "infrastructure/platforms/proxmox/terraform/nodes/variables.tf", |r| {
        let vars = "infrastructure/platforms/proxmox/terraform/nodes/variables.tf";
        let t = read(r, vars);
        write(r, vars, format!("{t}\nvariable \"broken\" {{\n  type = \n}}\n"));
    };
}

corpus! {
    inventory_duplicate_host, "hosts.yaml", |r| edit(r, HOSTS, "      ansible_host: 10.10.0.22\n", "      ansible_host: 10.10.0.21\n");
    inventory_bad_address, "hosts.yaml", |r| edit(r, HOSTS, "      ansible_host: 10.10.0.22\n", "      ansible_host: 10.10.0.300\n");
}
