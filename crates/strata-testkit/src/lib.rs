//! Test support shared by Strata's crates: temporary directories that clean up after
//! themselves, a private copy of the repository's sample content to break on purpose, and
//! stand-in executables that record how they were called.
//!
//! Only tests depend on this crate; it is never part of a shipped binary.

#![warn(missing_docs)]
// A test helper tells the person running the tests why a test skipped: on stderr, like cargo test.
#![allow(clippy::print_stderr)]

mod kube;
mod kube_user;
mod sshd;

pub use kube::{KubeApiServer, ci_tool, ci_tools_bin, helms, terraform_engines};
pub use kube_user::{closed_port_kubeconfig, unprivileged_kubeconfig};
pub use sshd::{Sshd, ssh_keygen};

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

/// A directory under the system temp dir, removed (with its content) on drop.
#[derive(Debug)]
pub struct TempDir {
    path: PathBuf,
}

impl TempDir {
    /// Creates a fresh, empty directory whose name starts with `label`.
    pub fn new(label: &str) -> Self {
        static COUNTER: AtomicUsize = AtomicUsize::new(0);
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        let path = std::env::temp_dir().join(format!("strata-{label}-{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&path);
        std::fs::create_dir_all(&path).expect("the temp dir is writable");
        Self {
            path: path.canonicalize().expect("a new dir canonicalizes"),
        }
    }

    /// The directory.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// A path inside the directory.
    pub fn join(&self, rel: impl AsRef<Path>) -> PathBuf {
        self.path.join(rel)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.path);
    }
}

/// The root of this checkout.
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .expect("the workspace exists")
}

/// The folders that make up the sample repository content.
pub const SAMPLE_CONTENT: [&str; 6] = [
    "config",
    "api/definitions",
    "infrastructure",
    "container-orchestration",
    "platform",
    "business",
];

/// A temporary copy of the repository's sample content (packages, lock, definitions, selectors,
/// charts), to validate, generate from, or break on purpose.
pub fn sample_repo() -> TempDir {
    let dir = TempDir::new("repo");
    let root = workspace_root();
    for part in SAMPLE_CONTENT {
        copy_tree(&root.join(part), &dir.join(part), &|name| {
            !GENERATED.contains(&name) && !name.ends_with(".tfstate")
        });
    }
    dir
}

/// Files Strata or terraform write into the checkout (all git-ignored): a test's copy starts
/// without them, as a clean clone does.
const GENERATED: [&str; 4] = [
    "terraform.tfvars",
    "strata_backend_override.tf",
    ".terraform",
    "current",
];

/// Copies a directory tree (files and folders; symlinks are copied as the files they point at).
pub fn copy_dir(from: &Path, to: &Path) {
    copy_tree(from, to, &|_| true);
}

fn copy_tree(from: &Path, to: &Path, keep: &dyn Fn(&str) -> bool) {
    std::fs::create_dir_all(to).expect("the destination is writable");
    for entry in
        std::fs::read_dir(from).unwrap_or_else(|e| panic!("reading {}: {e}", from.display()))
    {
        let entry = entry.expect("a readable entry");
        if !keep(&entry.file_name().to_string_lossy()) {
            continue;
        }
        let dest = to.join(entry.file_name());
        if entry.path().is_dir() {
            copy_tree(&entry.path(), &dest, keep);
        } else {
            std::fs::copy(entry.path(), &dest).expect("the file copies");
        }
    }
}

