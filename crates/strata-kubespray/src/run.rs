//! Kubespray's lifecycle operations as playbook runs, in the pinned image or a local checkout.

use std::path::{Path, PathBuf};

use strata_exec::{Command, ExecError, FoundTool, RunOptions, TOOLS, expand_home, find_tool, run};
use strata_metadata::{KubesprayConfig, KubesprayRuntime};

use crate::KubesprayError;

/// A Kubespray operation and what it needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Operation {
    /// Install or converge the cluster (`cluster.yml`); also adds control-plane and etcd nodes.
    Deploy,
    /// Tear the cluster down (`reset.yml`); the caller has confirmed.
    Reset,
    /// Add workers (`scale.yml`); with a limit, facts are gathered for every host first.
    Scale {
        /// Only these hosts (`--limit`).
        limit: Option<String>,
    },
    /// Upgrade Kubernetes (`upgrade-cluster.yml`).
    Upgrade {
        /// The target `kube_version`.
        kube_version: String,
        /// How many nodes at a time (`serial`).
        serial: Option<u32>,
    },
    /// Drain and remove nodes (`remove-node.yml`).
    RemoveNode {
        /// The nodes, by inventory name.
        nodes: Vec<String>,
    },
    /// Recover the control plane (`recover-control-plane.yml`).
    Recover,
}

impl Operation {
    /// The playbooks this operation runs, in order, each with its own arguments.
    pub fn plays(&self) -> Vec<(&'static str, Vec<String>)> {
        let e = |kv: String| vec!["-e".to_owned(), kv];
        match self {
            Operation::Deploy => vec![("cluster.yml", vec![])],
            Operation::Reset => vec![("reset.yml", e("reset_confirmation=yes".into()))],
            // With --limit, scale.yml needs facts about every host, which facts.yml gathers.
            Operation::Scale { limit: Some(hosts) } => vec![
                ("playbooks/facts.yml", vec![]),
                ("scale.yml", vec!["--limit".into(), hosts.clone()]),
            ],
            Operation::Scale { limit: None } => vec![("scale.yml", vec![])],
            Operation::Upgrade {
                kube_version,
                serial,
            } => {
                let mut args = e(format!("kube_version={kube_version}"));
                if let Some(n) = serial {
                    args.extend(e(format!("serial={n}")));
                }
                vec![("upgrade-cluster.yml", args)]
            }
            Operation::RemoveNode { nodes } => {
                let mut args = e(format!("node={}", nodes.join(",")));
                args.extend(e("skip_confirmation=true".into()));
                vec![("remove-node.yml", args)]
            }
            Operation::Recover => vec![("recover-control-plane.yml", vec![])],
        }
    }
}

/// Options every operation takes.
#[derive(Debug, Clone, Default)]
pub struct Extras {
    /// `-e key=value` passed through.
    pub extra_vars: Vec<String>,
    /// `--tags`.
    pub tags: Option<String>,
    /// `--skip-tags`.
    pub skip_tags: Option<String>,
}

/// How Kubespray runs for one environment: the runtime and program, the staged inventory, the
/// SSH user and key from the bundle's Kubespray config.
#[derive(Debug, Clone)]
pub struct KubesprayRun {
    /// docker, podman, or local `ansible-playbook`.
    pub runtime: KubesprayRuntime,
    /// The container runtime or ansible-playbook executable.
    pub program: PathBuf,
    /// The repository root (working directory of container runs).
    pub root: PathBuf,
    /// The bundle's Kubespray config.
    pub config: KubesprayConfig,
    /// The staged inventory folder, absolute.
    pub inventory: PathBuf,
}

impl KubesprayRun {
    /// The private key, `~` expanded.
    pub fn key(&self) -> PathBuf {
        expand_home(&self.config.ssh_private_key_path)
    }

