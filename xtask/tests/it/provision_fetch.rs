//! `provision build` downloading a base image given by URL with the real curl, from an HTTP
//! server this test runs on 127.0.0.1 that serves `Range` requests as a real one does: a good
//! download, one continued from what an earlier run left, one the server cuts short, a wrong
//! checksum, a proxy, and a server that is not there.

use std::io::{BufRead as _, BufReader, Write as _};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use strata_testkit::{TempDir, real_tool};

use crate::support::{Run, bump_package, read, write, xtask, xtask_env};

const PROVISIONER: &str = "config/packages/core/environments/development.provisioner.json";
const NAME: &str = "noble-server-cloudimg-amd64.img";

/// A qcow2 image of 64 MiB virtual size, 192 KiB on disk: enough bytes to cut in the middle.
fn image() -> Vec<u8> {
    let mut h = b"QFI\xfb".to_vec();
    h.extend(3u32.to_be_bytes());
    h.extend([0u8; 16]);
    h.extend((64u64 << 20).to_be_bytes());
    h.extend((0..192 * 1024u32).map(|i| (i % 251) as u8));
    h
}

fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest as _;
    sha2::Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// A static file server on a free port of 127.0.0.1: `GET` of any path serves `body` (`200`, or
/// `206` with `Content-Range` for `Range: bytes=N-`, `416` past the end), and the first
/// `cut_short` responses stop after half their bytes. It records each request line and `Range`
/// header. Stopped when dropped.
struct Server {
    port: u16,
    requests: Arc<Mutex<Vec<String>>>,
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Server {
    fn start(body: Vec<u8>, cut_short: usize) -> Self {
        Self::start_at(0, body, cut_short)
    }

    /// On `port` (0: any free one), as a server that comes back after a restart does.
    fn start_at(port: u16, body: Vec<u8>, cut_short: usize) -> Self {
        let listener = TcpListener::bind(("127.0.0.1", port)).unwrap();
        let port = listener.local_addr().unwrap().port();
        let requests = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let cuts = AtomicUsize::new(cut_short);
        let (seen, done) = (requests.clone(), stop.clone());
        let thread = std::thread::spawn(move || {
            for conn in listener.incoming() {
                if done.load(Ordering::SeqCst) {
                    return;
                }
                let Ok(conn) = conn else { continue };
                let cut = cuts
                    .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
                    .is_ok();
                let _ = serve(conn, &body, cut, &seen);
            }
        });
        Self {
            port,
            requests,
            stop,
            thread: Some(thread),
        }
    }

    fn url(&self) -> String {
        format!("http://127.0.0.1:{}/images/{NAME}", self.port)
    }

    fn requests(&self) -> Vec<String> {
        self.requests.lock().unwrap().clone()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect(("127.0.0.1", self.port));
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn serve(
    conn: TcpStream,
    body: &[u8],
    cut: bool,
    seen: &Mutex<Vec<String>>,
) -> std::io::Result<()> {
    let mut reader = BufReader::new(conn.try_clone()?);
    let mut request = String::new();
    reader.read_line(&mut request)?;
    let mut start = None;
    let mut auth = "";
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line)? == 0 || line.trim().is_empty() {
            break;
        }
        if line
            .to_ascii_lowercase()
            .starts_with("authorization: basic ")
        {
            auth = " auth=basic";
        }
        if let Some(v) = line
            .to_ascii_lowercase()
            .strip_prefix("range: bytes=")
            .and_then(|r| r.trim().strip_suffix('-').map(str::to_owned))
        {
            start = v.parse::<usize>().ok();
        }
    }
    seen.lock().unwrap().push(format!(
        "{} range={}{auth}",
        request.trim(),
        start.map_or("-".to_owned(), |s| s.to_string())
    ));
    let mut conn = conn;
    let (head, part) = match start {
        Some(s) if s >= body.len() => (
            format!(
                "HTTP/1.1 416 Range Not Satisfiable\r\nContent-Range: bytes */{}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
                body.len()
            ),
            &body[..0],
        ),
        Some(s) => (
            format!(
                "HTTP/1.1 206 Partial Content\r\nContent-Range: bytes {s}-{}/{}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                body.len() - 1,
                body.len(),
                body.len() - s
            ),
            &body[s..],
        ),
        None => (
            format!(
                "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nAccept-Ranges: bytes\r\nConnection: close\r\n\r\n",
                body.len()
            ),
            body,
        ),
    };
    conn.write_all(head.as_bytes())?;
    let sent = if cut { &part[..part.len() / 2] } else { part };
    conn.write_all(sent)?;
    conn.flush()
}

/// The sample whose development roles take their base image from `url`, pinned to `sha`, with
/// stand-in qemu-img and cloud-localds (the download is what is under test) and a cache of its
/// own.
struct Setup {
    repo: TempDir,
    bin: TempDir,
    cache: TempDir,
}

impl Setup {
    fn new(url: &str, sha: &str) -> Self {
        let repo = strata_testkit::sample_repo();
        let root = repo.path();
        let mut config: serde_json::Value = serde_json::from_str(&read(root, PROVISIONER)).unwrap();
        for role in config["roles"].as_object_mut().unwrap().values_mut() {
            role["baseImage"] = serde_json::json!({"url": url, "sha256": sha});
            role["diskSize"] = "1G".into();
        }
        write(
            root,
            PROVISIONER,
            serde_json::to_string_pretty(&config).unwrap(),
        );
        bump_package(root, true);
        let generate = xtask(
            root,
            &["generate", "env", "--id", "development", "--config", "core"],
        );
        assert_eq!(generate.code, 0, "{}", generate.stderr);
        let bin = TempDir::new("fetch-bin");
        strata_testkit::script(
            bin.path(),
            "qemu-img",
            "case \"$1\" in --version) echo 'qemu-img version 10.0.2' ;; convert) cp \"$6\" \"$7\" ;; esac\n",
        );
        strata_testkit::script(bin.path(), "cloud-localds", "cat \"$2\" \"$3\" > \"$1\"\n");
        Self {
            repo,
            bin,
            cache: TempDir::new("image-cache"),
        }
    }