/// Every file under `dir` with its bytes, by `/`-separated relative path.
pub fn read_tree(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    fn walk(dir: &Path, prefix: &str, out: &mut BTreeMap<String, Vec<u8>>) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for entry in entries.filter_map(Result::ok) {
            let name = entry.file_name().to_string_lossy().into_owned();
            let rel = if prefix.is_empty() {
                name
            } else {
                format!("{prefix}/{name}")
            };
            if entry.path().is_dir() {
                walk(&entry.path(), &rel, out);
            } else {
                out.insert(rel, std::fs::read(entry.path()).expect("a readable file"));
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(dir, "", &mut out);
    out
}

/// Writes `dir/name`, an executable stand-in for an external tool. Each call appends one line
/// to `dir/<name>.calls`: the working directory, then every argument, tab-separated. It prints
/// `stdout` and `stderr` and exits with `code`.
pub fn stand_in(dir: &Path, name: &str, stdout: &str, stderr: &str, code: i32) -> PathBuf {
    use std::os::unix::fs::PermissionsExt;
    let path = dir.join(name);
    let calls = dir.join(format!("{name}.calls"));
    let script = format!(
        "#!/bin/sh\n{{ printf '%s' \"$PWD\"; for a in \"$@\"; do printf '\\t%s' \"$a\"; done; printf '\\n'; }} >> '{}'\nprintf '%s' '{}'\nprintf '%s' '{}' >&2\nexit {code}\n",
        calls.display(),
        stdout.replace('\'', r"'\''"),
        stderr.replace('\'', r"'\''"),
    );
    std::fs::write(&path, script).expect("the stand-in is writable");
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).expect("chmod works");
    path
}

/// The calls a stand-in recorded: each as the working directory followed by the arguments.
pub fn stand_in_calls(dir: &Path, name: &str) -> Vec<Vec<String>> {
    std::fs::read_to_string(dir.join(format!("{name}.calls")))
        .unwrap_or_default()
        .lines()
        .map(|l| l.split('\t').map(str::to_owned).collect())
        .collect()
}

/// Reads a file of a repository, by path relative to its root.
pub fn read(root: &Path, rel: &str) -> String {
    std::fs::read_to_string(root.join(rel)).unwrap_or_else(|e| panic!("reading {rel}: {e}"))
}

/// Writes a file of a repository, creating its folders.
pub fn write(root: &Path, rel: &str, content: impl AsRef<[u8]>) {
    let path = root.join(rel);
    std::fs::create_dir_all(path.parent().expect("a file has a parent"))
        .expect("folders are writable");
    std::fs::write(path, content).expect("the file is writable");
}

/// Replaces the first occurrence of `from` in a repository file; panics when it is absent, so a
/// test never silently breaks nothing.
pub fn edit(root: &Path, rel: &str, from: &str, to: &str) {
    let text = read(root, rel);
    assert!(text.contains(from), "{rel} does not contain {from:?}");
    write(root, rel, text.replacen(from, to, 1));
}

/// Copies package `from` to a new package `to` (folder and `id`), as a team does to start one.
pub fn copy_package(root: &Path, from: &str, to: &str) {
    copy_dir(
        &root.join(format!("config/packages/{from}")),
        &root.join(format!("config/packages/{to}")),
    );
    edit(
        root,
        &format!("config/packages/{to}/package.json"),
        &format!("\"id\": \"{from}\""),
        &format!("\"id\": \"{to}\""),
    );
}

/// Writes `dir/name`, an executable POSIX shell script with `body` after the shebang, for
/// stand-ins that answer differently per subcommand.
pub fn script(dir: &Path, name: &str, body: &str) -> PathBuf {
    use std::os::unix::fs::PermissionsExt;
    let path = dir.join(name);
    std::fs::write(&path, format!("#!/bin/sh\n{body}")).expect("the script is writable");
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).expect("chmod works");
    path
}

/// Whether real-tool tests must run: `STRATA_REAL_TOOLS=1` (set by `cargo xtask ci`).
pub fn real_tools_required() -> bool {
    std::env::var("STRATA_REAL_TOOLS").is_ok_and(|v| v == "1")
}

/// Finds `tool` on PATH for a real-tool test. Without it the test prints one line and is skipped
/// (returns `None`), unless `STRATA_REAL_TOOLS=1`, which makes a missing tool a failure.
pub fn real_tool(tool: &str) -> Option<PathBuf> {
    let found = std::env::var_os("PATH").and_then(|p| {
        std::env::split_paths(&p)
            .map(|d| d.join(tool))
            .find(|p| p.is_file())
    });
    match found {
        Some(p) => Some(p),
        None if real_tools_required() => {
            panic!("`{tool}` is not on PATH and STRATA_REAL_TOOLS=1 requires it")
        }
        None => {
            eprintln!(
                "skipped: `{tool}` is not on PATH (set STRATA_REAL_TOOLS=1 to make this a failure)"
            );
            None
        }
    }
}

/// Runs a real tool, which must succeed, and returns its standard output.
pub fn run_tool(program: &Path, args: &[&str]) -> String {
    kube::run_ok(program, args, &std::env::temp_dir())
}

/// A PostgreSQL server started for one test: its own data directory and socket in a temp dir,
/// listening on a free port of 127.0.0.1 only, stopped (by `pg_ctl stop`) when dropped.
#[derive(Debug)]
pub struct Postgres {
    bin: PathBuf,
    data: PathBuf,
    /// The TCP port on 127.0.0.1.
    pub port: u16,
    /// With [`Postgres::start_tls`]: the PEM file of the CA that signed the server's certificate.
    pub ca: Option<PathBuf>,
    dir: TempDir,
}

impl Postgres {
    /// Starts a server, or returns `None` (printing why) when PostgreSQL is not installed and
    /// `STRATA_REAL_TOOLS` is not set. As root, the server runs as the `postgres` user.
    pub fn start() -> Option<Self> {
        Self::start_with(false)
    }

    /// Starts a server that offers TLS (`ssl=on`), its certificate (for 127.0.0.1 and localhost)
    /// signed by a CA of its own, [`Postgres::ca`]. It listens on 127.0.0.2 too, a name the
    /// certificate does not list. `None` as [`Postgres::start`], or without openssl.
    pub fn start_tls() -> Option<Self> {
        Self::start_with(true)
    }

