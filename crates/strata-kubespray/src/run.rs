//! Kubespray's lifecycle operations as playbook runs, in the pinned image or a local checkout.

use std::path::{Path, PathBuf};

use strata_exec::{Command, Context, ExecError, FoundTool, RunOptions, expand_home, run};
use strata_metadata::{KubesprayConfig, KubesprayRuntime};

use crate::KubesprayError;

/// A Kubespray operation and what it needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Operation {
    /// Install or converge the cluster (`cluster.yml`); with a limit (Kubespray's procedures for
    /// control-plane and etcd members), facts are gathered for every host first.
    Deploy {
        /// Only these hosts (`--limit`).
        limit: Option<String>,
    },
    /// Tear the cluster down (`reset.yml`); the caller has confirmed.
    Reset,
    /// Add workers (`scale.yml`); with a limit, facts are gathered for every host first.
    Scale {
        /// Only these hosts (`--limit`).
        limit: Option<String>,
    },
    /// Upgrade Kubernetes (`upgrade-cluster.yml`); with a limit (a node-by-node upgrade), facts
    /// are gathered for every host first.
    Upgrade {
        /// The target `kube_version`.
        kube_version: String,
        /// How many nodes at a time (`serial`).
        serial: Option<u32>,
        /// Only these hosts (`--limit`).
        limit: Option<String>,
    },
    /// Drain and remove nodes (`remove-node.yml`).
    RemoveNode {
        /// The nodes, by inventory name.
        nodes: Vec<String>,
        /// Remove the first control-plane or etcd member all the same.
        force: bool,
    },
    /// Recover the control plane (`recover-control-plane.yml`).
    Recover {
        /// Only these hosts (`--limit`; Kubespray documents `etcd,kube_control_plane`).
        limit: Option<String>,
    },
}

/// The playbook that gathers facts for every host before a limited run.
pub const FACTS_PLAYBOOK: &str = "playbooks/facts.yml";

impl Operation {
    /// The playbooks this operation runs, in order, each with its own arguments.
    pub fn plays(&self) -> Vec<(&'static str, Vec<String>)> {
        let e = |kv: String| vec!["-e".to_owned(), kv];
        // A limited run reads the facts of hosts outside the limit (the first control plane's
        // address, every node's IP) from the fact cache, which facts.yml fills for every host.
        let limited =
            |playbook: &'static str, args: Vec<String>, limit: &Option<String>| match limit {
                Some(hosts) => {
                    let mut args = args;
                    args.extend(["--limit".to_owned(), hosts.clone()]);
                    vec![(FACTS_PLAYBOOK, vec![]), (playbook, args)]
                }
                None => vec![(playbook, args)],
            };
        match self {
            Operation::Deploy { limit } => limited("cluster.yml", vec![], limit),
            Operation::Reset => vec![("reset.yml", e("reset_confirmation=yes".into()))],
            Operation::Scale { limit } => limited("scale.yml", vec![], limit),
            Operation::Upgrade {
                kube_version,
                serial,
                limit,
            } => {
                let mut args = e(format!("kube_version={kube_version}"));
                if let Some(n) = serial {
                    args.extend(e(format!("serial={n}")));
                }
                limited("upgrade-cluster.yml", args, limit)
            }
            Operation::RemoveNode { nodes, .. } => {
                let mut args = e(format!("node={}", nodes.join(",")));
                args.extend(e("skip_confirmation=true".into()));
                vec![("remove-node.yml", args)]
            }
            // No facts.yml first: the broken members it replaces do not answer, and facts.yml
            // over every host would fail on them. Kubespray's procedure runs it alone.
            Operation::Recover { limit } => {
                let args = limit
                    .iter()
                    .flat_map(|l| ["--limit".to_owned(), l.clone()])
                    .collect();
                vec![("recover-control-plane.yml", args)]
            }
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

/// Where the fact cache is mounted in the container.
const FACTS_MOUNT: &str = "/strata/facts";

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
    /// The environment's fact cache folder, absolute ([`facts_dir`]): every playbook of one
    /// operation reads and writes it, so a limited run sees the facts `facts.yml` gathered.
    pub facts: PathBuf,
}

/// Where an environment's Ansible fact cache lives while an operation runs.
pub fn facts_dir(layout: &strata_config::Layout, env: &str) -> PathBuf {
    layout.state_dir(env).join("kubespray").join("facts")
}

/// The inventory file of a staged inventory folder that Ansible is given: `hosts.yaml`, else
/// `hosts.yml` (validation accepts both), else `None`.
pub fn inventory_file(dir: &Path) -> Option<PathBuf> {
    ["hosts.yaml", "hosts.yml"]
        .into_iter()
        .map(|name| dir.join(name))
        .find(|p| p.is_file())
}

impl KubesprayRun {
    /// The private key, `~` expanded.
    pub fn key(&self) -> PathBuf {
        expand_home(&self.config.ssh_private_key_path)
    }

