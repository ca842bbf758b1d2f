//! What can go wrong deploying Helm releases.

use std::path::PathBuf;

use strata_exec::ExecError;
use strata_metadata::ErrorKind;

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
    NoArgoCd {
        /// The environment.
        env: String,
    },

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
        /// The environment.
        env: String,
        /// The kubeconfig used.
        kubeconfig: PathBuf,
        /// kubectl's failure.
        #[source]
        source: Box<strata_exec::ExecError>,
    },

    /// No kubeconfig was given and Kubespray kept none for the environment.
    #[error("no kubeconfig for this environment: `{}` does not exist and KUBECONFIG is not set", .looked.display())]
    NoKubeconfig {
        /// The environment.
        env: String,
        /// Where the environment's `admin.conf` would be.
        looked: PathBuf,
    },

    /// The kubeconfig named by `--kubeconfig` or `KUBECONFIG` does not exist.
    #[error("the kubeconfig `{}` does not exist", .path.display())]
    KubeconfigMissing {
        /// The environment.
        env: String,
        /// The path given.
        path: PathBuf,
    },

    /// `KUBECONFIG` lists several files, so it does not say which cluster.
    #[error("KUBECONFIG lists several files (`{value}`), so it does not name one cluster")]
    KubeconfigAmbiguous {
        /// The environment.
        env: String,
        /// The variable's value.
        value: String,
    },

    /// The cluster gate: the API server did not answer, or answered not ready.
    #[error("gate: the cluster does not answer (kubeconfig `{}`)", .kubeconfig.display())]
    GateUnreachable {
        /// The environment.
        env: String,
        /// The kubeconfig used.
        kubeconfig: PathBuf,
        /// kubectl's failure.
        #[source]
        source: Box<strata_exec::ExecError>,
    },

    /// The cluster gate: the API server answered, but a node is not Ready (or there is none).
    #[error("gate: {}", if .not_ready.is_empty() { "the cluster has no nodes".to_owned() } else { format!("nodes are not Ready: {}", .not_ready.join(", ")) })]
    GateNotReady {
        /// The environment.
        env: String,
        /// The nodes that are not Ready; empty when the cluster has no nodes at all.
        not_ready: Vec<String>,
    },

    /// The cluster gate: the API server's node list is not what the API documents.
    #[error("gate: cannot read the node list the API server returned: {message}")]
    GateBadAnswer {
        /// The environment.
        env: String,
        /// What is wrong.
        message: String,
    },

    /// A tool (helm, kubectl) is not installed, or could not tell its version.
    #[error(transparent)]
    Tool(#[from] strata_exec::ExecError),

    /// The run was stopped (Ctrl-C) before this release started.
    #[error("interrupted before it started")]
    Interrupted,

    /// A helm (or kubectl) command failed.
    #[error("release `{release}`: {step} failed")]
    Command {
        /// The release.
        release: String,
        /// What was being done.
        step: &'static str,
        /// Its full output, relative to the repository root when inside it.
        log: Option<PathBuf>,
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
    /// What kind of failure this is, which decides the exit code: the input is at fault
    /// (`Invalid`: a file or an argument must change), or helm, kubectl or the cluster failed
    /// (`Failed`), or the run was stopped.
    pub fn kind(&self) -> ErrorKind {
        match self {
            Self::Config { .. }
            | Self::ValuesFileMissing { .. }
            | Self::ValuesPathComma { .. }
            | Self::Graph(_)
            | Self::NoKubeconfig { .. }
            | Self::KubeconfigMissing { .. }
            | Self::KubeconfigAmbiguous { .. }
            | Self::Tool(ExecError::ToolNotFound { .. } | ExecError::BadOverride { .. }) => {
                ErrorKind::Invalid
            }
            Self::Interrupted => ErrorKind::Interrupted,
            Self::UnknownVersion(_)
            | Self::NoDiffPlugin { .. }
            | Self::NoArgoCd { .. }
            | Self::ArgoCdRefused { .. }
            | Self::ClusterUnreachable { .. }
            | Self::GateUnreachable { .. }
            | Self::GateNotReady { .. }
            | Self::GateBadAnswer { .. }
            | Self::Tool(_)
            | Self::Command { .. }
            | Self::Io { .. } => ErrorKind::Failed,
        }
    }

    /// What to do about it, where that is clear.
    pub fn hint(&self) -> Option<String> {
        Some(match self {
            Self::NoDiffPlugin { major } => {
                let command = format!(
                    "helm {}",
                    crate::diff_plugin_install_args(*major, crate::DIFF_PLUGIN_URL).join(" ")
                );
                if *major >= 4 {
                    format!(
                        "install it with `{command}`: Helm 4 verifies plugin signatures and refuses a git source, which it cannot verify, unless given `--verify=false` (Helm 3 has no such flag); Helm 4 needs helm-diff 3.14 or later"
                    )
                } else {
                    format!("install it with `{command}`")
                }
            }
            Self::ValuesPathComma { .. } => "helm splits each --values argument at commas; rename the file or folder (`cargo xtask validate` names the line for a package's valuesFiles)".to_owned(),
            Self::ValuesFileMissing { .. } => "`valuesFiles` are relative to the repository root; fix the path in the package's platform.yaml".to_owned(),
            Self::Graph(_) => "`cargo xtask validate` names the release and line".to_owned(),
            Self::NoKubeconfig { env, .. }
            | Self::KubeconfigMissing { env, .. }
            | Self::KubeconfigAmbiguous { env, .. } => format!(
                "deploy the cluster first (`cargo xtask kubespray deploy --env {env}` keeps its admin.conf), or pass `--kubeconfig FILE`"
            ),
            Self::GateUnreachable { env, .. }
            | Self::GateNotReady { env, .. }
            | Self::GateBadAnswer { env, .. } => format!(
                "`cargo xtask kubespray status --env {env}` shows the cluster; `--skip-gate` deploys anyway"
            ),
            Self::NoArgoCd { env } => format!(
                "deploy the platform first: `cargo xtask platform deploy --env {env}` installs ArgoCD"
            ),
            Self::ArgoCdRefused { .. } => "the kubeconfig's user needs the rights to read CustomResourceDefinitions and to manage Applications and AppProjects (the cluster-admin Kubespray's admin.conf has); pass another with `--kubeconfig FILE`".to_owned(),
            Self::ClusterUnreachable { env, .. } => format!(
                "`cargo xtask kubespray status --env {env}` shows whether the cluster answers"
            ),
            // A tool missing, or a probe that hung past its timeout: strata-exec knows what to say.
            Self::Tool(e) => return e.hint(),
            Self::Command { log: Some(log), .. } => {
                format!("the full output is in {}", log.display())
            }
            _ => return self.failed_command().and_then(ExecError::hint),
        })
    }

    /// The failed command's error, whose last output lines are worth showing before the
    /// message.
    pub fn failed_command(&self) -> Option<&ExecError> {
        match self {
            Self::Command { source, .. }
            | Self::ArgoCdRefused { source, .. }
            | Self::ClusterUnreachable { source, .. }
            | Self::GateUnreachable { source, .. } => Some(source),
            _ => None,
        }
    }

    /// Whether the input is at fault (exit 2) rather than helm or the cluster (exit 1).
    pub fn is_invalid_input(&self) -> bool {
        self.kind() == ErrorKind::Invalid
    }
}
