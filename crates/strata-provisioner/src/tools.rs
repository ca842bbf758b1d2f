//! The external tools this crate drives: how each is found and asked for its version.

use strata_exec::Tool;

/// qemu-img, the `qemu-img` builder.
pub const QEMU_IMG: Tool = Tool {
    name: "qemu-img",
    env_var: "STRATA_QEMU_IMG",
    candidates: &["qemu-img"],
    version_args: &["--version"],
};

/// Packer, the `packer` builder.
pub const PACKER: Tool = Tool {
    name: "packer",
    env_var: "STRATA_PACKER",
    candidates: &["packer"],
    version_args: &["version"],
};

/// cloud-localds, which writes a role's cloud-init seed image.
pub const CLOUD_LOCALDS: Tool = Tool {
    name: "cloud-localds",
    env_var: "STRATA_CLOUD_LOCALDS",
    candidates: &["cloud-localds"],
    version_args: &["--help"],
};

/// curl, which fetches base images by URL and publishes images over HTTP.
pub const CURL: Tool = Tool {
    name: "curl",
    env_var: "STRATA_CURL",
    candidates: &["curl"],
    version_args: &["--version"],
};

/// The tools this crate owns, in the order `doctor` lists them.
pub const TOOLS: &[Tool] = &[QEMU_IMG, PACKER, CLOUD_LOCALDS, CURL];
