//! `cargo xtask bench`: the repository benchmark, or with `--hash` the large-file SHA-256
//! benchmark. Both measure the binary users run, the one `cargo xtask` runs (this one): the
//! repository benchmark is handed its path and spawns it beside its own in-process figures of
//! an optimised build, and `--hash` times `sha256_file` here, in this binary, against openssl.

use std::fs::File;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::Context as _;
use strata_config::Layout;
use strata_exec::{Command, RunOptions, run as exec};

use crate::Exit;
use crate::cli::BenchArgs;
use crate::ui::Ui;

pub(crate) fn run(layout: &Layout, args: &BenchArgs, ui: &Ui) -> anyhow::Result<Exit> {
    if args.hash {
        return hash(layout, ui);
    }
    let cargo = std::env::var_os("CARGO").map_or_else(|| PathBuf::from("cargo"), PathBuf::from);
    let users = users_binary(layout)?;
    let cmd = Command::new(cargo, layout.root())
        .args([
            "bench",
            "--package",
            "strata-bundle",
            "--bench",
            "repository",
            "--",
            "--packages",
        ])
        .arg(args.packages.to_string())
        .arg("--xtask")
        .arg(users.display().to_string());
    ui.note(&format!("==> {}", cmd.display()));
    exec(
        &cmd,
        &RunOptions {
            inherit_output: true,
            ..RunOptions::default()
        },
    )?;
    Ok(Exit::Success)
}

const GIB: f64 = (1u64 << 30) as f64;
const RUNS: usize = 3;

/// The binary `cargo xtask` builds and runs: the dev profile's `xtask` in cargo's target folder
/// (`CARGO_TARGET_DIR`, else `target/` of the repository). The repository benchmark spawns it
/// on the synthetic repository, as a user's shell would.
fn users_binary(layout: &Layout) -> anyhow::Result<PathBuf> {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .filter(|v| !v.is_empty())
        .map_or_else(|| layout.abs("target"), PathBuf::from);
    let binary = target.join("debug").join("xtask");
    anyhow::ensure!(
        binary.is_file(),
        "`{}` is not built; run `cargo build -p xtask` first",
        binary.display()
    );
    Ok(binary)
}

/// SHA-256 of a large file: `strata_provisioner::sha256_file` (what image builds, base-image
/// downloads and publishing hash with) in this process, against `openssl dgst -sha256` and
/// `sha256sum` on the same file; each the median of `RUNS` runs after one warm-up.
fn hash(layout: &Layout, ui: &Ui) -> anyhow::Result<Exit> {
    let gib: f64 = match std::env::var("STRATA_BENCH_HASH_GIB") {
        Ok(v) => v
            .parse()
            .ok()
            .filter(|g: &f64| *g > 0.0)
            .context("STRATA_BENCH_HASH_GIB must be a positive number of GiB")?,
        Err(_) => 2.0,
    };
    let size = (gib * GIB) as u64;
    let dir = std::env::temp_dir().join(format!("strata-bench-hash-{}", std::process::id()));
    std::fs::create_dir_all(&dir).with_context(|| format!("creating `{}`", dir.display()))?;
    let file = dir.join("image.raw");
    let result = hash_file(layout, ui, &file, gib, size);
    let _ = std::fs::remove_dir_all(&dir);
    result
}

fn hash_file(layout: &Layout, ui: &Ui, file: &Path, gib: f64, size: u64) -> anyhow::Result<Exit> {
    write_pseudo_random(file, size).with_context(|| format!("writing `{}`", file.display()))?;
    ui.note(&format!(
        "sha256 of a {gib} GiB file in this process, the dev-profile binary `cargo xtask` runs, \
         median of {RUNS} runs after one warm-up"
    ));
    let ours = median(|| {
        strata_provisioner::sha256_file(file)
            .map(|(digest, _)| digest)
            .with_context(|| format!("hashing `{}`", file.display()))
    })?;
    let tool = |program: &str, args: &[&str]| {
        let cmd = Command::new(program, layout.root())
            .args(args.iter().copied())
            .arg(file.display().to_string());
        median(|| {
            let out = exec(
                &cmd,
                &RunOptions {
                    capture_stdout: true,
                    ..RunOptions::default()
                },
            )?;
            // openssl: "SHA2-256(<path>)= <hex>"; sha256sum: "<hex>  <path>".
            let digest = out
                .stdout
                .split(['=', ' '])
                .map(str::trim)
                .find(|w| w.len() == 64 && w.bytes().all(|b| b.is_ascii_hexdigit()));
            digest
                .map(str::to_owned)
                .with_context(|| format!("no digest in the output of `{}`", cmd.display()))
        })
    };
    let openssl = tool("openssl", &["dgst", "-sha256"])?;
    let sha256sum = tool("sha256sum", &[])?;
    for (name, (digest, _)) in [("openssl", &openssl), ("sha256sum", &sha256sum)] {
        anyhow::ensure!(
            *digest == ours.0,
            "sha256_file and {name} disagree on the digest"
        );
    }
    let mut table = format!(
        "{:<22} {:>10} {:>8} {:>12}\n",
        "tool", "median", "GiB/s", "vs openssl"
    );
    for (name, (_, time)) in [
        ("sha256_file (xtask)", &ours),
        ("openssl dgst -sha256", &openssl),
        ("sha256sum", &sha256sum),
    ] {
        let secs = time.as_secs_f64();
        table.push_str(&format!(
            "{name:<22} {secs:>8.3} s {:>8.2} {:>11.2}x\n",
            size as f64 / GIB / secs,
            secs / openssl.1.as_secs_f64()
        ));
    }
    ui.note(&table);
    Ok(Exit::Success)
}

/// Runs `f` once to warm up, then `RUNS` times; returns its result, which must be the same
/// every time, and the median duration.
fn median(mut f: impl FnMut() -> anyhow::Result<String>) -> anyhow::Result<(String, Duration)> {
    let first = f()?;
    let mut times = Vec::with_capacity(RUNS);
    for _ in 0..RUNS {
        let start = Instant::now();
        let out = f()?;
        times.push(start.elapsed());
        anyhow::ensure!(out == first, "the same file hashed differently");
    }
    times.sort();
    Ok((first, times[RUNS / 2]))
}

/// Fills `path` with `size` bytes: one block from a xorshift64 generator (not compressible),
/// written again and again with the block's number in its first bytes, so no two blocks are
/// the same and no run of zeros leaves a hole; synced so every tool reads the same file.
fn write_pseudo_random(path: &Path, size: u64) -> std::io::Result<()> {
    let mut out = File::create(path)?;
    let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut block = vec![0u8; 1 << 20];
    for word in block.chunks_exact_mut(8) {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        word.copy_from_slice(&state.to_le_bytes());
    }
    let mut left = size;
    let mut n_block = 0u64;
    while left > 0 {
        block[..8].copy_from_slice(&n_block.to_le_bytes());
        let n = left.min(block.len() as u64) as usize;
        out.write_all(&block[..n])?;
        left -= n as u64;
        n_block += 1;
    }
    out.sync_all()
}
