//! What can go wrong staging or running Kubespray.

use std::path::PathBuf;

use strata_config::Diagnostic;
use strata_exec::ExecError;
use strata_metadata::ErrorKind;

use crate::{Artifacts, StagedInventory};

/// Kubespray could not be staged or run.
#[derive(Debug, thiserror::Error)]
pub enum KubesprayError {
    /// The SSH private key is missing.
    #[error("the SSH private key `{}` does not exist", .path.display())]
    KeyMissing {
        /// The key's path, `~` expanded.
        path: PathBuf,
    },

    /// A public key (or something else) is where the private key should be.
    #[error("`{}` is not an SSH private key{}", .path.display(), if *.public { " (it is a public key)" } else { "" })]
    NotAPrivateKey {
        /// The key's path.
        path: PathBuf,
        /// Whether it is a public key.
        public: bool,
    },

    /// Group or others can read the private key; ssh refuses such keys.
    #[error("the SSH private key `{}` is readable by others (mode {mode:o})", .path.display())]
    KeyPermissions {
        /// The key's path.
        path: PathBuf,
        /// Its permission bits.
        mode: u32,
    },

    /// The bundle's Kubespray config cannot be read.
    #[error("cannot read the bundle's Kubespray config `{}`: {message}", .path.display())]
    Config {
        /// The config file.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },

    /// The local ansible-core is outside the range the Kubespray checkout asserts.
    #[error(
        "ansible-core {found} is outside the range this Kubespray checkout accepts (>= {min}, < {max})"
    )]
    AnsibleVersion {
        /// The checkout, whose `requirements.txt` pins a fitting ansible and its collections.
        checkout: PathBuf,
        /// The version found.
        found: String,
        /// The minimum (inclusive).
        min: String,
        /// The maximum (exclusive).
        max: String,
    },

    /// The `local` runtime needs a Kubespray checkout.
    #[error(
        "the `local` runtime needs `kubesprayPath`, a Kubespray checkout, in the Kubespray config"
    )]
    NoCheckout,

    /// The staged inventory folder has neither `hosts.yaml` nor `hosts.yml`.
    #[error("the staged inventory `{}` has no hosts.yaml or hosts.yml", .dir.display())]
    NoInventory {
        /// The staged folder.
        dir: PathBuf,
    },

    /// The inventory file lists no hosts: Ansible would skip every play and report success.
    #[error("the inventory `{}` has no hosts, so every play would be skipped", .path.display())]
    NoHosts {
        /// The inventory file.
        path: PathBuf,
    },

    /// An even `etcd`, which Kubespray refuses unless a run sets `ignore_assert_errors`.
    #[error("`etcd` in `{}` has {members} members, which Kubespray refuses (etcd needs an odd number for quorum)", .path.display())]
    EvenEtcd {
        /// The inventory file.
        path: PathBuf,
        /// How many.
        members: usize,
    },

    /// `remove-node` was asked to remove the first member of `kube_control_plane` or `etcd`.
    #[error("`{node}` is the first member of `{group}` in `{}`, which Kubespray cannot remove", .path.display())]
    FirstNode {
        /// The node.
        node: String,
        /// The group it leads.
        group: &'static str,
        /// The inventory file.
        path: PathBuf,
    },

    /// Giving the files a container wrote back to the user failed.
    #[error("could not give the files the container wrote back to the current user")]
    HandBack {
        /// The container run's failure.
        #[source]
        source: Box<strata_exec::ExecError>,
    },

    /// A playbook run failed.
    #[error("kubespray `{playbook}` failed")]
    Run {
        /// The playbook.
        playbook: String,
        /// The command's failure.
        #[source]
        source: Box<strata_exec::ExecError>,
        /// What became of the artifacts the run wrote before it failed ([`Artifacts::None`]
        /// until a session settles them).
        artifacts: Artifacts,
    },

    /// The staged inventory breaks a rule Kubespray relies on; the diagnostics say where.
    #[error("the staged inventory is not one Kubespray can use")]
    StagedInvalid {
        /// What was staged.
        staged: StagedInventory,
        /// Every problem, errors and warnings, naming the staged files.
        diagnostics: Vec<Diagnostic>,
    },

    /// The staged inventory file does not read as an inventory.
    #[error("cannot read the staged inventory: {}", .diagnostic.message)]
    Inventory {
        /// Where and what.
        diagnostic: Diagnostic,
    },

    /// The Kubernetes version a run would install is one Kubespray refuses: a wrong form, or
    /// outside the pinned release's range.
    #[error("{setting}: {problem}")]
    KubeVersion {
        /// Where the version came from: `--kube-version` or `kubeVersion`.
        setting: &'static str,
        /// What is wrong with it.
        problem: String,
        /// Whether the form is fine but the release does not install it.
        unsupported: bool,
    },

    /// A tool the layer needs is missing, or would not say its version.
    #[error(transparent)]
    Tool(ExecError),

    /// The kubeconfig named by `--kubeconfig` or `KUBECONFIG` does not exist.
    #[error("the kubeconfig `{}` does not exist", .path.display())]
    KubeconfigMissing {
        /// The path given.
        path: PathBuf,
    },

    /// `KUBECONFIG` lists several files, so it does not say which cluster.
    #[error("KUBECONFIG lists several files (`{value}`), so it does not name one cluster")]
    KubeconfigAmbiguous {
        /// The variable's value.
        value: String,
    },

    /// Kubespray has not written a kubeconfig for this environment and none was given.
    #[error("no kubeconfig for this environment: `{}` does not exist and KUBECONFIG is not set", .looked.display())]
    NoKubeconfig {
        /// The environment.
        env: String,
        /// Where the environment's `admin.conf` would be.
        looked: PathBuf,
    },

    /// The API server did not answer, or answered not ready.
    #[error("the cluster does not answer (kubeconfig `{}`)", .kubeconfig.display())]
    ClusterUnreachable {
        /// The kubeconfig used.
        kubeconfig: PathBuf,
        /// Where that kubeconfig came from ([`crate::Kubeconfig::source`]).
        from: &'static str,
        /// kubectl's failure.
        #[source]
        source: Box<strata_exec::ExecError>,
    },

    /// The cluster answered something that is not what the API documents.
    #[error("cannot read {what} the API server returned: {message}")]
    BadAnswer {
        /// What was asked for.
        what: &'static str,
        /// What is wrong.
        message: String,
    },

    /// A bundle file no longer matches the digest `metadata.json` records for it.
    #[error("`{}` was changed after the bundle was generated (its digest no longer matches)", .path.display())]
    BundleModified {
        /// The environment.
        env: String,
        /// The file.
        path: PathBuf,
    },

    /// Reading or writing a file failed.
    #[error("could not {action} `{}`", .path.display())]
    Io {
        /// What was being done.
        action: &'static str,
        /// The path.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
}

