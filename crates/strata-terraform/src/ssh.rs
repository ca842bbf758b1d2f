//! Whether terraform's environment lets the bpg/proxmox provider reach a Proxmox node over SSH.
//!
//! The template's disk is imported from the downloaded image with `file_id`, which the provider
//! always does over SSH on the node (`pvesm path`, `qm disk import`, `qm set`): the API cannot.
//! The modules configure no `ssh` block, so the provider takes everything from the environment,
//! the way its `proxmoxtf/provider/provider.go` does (v0.109 to v0.111): the user from
//! `PROXMOX_VE_SSH_USERNAME`, else from a password login's `PROXMOX_VE_USERNAME`; then an agent
//! (`PROXMOX_VE_SSH_AGENT` = `true` or `1`, with a socket), a private key or a password. With an
//! API token and nothing else, the apply creates the VM and fails at the import.

/// The modules whose apply runs commands on the Proxmox node over SSH.
pub const SSH_MODULES: [&str; 1] = ["templates"];

/// Checks the provider's SSH settings in an environment given by `var`; the error says what is
/// missing. Values are only tested for presence, never shown.
pub fn check_ssh(var: impl Fn(&str) -> Option<String>) -> Result<(), &'static str> {
    let any = |names: &[&str]| names.iter().find_map(|n| var(n).filter(|v| !v.is_empty()));
    let password_login = any(&["PROXMOX_VE_USERNAME", "PM_VE_USERNAME"]).is_some()
        && any(&["PROXMOX_VE_PASSWORD", "PM_VE_PASSWORD"]).is_some();
    let user = any(&["PROXMOX_VE_SSH_USERNAME", "PM_VE_SSH_USERNAME"]).is_some()
        || any(&["PROXMOX_VE_USERNAME", "PM_VE_USERNAME"]).is_some();
    if !user {
        return Err("PROXMOX_VE_SSH_USERNAME is not set");
    }
    let agent =
        any(&["PROXMOX_VE_SSH_AGENT", "PM_VE_SSH_AGENT"]).is_some_and(|v| v == "true" || v == "1");
    let socket = any(&[
        "SSH_AUTH_SOCK",
        "PROXMOX_VE_SSH_AUTH_SOCK",
        "PM_VE_SSH_AUTH_SOCK",
    ])
    .is_some();
    if agent && !socket {
        return Err("PROXMOX_VE_SSH_AGENT is on and no agent socket is set (SSH_AUTH_SOCK)");
    }
    let key = any(&["PROXMOX_VE_SSH_PRIVATE_KEY"]).is_some();
    let password = any(&["PROXMOX_VE_SSH_PASSWORD", "PM_VE_SSH_PASSWORD"]).is_some();
    if agent || key || password || password_login {
        Ok(())
    } else {
        Err(
            "no SSH authentication is set (PROXMOX_VE_SSH_AGENT, PROXMOX_VE_SSH_PRIVATE_KEY or PROXMOX_VE_SSH_PASSWORD)",
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(vars: &[(&str, &str)]) -> Result<(), &'static str> {
        check_ssh(|n| {
            vars.iter()
                .find(|(k, _)| *k == n)
                .map(|(_, v)| (*v).to_owned())
        })
    }

    #[test]
    fn an_api_token_alone_is_not_enough() {
        assert_eq!(
            check(&[("PROXMOX_VE_API_TOKEN", "terraform@pve!strata=x")]),
            Err("PROXMOX_VE_SSH_USERNAME is not set")
        );
        assert!(
            check(&[("PROXMOX_VE_SSH_USERNAME", "terraform")])
                .unwrap_err()
                .starts_with("no SSH authentication")
        );
        assert!(
            check(&[
                ("PROXMOX_VE_SSH_USERNAME", "terraform"),
                ("PROXMOX_VE_SSH_AGENT", "yes")
            ])
            .is_err(),
            "the provider reads only `true` or `1` as on"
        );
        assert!(
            check(&[
                ("PROXMOX_VE_SSH_USERNAME", "terraform"),
                ("PROXMOX_VE_SSH_AGENT", "true")
            ])
            .unwrap_err()
            .contains("SSH_AUTH_SOCK")
        );
    }

    #[test]
    fn a_user_with_an_agent_key_or_password_is() {
        let user = ("PROXMOX_VE_SSH_USERNAME", "terraform");
        for auth in [
            &[
                ("PROXMOX_VE_SSH_AGENT", "true"),
                ("SSH_AUTH_SOCK", "/run/agent"),
            ][..],
            &[
                ("PROXMOX_VE_SSH_AGENT", "1"),
                ("PROXMOX_VE_SSH_AUTH_SOCK", "/run/agent"),
            ],
            // Any non-empty value counts; not a key's armour line, which secret scanners flag.
            &[(
                "PROXMOX_VE_SSH_PRIVATE_KEY",
                "(the key, as the provider takes it)",
            )],
            &[("PROXMOX_VE_SSH_PASSWORD", "pw")],
        ] {
            let mut vars = vec![user];
            vars.extend_from_slice(auth);
            assert_eq!(check(&vars), Ok(()), "{auth:?}");
        }
        assert_eq!(
            check(&[
                ("PROXMOX_VE_USERNAME", "root@pam"),
                ("PROXMOX_VE_PASSWORD", "pw")
            ]),
            Ok(()),
            "a password login is also the SSH login"
        );
    }
}
