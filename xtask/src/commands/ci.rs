//! `cargo xtask ci`: everything CI checks, in the order that fails fastest.

use std::path::PathBuf;
use std::time::Instant;

use anyhow::Context as _;
use strata_config::Layout;
use strata_exec::{Command, ExecError, RunOptions, run as exec};

use crate::Exit;
use crate::cli::CiArgs;
use crate::ui::Ui;

pub(crate) fn run(layout: &Layout, args: &CiArgs, ui: &Ui) -> anyhow::Result<Exit> {
    let root = layout.root();
    let cargo = std::env::var_os("CARGO").map_or_else(|| PathBuf::from("cargo"), PathBuf::from);
    let xtask = std::env::current_exe().context("failed to find the running xtask binary")?;
    let root_arg = root.to_string_lossy().into_owned();
    prepare_system_packages(root, ui)?;
    let tools = prepare_tools(root, ui)?;
    let path = match std::env::var_os("PATH") {
        Some(p) => format!("{}:{}", tools.display(), p.to_string_lossy()),
        None => tools.display().to_string(),
    };
    let tests = Command::new(&cargo, root)
        .args(["test", "--workspace", "--locked"])
        .env("PATH", path);
    let tests = if args.allow_missing_tools {
        tests
    } else {
        tests.env("STRATA_REAL_TOOLS", "1")
    };
    let steps = [
        (
            "format",
            Command::new(&cargo, root).args(["fmt", "--all", "--", "--check"]),
        ),
        (
            "clippy",
            Command::new(&cargo, root).args([
                "clippy",
                "--workspace",
                "--all-targets",
                "--locked",
                "--",
                "-D",
                "warnings",
            ]),
        ),
        ("tests", tests),
        (
            "validate",
            Command::new(&xtask, root).args(["validate", "--root", &root_arg]),
        ),
        (
            "main command",
            Command::new(&xtask, root).args([
                "deploy",
                "--env",
                "development",
                "--dry-run",
                "--root",
                &root_arg,
            ]),
        ),
    ];
    let mut summary = Vec::new();
    for (name, cmd) in &steps {
        ui.note(&ui.bold(&format!("==> {name}: {}", cmd.display())));
        let started = Instant::now();
        let outcome = exec(
            cmd,
            &RunOptions {
                inherit_output: true,
                ..RunOptions::default()
            },
        );
        let secs = started.elapsed().as_secs_f64();
        match outcome {
            Ok(_) => summary.push(format!("{} {name} ({secs:.1}s)", ui.ok("ok"))),
            Err(e @ ExecError::Failed { .. }) => {
                summary.push(format!("{} {name} ({secs:.1}s)", ui.bad("FAILED")));
                print_summary(ui, &summary);
                ui.error(&format!("ci step `{name}` failed: {e}"), None);
                return Ok(Exit::Failed);
            }
            Err(e) => return Err(e).with_context(|| format!("ci step `{name}` could not run")),
        }
    }
    print_summary(ui, &summary);
    ui.result(&format!("{} every CI step passed", ui.ok("ci:")));
    Ok(Exit::Success)
}

fn print_summary(ui: &Ui, lines: &[String]) {
    ui.note("");
    for l in lines {
        ui.note(&format!("  {l}"));
    }
}

/// The Debian packages the real-tool tests use (TESTING.md): openssh-server for the SSH
/// "hosts", cloud-image-utils for NoCloud seeds (with genisoimage's isoinfo to read them back),
/// packer for the packer builder. Installed with apt-get when missing and running as root;
/// otherwise the tests say what is missing.
fn prepare_system_packages(root: &std::path::Path, ui: &Ui) -> anyhow::Result<()> {
    const PACKAGES: [(&str, &str); 4] = [
        ("/usr/sbin/sshd", "openssh-server"),
        ("/usr/bin/cloud-localds", "cloud-image-utils"),
        ("/usr/bin/isoinfo", "genisoimage"),
        ("/usr/bin/packer", "packer"),
    ];
    let missing: Vec<&str> = PACKAGES
        .iter()
        .filter(|(file, _)| !std::path::Path::new(file).exists())
        .map(|(_, package)| *package)
        .collect();
    if missing.is_empty() {
        return Ok(());
    }
    let is_root = std::fs::read_to_string("/proc/self/status").is_ok_and(|s| {
        s.lines()
            .any(|l| l.starts_with("Uid:") && l.split_whitespace().nth(1) == Some("0"))
    });
    if !is_root {
        ui.warning(
            &format!("missing for the real-tool tests: {}", missing.join(", ")),
            Some(&format!(
                "run `sudo apt-get install -y {}`",
                missing.join(" ")
            )),
        );
        return Ok(());
    }
    ui.note(&ui.bold(&format!(
        "==> tools: installing {} (apt-get)",
        missing.join(", ")
    )));
    let quiet = RunOptions {
        tail_lines: 30,
        ..RunOptions::default()
    };
    let install = Command::new("apt-get", root)
        .args(["install", "-y", "-q", "--no-install-recommends"])
        .args(missing.iter().copied())
        .env("DEBIAN_FRONTEND", "noninteractive");
    if exec(&install, &quiet).is_err() {
        // A fresh machine has no package lists yet.
        let update = Command::new("apt-get", root)
            .args(["update", "-q"])
            .env("DEBIAN_FRONTEND", "noninteractive");
        exec(&update, &quiet).context("apt-get update failed")?;
        exec(&install, &quiet).context("apt-get install failed")?;
    }
    Ok(())
}

/// The Python tools the real-tool tests use (TESTING.md), in a venv under `target/ci-tools/`,
/// each installed from PyPI when missing: ansible-core, and helm-python-sdk (the real Helm
/// engine the chart tests render with). Returns the venv's `bin`, to put first on `PATH`.
fn prepare_tools(root: &std::path::Path, ui: &Ui) -> anyhow::Result<PathBuf> {
    let venv = root.join("target/ci-tools/venv");
    let bin = venv.join("bin");
    let has_module = |module: &str| {
        std::fs::read_dir(venv.join("lib")).is_ok_and(|dirs| {
            dirs.flatten()
                .any(|d| d.path().join("site-packages").join(module).is_dir())
        })
    };
    let wanted: Vec<&str> = [
        (
            bin.join("ansible-playbook").is_file(),
            "ansible-core>=2.19,<2.20",
        ),
        (has_module("helm_python"), "helm-python-sdk==0.2.2"),
    ]
    .into_iter()
    .filter(|(present, _)| !present)
    .map(|(_, spec)| spec)
    .collect();
    if wanted.is_empty() {
        return Ok(bin);
    }
    let quiet = RunOptions {
        tail_lines: 30,
        ..RunOptions::default()
    };
    if !bin.join("pip").is_file() {
        let make = Command::new("python3", root)
            .args(["-m", "venv"])
            .arg(venv.display().to_string());
        exec(&make, &quiet)
            .context("failed to create the tools venv (is python3 with venv installed?)")?;
    }
    ui.note(&ui.bold(&format!(
        "==> tools: installing {} into target/ci-tools/venv (pip)",
        wanted.join(", ")
    )));
    let pip = Command::new(bin.join("pip"), root)
        .args(["install", "--quiet", "--disable-pip-version-check"])
        .args(wanted.iter().copied());
    exec(&pip, &quiet).context("failed to install the test tools from PyPI")?;
    Ok(bin)
}
