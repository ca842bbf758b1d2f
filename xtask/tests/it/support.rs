//! Running the built binary against a temporary repository.

use std::path::Path;

use strata_testkit::TempDir;

/// The fixed `SOURCE_DATE_EPOCH` tests generate with: 2026-11-25T09:41:55Z.
pub(crate) const EPOCH: &str = "1795599715";

/// What one run of the binary did.
pub(crate) struct Run {
    pub(crate) code: i32,
    pub(crate) stdout: String,
    pub(crate) stderr: String,
}

impl Run {
    /// `$ args`, the exit code and both streams, with the repository path shown as `[ROOT]` and
    /// timings as `[N]`, for snapshots.
    pub(crate) fn render(&self, args: &[&str], root: &Path) -> String {
        let mut out = format!("$ cargo xtask {}\nexit: {}\n", args.join(" "), self.code);
        if !self.stdout.is_empty() {
            out.push_str(&format!("--- stdout\n{}", self.stdout));
        }
        if !self.stderr.is_empty() {
            out.push_str(&format!("--- stderr\n{}", self.stderr));
        }
        redact(&out, root)
    }
}

pub(crate) fn redact(text: &str, root: &Path) -> String {
    let text = text.replace(&root.display().to_string(), "[ROOT]");
    let mut out = String::with_capacity(text.len());
    // "(12 ms)" and "(0.3s)" vary from run to run.
    let mut rest = text.as_str();
    while let Some(i) = rest.find('(') {
        out.push_str(&rest[..=i]);
        rest = &rest[i + 1..];
        let digits = rest
            .bytes()
            .take_while(|b| b.is_ascii_digit() || *b == b'.')
            .count();
        if digits > 0 && (rest[digits..].starts_with(" ms)") || rest[digits..].starts_with("s)")) {
            out.push_str("[N]");
            rest = &rest[digits..];
        }
    }
    out.push_str(rest);
    out
}

/// Runs the binary with `args` against `root`, colour off, a fixed time, no ambient overrides.
pub(crate) fn xtask(root: &Path, args: &[&str]) -> Run {
    xtask_env(root, args, &[])
}

/// The Proxmox provider's SSH settings every run gets unless a test overrides them (an empty
/// value reads as unset, to the provider and to Strata): the `templates` module imports its
/// disk over SSH, and `infra` refuses to apply it without them.
pub(crate) const PROXMOX_SSH: [(&str, &str); 3] = [
    ("PROXMOX_VE_SSH_USERNAME", "terraform"),
    ("PROXMOX_VE_SSH_AGENT", "true"),
    ("PROXMOX_VE_SSH_AUTH_SOCK", "/run/strata-test/agent.sock"),
];

/// [`xtask`] with extra environment variables.
pub(crate) fn xtask_env(root: &Path, args: &[&str], env: &[(&str, &str)]) -> Run {
    let out = command_env(root, args, env)
        .output()
        .expect("the xtask binary runs");
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// The binary with `args`, run in `root` the way [`xtask`] runs it, for
/// `insta_cmd::assert_cmd_snapshot!` under [`snapshot_filters`]. The repository is the working
/// directory (`STRATA_ROOT=.`), so the command a snapshot records holds no temporary path.
pub(crate) fn command(root: &Path, args: &[&str]) -> std::process::Command {
    let mut cmd = command_env(root, args, &[("STRATA_ROOT", ".")]);
    cmd.current_dir(root);
    cmd
}

fn command_env(root: &Path, args: &[&str], env: &[(&str, &str)]) -> std::process::Command {
    #[expect(
        clippy::disallowed_methods,
        reason = "the test runs the built binary, as a user would"
    )]
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_xtask"));
    cmd.args(args)
        .env("NO_COLOR", "1")
        .env("SOURCE_DATE_EPOCH", EPOCH)
        .env_remove("RUST_LOG")
        .env_remove("KUBECONFIG")
        // A developer's shell may point at a real state database.
        .env_remove("STRATA_STATE_DATABASE_URL")
        .env_remove("PG_CONN_STR")
        .envs(PROXMOX_SSH)
        .envs(env.iter().copied());
    if env.iter().all(|(k, _)| *k != "STRATA_ROOT") {
        cmd.arg("--root").arg(root).env_remove("STRATA_ROOT");
    }
    cmd
}

