//! Tier 2: Kubespray's runner against real tools. Two sshd "hosts" on 127.0.0.2 and 127.0.0.3
//! answer a real Ansible; the `local` runtime runs a test Kubespray tree through a real
//! ansible-playbook; `ansible-inventory` reads every staged inventory as Strata does. (`kubespray
//! status` against a real API server is in `kube_real.rs`.)

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use strata_testkit::{Sshd, TempDir, real_tool, ssh_keygen};

use crate::support::{edit, read, write, xtask, xtask_env};

const STAGED: &str = "container-orchestration/providers/kubespray/inventory/current";

/// Two SSH hosts that accept one generated client key.
pub(crate) struct Hosts {
    pub(crate) dir: TempDir,
    key: PathBuf,
    cp: Sshd,
    worker: Sshd,
}

pub(crate) fn hosts() -> Option<Hosts> {
    real_tool("ansible-playbook")?;
    real_tool("ansible")?;
    let dir = TempDir::new("ssh-hosts");
    let key = ssh_keygen(dir.path(), "client")?;
    let public = key.with_file_name("client.pub");
    let cp = Sshd::start("127.0.0.2", &public)?;
    let worker = Sshd::start("127.0.0.3", &public)?;
    Some(Hosts {
        dir,
        key,
        cp,
        worker,
    })
}

pub(crate) fn whoami() -> String {
    #[expect(
        clippy::disallowed_methods,
        reason = "the test logs in as its own user"
    )]
    let out = std::process::Command::new("id")
        .arg("-un")
        .output()
        .expect("id runs");
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

/// A Kubespray tree whose `cluster.yml` asserts the groups and variables a run receives and
/// leaves a marker on every host it reached over SSH.
pub(crate) fn kubespray_tree(user: &str) -> TempDir {
    let tree = TempDir::new("kubespray-tree");
    // The range Kubespray v2.29.0 asserts, the release the sample pins (and the ansible-core
    // `cargo xtask ci` installs).
    write(
        tree.path(),
        "playbooks/ansible_version.yml",
        "- hosts: localhost\n  vars:\n    minimal_ansible_version: 2.17.3\n    maximal_ansible_version: 2.18.0\n",
    );
    // As Kubespray's own ansible.cfg, minus the shared master connections that would outlive
    // the test.
    write(
        tree.path(),
        "ansible.cfg",
        "[defaults]\nhost_key_checking = False\n[ssh_connection]\nssh_args = -o ControlMaster=no -o UserKnownHostsFile=/dev/null\n",
    );
    write(
        tree.path(),
        "cluster.yml",
        format!(
            r#"- name: What Strata hands Kubespray
  hosts: all
  gather_facts: false
  # The test hosts have no sudo; Strata's `-b` is what Kubespray needs, not this play.
  become: false
  tasks:
    - name: The groups, the group_vars and the variables arrive
      ansible.builtin.assert:
        that:
          - groups['kube_control_plane'] == ['dev-cp-1']
          - groups['kube_node'] == ['dev-worker-1']
          - groups['etcd'] == ['dev-cp-1']
          - groups['k8s_cluster'] | sort == ['dev-cp-1', 'dev-worker-1']
          - kube_network_plugin == 'calico'
          - kubeconfig_localhost | bool
          - kube_version == '1.33.5'
          - strata_test == 'from-the-package'
    - name: The host is reached as {user}, over SSH
      ansible.builtin.copy:
        dest: "{{{{ marker_dir }}}}/{{{{ inventory_hostname }}}}"
        content: "{{{{ inventory_hostname }}}} {{{{ ansible_host }}}} {{{{ group_names | sort | join(',') }}}}\n"
        mode: "0644"
"#
        ),
    );
    tree
}

