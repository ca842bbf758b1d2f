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
    // Every key of every values map passes here: bytes, not chars (a non-ASCII character is
    // never ASCII alphanumeric, and neither is any of its bytes), and no String.
    let mut k = Vec::with_capacity(key.len());
    for &b in key.as_bytes() {
        if b.is_ascii_alphanumeric() {
            k.push(b.to_ascii_lowercase());
        }
    }
    if k.starts_with(b"existing")
        || k.ends_with(b"name")
        || k.ends_with(b"ref")
        || k.ends_with(b"id")
    {
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
    .any(|end| k.ends_with(end.as_bytes()))
}

/// Whether `value` is a URL with a password in it (`https://user:password@host/…`, as a git
/// token or an image server's login is often pasted). A user alone (`ssh://git@host`) is not.
pub(crate) fn is_url_with_password(value: &str) -> bool {
    // memchr's searcher: every string value of every package passes here.
    let Some(i) = memchr::memmem::find(value.as_bytes(), b"://") else {
        return false;
    };
    let rest = &value[i + 3..];
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
        serde_json::Value::Object(map) => json_member_secrets(map, path, out),
        serde_json::Value::Array(items) => {
            for (i, v) in items.iter().enumerate() {
                json_secrets(v, &format!("{path}[{i}]"), out);
            }
        }
        _ => {}
    }
}

/// [`json_secrets`] of an object given as its members, such as a typed config's `values` map,
/// without building the JSON object first.
pub(crate) fn json_member_secrets<'a>(
    members: impl IntoIterator<Item = (&'a String, &'a serde_json::Value)>,
    path: &str,
    out: &mut Vec<String>,
) {
    for (k, v) in members {
        let here = || format!("{path}.{k}");
        let secret_string = |v: &serde_json::Value| v.as_str().is_some_and(|s| !s.is_empty());
        // A string, or a list of strings (`tokens: [a, b]`), under a secret key.
        let holds_secret = is_secret_key(k)
            && (secret_string(v) || v.as_array().is_some_and(|a| a.iter().any(secret_string)));
        // The path is written only for a finding or for a value that has members.
        match v {
            _ if holds_secret => out.push(here()),
            serde_json::Value::String(s) if is_url_with_password(s) => out.push(here()),
            serde_json::Value::Object(_) | serde_json::Value::Array(_) => {
                json_secrets(v, &here(), out)
            }
            _ => {}
        }
    }
}

/// Whether a YAML document holds only strings, numbers, booleans, nulls, lists and mappings
/// with string keys: then it converts to JSON (`serde_json::to_value`) without renaming a key
/// or adding one, and [`yaml_secrets`] finds what [`json_secrets`] would find in the JSON.
pub(crate) fn is_plain_yaml(value: &serde_yaml_ng::Value) -> bool {
    use serde_yaml_ng::Value;
    match value {
        Value::Null | Value::Bool(_) | Value::Number(_) | Value::String(_) => true,
        Value::Sequence(items) => items.iter().all(is_plain_yaml),
        Value::Mapping(map) => map
            .iter()
            .all(|(k, v)| matches!(k, Value::String(_)) && is_plain_yaml(v)),
        Value::Tagged(_) => false,
    }
}

/// [`json_secrets`] over a YAML document for which [`is_plain_yaml`] holds, without converting
/// it to JSON first (inventories are checked this way, and the conversion cost more than the
/// search).
pub(crate) fn yaml_secrets(value: &serde_yaml_ng::Value, path: &str, out: &mut Vec<String>) {
    use serde_yaml_ng::Value;
    match value {
        Value::String(s) if is_url_with_password(s) => out.push(path.to_owned()),
        Value::Mapping(map) => {
            for (k, v) in map {
                let Value::String(k) = k else {
                    continue;
                };
                let here = || format!("{path}.{k}");
                let secret_string = |v: &Value| v.as_str().is_some_and(|s| !s.is_empty());
                let holds_secret = is_secret_key(k)
                    && (secret_string(v)
                        || v.as_sequence().is_some_and(|a| a.iter().any(secret_string)));
                match v {
                    _ if holds_secret => out.push(here()),
                    Value::String(s) if is_url_with_password(s) => out.push(here()),
                    Value::Mapping(_) | Value::Sequence(_) => yaml_secrets(v, &here(), out),
                    _ => {}
                }
            }
        }
        Value::Sequence(items) => {
            for (i, v) in items.iter().enumerate() {
                yaml_secrets(v, &format!("{path}[{i}]"), out);
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
    fn yaml_is_searched_as_its_json_would_be() {
        let docs = [
            "a:\n  b:\n    - client_secret: x\n  url: https://u:p@h/x\ntoken: [t1]\nok:\n  existingSecret: n\nemptyPassword: ''\n",
            "vault_password: s\nlist:\n  - - password: p\n  - 3\nn: 1.5\nz: ~\nb: true\n",
            "ansible_become_password: ''\nnested: {deep: {api_token: [\"\", \"\"]}}\n",
        ];
        for doc in docs {
            let yaml: serde_yaml_ng::Value = serde_yaml_ng::from_str(doc).unwrap();
            assert!(super::is_plain_yaml(&yaml), "{doc}");
            let (mut from_yaml, mut from_json) = (Vec::new(), Vec::new());
            super::yaml_secrets(&yaml, "vars", &mut from_yaml);
            json_secrets(
                &serde_json::to_value(&yaml).unwrap(),
                "vars",
                &mut from_json,
            );
            assert_eq!(from_yaml, from_json, "{doc}");
            assert!(!from_yaml.is_empty() || doc.contains("''"), "{doc}");
        }
        // Keys JSON would rename or refuse go the JSON way.
        for doc in [
            "1: {password: x}\n",
            "? [a]\n: b\n",
            "a: !tag {password: x}\n",
        ] {
            let yaml: serde_yaml_ng::Value = serde_yaml_ng::from_str(doc).unwrap();
            assert!(!super::is_plain_yaml(&yaml), "{doc}");
        }
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
