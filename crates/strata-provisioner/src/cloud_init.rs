//! The NoCloud seed's two files, rendered from a role's cloud-init settings: `user-data`
//! (`#cloud-config` YAML) and `meta-data`.

use serde_json::{Map, Value, json};
use strata_metadata::CloudInit;

use crate::ProvisionError;

/// Key types an OpenSSH public key line starts with.
const PUBLIC_KEY_TYPES: [&str; 4] = ["ssh-", "ecdsa-sha2-", "sk-ssh-", "sk-ecdsa-sha2-"];

/// The hostname the seed gives the machine: the pattern with `{env}` replaced by the
/// environment and `{index}` by 1, the first machine built from the image. Machines cloned from
/// the template get their own names from the nodes phase.
pub fn hostname(ci: &CloudInit, env: &str) -> String {
    ci.hostname_pattern
        .replace("{env}", env)
        .replace("{index}", "1")
}

/// Refuses anything but SSH public keys among the authorized keys, naming the user and the
/// key's position, never its content.
pub fn check_public_keys(role: &str, ci: &CloudInit) -> Result<(), ProvisionError> {
    for user in &ci.users {
        for (i, key) in user.ssh_authorized_keys.iter().enumerate() {
            let key = key.trim();
            let private = key.contains("PRIVATE KEY");
            // `[options] type base64 [comment]`: the type is the first or, after options, a later field.
            let public = !private
                && key
                    .split_whitespace()
                    .any(|f| PUBLIC_KEY_TYPES.iter().any(|t| f.starts_with(t)))
                && !key.contains('\n');
            if !public {
                return Err(ProvisionError::NotAPublicKey {
                    role: role.to_owned(),
                    user: user.name.clone(),
                    index: i + 1,
                    private,
                });
            }
        }
    }
    Ok(())
}

/// `user-data`: `#cloud-config` and YAML with the users (locked passwords, their public keys,
/// sudo rule and shell), the hostname, packages, files and commands.
pub fn user_data(role: &str, ci: &CloudInit, env: &str) -> Result<String, ProvisionError> {
    check_public_keys(role, ci)?;
    let mut doc = Map::new();
    doc.insert("hostname".into(), json!(hostname(ci, env)));
    doc.insert("preserve_hostname".into(), json!(false));
    if !ci.users.is_empty() {
        let users: Vec<Value> = ci
            .users
            .iter()
            .map(|u| {
                let mut m = Map::new();
                m.insert("name".into(), json!(u.name));
                if !u.groups.is_empty() {
                    m.insert("groups".into(), json!(u.groups.join(", ")));
                }
                if let Some(s) = &u.sudo {
                    m.insert("sudo".into(), json!(s));
                }
                if let Some(s) = &u.shell {
                    m.insert("shell".into(), json!(s));
                }
                m.insert("lock_passwd".into(), json!(true));
                if !u.ssh_authorized_keys.is_empty() {
                    let keys: Vec<&str> = u.ssh_authorized_keys.iter().map(|k| k.trim()).collect();
                    m.insert("ssh_authorized_keys".into(), json!(keys));
                }
                Value::Object(m)
            })
            .collect();
        doc.insert("users".into(), Value::Array(users));
    }
    if !ci.packages.is_empty() {
        doc.insert("package_update".into(), json!(true));
        doc.insert("packages".into(), json!(ci.packages));
    }
    if !ci.write_files.is_empty() {
        let files: Vec<Value> = ci
            .write_files
            .iter()
            .map(|f| {
                let mut m = Map::new();
                m.insert("path".into(), json!(f.path));
                m.insert("content".into(), json!(f.content));
                if let Some(p) = &f.permissions {
                    m.insert("permissions".into(), json!(p));
                }
                if let Some(o) = &f.owner {
                    m.insert("owner".into(), json!(o));
                }
                Value::Object(m)
            })
            .collect();
        doc.insert("write_files".into(), Value::Array(files));
    }
    if !ci.runcmd.is_empty() {
        doc.insert("runcmd".into(), json!(ci.runcmd));
    }
    let yaml = serde_yaml_ng::to_string(&Value::Object(doc)).expect("JSON values render as YAML");
    Ok(format!("#cloud-config\n{yaml}"))
}

/// `meta-data`: an instance id that changes with the image's inputs (so cloud-init runs again
/// on a rebuilt image) and the hostname.
pub fn meta_data(role: &str, ci: &CloudInit, env: &str, inputs_digest: &str) -> String {
    let short = inputs_digest
        .trim_start_matches("sha256:")
        .get(..12)
        .unwrap_or_default();
    format!(
        "instance-id: {env}-{role}-{short}\nlocal-hostname: {}\n",
        hostname(ci, env)
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use strata_metadata::{CloudUser, WriteFile};

    fn ci(key: &str) -> CloudInit {
        CloudInit {
            hostname_pattern: "{env}-cp-{index}".into(),
            users: vec![CloudUser {
                name: "ubuntu".into(),
                groups: vec!["sudo".into(), "adm".into()],
                sudo: Some("ALL=(ALL) NOPASSWD:ALL".into()),
                shell: Some("/bin/bash".into()),
                ssh_authorized_keys: vec![key.into()],
            }],
            packages: vec!["qemu-guest-agent".into()],
            write_files: vec![WriteFile {
                path: "/etc/modules-load.d/k8s.conf".into(),
                content: "overlay\nbr_netfilter\n".into(),
                permissions: Some("0644".into()),
                owner: None,
            }],
            runcmd: vec![vec!["modprobe".into(), "overlay".into()]],
        }
    }

    #[test]
    fn user_data_is_cloud_config_yaml_that_parses_back() {
        let text = user_data(
            "k8s-control-plane",
            &ci("ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIL ops@example"),
            "dev",
        )
        .unwrap();
        assert!(text.starts_with("#cloud-config\n"), "{text}");
        let doc: serde_yaml_ng::Value = serde_yaml_ng::from_str(&text).unwrap();
        assert_eq!(doc["hostname"].as_str(), Some("dev-cp-1"));
        assert_eq!(doc["users"][0]["groups"].as_str(), Some("sudo, adm"));
        assert_eq!(doc["users"][0]["lock_passwd"].as_bool(), Some(true));
        assert_eq!(
            doc["write_files"][0]["content"].as_str(),
            Some("overlay\nbr_netfilter\n")
        );
        assert_eq!(doc["runcmd"][0][1].as_str(), Some("overlay"));
        assert_eq!(
            meta_data(
                "k8s-control-plane",
                &ci("x"),
                "dev",
                "sha256:0123456789abcdef"
            ),
            "instance-id: dev-k8s-control-plane-0123456789ab\nlocal-hostname: dev-cp-1\n"
        );
    }

    #[test]
    fn a_private_key_is_refused_without_being_shown() {
        let err = user_data(
            "r",
            // Assembled here so no file of the repository holds a key's armour line.
            &ci(&format!(
                "-----BEGIN OPENSSH {0} KEY-----\nb3BlbnNzaC1rZXktdjE=\n-----END OPENSSH {0} KEY-----",
                "PRIVATE"
            )),
            "dev",
        )
        .unwrap_err();
        let msg = err.to_string();
        assert!(
            msg.contains("is not an SSH public key (it is a PRIVATE key"),
            "{msg}"
        );
        assert!(!msg.contains("b3BlbnNzaC1rZXktdjE"), "{msg}");
        assert!(check_public_keys("r", &ci("hello")).is_err());
        assert!(check_public_keys("r", &ci("no-pty,from=\"10.0.0.0/8\" ssh-rsa AAAA x")).is_ok());
    }
}