    /// The inventory file's name in the staged folder (`hosts.yaml` when there is none, which
    /// [`KubesprayRun::run`] refuses before anything starts).
    fn inventory_name(&self) -> String {
        inventory_file(&self.inventory)
            .and_then(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
            .unwrap_or_else(|| "hosts.yaml".to_owned())
    }

    /// The command that runs `playbook` with `args` (the operation's): after the package's
    /// defaults (the config's `kubeVersion` and `extraVars`), so an operation's own flags win
    /// (Ansible keeps the last `-e` that sets a variable), then the user's `-e`, which win over
    /// both, then tags and skipped tags.
    pub fn command(
        &self,
        op: &Operation,
        playbook: &str,
        args: &[String],
        extras: &Extras,
    ) -> Result<Command, KubesprayError> {
        let mut tail: Vec<String> = Vec::new();
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
        tail.extend(args.iter().cloned());
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
                .in_container("ansible-playbook", &[], true)
                .args(["-u", user, "-b", playbook])
                .args(tail),
            KubesprayRuntime::Local => {
                let checkout = self
                    .config
                    .kubespray_path
                    .as_deref()
                    .ok_or(KubesprayError::NoCheckout)?;
                self.on_host(&self.program, &expand_home(checkout))
                    .env(
                        "ANSIBLE_CACHE_PLUGIN_CONNECTION",
                        self.facts.display().to_string(),
                    )
                    .args(["-u", user, "-b", playbook])
                    .args(tail)
            }
        })
    }

    /// The container run of the pinned image with the staged inventory (and, for playbooks,
    /// the fact cache) mounted, up to the image name.
    fn container(&self, env: &[(&str, &str)], with_facts: bool) -> Command {
        let mut cmd =
            Command::new(&self.program, &self.root).args(["run", "--rm", "-w", "/kubespray"]);
        // An inventory Ansible cannot parse (a missing file among them) fails the run instead
        // of leaving only the implicit localhost, on which every play is skipped with exit 0.
        cmd = cmd.args(["--env", "ANSIBLE_INVENTORY_UNPARSED_FAILED=true"]);
        if with_facts {
            // Kubespray's ansible.cfg caches facts in the container's /tmp, which each `--rm`
            // container starts without: the operation's playbooks share this folder instead.
            cmd = cmd
                .arg("--env")
                .arg(format!("ANSIBLE_CACHE_PLUGIN_CONNECTION={FACTS_MOUNT}"));
        }
        for (k, v) in env {
            cmd = cmd.arg("--env").arg(format!("{k}={v}"));
        }
        cmd = cmd.arg("--mount").arg(format!(
            "type=bind,source={},dst=/inventory",
            self.inventory.display()
        ));
        if with_facts {
            cmd = cmd.arg("--mount").arg(format!(
                "type=bind,source={},dst={FACTS_MOUNT}",
                self.facts.display()
            ));
        }
        cmd
    }

