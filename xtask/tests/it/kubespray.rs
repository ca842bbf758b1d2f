//! `cargo xtask kubespray`: the staged inventory, the key checks and every operation's exact
//! command line, with stand-in container runtimes.

use std::os::unix::fs::PermissionsExt;

use crate::support::{edit, read, repo_with_bundle, write, xtask, xtask_env};

const STAGED: &str = "container-orchestration/providers/kubespray/inventory/current";

/// A HOME with `~/.ssh/strata-development`, a private key readable by its owner only.
fn home() -> strata_testkit::TempDir {
    let home = strata_testkit::TempDir::new("home");
    let key = home.join(".ssh/strata-development");
    write(
        home.path(),
        ".ssh/strata-development",
        "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjE=\n-----END OPENSSH PRIVATE KEY-----\n",
    );
    std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o600)).unwrap();
    home
}

struct Setup {
    repo: strata_testkit::TempDir,
    home: strata_testkit::TempDir,
    bin: strata_testkit::TempDir,
    runtime: String,
}

impl Setup {
    fn new(code: i32) -> Self {
        let bin = strata_testkit::TempDir::new("runtime");
        let runtime = strata_testkit::stand_in(
            bin.path(),
            "docker",
            "PLAY RECAP\n",
            "fatal: [dev-cp-1]: FAILED!\n",
            code,
        )
        .display()
        .to_string();
        Self {
            repo: repo_with_bundle(),
            home: home(),
            bin,
            runtime,
        }
    }

    fn run(&self, args: &[&str]) -> crate::support::Run {
        let home = self.home.path().display().to_string();
        xtask_env(
            self.repo.path(),
            args,
            &[
                ("STRATA_CONTAINER_RUNTIME", self.runtime.as_str()),
                ("HOME", home.as_str()),
            ],
        )
    }

    fn calls(&self) -> String {
        let root = self.repo.path().display().to_string();
        let home = self.home.path().display().to_string();
        strata_testkit::stand_in_calls(self.bin.path(), "docker")
            .iter()
            .map(|c| {
                c[1..]
                    .join(" ")
                    .replace(&root, "[ROOT]")
                    .replace(&home, "[HOME]")
            })
            .collect::<Vec<_>>()
            .join("\n")
    }
}

#[test]
fn every_operation_runs_the_playbooks_upstream_documents() {
    let s = Setup::new(0);
    let ops: [&[&str]; 8] = [
        &["deploy"],
        &["reset", "--yes"],
        &["scale"],
        &["scale", "--limit", "dev-worker-3"],
        &["upgrade", "--kube-version", "v1.33.5", "--serial", "1"],
        &["remove-node", "--node", "dev-worker-1,dev-worker-2"],
        &["recover"],
        &[
            "deploy",
            "-e",
            "upstream_dns_servers=[\"1.1.1.1\"]",
            "--tags",
            "network",
            "--skip-tags",
            "download",
        ],
    ];
    for op in ops {
        let mut args = vec!["kubespray"];
        args.extend(op);
        args.extend(["--env", "development"]);
        let run = s.run(&args);
        assert_eq!(run.code, 0, "{op:?}: {}", run.stderr);
    }
    insta::assert_snapshot!("kubespray_operations", s.calls());
}

#[test]
fn destructive_operations_need_their_arguments() {
    let s = Setup::new(0);
    let reset = s.run(&["kubespray", "reset", "--env", "development"]);
    assert_eq!(reset.code, 2);
    assert!(reset.stderr.contains("--yes"), "{}", reset.stderr);
    let remove = s.run(&["kubespray", "remove-node", "--env", "development"]);
    assert_eq!(remove.code, 2);
    assert!(remove.stderr.contains("--node"), "{}", remove.stderr);
    assert_eq!(s.calls(), "", "nothing ran");
}

#[test]
fn the_key_must_be_private_and_owner_only() {
    let s = Setup::new(0);
    let key = s.home.join(".ssh/strata-development");
    std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o644)).unwrap();
    let run = s.run(&["kubespray", "deploy", "--env", "development"]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.contains("is readable by others (mode 644)"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr
            .contains(&format!("hint: run `chmod 600 {}`", key.display())),
        "{}",
        run.stderr
    );

    write(
        s.home.path(),
        ".ssh/strata-development",
        "ssh-ed25519 AAAAC3Nza ops@example.internal\n",
    );
    std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o600)).unwrap();
    let run = s.run(&["kubespray", "deploy", "--env", "development"]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr
            .contains("is not an SSH private key (it is a public key)"),
        "{}",
        run.stderr
    );
    assert!(
        !run.stderr.contains("AAAAC3Nza"),
        "key content is never shown"
    );

    std::fs::remove_file(&key).unwrap();
    let run = s.run(&["kubespray", "deploy", "--env", "development"]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.contains("the SSH private key") && run.stderr.contains("does not exist"),
        "{}",
        run.stderr
    );
    assert_eq!(s.calls(), "", "nothing ran");
}

