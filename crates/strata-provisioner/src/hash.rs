//! SHA-256 of large files, streamed: a multi-GB image is never held in memory, and a copy is
//! hashed while it is written. `sha2` uses the CPU's SHA extensions when it has them.

use std::fs::File;
use std::io::{self, Read, Write};
use std::path::Path;

use sha2::{Digest as _, Sha256};

/// Read and write in 1 MiB blocks: big enough to keep syscalls rare, small enough for cache.
const BLOCK: usize = 1 << 20;

/// The SHA-256 of a file as 64 lowercase hex digits, and its length.
pub fn sha256_file(path: &Path) -> io::Result<(String, u64)> {
    let mut file = File::open(path)?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; BLOCK];
    let mut len = 0u64;
    loop {
        let n = match file.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        hasher.update(&buf[..n]);
        len += n as u64;
    }
    Ok((hex(&hasher.finalize()), len))
}

/// Copies `from` to a new file `to` (which must not exist), hashing the bytes as they pass, and
/// syncs it to disk. Returns the SHA-256 and length of what was written. On error the partial
/// copy is removed.
pub fn copy_hashing(from: &Path, to: &Path) -> io::Result<(String, u64)> {
    let mut src = File::open(from)?;
    let mut dst = File::options().write(true).create_new(true).open(to)?;
    let result = (|| {
        let mut hasher = Sha256::new();
        let mut buf = vec![0u8; BLOCK];
        let mut len = 0u64;
        loop {
            let n = match src.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            };
            hasher.update(&buf[..n]);
            dst.write_all(&buf[..n])?;
            len += n as u64;
        }
        dst.sync_all()?;
        Ok((hex(&hasher.finalize()), len))
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(to);
    }
    result
}

/// Lowercase hex.
pub(crate) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn streaming_and_copying_hash_the_same_as_the_known_answer() {
        let dir = strata_testkit::TempDir::new("hash");
        let from = dir.join("a");
        // More than one block, not a multiple of it.
        let data: Vec<u8> = (0..(BLOCK + 12345)).map(|i| (i % 251) as u8).collect();
        std::fs::write(&from, &data).unwrap();
        let expected = hex(&Sha256::digest(&data));
        assert_eq!(
            sha256_file(&from).unwrap(),
            (expected.clone(), data.len() as u64)
        );
        let to = dir.join("b");
        assert_eq!(copy_hashing(&from, &to).unwrap().0, expected);
        assert_eq!(std::fs::read(&to).unwrap(), data);
        // The target must be new: an existing file is never overwritten in place.
        assert!(copy_hashing(&from, &to).is_err());
        assert_eq!(std::fs::read(&to).unwrap(), data, "and it is left alone");
        assert_eq!(
            sha256_file(&dir.join("empty").tap_create()).unwrap().0,
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
    }

    trait TapCreate {
        fn tap_create(self) -> Self;
    }
    impl TapCreate for std::path::PathBuf {
        fn tap_create(self) -> Self {
            std::fs::write(&self, b"").unwrap();
            self
        }
    }
}