    fn build(&self, role: &str, extra: &[(&str, &str)]) -> Run {
        let b = |n: &str| self.bin.join(n).display().to_string();
        let (qemu, localds) = (b("qemu-img"), b("cloud-localds"));
        let cache = self.cache.path().display().to_string();
        let mut env = vec![
            ("STRATA_QEMU_IMG", qemu.as_str()),
            ("STRATA_CLOUD_LOCALDS", localds.as_str()),
            ("STRATA_IMAGE_CACHE", cache.as_str()),
            // No ambient proxy: the loopback server is reached directly unless a test says.
            ("http_proxy", ""),
            ("HTTP_PROXY", ""),
            ("https_proxy", ""),
            ("HTTPS_PROXY", ""),
            ("ALL_PROXY", ""),
            ("all_proxy", ""),
        ];
        env.extend(extra);
        let args = ["provision", "build", "--env", "development", "--role", role];
        xtask_env(self.repo.path(), &args, &env)
    }

    fn entry(&self, sha: &str) -> std::path::PathBuf {
        self.cache.join(format!("{sha}/{NAME}"))
    }

    fn partial(&self, sha: &str) -> std::path::PathBuf {
        self.cache.join(format!("{sha}/.{NAME}.partial"))
    }
}

fn curl() -> bool {
    real_tool("curl").is_some()
}

#[test]
fn a_base_image_by_url_is_downloaded_into_the_cache_and_checked() {
    if !curl() {
        return;
    }
    let body = image();
    let sha = sha256_hex(&body);
    let server = Server::start(body.clone(), 0);
    let s = Setup::new(&server.url(), &sha);
    let run = s.build("k8s-worker", &[]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(std::fs::read(s.entry(&sha)).unwrap(), body);
    assert!(!s.partial(&sha).exists());
    assert!(
        run.stderr.contains(&format!(
            "[k8s-worker] downloading the base image from {}",
            server.url()
        )) && run
            .stderr
            .contains("[k8s-worker] downloaded 192.0 KiB of 192.0 KiB (100%)"),
        "plain progress lines off a terminal: {}",
        run.stderr
    );
    assert_eq!(
        server.requests(),
        [format!("GET /images/{NAME} HTTP/1.1 range=-")]
    );

    // The cache is used from now on: the other role downloads nothing.
    let other = s.build("k8s-control-plane", &[]);
    assert_eq!(other.code, 0, "{}", other.stderr);
    assert_eq!(server.requests().len(), 1);
}

#[test]
fn a_download_continues_what_an_earlier_run_left() {
    if !curl() {
        return;
    }
    let body = image();
    let sha = sha256_hex(&body);
    let server = Server::start(body.clone(), 0);
    let s = Setup::new(&server.url(), &sha);
    // A run killed halfway through left the first 100 000 bytes.
    write(
        s.cache.path(),
        &format!("{sha}/.{NAME}.partial"),
        &body[..100_000],
    );
    let run = s.build("k8s-worker", &[]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(std::fs::read(s.entry(&sha)).unwrap(), body);
    assert_eq!(
        server.requests(),
        [format!("GET /images/{NAME} HTTP/1.1 range=100000")],
        "only the rest was asked for"
    );
}

#[test]
fn a_download_cut_short_is_continued_and_kept_when_it_cannot_finish() {
    if !curl() {
        return;
    }
    let body = image();
    let sha = sha256_hex(&body);

    // Cut short once: the same run continues where it stopped.
    let server = Server::start(body.clone(), 1);
    let s = Setup::new(&server.url(), &sha);
    let run = s.build("k8s-worker", &[]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(std::fs::read(s.entry(&sha)).unwrap(), body);
    let half = (body.len() / 2).to_string();
    assert_eq!(
        server.requests(),
        [
            format!("GET /images/{NAME} HTTP/1.1 range=-"),
            format!("GET /images/{NAME} HTTP/1.1 range={half}"),
        ]
    );
    drop(server);

    // Cut short every time: the build fails (exit 1) naming the URL, keeps what arrived, and
    // the next run, against a server that behaves, finishes it.
    let server = Server::start(body.clone(), usize::MAX);
    let s = Setup::new(&server.url(), &sha);
    let run = s.build("k8s-worker", &[]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    let partial = std::fs::read(s.partial(&sha)).unwrap();
    assert!(
        run.stderr.contains(&format!(
            "error: downloading the base image of role `k8s-worker` from `{}` did not finish; the {} bytes that arrived are kept in `{}`",
            server.url(),
            partial.len(),
            s.partial(&sha).display()
        )) && run.stderr.contains("curl: (18)")
            && run.stderr.contains("hint: run the build again to continue the download"),
        "{}",
        run.stderr
    );
    assert_eq!(
        partial,
        body[..partial.len()],
        "what arrived is the start of the image"
    );
    assert!(!s.entry(&sha).exists(), "no cache entry from a part");
    let port = server.port;
    drop(server);
    let good = Server::start_at(port, body.clone(), 0);
    let resumed = s.build("k8s-worker", &[]);
    assert_eq!(resumed.code, 0, "{}", resumed.stderr);
    assert_eq!(std::fs::read(s.entry(&sha)).unwrap(), body);
    assert_eq!(
        good.requests(),
        [format!(
            "GET /images/{NAME} HTTP/1.1 range={}",
            partial.len()
        )]
    );
}

#[test]
fn a_download_with_the_wrong_checksum_is_removed_and_named() {
    if !curl() {
        return;
    }
    let body = image();
    let pinned = sha256_hex(b"the image the config pins");
    let server = Server::start(body.clone(), 0);
    let s = Setup::new(&server.url(), &pinned);
    let run = s.build("k8s-worker", &[]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr.contains(&format!(
            "error: the base image downloaded from `{}` has sha256 {}, not the pinned {pinned}; the download was removed",
            server.url(),
            sha256_hex(&body)
        )),
        "{}",
        run.stderr
    );
    assert!(!s.entry(&pinned).exists() && !s.partial(&pinned).exists());
}

#[test]
fn the_proxy_variables_are_honoured_and_an_unreachable_server_is_named() {
    if !curl() {
        return;
    }
    let body = image();
    let sha = sha256_hex(&body);
    // The image lives on a host this machine cannot resolve; only the proxy can reach it.
    let url = format!("http://images.strata.invalid/{NAME}");
    let proxy = Server::start(body.clone(), 0);
    let s = Setup::new(&url, &sha);
    let via = format!("http://127.0.0.1:{}", proxy.port);
    let run = s.build("k8s-worker", &[("http_proxy", via.as_str())]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(
        proxy.requests(),
        [format!("GET {url} HTTP/1.1 range=-")],
        "asked through the proxy"
    );
    assert_eq!(std::fs::read(s.entry(&sha)).unwrap(), body);

    // A port nothing listens on.
    let closed = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = closed.local_addr().unwrap().port();
    drop(closed);
    let url = format!("http://127.0.0.1:{port}/images/{NAME}");
    let s = Setup::new(&url, &sha);
    let run = s.build("k8s-worker", &[]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(
        run.stderr.contains(&format!(
            "error: could not reach `{url}` to download the base image of role `k8s-worker`"
        )) && run.stderr.contains("curl: (7)"),
        "{}",
        run.stderr
    );
    assert!(!s.partial(&sha).exists() || std::fs::read(s.partial(&sha)).unwrap().is_empty());
}

#[test]
fn a_login_comes_from_netrc_and_a_token_in_the_url_reaches_no_message_or_log() {
    if !curl() {
        return;
    }
    let body = image();
    let sha = sha256_hex(&body);
    let server = Server::start(body.clone(), 0);
    let url = format!(
        "http://127.0.0.1:{}/images/{NAME}?token=t0ken-value",
        server.port
    );
    let s = Setup::new(&url, &sha);
    let home = TempDir::new("netrc-home");
    write(
        home.path(),
        ".netrc",
        "machine 127.0.0.1 login bob password s3cret-pw\n",
    );
    std::fs::set_permissions(
        home.join(".netrc"),
        std::os::unix::fs::PermissionsExt::from_mode(0o600),
    )
    .unwrap();
    let home_s = home.path().display().to_string();
    let run = s.build("k8s-worker", &[("HOME", home_s.as_str())]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(std::fs::read(s.entry(&sha)).unwrap(), body);
    // curl was given the whole URL (through its config file) and the login from ~/.netrc.
    assert_eq!(
        server.requests(),
        [format!(
            "GET /images/{NAME}?token=t0ken-value HTTP/1.1 range=- auth=basic"
        )]
    );
    assert!(
        run.stderr.contains(&format!(
            "downloading the base image from http://127.0.0.1:{}/images/{NAME}?***",
            server.port
        )),
        "{}",
        run.stderr
    );
    let logs = strata_testkit::read_tree(&s.repo.join(".strata"));
    for secret in ["s3cret-pw", "t0ken-value"] {
        assert!(
            !run.stdout.contains(secret) && !run.stderr.contains(secret),
            "{secret} in the output"
        );
        for (file, bytes) in &logs {
            assert!(
                !String::from_utf8_lossy(bytes).contains(secret),
                "{secret} in .strata/{file}"
            );
        }
    }
}

#[test]
fn a_password_in_the_base_image_url_is_refused_before_anything_is_written() {
    let repo = strata_testkit::sample_repo();
    let root = repo.path();
    let mut config: serde_json::Value = serde_json::from_str(&read(root, PROVISIONER)).unwrap();
    config["roles"]["k8s-worker"]["baseImage"] = serde_json::json!({
        "url": "https://bob:s3cret-pw@images.example/noble.img",
        "sha256": "0".repeat(64),
    });
    write(
        root,
        PROVISIONER,
        serde_json::to_string_pretty(&config).unwrap(),
    );
    bump_package(root, false);
    let run = xtask(
        root,
        &["generate", "env", "--id", "development", "--config", "core"],
    );
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr.contains(&format!("error: {PROVISIONER}:"))
            && run
                .stderr
                .contains("`roles.k8s-worker.baseImage.url` holds a password")
            && run.stderr.contains("~/.netrc"),
        "{}",
        run.stderr
    );
    assert!(
        !run.stderr.contains("s3cret-pw"),
        "the password is never repeated"
    );
    assert!(!root.join("api/outputs/development").exists());
}
