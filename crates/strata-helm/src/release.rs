//! The helm command lines of a release: install or upgrade, render offline, diff; and the
//! folder helm runs in.

use std::path::{Path, PathBuf};

use strata_config::Layout;
use strata_exec::Command;
use strata_metadata::Release;

use crate::HelmError;

/// How long `--wait` waits when a release sets no `timeout`.
pub const DEFAULT_TIMEOUT: &str = "10m";

/// The helm program and what its major version needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Helm {
    /// The executable.
    pub program: PathBuf,
    /// 3 or 4, from `helm version --short`.
    pub major: u32,
}

impl Helm {
    /// `--wait` on Helm 3; Helm 4's `--wait` takes a strategy, and `watcher` is the one that
    /// waits for readiness.
    pub fn wait_flag(&self) -> &'static str {
        if self.major >= 4 {
            "--wait=watcher"
        } else {
            "--wait"
        }
    }

    /// The flag that rolls a failed upgrade back: `--atomic` on Helm 3, `--rollback-on-failure`
    /// on Helm 4 (which deprecates `--atomic`).
    pub fn rollback_flag(&self) -> &'static str {
        if self.major >= 4 {
            "--rollback-on-failure"
        } else {
            "--atomic"
        }
    }
}

/// The major version in `helm version --short` output (`v3.16.2+g13654a5`, `v4.2.3`).
pub fn helm_major(version_output: &str) -> Result<u32, HelmError> {
    // The first `v<major>.` anywhere: the short form starts with it, the long form has it
    // after `Version:"`.
    version_output
        .match_indices('v')
        .find_map(|(i, _)| {
            let rest = &version_output[i + 1..];
            let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
            (!digits.is_empty() && rest[digits.len()..].starts_with('.'))
                .then(|| digits.parse().ok())
                .flatten()
        })
        .ok_or_else(|| HelmError::UnknownVersion(version_output.trim().to_owned()))
}

/// The helm-diff plugin's source, as its README gives it.
pub const DIFF_PLUGIN_URL: &str = "https://github.com/databus23/helm-diff";

/// The `helm plugin install` arguments that install helm-diff from `url` on Helm `major`.
/// Helm 4 verifies plugin signatures by default and refuses a git source, which cannot be
/// verified ("plugin source does not support verification"), unless given `--verify=false`;
/// Helm 3 verifies nothing and has no such flag (it would fail with "unknown flag").
pub fn diff_plugin_install_args(major: u32, url: &str) -> Vec<String> {
    let mut args = vec!["plugin".to_owned(), "install".to_owned()];
    if major >= 4 {
        args.push("--verify=false".to_owned());
    }
    args.push(url.to_owned());
    args
}

/// The empty folder Strata runs helm in: `.strata/<env>/helm/cwd`, emptied when something
/// was left in it. Helm 3 takes a folder of the working directory named like a `--repo` chart
/// before the repository, so running helm from the repository root would install its
/// `platform/` or `docs/` folder for a repository chart of that name. Every path Strata gives
/// helm is absolute, so nothing needs the repository as the working directory.
pub fn work_dir(layout: &Layout, env: &str) -> Result<PathBuf, HelmError> {
    let dir = layout.state_dir(env).join("helm").join("cwd");
    let io = |action| {
        let path = dir.clone();
        move |source| HelmError::Io {
            action,
            path,
            source,
        }
    };
    let empty = match std::fs::read_dir(&dir) {
        Ok(mut entries) => entries.next().is_none(),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => true,
        Err(e) => return Err(io("read")(e)),
    };
    if !empty {
        std::fs::remove_dir_all(&dir).map_err(io("empty"))?;
    }
    std::fs::create_dir_all(&dir).map_err(io("create"))?;
    Ok(dir)
}

