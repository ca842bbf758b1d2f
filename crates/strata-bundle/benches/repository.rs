//! How validate and generate scale with the number of packages.
//!
//! Builds synthetic repositories from the sample `core` package (copied under new ids, each
//! with its three environments, recorded in the lock) and times, in process:
//! - full validation (definitions, every package and file, the lock, the selectors);
//! - generating one environment's bundle, which validates its own package only.
//!
//! Run with `cargo xtask bench` (or `cargo bench -p strata-bundle --bench repository --
//! --packages 300`). Figures are recorded in docs/performance.md.

use std::time::{Duration, Instant};

use strata_bundle::{GenerateOptions, generate};
use strata_config::{
    Depth, Layout, Target, load_all_packages, load_definitions, plan_lock_for, render_lock,
    validate,
};
use strata_metadata::{EnvironmentId, PackageId};
use strata_testkit::TempDir;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let largest: usize = args
        .iter()
        .position(|a| a == "--packages")
        .and_then(|i| args.get(i + 1))
        .map(|n| n.parse().expect("--packages takes a number"))
        .unwrap_or(300);
    let sizes: Vec<usize> = [largest / 3, 2 * largest / 3, largest]
        .into_iter()
        .filter(|&n| n > 0)
        .collect();
    let cpus = std::thread::available_parallelism().map_or(1, |n| n.get());
    println!("validate and generate, {cpus} CPUs, median of {RUNS} runs after one warm-up\n");
    println!(
        "{:>9} {:>6} {:>13} {:>15} {:>14}",
        "packages", "files", "validate", "per package", "generate env"
    );
    for n in sizes {
        let repo = synthetic_repo(n);
        let layout = Layout::new(repo.path());
        let files = strata_testkit::read_tree(&repo.join("config/packages")).len();
        let report = validate(&layout, &Target::ALL);
        assert!(
            !report.has_errors(),
            "the synthetic repository is valid: {:#?}",
            &report.diagnostics[..3.min(report.diagnostics.len())]
        );
        assert_eq!(report.checked.packages, n);
        let v = median(|| {
            std::hint::black_box(validate(&layout, &Target::ALL));
        });
        let env = EnvironmentId::new("production").unwrap();
        let pkg = PackageId::new("core").unwrap();
        let opts = GenerateOptions {
            skip_validate: false,
            generated_at: Some(0),
        };
        let g = median(|| {
            generate(&layout, &env, &pkg, &opts).expect("generate works");
        });
        println!(
            "{n:>9} {files:>6} {:>10.1} ms {:>12.3} ms {:>11.1} ms",
            ms(v),
            ms(v) / n as f64,
            ms(g)
        );
    }
}

const RUNS: usize = 9;

fn median(mut f: impl FnMut()) -> Duration {
    f();
    let mut times: Vec<Duration> = (0..RUNS)
        .map(|_| {
            let start = Instant::now();
            f();
            start.elapsed()
        })
        .collect();
    times.sort();
    times[RUNS / 2]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// The sample repository plus `n - 1` copies of `core` (`core-0001`, …), locked.
fn synthetic_repo(n: usize) -> TempDir {
    let repo = strata_testkit::sample_repo();
    for i in 1..n {
        strata_testkit::copy_package(repo.path(), "core", &format!("core-{i:04}"));
    }
    let layout = Layout::new(repo.path());
    let (defs, _) = load_definitions(&layout);
    let (packages, _) = load_all_packages(&layout, &defs, Depth::Manifest);
    let (lock, _) = plan_lock_for(&layout, &packages).expect("a fresh lock plans");
    std::fs::write(repo.join("config/packages.lock"), render_lock(&lock)).unwrap();
    repo
}
