//! Publishing a built image to the environment's storage target: a directory (`file://`) or an
//! HTTP(S) URL that accepts PUT. Credentials come from the caller (the environment), never from
//! the config, and never reach a command line, a log or the record.

use std::path::{Path, PathBuf};

use strata_exec::{Command, FoundTool, RunOptions, run};
use strata_metadata::{ArtifactRecord, PublishTarget};

use crate::build::{ArtifactPaths, read_record, write_record};
use crate::error::io;
use crate::{BuildContext, ProvisionError, hash};

/// Credentials for an HTTP(S) target.
#[derive(Clone, Default)]
pub struct PublishAuth {
    /// Sent as `Authorization: Bearer <token>`.
    pub token: Option<String>,
    /// Sent as HTTP basic authentication.
    pub basic: Option<(String, String)>,
}

impl std::fmt::Debug for PublishAuth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PublishAuth")
            .field("token", &self.token.as_ref().map(|_| "<redacted>"))
            .field(
                "basic",
                &self.basic.as_ref().map(|(u, _)| (u, "<redacted>")),
            )
            .finish()
    }
}

impl PublishAuth {
    /// The credentials in the environment, the one place they are read:
    /// `STRATA_PUBLISH_TOKEN`, else `STRATA_PUBLISH_USER` and `STRATA_PUBLISH_PASSWORD`.
    pub fn from_env() -> Self {
        let var = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
        Self {
            token: var("STRATA_PUBLISH_TOKEN"),
            basic: var("STRATA_PUBLISH_USER")
                .map(|u| (u, var("STRATA_PUBLISH_PASSWORD").unwrap_or_default())),
        }
    }
}

/// Copies the role's image (and seed) to `target`, checks what arrived where it can (a
/// directory), and records the image's URI in the role's record.
pub fn publish_image(
    ctx: &BuildContext,
    role: &str,
    target: &PublishTarget,
    curl: Option<&FoundTool>,
    auth: &PublishAuth,
) -> Result<ArtifactRecord, ProvisionError> {
    let paths = ArtifactPaths::new(&ctx.layout, &ctx.env, role);
    let mut record = read_record(&paths.record)?.ok_or_else(|| ProvisionError::NotBuilt {
        role: role.to_owned(),
        env: ctx.env.clone(),
        path: paths.record.clone(),
    })?;
    if !paths.image.is_file() {
        return Err(ProvisionError::NotBuilt {
            role: role.to_owned(),
            env: ctx.env.clone(),
            path: paths.image.clone(),
        });
    }
    // Never publish an image its record does not vouch for.
    let (actual, _) = hash::sha256_file(&paths.image).map_err(io("read", &paths.image))?;
    if actual != record.sha256 {
        return Err(ProvisionError::ArtifactModified {
            env: ctx.env.clone(),
            path: paths.image.clone(),
            actual,
            recorded: record.sha256.clone(),
        });
    }
    let uri = target.uri.trim_end_matches('/');
    let mut files = vec![(
        paths.image.clone(),
        format!("{role}.img"),
        record.sha256.clone(),
    )];
    if let Some(seed) = &record.seed {
        files.push((
            paths.seed.clone(),
            format!("{role}-seed.iso"),
            seed.sha256.clone(),
        ));
    }
    let remote = if let Some(dir) = uri.strip_prefix("file://") {
        if !dir.starts_with('/') {
            return Err(ProvisionError::PublishUri {
                uri: uri.to_owned(),
                problem: "a file:// URI needs an absolute path (file:///srv/images/...)",
            });
        }
        let dir = Path::new(dir);
        std::fs::create_dir_all(dir).map_err(io("create", dir))?;
        for (from, name, sha) in &files {
            copy_into(from, dir, name, sha)?;
        }
        format!("file://{}/{role}.img", dir.display())
    } else if uri.starts_with("http://") || uri.starts_with("https://") {
        if uri
            .split("://")
            .nth(1)
            .and_then(|rest| rest.split('/').next())
            .is_some_and(|host| host.contains('@'))
        {
            return Err(ProvisionError::PublishUri {
                uri: "<the configured URI>".to_owned(),
                problem: "it holds credentials; put them in STRATA_PUBLISH_TOKEN or STRATA_PUBLISH_USER/STRATA_PUBLISH_PASSWORD instead",
            });
        }
        let curl = curl.expect("the caller finds curl for http(s) targets");
        for (from, name, sha) in &files {
            put(ctx, curl, role, from, &format!("{uri}/{name}"), sha, auth)?;
        }
        format!("{uri}/{role}.img")
    } else {
        return Err(ProvisionError::PublishUri {
            uri: uri.to_owned(),
            problem: "only file:// and http(s):// targets are supported",
        });
    };
    record.remote = Some(remote);
    write_record(&paths.record, &record)?;
    Ok(record)
}