/// The sample repository with the development environment on the two SSH hosts, run with the
/// `local` runtime from `tree`, bundle generated.
pub(crate) fn repo_on(hosts: &Hosts, tree: &Path, user: &str) -> TempDir {
    let repo = strata_testkit::sample_repo();
    let root = repo.path();
    write(
        root,
        "config/packages/core/kubespray/inventory/pn-development/hosts.yaml",
        format!(
            "all:
  vars:
    ansible_python_interpreter: /usr/bin/python3
  hosts:
    dev-cp-1:
      ansible_host: 127.0.0.2
      ansible_port: {}
      ip: 127.0.0.2
      etcd_member_name: etcd1
    dev-worker-1:
      ansible_host: 127.0.0.3
      ansible_port: {}
      ip: 127.0.0.3
  children:
    kube_control_plane:
      hosts:
        dev-cp-1: {{}}
    kube_node:
      hosts:
        dev-worker-1: {{}}
    etcd:
      hosts:
        dev-cp-1: {{}}
    k8s_cluster:
      children:
        kube_control_plane: {{}}
        kube_node: {{}}
    calico_rr:
      hosts: {{}}
",
            hosts.cp.port, hosts.worker.port
        ),
    );
    write(
        root,
        "config/packages/core/environments/development.kubespray.json",
        serde_json::to_string_pretty(&serde_json::json!({
            "image": "quay.io/kubespray/kubespray",
            "version": "v2.29.0",
            "runtime": "local",
            "kubesprayPath": tree.display().to_string(),
            "sshUser": user,
            "sshPrivateKeyPath": hosts.key.display().to_string(),
            "kubeVersion": "1.33.5",
            "extraVars": {"strata_test": "from-the-package"},
        }))
        .unwrap(),
    );
    edit(
        root,
        "config/packages/core/package.json",
        "\"0.2.0\"",
        "\"0.2.1\"",
    );
    let lock = xtask(root, &["config", "lock"]);
    assert_eq!(lock.code, 0, "{}", lock.stderr);
    let generate = xtask(
        root,
        &["generate", "env", "--id", "development", "--config", "core"],
    );
    assert_eq!(generate.code, 0, "{}", generate.stderr);
    repo
}

#[test]
fn validate_pings_real_hosts_and_names_the_one_that_stopped() {
    let Some(mut hosts) = hosts() else { return };
    let user = whoami();
    let tree = kubespray_tree(&user);
    let repo = repo_on(&hosts, tree.path(), &user);
    let home = hosts.dir.path().display().to_string();
    let validate = || {
        xtask_env(
            repo.path(),
            &["kubespray", "validate", "--env", "development"],
            &[("HOME", home.as_str())],
        )
    };

    let up = validate();
    assert_eq!(up.code, 0, "{}\n{}", up.stdout, up.stderr);
    assert!(
        up.stdout.contains(&format!(
            "kubespray validate: all 2 hosts answer over SSH as `{user}`"
        )),
        "{}",
        up.stdout
    );

    hosts.worker.stop();
    let down = validate();
    assert_eq!(down.code, 1, "{}\n{}", down.stdout, down.stderr);
    let worker = format!("dev-worker-1 (127.0.0.3:{})", hosts.worker.port);
    assert!(
        down.stderr
            .contains(&format!("1 of 2 hosts does not answer over SSH: {worker}")),
        "{}",
        down.stderr
    );
    assert!(
        down.stdout.contains("Connection refused"),
        "Ansible's reason is shown: {}",
        down.stdout
    );
}

