//! How validate, generate and planning a deploy scale with the number of packages.
//!
//! Builds synthetic repositories from the sample `core` package (copied under new ids, each
//! with its three environments, recorded in the lock) and times, in process:
//! - full validation (definitions, every package and file, the lock, the selectors);
//! - generating one environment's bundle, which validates its own package only;
//! - planning a deploy of that environment as `cargo xtask deploy` does before it runs
//!   anything: open the bundle, read `.strata/<env>/state.json`, and compute every phase's
//!   inputs and digest. The state records every phase as succeeded with today's inputs, so
//!   every phase comes out up to date: the no-op deploy.
//!
//! With `--xtask PATH` (what `cargo xtask bench` passes: the binary `cargo xtask` runs, built
//! with the dev profile) it also times that binary as a user runs it, spawned on the same
//! repository: `validate --root REPO`, `status --env production` (planning every phase) and a
//! no-op `deploy --env production --to generate`; and, at the largest size, the bash+jq peer
//! `benches/peer/validate.sh`, which checks much less (its header says what), with the ratio.
//!
//! Run with `cargo xtask bench` (or `cargo bench -p strata-bundle --bench repository --
//! --packages 300 [--xtask target/debug/xtask]`). Figures are recorded in docs/performance.md.

// A benchmark reports its figures on stdout.
#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use strata_bundle::{Bundle, GenerateOptions, generate};
use strata_config::{
    Depth, Layout, Target, load_all_packages, load_definitions, plan_lock_for, render_lock,
    validate,
};
use strata_metadata::Phase;
use strata_metadata::{EnvironmentId, PackageId, PhaseStatus, PipelineState};
use strata_pipeline::{PhaseInputs, freshness, read_state, write_state};
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
    let xtask: Option<PathBuf> = args
        .iter()
        .position(|a| a == "--xtask")
        .and_then(|i| args.get(i + 1))
        .map(PathBuf::from);
    let mut users = Vec::new();
    let cpus = std::thread::available_parallelism().map_or(1, |n| n.get());
    println!("validate, generate and plan, {cpus} CPUs, median of {RUNS} runs after one warm-up\n");
    println!(
        "{:>9} {:>6} {:>13} {:>15} {:>14} {:>13}",
        "packages", "files", "validate", "per package", "generate env", "plan deploy"
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
        let recorded = record_every_phase(&layout, env.as_str());
        assert_eq!(
            plan(&layout, env.as_str()),
            recorded,
            "every phase that applies is up to date"
        );
        let p = median(|| {
            std::hint::black_box(plan(&layout, env.as_str()));
        });
        println!(
            "{n:>9} {files:>6} {:>10.1} ms {:>12.3} ms {:>11.1} ms {:>10.1} ms",
            ms(v),
            ms(v) / n as f64,
            ms(g),
            ms(p)
        );
        if let Some(xtask) = &xtask {
            users.push(users_path(xtask, repo.path(), n, n == largest));
        }
    }
    if let Some(xtask) = &xtask {
        println!(
            "\nthe binary `cargo xtask` runs ({}), spawned; median of {RUNS} runs after one \
             warm-up (the peer: {PEER_RUNS} runs, largest size only)\n",
            xtask.display()
        );
        println!(
            "{:>9} {:>13} {:>13} {:>13} {:>15} {:>13}",
            "packages", "validate", "peer", "peer/strata", "status (plan)", "no-op deploy"
        );
        for u in users {
            let (peer, ratio) = u.peer.map_or(("-".to_owned(), "-".to_owned()), |p| {
                (
                    format!("{:.0} ms", ms(p)),
                    format!("{:.1}x", ms(p) / ms(u.validate)),
                )
            });
            println!(
                "{:>9} {:>10.1} ms {peer:>13} {ratio:>13} {:>12.1} ms {:>10.1} ms",
                u.packages,
                ms(u.validate),
                ms(u.status),
                ms(u.deploy)
            );
        }
    }
}

const PEER_RUNS: usize = 3;

