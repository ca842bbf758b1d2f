//! A local chart's dependencies: helm refuses to install or render a chart whose
//! `dependencies` are missing from its `charts/` folder, and Strata builds them first.

use std::path::Path;

use serde::Deserialize;
use strata_exec::Command;

use crate::{ChartRef, Helm, HelmError, ReleasePlan};

/// What a local chart needs before helm can use it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dependencies {
    /// `Chart.yaml` lists no dependencies.
    None,
    /// `Chart.lock` pins every dependency and each one is in `charts/` already: nothing to
    /// fetch, so nothing runs (offline).
    Vendored,
    /// Some are missing, or there is no lock: `helm dependency build` fetches them (copies
    /// `file://` ones, downloads the others) into `charts/`.
    Build,
}

#[derive(Deserialize)]
struct Listed {
    #[serde(default)]
    dependencies: Vec<Dependency>,
}

#[derive(Deserialize)]
struct Dependency {
    name: String,
    #[serde(default)]
    version: String,
}

fn read_listed(path: &Path) -> Result<Option<Listed>, HelmError> {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(source) => {
            return Err(HelmError::Io {
                action: "read",
                path: path.to_owned(),
                source,
            });
        }
    };
    serde_yaml_ng::from_str(&text)
        .map(Some)
        .map_err(|e| HelmError::Config {
            path: path.to_owned(),
            message: e.to_string(),
        })
}

/// Whether the chart in `chart_dir` has dependencies, and whether they are all vendored.
pub fn dependencies(chart_dir: &Path) -> Result<Dependencies, HelmError> {
    let chart_yaml = chart_dir.join("Chart.yaml");
    let listed = read_listed(&chart_yaml)?.ok_or_else(|| HelmError::Config {
        path: chart_yaml.clone(),
        message: "the chart has no Chart.yaml".to_owned(),
    })?;
    if listed.dependencies.is_empty() {
        return Ok(Dependencies::None);
    }
    let Some(lock) = read_listed(&chart_dir.join("Chart.lock"))? else {
        return Ok(Dependencies::Build);
    };
    let charts = chart_dir.join("charts");
    let vendored = listed.dependencies.iter().all(|d| {
        lock.dependencies
            .iter()
            .find(|l| l.name == d.name)
            .is_some_and(|l| {
                charts
                    .join(format!("{}-{}.tgz", l.name, l.version))
                    .is_file()
                    || charts.join(&l.name).join("Chart.yaml").is_file()
            })
    });
    Ok(if vendored {
        Dependencies::Vendored
    } else {
        Dependencies::Build
    })
}

/// `helm dependency build CHART_DIR`: from `Chart.lock` when there is one (and it must match
/// `Chart.yaml`), else resolved from `Chart.yaml` and locked.
pub fn dependency_build(helm: &Helm, cwd: &Path, chart_dir: &Path) -> Command {
    Command::new(&helm.program, cwd)
        .args(["dependency", "build"])
        .arg(chart_dir)
}

/// The `helm dependency build` each local chart of `plans` needs, once per chart folder, with
/// the first release that uses it. Run them one after the other, before any release: two
/// releases of one chart must not fill its `charts/` folder at the same time.
pub fn dependency_builds(
    plans: &[ReleasePlan],
    helm: &Helm,
    cwd: &Path,
) -> Result<Vec<(String, Command)>, HelmError> {
    let mut seen = std::collections::BTreeSet::new();
    let mut out = Vec::new();
    for plan in plans {
        let ChartRef::Local(dir) = &plan.chart else {
            continue;
        };
        if seen.insert(dir.clone()) && dependencies(dir)? == Dependencies::Build {
            out.push((plan.release.name.clone(), dependency_build(helm, cwd, dir)));
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(dir: &Path, rel: &str, text: &str) {
        let path = dir.join(rel);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }

    #[test]
    fn a_lock_and_vendored_charts_need_no_build() {
        let dir = strata_testkit::TempDir::new("deps");
        let d = dir.path();
        write(
            d,
            "Chart.yaml",
            "apiVersion: v2\nname: app\nversion: 0.1.0\n",
        );
        assert_eq!(dependencies(d).unwrap(), Dependencies::None);
        write(
            d,
            "Chart.yaml",
            "apiVersion: v2\nname: app\nversion: 0.1.0\ndependencies:\n  - name: lib\n    version: ~0.1.0\n    repository: file://../lib\n",
        );
        assert_eq!(dependencies(d).unwrap(), Dependencies::Build);
        write(
            d,
            "Chart.lock",
            "dependencies:\n- name: lib\n  repository: file://../lib\n  version: 0.1.2\ndigest: sha256:0\ngenerated: \"2026-11-25T09:41:55Z\"\n",
        );
        assert_eq!(
            dependencies(d).unwrap(),
            Dependencies::Build,
            "not in charts/"
        );
        write(d, "charts/lib-0.1.2.tgz", "");
        assert_eq!(dependencies(d).unwrap(), Dependencies::Vendored);
    }
}