#[test]
fn the_local_runtime_runs_a_kubespray_tree_over_ssh() {
    let Some(hosts) = hosts() else { return };
    let user = whoami();
    let tree = kubespray_tree(&user);
    let repo = repo_on(&hosts, tree.path(), &user);
    let markers = TempDir::new("markers");
    let home = hosts.dir.path().display().to_string();
    let marker_var = format!("marker_dir={}", markers.path().display());
    let deploy = || {
        xtask_env(
            repo.path(),
            &[
                "kubespray",
                "deploy",
                "--env",
                "development",
                "-e",
                &marker_var,
            ],
            &[("HOME", home.as_str())],
        )
    };
    let run = deploy();
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    assert_eq!(
        read(markers.path(), "dev-cp-1"),
        "dev-cp-1 127.0.0.2 etcd,k8s_cluster,kube_control_plane\n"
    );
    assert_eq!(
        read(markers.path(), "dev-worker-1"),
        "dev-worker-1 127.0.0.3 k8s_cluster,kube_node\n"
    );
    // The log has the play, and never the key.
    let runs = repo.path().join(".strata/development/runs");
    let log = std::fs::read_dir(&runs)
        .unwrap()
        .map(|e| e.unwrap().path().join("kubespray.log"))
        .find(|p| p.is_file())
        .expect("the run wrote a log");
    let log = std::fs::read_to_string(log).unwrap();
    assert!(log.contains("PLAY RECAP"), "{log}");
    let key = std::fs::read_to_string(&hosts.key).unwrap();
    let key_body = key.lines().nth(1).unwrap();
    assert!(!log.contains(key_body), "the key never lands in a log");
    for entry in strata_testkit::read_tree(&repo.path().join(STAGED)).values() {
        assert!(
            !String::from_utf8_lossy(entry).contains(key_body),
            "nor in the staged inventory"
        );
    }

    // A failing assertion in the tree fails the run with Ansible's own words.
    edit(
        tree.path(),
        "cluster.yml",
        "kube_version == '1.33.5'",
        "kube_version == '1.34.0'",
    );
    let failed = deploy();
    assert_eq!(failed.code, 1, "{}", failed.stderr);
    assert!(
        failed.stderr.contains("kubespray `cluster.yml` failed")
            && failed.stderr.contains("kube_version == '1.34.0'"),
        "{}",
        failed.stderr
    );
}

/// Every host of a group as `ansible-inventory --list` resolves it (hosts and child groups).
fn resolve(list: &serde_json::Value, group: &str, out: &mut BTreeSet<String>) {
    for h in list[group]["hosts"].as_array().into_iter().flatten() {
        out.insert(h.as_str().unwrap().to_owned());
    }
    for c in list[group]["children"].as_array().into_iter().flatten() {
        resolve(list, c.as_str().unwrap(), out);
    }
}

#[test]
fn ansible_inventory_reads_every_staged_inventory_as_strata_does() {
    let Some(ansible_inventory) = real_tool("ansible-inventory") else {
        return;
    };
    let repo = strata_testkit::sample_repo();
    let root = repo.path();
    let home = TempDir::new("home");
    write(
        home.path(),
        ".ssh/strata-development",
        "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjE=\n-----END OPENSSH PRIVATE KEY-----\n",
    );
    let home_s = home.path().display().to_string();
    for env in ["development", "staging", "production"] {
        let generate = xtask(root, &["generate", "env", "--id", env, "--config", "core"]);
        assert_eq!(generate.code, 0, "{}", generate.stderr);
        let staged = xtask_env(
            root,
            &["kubespray", "deploy", "--env", env, "--dry-run"],
            &[("HOME", home_s.as_str())],
        );
        assert_eq!(staged.code, 0, "{env}: {}", staged.stderr);

        let hosts = root.join(STAGED).join("hosts.yaml");
        #[expect(
            clippy::disallowed_methods,
            reason = "the real Ansible reads the inventory"
        )]
        let out = std::process::Command::new(&ansible_inventory)
            .arg("-i")
            .arg(&hosts)
            .arg("--list")
            .env("ANSIBLE_NOCOLOR", "1")
            .output()
            .expect("ansible-inventory runs");
        assert!(
            out.status.success(),
            "{env}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let list: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        let ours = strata_config::read_inventory(&hosts).unwrap();

        let mut groups: Vec<&str> = ours.group_names().into_iter().collect();
        groups.push("all");
        for group in groups {
            let mut theirs = BTreeSet::new();
            resolve(&list, group, &mut theirs);
            let ours: BTreeSet<String> = ours
                .hosts_of(group)
                .into_iter()
                .map(str::to_owned)
                .collect();
            assert_eq!(ours, theirs, "{env}: group {group}");
        }
        for host in ours.hosts_of("all") {
            let theirs = &list["_meta"]["hostvars"][host];
            let ours: BTreeMap<&str, &serde_json::Value> = ours.host_vars(host);
            for (k, v) in ours {
                assert_eq!(&theirs[k], v, "{env}: {host}.{k}");
            }
            // Ansible also reads the staged group_vars, as Kubespray will.
            assert_eq!(theirs["kube_network_plugin"], "calico", "{env}: {host}");
        }
    }
}
