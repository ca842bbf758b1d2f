//! `provisioner.json`: image roles, builders, checksums, sizes and public keys.

use std::path::Path;

use strata_metadata::{ProvisionerConfig, did_you_mean};

use super::{KindContext, json_at};
use crate::source::parse_json;
use crate::{Diagnostic, secrets};

/// `provisioner.json`: roles that exist, builders with their settings, checksums, sizes and
/// public keys that really are public.
pub(crate) fn check_provisioner(rel: &Path, text: &str, cx: &KindContext<'_>) -> Vec<Diagnostic> {
    let config: ProvisionerConfig = match parse_json(rel, text) {
        Ok(c) => c,
        Err(d) => return vec![d],
    };
    let at = json_at(text);
    let mut out = Vec::new();
    if config.roles.is_empty() {
        out.push(
            Diagnostic::error(
                rel,
                "no-roles",
                "no roles: add at least one image role under `roles`",
            )
            .at_opt(at(&["roles"])),
        );
    }
    if let Some(publish) = &config.publish {
        let uri = publish.uri.as_str();
        let http = uri.starts_with("http://") || uri.starts_with("https://");
        if !http && !uri.starts_with("file:///") {
            out.push(
                Diagnostic::error(
                    rel,
                    "publish-uri",
                    "`publish.uri` is neither a `file:///` directory nor an `http(s)://` URL",
                )
                .at_opt(at(&["publish", "uri"]))
                .hint("such as `file:///srv/images/dev` or `https://images.example.internal/dev/`"),
            );
        } else if http
            && uri
                .split("://")
                .nth(1)
                .and_then(|r| r.split('/').next())
                .is_some_and(|host| host.contains('@'))
        {
            out.push(
                Diagnostic::error(rel, "publish-credentials", "`publish.uri` holds credentials")
                    .at_opt(at(&["publish", "uri"]))
                    .hint("remove them; `provision publish` reads STRATA_PUBLISH_TOKEN or STRATA_PUBLISH_USER and STRATA_PUBLISH_PASSWORD"),
            );
        }
        if let Some(role) = &publish.template_role {
            if !config.roles.contains_key(role) {
                let hint = match did_you_mean(role, config.roles.keys().map(String::as_str)) {
                    Some(m) => format!("did you mean `{m}`?"),
                    None => format!("use one of: {}", join(config.roles.keys())),
                };
                out.push(
                    Diagnostic::error(
                        rel,
                        "template-role",
                        format!("`publish.templateRole` names `{role}`, which is not a role here"),
                    )
                    .at_opt(at(&["publish", "templateRole"]))
                    .hint(hint),
                );
            }
            if !http {
                out.push(
                    Diagnostic::error(
                        rel,
                        "template-role",
                        "`publish.templateRole` needs an `http(s)://` target: Proxmox downloads the image over HTTP",
                    )
                    .at_opt(at(&["publish", "templateRole"])),
                );
            }
        }
    }
    for (name, role) in &config.roles {
        if let Some(defs) = cx.roles
            && !defs.roles.contains_key(name)
        {
            let hint = match did_you_mean(name, defs.roles.keys().map(String::as_str)) {
                Some(m) => format!("did you mean `{m}`?"),
                None => format!(
                    "add it to api/definitions/roles.yaml, or use one of: {}",
                    join(defs.roles.keys())
                ),
            };
            out.push(
                Diagnostic::error(
                    rel,
                    "unknown-role",
                    format!("role `{name}` is not defined in api/definitions/roles.yaml"),
                )
                .at_opt(at(&["roles", name]))
                .hint(hint),
            );
        }
        if parse_size(&role.disk_size).is_none() {
            out.push(
                Diagnostic::error(
                    rel,
                    "disk-size",
                    format!("disk size `{}` does not parse", role.disk_size),
                )
                .at_opt(at(&["roles", name, "diskSize"]))
                .hint("write a whole number with a unit, such as `40G` or `40960M`"),
            );
        }
        if let Some(base) = &role.base_image {
            let hex_ok =
                base.sha256.len() == 64 && base.sha256.bytes().all(|b| b.is_ascii_hexdigit());
            if !hex_ok {
                out.push(
                    Diagnostic::error(rel, "checksum", "`baseImage.sha256` is not 64 hex digits")
                        .at_opt(at(&["roles", name, "baseImage", "sha256"])),
                );
            }
            if base
                .url
                .as_deref()
                .is_some_and(secrets::is_url_with_password)
            {
                out.push(
                    Diagnostic::error(
                        rel,
                        "secret-in-package",
                        format!(
                            "`roles.{name}.baseImage.url` holds a password; secrets never belong in a package"
                        ),
                    )
                    .at_opt(at(&["roles", name, "baseImage", "url"]))
                    .hint("put the login in `~/.netrc` (`machine HOST login USER password PASS`), which the download reads, and drop it from the URL"),
                );
            }
            if base.url.is_none() && base.path.is_none() {
                out.push(
                    Diagnostic::error(
                        rel,
                        "base-image",
                        format!("role `{name}`'s base image has neither `url` nor `path`"),
                    )
                    .at_opt(at(&["roles", name, "baseImage"])),
                );
            }
        }
        use strata_metadata::Builder;
        let missing = match role.builder {
            Builder::Packer if role.packer.is_none() => Some("packer"),
            Builder::Command if role.command.is_none() => Some("command"),
            Builder::QemuImg if role.base_image.is_none() => Some("baseImage"),
            _ => None,
        };
        if let Some(section) = missing {
            out.push(
                Diagnostic::error(
                    rel,
                    "builder-settings",
                    format!(
                        "role `{name}` uses the `{}` builder but has no `{section}` settings",
                        role.builder.name()
                    ),
                )
                .at_opt(at(&["roles", name])),
            );
        }
        if let Some(ci) = &role.cloud_init {
            for (u, user) in ci.users.iter().enumerate() {
                for (k, key) in user.ssh_authorized_keys.iter().enumerate() {
                    if let Some(d) = check_public_key(rel, key) {
                        let pos = at(&[
                            "roles",
                            name,
                            "cloudInit",
                            "users",
                            &u.to_string(),
                            "sshAuthorizedKeys",
                            &k.to_string(),
                        ]);
                        out.push(d.at_opt(pos));
                    }
                }
            }
        }
    }
    out
}

