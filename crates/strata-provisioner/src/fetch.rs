//! Downloading a base image given by URL into the image cache, with curl: resumable (what
//! arrived is kept beside the cache entry and continued with a `Range` request), checked against
//! the pinned sha256 before it becomes the cache entry, one download per file at a time.
//!
//! curl is the one Strata already drives (publishing), and it brings what a download needs:
//! `--continue-at -`, `--fail`, redirects, and the proxy variables (`https_proxy`, `no_proxy`,
//! …), which it reads itself from the environment Strata passes on.

use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use strata_exec::{Command, ExecError, FoundTool, RunOptions, run};

use crate::error::io;
use crate::{ProvisionError, hash};

/// curl's exit codes for "could not resolve the proxy", "… the host", "could not connect".
const UNREACHABLE: [i32; 3] = [5, 6, 7];
/// curl's exit code when the server cannot continue a download (no byte ranges).
const CANNOT_RESUME: i32 = 33;
/// How many times one build continues a download that broke off, as long as each try got more.
const TRIES: usize = 3;

/// One base image to download.
pub(crate) struct Fetch<'a> {
    pub(crate) role: &'a str,
    pub(crate) url: &'a str,
    /// The pinned sha256, lowercase hex.
    pub(crate) sha256: &'a str,
    /// The cache entry: `<cache>/<sha256>/<file name>`.
    pub(crate) dest: &'a Path,
    pub(crate) curl: Option<&'a FoundTool>,
    /// Where curl runs.
    pub(crate) cwd: &'a Path,
    pub(crate) log: Option<&'a Path>,
    /// Where the steps and the bytes so far are reported.
    pub(crate) progress: &'a crate::Progress<'a>,
}

/// `url` with any `user:password@` replaced by `***@` and any query string by `?***` (a
/// presigned URL's signature, a `?token=`), for messages and logs.
pub(crate) fn shown_url(url: &str) -> String {
    let (url, query) = match url.split_once('?') {
        Some((base, _)) => (base, "?***"),
        None => (url, ""),
    };
    let Some((scheme, rest)) = url.split_once("://") else {
        return format!("{url}{query}");
    };
    let host_end = rest.find(['/', '#']).unwrap_or(rest.len());
    match rest[..host_end].rfind('@') {
        Some(at) => format!("{scheme}://***@{}{query}", &rest[at + 1..]),
        None => format!("{url}{query}"),
    }
}

fn size(path: &Path) -> u64 {
    std::fs::metadata(path).map_or(0, |m| m.len())
}

/// The whole size from the headers curl has written so far: the last response's
/// `Content-Range: bytes a-b/total`, else its `Content-Length`.
fn total_from_headers(text: &str) -> Option<u64> {
    let last = text.rsplit("HTTP/").next().unwrap_or(text);
    let mut length = None;
    for line in last.lines() {
        let Some((name, value)) = line.split_once(':') else {
            continue;
        };
        let value = value.trim();
        match name.trim().to_ascii_lowercase().as_str() {
            "content-range" => {
                if let Some(total) = value.rsplit('/').next().and_then(|t| t.parse().ok()) {
                    return Some(total);
                }
            }
            "content-length" => length = value.parse().ok(),
            _ => {}
        }
    }
    length
}

