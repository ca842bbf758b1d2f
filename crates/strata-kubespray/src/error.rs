//! What can go wrong staging or running Kubespray.

use std::path::PathBuf;

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
    },

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
        /// Where the environment's `admin.conf` would be.
        looked: PathBuf,
    },

    /// The API server did not answer, or answered not ready.
    #[error("the cluster does not answer (kubeconfig `{}`)", .kubeconfig.display())]
    ClusterUnreachable {
        /// The kubeconfig used.
        kubeconfig: PathBuf,
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
