//! What can go wrong building or publishing an image.

use std::path::PathBuf;

use strata_exec::ExecError;
use strata_metadata::ErrorKind;

/// An image could not be built, recorded or published.
#[derive(Debug, thiserror::Error)]
pub enum ProvisionError {
    /// The environment's provisioner config has no such role.
    #[error("role `{role}` is not in the provisioner config of `{env}`")]
    UnknownRole {
        /// The role asked for.
        role: String,
        /// The environment.
        env: String,
        /// The roles that exist.
        known: Vec<String>,
    },

    /// The bundle's provisioner config cannot be read.
    #[error("cannot read the bundle's provisioner config `{}`: {message}", .path.display())]
    Config {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },

    /// The role's builder needs a base image and the config names none.
    #[error("role `{role}` has no `baseImage`, which the {builder} builder needs")]
    NoBaseImage {
        /// The role.
        role: String,
        /// The builder.
        builder: &'static str,
    },

    /// The base image is not where the config (or the cache) says.
    #[error("the base image of role `{role}` is missing: `{}` does not exist", .path.display())]
    BaseImageMissing {
        /// The role.
        role: String,
        /// Where it was looked for.
        path: PathBuf,
        /// The URL it comes from, when the config names one.
        url: Option<String>,
    },

    /// Downloading a base image needs curl, which was not found.
    #[error(
        "downloading the base image of role `{role}` from `{url}` needs curl: `curl` not found on PATH (set STRATA_CURL to use another binary)"
    )]
    NoCurl {
        /// The role.
        role: String,
        /// The URL, credentials masked.
        url: String,
    },

    /// The server of a base image could not be reached (name, proxy or connection).
    #[error("could not reach `{url}` to download the base image of role `{role}`")]
    DownloadUnreachable {
        /// The role.
        role: String,
        /// The URL, credentials masked.
        url: String,
        /// curl's failure.
        #[source]
        source: Box<strata_exec::ExecError>,
    },

    /// A base image's download started but did not finish.
    #[error("downloading the base image of role `{role}` from `{url}` did not finish{}", kept(*.received, .partial))]
    DownloadFailed {
        /// The role.
        role: String,
        /// The URL, credentials masked.
        url: String,
        /// What arrived so far.
        partial: PathBuf,
        /// Its size.
        received: u64,
        /// curl's failure.
        #[source]
        source: Box<strata_exec::ExecError>,
    },

    /// What was downloaded is not the image the config pins.
    #[error(
        "the base image downloaded from `{url}` has sha256 {actual}, not the pinned {expected}; the download was removed"
    )]
    DownloadChecksum {
        /// The URL, credentials masked.
        url: String,
        /// The configured sha256.
        expected: String,
        /// What arrived hashes to this.
        actual: String,
    },

    /// The base image's checksum is not the configured one.
    #[error("the base image `{}` has the wrong checksum: expected sha256 {expected}, found {actual}", .path.display())]
    BaseImageChecksum {
        /// The file.
        path: PathBuf,
        /// The configured sha256.
        expected: String,
        /// What the file hashes to.
        actual: String,
    },

    /// The disk size does not parse.
    #[error("role `{role}`: disk size `{size}` does not parse")]
    BadDiskSize {
        /// The role.
        role: String,
        /// The configured size.
        size: String,
    },

    /// The disk size is smaller than the base image's.
    #[error(
        "role `{role}`: disk size {size} ({bytes} bytes) is smaller than the base image's virtual size ({base_bytes} bytes)"
    )]
    DiskTooSmall {
        /// The role.
        role: String,
        /// The configured size.
        size: String,
        /// It in bytes.
        bytes: u64,
        /// The base image's virtual size in bytes.
        base_bytes: u64,
    },

    /// A file that should be a disk image is not one of the expected format.
    #[error("`{}` is not a {expected} image ({found})", .path.display())]
    NotAnImage {
        /// The file.
        path: PathBuf,
        /// The format expected.
        expected: &'static str,
        /// What it is instead.
        found: String,
    },

    /// The packer builder's template directory does not exist or holds no template.
    #[error("role `{role}`: packer template directory `{}` {problem}", .dir.display())]
    PackerTemplate {
        /// The role.
        role: String,
        /// The directory.
        dir: PathBuf,
        /// What is wrong.
        problem: &'static str,
    },

    /// A builder setting is missing (`packer` or `command`).
    #[error("role `{role}` uses the {builder} builder but has no `{builder}` settings")]
    BuilderSettings {
        /// The role.
        role: String,
        /// The builder.
        builder: &'static str,
    },

    /// A private key (or something that is not a public key) is listed as an authorized key.
    #[error("role `{role}`: authorized key {index} of user `{user}` is not an SSH public key{}", if *.private { " (it is a PRIVATE key; it was not copied anywhere)" } else { "" })]
    NotAPublicKey {
        /// The role.
        role: String,
        /// The user.
        user: String,
        /// Its position, from 1.
        index: usize,
        /// Whether it looks like a private key.
        private: bool,
    },

    /// A builder finished without writing the image it was asked for.
    #[error("the {builder} builder of role `{role}` finished without producing an image{}", .hint.as_deref().map(|h| format!(" ({h})")).unwrap_or_default())]
    NoArtifact {
        /// The role.
        role: String,
        /// The builder.
        builder: &'static str,
        /// Where it should have been.
        hint: Option<String>,
    },

    /// An external program failed.
    #[error("role `{role}`: {step} failed")]
    Tool {
        /// The role.
        role: String,
        /// What was being done.
        step: String,
        /// The command's failure.
        #[source]
        source: Box<strata_exec::ExecError>,
    },

    /// There is no image (or record) for the role to publish.
    #[error("role `{role}` of `{env}` has not been built: `{}` is missing", .path.display())]
    NotBuilt {
        /// The role.
        role: String,
        /// The environment.
        env: String,
        /// What is missing.
        path: PathBuf,
    },

    /// The image no longer matches its record.
    #[error("`{}` no longer matches its record (sha256 {actual}, recorded {recorded})", .path.display())]
    ArtifactModified {
        /// The environment.
        env: String,
        /// The image.
        path: PathBuf,
        /// What it hashes to.
        actual: String,
        /// What the record says.
        recorded: String,
    },

    /// The environment has no publish target.
    #[error("the provisioner config of `{env}` has no `publish` target")]
    NoPublishTarget {
        /// The environment.
        env: String,
    },

    /// A publish URI Strata cannot write to.
    #[error("cannot publish to `{uri}`: {problem}")]
    PublishUri {
        /// The URI, credentials removed.
        uri: String,
        /// Why.
        problem: &'static str,
    },

    /// The copy to the publish target did not arrive intact.
    #[error("the copy at `{}` hashes to {actual}, not {expected}", .path.display())]
    CopyCorrupted {
        /// The copy.
        path: PathBuf,
        /// The expected sha256.
        expected: String,
        /// What the copy hashes to.
        actual: String,
    },

    /// A program a role needs is not installed, or could not tell its version.
    #[error(transparent)]
    Program(#[from] strata_exec::ExecError),

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

impl ProvisionError {
    /// What kind of failure this is, which decides the exit code: the input is at fault
    /// (`Invalid`: a file, an argument or a missing program must change), or a tool, the
    /// network or the machine failed (`Failed`).
    pub fn kind(&self) -> ErrorKind {
        match self {
            Self::Tool { .. }
            | Self::DownloadUnreachable { .. }
            | Self::DownloadFailed { .. }
            | Self::Io { .. }
            | Self::NoArtifact { .. }
            | Self::CopyCorrupted { .. } => ErrorKind::Failed,
            Self::Program(e) => match e {
                ExecError::ToolNotFound { .. } | ExecError::BadOverride { .. } => {
                    ErrorKind::Invalid
                }
                _ => ErrorKind::Failed,
            },
            Self::UnknownRole { .. }
            | Self::Config { .. }
            | Self::NoBaseImage { .. }
            | Self::BaseImageMissing { .. }
            | Self::NoCurl { .. }
            | Self::DownloadChecksum { .. }
            | Self::BaseImageChecksum { .. }
            | Self::BadDiskSize { .. }
            | Self::DiskTooSmall { .. }
            | Self::NotAnImage { .. }
            | Self::PackerTemplate { .. }
            | Self::BuilderSettings { .. }
            | Self::NotAPublicKey { .. }
            | Self::NotBuilt { .. }
            | Self::ArtifactModified { .. }
            | Self::NoPublishTarget { .. }
            | Self::PublishUri { .. } => ErrorKind::Invalid,
        }
    }

    /// Whether the input is at fault (exit 2) rather than a tool or the machine (exit 1).
    pub fn is_invalid_input(&self) -> bool {
        self.kind() == ErrorKind::Invalid
    }

    /// What to do about it, where that is clear; `log` is the role's log of this run, when one
    /// was written ([`crate::ProvisionOutcome::log`]).
    pub fn hint(&self, log: Option<&std::path::Path>) -> Option<String> {
        let log = log.map(|l| l.display().to_string());
        Some(match self {
            Self::UnknownRole { env, known, .. } => {
                format!("the roles of `{env}` are: {}", known.join(", "))
            }
            Self::BaseImageMissing { url: Some(_), .. } => "it was downloaded but is gone again: run the build again (STRATA_IMAGE_CACHE moves the cache)".to_owned(),
            Self::NoCurl { .. } => "install curl (Debian: `apt-get install curl`), or point STRATA_CURL at it; `cargo xtask doctor` lists what is found".to_owned(),
            Self::DownloadUnreachable { .. } => "check the network; behind a proxy, set https_proxy (or http_proxy) and no_proxy, which curl reads".to_owned(),
            Self::DownloadFailed { .. } => match log {
                Some(l) => format!("run the build again to continue the download; curl's output is in {l}"),
                None => "run the build again to continue the download".to_owned(),
            },
            Self::DownloadChecksum { .. } => "the server sent another file than the one the config pins: check `baseImage.url` and `baseImage.sha256` in the package's provisioner config (an image that changes under one URL needs a dated release URL)".to_owned(),
            Self::BaseImageMissing { url: None, .. } => "put the image there, or fix `baseImage.path` in the package's provisioner config".to_owned(),
            Self::BaseImageChecksum { .. } => "this is not the image the config pins: fetch it again, or set `baseImage.sha256` to the new image's checksum if it is the one you want".to_owned(),
            Self::DiskTooSmall { .. } => "raise `diskSize` in the package's provisioner config to at least the base image's size".to_owned(),
            Self::BadDiskSize { .. } => "write a whole number with a unit, such as `40G` or `40960M`".to_owned(),
            Self::NotAPublicKey { private: true, .. } => "put the public key (the line of the `.pub` file) in `sshAuthorizedKeys`, and treat the private key as leaked if it was committed".to_owned(),
            Self::NotAPublicKey { .. } => "`sshAuthorizedKeys` takes OpenSSH public key lines, such as `ssh-ed25519 AAAA… user@host`".to_owned(),
            Self::NotBuilt { role, env, .. } => format!(
                "build it first: `cargo xtask provision build --env {env} --role {role}`"
            ),
            Self::ArtifactModified { env, .. } => format!(
                "the image changed after it was built; rebuild it with `cargo xtask provision build --env {env} --force`"
            ),
            Self::NoPublishTarget { .. } => "add `\"publish\": {\"uri\": \"file:///srv/images\"}` (or an http(s) URL that accepts PUT) to the environment's provisioner config".to_owned(),
            Self::Tool { .. } => return log.map(|l| format!("the full output is in {l}")),
            Self::Program(ExecError::ToolNotFound { tool, .. }) if tool.contains("cloud-localds") => "install it with `apt-get install cloud-image-utils`; it writes the NoCloud seed of roles with `cloudInit`".to_owned(),
            // A tool missing, or a probe that hung past its timeout: strata-exec knows what to say.
            Self::Program(e) => return e.hint(),
            _ => return self.failed_command().and_then(ExecError::hint),
        })
    }

    /// The failed command's error, whose last output lines are worth showing before the
    /// message.
    pub fn failed_command(&self) -> Option<&ExecError> {
        match self {
            Self::Tool { source, .. }
            | Self::DownloadUnreachable { source, .. }
            | Self::DownloadFailed { source, .. } => Some(source),
            _ => None,
        }
    }
}

fn kept(received: u64, partial: &std::path::Path) -> String {
    if received == 0 {
        String::new()
    } else {
        format!(
            "; the {received} bytes that arrived are kept in `{}` for the next run to continue",
            partial.display()
        )
    }
}

pub(crate) fn io(
    action: &'static str,
    path: &std::path::Path,
) -> impl FnOnce(std::io::Error) -> ProvisionError {
    let path = path.to_owned();
    move |source| ProvisionError::Io {
        action,
        path,
        source,
    }
}
