//! How fast a large image is hashed: `strata_provisioner::sha256_file` against `sha256sum`.
//!
//! Writes a file of pseudo-random bytes (2 GiB unless `--gib N` or `STRATA_BENCH_HASH_GIB` says
//! otherwise) under the system temp dir. Every block is written, so the file is not sparse and
//! both tools read real data. It then times, median of 5 runs after one warm-up:
//! - `sha256_file`, in process: 1 MiB reads fed to the `sha2` crate;
//! - `sha256sum <file>`, spawned, from start until it has exited.
//!
//! Both must print the same digest, or the benchmark fails. The file is removed at the end.
//!
//! Run with `cargo xtask bench --hash` (or `cargo bench -p strata-provisioner --bench hash --
//! --gib 2`). Figures are recorded in docs/performance.md.

// A benchmark reports its figures on stdout.
#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::fs::File;
use std::io::Write as _;
use std::path::Path;
use std::time::{Duration, Instant};

use strata_provisioner::sha256_file;
use strata_testkit::TempDir;

const GIB: f64 = (1u64 << 30) as f64;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let gib: f64 = args
        .iter()
        .position(|a| a == "--gib")
        .and_then(|i| args.get(i + 1).cloned())
        .or_else(|| std::env::var("STRATA_BENCH_HASH_GIB").ok())
        .map(|n| n.parse().expect("the size in GiB is a number"))
        .unwrap_or(2.0);
    let size = (gib * GIB) as u64;
    assert!(size > 0, "the file must not be empty");

    let dir = TempDir::new("bench-hash");
    let file = dir.join("image.raw");
    let start = Instant::now();
    write_pseudo_random(&file, size);
    let cpus = std::thread::available_parallelism().map_or(1, |n| n.get());
    println!(
        "sha256 of a {gib} GiB file ({size} bytes, written in {:.1} s), {cpus} CPUs, \
         SHA extensions: {}, median of {RUNS} runs after one warm-up\n",
        start.elapsed().as_secs_f64(),
        if sha_extensions() { "yes" } else { "no" },
    );

    let (ours, ours_time) = median(|| {
        let (digest, len) = sha256_file(&file).expect("sha256_file reads the file");
        assert_eq!(len, size, "sha256_file read the whole file");
        digest
    });
    let (theirs, theirs_time) = median(|| sha256sum(&file));
    assert_eq!(
        ours, theirs,
        "sha256_file and sha256sum disagree on the digest"
    );

    println!("{:<12} {:>10} {:>8}", "tool", "median", "GiB/s");
    for (tool, time) in [("sha256_file", ours_time), ("sha256sum", theirs_time)] {
        let secs = time.as_secs_f64();
        println!("{tool:<12} {secs:>8.3} s {:>8.2}", size as f64 / GIB / secs);
    }
    println!("\ndigest {ours}");
    // Removes the file; it also goes when an assertion above panics, as the panic unwinds.
    drop(dir);
}

const RUNS: usize = 5;

/// Runs `f` once to warm up, then `RUNS` times; returns its result, which must be the same every
/// time, and the median duration.
fn median(mut f: impl FnMut() -> String) -> (String, Duration) {
    let first = f();
    let mut times: Vec<Duration> = (0..RUNS)
        .map(|_| {
            let start = Instant::now();
            let out = f();
            let elapsed = start.elapsed();
            assert_eq!(out, first, "the same file hashes the same every time");
            elapsed
        })
        .collect();
    times.sort();
    (first, times[RUNS / 2])
}

/// The digest `sha256sum` prints for `file`.
fn sha256sum(file: &Path) -> String {
    #[expect(
        clippy::disallowed_methods,
        reason = "benchmark: times the system's sha256sum as a reference"
    )]
    let out = std::process::Command::new("sha256sum")
        .arg(file)
        .output()
        .expect("`sha256sum` runs (it is part of coreutils)");
    assert!(
        out.status.success(),
        "sha256sum failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    // "<64 hex digits>  <path>"
    String::from_utf8_lossy(&out.stdout)
        .split_whitespace()
        .next()
        .expect("sha256sum prints a digest")
        .to_owned()
}

/// Fills `path` with `size` bytes from a xorshift64 generator: cheap to make, not compressible,
/// and never a run of zeros the file system could leave as a hole.
fn write_pseudo_random(path: &Path, size: u64) {
    let mut out = File::create(path).expect("the file is new");
    let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut block = vec![0u8; 1 << 20];
    let mut left = size;
    while left > 0 {
        for word in block.chunks_exact_mut(8) {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            word.copy_from_slice(&state.to_le_bytes());
        }
        let n = left.min(block.len() as u64) as usize;
        out.write_all(&block[..n]).expect("the temp dir has room");
        left -= n as u64;
    }
    out.sync_all().expect("the file reaches the disk");
}

/// Whether `sha2` uses the CPU's SHA extensions here. Version 0.10 picks its SHA-NI backend at
/// run time on x86 when the CPU has these features; elsewhere, without its `asm` feature (which
/// Strata does not enable), it always uses portable code.
fn sha_extensions() -> bool {
    #[cfg(any(target_arch = "x86", target_arch = "x86_64"))]
    {
        std::arch::is_x86_feature_detected!("sha")
            && std::arch::is_x86_feature_detected!("sse2")
            && std::arch::is_x86_feature_detected!("ssse3")
            && std::arch::is_x86_feature_detected!("sse4.1")
    }
    #[cfg(not(any(target_arch = "x86", target_arch = "x86_64")))]
    {
        false
    }
}
