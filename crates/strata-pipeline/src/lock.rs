//! One deploy per environment at a time: an OS file lock on `.strata/<env>/lock`, whose content
//! names the holder.
//!
//! Who holds the lock is the kernel's business: it is an exclusive `flock` on the file, which
//! the kernel releases when the holding process ends, however it ends (SIGKILL included). Two
//! processes that both find a lock left behind cannot both take it, and a reused pid cannot keep
//! a dead deploy's lock alive. The JSON inside only names the holder in messages.

use std::fs::{File, TryLockError};
use std::io::{Read as _, Seek as _, Write as _};
use std::os::unix::fs::MetadataExt as _;
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
        let passwd = std::fs::read_to_string("/etc/passwd").unwrap_or_default();
        // The owner of `/proc/self` is this process's (effective) user: no `unsafe` getuid.
        let uid = std::fs::metadata("/proc/self").ok().map(|m| m.uid());
        Self {
            pid: std::process::id(),
            host: hostname(),
            user: user_name(|k| std::env::var(k).ok(), &passwd, uid),
            started_at: started_at.to_owned(),
            command: command.to_owned(),
        }
    }
}

/// `USER`, else `LOGNAME` (as login shells set them), else the name `/etc/passwd` gives the
/// uid (cron jobs and containers often set neither), else the uid itself.
fn user_name(var: impl Fn(&str) -> Option<String>, passwd: &str, uid: Option<u32>) -> String {
    if let Some(name) = ["USER", "LOGNAME"]
        .into_iter()
        .filter_map(var)
        .find(|v| !v.trim().is_empty())
    {
        return name;
    }
    let Some(uid) = uid else {
        return "unknown".to_owned();
    };
    passwd
        .lines()
        .find_map(|line| {
            let mut fields = line.split(':');
            let name = fields.next()?;
            let id = fields.nth(1)?;
            (id.parse() == Ok(uid) && !name.is_empty()).then(|| name.to_owned())
        })
        .unwrap_or_else(|| format!("uid {uid}"))
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
    #[error("environment `{env}` is locked by {}", shown(holder.as_deref()))]
    Held {
        /// The environment.
        env: String,
        /// Who holds it, when the lock file names it (a holder that has only just taken the
        /// lock may not have written its name yet).
        holder: Option<Box<Holder>>,
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

fn shown(holder: Option<&Holder>) -> String {
    holder.map_or_else(
        || "another process (it has not written its name into the lock yet)".to_owned(),
        Holder::to_string,
    )
}

/// `.strata/<env>/lock`.
pub fn lock_path(state_dir: &Path) -> PathBuf {
    state_dir.join("lock")
}

/// Reads the holder the lock file names, if there is a readable one. It says nothing about
/// whether that process still holds the lock: [`lock_state`] does.
pub fn holder(state_dir: &Path) -> Option<Holder> {
    let text = std::fs::read_to_string(lock_path(state_dir)).ok()?;
    serde_json::from_str(&text).ok()
}

/// Whether an environment is locked, as the kernel sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LockState {
    /// No lock file.
    Free,
    /// A running process holds the lock.
    Held(Option<Holder>),
    /// A lock file whose process is gone: the next deploy takes it over.
    Stale(Option<Holder>),
}

/// Asks the kernel whether anyone holds the lock of the environment whose state folder is
/// `state_dir`. It tries a shared lock for an instant, which [`EnvLock::acquire`] tolerates.
pub fn lock_state(state_dir: &Path) -> Result<LockState, LockError> {
    let path = lock_path(state_dir);
    let file = match File::open(&path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(LockState::Free),
        Err(e) => return Err(io_error("open", &path, e)),
    };
    let named = holder(state_dir);
    match file.try_lock_shared() {
        Ok(()) => Ok(LockState::Stale(named)),
        Err(TryLockError::WouldBlock) => Ok(LockState::Held(named)),
        Err(TryLockError::Error(e)) => Err(io_error("inspect", &path, e)),
    }
}

fn io_error(action: &'static str, path: &Path, source: std::io::Error) -> LockError {
    LockError::Io {
        action,
        path: path.to_owned(),
        source,
    }
}

/// A held environment lock: the kernel releases it when this value is dropped or the process
/// ends; dropping also removes the lock file.
#[derive(Debug)]
pub struct EnvLock {
    file: File,
    path: PathBuf,
}

/// Whether `file` is the file at `path` now: it may have been removed (by the holder releasing
/// it, or `unlock --force`) after it was opened, and a lock on a removed file guards nothing.
fn is_at(file: &File, path: &Path) -> bool {
    match (file.metadata(), std::fs::metadata(path)) {
        (Ok(a), Ok(b)) => a.dev() == b.dev() && a.ino() == b.ino(),
        _ => false,
    }
}

/// Opens the lock file and takes its exclusive lock without waiting. `Ok(None)` when another
/// process holds it.
fn try_take(path: &Path) -> Result<Option<File>, LockError> {
    for _ in 0..100 {
        let file = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(path)
            .map_err(|e| io_error("open", path, e))?;
        // `lock_state` holds a shared lock for an instant; a few quick retries keep a
        // concurrent `status` from turning a free lock into a refusal.
        let mut taken = false;
        for attempt in 0..5 {
            match file.try_lock() {
                Ok(()) => {
                    taken = true;
                    break;
                }
                Err(TryLockError::WouldBlock) if attempt < 4 => {
                    std::thread::sleep(std::time::Duration::from_millis(10));
                }
                Err(TryLockError::WouldBlock) => return Ok(None),
                Err(TryLockError::Error(e)) => return Err(io_error("lock", path, e)),
            }
        }
        if taken && is_at(&file, path) {
            return Ok(Some(file));
        }
        // The file was removed between our open and our lock: lock the one there now.
    }
    Err(io_error(
        "take",
        path,
        std::io::Error::other("another process keeps removing it"),
    ))
}

impl EnvLock {
    /// Takes the lock of the environment whose state folder is `state_dir`, or refuses at once
    /// when a running process holds it. A lock file left by a process that is gone is taken
    /// over; the holder it named is returned so the caller can say so.
    pub fn acquire(
        state_dir: &Path,
        env: &str,
        me: &Holder,
    ) -> Result<(Self, Option<Holder>), LockError> {
        let path = lock_path(state_dir);
        std::fs::create_dir_all(state_dir)
            .map_err(|e| io_error("create the folder of", &path, e))?;
        let Some(mut file) = try_take(&path)? else {
            return Err(LockError::Held {
                env: env.to_owned(),
                holder: holder(state_dir).map(Box::new),
            });
        };
        let mut old = String::new();
        file.read_to_string(&mut old)
            .map_err(|e| io_error("read", &path, e))?;
        let text = serde_json::to_string_pretty(me).expect("a holder serializes");
        file.set_len(0)
            .and_then(|()| file.rewind())
            .and_then(|()| file.write_all(text.as_bytes()))
            .and_then(|()| file.sync_data())
            .map_err(|e| io_error("write", &path, e))?;
        Ok((Self { file, path }, serde_json::from_str(&old).ok()))
    }
}

impl Drop for EnvLock {
    fn drop(&mut self) {
        // Removed while still locked, so nobody can take a lock on the old file after us; only
        // if it is still ours (`unlock --force` may have removed it and another deploy made a
        // new one). Closing the file then releases the lock.
        if is_at(&self.file, &self.path) {
            let _ = std::fs::remove_file(&self.path);
        }
    }
}

/// What [`unlock`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Unlocked {
    /// There was no lock file.
    NotLocked,
    /// The lock file was removed; it named this holder, if it was readable.
    Removed(Option<Holder>),
}