/// Settings for a snapshot of a run in `root`: the repository's path reads `[ROOT]` and
/// durations `([N] ms)` / `([N]s)`. Keep the guard for as long as the assertion runs.
pub(crate) fn snapshot_filters(root: &Path) -> insta::internals::SettingsBindDropGuard {
    let mut settings = insta::Settings::clone_current();
    settings.add_filter(&regex_escape(&root.display().to_string()), "[ROOT]");
    settings.add_filter(r"\(\d+(\.\d+)? ms\)", "([N] ms)");
    settings.add_filter(r"\(\d+(\.\d+)?s\)", "([N]s)");
    settings.bind_to_scope()
}

fn regex_escape(text: &str) -> String {
    text.chars()
        .flat_map(|c| {
            let special = r"\.+*?()|[]{}^$#&-~".contains(c);
            special.then_some('\\').into_iter().chain([c])
        })
        .collect()
}

/// A copy of the sample repository with the development bundle already generated.
pub(crate) fn repo_with_bundle() -> TempDir {
    let repo = strata_testkit::sample_repo();
    let run = xtask(
        repo.path(),
        &["generate", "env", "--id", "development", "--config", "core"],
    );
    assert_eq!(run.code, 0, "the sample generates: {}", run.stderr);
    repo
}

pub(crate) use strata_testkit::{edit, read, write};

/// Bumps the `core` package's patch version, as a team does after changing it; with `lock`, it
/// also records the bump (`config lock`), which refuses a package that does not validate.
pub(crate) fn bump_package(root: &Path, lock: bool) {
    let manifest = read(root, "config/packages/core/package.json");
    let mut doc: serde_json::Value = serde_json::from_str(&manifest).unwrap();
    let v = doc["version"].as_str().unwrap().to_owned();
    let (head, patch) = v.rsplit_once('.').unwrap();
    doc["version"] = format!("{head}.{}", patch.parse::<u32>().unwrap() + 1).into();
    write(
        root,
        "config/packages/core/package.json",
        serde_json::to_string_pretty(&doc).unwrap(),
    );
    if lock {
        let run = xtask(root, &["config", "lock"]);
        assert_eq!(run.code, 0, "{}", run.stderr);
    }
}

/// `generate env --id development --config core --skip-validate`, which must succeed: the
/// bundle of a repository a test has broken on purpose past validation.
pub(crate) fn generate_unchecked(root: &Path) {
    let run = xtask(
        root,
        &[
            "generate",
            "env",
            "--id",
            "development",
            "--config",
            "core",
            "--skip-validate",
        ],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
}

/// A command's JSON output (kubectl's `-o json`, helm's `-o json`), or a panic that shows it.
pub(crate) fn json(text: &str) -> serde_json::Value {
    serde_json::from_str(text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"))
}

/// A run's `--output json` document as its type in `strata_metadata::output` (or the deploy
/// report): the one JSON document on stdout, whose fields are exactly the type's. An unknown
/// field, a missing one, or a key the type always writes but the command left out fails the
/// test, so the documents and their schemas under `api/schemas/output/` cannot drift apart.
pub(crate) fn document<T>(run: &Run) -> T
where
    T: serde::de::DeserializeOwned + serde::Serialize,
{
    let name = std::any::type_name::<T>();
    let doc: T = serde_json::from_str(&run.stdout).unwrap_or_else(|e| {
        panic!(
            "stdout is not one {name} ({e}):\n{}\n--- stderr\n{}",
            run.stdout, run.stderr
        )
    });
    let printed: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(
        serde_json::to_value(&doc).unwrap(),
        printed,
        "the {name} on stdout has a shape its type does not write"
    );
    doc
}
