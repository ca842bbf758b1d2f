//! Where things live in a Strata repository.

use std::path::{Path, PathBuf};

/// The modules that select a config package per environment, each through
/// `<module>/environments/<env>.yaml`.
pub const MODULES: [&str; 4] = [
    "infrastructure",
    "container-orchestration",
    "platform",
    "business",
];

/// The paths of a repository rooted at one directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Layout {
    root: PathBuf,
}

impl Layout {
    /// A repository rooted at `root`.
    pub fn new(root: impl Into<PathBuf>) -> Self {
        Self { root: root.into() }
    }

    /// The repository root.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// `config/packages`, relative to the root.
    pub fn packages_rel() -> &'static Path {
        Path::new("config/packages")
    }

    /// `config/packages/<id>`, relative to the root.
    pub fn package_rel(id: &str) -> PathBuf {
        Self::packages_rel().join(id)
    }

    /// `config/packages.lock`, relative to the root.
    pub fn lock_rel() -> &'static Path {
        Path::new("config/packages.lock")
    }

    /// `config/state-backend.json`, relative to the root: where Strata keeps its run state,
    /// deploy lock and run history (absent: the local files under `.strata/`).
    pub fn state_backend_rel() -> &'static Path {
        Path::new("config/state-backend.json")
    }

    /// `api/definitions`, relative to the root.
    pub fn definitions_rel() -> &'static Path {
        Path::new("api/definitions")
    }

    /// `<module>/environments`, relative to the root.
    pub fn selectors_rel(module: &str) -> PathBuf {
        Path::new(module).join("environments")
    }

    /// `api/outputs`, where bundles are written.
    pub fn outputs_dir(&self) -> PathBuf {
        self.root.join("api/outputs")
    }

    /// `api/outputs/<env>`: one environment's bundle.
    pub fn bundle_dir(&self, env: &str) -> PathBuf {
        self.outputs_dir().join(env)
    }

    /// `.strata/<env>`: run state, lock and logs of one environment.
    pub fn state_dir(&self, env: &str) -> PathBuf {
        self.root.join(".strata").join(env)
    }

    /// The lock a run holds while it uses a folder every environment shares (a Terraform
    /// module, the staged Kubespray inventory): `.strata/modules/<name>.lock`.
    pub fn folder_lock(&self, name: &str) -> PathBuf {
        self.root
            .join(".strata/modules")
            .join(format!("{name}.lock"))
    }

    /// Where the infrastructure layer records a module's Terraform outputs for the later
    /// layers: `.strata/<env>/terraform/<module>.outputs.json`.
    pub fn terraform_outputs(&self, env: &str, module: &str) -> PathBuf {
        self.state_dir(env)
            .join("terraform")
            .join(format!("{module}.outputs.json"))
    }

    /// Where an environment's Kubespray artifacts are kept after a run:
    /// `.strata/<env>/kubespray/artifacts/`. The Kubespray layer writes them; the Helm layer
    /// reads the kubeconfig there ([`Layout::kubespray_kubeconfig`]), without either crate
    /// depending on the other.
    pub fn kubespray_artifacts(&self, env: &str) -> PathBuf {
        self.state_dir(env).join("kubespray").join("artifacts")
    }

    /// The cluster's admin kubeconfig Kubespray wrote for `env` (`kubeconfig_localhost`), as
    /// kept: `.strata/<env>/kubespray/artifacts/admin.conf`.
    pub fn kubespray_kubeconfig(&self, env: &str) -> PathBuf {
        self.kubespray_artifacts(env).join("admin.conf")
    }

    /// An absolute path for a root-relative one.
    pub fn abs(&self, rel: impl AsRef<Path>) -> PathBuf {
        self.root.join(rel)
    }
}