/// Copies `from` into `dir/name` through a temporary file, hashing on the way, and renames it
/// into place only when the copy hashes to `sha`.
fn copy_into(from: &Path, dir: &Path, name: &str, sha: &str) -> Result<(), ProvisionError> {
    let temp = dir.join(format!(".{name}.partial-{}", std::process::id()));
    let _ = std::fs::remove_file(&temp);
    let (copied, _) = hash::copy_hashing(from, &temp).map_err(io("copy to", &temp))?;
    if copied != sha {
        let _ = std::fs::remove_file(&temp);
        return Err(ProvisionError::CopyCorrupted {
            path: temp,
            expected: sha.to_owned(),
            actual: copied,
        });
    }
    let to = dir.join(name);
    std::fs::rename(&temp, &to).map_err(io("move into place", &to))
}

/// `curl --upload-file` (an HTTP PUT). Credentials go through a curl config file readable by
/// this user only, removed afterwards, so they are never on a command line.
fn put(
    ctx: &BuildContext,
    curl: &FoundTool,
    role: &str,
    from: &Path,
    url: &str,
    sha: &str,
    auth: &PublishAuth,
) -> Result<(), ProvisionError> {
    let config = CurlConfig::new(auth)?;
    let log = ctx
        .log_dir
        .as_ref()
        .map(|d| d.join(format!("publish-{role}.log")));
    let mut cmd = Command::new(&curl.path, ctx.layout.root())
        .args(["--fail", "--silent", "--show-error", "--retry", "2"])
        .arg("--header")
        .arg(format!("X-Checksum-Sha256: {sha}"))
        .arg("--upload-file")
        .arg(from);
    if let Some(path) = &config.path {
        cmd = cmd.arg("--config").arg(path);
    }
    let cmd = cmd.arg(url);
    let opts = RunOptions {
        log: log.as_deref(),
        tail_lines: 10,
        ..RunOptions::default()
    };
    run(&cmd, &opts).map_err(|source| ProvisionError::Tool {
        role: role.to_owned(),
        step: format!("uploading to {url}"),
        source: Box::new(source),
    })?;
    Ok(())
}

/// A curl config file holding what must not be on a command line (credentials, a URL with a
/// password or a token in it), mode 0600, removed on drop.
pub(crate) struct CurlConfig {
    pub(crate) path: Option<PathBuf>,
}

/// A value in a curl config file: double-quoted, with `\\` and `"` escaped.
pub(crate) fn curl_quote(s: &str) -> String {
    format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""))
}

impl CurlConfig {
    fn new(auth: &PublishAuth) -> Result<Self, ProvisionError> {
        let quote = curl_quote;
        let mut lines = String::new();
        if let Some(token) = &auth.token {
            lines.push_str(&format!(
                "header = {}\n",
                quote(&format!("Authorization: Bearer {token}"))
            ));
        }
        if let Some((user, password)) = &auth.basic {
            lines.push_str(&format!(
                "user = {}\n",
                quote(&format!("{user}:{password}"))
            ));
        }
        Self::with_lines(&lines)
    }

    /// A config file of `lines`; none when there are none.
    pub(crate) fn with_lines(lines: &str) -> Result<Self, ProvisionError> {
        use std::io::Write as _;
        use std::os::unix::fs::OpenOptionsExt;
        if lines.is_empty() {
            return Ok(Self { path: None });
        }
        let path = std::env::temp_dir().join(format!(
            "strata-curl-{}-{}.conf",
            std::process::id(),
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_nanos())
        ));
        let mut file = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&path)
            .map_err(io("write", &path))?;
        file.write_all(lines.as_bytes())
            .map_err(io("write", &path))?;
        Ok(Self { path: Some(path) })
    }
}

impl Drop for CurlConfig {
    fn drop(&mut self) {
        if let Some(p) = &self.path {
            let _ = std::fs::remove_file(p);
        }
    }
}