impl Fetch<'_> {
    /// Makes sure the cache entry exists and is the pinned image.
    pub(crate) fn run(&self) -> Result<(), ProvisionError> {
        let dir = self.dest.parent().expect("a cache entry has a folder");
        std::fs::create_dir_all(dir).map_err(io("create", dir))?;
        // Two roles (or two builds) with the same base image: one downloads, the other waits and
        // then finds the entry there.
        let lock = dir.join(".download.lock");
        let _lock = strata_util::lock_exclusive(&lock).map_err(io("lock", &lock))?;
        if self.dest.is_file() {
            return Ok(());
        }
        (self.progress.step)(&format!(
            "downloading the base image from {}",
            shown_url(self.url)
        ));
        let curl = self.curl.ok_or_else(|| ProvisionError::NoCurl {
            role: self.role.to_owned(),
            url: shown_url(self.url),
        })?;
        let name = self
            .dest
            .file_name()
            .expect("url_file_name never names `..`");
        let name = name.to_string_lossy();
        let partial = dir.join(format!(".{name}.partial"));
        let headers = dir.join(format!(".{name}.headers"));
        let fetched = self.download(curl, &partial, &headers);
        let _ = std::fs::remove_file(&headers);
        fetched?;
        let (actual, _) = hash::sha256_file(&partial).map_err(io("read", &partial))?;
        if !actual.eq_ignore_ascii_case(self.sha256) {
            // Not the pinned image: nothing to resume from, and nothing to keep.
            let _ = std::fs::remove_file(&partial);
            return Err(ProvisionError::DownloadChecksum {
                url: shown_url(self.url),
                expected: self.sha256.to_lowercase(),
                actual,
            });
        }
        std::fs::rename(&partial, self.dest).map_err(io("move into place", self.dest))
    }

    /// Runs curl until `partial` holds the whole file, continuing a transfer that broke off.
    fn download(
        &self,
        curl: &FoundTool,
        partial: &Path,
        headers: &Path,
    ) -> Result<(), ProvisionError> {
        // A URL with a password or a token in it reaches curl through a 0600 config file, never
        // its command line (which any user can read in /proc).
        let config = if shown_url(self.url) == self.url {
            crate::publish::CurlConfig::with_lines("")?
        } else {
            crate::publish::CurlConfig::with_lines(&format!(
                "url = {}\n",
                crate::publish::curl_quote(self.url)
            ))?
        };
        let mut started_over = false;
        let mut tries = 0;
        loop {
            tries += 1;
            let before = size(partial);
            let Err(source) = self.curl_once(curl, partial, headers, config.path.as_deref()) else {
                return Ok(());
            };
            let code = match &source {
                ExecError::Failed { code, .. } => *code,
                _ => None,
            };
            if code.is_some_and(|c| UNREACHABLE.contains(&c)) {
                return Err(ProvisionError::DownloadUnreachable {
                    role: self.role.to_owned(),
                    url: shown_url(self.url),
                    source: Box::new(source),
                });
            }
            // The server cannot continue what an earlier run left: start over, once.
            if code == Some(CANNOT_RESUME) && !started_over {
                started_over = true;
                let _ = std::fs::remove_file(partial);
                continue;
            }
            let received = size(partial);
            // A transfer that broke off but got further is continued where it stopped; an HTTP
            // error (curl's 22: 404, 403, …) will not change by asking again.
            if tries < TRIES && received > before && code != Some(22) {
                continue;
            }
            if received == 0 {
                let _ = std::fs::remove_file(partial);
            }
            return Err(ProvisionError::DownloadFailed {
                role: self.role.to_owned(),
                url: shown_url(self.url),
                partial: partial.to_owned(),
                received,
                source: Box::new(source),
            });
        }
    }

    /// One curl run, continuing `partial`, reporting its growth while it runs.
    fn curl_once(
        &self,
        curl: &FoundTool,
        partial: &Path,
        headers: &Path,
        config: Option<&Path>,
    ) -> Result<(), ExecError> {
        let _ = std::fs::remove_file(headers);
        let mut cmd = Command::new(&curl.path, self.cwd)
            .args(["--fail", "--location", "--silent", "--show-error"])
            // A login lives in ~/.netrc, never in the package's URL (validation refuses one).
            .arg("--netrc-optional")
            // Continue what is there; give up on a connection that stalls for a minute.
            .args(["--continue-at", "-", "--connect-timeout", "30"])
            .args(["--speed-limit", "1", "--speed-time", "60"])
            .arg("--dump-header")
            .arg(headers)
            .arg("--output")
            .arg(partial);
        cmd = match config {
            Some(file) => cmd.arg("--config").arg(file),
            None => cmd.arg(self.url),
        };
        let opts = RunOptions {
            log: self.log,
            tail_lines: 10,
            ..RunOptions::default()
        };
        let total = || {
            std::fs::read_to_string(headers)
                .ok()
                .as_deref()
                .and_then(total_from_headers)
        };
        let done = AtomicBool::new(false);
        let result = std::thread::scope(|s| {
            s.spawn(|| {
                let mut known = None;
                while !done.load(Ordering::Relaxed) {
                    known = known.or_else(total);
                    (self.progress.download)(size(partial), known);
                    std::thread::sleep(Duration::from_millis(250));
                }
            });
            let result = run(&cmd, &opts).map(|_| ());
            done.store(true, Ordering::Relaxed);
            result
        });
        // The last word: once curl is done, a finished download's size is what arrived.
        let received = size(partial);
        let total = total().or_else(|| result.is_ok().then_some(received));
        (self.progress.download)(received, total);
        result
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_in_a_url_are_not_shown() {
        assert_eq!(
            shown_url("https://bob:s3cret@images.example/a@b/noble.img"),
            "https://***@images.example/a@b/noble.img"
        );
        assert_eq!(
            shown_url("https://images.example/noble.img"),
            "https://images.example/noble.img"
        );
        // A presigned URL's signature is a credential too.
        assert_eq!(
            shown_url("https://bucket.example/noble.img?X-Amz-Signature=abc&X-Amz-Expires=60"),
            "https://bucket.example/noble.img?***"
        );
        assert_eq!(
            shown_url("https://bob:pw@bucket.example/noble.img?token=abc"),
            "https://***@bucket.example/noble.img?***"
        );
    }

    #[test]
    fn the_whole_size_comes_from_the_last_response() {
        let resumed = "HTTP/1.1 302 Found\r\nLocation: /b\r\nContent-Length: 0\r\n\r\nHTTP/1.1 206 Partial Content\r\nContent-Range: bytes 100-999/1000\r\nContent-Length: 900\r\n\r\n";
        assert_eq!(total_from_headers(resumed), Some(1000));
        assert_eq!(
            total_from_headers("HTTP/1.1 200 OK\r\ncontent-length: 42\r\n\r\n"),
            Some(42)
        );
        assert_eq!(total_from_headers("HTTP/1.1 200 OK\r\n"), None);
    }
}
