//! The SSH preflight: every inventory host answers an Ansible ping, before a run that takes
//! forty minutes finds out on its own.

use std::path::{Path, PathBuf};

use strata_exec::{Command, Context, RunOptions, expand_home, run};
use strata_metadata::{Inventory, KubesprayRuntime};

use crate::{KubesprayError, KubesprayRun};

/// How long Ansible waits for one host's SSH connection, in seconds.
pub const CONNECT_TIMEOUT_SECS: u32 = 10;

/// The ssh options of the preflight: no shared master connection, one attempt, no writes to
/// the user's `known_hosts` (host key checking is off, as in Kubespray's own `ansible.cfg`).
pub const PREFLIGHT_SSH_ARGS: &str =
    "-o ControlMaster=no -o ConnectionAttempts=1 -o UserKnownHostsFile=/dev/null";

/// What one host answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostReach {
    /// The inventory name.
    pub host: String,
    /// `ansible_host[:ansible_port]`, or the name when the host has no address.
    pub address: String,
    /// The answer.
    pub reach: Reach,
}

/// Whether a host answered the ping.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reach {
    /// SSH worked and the ping module ran.
    Answered,
    /// SSH did not connect or authenticate; Ansible's message.
    Unreachable(String),
    /// SSH connected but the module failed (no Python, for one); Ansible's message.
    Failed(String),
    /// Ansible said nothing about this host.
    NoReport,
}

impl HostReach {
    /// Whether the host is ready for Kubespray.
    pub fn ok(&self) -> bool {
        self.reach == Reach::Answered
    }
}

impl KubesprayRun {
    /// The `ansible all -m ping` that checks every host over SSH, with the same inventory, key
    /// and user as the playbooks.
    pub fn ping_command(&self) -> Command {
        let tail = [
            "all".to_owned(),
            "-m".to_owned(),
            "ping".to_owned(),
            "-u".to_owned(),
            self.config.ssh_user.clone(),
            "-T".to_owned(),
            CONNECT_TIMEOUT_SECS.to_string(),
        ];
        // A preflight tests fresh connections, once each: an open ControlPersist master would
        // answer for a host that no longer accepts logins, and Kubespray's ansible.cfg retries
        // a connection 100 times.
        let ssh = ("ANSIBLE_SSH_ARGS", PREFLIGHT_SSH_ARGS);
        match self.runtime {
            KubesprayRuntime::Docker | KubesprayRuntime::Podman => {
                self.in_container("ansible", &[ssh], false).args(tail)
            }
            KubesprayRuntime::Local => {
                let cwd = self
                    .config
                    .kubespray_path
                    .as_deref()
                    .map_or_else(|| self.root.clone(), expand_home);
                self.on_host(&self.ansible_program(), &cwd)
                    .env(ssh.0, ssh.1)
                    .args(tail)
            }
        }
    }

    /// `ansible`, installed beside `ansible-playbook` by every ansible-core.
    fn ansible_program(&self) -> PathBuf {
        self.program.with_file_name("ansible")
    }

    /// Pings every host of `inventory`. A host that does not answer is a result, not an error;
    /// an Ansible that cannot run at all is an error.
    pub fn ping(
        &self,
        inventory: &Inventory,
        ctx: &Context<'_>,
        log: Option<&Path>,
    ) -> Result<(Command, Vec<HostReach>), KubesprayError> {
        let cmd = self.ping_command();
        let opts = RunOptions {
            // The ping is the check itself; a dry run shows its command instead of calling this.
            dry_run: false,
            capture_stdout: true,
            tail_lines: 20,
            // 2: a host failed; 4: a host was unreachable. Both are answers to report.
            success_codes: &[0, 2, 4],
            ..ctx.run_options(log)
        };
        let out = run(&cmd, &opts).map_err(|source| KubesprayError::Run {
            playbook: "ansible all -m ping".to_owned(),
            source: Box::new(source),
            artifacts: crate::Artifacts::None,
        })?;
        Ok((cmd, parse_ping(inventory, &out.stdout)))
    }
}

