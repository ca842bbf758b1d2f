//! What can go wrong deploying Helm releases.

use std::path::PathBuf;

/// A release could not be rendered, deployed or diffed.
#[derive(Debug, thiserror::Error)]
pub enum HelmError {
    /// The bundle's platform or business file cannot be read.
    #[error("cannot read `{}`: {message}", .path.display())]
    Config {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },

    /// A values file a release names does not exist.
    #[error("release `{release}`: values file `{}` does not exist", .path.display())]
    ValuesFileMissing {
        /// The release.
        release: String,
        /// The file, as resolved.
        path: PathBuf,
    },

    /// A values file's path has a comma, which helm's `--values` splits at.
    #[error("release `{release}`: values file `{}` has a comma in its path, which helm splits at", .path.display())]
    ValuesPathComma {
        /// The release.
        release: String,
        /// The file, as resolved.
        path: PathBuf,
    },

    /// `needs` names a release that is not there, or the releases need each other in a circle.
    #[error("the platform releases cannot be ordered: {0}")]
    Graph(String),

    /// `helm version` printed nothing Strata understands.
    #[error("cannot tell the Helm version from `{0}`")]
    UnknownVersion(String),

    /// The helm-diff plugin is not installed.
    #[error("`helm diff` needs the helm-diff plugin, which is not installed")]
    NoDiffPlugin {
        /// The major version of the helm that lacks it (the install command differs).
        major: u32,
    },

    /// ArgoCD's `Application` CRD is not in the cluster (the API server said NotFound).
    #[error("ArgoCD's `Application` CRD (applications.argoproj.io) is not in the cluster")]
    NoArgoCd,

    /// The API server refused to tell whether ArgoCD's CRD is there (Forbidden, Unauthorized).
    #[error(
        "the cluster refuses to show ArgoCD's `Application` CRD to the user of `{}`", .kubeconfig.display()
    )]
    ArgoCdRefused {
        /// The kubeconfig used.
        kubeconfig: PathBuf,
        /// kubectl's failure.
        #[source]
        source: Box<strata_exec::ExecError>,
    },

    /// kubectl could not ask the API server at all (it is down, the address is wrong).
    #[error("cannot ask the cluster whether ArgoCD is installed (kubeconfig `{}`)", .kubeconfig.display())]
    ClusterUnreachable {
        /// The kubeconfig used.
        kubeconfig: PathBuf,
        /// kubectl's failure.
        #[source]
        source: Box<strata_exec::ExecError>,
    },

    /// A helm (or kubectl) command failed.
    #[error("release `{release}`: {step} failed")]
    Command {
        /// The release.
        release: String,
        /// What was being done.
        step: &'static str,
        /// The command's failure.
        #[source]
        source: Box<strata_exec::ExecError>,
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

impl HelmError {
    /// Whether the input is at fault (exit 2) rather than helm or the cluster (exit 1).
    pub fn is_invalid_input(&self) -> bool {
        matches!(
            self,
            Self::Config { .. }
                | Self::ValuesFileMissing { .. }
                | Self::ValuesPathComma { .. }
                | Self::Graph(_)
        )
    }
}