impl KubesprayError {
    /// What kind of failure this is, which decides the exit code: the one mapping.
    pub fn kind(&self) -> ErrorKind {
        use KubesprayError as E;
        match self {
            E::KeyMissing { .. }
            | E::NotAPrivateKey { .. }
            | E::KeyPermissions { .. }
            | E::Config { .. }
            | E::AnsibleVersion { .. }
            | E::NoCheckout
            | E::NoInventory { .. }
            | E::NoHosts { .. }
            | E::EvenEtcd { .. }
            | E::FirstNode { .. }
            | E::StagedInvalid { .. }
            | E::Inventory { .. }
            | E::KubeVersion { .. }
            | E::KubeconfigMissing { .. }
            | E::KubeconfigAmbiguous { .. }
            | E::NoKubeconfig { .. }
            | E::BundleModified { .. } => ErrorKind::Invalid,
            // A tool that is not there is a setting to fix; one that fails to answer is a failure.
            E::Tool(ExecError::ToolNotFound { .. } | ExecError::BadOverride { .. }) => {
                ErrorKind::Invalid
            }
            E::Tool(_)
            | E::HandBack { .. }
            | E::Run { .. }
            | E::ClusterUnreachable { .. }
            | E::BadAnswer { .. }
            | E::Io { .. } => ErrorKind::Failed,
        }
    }