/// Removes the lock of the environment whose state folder is `state_dir`. A lock a running
/// process holds is refused ([`LockError::Held`]) unless `force`; a stale one is removed under
/// its own lock, so a deploy that takes it over at the same moment keeps it.
pub fn unlock(state_dir: &Path, env: &str, force: bool) -> Result<Unlocked, LockError> {
    let path = lock_path(state_dir);
    if !path.exists() {
        return Ok(Unlocked::NotLocked);
    }
    let named = holder(state_dir);
    if force {
        return match std::fs::remove_file(&path) {
            Ok(()) => Ok(Unlocked::Removed(named)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Unlocked::NotLocked),
            Err(e) => Err(io_error("remove", &path, e)),
        };
    }
    match try_take(&path)? {
        None => Err(LockError::Held {
            env: env.to_owned(),
            holder: named.map(Box::new),
        }),
        Some(file) => {
            let named = holder(state_dir);
            std::fs::remove_file(&path).map_err(|e| io_error("remove", &path, e))?;
            drop(file);
            Ok(Unlocked::Removed(named))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn me() -> Holder {
        Holder::me("cargo xtask deploy --env dev", "2026-11-25T10:00:00Z")
    }

    #[test]
    fn a_held_lock_refuses_and_is_released_on_drop() {
        let dir = strata_testkit::TempDir::new("lock");
        let (lock, old) = EnvLock::acquire(dir.path(), "dev", &me()).unwrap();
        assert!(old.is_none());
        assert_eq!(lock_state(dir.path()).unwrap(), LockState::Held(Some(me())));
        // A second open file description is a second holder to the kernel, as another
        // process would be: refused at once, naming the first.
        let err = EnvLock::acquire(dir.path(), "dev", &me()).unwrap_err();
        assert!(
            err.to_string()
                .contains(&format!("locked by pid {}", std::process::id())),
            "{err}"
        );
        assert!(matches!(
            unlock(dir.path(), "dev", false),
            Err(LockError::Held { .. })
        ));
        drop(lock);
        assert!(holder(dir.path()).is_none(), "released on drop");
        assert_eq!(lock_state(dir.path()).unwrap(), LockState::Free);
    }

    #[test]
    fn a_lock_file_nobody_holds_is_taken_over_even_when_its_pid_runs() {
        let dir = strata_testkit::TempDir::new("lock");
        // The pid a dead deploy wrote now belongs to a running process (pid 1 always runs):
        // only the kernel's lock tells that the deploy is gone.
        let dead = Holder { pid: 1, ..me() };
        std::fs::write(lock_path(dir.path()), serde_json::to_string(&dead).unwrap()).unwrap();
        assert_eq!(
            lock_state(dir.path()).unwrap(),
            LockState::Stale(Some(dead.clone()))
        );
        let (_lock, old) = EnvLock::acquire(dir.path(), "dev", &me()).unwrap();
        assert_eq!(old, Some(dead));
        assert_eq!(holder(dir.path()).unwrap().pid, std::process::id());
    }

    #[test]
    fn of_many_takeovers_at_once_exactly_one_wins() {
        let dir = strata_testkit::TempDir::new("lock");
        let dead = Holder {
            pid: u32::MAX - 1,
            ..me()
        };
        for round in 0..30 {
            std::fs::write(lock_path(dir.path()), serde_json::to_string(&dead).unwrap()).unwrap();
            let start = std::sync::Barrier::new(8);
            let locks: Vec<EnvLock> = std::thread::scope(|s| {
                let racers: Vec<_> = (0..8)
                    .map(|_| {
                        s.spawn(|| {
                            start.wait();
                            EnvLock::acquire(dir.path(), "dev", &me()).ok()
                        })
                    })
                    .collect();
                racers
                    .into_iter()
                    .filter_map(|r| r.join().unwrap())
                    .map(|(lock, _)| lock)
                    .collect()
            });
            assert_eq!(
                locks.len(),
                1,
                "round {round}: one holder, not {}",
                locks.len()
            );
        }
    }

    #[test]
    fn unlock_removes_a_stale_lock_and_force_a_held_one() {
        let dir = strata_testkit::TempDir::new("lock");
        assert_eq!(
            unlock(dir.path(), "dev", false).unwrap(),
            Unlocked::NotLocked
        );
        std::fs::write(lock_path(dir.path()), serde_json::to_string(&me()).unwrap()).unwrap();
        assert_eq!(
            unlock(dir.path(), "dev", false).unwrap(),
            Unlocked::Removed(Some(me()))
        );
        let (held, _) = EnvLock::acquire(dir.path(), "dev", &me()).unwrap();
        assert_eq!(
            unlock(dir.path(), "dev", true).unwrap(),
            Unlocked::Removed(Some(me()))
        );
        // The next deploy gets a lock of its own; the forced-out holder leaves it alone.
        let (_next, _) = EnvLock::acquire(dir.path(), "dev", &me()).unwrap();
        drop(held);
        assert!(lock_path(dir.path()).exists());
    }

    #[test]
    fn the_user_falls_back_to_logname_then_the_password_file() {
        let passwd = "root:x:0:0:root:/root:/bin/bash\nci:x:1001:1001::/home/ci:/bin/sh\n";
        let vars = |pairs: &'static [(&'static str, &'static str)]| {
            move |k: &str| {
                pairs
                    .iter()
                    .find(|(n, _)| *n == k)
                    .map(|(_, v)| (*v).to_owned())
            }
        };
        assert_eq!(
            user_name(
                vars(&[("USER", "alice"), ("LOGNAME", "bob")]),
                passwd,
                Some(1001)
            ),
            "alice"
        );
        assert_eq!(
            user_name(
                vars(&[("USER", ""), ("LOGNAME", "bob")]),
                passwd,
                Some(1001)
            ),
            "bob"
        );
        assert_eq!(user_name(vars(&[]), passwd, Some(1001)), "ci");
        assert_eq!(user_name(vars(&[]), passwd, Some(0)), "root");
        assert_eq!(user_name(vars(&[]), passwd, Some(4242)), "uid 4242");
        assert_eq!(user_name(vars(&[]), passwd, None), "unknown");
    }
}
