//! Putting files and folders in place so that no reader ever sees half of one, and locks.

use std::io::{self, Write as _};
use std::path::{Path, PathBuf};

/// Writes `bytes` to `path` through a hidden sibling that is synced and renamed over it, then
/// syncs the folder: a reader sees the old file or the new one, never part of either, and a
/// crash leaves no half-written file under the real name. The folder is created when missing.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir)?;
    let temp = sibling(path, "tmp");
    let written = (|| {
        let mut file = std::fs::File::create(&temp)?;
        file.write_all(bytes)?;
        file.sync_all()?;
        std::fs::rename(&temp, path)
    })();
    if written.is_err() {
        let _ = std::fs::remove_file(&temp);
    }
    written?;
    // The rename is durable once the folder is: best effort where folders cannot be opened.
    if let Ok(d) = std::fs::File::open(dir) {
        let _ = d.sync_all();
    }
    Ok(())
}

/// Makes `staged` (a complete folder, such as a bundle) appear at `target`, replacing any
/// folder there.
///
/// On Linux both directories are exchanged with one `renameat2(RENAME_EXCHANGE)`, so `target`
/// always names a whole folder; the old one then sits at `staged` and is removed. Elsewhere (or
/// on a file system without exchange) the old folder is renamed aside first, leaving a moment
/// in which `target` is absent but never partial.
pub fn swap_in(staged: &Path, target: &Path) -> io::Result<()> {
    if !target.exists() {
        return std::fs::rename(staged, target);
    }
    match exchange(staged, target) {
        Ok(()) => {}
        Err(e) if matches!(e.raw_os_error(), Some(libc::EINVAL | libc::ENOSYS)) => {
            let aside = sibling(target, "old");
            std::fs::rename(target, &aside)?;
            std::fs::rename(staged, target)?;
            std::fs::remove_dir_all(&aside)?;
            return Ok(());
        }
        Err(e) => return Err(e),
    }
    std::fs::remove_dir_all(staged)
}

#[cfg(target_os = "linux")]
fn exchange(a: &Path, b: &Path) -> io::Result<()> {
    use std::ffi::CString;
    use std::os::unix::ffi::OsStrExt;
    let a = CString::new(a.as_os_str().as_bytes()).map_err(io::Error::other)?;
    let b = CString::new(b.as_os_str().as_bytes()).map_err(io::Error::other)?;
    #[expect(
        unsafe_code,
        reason = "std has no atomic directory exchange; renameat2 is the one syscall for it"
    )]
    // SAFETY: both pointers are valid NUL-terminated strings that outlive the call.
    let rc = unsafe {
        libc::renameat2(
            libc::AT_FDCWD,
            a.as_ptr(),
            libc::AT_FDCWD,
            b.as_ptr(),
            libc::RENAME_EXCHANGE,
        )
    };
    if rc == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

#[cfg(not(target_os = "linux"))]
fn exchange(_: &Path, _: &Path) -> io::Result<()> {
    Err(io::Error::from_raw_os_error(libc::ENOSYS))
}

/// A unique hidden sibling of `target`: `.<name>.<what>-<pid>-<nanos>`.
pub fn sibling(target: &Path, what: &str) -> PathBuf {
    let name = target
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    target.with_file_name(format!(".{name}.{what}-{}-{nanos}", std::process::id()))
}

/// Removes staging directories of `target` left by processes that no longer run (killed
/// mid-generate). Directories of live processes are left alone: they may be generating now.
pub fn remove_stale_siblings(target: &Path) {
    let (Some(parent), Some(name)) = (target.parent(), target.file_name()) else {
        return;
    };
    let prefix = format!(".{}.", name.to_string_lossy());
    let Ok(entries) = std::fs::read_dir(parent) else {
        return;
    };
    for entry in entries.filter_map(Result::ok) {
        let file = entry.file_name().to_string_lossy().into_owned();
        let Some(rest) = file.strip_prefix(&prefix) else {
            continue;
        };
        let pid = rest
            .split_once('-')
            .and_then(|(_, r)| r.split('-').next())
            .and_then(|p| p.parse::<u32>().ok());
        if let Some(pid) = pid
            && !Path::new("/proc").join(pid.to_string()).exists()
        {
            let _ = std::fs::remove_dir_all(entry.path());
        }
    }
}

/// Takes an exclusive lock on `path` (created with its folder when missing), waiting while
/// another process holds it; the lock lasts as long as the returned file is open.
pub fn lock_exclusive(path: &Path) -> io::Result<std::fs::File> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(path)?;
    if file.try_lock().is_err() {
        tracing::info!(lock = %path.display(), "waiting: another run holds this lock");
        file.lock()?;
    }
    Ok(file)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_atomic_write_replaces_the_file_and_leaves_no_temporary() {
        let dir = std::env::temp_dir().join(format!("strata-util-{}", std::process::id()));
        let path = dir.join("sub/state.json");
        write_atomic(&path, b"one").unwrap();
        write_atomic(&path, b"two").unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"two");
        let left: Vec<_> = std::fs::read_dir(dir.join("sub"))
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(left, ["state.json"]);
        // A folder where the file should be: the error is returned, nothing is left behind.
        std::fs::create_dir_all(dir.join("sub/dir")).unwrap();
        assert!(write_atomic(&dir.join("sub/dir"), b"x").is_err());
        assert_eq!(std::fs::read_dir(dir.join("sub")).unwrap().count(), 2);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