/// A public key line, or a diagnostic that never repeats the offending content.
fn check_public_key(rel: &Path, key: &str) -> Option<Diagnostic> {
    if key.contains("PRIVATE KEY") {
        return Some(
            Diagnostic::error(
                rel,
                "private-key",
                "a private key is given where a public key is expected",
            )
            .hint("remove it now and rotate that key; put the `.pub` line here instead"),
        );
    }
    let kinds = [
        "ssh-ed25519",
        "ssh-rsa",
        "ecdsa-sha2-",
        "sk-ssh-ed25519@",
        "sk-ecdsa-sha2-",
        "ssh-dss",
    ];
    let first = key.split_whitespace().next().unwrap_or("");
    if !kinds.iter().any(|k| first.starts_with(k)) || key.split_whitespace().count() < 2 {
        return Some(
            Diagnostic::error(rel, "public-key", "this is not an SSH public key line")
                .hint("use the content of a `.pub` file, such as `ssh-ed25519 AAAA… user@host`"),
        );
    }
    None
}

/// Parses sizes such as `40G`, `512M`, `1T` or a plain byte count.
pub fn parse_size(s: &str) -> Option<u64> {
    let s = s.trim();
    let (num, unit) = match s.find(|c: char| !c.is_ascii_digit()) {
        Some(i) => (&s[..i], &s[i..]),
        None => (s, ""),
    };
    let n: u64 = num.parse().ok()?;
    let mul: u64 = match unit {
        "" => 1,
        "K" | "k" | "KiB" => 1 << 10,
        "M" | "MiB" => 1 << 20,
        "G" | "GiB" => 1 << 30,
        "T" | "TiB" => 1 << 40,
        _ => return None,
    };
    n.checked_mul(mul).filter(|&v| v > 0)
}

fn join<'a>(items: impl IntoIterator<Item = &'a String>) -> String {
    items
        .into_iter()
        .map(|s| format!("`{s}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes() {
        assert_eq!(parse_size("40G"), Some(40 << 30));
        assert_eq!(parse_size("512M"), Some(512 << 20));
        assert_eq!(parse_size("1024"), Some(1024));
        assert_eq!(parse_size("forty"), None);
        assert_eq!(parse_size("0G"), None);
        assert_eq!(parse_size("4X"), None);
    }
}
