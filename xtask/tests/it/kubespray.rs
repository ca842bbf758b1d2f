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
        &["upgrade", "--kube-version", "1.33.5", "--serial", "1"],
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
    let doc: serde_json::Value = serde_json::from_str(&json.stdout).expect("one JSON document");
    assert_eq!(doc["ok"], true);
    assert_eq!(doc["hosts"][2]["address"], "10.10.0.22");
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
    // A bundle generated past validation (`--skip-validate`) with two etcd members.
    let s = Setup::new(0);
    let root = s.repo.path();
    edit(
        root,
        "config/packages/core/kubespray/inventory/pn-development/hosts.yaml",
        "    etcd:\n      hosts:\n        dev-cp-1: {}\n",
        "    etcd:\n      hosts:\n        dev-cp-1: {}\n        dev-worker-1: {}\n",
    );
    let generate = xtask(
        root,
        &[
            "generate",
            "env",
            "--id",
            "development",
            "--config",
            "core",
            "--skip-validate",
        ],
    );
    assert_eq!(generate.code, 0, "{}", generate.stderr);
    for op in ["deploy", "validate"] {
        let run = s.run(&["kubespray", op, "--env", "development"]);
        assert_eq!(run.code, 2, "{op}: {}", run.stderr);
        assert!(
            run.stderr.contains(&format!("{STAGED}/hosts.yaml"))
                && run.stderr.contains("`etcd` has 2 members"),
            "{op}: {}",
            run.stderr
        );
    }
    assert_eq!(s.calls(), "", "nothing ran");
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