/// One release, resolved against the repository: where its chart and values files are.
#[derive(Debug, Clone, PartialEq)]
pub struct ReleasePlan {
    /// The release as the bundle gives it.
    pub release: Release,
    /// The chart argument and, for a repository chart, its `--repo`.
    pub chart: ChartRef,
    /// Values files, absolute, in order: the release's files, then its inline values (written
    /// by [`write_inline_values`]) last, so they win.
    pub values: Vec<PathBuf>,
}

/// How helm is told where a chart is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChartRef {
    /// A chart folder in the repository, absolute.
    Local(PathBuf),
    /// A chart in a Helm repository: `--repo URL NAME`.
    Repo {
        /// The repository URL.
        url: String,
        /// The chart's name in it.
        name: String,
    },
    /// An `oci://host/path/chart` reference: the release's `chart`, or its `repository` when
    /// that is an `oci://` registry path, joined with the chart's name. Helm takes OCI charts
    /// only in this form, never as a `--repo` URL.
    Oci(String),
}

impl ReleasePlan {
    /// Resolves `release`: its chart, its values files (which must exist), and its inline values
    /// written to `values_dir/<release>.yaml`.
    pub fn new(layout: &Layout, release: &Release, values_dir: &Path) -> Result<Self, HelmError> {
        let chart = if release.chart.starts_with("oci://") {
            ChartRef::Oci(release.chart.clone())
        } else if let Some(url) = &release.repository {
            // `repo/chart` names the chart in the repository the URL points at.
            let name = release
                .chart
                .rsplit('/')
                .next()
                .unwrap_or(&release.chart)
                .to_owned();
            if url.starts_with("oci://") {
                ChartRef::Oci(format!("{}/{name}", url.trim_end_matches('/')))
            } else {
                ChartRef::Repo {
                    url: url.clone(),
                    name,
                }
            }
        } else {
            ChartRef::Local(layout.abs(&release.chart))
        };
        let mut values = Vec::new();
        for file in &release.values_files {
            let path = layout.abs(file);
            if !path.is_file() {
                return Err(HelmError::ValuesFileMissing {
                    release: release.name.clone(),
                    path,
                });
            }
            values.push(path);
        }
        if !release.values.is_empty() {
            values.push(write_inline_values(
                values_dir,
                &release.name,
                &release.values,
            )?);
        }
        // Validation refuses a comma in `valuesFiles`; the repository's own path may hold one.
        if let Some(path) = values.iter().find(|p| p.to_string_lossy().contains(',')) {
            return Err(HelmError::ValuesPathComma {
                release: release.name.clone(),
                path: path.clone(),
            });
        }
        Ok(Self {
            release: release.clone(),
            chart,
            values,
        })
    }

    fn chart_args(&self, cmd: Command) -> Command {
        let cmd = match &self.chart {
            ChartRef::Local(path) => cmd.arg(path),
            ChartRef::Repo { url, name } => cmd.arg(name).arg("--repo").arg(url),
            ChartRef::Oci(r) => cmd.arg(r),
        };
        let cmd = cmd.arg("--namespace").arg(&self.release.namespace);
        let cmd = match &self.release.version {
            Some(v) => cmd.arg("--version").arg(v),
            None => cmd,
        };
        self.values
            .iter()
            .fold(cmd, |c, f| c.arg("--values").arg(f))
    }

    /// `helm upgrade --install` with the namespace created when missing, `--wait`, the
    /// release's timeout, rollback on failure, and the kubeconfig passed explicitly.
    pub fn upgrade(&self, helm: &Helm, cwd: &Path, kubeconfig: &Path) -> Command {
        let cmd = Command::new(&helm.program, cwd)
            .args(["upgrade", "--install"])
            .arg(&self.release.name);
        self.chart_args(cmd)
            .arg("--create-namespace")
            .arg(helm.wait_flag())
            .arg("--timeout")
            .arg(
                self.release
                    .timeout
                    .clone()
                    .unwrap_or_else(|| DEFAULT_TIMEOUT.to_owned()),
            )
            .arg(helm.rollback_flag())
            .arg("--kubeconfig")
            .arg(kubeconfig)
    }

