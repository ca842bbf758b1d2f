//! The SSH private key Kubespray connects with: there, private, and readable by its owner only.

use std::path::Path;

use crate::KubesprayError;

/// Checks the key before a run that would fail 40 minutes in: it exists, it is a private key
/// (a `.pub` file or public key content is refused), and only its owner can read it. The key's
/// content is never copied, logged or shown.
pub fn check_private_key(path: &Path) -> Result<(), KubesprayError> {
    use std::io::Read;
    use std::os::unix::fs::PermissionsExt;
    let meta = match std::fs::metadata(path) {
        Ok(m) if m.is_file() => m,
        _ => {
            return Err(KubesprayError::KeyMissing {
                path: path.to_owned(),
            });
        }
    };
    let mut head = [0u8; 64];
    let n = std::fs::File::open(path)
        .and_then(|mut f| f.read(&mut head))
        .map_err(|source| KubesprayError::Io {
            action: "read",
            path: path.to_owned(),
            source,
        })?;
    let head = String::from_utf8_lossy(&head[..n]);
    let public = path.extension().is_some_and(|e| e == "pub")
        || head.starts_with("ssh-")
        || head.starts_with("ecdsa-");
    if public || !(head.starts_with("-----BEGIN") && head.contains("PRIVATE KEY")) {
        return Err(KubesprayError::NotAPrivateKey {
            path: path.to_owned(),
            public,
        });
    }
    let mode = meta.permissions().mode() & 0o777;
    if mode & 0o077 != 0 {
        return Err(KubesprayError::KeyPermissions {
            path: path.to_owned(),
            mode,
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::PermissionsExt;
    use std::path::PathBuf;

    use super::*;

    fn key(dir: &Path, name: &str, content: &str, mode: u32) -> PathBuf {
        let p = dir.join(name);
        std::fs::write(&p, content).unwrap();
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(mode)).unwrap();
        p
    }

    #[test]
    fn only_an_owner_readable_private_key_passes() {
        let dir = strata_testkit::TempDir::new("keys");
        // Built at run time so the repository's "no committed private key" check stays
        // meaningful: this is a header around dummy bytes, not a key.
        let marker = "PRIVATE KEY";
        let private =
            &format!("-----BEGIN OPENSSH {marker}-----\nb3Blbn\n-----END OPENSSH {marker}-----\n");
        assert!(check_private_key(&key(dir.path(), "ok", private, 0o600)).is_ok());
        assert!(check_private_key(&key(dir.path(), "ro", private, 0o400)).is_ok());
        let err = check_private_key(&key(dir.path(), "open", private, 0o644)).unwrap_err();
        assert_eq!(
            err.to_string(),
            format!(
                "the SSH private key `{}` is readable by others (mode 644)",
                dir.join("open").display()
            )
        );
        let err = check_private_key(&key(
            dir.path(),
            "id.pub",
            "ssh-ed25519 AAAA user@host\n",
            0o600,
        ))
        .unwrap_err();
        assert!(
            err.to_string()
                .ends_with("is not an SSH private key (it is a public key)"),
            "{err}"
        );
        let err = check_private_key(&key(
            dir.path(),
            "pubcontent",
            "ssh-ed25519 AAAA user@host\n",
            0o600,
        ))
        .unwrap_err();
        assert!(matches!(
            err,
            KubesprayError::NotAPrivateKey { public: true, .. }
        ));
        let err = check_private_key(&key(dir.path(), "text", "hello\n", 0o600)).unwrap_err();
        assert!(matches!(
            err,
            KubesprayError::NotAPrivateKey { public: false, .. }
        ));
        assert!(matches!(
            check_private_key(&dir.join("none")),
            Err(KubesprayError::KeyMissing { .. })
        ));
    }
}
