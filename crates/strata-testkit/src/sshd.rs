//! Real SSH "hosts" for tests: one `sshd` per loopback address, with its own host key and a
//! test client key, stopped when dropped.

use std::io::Read as _;
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::{TempDir, real_tools_required, run_as_root};

/// Where Debian installs sshd; it is not on a normal user's PATH.
const SSHD: &str = "/usr/sbin/sshd";

/// Generates an ed25519 key pair without a passphrase at `dir/name` (and `.pub`), readable by
/// its owner only, or returns `None` (printing why) when `ssh-keygen` is missing and
/// `STRATA_REAL_TOOLS` is not set.
pub fn ssh_keygen(dir: &Path, name: &str) -> Option<PathBuf> {
    let keygen = crate::real_tool("ssh-keygen")?;
    let key = dir.join(name);
    #[expect(clippy::disallowed_methods, reason = "test support: makes a test key")]
    let out = std::process::Command::new(keygen)
        .args(["-q", "-t", "ed25519", "-N", "", "-C", "strata-test", "-f"])
        .arg(&key)
        .output()
        .expect("ssh-keygen runs");
    assert!(
        out.status.success(),
        "ssh-keygen failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    Some(key)
}

/// One sshd listening on `address:port` of the loopback network, accepting the keys in one
/// authorized-keys file. Dropping it stops the server (by pid).
#[derive(Debug)]
pub struct Sshd {
    child: Option<std::process::Child>,
    /// The loopback address it listens on.
    pub address: String,
    /// Its port.
    pub port: u16,
    dir: TempDir,
}

impl Sshd {
    /// Starts sshd on `address` (a loopback address such as `127.0.0.2`) and a free port, or
    /// returns `None` (printing why) when openssh-server is not installed and
    /// `STRATA_REAL_TOOLS` is not set.
    pub fn start(address: &str, authorized_keys: &Path) -> Option<Self> {
        assert!(address.starts_with("127."), "tests only listen on loopback");
        if !Path::new(SSHD).is_file() {
            if real_tools_required() {
                panic!("{SSHD} (openssh-server) is missing and STRATA_REAL_TOOLS=1 requires it");
            }
            eprintln!(
                "skipped: {SSHD} is not installed (set STRATA_REAL_TOOLS=1 to make this a failure)"
            );
            return None;
        }
        // sshd refuses to start without its privilege-separation directory.
        let privsep = Path::new("/run/sshd");
        if !privsep.is_dir() && run_as_root() {
            std::fs::create_dir_all(privsep).expect("/run/sshd can be created as root");
        }
        let dir = TempDir::new("sshd");
        let host_key = ssh_keygen(dir.path(), "host_key")?;
        let port = TcpListener::bind((address, 0))
            .and_then(|l| l.local_addr())
            .map(|a| a.port())
            .expect("a free port on the loopback address");
        let config = dir.join("sshd_config");
        std::fs::write(
            &config,
            format!(
                "ListenAddress {address}:{port}\n\
                 HostKey {}\n\
                 AuthorizedKeysFile {}\n\
                 StrictModes no\n\
                 UsePAM no\n\
                 PasswordAuthentication no\n\
                 KbdInteractiveAuthentication no\n\
                 PidFile none\n\
                 Subsystem sftp internal-sftp\n",
                host_key.display(),
                authorized_keys.display()
            ),
        )
        .expect("the config is writable");
        let log = std::fs::File::create(dir.join("sshd.log")).expect("the log is writable");
        #[expect(clippy::disallowed_methods, reason = "test support: a real SSH server")]
        let child = std::process::Command::new(SSHD)
            .args(["-D", "-e", "-f"])
            .arg(&config)
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .stderr(log)
            .spawn()
            .expect("sshd starts");
        let mut sshd = Self {
            child: Some(child),
            address: address.to_owned(),
            port,
            dir,
        };
        sshd.wait_until_listening();
        Some(sshd)
    }

    fn wait_until_listening(&mut self) {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            if TcpStream::connect((self.address.as_str(), self.port)).is_ok() {
                return;
            }
            let exited = self
                .child
                .as_mut()
                .and_then(|c| c.try_wait().ok().flatten());
            if exited.is_some() || Instant::now() > deadline {
                let mut log = String::new();
                let _ = std::fs::File::open(self.dir.join("sshd.log"))
                    .and_then(|mut f| f.read_to_string(&mut log));
                panic!(
                    "sshd on {}:{} did not start ({exited:?}):\n{log}",
                    self.address, self.port
                );
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Stops the server now; connections it already accepted end with their clients.
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Drop for Sshd {
    fn drop(&mut self) {
        self.stop();
    }
}