    /// `program` (an Ansible command) in the pinned image, with the staged inventory and the one
    /// key file mounted, up to its `-i` and `--private-key`.
    pub(crate) fn in_container(
        &self,
        program: &str,
        env: &[(&str, &str)],
        with_facts: bool,
    ) -> Command {
        let image = format!("{}:{}", self.config.image, self.config.version);
        self.container(env, with_facts)
            // Only the one key file, read-only: mounting ~/.ssh brings permission errors and
            // every other key along.
            .arg("--mount")
            .arg(format!(
                "type=bind,source={},dst=/root/.ssh/id_rsa,readonly",
                self.key().display()
            ))
            .arg(image)
            .args([program, "-i"])
            .arg(format!("/inventory/{}", self.inventory_name()))
            .args(["--private-key", "/root/.ssh/id_rsa"])
    }

    /// An Ansible `program` on this machine, run in `cwd`, up to its `-i` and `--private-key`.
    pub(crate) fn on_host(&self, program: &Path, cwd: &Path) -> Command {
        Command::new(program, cwd)
            .arg("-i")
            .arg(
                self.inventory
                    .join(self.inventory_name())
                    .display()
                    .to_string(),
            )
            .arg("--private-key")
            .arg(self.key())
            .env("ANSIBLE_HOST_KEY_CHECKING", "False")
            .env("ANSIBLE_NOCOLOR", "1")
            .env("ANSIBLE_INVENTORY_UNPARSED_FAILED", "true")
    }

    /// What Kubespray would refuse, or silently do nothing with, refused before anything runs:
    /// an inventory file that is missing or has no hosts (Ansible would skip every play and exit
    /// 0), an even `etcd` without `ignore_assert_errors` (Kubespray's own assertion), and the
    /// removal of the first control-plane or etcd member unless forced.
    pub fn check_inventory(&self, op: &Operation, extras: &Extras) -> Result<(), KubesprayError> {
        let Some(file) = inventory_file(&self.inventory) else {
            return Err(KubesprayError::NoInventory {
                dir: self.inventory.clone(),
            });
        };
        let inventory =
            strata_config::read_inventory(&file).map_err(|d| KubesprayError::Config {
                path: file.clone(),
                message: d.message,
            })?;
        if inventory.hosts_of("all").is_empty() {
            return Err(KubesprayError::NoHosts { path: file });
        }
        let etcd = inventory.hosts_of("etcd").len();
        if etcd > 0 && etcd.is_multiple_of(2) && !self.ignores_asserts(extras) {
            return Err(KubesprayError::EvenEtcd {
                path: file,
                members: etcd,
            });
        }
        if let Operation::RemoveNode {
            nodes,
            force: false,
        } = op
        {
            for group in ["kube_control_plane", "etcd"] {
                let order = strata_config::group_order(&file, group).map_err(|d| {
                    KubesprayError::Config {
                        path: file.clone(),
                        message: d.message,
                    }
                })?;
                if let Some(first) = order.first()
                    && nodes.contains(first)
                {
                    return Err(KubesprayError::FirstNode {
                        node: first.clone(),
                        group,
                        path: file,
                    });
                }
            }
        }
        Ok(())
    }

    /// Whether the run sets `ignore_assert_errors` (from the config's `extraVars` or a `-e`),
    /// which turns Kubespray's inventory assertions off.
    fn ignores_asserts(&self, extras: &Extras) -> bool {
        let truthy = |v: &str| matches!(v.to_ascii_lowercase().as_str(), "yes" | "true" | "1");
        let from_config = match self.config.extra_vars.get("ignore_assert_errors") {
            Some(serde_json::Value::Bool(b)) => Some(*b),
            Some(serde_json::Value::String(s)) => Some(truthy(s)),
            Some(_) => Some(false),
            None => None,
        };
        // The last `-e` that sets it wins, as in Ansible.
        extras
            .extra_vars
            .iter()
            .rev()
            .find_map(|kv| {
                let (k, v) = kv.split_once('=')?;
                (k.trim() == "ignore_assert_errors").then(|| truthy(v.trim()))
            })
            .or(from_config)
            .unwrap_or(false)
    }

