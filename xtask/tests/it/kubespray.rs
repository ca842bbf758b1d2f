//! `cargo xtask kubespray`: the staged inventory, the key checks and every operation's exact
//! command line, with stand-in container runtimes.

use std::os::unix::fs::PermissionsExt;

use strata_metadata::output::{
    KubesprayOutput, KubesprayStatusOutput, KubesprayValidateOutput, Refusal,
};

use crate::support::{
    document, edit, generate_unchecked, read, repo_with_bundle, write, xtask, xtask_env,
};

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
    let ops: [&[&str]; 11] = [
        &["deploy"],
        &["deploy", "--limit", "kube_control_plane"],
        &["reset", "--yes"],
        &["scale"],
        &["scale", "--limit", "dev-worker-3"],
        &["upgrade", "--kube-version", "1.33.5", "--serial", "1"],
        &[
            "upgrade",
            "--kube-version",
            "1.33.5",
            "--limit",
            "dev-worker-1",
        ],
        &["remove-node", "--node", "dev-worker-1,dev-worker-2"],
        &["recover"],
        &["recover", "--limit", "etcd,kube_control_plane"],
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
    let json = s.run(&[
        "kubespray",
        "recover",
        "--env",
        "development",
        "--output",
        "json",
    ]);
    let ran: KubesprayOutput = document(&json);
    assert_eq!((ran.ok, ran.runtime.as_str()), (true, "docker"));
    assert!(ran.inventory.digest.starts_with("sha256:"), "{ran:#?}");
    assert!(
        ran.commands
            .iter()
            .any(|c| c.contains("recover-control-plane.yml")),
        "{ran:#?}"
    );
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
            "1.33.5",
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
            // ansible-core alone lacks the collections Kubespray needs (ansible.utils, …).
            assert!(
                run.stderr.contains(&format!(
                    "pip install -r {}/requirements.txt",
                    checkout.path().display()
                )) && !run.stderr.contains("pip install 'ansible-core"),
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

/// What `ansible all -m ping` prints (the default `minimal` output) when every host but `down`
/// answers, and its exit code (4 when a host is unreachable).
fn ping_output(hosts: &[(&str, &str)], down: &[&str]) -> (String, i32) {
    let mut out = String::new();
    for (host, address) in hosts {
        if down.contains(host) {
            out.push_str(&format!(
                "{host} | UNREACHABLE! => {{\n    \"changed\": false,\n    \"msg\": \"Task failed: Failed to connect to the host via ssh: ssh: connect to host {address} port 22: No route to host\",\n    \"unreachable\": true\n}}\n"
            ));
        } else {
            out.push_str(&format!(
                "{host} | SUCCESS => {{\n    \"changed\": false,\n    \"ping\": \"pong\"\n}}\n"
            ));
        }
    }
    (out, if down.is_empty() { 0 } else { 4 })
}

const DEV_HOSTS: [(&str, &str); 3] = [
    ("dev-cp-1", "10.10.0.11"),
    ("dev-worker-1", "10.10.0.21"),
    ("dev-worker-2", "10.10.0.22"),
];

#[test]
fn validate_names_every_host_that_does_not_answer() {
    let mut s = Setup::new(0);
    let (out, code) = ping_output(&DEV_HOSTS, &["dev-worker-2"]);
    s.runtime = strata_testkit::stand_in(s.bin.path(), "docker", &out, "", code)
        .display()
        .to_string();
    let args = ["kubespray", "validate", "--env", "development"];
    let run = s.run(&args);
    assert_eq!(run.code, 1, "{}", run.stderr);
    insta::assert_snapshot!(
        "kubespray_validate_unreachable",
        run.render(&args, s.repo.path())
            .replace(&s.home.path().display().to_string(), "[HOME]")
    );
    // The ping runs in the pinned image like the playbooks, with only the key file mounted, and
    // with fresh single-attempt connections.
    insta::assert_snapshot!("kubespray_validate_command", s.calls());

    let (out, code) = ping_output(&DEV_HOSTS, &[]);
    s.runtime = strata_testkit::stand_in(s.bin.path(), "docker", &out, "", code)
        .display()
        .to_string();
    let run = s.run(&args);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stdout
            .contains("kubespray validate: all 3 hosts answer over SSH as `ubuntu`"),
        "{}",
        run.stdout
    );

    let json = s.run(&[
        "kubespray",
        "validate",
        "--env",
        "development",
        "--output",
        "json",
    ]);
    let doc: KubesprayValidateOutput = document(&json);
    assert!(doc.ok);
    assert_eq!(doc.commands, None);
    let hosts = doc.hosts.unwrap();
    assert_eq!(hosts[2].address, "10.10.0.22");
    assert!(hosts.iter().all(|h| h.ok && h.error.is_none()));
    let dry = s.run(&[
        "kubespray",
        "validate",
        "--env",
        "development",
        "--dry-run",
        "--output",
        "json",
    ]);
    let shown: KubesprayValidateOutput = document(&dry);
    assert_eq!((shown.ok, shown.hosts), (true, None));
    assert_eq!(shown.commands.map(|c| c.len()), Some(1));
}

#[test]
fn validate_checks_the_key_before_asking_any_host() {
    let s = Setup::new(0);
    std::fs::remove_file(s.home.join(".ssh/strata-development")).unwrap();
    let run = s.run(&["kubespray", "validate", "--env", "development"]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.stderr.contains("does not exist"), "{}", run.stderr);
    assert_eq!(s.calls(), "", "no host was asked");
}

#[test]
fn an_inventory_kubespray_cannot_use_never_reaches_a_run() {
    // A bundle generated past validation (`--skip-validate`) without an `etcd` member.
    let s = Setup::new(0);
    let root = s.repo.path();
    edit(
        root,
        "config/packages/core/kubespray/inventory/pn-development/hosts.yaml",
        "    etcd:\n      hosts:\n        dev-cp-1: {}\n",
        "    etcd:\n      hosts: {}\n",
    );
    generate_unchecked(root);
    for op in ["deploy", "validate"] {
        let run = s.run(&["kubespray", op, "--env", "development"]);
        assert_eq!(run.code, 2, "{op}: {}", run.stderr);
        assert!(
            run.stderr.contains(&format!("{STAGED}/hosts.yaml"))
                && run.stderr.contains("group `etcd` has no hosts"),
            "{op}: {}",
            run.stderr
        );
    }
    let json = s.run(&[
        "kubespray",
        "deploy",
        "--env",
        "development",
        "--output",
        "json",
    ]);
    assert_eq!(json.code, 2);
    let refused: Refusal = document(&json);
    assert_eq!(
        refused.error.as_deref(),
        Some("the staged inventory is not one Kubespray can use")
    );
    assert!(
        refused
            .diagnostics
            .iter()
            .any(|d| d.message.contains("group `etcd` has no hosts")),
        "{refused:#?}"
    );
    assert_eq!(s.calls(), "", "nothing ran");
}

#[test]
fn an_even_etcd_runs_only_as_kubesprays_procedure_for_adding_a_member_runs_it() {
    // Kubespray's procedure: add the new member to the inventory (an even count for a while),
    // run cluster.yml with `--limit=etcd,kube_control_plane -e ignore_assert_errors=yes`, then
    // remove an old member. Without the variable, Kubespray's own assertion stops the run.
    let s = Setup::new(0);
    let root = s.repo.path();
    edit(
        root,
        "config/packages/core/kubespray/inventory/pn-development/hosts.yaml",
        "    etcd:\n      hosts:\n        dev-cp-1: {}\n",
        "    etcd:\n      hosts:\n        dev-cp-1: {}\n        dev-worker-1: {}\n",
    );
    crate::support::bump_package(root, true);
    let generate = xtask(
        root,
        &["generate", "env", "--id", "development", "--config", "core"],
    );
    assert_eq!(
        generate.code, 0,
        "validation warns only: {}",
        generate.stderr
    );
    assert!(
        generate.stderr.contains("`etcd` has 2 members"),
        "{}",
        generate.stderr
    );
    let plain = s.run(&["kubespray", "deploy", "--env", "development"]);
    assert_eq!(plain.code, 2, "{}", plain.stderr);
    assert!(
        plain.stderr.contains("`etcd` in ")
            && plain
                .stderr
                .contains("has 2 members, which Kubespray refuses")
            && plain.stderr.contains("-e ignore_assert_errors=yes"),
        "{}",
        plain.stderr
    );
    assert_eq!(s.calls(), "", "nothing ran");
    let procedure = s.run(&[
        "kubespray",
        "deploy",
        "--env",
        "development",
        "--limit",
        "etcd,kube_control_plane",
        "-e",
        "ignore_assert_errors=yes",
    ]);
    assert_eq!(procedure.code, 0, "{}", procedure.stderr);
    assert!(
        s.calls()
            .ends_with("cluster.yml --limit etcd,kube_control_plane -e ignore_assert_errors=yes"),
        "{}",
        s.calls()
    );
}

#[test]
fn an_inventory_edited_inside_the_bundle_is_refused() {
    let s = Setup::new(0);
    let root = s.repo.path();
    // Staged once already: the edit is refused all the same, not silently left out.
    let staged = s.run(&["kubespray", "deploy", "--env", "development", "--dry-run"]);
    assert_eq!(staged.code, 0, "{}", staged.stderr);
    edit(
        root,
        "api/outputs/development/kubespray/hosts.yaml",
        "10.10.0.21",
        "10.10.0.99",
    );
    let run = s.run(&["kubespray", "deploy", "--env", "development"]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr
            .contains("kubespray/hosts.yaml` was changed after the bundle was generated"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr
            .contains("cargo xtask bundle verify --env development"),
        "{}",
        run.stderr
    );
    assert_eq!(s.calls(), "", "nothing ran");
}

/// A kubectl stand-in answering `get --raw /readyz` and `get --raw /api/v1/nodes`, recording
/// its calls in `dir/kubectl.calls`.
fn kubectl(dir: &std::path::Path, nodes: &[(&str, bool)]) -> String {
    let items: Vec<_> = nodes
        .iter()
        .map(|(name, ready)| {
            serde_json::json!({
                "metadata": {"name": name, "labels": {"node-role.kubernetes.io/control-plane": ""}},
                "status": {
                    "conditions": [{"type": "Ready", "status": if *ready { "True" } else { "False" }}],
                    "nodeInfo": {"kubeletVersion": "v1.33.5"}
                }
            })
        })
        .collect();
    let list = serde_json::json!({"kind": "NodeList", "items": items}).to_string();
    let calls = dir.join("kubectl.calls");
    strata_testkit::script(
        dir,
        "kubectl",
        &format!(
            "printf '%s\\n' \"$*\" >> '{}'\ncase \"$*\" in\n  *' /readyz') printf ok ;;\n  *' /api/v1/nodes') printf '%s' '{list}' ;;\n  *) exit 1 ;;\nesac\n",
            calls.display()
        ),
    )
    .display()
    .to_string()
}

#[test]
fn status_reports_readiness_and_every_node_through_an_explicit_kubeconfig() {
    let s = Setup::new(0);
    let root = s.repo.path();
    let bin = strata_testkit::TempDir::new("kubectl");
    let kubeconfig = s.home.join("cluster.conf");
    write(
        s.home.path(),
        "cluster.conf",
        "apiVersion: v1\nkind: Config\n",
    );
    let kubeconfig_s = kubeconfig.display().to_string();
    let status = |kubectl: &str, extra: &[(&str, &str)]| {
        let mut env = vec![("STRATA_KUBECTL", kubectl)];
        env.extend(extra);
        xtask_env(root, &["kubespray", "status", "--env", "development"], &env)
    };

    // Nothing written by Kubespray and no KUBECONFIG: say where it would be and how to get one.
    let k = kubectl(bin.path(), &[("dev-cp-1", true)]);
    let none = status(&k, &[]);
    assert_eq!(none.code, 2, "{}", none.stderr);
    assert!(
        none.stderr.contains("no kubeconfig for this environment")
            && none.stderr.contains("kubeconfig_localhost: true"),
        "{}",
        none.stderr
    );
    let several = status(&k, &[("KUBECONFIG", "/a:/b")]);
    assert_eq!(several.code, 2);
    assert!(
        several.stderr.contains("--kubeconfig FILE"),
        "{}",
        several.stderr
    );

    let ready = status(&k, &[("KUBECONFIG", kubeconfig_s.as_str())]);
    assert_eq!(ready.code, 0, "{}", ready.stderr);
    assert!(ready.stdout.contains("API server: ok"), "{}", ready.stdout);
    assert!(
        ready
            .stdout
            .contains("dev-cp-1  Ready     control-plane  v1.33.5"),
        "{}",
        ready.stdout
    );
    let calls = read(bin.path(), "kubectl.calls");
    assert_eq!(
        calls,
        format!(
            "--kubeconfig {kubeconfig_s} --request-timeout=10s get --raw /readyz\n--kubeconfig {kubeconfig_s} --request-timeout=10s get --raw /api/v1/nodes\n"
        )
    );

    let k = kubectl(bin.path(), &[("dev-cp-1", true), ("dev-worker-1", false)]);
    let degraded = status(&k, &[("KUBECONFIG", kubeconfig_s.as_str())]);
    assert_eq!(degraded.code, 1, "{}", degraded.stderr);
    let json = xtask_env(
        root,
        &[
            "kubespray",
            "status",
            "--env",
            "development",
            "--output",
            "json",
        ],
        &[
            ("STRATA_KUBECTL", &k),
            ("KUBECONFIG", kubeconfig_s.as_str()),
        ],
    );
    assert_eq!(json.code, 1);
    let doc: KubesprayStatusOutput = document(&json);
    assert!(!doc.ok);
    assert_eq!(doc.readyz, "ok");
    assert_eq!(
        doc.nodes
            .iter()
            .map(|n| (n.name.as_str(), n.ready))
            .collect::<Vec<_>>(),
        [("dev-cp-1", true), ("dev-worker-1", false)]
    );
    assert!(
        degraded
            .stderr
            .contains("1 of 2 nodes is not Ready: dev-worker-1"),
        "{}",
        degraded.stderr
    );

    let down = status(
        &strata_testkit::stand_in(
            bin.path(),
            "kubectl-down",
            "",
            "The connection to the server 10.10.0.11:6443 was refused - did you specify the right host or port?\n",
            1,
        )
        .display()
        .to_string(),
        &[("KUBECONFIG", kubeconfig_s.as_str())],
    );
    assert_eq!(down.code, 1, "{}", down.stderr);
    assert!(
        down.stderr.contains("the cluster does not answer")
            && down.stderr.contains("10.10.0.11:6443 was refused"),
        "{}",
        down.stderr
    );
}

#[test]
fn the_admin_conf_kubespray_writes_is_kept_for_its_environment_and_used_by_status() {
    let s = Setup::new(0);
    let root = s.repo.path();
    // Kubespray with `kubeconfig_localhost: true` writes artifacts/admin.conf into the inventory.
    let calls = s.bin.join("docker.calls");
    strata_testkit::script(
        s.bin.path(),
        "docker",
        &format!(
            "printf '%s\\n' \"$*\" >> '{}'\nfor a in \"$@\"; do case \"$a\" in\n  type=bind,source=*,dst=/inventory) d=${{a#type=bind,source=}}; d=${{d%,dst=/inventory}} ;;\nesac; done\nmkdir -p \"$d/artifacts\" && printf 'apiVersion: v1 # dev admin\\n' > \"$d/artifacts/admin.conf\"\n",
            calls.display()
        ),
    );
    let run = s.run(&["kubespray", "deploy", "--env", "development"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let kept = root.join(".strata/development/kubespray/artifacts/admin.conf");
    assert_eq!(
        std::fs::read_to_string(&kept).unwrap(),
        "apiVersion: v1 # dev admin\n"
    );
    assert_eq!(
        std::fs::metadata(&kept).unwrap().permissions().mode() & 0o777,
        0o600,
        "admin.conf holds the cluster's admin credentials"
    );
    assert!(
        run.stderr.contains(
            "kept Kubespray's artifacts (admin.conf) in .strata/development/kubespray/artifacts"
        ),
        "{}",
        run.stderr
    );

    // The environment's own kubeconfig wins over an ambient KUBECONFIG.
    let bin = strata_testkit::TempDir::new("kubectl");
    let k = kubectl(bin.path(), &[("dev-cp-1", true)]);
    let elsewhere = s.home.join("other-cluster.conf");
    write(s.home.path(), "other-cluster.conf", "apiVersion: v1\n");
    let elsewhere = elsewhere.display().to_string();
    let status = xtask_env(
        root,
        &["kubespray", "status", "--env", "development"],
        &[
            ("STRATA_KUBECTL", k.as_str()),
            ("KUBECONFIG", elsewhere.as_str()),
        ],
    );
    assert_eq!(status.code, 0, "{}", status.stderr);
    assert!(
        status.stderr.contains(
            "kubeconfig: .strata/development/kubespray/artifacts/admin.conf (from Kubespray artifacts)"
        ),
        "{}",
        status.stderr
    );
    let calls = read(bin.path(), "kubectl.calls");
    assert!(
        calls
            .lines()
            .all(|l| l.starts_with(&format!("--kubeconfig {}", kept.display()))),
        "{calls}"
    );
}

#[test]
fn the_kube_version_must_be_in_the_form_the_release_takes() {
    let s = Setup::new(0);
    let run = s.run(&[
        "kubespray",
        "upgrade",
        "--env",
        "development",
        "--kube-version",
        "v1.33.5",
    ]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr.contains(
            "--kube-version: Kubespray v2.29.0 takes the Kubernetes version without a `v`: `1.33.5`, not `v1.33.5`"
        ),
        "{}",
        run.stderr
    );
    assert_eq!(s.calls(), "", "nothing ran");
    // The same rule in the package, at validation.
    edit(
        s.repo.path(),
        "config/packages/core/environments/development.kubespray.json",
        "\"runtime\": \"docker\",",
        "\"runtime\": \"docker\",\n  \"kubeVersion\": \"v1.33.5\",",
    );
    let validate = xtask(s.repo.path(), &["validate"]);
    assert_eq!(validate.code, 2);
    assert!(
        validate.stderr.contains("development.kubespray.json:")
            && validate.stderr.contains("without a `v`: `1.33.5`"),
        "{}",
        validate.stderr
    );
}

/// This process's effective uid and gid, which Strata hands the container's files back to.
fn own_ids() -> (u32, u32) {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let id = |key: &str| -> u32 {
        status
            .lines()
            .find_map(|l| l.strip_prefix(key))
            .unwrap()
            .split_whitespace()
            .nth(1)
            .unwrap()
            .parse()
            .unwrap()
    };
    (id("Uid:"), id("Gid:"))
}

/// A stand-in docker that behaves like the real runtime running the Kubespray image where
/// Strata relies on it. Each `run --rm` gets a fresh, empty container `/tmp` (removed when it
/// ends); container paths resolve through the `--mount`s only. `ansible-playbook`:
/// - reads `-i`; a file that is missing is an unparsed inventory (an error only under
///   `ANSIBLE_INVENTORY_UNPARSED_FAILED=true`), and with no hosts every play is skipped and it
///   exits 0, as Ansible does;
/// - caches facts where Kubespray's ansible.cfg says (`/tmp`) unless
///   `ANSIBLE_CACHE_PLUGIN_CONNECTION` says otherwise; `playbooks/facts.yml` gathers every
///   host's, a `--limit`ed play reads the first host's from the cache and fails with
///   "VARIABLE IS NOT DEFINED" without them;
/// - keeps the last `-e` that sets `serial` (key=value or JSON), writing it to `dir/serial`;
/// - on `cluster.yml` and `upgrade-cluster.yml` with `kubeconfig_localhost: true` writes
///   `artifacts/` (0750) with `admin.conf` (0600) and `kubectl.sh` (0755) into the inventory;
/// - writes every file as the container's user, `container_uid`: under rootful docker that is
///   root, not the user who ran Strata (these tests run as root, so another uid stands for the
///   mismatch); under rootless docker or podman it is that user.
///
/// `chown` runs as the container's root would, on the mounted paths. Each play's hosts are
/// appended to `dir/played` (`PLAYBOOK: HOSTS`).
fn container(dir: &std::path::Path, container_uid: u32) -> String {
    let calls = dir.join("docker.calls");
    let played = dir.join("played");
    let serial = dir.join("serial");
    let body = format!(
        r#"{{ printf '%s' "$PWD"; for a in "$@"; do printf '\t%s' "$a"; done; printf '\n'; }} >> '{calls}'
[ "$1" = run ] || exit 0
shift
ctmp=$(mktemp -d)
trap 'rm -rf "$ctmp"' EXIT
mounts=
cache=/tmp
unparsed_failed=
nl='
'
while [ $# -gt 0 ]; do
  case "$1" in
    --rm) shift ;;
    -w) shift 2 ;;
    --env)
      case "$2" in
        ANSIBLE_CACHE_PLUGIN_CONNECTION=*) cache=${{2#*=}} ;;
        ANSIBLE_INVENTORY_UNPARSED_FAILED=true) unparsed_failed=1 ;;
      esac
      shift 2 ;;
    --mount)
      m=${{2#type=bind,source=}}; src=${{m%%,dst=*}}; rest=${{m#*,dst=}}; dst=${{rest%%,*}}
      mounts="$mounts$dst=$src$nl"
      shift 2 ;;
    *) break ;;
  esac
done
shift
host() {{
  IFS=$nl
  for m in $mounts; do
    dst=${{m%%=*}}; src=${{m#*=}}
    case "$1" in
      "$dst") unset IFS; echo "$src"; return ;;
      "$dst"/*) unset IFS; echo "$src${{1#"$dst"}}"; return ;;
    esac
  done
  unset IFS
  case "$1" in
    /tmp|/tmp/*) echo "$ctmp${{1#/tmp}}" ;;
    *) echo "/nonexistent$1" ;;
  esac
}}
prog=$1
shift
if [ "$prog" = chown ]; then
  shift
  owner=$1
  shift
  for p in "$@"; do chown -R "$owner" "$(host "$p")"; done
  exit 0
fi
[ "$prog" = ansible-playbook ] || exit 0
inv=; limit=; play=; serial=
while [ $# -gt 0 ]; do
  case "$1" in
    -i) inv=$(host "$2"); shift 2 ;;
    --limit) limit=$2; shift 2 ;;
    -e)
      case "$2" in
        serial=*) serial=${{2#serial=}} ;;
        '{{'*'"serial":'*) serial=$(printf '%s' "$2" | sed 's/.*"serial":\([0-9]*\).*/\1/') ;;
      esac
      shift 2 ;;
    --private-key|-u|--tags|--skip-tags) shift 2 ;;
    *.yml) play=$1; shift ;;
    *) shift ;;
  esac
done
[ -n "$serial" ] && printf '%s\n' "$serial" > '{serial}'
if [ ! -f "$inv" ]; then
  if [ -n "$unparsed_failed" ]; then
    echo "[ERROR]: No inventory was parsed, please check your configuration and options." >&2
    exit 1
  fi
  echo "[WARNING]: Unable to parse $inv as an inventory source"
  echo "[WARNING]: No inventory was parsed, only implicit localhost is available"
fi
hosts=$([ -f "$inv" ] && awk '/^  hosts:/ {{ on = 1; next }} /^  [a-z]/ {{ on = 0 }} on && /^    [A-Za-z0-9_.-]+:/ {{ sub(":.*", ""); sub("^ *", ""); print }}' "$inv")
if [ -z "$hosts" ]; then
  printf 'PLAY [%s]\nskipping: no hosts matched\nPLAY RECAP\n' "$play"
  exit 0
fi
cdir=$(host "$cache")
mkdir -p "$cdir"
first=$(echo "$hosts" | head -n 1)
if [ "$play" = playbooks/facts.yml ]; then
  for h in $hosts; do printf '{{"ansible_default_ipv4": {{"address": "%s"}}}}\n' "$h" > "$cdir/$h"; done
elif [ -n "$limit" ] && [ ! -f "$cdir/$first" ]; then
  printf 'fatal: [%s]: FAILED! => {{"msg": "The task includes an option with an undefined variable. hostvars[%s].ansible_default_ipv4 VARIABLE IS NOT DEFINED!"}}\n' "$limit" "$first"
  exit 2
fi
printf '%s: %s\n' "$play" "$(echo $hosts)" >> '{played}'
invdir=$(dirname "$inv")
case "$play" in
  cluster.yml|upgrade-cluster.yml)
    if grep -rqs 'kubeconfig_localhost: true' "$invdir/group_vars"; then
      mkdir -p "$invdir/artifacts"
      printf 'apiVersion: v1 # admin of %s\n' "$first" > "$invdir/artifacts/admin.conf"
      printf '#!/bin/bash\nkubectl --kubeconfig=admin.conf "$@"\n' > "$invdir/artifacts/kubectl.sh"
      chmod 750 "$invdir/artifacts"; chmod 600 "$invdir/artifacts/admin.conf"; chmod 755 "$invdir/artifacts/kubectl.sh"
      chown -R {container_uid}:{container_uid} "$invdir/artifacts"
    fi ;;
esac
chown -R {container_uid}:{container_uid} "$cdir"
echo "PLAY RECAP"
"#,
        calls = calls.display(),
        played = played.display(),
        serial = serial.display(),
    );
    strata_testkit::script(dir, "docker", &body)
        .display()
        .to_string()
}

impl Setup {
    /// A Setup whose docker is [`container`], writing as `container_uid`.
    fn with_container(container_uid: u32) -> Self {
        let mut s = Setup::new(0);
        s.runtime = container(s.bin.path(), container_uid);
        s
    }

    fn played(&self) -> String {
        std::fs::read_to_string(self.bin.join("played")).unwrap_or_default()
    }
}

#[test]
fn scale_with_a_limit_reads_the_facts_gathered_first() {
    let s = Setup::with_container(own_ids().0);
    let run = s.run(&[
        "kubespray",
        "scale",
        "--env",
        "development",
        "--limit",
        "dev-worker-2",
    ]);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    assert_eq!(
        s.played(),
        "playbooks/facts.yml: dev-cp-1 dev-worker-1 dev-worker-2\nscale.yml: dev-cp-1 dev-worker-1 dev-worker-2\n"
    );
    // The same for a node-by-node upgrade, and a fresh cache for each operation.
    let facts = s.repo.join(".strata/development/kubespray/facts");
    write(&facts, "stale-host", "{}");
    let run = s.run(&[
        "kubespray",
        "upgrade",
        "--env",
        "development",
        "--kube-version",
        "1.33.5",
        "--limit",
        "dev-worker-1",
    ]);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    assert!(
        !facts.join("stale-host").exists(),
        "facts of an earlier operation are gone"
    );
    assert!(facts.join("dev-cp-1").is_file());
}

#[test]
fn an_operations_own_flags_win_over_the_packages_extra_vars() {
    // The production sample sets `serial: 1` in extraVars.
    let s = Setup::with_container(own_ids().0);
    let root = s.repo.path();
    let generate = xtask(
        root,
        &["generate", "env", "--id", "production", "--config", "core"],
    );
    assert_eq!(generate.code, 0, "{}", generate.stderr);
    std::fs::copy(
        s.home.join(".ssh/strata-development"),
        s.home.join(".ssh/strata-production"),
    )
    .unwrap();
    let upgrade = |extra: &[&str]| {
        let mut args = vec![
            "kubespray",
            "upgrade",
            "--env",
            "production",
            "--kube-version",
            "1.33.5",
        ];
        args.extend(extra);
        let run = s.run(&args);
        assert_eq!(run.code, 0, "{}", run.stderr);
        read(s.bin.path(), "serial")
    };
    assert_eq!(
        upgrade(&["--serial", "3"]),
        "3\n",
        "--serial wins over extraVars"
    );
    assert_eq!(upgrade(&[]), "1\n", "the package's default holds otherwise");
    assert_eq!(
        upgrade(&["--serial", "3", "-e", "serial=2"]),
        "2\n",
        "and `-e` wins over both"
    );
}

#[test]
fn an_inventory_named_hosts_yml_is_the_one_ansible_is_given() {
    let s = Setup::with_container(own_ids().0);
    let root = s.repo.path();
    let inventory = root.join("config/packages/core/kubespray/inventory/pn-development");
    std::fs::rename(inventory.join("hosts.yaml"), inventory.join("hosts.yml")).unwrap();
    crate::support::bump_package(root, true);
    let generate = xtask(
        root,
        &["generate", "env", "--id", "development", "--config", "core"],
    );
    assert_eq!(generate.code, 0, "{}", generate.stderr);
    let run = s.run(&["kubespray", "deploy", "--env", "development"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(
        s.played(),
        "cluster.yml: dev-cp-1 dev-worker-1 dev-worker-2\n",
        "the playbook reached every host instead of skipping them all"
    );
    assert!(
        s.calls().contains(" -i /inventory/hosts.yml "),
        "{}",
        s.calls()
    );
}

#[test]
fn files_a_rootful_container_wrote_are_handed_back_and_kept_with_their_modes() {
    use std::os::unix::fs::MetadataExt;
    let (uid, gid) = own_ids();
    let s = Setup::with_container(uid + 4242);
    let root = s.repo.path();
    let run = s.run(&["kubespray", "deploy", "--env", "development"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let calls = s.calls();
    let hand_back = calls.lines().last().unwrap();
    assert!(
        hand_back.ends_with(&format!(
            "quay.io/kubespray/kubespray:v2.29.0 chown -R {uid}:{gid} /inventory /strata/facts"
        )),
        "{calls}"
    );
    for dir in [STAGED, ".strata/development/kubespray"] {
        for entry in walk(&root.join(dir)) {
            assert_eq!(
                std::fs::symlink_metadata(&entry).unwrap().uid(),
                uid,
                "{} is the user's",
                entry.display()
            );
        }
    }
    let kept = root.join(".strata/development/kubespray/artifacts");
    let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&kept.join("admin.conf")), 0o600);
    assert_eq!(
        mode(&kept.join("kubectl.sh")),
        0o700,
        "kubectl.sh stays executable"
    );
    assert!(
        run.stderr.contains("kept Kubespray's artifacts"),
        "{}",
        run.stderr
    );

    // Staging another environment replaces the whole folder and leaves nothing behind.
    assert_eq!(
        xtask(
            root,
            &["generate", "env", "--id", "staging", "--config", "core"]
        )
        .code,
        0
    );
    let staging = s.run(&["kubespray", "deploy", "--env", "staging", "--dry-run"]);
    assert_eq!(staging.code, 0, "{}", staging.stderr);
    let siblings: Vec<_> = std::fs::read_dir(root.join(STAGED).parent().unwrap())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(siblings, ["current"], "no stray folder holds an admin.conf");

    // Under rootless docker or podman the files are the user's already: no hand-back.
    let s = Setup::with_container(uid);
    assert_eq!(
        s.run(&["kubespray", "deploy", "--env", "development"]).code,
        0
    );
    assert!(!s.calls().contains(" chown "), "{}", s.calls());
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = vec![dir.to_owned()];
    if dir.is_dir() {
        for e in std::fs::read_dir(dir).unwrap() {
            out.extend(walk(&e.unwrap().path()));
        }
    }
    out
}

#[test]
fn a_reset_forgets_the_kubeconfig_of_the_cluster_it_removed() {
    let s = Setup::with_container(own_ids().0);
    let root = s.repo.path();
    assert_eq!(
        s.run(&["kubespray", "deploy", "--env", "development"]).code,
        0
    );
    let kept = root.join(".strata/development/kubespray/artifacts/admin.conf");
    assert!(kept.is_file());
    let reset = s.run(&["kubespray", "reset", "--yes", "--env", "development"]);
    assert_eq!(reset.code, 0, "{}", reset.stderr);
    assert!(!kept.exists(), "the reset cluster's admin.conf is not kept");
    assert!(!root.join(STAGED).join("artifacts").exists());
    let status = xtask_env(
        root,
        &["kubespray", "status", "--env", "development"],
        &[("KUBECONFIG", "")],
    );
    assert_eq!(status.code, 2, "{}", status.stderr);
    assert!(
        status.stderr.contains("no kubeconfig for this environment"),
        "{}",
        status.stderr
    );
}

#[test]
fn remove_node_refuses_the_first_control_plane_or_etcd_member_unless_forced() {
    let s = Setup::with_container(own_ids().0);
    let run = s.run(&[
        "kubespray",
        "remove-node",
        "--env",
        "development",
        "--node",
        "dev-cp-1",
    ]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr
            .contains("`dev-cp-1` is the first member of `kube_control_plane`")
            && run.stderr.contains("or pass `--force`"),
        "{}",
        run.stderr
    );
    assert_eq!(s.calls(), "", "nothing ran");
    let forced = s.run(&[
        "kubespray",
        "remove-node",
        "--env",
        "development",
        "--node",
        "dev-cp-1",
        "--force",
    ]);
    assert_eq!(forced.code, 0, "{}", forced.stderr);
    let worker = s.run(&[
        "kubespray",
        "remove-node",
        "--env",
        "development",
        "--node",
        "dev-worker-2",
    ]);
    assert_eq!(worker.code, 0, "{}", worker.stderr);
}

#[test]
fn a_kubernetes_version_outside_the_releases_range_is_refused() {
    let s = Setup::new(0);
    let run = s.run(&[
        "kubespray",
        "upgrade",
        "--env",
        "development",
        "--kube-version",
        "1.34.1",
    ]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr.contains(
            "--kube-version: Kubespray v2.29.0 installs Kubernetes 1.31.0 to 1.33.5, not 1.34.1"
        ),
        "{}",
        run.stderr
    );
    assert_eq!(s.calls(), "", "nothing ran");
    let config = "config/packages/core/environments/development.kubespray.json";
    edit(
        s.repo.path(),
        config,
        "\"runtime\": \"docker\",",
        "\"runtime\": \"docker\",\n  \"kubeVersion\": \"1.34.1\",",
    );
    let validate = xtask(s.repo.path(), &["validate"]);
    assert_eq!(validate.code, 2, "{}", validate.stderr);
    assert!(
        validate.stderr.contains("development.kubespray.json:5:")
            && validate
                .stderr
                .contains("installs Kubernetes 1.31.0 to 1.33.5, not 1.34.1"),
        "{}",
        validate.stderr
    );
    // A release newer than the table: said, not refused.
    edit(s.repo.path(), config, "\"v2.29.0\"", "\"v2.32.0\"");
    edit(s.repo.path(), config, "\"1.34.1\"", "\"1.36.0\"");
    crate::support::bump_package(s.repo.path(), true);
    let newer = xtask(s.repo.path(), &["validate"]);
    assert_eq!(newer.code, 0, "{}", newer.stderr);
    assert!(
        newer
            .stderr
            .contains("Kubespray v2.32.0 is newer than Strata's table")
            && newer
                .stderr
                .contains("roles/kubespray_defaults/vars/main/checksums.yml"),
        "{}",
        newer.stderr
    );
    assert!(!newer.stderr.contains("error:"), "{}", newer.stderr);
}
