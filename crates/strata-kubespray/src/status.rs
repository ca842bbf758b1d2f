//! Whether a cluster answers: the API server's readiness and every node's Ready condition,
//! asked with an explicit kubeconfig so an ambient kubectl context never decides which cluster.
//!
//! The platform phase uses the same check as its gate.

use std::ffi::OsStr;
use std::path::{Path, PathBuf};

use strata_config::Layout;
use strata_exec::{Command, RunOptions, run};

use crate::{KubesprayError, SOURCE_FILE};

/// How long kubectl waits for the API server on each request.
pub const REQUEST_TIMEOUT: &str = "10s";

/// Where an environment's Kubespray artifacts (`admin.conf`) are kept after a run, relative to
/// the repository root.
pub fn artifacts_dir(layout: &Layout, env: &str) -> PathBuf {
    layout.kubespray_artifacts(env)
}

/// Which kubeconfig a check uses, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Kubeconfig {
    /// The file.
    pub path: PathBuf,
    /// Where it came from, for messages: `--kubeconfig`, `Kubespray artifacts`, `KUBECONFIG`.
    pub source: &'static str,
}

/// The kubeconfig for `env`: the one given explicitly, else the `admin.conf` Kubespray wrote
/// for this environment (kept under `.strata/<env>/kubespray/artifacts/`, or still in the staged
/// inventory when that holds this environment), else `KUBECONFIG` when it names one file.
pub fn find_kubeconfig(
    layout: &Layout,
    env: &str,
    explicit: Option<&Path>,
    kubeconfig_var: Option<&OsStr>,
) -> Result<Kubeconfig, KubesprayError> {
    if let Some(path) = explicit {
        return if path.is_file() {
            Ok(Kubeconfig {
                path: path.to_owned(),
                source: "--kubeconfig",
            })
        } else {
            Err(KubesprayError::KubeconfigMissing {
                path: path.to_owned(),
            })
        };
    }
    let kept = layout.kubespray_kubeconfig(env);
    if kept.is_file() {
        return Ok(Kubeconfig {
            path: kept,
            source: "Kubespray artifacts",
        });
    }
    let staged = layout.abs(crate::STAGED_INVENTORY);
    let staged_env = std::fs::read_to_string(staged.join(SOURCE_FILE))
        .is_ok_and(|r| r.contains(&format!("(environment {env})")));
    if staged_env {
        let conf = staged.join("artifacts/admin.conf");
        match std::fs::metadata(&conf) {
            Ok(m) if m.is_file() => {
                return Ok(Kubeconfig {
                    path: conf,
                    source: "Kubespray artifacts",
                });
            }
            // Written by a container as another user: say so, not "there is none".
            Err(e) if e.kind() == std::io::ErrorKind::PermissionDenied => {
                return Err(KubesprayError::Io {
                    action: "read",
                    path: conf,
                    source: e,
                });
            }
            _ => {}
        }
    }
    match kubeconfig_var.filter(|v| !v.is_empty()) {
        Some(v) if v.to_string_lossy().contains(':') => Err(KubesprayError::KubeconfigAmbiguous {
            value: v.to_string_lossy().into_owned(),
        }),
        Some(v) if Path::new(v).is_file() => Ok(Kubeconfig {
            path: PathBuf::from(v),
            source: "KUBECONFIG",
        }),
        Some(v) => Err(KubesprayError::KubeconfigMissing {
            path: PathBuf::from(v),
        }),
        None => Err(KubesprayError::NoKubeconfig {
            env: env.to_owned(),
            looked: kept,
        }),
    }
}

/// What became of an environment's Kubespray artifacts after a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Artifacts {
    /// The run wrote none.
    None,
    /// They were kept in [`artifacts_dir`].
    Kept,
    /// A reset removed the cluster, and with it the kept `admin.conf` and the staged one.
    Dropped,
}

