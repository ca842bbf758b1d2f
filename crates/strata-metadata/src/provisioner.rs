//! `provisioner.json`: how each VM image role of an environment is built.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// The image build settings of one environment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ProvisionerConfig {
    /// Role name (defined in `api/definitions/roles.yaml`) to how its image is built.
    pub roles: BTreeMap<String, RoleImage>,
    /// Where `provision publish` copies built images.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub publish: Option<PublishTarget>,
}

/// How one role's image is built.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RoleImage {
    /// The builder.
    #[serde(default)]
    pub builder: Builder,
    /// The image the role starts from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub base_image: Option<BaseImage>,
    /// The disk size of the built image, such as `20G` or `40960M`.
    pub disk_size: String,
    /// The output format.
    #[serde(default)]
    pub format: ImageFormat,
    /// The NoCloud seed rendered for the role.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cloud_init: Option<CloudInit>,
    /// Settings of the `packer` builder.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub packer: Option<PackerBuilder>,
    /// Settings of the `command` builder.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub command: Option<CommandBuilder>,
}

/// Which program builds an image.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Builder {
    /// `qemu-img` convert/overlay + resize, and a NoCloud seed. Works offline.
    #[default]
    QemuImg,
    /// `packer build` on a template directory.
    Packer,
    /// A program of the team's own.
    Command,
}

impl Builder {
    /// The name the config spells it with (`qemu-img`, `packer`, `command`).
    pub fn name(self) -> &'static str {
        match self {
            Builder::QemuImg => "qemu-img",
            Builder::Packer => "packer",
            Builder::Command => "command",
        }
    }
}

/// Disk image formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum ImageFormat {
    /// QEMU copy-on-write v2.
    #[default]
    Qcow2,
    /// A raw disk image.
    Raw,
}

/// A base image: a local path or a URL (downloaded into a cache), always checked by sha256.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct BaseImage {
    /// Where the image is downloaded from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// A local file, relative to the repository root or absolute.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    /// The expected sha256, 64 hex digits.
    pub sha256: String,
}

/// Cloud-init settings rendered into the role's NoCloud seed.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CloudInit {
    /// The hostname; `{index}` and `{env}` are replaced.
    pub hostname_pattern: String,
    /// Users to create.
    #[serde(default)]
    pub users: Vec<CloudUser>,
    /// Packages to install on first boot.
    #[serde(default)]
    pub packages: Vec<String>,
    /// Files to write on first boot.
    #[serde(default)]
    pub write_files: Vec<WriteFile>,
    /// Commands to run on first boot, each as an argument list.
    #[serde(default)]
    pub runcmd: Vec<Vec<String>>,
}

/// A cloud-init user.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CloudUser {
    /// The login name.
    pub name: String,
    /// Extra groups.
    #[serde(default)]
    pub groups: Vec<String>,
    /// A sudoers rule such as `ALL=(ALL) NOPASSWD:ALL`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sudo: Option<String>,
    /// The login shell.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shell: Option<String>,
    /// SSH PUBLIC keys (`ssh-ed25519 AAAA… comment`). A private key here is refused.
    #[serde(default)]
    pub ssh_authorized_keys: Vec<String>,
}

/// A file cloud-init writes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct WriteFile {
    /// Absolute path on the VM.
    pub path: String,
    /// The file's content.
    pub content: String,
    /// Octal mode such as `0644`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub permissions: Option<String>,
    /// `user:group`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner: Option<String>,
}

/// Settings of the `packer` builder.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PackerBuilder {
    /// The template directory, relative to the repository root.
    pub template_dir: String,
}

/// Settings of the `command` builder.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CommandBuilder {
    /// The program to run.
    pub program: String,
    /// Its arguments.
    #[serde(default)]
    pub args: Vec<String>,
}

/// Where built images are published.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PublishTarget {
    /// A `file://` directory or an `http(s)://` URL that accepts PUT. Credentials come from the
    /// environment, never from here.
    pub uri: String,
    /// The role whose published image the Terraform `images` phase downloads onto the Proxmox
    /// nodes (and the `templates` phase builds the template from) instead of the tfvars'
    /// `cloud_image_url`. Needs an `http(s)://` target: Proxmox downloads over HTTP.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub template_role: Option<String>,
}

/// `api/outputs/<env>/provisioner/<role>.json`: one built image, written by `provision build`
/// and updated by `provision publish`. Kept when the bundle is regenerated.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ArtifactRecord {
    /// The record format, [`ARTIFACT_SCHEMA_VERSION`].
    pub schema_version: u32,
    /// The role.
    pub role: String,
    /// The environment.
    pub environment: String,
    /// The image file, relative to the repository root.
    pub path: String,
    /// Its format.
    pub format: ImageFormat,
    /// The disk size the guest sees, in bytes.
    pub virtual_size: u64,
    /// The image file's size, in bytes.
    pub file_size: u64,
    /// The image file's SHA-256, 64 hex digits.
    pub sha256: String,
    /// RFC 3339 UTC time the build finished (honours `SOURCE_DATE_EPOCH`).
    pub built_at: String,
    /// What built it.
    pub builder: BuilderInfo,
    /// `sha256:` of everything the build depended on: the role's settings, the base image's
    /// checksum, the builder and its version, the packer template. A build with the same inputs
    /// digest and an intact image is up to date.
    pub inputs_digest: String,
    /// The NoCloud seed built with the image (qemu-img builder).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seed: Option<SeedRecord>,
    /// Where `provision publish` put the image (`file://…` or `http(s)://…`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remote: Option<String>,
}

/// The version of [`ArtifactRecord`]'s format.
pub const ARTIFACT_SCHEMA_VERSION: u32 = 1;

/// The builder of an artifact.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct BuilderInfo {
    /// Which builder.
    pub name: Builder,
    /// Its version, when it tells one (`qemu-img --version`, `packer version`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
}

/// A NoCloud seed image.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SeedRecord {
    /// The seed file, relative to the repository root.
    pub path: String,
    /// Its SHA-256, 64 hex digits.
    pub sha256: String,
}