    /// How to fix it, where that is clear. (Where a failed command's log is, the caller knows.)
    pub fn hint(&self) -> Option<String> {
        use KubesprayError as E;
        Some(match self {
            E::KeyPermissions { path, .. } => format!("run `chmod 600 {}`", path.display()),
            E::NotAPrivateKey { .. } => "point `sshPrivateKeyPath` in the Kubespray config at the private key, not the `.pub` file".to_owned(),
            E::KeyMissing { .. } => "put the key there, or fix `sshPrivateKeyPath` in the package's Kubespray config".to_owned(),
            // ansible-core alone lacks the collections Kubespray needs (ansible.utils, …): the
            // checkout's own requirements bring both, at the versions the release was tested with.
            E::AnsibleVersion { checkout, .. } => format!(
                "install the checkout's own requirements (`pip install -r {}`), or use the docker runtime, whose image brings its own",
                checkout.join("requirements.txt").display()
            ),
            E::NoInventory { .. } | E::NoHosts { .. } => "Ansible would skip every play and exit 0; give the package's inventory a hosts.yaml that lists the cluster's hosts, then regenerate the bundle".to_owned(),
            E::EvenEtcd { .. } => "use 1 member, or 3 or more; while adding or replacing a member, Kubespray's procedure runs `deploy --limit etcd,kube_control_plane -e ignore_assert_errors=yes`".to_owned(),
            E::FirstNode { group, .. } => format!(
                "move it down the `{group}` list in the package's inventory, regenerate the bundle and run `cargo xtask kubespray upgrade` (or `deploy`) first, as Kubespray's procedure says; or pass `--force`"
            ),
            E::BundleModified { env, .. } => format!(
                "`cargo xtask bundle verify --env {env}` lists every change; regenerate the bundle from its package instead of editing it"
            ),
            E::KubeconfigMissing { .. } | E::KubeconfigAmbiguous { .. } => {
                "pass the cluster's kubeconfig with `--kubeconfig FILE`".to_owned()
            }
            E::NoKubeconfig { env, .. } => format!(
                "Kubespray writes it on `cargo xtask kubespray deploy --env {env}` when the inventory sets `kubeconfig_localhost: true`; or pass `--kubeconfig FILE`"
            ),
            E::ClusterUnreachable { .. } => "check that the control plane is up and that its address in the kubeconfig is reachable from here".to_owned(),
            E::KubeVersion { unsupported: false, .. } => {
                "Kubespray asserts the form at its first task; nothing was run".to_owned()
            }
            E::KubeVersion { unsupported: true, .. } => "Kubespray would fail on the nodes after changing them; pick a version in that range, or pin a Kubespray release that installs this one".to_owned(),
            // A tool missing, or a probe that hung past its timeout: strata-exec knows what to say.
            E::Tool(e) => return e.hint(),
            E::HandBack { .. } | E::Run { .. } => {
                return self.command_failure().and_then(ExecError::hint);
            }
            E::Config { .. }
            | E::NoCheckout
            | E::StagedInvalid { .. }
            | E::Inventory { .. }
            | E::BadAnswer { .. }
            | E::Io { .. } => return None,
        })
    }

    /// The failed command underneath, when there is one: its tail is worth showing.
    pub fn command_failure(&self) -> Option<&ExecError> {
        match self {
            KubesprayError::HandBack { source }
            | KubesprayError::Run { source, .. }
            | KubesprayError::ClusterUnreachable { source, .. } => Some(source),
            _ => None,
        }
    }
}
