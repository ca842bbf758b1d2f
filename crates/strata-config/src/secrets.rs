//! Finding secret values written into a package, by the names of the keys that hold them.
//!
//! This is a safety net, not a scanner: it catches the common mistake of pasting a token or
//! password into a config file. Values are never repeated in a message.

use std::path::Path;

use crate::Diagnostic;

/// Whether `key` names a secret: its last word is a password, token, API key, private key or
/// client secret. Keys that only refer to a Kubernetes Secret by name (`existingSecret`,
/// `tlsSecretName`, `privateKeySecretRef`) are not secrets themselves.
pub(crate) fn is_secret_key(key: &str) -> bool {
    let k: String = key
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .collect::<String>()
        .to_ascii_lowercase();
    if k.starts_with("existing") || k.ends_with("name") || k.ends_with("ref") || k.ends_with("id") {
        return false;
    }
    [
        "password",
        "passwd",
        "token",
        "apikey",
        "secretkey",
        "privatekey",
        "clientsecret",
        "secret",
    ]
    .iter()
    .any(|end| k.ends_with(end))
}

/// Whether `value` is a URL with a password in it (`https://user:password@host/…`, as a git
/// token or an image server's login is often pasted). A user alone (`ssh://git@host`) is not.
pub(crate) fn is_url_with_password(value: &str) -> bool {
    let Some((_, rest)) = value.split_once("://") else {
        return false;
    };
    let authority = &rest[..rest.find(['/', '?', '#']).unwrap_or(rest.len())];
    authority
        .rsplit_once('@')
        .and_then(|(userinfo, _)| userinfo.split_once(':'))
        .is_some_and(|(_, password)| !password.is_empty())
}

/// Dotted paths under `path` of JSON/YAML values that hold a non-empty string under a secret
/// key, or a URL with a password in it under any key.
pub(crate) fn json_secrets(value: &serde_json::Value, path: &str, out: &mut Vec<String>) {
    match value {
        serde_json::Value::String(s) if is_url_with_password(s) => out.push(path.to_owned()),
        serde_json::Value::Object(map) => {
            for (k, v) in map {
                let here = format!("{path}.{k}");
                let secret_string =
                    |v: &serde_json::Value| v.as_str().is_some_and(|s| !s.is_empty());
                // A string, or a list of strings (`tokens: [a, b]`), under a secret key.
                let holds_secret = is_secret_key(k)
                    && (secret_string(v)
                        || v.as_array().is_some_and(|a| a.iter().any(secret_string)));
                if holds_secret {
                    out.push(here);
                } else {
                    json_secrets(v, &here, out);
                }
            }
        }
        serde_json::Value::Array(items) => {
            for (i, v) in items.iter().enumerate() {
                json_secrets(v, &format!("{path}[{i}]"), out);
            }
        }
        _ => {}
    }
}

/// Dotted paths under `path` of HCL values that hold a non-empty string under a secret key, or
/// a URL with a password in it under any key.
pub(crate) fn hcl_secrets(key: &str, expr: &hcl::Expression, path: &str, out: &mut Vec<String>) {
    match expr {
        hcl::Expression::String(s)
            if (is_secret_key(key) && !s.is_empty()) || is_url_with_password(s) =>
        {
            out.push(path.to_owned())
        }
        hcl::Expression::Object(obj) => {
            for (k, v) in obj {
                let name = match k {
                    hcl::ObjectKey::Identifier(id) => id.to_string(),
                    hcl::ObjectKey::Expression(hcl::Expression::String(s)) => s.clone(),
                    _ => continue,
                };
                hcl_secrets(&name, v, &format!("{path}.{name}"), out);
            }
        }
        hcl::Expression::Array(items) => {
            for (i, v) in items.iter().enumerate() {
                hcl_secrets(key, v, &format!("{path}[{i}]"), out);
            }
        }
        _ => {}
    }
}

/// The error for a secret found at `path` in `rel`, placed on the line where its last key is
/// written (`key:`, `key =`, `"key":`).
pub(crate) fn secret_diagnostic(rel: &Path, text: &str, path: &str, hint: &str) -> Diagnostic {
    let leaf = path.rsplit(['.', '[']).next().unwrap_or(path);
    let is_assignment = |rest: &str| {
        let rest = rest.trim_start();
        rest.starts_with('=') || rest.starts_with(':')
    };
    let pos = text.lines().enumerate().find_map(|(n, line)| {
        // `key: …` (YAML) or `key = …` (HCL) at the start of the line.
        let t = line.trim_start().trim_start_matches("- ");
        if t.strip_prefix(leaf).is_some_and(is_assignment) {
            return Some((n + 1, line.len() - t.len() + 1));
        }
        // `"key": …` anywhere on the line (JSON, also inline objects).
        let quoted = format!("\"{leaf}\"");
        line.match_indices(&quoted)
            .find(|(i, _)| is_assignment(&line[i + quoted.len()..]))
            .map(|(i, _)| (n + 1, line[..i].chars().count() + 1))
    });
    Diagnostic::error(
        rel,
        "secret-in-package",
        format!("`{path}` holds a secret value; secrets never belong in a package"),
    )
    .at_opt(pos)
    .hint(hint)
}

#[cfg(test)]
mod tests {
    use super::{is_secret_key, is_url_with_password, json_secrets};

    #[test]
    fn a_url_with_a_password_is_a_secret_wherever_it_is() {
        assert!(is_url_with_password(
            "https://bob:s3cret@images.example/noble.img"
        ));
        assert!(is_url_with_password(
            "https://oauth2:glpat-x@git.example/a.git"
        ));
        assert!(!is_url_with_password("ssh://git@git.example/a.git"));
        assert!(!is_url_with_password(
            "https://images.example/a@b/noble.img"
        ));
        assert!(!is_url_with_password("https://bob:@images.example/x"));
        assert!(!is_url_with_password("not a url: user:pw@host"));
        let v = serde_json::json!({"roles": {"w": {"baseImage": {"url": "https://bob:pw@h/x.img"}}}, "repo": "https://h/x.git"});
        let mut found = Vec::new();
        json_secrets(&v, "config", &mut found);
        assert_eq!(found, ["config.roles.w.baseImage.url"]);
    }

    #[test]
    fn nested_values_and_lists_are_searched() {
        let v = serde_json::json!({"a": {"b": [{"client_secret": "x"}]}, "token": ["t1"], "ok": {"existingSecret": "name"}, "emptyPassword": ""});
        let mut found = Vec::new();
        json_secrets(&v, "values", &mut found);
        assert_eq!(found, ["values.a.b[0].client_secret", "values.token"]);
    }

    #[test]
    fn secret_keys_by_their_last_word() {
        for k in [
            "proxmox_api_token",
            "adminPassword",
            "client_secret",
            "AWS_SECRET_KEY",
            "apiKey",
            "secret",
        ] {
            assert!(is_secret_key(k), "{k}");
        }
        for k in [
            "existingSecret",
            "tlsSecretName",
            "privateKeySecretRef",
            "proxmox_api_token_id",
            "tokens_ttl",
            "ssh_public_keys",
            "passwordPolicy",
        ] {
            assert!(!is_secret_key(k), "{k}");
        }
    }
}