/// Medians for the user's binary on one repository.
struct UsersPath {
    packages: usize,
    validate: Duration,
    status: Duration,
    deploy: Duration,
    peer: Option<Duration>,
}

/// Times `xtask` spawned on `repo` (whose state records every phase, so the deploy is a
/// no-op), and the bash+jq peer when `with_peer`.
fn users_path(xtask: &Path, repo: &Path, packages: usize, with_peer: bool) -> UsersPath {
    let root = repo.to_str().expect("the temp dir is UTF-8");
    let validate = median(|| spawn(xtask.as_os_str(), &["validate", "--root", root]));
    let status = median(|| {
        spawn(
            xtask.as_os_str(),
            &["status", "--env", "production", "--root", root],
        )
    });
    let deploy = median(|| {
        spawn(
            xtask.as_os_str(),
            &[
                "deploy",
                "--env",
                "production",
                "--to",
                "generate",
                "--root",
                root,
            ],
        )
    });
    let peer = with_peer.then(|| {
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("benches/peer/validate.sh");
        let mut times: Vec<Duration> = (0..PEER_RUNS)
            .map(|_| {
                let start = Instant::now();
                spawn("bash".as_ref(), &[script.to_str().expect("UTF-8"), root]);
                start.elapsed()
            })
            .collect();
        times.sort();
        times[PEER_RUNS / 2]
    });
    UsersPath {
        packages,
        validate,
        status,
        deploy,
        peer,
    }
}

/// Runs `program args` to completion, output discarded; it must succeed.
fn spawn(program: &std::ffi::OsStr, args: &[&str]) {
    #[expect(
        clippy::disallowed_methods,
        reason = "benchmark: times the user's binary and the peer script as processes"
    )]
    let out = std::process::Command::new(program)
        .args(args)
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("`{}` starts: {e}", program.to_string_lossy()));
    assert!(
        out.status.success(),
        "`{} {}` failed ({}): {}",
        program.to_string_lossy(),
        args.join(" "),
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
}

const RUNS: usize = 9;

/// What `cargo xtask deploy` decides before it runs a phase: opens the bundle, reads the state,
/// and computes each phase's inputs (with the recorded digests of the phases it needs) and
/// digest. Returns how many phases are up to date.
///
/// It plans without tool identities (`&[]` where the engine passes `phase_tools(phase)`):
/// which tools a phase runs is strata-deploy's knowledge, and this crate cannot depend on it
/// (strata-deploy builds on strata-bundle). A tool's identity is one `stat` of one file, nothing
/// next to the folders and bundle files timed here.
fn plan(layout: &Layout, env: &str) -> usize {
    let state = read_state(&layout.state_dir(env));
    let bundle = Bundle::open(&layout.bundle_dir(env)).ok();
    Phase::ALL
        .into_iter()
        .filter(|&phase| {
            PhaseInputs::read(layout, bundle.as_ref(), &state, phase, &[]).is_ok_and(|now| {
                freshness(
                    state.phases.get(phase.name()),
                    &now,
                    phase,
                    &BTreeSet::new(),
                )
                .is_up_to_date()
            })
        })
        .count()
}

/// Writes the state a deploy leaves when every phase that applies succeeded with today's
/// inputs; returns how many phases it recorded.
fn record_every_phase(layout: &Layout, env: &str) -> usize {
    let state_dir = layout.state_dir(env);
    let bundle = Bundle::open(&layout.bundle_dir(env)).expect("the bundle was just generated");
    let mut state = PipelineState::default();
    // In graph order, so a phase's needs are recorded before its own digest is computed.
    for phase in Phase::ALL {
        let Ok(inputs) = PhaseInputs::read(layout, Some(&bundle), &state, phase, &[]) else {
            continue;
        };
        let record = inputs.record(
            PhaseStatus::Succeeded,
            "1970-01-01T00:00:00Z".to_owned(),
            0.0,
            "bench",
        );
        state.phases.insert(phase.name().to_owned(), record);
    }
    write_state(&state_dir, &state).expect("the state is writable");
    state.phases.len()
}

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
