//! One deploy per environment at a time: `.strata/<env>/lock` names its holder.

use std::io::Write as _;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

/// Who holds an environment's lock.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Holder {
    /// Its process id.
    pub pid: u32,
    /// The machine it runs on.
    pub host: String,
    /// The user who started it.
    pub user: String,
    /// RFC 3339 UTC start.
    pub started_at: String,
    /// Its command line.
    pub command: String,
}

impl Holder {
    /// This process, starting `command` at `started_at`.
    pub fn me(command: &str, started_at: &str) -> Self {
        Self {
            pid: std::process::id(),
            host: hostname(),
            user: std::env::var("USER")
                .or_else(|_| std::env::var("LOGNAME"))
                .unwrap_or_else(|_| "unknown".to_owned()),
            started_at: started_at.to_owned(),
            command: command.to_owned(),
        }
    }

    /// Whether the holder's process still runs. A holder on another machine (a shared
    /// checkout) is taken to be alive: only its own machine can tell.
    pub fn alive(&self) -> bool {
        self.host != hostname() || Path::new(&format!("/proc/{}", self.pid)).exists()
    }
}

impl std::fmt::Display for Holder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "pid {} on {} by {} since {}: {}",
            self.pid, self.host, self.user, self.started_at, self.command
        )
    }
}

fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_owned())
        .unwrap_or_else(|_| "localhost".to_owned())
}

/// Why the lock could not be taken.
#[derive(Debug, thiserror::Error)]
pub enum LockError {
    /// A live process holds it.
    #[error("environment `{env}` is locked by {holder}")]
    Held {
        /// The environment.
        env: String,
        /// Who holds it.
        holder: Box<Holder>,
    },
    /// The lock file could not be read or written.
    #[error("could not {action} the lock `{}`", .path.display())]
    Io {
        /// What was being done.
        action: &'static str,
        /// The lock file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
}

/// A held environment lock, removed when dropped.
#[derive(Debug)]
pub struct EnvLock {
    path: PathBuf,
}

/// `.strata/<env>/lock`.
pub fn lock_path(state_dir: &Path) -> PathBuf {
    state_dir.join("lock")
}

/// Reads the lock's holder, if the lock exists.
pub fn holder(state_dir: &Path) -> Option<Holder> {
    let text = std::fs::read_to_string(lock_path(state_dir)).ok()?;
    serde_json::from_str(&text).ok()
}

impl EnvLock {
    /// Takes the lock of the environment whose state folder is `state_dir`. A lock left by a
    /// process that no longer exists is taken over; the old holder is returned so the caller
    /// can say so.
    pub fn acquire(
        state_dir: &Path,
        env: &str,
        me: &Holder,
    ) -> Result<(Self, Option<Holder>), LockError> {
        let path = lock_path(state_dir);
        let io = |action, source| LockError::Io {
            action,
            path: path.clone(),
            source,
        };
        std::fs::create_dir_all(state_dir).map_err(|e| io("create the folder of", e))?;
        let mut taken_over = None;
        for _ in 0..3 {
            match std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(&path)
            {
                Ok(mut file) => {
                    let text = serde_json::to_string_pretty(me).expect("a holder serializes");
                    file.write_all(text.as_bytes())
                        .map_err(|e| io("write", e))?;
                    return Ok((Self { path }, taken_over));
                }
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                    match holder(state_dir) {
                        Some(h) if h.alive() => {
                            return Err(LockError::Held {
                                env: env.to_owned(),
                                holder: Box::new(h),
                            });
                        }
                        // Left by a process that is gone (or unreadable): take it over.
                        old => {
                            taken_over = old;
                            let _ = std::fs::remove_file(&path);
                        }
                    }
                }
                Err(e) => return Err(io("create", e)),
            }
        }
        Err(io(
            "take",
            std::io::Error::other("another process keeps re-creating it"),
        ))
    }
}

impl Drop for EnvLock {
    fn drop(&mut self) {
        // Only our own lock is removed.
        if std::fs::read_to_string(&self.path)
            .ok()
            .and_then(|t| serde_json::from_str::<Holder>(&t).ok())
            .is_some_and(|h| h.pid == std::process::id())
        {
            let _ = std::fs::remove_file(&self.path);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_live_holder_refuses_and_a_dead_one_is_taken_over() {
        let dir = strata_testkit::TempDir::new("lock");
        let me = Holder::me("cargo xtask deploy --env dev", "2026-11-25T10:00:00Z");
        let (lock, old) = EnvLock::acquire(dir.path(), "dev", &me).unwrap();
        assert!(old.is_none());
        // This process is alive: a second acquire is refused, naming it.
        let err = EnvLock::acquire(dir.path(), "dev", &me).unwrap_err();
        assert!(
            err.to_string()
                .contains(&format!("locked by pid {}", std::process::id())),
            "{err}"
        );
        drop(lock);
        assert!(holder(dir.path()).is_none(), "released on drop");

        // A holder whose process is gone.
        let dead = Holder {
            pid: u32::MAX - 1,
            ..me.clone()
        };
        std::fs::write(lock_path(dir.path()), serde_json::to_string(&dead).unwrap()).unwrap();
        let (_lock, old) = EnvLock::acquire(dir.path(), "dev", &me).unwrap();
        assert_eq!(old, Some(dead));
        assert_eq!(holder(dir.path()).unwrap().pid, std::process::id());
    }
}
