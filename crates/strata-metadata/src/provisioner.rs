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
}
