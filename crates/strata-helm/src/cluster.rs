//! Which cluster the Helm layers talk to and whether it answers: the kubeconfig (explicit, else
//! the one Kubespray kept for the environment, else `KUBECONFIG`) and the platform gate (the
//! API server is ready and every node Ready), asked with that kubeconfig so an ambient kubectl
//! context never decides which cluster is touched.

use std::ffi::OsStr;
use std::fmt;
use std::path::{Path, PathBuf};

use strata_config::Layout;
use strata_exec::{Command, Interrupt, RunOptions};

use crate::HelmError;

/// How long kubectl waits for the API server on each request of the gate.
pub const GATE_REQUEST_TIMEOUT: &str = "10s";

/// Which kubeconfig the Helm layers use, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Kubeconfig {
    /// The file.
    pub path: PathBuf,
    /// Where it came from.
    pub source: KubeconfigSource,
}

/// Where a [`Kubeconfig`] came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KubeconfigSource {
    /// The caller named it (`--kubeconfig`).
    Explicit,
    /// The `admin.conf` Kubespray wrote for the environment, as kept
    /// ([`Layout::kubespray_kubeconfig`]).
    Kubespray,
    /// The `KUBECONFIG` variable.
    Variable,
    /// Nothing was found and the run is a dry run: the path Kubespray's would have.
    Assumed,
}

impl fmt::Display for KubeconfigSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Explicit => "--kubeconfig",
            Self::Kubespray | Self::Assumed => "Kubespray artifacts",
            Self::Variable => "KUBECONFIG",
        })
    }
}

/// The kubeconfig for `env`: `explicit` when given (it must exist), else the `admin.conf`
/// Kubespray kept for this environment, else `kubeconfig_var` (the value of `KUBECONFIG`) when
/// it names one file that exists.
pub fn find_kubeconfig(
    layout: &Layout,
    env: &str,
    explicit: Option<&Path>,
    kubeconfig_var: Option<&OsStr>,
) -> Result<Kubeconfig, HelmError> {
    let env_s = || env.to_owned();
    if let Some(path) = explicit {
        return if path.is_file() {
            Ok(Kubeconfig {
                path: path.to_owned(),
                source: KubeconfigSource::Explicit,
            })
        } else {
            Err(HelmError::KubeconfigMissing {
                env: env_s(),
                path: path.to_owned(),
            })
        };
    }
    let kept = layout.kubespray_kubeconfig(env);
    if kept.is_file() {
        return Ok(Kubeconfig {
            path: kept,
            source: KubeconfigSource::Kubespray,
        });
    }
    match kubeconfig_var.filter(|v| !v.is_empty()) {
        Some(v) if v.to_string_lossy().contains(':') => Err(HelmError::KubeconfigAmbiguous {
            env: env_s(),
            value: v.to_string_lossy().into_owned(),
        }),
        Some(v) if Path::new(v).is_file() => Ok(Kubeconfig {
            path: PathBuf::from(v),
            source: KubeconfigSource::Variable,
        }),
        Some(v) => Err(HelmError::KubeconfigMissing {
            env: env_s(),
            path: PathBuf::from(v),
        }),
        None => Err(HelmError::NoKubeconfig {
            env: env_s(),
            looked: kept,
        }),
    }
}

/// [`find_kubeconfig`] with `KUBECONFIG` read through [`strata_exec::Context::var`] (the caller's
/// variables, else the process environment; the one place the Helm layers read it); in a dry run, a kubeconfig that cannot be found is assumed at the path
/// Kubespray's would have, since nothing reaches the cluster.
pub(crate) fn kubeconfig_for(
    layout: &Layout,
    env: &str,
    explicit: Option<&Path>,
    ctx: &strata_exec::Context<'_>,
    dry_run: bool,
) -> Result<Kubeconfig, HelmError> {
    // The caller's variables first, as for the tools.
    let var = ctx.var("KUBECONFIG");
    match find_kubeconfig(layout, env, explicit, var.as_deref()) {
        Err(_) if dry_run => Ok(Kubeconfig {
            path: layout.kubespray_kubeconfig(env),
            source: KubeconfigSource::Assumed,
        }),
        found => found,
    }
}

/// The kubectl commands of the gate: readiness, then the node list. Both are raw GETs, so no
/// API discovery (and no cache in `~/.kube`) is involved.
pub fn gate_commands(kubectl: &Path, kubeconfig: &Path, cwd: &Path) -> [Command; 2] {
    let base = || {
        Command::new(kubectl, cwd)
            .arg("--kubeconfig")
            .arg(kubeconfig)
            .arg(format!("--request-timeout={GATE_REQUEST_TIMEOUT}"))
            .args(["get", "--raw"])
    };
    [base().arg("/readyz"), base().arg("/api/v1/nodes")]
}

/// The platform gate: the API server behind `kubeconfig` is ready and every node, at least one,
/// is Ready. Returns how many nodes there are. `interrupt`, the run's stop request, stops a
/// kubectl that hangs as it stops any command of the run.
pub fn cluster_gate(
    env: &str,
    kubectl: &Path,
    kubeconfig: &Path,
    cwd: &Path,
    interrupt: Option<&Interrupt>,
) -> Result<usize, HelmError> {
    let [readyz, nodes] = gate_commands(kubectl, kubeconfig, cwd);
    let opts = RunOptions {
        capture_stdout: true,
        tail_lines: 5,
        // kubectl's own request timeout does not cover a credential plugin that hangs.
        timeout: Some(strata_exec::PROBE_TIMEOUT),
        interrupt,
        ..RunOptions::default()
    };
    let unreachable = |source| HelmError::GateUnreachable {
        env: env.to_owned(),
        kubeconfig: kubeconfig.to_owned(),
        source: Box::new(source),
    };
    strata_exec::run(&readyz, &opts).map_err(unreachable)?;
    let list = strata_exec::run(&nodes, &opts).map_err(unreachable)?;
    let bad = |message: String| HelmError::GateBadAnswer {
        env: env.to_owned(),
        message,
    };
    let list: serde_json::Value =
        serde_json::from_str(&list.stdout).map_err(|e| bad(e.to_string()))?;
    let items = list["items"]
        .as_array()
        .ok_or_else(|| bad("it has no `items`".to_owned()))?;
    let not_ready: Vec<String> = items
        .iter()
        .filter(|item| !node_ready(item))
        .map(|item| item["metadata"]["name"].as_str().unwrap_or("?").to_owned())
        .collect();
    if items.is_empty() || !not_ready.is_empty() {
        return Err(HelmError::GateNotReady {
            env: env.to_owned(),
            not_ready,
        });
    }
    Ok(items.len())
}

/// A node is Ready only when its `Ready` condition is `True` (`Unknown` is not).
fn node_ready(item: &serde_json::Value) -> bool {
    item["status"]["conditions"]
        .as_array()
        .into_iter()
        .flatten()
        .any(|c| c["type"] == "Ready" && c["status"] == "True")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_node_is_ready_only_when_its_ready_condition_is_true() {
        let node = |ready: &str| {
            serde_json::json!({"status": {"conditions": [
                {"type": "MemoryPressure", "status": "False"},
                {"type": "Ready", "status": ready}
            ]}})
        };
        assert!(node_ready(&node("True")));
        assert!(!node_ready(&node("Unknown")));
        assert!(!node_ready(&serde_json::json!({})));
    }
}