    fn start_with(tls: bool) -> Option<Self> {
        let bin = std::fs::read_dir("/usr/lib/postgresql")
            .ok()
            .and_then(|versions| {
                let mut dirs: Vec<PathBuf> = versions
                    .filter_map(Result::ok)
                    .map(|e| e.path().join("bin"))
                    .filter(|b| b.join("initdb").is_file())
                    .collect();
                dirs.sort();
                dirs.pop()
            });
        let Some(bin) = bin else {
            if real_tools_required() {
                panic!(
                    "PostgreSQL (initdb, pg_ctl) is not installed and STRATA_REAL_TOOLS=1 requires it"
                );
            }
            eprintln!(
                "skipped: PostgreSQL is not installed (set STRATA_REAL_TOOLS=1 to make this a failure)"
            );
            return None;
        };
        let dir = TempDir::new("pg");
        let data = dir.join("data");
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map(|a| a.port())
            .expect("a free port");
        let root = run_as_root();
        if root {
            chown_postgres(dir.path());
        }
        let initdb = bin.join("initdb").display().to_string();
        let data_s = data.display().to_string();
        pg_command(
            root,
            &[
                &initdb,
                "-D",
                &data_s,
                "-A",
                "trust",
                "-U",
                "postgres",
                "--no-sync",
            ],
        );
        let mut ca = None;
        let mut opts = format!("-p {port} -k {}", dir.path().display());
        if tls {
            let openssl = real_tool("openssl")?;
            let certs = dir.join("tls");
            std::fs::create_dir(&certs).expect("the temp dir is writable");
            kube::make_ca(&openssl, &certs);
            kube::sign_certificate(&openssl, &certs, "server", "/CN=postgres", "server");
            // PostgreSQL refuses a key that others may read.
            use std::os::unix::fs::PermissionsExt;
            let key = certs.join("server.key");
            std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o600))
                .expect("chmod works");
            if root {
                chown_postgres(&key);
            }
            opts.push_str(&format!(
                " -c listen_addresses=127.0.0.1,127.0.0.2 -c ssl=on -c ssl_cert_file={} -c ssl_key_file={}",
                certs.join("server.crt").display(),
                key.display()
            ));
            ca = Some(certs.join("ca.crt"));
        } else {
            opts.push_str(" -c listen_addresses=127.0.0.1");
        }
        let pg_ctl = bin.join("pg_ctl").display().to_string();
        let log = dir.join("server.log").display().to_string();
        pg_command(
            root,
            &[
                &pg_ctl, "-D", &data_s, "-o", &opts, "-l", &log, "-w", "start",
            ],
        );
        Some(Self {
            bin,
            data,
            port,
            ca,
            dir,
        })
    }

    /// A connection string for the `postgres` database, as `PG_CONN_STR` takes it.
    pub fn conn_str(&self) -> String {
        format!(
            "postgres://postgres@127.0.0.1:{}/postgres?sslmode=disable",
            self.port
        )
    }

    /// Runs one SQL query with `psql` and returns its unaligned, tuples-only output.
    pub fn query(&self, sql: &str) -> String {
        #[expect(
            clippy::disallowed_methods,
            reason = "test support: reads the test database"
        )]
        let out = std::process::Command::new(self.bin.join("psql"))
            .args(["-X", "-tA", "-c", sql, &self.conn_str()])
            .output()
            .expect("psql runs");
        assert!(
            out.status.success(),
            "psql failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// The server's own folder (data, socket, log).
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }
}

impl Drop for Postgres {
    fn drop(&mut self) {
        let pg_ctl = self.bin.join("pg_ctl").display().to_string();
        let data = self.data.display().to_string();
        pg_command(
            run_as_root(),
            &[&pg_ctl, "-D", &data, "-m", "immediate", "-w", "stop"],
        );
    }
}

fn run_as_root() -> bool {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("Uid:"))
                .map(|l| l.split_whitespace().nth(1) == Some("0"))
        })
        .unwrap_or(false)
}

fn chown_postgres(dir: &Path) {
    #[expect(
        clippy::disallowed_methods,
        reason = "test support: hands a temp dir to the postgres user"
    )]
    let status = std::process::Command::new("chown")
        .arg("postgres")
        .arg(dir)
        .status()
        .expect("chown runs");
    assert!(status.success(), "chown postgres {}", dir.display());
}

/// Runs a PostgreSQL program, as the `postgres` user when we are root (initdb refuses root).
fn pg_command(as_postgres: bool, argv: &[&str]) {
    #[expect(
        clippy::disallowed_methods,
        reason = "test support: starts and stops a test database"
    )]
    let mut cmd = if as_postgres {
        let mut c = std::process::Command::new("runuser");
        c.args(["-u", "postgres", "--"]).args(argv);
        c
    } else {
        let mut c = std::process::Command::new(argv[0]);
        c.args(&argv[1..]);
        c
    };
    let out = cmd.output().expect("PostgreSQL's programs run");
    assert!(
        out.status.success(),
        "{argv:?} failed:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}