#[test]
fn staging_swaps_the_whole_inventory() {
    let s = Setup::new(0);
    let root = s.repo.path();
    assert_eq!(
        xtask(
            root,
            &["generate", "env", "--id", "staging", "--config", "core"]
        )
        .code,
        0
    );
    assert_eq!(
        s.run(&["kubespray", "deploy", "--env", "development", "--dry-run"])
            .code,
        0
    );
    assert!(read(root, &format!("{STAGED}/hosts.yaml")).contains("dev-cp-1"));
    write(
        root,
        &format!("{STAGED}/group_vars/all/left-over.yml"),
        "stale: true\n",
    );
    let run = s.run(&["kubespray", "deploy", "--env", "staging", "--dry-run"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let staged = strata_testkit::read_tree(&root.join(STAGED));
    let names: Vec<&String> = staged.keys().collect();
    assert_eq!(
        names,
        [
            ".strata-source",
            "group_vars/all/all.yml",
            "group_vars/k8s_cluster/addons.yml",
            "group_vars/k8s_cluster/k8s-cluster.yml",
            "hosts.yaml"
        ],
        "nothing of the earlier environment survives"
    );
    assert!(read(root, &format!("{STAGED}/hosts.yaml")).contains("stg-cp-1"));
    assert!(
        read(root, &format!("{STAGED}/.strata-source"))
            .starts_with("bundle api/outputs/staging (environment staging) inventory sha256:")
    );
    let again = s.run(&["kubespray", "deploy", "--env", "staging", "--dry-run"]);
    assert!(
        again.stderr.contains("inventory already staged"),
        "{}",
        again.stderr
    );
    // A hand edit in the staged copy is undone: the staged files are checked, not only the record.
    edit(
        root,
        &format!("{STAGED}/hosts.yaml"),
        "stg-cp-1",
        "stg-cp-9",
    );
    let restaged = s.run(&["kubespray", "deploy", "--env", "staging", "--dry-run"]);
    assert!(
        restaged
            .stderr
            .contains("staged the inventory of api/outputs/staging"),
        "{}",
        restaged.stderr
    );
    assert!(read(root, &format!("{STAGED}/hosts.yaml")).contains("stg-cp-1"));
    let leftovers: Vec<_> = std::fs::read_dir(root.join(STAGED).parent().unwrap())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(leftovers, ["current"], "no staging folder left behind");
}

#[test]
fn a_failing_playbook_shows_its_lines_and_exits_1() {
    let s = Setup::new(2);
    let run = s.run(&["kubespray", "deploy", "--env", "development"]);
    assert_eq!(run.code, 1);
    assert!(
        run.stderr.contains("| fatal: [dev-cp-1]: FAILED!"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr
            .contains("hint: the full output is in .strata/development/runs/"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr
            .contains("error: kubespray `cluster.yml` failed:")
            && run.stderr.contains("exited with status 2"),
        "{}",
        run.stderr
    );
}

#[test]
fn the_local_runtime_runs_ansible_playbook_from_the_checkout() {
    let s = Setup::new(0);
    let root = s.repo.path();
    let no_checkout = s.run(&[
        "kubespray",
        "deploy",
        "--env",
        "development",
        "--runtime",
        "local",
        "--dry-run",
    ]);
    assert_eq!(no_checkout.code, 2, "{}", no_checkout.stderr);
    assert!(
        no_checkout
            .stderr
            .contains("the `local` runtime needs `kubesprayPath`"),
        "{}",
        no_checkout.stderr
    );

    let config = "config/packages/core/environments/development.kubespray.json";
    edit(
        root,
        config,
        "\"runtime\": \"docker\",",
        "\"runtime\": \"local\",\n  \"kubesprayPath\": \"/opt/kubespray\",",
    );
    edit(
        root,
        "config/packages/core/package.json",
        "\"0.2.0\"",
        "\"0.2.1\"",
    );
    assert_eq!(xtask(root, &["config", "lock"]).code, 0);
    assert_eq!(
        xtask(
            root,
            &["generate", "env", "--id", "development", "--config", "core"]
        )
        .code,
        0
    );
    let run = xtask_env(
        root,
        &[
            "kubespray",
            "upgrade",
            "--env",
            "development",
            "--kube-version",
            "v1.33.5",
            "--dry-run",
        ],
        &[("PATH", "/nonexistent")],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    let shown = run.stdout.replace(&root.display().to_string(), "[ROOT]");
    let home = std::env::var("HOME").unwrap_or_default();
    insta::assert_snapshot!("kubespray_local_dry_run", shown.replace(&home, "[HOME]"));
}

#[test]
fn warns_when_the_inventory_drifted_from_terraforms_nodes() {
    let s = Setup::new(0);
    let root = s.repo.path();
    write(
        root,
        ".strata/development/terraform/nodes.outputs.json",
        r#"{"nodes": {"sensitive": false, "value": {
            "dev-cp-1": {"ip": "10.10.0.11", "role": "k8s-control-plane"},
            "dev-worker-1": {"ip": "10.10.0.21", "role": "k8s-worker"},
            "dev-worker-2": {"ip": "10.10.0.99", "role": "k8s-worker"},
            "dev-worker-3": {"ip": "10.10.0.23", "role": "k8s-worker"}}}}"#,
    );
    let run = s.run(&["kubespray", "deploy", "--env", "development", "--dry-run"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let warnings: Vec<&str> = run
        .stderr
        .lines()
        .filter(|l| l.starts_with("warning:"))
        .collect();
    assert_eq!(
        warnings,
        [
            "warning: inventory drift: host `dev-worker-2` is at 10.10.0.22 in the inventory, but Terraform created it at 10.10.0.99",
            "warning: inventory drift: node `dev-worker-3` (10.10.0.23) was created by Terraform but is not in the inventory",
        ]
    );
}

#[test]
fn the_local_runtime_refuses_an_ansible_core_the_checkout_does_not_accept() {
    let s = Setup::new(0);
    let root = s.repo.path();
    let checkout = strata_testkit::TempDir::new("kubespray-checkout");
    write(
        checkout.path(),
        "playbooks/ansible_version.yml",
        "- hosts: all\n  vars:\n    minimal_ansible_version: 2.18.0\n    maximal_ansible_version: 2.19.0\n",
    );
    let config = "config/packages/core/environments/development.kubespray.json";
    edit(
        root,
        config,
        "\"runtime\": \"docker\",",
        &format!(
            "\"runtime\": \"local\",\n  \"kubesprayPath\": \"{}\",",
            checkout.path().display()
        ),
    );
    edit(
        root,
        "config/packages/core/package.json",
        "\"0.2.0\"",
        "\"0.2.1\"",
    );
    assert_eq!(xtask(root, &["config", "lock"]).code, 0);
    assert_eq!(
        xtask(
            root,
            &["generate", "env", "--id", "development", "--config", "core"]
        )
        .code,
        0
    );
    let bin = strata_testkit::TempDir::new("ansible");
    let home = s.home.path().display().to_string();
    for (core, want) in [("2.19.14", 2), ("2.18.6", 0)] {
        let ansible = strata_testkit::stand_in(
            bin.path(),
            "ansible-playbook",
            &format!("ansible-playbook [core {core}]\n"),
            "",
            0,
        )
        .display()
        .to_string();
        let run = xtask_env(
            root,
            &["kubespray", "deploy", "--env", "development"],
            &[
                ("STRATA_ANSIBLE_PLAYBOOK", ansible.as_str()),
                ("HOME", home.as_str()),
            ],
        );
        assert_eq!(run.code, want, "{core}: {}", run.stderr);
        if want == 2 {
            assert!(run.stderr.contains("ansible-core 2.19.14 is outside the range this Kubespray checkout accepts (>= 2.18.0, < 2.19.0)"), "{}", run.stderr);
            assert!(
                run.stderr
                    .contains("pip install 'ansible-core>=2.18.0,<2.19.0'"),
                "{}",
                run.stderr
            );
        }
    }
    let calls = strata_testkit::stand_in_calls(bin.path(), "ansible-playbook");
    let deploy = calls
        .iter()
        .find(|c| c.contains(&"cluster.yml".to_owned()))
        .expect("the fitting version ran cluster.yml");
    assert_eq!(
        deploy[0],
        checkout.path().display().to_string(),
        "it runs in the checkout, so its ansible.cfg applies"
    );
}

#[test]
fn a_broken_kubespray_config_in_the_bundle_is_named() {
    let s = Setup::new(0);
    write(
        s.repo.path(),
        "api/outputs/development/kubesprayConfig.json",
        "{\"image\": ",
    );
    let run = s.run(&["kubespray", "deploy", "--env", "development", "--dry-run"]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr
            .contains("cannot read the bundle's Kubespray config")
            && run
                .stderr
                .contains("api/outputs/development/kubesprayConfig.json"),
        "{}",
        run.stderr
    );
}