    /// Runs every playbook of `op` in order (or only builds the commands in a dry run), with a
    /// fresh fact cache shared by them. Afterwards, whether or not the playbooks succeeded, the
    /// files a container wrote as another user (root, under rootful docker) are handed back to
    /// the user running this, so the artifacts can be kept and the inventory staged again.
    /// Output goes to `log`, and to the context's line hook; the context's interrupt stops the
    /// running playbook.
    pub fn run(
        &self,
        op: &Operation,
        extras: &Extras,
        ctx: &Context<'_>,
        log: Option<&Path>,
    ) -> Result<Vec<Command>, KubesprayError> {
        let dry_run = ctx.dry_run;
        self.check_inventory(op, extras)?;
        if !dry_run {
            self.fresh_facts()?;
        }
        let mut done = Vec::new();
        let mut result = Ok(());
        for (playbook, args) in op.plays() {
            let cmd = self.command(op, playbook, &args, extras)?;
            if !dry_run {
                let opts = RunOptions {
                    tail_lines: 40,
                    ..ctx.run_options(log)
                };
                if let Err(source) = run(&cmd, &opts) {
                    result = Err(KubesprayError::Run {
                        playbook: playbook.to_owned(),
                        source: Box::new(source),
                        artifacts: crate::Artifacts::None,
                    });
                    break;
                }
            }
            done.push(cmd);
        }
        if !dry_run && self.runtime != KubesprayRuntime::Local {
            let handed = self.hand_back(ctx, log);
            match (&result, handed) {
                (_, Ok(Some(cmd))) => done.push(cmd),
                (_, Ok(None)) => {}
                // The playbook's failure is the one to report; the hand-back's shows in the log.
                (Err(_), Err(_)) => {}
                (Ok(()), Err(e)) => result = Err(e),
            }
        }
        result.map(|()| done)
    }

    /// Empties the fact cache: facts of an earlier operation would be taken for current ones
    /// (Kubespray gathers facts with `gathering = smart` and a one-day cache timeout).
    fn fresh_facts(&self) -> Result<(), KubesprayError> {
        use std::os::unix::fs::DirBuilderExt;
        let io = |action| {
            let path = self.facts.clone();
            move |source| KubesprayError::Io {
                action,
                path,
                source,
            }
        };
        match std::fs::remove_dir_all(&self.facts) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(io("empty")(e)),
            _ => {}
        }
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(&self.facts)
            .map_err(io("create"))
    }

    /// The container run that gives the staged inventory and the fact cache to `uid:gid`.
    pub fn hand_back_command(&self, uid: u32, gid: u32) -> Command {
        let image = format!("{}:{}", self.config.image, self.config.version);
        self.container(&[], true).arg(image).args([
            "chown".to_owned(),
            "-R".to_owned(),
            format!("{uid}:{gid}"),
            "/inventory".to_owned(),
            FACTS_MOUNT.to_owned(),
        ])
    }

    /// Runs [`KubesprayRun::hand_back_command`] when the staged inventory or the fact cache
    /// holds a file that is not the current user's. Under rootless docker and podman the
    /// container's root is the user already, and nothing runs.
    fn hand_back(
        &self,
        ctx: &Context<'_>,
        log: Option<&Path>,
    ) -> Result<Option<Command>, KubesprayError> {
        let Some((uid, gid)) = own_ids() else {
            return Ok(None);
        };
        if !foreign(&self.inventory, uid) && !foreign(&self.facts, uid) {
            return Ok(None);
        }
        let cmd = self.hand_back_command(uid, gid);
        // The hand-back runs even after an interrupt: it is quick, and without it the next
        // staging cannot replace the files root wrote.
        let opts = RunOptions {
            interrupt: None,
            ..ctx.run_options(log)
        };
        run(&cmd, &opts).map_err(|source| KubesprayError::HandBack {
            source: Box::new(source),
        })?;
        Ok(Some(cmd))
    }
}