    /// The command that runs `playbook` with `args` (the operation's), then the config's and
    /// the user's variables, tags and skipped tags.
    pub fn command(
        &self,
        op: &Operation,
        playbook: &str,
        args: &[String],
        extras: &Extras,
    ) -> Result<Command, KubesprayError> {
        let mut tail: Vec<String> = args.to_vec();
        // The configured Kubernetes version holds for every run but an upgrade, which names its own.
        if let (Some(v), false) = (
            &self.config.kube_version,
            matches!(op, Operation::Upgrade { .. }),
        ) {
            tail.extend(["-e".to_owned(), format!("kube_version={v}")]);
        }
        if !self.config.extra_vars.is_empty() {
            let vars =
                serde_json::to_string(&self.config.extra_vars).expect("JSON values serialize");
            tail.extend(["-e".to_owned(), vars]);
        }
        for kv in &extras.extra_vars {
            tail.extend(["-e".to_owned(), kv.clone()]);
        }
        if let Some(t) = &extras.tags {
            tail.extend(["--tags".to_owned(), t.clone()]);
        }
        if let Some(t) = &extras.skip_tags {
            tail.extend(["--skip-tags".to_owned(), t.clone()]);
        }
        let user = self.config.ssh_user.as_str();
        Ok(match self.runtime {
            KubesprayRuntime::Docker | KubesprayRuntime::Podman => self
                .in_container("ansible-playbook", &[])
                .args(["-u", user, "-b", playbook])
                .args(tail),
            KubesprayRuntime::Local => {
                let checkout = self
                    .config
                    .kubespray_path
                    .as_deref()
                    .ok_or(KubesprayError::NoCheckout)?;
                self.on_host(&self.program, &expand_home(checkout))
                    .args(["-u", user, "-b", playbook])
                    .args(tail)
            }
        })
    }

    /// `program` (an Ansible command) in the pinned image, with the staged inventory and the one
    /// key file mounted, up to its `-i` and `--private-key`.
    pub(crate) fn in_container(&self, program: &str, env: &[(&str, &str)]) -> Command {
        let image = format!("{}:{}", self.config.image, self.config.version);
        let mut cmd =
            Command::new(&self.program, &self.root).args(["run", "--rm", "-w", "/kubespray"]);
        for (k, v) in env {
            cmd = cmd.arg("--env").arg(format!("{k}={v}"));
        }
        cmd.arg("--mount")
            .arg(format!(
                "type=bind,source={},dst=/inventory",
                self.inventory.display()
            ))
            // Only the one key file, read-only: mounting ~/.ssh brings permission errors and
            // every other key along.
            .arg("--mount")
            .arg(format!(
                "type=bind,source={},dst=/root/.ssh/id_rsa,readonly",
                self.key().display()
            ))
            .arg(image)
            .args([
                program,
                "-i",
                "/inventory/hosts.yaml",
                "--private-key",
                "/root/.ssh/id_rsa",
            ])
    }

    /// An Ansible `program` on this machine, run in `cwd`, up to its `-i` and `--private-key`.
    pub(crate) fn on_host(&self, program: &Path, cwd: &Path) -> Command {
        Command::new(program, cwd)
            .arg("-i")
            .arg(self.inventory.join("hosts.yaml").display().to_string())
            .arg("--private-key")
            .arg(self.key().display().to_string())
            .env("ANSIBLE_HOST_KEY_CHECKING", "False")
            .env("ANSIBLE_NOCOLOR", "1")
    }

    /// Runs every playbook of `op` in order (or only builds the commands in a dry run).
    pub fn run(
        &self,
        op: &Operation,
        extras: &Extras,
        dry_run: bool,
        log: Option<&Path>,
    ) -> Result<Vec<Command>, KubesprayError> {
        let mut done = Vec::new();
        for (playbook, args) in op.plays() {
            let cmd = self.command(op, playbook, &args, extras)?;
            if !dry_run {
                let opts = RunOptions {
                    log,
                    tail_lines: 40,
                    ..RunOptions::default()
                };
                run(&cmd, &opts).map_err(|source| KubesprayError::Run {
                    playbook: playbook.to_owned(),
                    source: Box::new(source),
                })?;
            }
            done.push(cmd);
        }
        Ok(done)
    }
}

/// The program a runtime needs: docker or podman (`STRATA_CONTAINER_RUNTIME` overrides either),
/// or `ansible-playbook` for the local runtime (`STRATA_ANSIBLE_PLAYBOOK`).
pub fn runtime_tool(runtime: KubesprayRuntime) -> Result<FoundTool, ExecError> {
    match runtime {
        KubesprayRuntime::Local => find_tool(&TOOLS[2]),
        KubesprayRuntime::Docker | KubesprayRuntime::Podman => {
            let mut tool = TOOLS[1];
            tool.candidates = if runtime == KubesprayRuntime::Docker {
                &["docker"]
            } else {
                &["podman"]
            };
            find_tool(&tool)
        }
    }
}
