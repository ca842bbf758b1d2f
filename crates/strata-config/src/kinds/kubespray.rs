//! `kubesprayConfig.json`: a pinned release and a key path, never a key.

use std::path::Path;

use strata_metadata::KubesprayConfig;

use super::json_at;
use crate::source::parse_json;
use crate::{Diagnostic, secrets};

/// `kubesprayConfig.json`: a pinned release and a key PATH, never a key.
pub(crate) fn check_kubespray_config(rel: &Path, text: &str) -> Vec<Diagnostic> {
    let config: KubesprayConfig = match parse_json(rel, text) {
        Ok(c) => c,
        Err(d) => return vec![d],
    };
    let at = json_at(text);
    let mut out = Vec::new();
    let v = config.version.strip_prefix('v').unwrap_or("");
    if semver::Version::parse(v).is_err() {
        out.push(
            Diagnostic::error(
                rel,
                "kubespray-version",
                format!(
                    "Kubespray version `{}` is not a release tag",
                    config.version
                ),
            )
            .at_opt(at(&["version"]))
            .hint("use the git release tag, which is also the image tag, such as `v2.29.0`"),
        );
    }
    if let Some(problem) = config
        .kube_version
        .as_deref()
        .and_then(|k| strata_metadata::kube_version_problem(&config.version, k))
    {
        out.push(
            Diagnostic::error(rel, "kube-version", problem)
                .at_opt(at(&["kubeVersion"]))
                .hint(
                    "Kubespray asserts the form at its first task; write it as the hint's version",
                ),
        );
    } else if let Some(kube) = config.kube_version.as_deref() {
        use strata_metadata::KubeVersionSupport;
        match strata_metadata::kube_version_support(&config.version, kube) {
            KubeVersionSupport::Supported => {}
            KubeVersionSupport::Unsupported(problem) => out.push(
                Diagnostic::error(rel, "kube-version-range", problem)
                    .at_opt(at(&["kubeVersion"]))
                    .hint("pick a version in that range, or pin a Kubespray release that installs this one (its `kubelet_checksums` list it)"),
            ),
            KubeVersionSupport::Unknown(problem) => out.push(
                Diagnostic::warning(rel, "kube-version-range", problem)
                    .at_opt(at(&["kubeVersion"]))
                    .hint(format!(
                        "check that the release lists it in `{}` (`kubelet_checksums`), and add the release's row to KUBE_VERSION_RANGES in crates/strata-metadata",
                        strata_metadata::KUBE_VERSION_SOURCE
                    )),
            ),
        }
    }
    let last_segment = config.image.rsplit('/').next().unwrap_or_default();
    if config.image.trim().is_empty() || last_segment.contains(':') || config.image.contains('@') {
        out.push(Diagnostic::error(rel, "kubespray-image", "`image` must name the image without its tag, such as `quay.io/kubespray/kubespray`")
            .at_opt(at(&["image"])));
    }
    let mut found = Vec::new();
    secrets::json_member_secrets(&config.extra_vars, "extraVars", &mut found);
    for path in found {
        out.push(secrets::secret_diagnostic(
            rel,
            text,
            &path,
            "pass it at run time from the environment, never from the package",
        ));
    }
    let key = &config.ssh_private_key_path;
    if key.contains("PRIVATE KEY") || key.contains('\n') || key.len() > 1024 {
        out.push(Diagnostic::error(rel, "private-key", "`sshPrivateKeyPath` holds key material; it must be the PATH of the key")
            .at_opt(at(&["sshPrivateKeyPath"]))
            .hint("remove it now and rotate that key; write a path such as `~/.ssh/strata-development`"));
    } else if key.trim().is_empty() {
        out.push(
            Diagnostic::error(rel, "ssh-key", "`sshPrivateKeyPath` is empty")
                .at_opt(at(&["sshPrivateKeyPath"])),
        );
    }
    if config.runtime == strata_metadata::KubesprayRuntime::Local && config.kubespray_path.is_none()
    {
        out.push(
            Diagnostic::error(
                rel,
                "kubespray-path",
                "the `local` runtime needs `kubesprayPath`, a Kubespray checkout",
            )
            .at_opt(at(&["runtime"])),
        );
    }
    out
}