/// Settles the artifacts after a real run of `op`: a successful reset drops them (the cluster
/// they describe is gone, and `status` would otherwise ask it), anything else keeps them
/// ([`keep_artifacts`]), whether or not the run got to the end.
pub fn settle_artifacts(
    layout: &Layout,
    env: &str,
    staged: &Path,
    op: &crate::Operation,
    succeeded: bool,
) -> Result<Artifacts, KubesprayError> {
    if *op == crate::Operation::Reset && succeeded {
        for dir in [artifacts_dir(layout, env), staged.join("artifacts")] {
            match std::fs::remove_dir_all(&dir) {
                Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                    return Err(KubesprayError::Io {
                        action: "remove",
                        path: dir,
                        source: e,
                    });
                }
                _ => {}
            }
        }
        return Ok(Artifacts::Dropped);
    }
    Ok(if keep_artifacts(layout, env, staged)? {
        Artifacts::Kept
    } else {
        Artifacts::None
    })
}

/// Keeps the artifacts Kubespray wrote into the staged inventory (`admin.conf`, `kubectl`,
/// `kubectl.sh`) for `env`, owner-only: the next staging replaces the staged folder, and
/// `admin.conf` holds the cluster's admin credentials. Executables stay executable (`0700`),
/// the rest is `0600`. Returns whether there were any; an `artifacts/` that cannot be read is
/// an error, never "none".
pub fn keep_artifacts(layout: &Layout, env: &str, staged: &Path) -> Result<bool, KubesprayError> {
    use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
    let from = staged.join("artifacts");
    let io = |action, path: &Path| {
        let path = path.to_owned();
        move |source| KubesprayError::Io {
            action,
            path,
            source,
        }
    };
    let entries = match std::fs::read_dir(&from) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(false),
        Err(e) => return Err(io("read", &from)(e)),
    };
    let to = artifacts_dir(layout, env);
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(&to)
        .map_err(io("create", &to))?;
    for entry in entries.flatten() {
        let source = entry.path();
        let Ok(meta) = std::fs::metadata(&source) else {
            continue;
        };
        if !meta.is_file() {
            continue;
        }
        let mode = if meta.permissions().mode() & 0o111 != 0 {
            0o700
        } else {
            0o600
        };
        let bytes = std::fs::read(&source).map_err(io("read", &source))?;
        let target = to.join(entry.file_name());
        let temp = to.join(format!(".{}.new", entry.file_name().to_string_lossy()));
        let mut file = std::fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(mode)
            .open(&temp)
            .map_err(io("write", &temp))?;
        std::io::Write::write_all(&mut file, &bytes).map_err(io("write", &temp))?;
        // The mode of an existing temp file is not changed by `open`.
        std::fs::set_permissions(&temp, std::fs::Permissions::from_mode(mode))
            .map_err(io("write", &temp))?;
        std::fs::rename(&temp, &target).map_err(io("write", &target))?;
    }
    Ok(true)
}

/// One node and whether it is Ready: the type `kubespray status --output json` lists.
pub use strata_metadata::output::NodeStatus;

/// What the cluster answered.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ClusterStatus {
    /// The API server's `/readyz` answer.
    pub readyz: String,
    /// Every node.
    pub nodes: Vec<NodeStatus>,
}

impl ClusterStatus {
    /// The nodes that are not Ready.
    pub fn not_ready(&self) -> Vec<&NodeStatus> {
        self.nodes.iter().filter(|n| !n.ready).collect()
    }

    /// The API server is ready and every node, at least one, is Ready.
    pub fn healthy(&self) -> bool {
        !self.nodes.is_empty() && self.not_ready().is_empty()
    }
}

/// The kubectl commands the check runs: readiness, then the node list. Both are raw GETs, so
/// no API discovery (and no cache in `~/.kube`) is involved.
pub fn status_commands(kubectl: &Path, kubeconfig: &Path, cwd: &Path) -> [Command; 2] {
    let base = || {
        Command::new(kubectl, cwd)
            .arg("--kubeconfig")
            .arg(kubeconfig)
            .arg(format!("--request-timeout={REQUEST_TIMEOUT}"))
            .args(["get", "--raw"])
    };
    [base().arg("/readyz"), base().arg("/api/v1/nodes")]
}