/// This process's effective user and group ids (Linux: `/proc/self/status`).
fn own_ids() -> Option<(u32, u32)> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let effective = |key: &str| -> Option<u32> {
        status
            .lines()
            .find_map(|l| l.strip_prefix(key))?
            .split_whitespace()
            .nth(1)?
            .parse()
            .ok()
    };
    Some((effective("Uid:")?, effective("Gid:")?))
}

/// Whether anything at or under `path` belongs to someone other than `uid`. A folder that
/// cannot be read is someone else's by then.
fn foreign(path: &Path, uid: u32) -> bool {
    use std::os::unix::fs::MetadataExt;
    let Ok(meta) = std::fs::symlink_metadata(path) else {
        return false;
    };
    if meta.uid() != uid {
        return true;
    }
    if !meta.is_dir() {
        return false;
    }
    match std::fs::read_dir(path) {
        Ok(entries) => entries.flatten().any(|e| foreign(&e.path(), uid)),
        Err(_) => true,
    }
}

/// The program a runtime needs: docker or podman (`STRATA_CONTAINER_RUNTIME` overrides either),
/// or `ansible-playbook` for the local runtime (`STRATA_ANSIBLE_PLAYBOOK`), looked up as `ctx`
/// says.
pub fn runtime_tool(runtime: KubesprayRuntime, ctx: &Context<'_>) -> Result<FoundTool, ExecError> {
    match runtime {
        KubesprayRuntime::Local => ctx.find_tool(&crate::ANSIBLE_PLAYBOOK),
        KubesprayRuntime::Docker | KubesprayRuntime::Podman => {
            let mut tool = crate::CONTAINER_RUNTIME;
            tool.candidates = if runtime == KubesprayRuntime::Docker {
                &["docker"]
            } else {
                &["podman"]
            };
            ctx.find_tool(&tool)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DRY_RUN: Context<'static> = Context {
        dry_run: true,
        logs: None,
        on_line: None,
        interrupt: None,
        vars: None,
    };

    fn session(inventory: &Path) -> KubesprayRun {
        KubesprayRun {
            runtime: KubesprayRuntime::Docker,
            program: PathBuf::from("docker"),
            root: inventory.to_owned(),
            config: serde_json::from_value(serde_json::json!({
                "image": "quay.io/kubespray/kubespray", "version": "v2.29.0",
                "sshUser": "ubuntu", "sshPrivateKeyPath": "/keys/id"
            }))
            .unwrap(),
            inventory: inventory.to_owned(),
            facts: inventory.join("facts"),
        }
    }

    #[test]
    fn an_inventory_that_resolves_to_no_hosts_is_refused_before_anything_runs() {
        // ansible-playbook skips every play of such an inventory and exits 0.
        let dir = strata_testkit::TempDir::new("inventory");
        let ks = session(dir.path());
        let op = Operation::Deploy { limit: None };
        let err = ks.run(&op, &Extras::default(), &DRY_RUN, None).unwrap_err();
        assert!(matches!(err, KubesprayError::NoInventory { .. }), "{err}");
        strata_testkit::write(dir.path(), "hosts.yml", "all:\n  children:\n    etcd: {}\n");
        let err = ks.run(&op, &Extras::default(), &DRY_RUN, None).unwrap_err();
        assert_eq!(
            err.to_string(),
            format!(
                "the inventory `{}` has no hosts, so every play would be skipped",
                dir.join("hosts.yml").display()
            )
        );
        strata_testkit::write(dir.path(), "hosts.yml", "all:\n  hosts:\n    cp1: {}\n");
        let cmds = ks.run(&op, &Extras::default(), &DRY_RUN, None).unwrap();
        assert!(
            cmds[0].to_string().contains(" -i /inventory/hosts.yml "),
            "the file that exists: {}",
            cmds[0]
        );
    }
}