    /// `helm template` into `out_dir`: no cluster needed.
    pub fn template(&self, helm: &Helm, cwd: &Path, out_dir: &Path) -> Command {
        let cmd = Command::new(&helm.program, cwd)
            .arg("template")
            .arg(&self.release.name);
        self.chart_args(cmd).arg("--output-dir").arg(out_dir)
    }

    /// `helm diff upgrade` (the helm-diff plugin): exit 2 when the release would change.
    pub fn diff(&self, helm: &Helm, cwd: &Path, kubeconfig: &Path) -> Command {
        let cmd = Command::new(&helm.program, cwd)
            .args(["diff", "upgrade"])
            .arg(&self.release.name);
        self.chart_args(cmd)
            .args(["--allow-unreleased", "--detailed-exitcode"])
            .arg("--kubeconfig")
            .arg(kubeconfig)
    }
}

/// Writes a release's inline values as YAML to `dir/<release>.yaml` (through a temporary file).
pub fn write_inline_values(
    dir: &Path,
    release: &str,
    values: &std::collections::BTreeMap<String, serde_json::Value>,
) -> Result<PathBuf, HelmError> {
    let io = |action, path: &Path| {
        let path = path.to_owned();
        move |source| HelmError::Io {
            action,
            path,
            source,
        }
    };
    std::fs::create_dir_all(dir).map_err(io("create", dir))?;
    let path = dir.join(format!("{release}.yaml"));
    let text = format!(
        "# Inline values of release `{release}`, written by Strata from the bundle's platform.yaml.\n{}",
        serde_yaml_ng::to_string(values).expect("JSON values render as YAML")
    );
    strata_util::write_atomic(&path, text.as_bytes()).map_err(io("write", &path))?;
    Ok(path)
}

/// Reads the bundle's `platform.yaml`.
pub fn read_platform(path: &Path) -> Result<strata_metadata::PlatformConfig, HelmError> {
    let text = std::fs::read_to_string(path).map_err(|e| HelmError::Config {
        path: path.to_owned(),
        message: e.to_string(),
    })?;
    serde_yaml_ng::from_str(&text).map_err(|e| HelmError::Config {
        path: path.to_owned(),
        message: e.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_major_version_picks_the_rollback_flag() {
        assert_eq!(helm_major("v3.16.2+g13654a5\n").unwrap(), 3);
        assert_eq!(helm_major("v4.2.3+gabc").unwrap(), 4);
        assert_eq!(
            helm_major(r#"version.BuildInfo{Version:"v3.14.0", GitCommit:"x"}"#).unwrap(),
            3
        );
        assert!(helm_major("helm: command not found").is_err());
        let helm = |major| Helm {
            program: "helm".into(),
            major,
        };
        assert_eq!(helm(3).rollback_flag(), "--atomic");
        assert_eq!(helm(4).rollback_flag(), "--rollback-on-failure");
    }

    #[test]
    fn an_oci_repository_becomes_an_oci_chart_reference() {
        let layout = Layout::new("/repo");
        let release: Release = serde_json::from_value(serde_json::json!({
            "name": "podinfo", "namespace": "apps", "chart": "stefanprodan/podinfo",
            "repository": "oci://ghcr.io/stefanprodan/charts/", "version": "6.7.1",
        }))
        .unwrap();
        let plan = ReleasePlan::new(&layout, &release, Path::new("/unused")).unwrap();
        assert_eq!(
            plan.chart,
            ChartRef::Oci("oci://ghcr.io/stefanprodan/charts/podinfo".into())
        );
        let helm = Helm {
            program: "helm".into(),
            major: 3,
        };
        let cmd = plan
            .template(&helm, Path::new("/cwd"), Path::new("/out"))
            .to_string();
        assert!(
            cmd.contains("template podinfo oci://ghcr.io/stefanprodan/charts/podinfo --namespace apps --version 6.7.1")
                && !cmd.contains("--repo"),
            "{cmd}"
        );
    }
}