/// Asks the cluster behind `kubeconfig` whether it is ready and how its nodes are. An API
/// server that does not answer, or answers not ready, is [`KubesprayError::ClusterUnreachable`].
/// `interrupt`, the caller's stop request, stops a kubectl that hangs.
pub fn cluster_status(
    kubectl: &Path,
    kubeconfig: &Kubeconfig,
    cwd: &Path,
    interrupt: Option<&strata_exec::Interrupt>,
) -> Result<ClusterStatus, KubesprayError> {
    let [readyz, nodes] = status_commands(kubectl, &kubeconfig.path, cwd);
    let opts = RunOptions {
        capture_stdout: true,
        tail_lines: 5,
        // kubectl's own request timeout does not cover a credential plugin that hangs.
        timeout: Some(strata_exec::PROBE_TIMEOUT),
        interrupt,
        ..RunOptions::default()
    };
    let unreachable = |source| KubesprayError::ClusterUnreachable {
        kubeconfig: kubeconfig.path.clone(),
        from: kubeconfig.source,
        source: Box::new(source),
    };
    let ready = run(&readyz, &opts).map_err(unreachable)?;
    let list = run(&nodes, &opts).map_err(unreachable)?;
    let list: serde_json::Value =
        serde_json::from_str(&list.stdout).map_err(|e| KubesprayError::BadAnswer {
            what: "the node list",
            message: e.to_string(),
        })?;
    let items = list["items"]
        .as_array()
        .ok_or_else(|| KubesprayError::BadAnswer {
            what: "the node list",
            message: "it has no `items`".to_owned(),
        })?;
    Ok(ClusterStatus {
        readyz: ready.stdout.trim().to_owned(),
        nodes: items.iter().map(node_status).collect(),
    })
}

fn node_status(item: &serde_json::Value) -> NodeStatus {
    let ready = item["status"]["conditions"]
        .as_array()
        .into_iter()
        .flatten()
        .any(|c| c["type"] == "Ready" && c["status"] == "True");
    let roles = item["metadata"]["labels"]
        .as_object()
        .into_iter()
        .flatten()
        .filter_map(|(k, _)| k.strip_prefix("node-role.kubernetes.io/"))
        .map(str::to_owned)
        .collect();
    NodeStatus {
        name: item["metadata"]["name"].as_str().unwrap_or("?").to_owned(),
        ready,
        roles,
        version: item["status"]["nodeInfo"]["kubeletVersion"]
            .as_str()
            .unwrap_or_default()
            .to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_node_is_ready_only_when_its_ready_condition_is_true() {
        let node = |name: &str, ready: &str| {
            serde_json::json!({
                "metadata": {"name": name, "labels": {"node-role.kubernetes.io/control-plane": ""}},
                "status": {
                    "conditions": [
                        {"type": "MemoryPressure", "status": "False"},
                        {"type": "Ready", "status": ready}
                    ],
                    "nodeInfo": {"kubeletVersion": "v1.33.5"}
                }
            })
        };
        let a = node_status(&node("cp1", "True"));
        assert!(a.ready);
        assert_eq!(a.roles, ["control-plane"]);
        assert_eq!(a.version, "v1.33.5");
        assert!(!node_status(&node("w1", "Unknown")).ready);
        let status = ClusterStatus {
            readyz: "ok".into(),
            nodes: vec![a, node_status(&node("w1", "False"))],
        };
        assert!(!status.healthy());
        assert_eq!(status.not_ready()[0].name, "w1");
        assert!(
            !ClusterStatus {
                readyz: "ok".into(),
                nodes: vec![]
            }
            .healthy()
        );
    }
}