/// Reads the answers of `ansible all -m ping` (the default `minimal` output: `host | STATUS =>`
/// and a JSON object) for every host of the inventory.
pub fn parse_ping(inventory: &Inventory, stdout: &str) -> Vec<HostReach> {
    inventory
        .hosts_of("all")
        .into_iter()
        .map(|host| {
            let vars = inventory.host_vars(host);
            let address = match (
                vars.get("ansible_host").and_then(|v| v.as_str()),
                // A port set for every host in `all: vars:` counts too.
                vars.get("ansible_port")
                    .copied()
                    .or_else(|| inventory.all.vars.get("ansible_port")),
            ) {
                (Some(a), Some(p)) => {
                    format!("{a}:{}", p.as_str().map_or(p.to_string(), str::to_owned))
                }
                (Some(a), None) => a.to_owned(),
                (None, _) => host.to_owned(),
            };
            HostReach {
                host: host.to_owned(),
                address,
                reach: answer(stdout, host),
            }
        })
        .collect()
}

fn answer(stdout: &str, host: &str) -> Reach {
    let header = format!("{host} | ");
    let mut offset = 0;
    for line in stdout.split_inclusive('\n') {
        let start = offset;
        offset += line.len();
        let Some(rest) = line.strip_prefix(&header) else {
            continue;
        };
        let Some((status, _)) = rest.split_once(" =>") else {
            continue;
        };
        let json_at = start + header.len() + status.len() + " =>".len();
        let detail: serde_json::Value = serde_json::Deserializer::from_str(&stdout[json_at..])
            .into_iter()
            .next()
            .and_then(Result::ok)
            .unwrap_or_default();
        // ansible-core 2.19 prefixes every message with "Task failed: ", which says nothing here.
        let msg = detail["msg"].as_str().map_or_else(
            || detail.to_string(),
            |m| m.strip_prefix("Task failed: ").unwrap_or(m).to_owned(),
        );
        // ssh's own lines come along; one line per host keeps the report a table.
        let msg = msg
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .collect::<Vec<_>>()
            .join("; ");
        return match status.trim() {
            "SUCCESS" | "CHANGED" => Reach::Answered,
            "UNREACHABLE!" => Reach::Unreachable(msg),
            _ => Reach::Failed(msg),
        };
    }
    Reach::NoReport
}

#[cfg(test)]
mod tests {
    use super::*;

    fn inventory() -> Inventory {
        serde_json::from_value(serde_json::json!({"all": {
            "vars": {"ansible_port": 2222},
            "hosts": {
                "cp1": {"ansible_host": "127.0.0.2", "ansible_port": 2200},
                "w1": {"ansible_host": "127.0.0.3"},
                "w2": {"ansible_host": "127.0.0.4"},
                "w10": {"ansible_host": "127.0.0.5"}
            }
        }}))
        .unwrap()
    }

    #[test]
    fn every_host_gets_its_own_answer() {
        let out = r#"w1 | UNREACHABLE! => {
    "changed": false,
    "msg": "Task failed: Failed to connect to the host via ssh: ssh: connect to host 127.0.0.3 port 22: Connection refused",
    "unreachable": true
}
cp1 | SUCCESS => {
    "changed": false,
    "ping": "pong"
}
w10 | FAILED! => {"changed": false, "msg": "Task failed: /usr/bin/python3: not found\nConnection to 127.0.0.5 closed.\r\n"}
"#;
        let got = parse_ping(&inventory(), out);
        let by = |h: &str| got.iter().find(|r| r.host == h).unwrap().clone();
        assert_eq!(by("cp1").reach, Reach::Answered);
        assert_eq!(by("cp1").address, "127.0.0.2:2200");
        assert_eq!(by("w2").address, "127.0.0.4:2222");
        assert!(
            matches!(&by("w1").reach, Reach::Unreachable(m) if m.contains("Connection refused")),
            "{:?}",
            by("w1")
        );
        assert_eq!(
            by("w10").reach,
            Reach::Failed("/usr/bin/python3: not found; Connection to 127.0.0.5 closed.".into())
        );
        // `w1 | ` must not be read as the answer of `w10`, nor anything as the silent w2's.
        assert_eq!(by("w2").reach, Reach::NoReport);
    }
}
