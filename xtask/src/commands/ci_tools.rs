//! The real tools `cargo xtask ci` prepares for the tier-2 tests (TESTING.md): Debian packages
//! through apt-get, Python tools in a venv through pip, and Go programs built from the Go module
//! proxy into `target/ci-tools/`. Each is reused when already there, and everything it installs
//! or builds is said, with how long it took.

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context as _, bail};
use strata_exec::{Command, RunOptions, run as exec};

use crate::ui::Ui;

/// Where the tools live, below the repository root.
pub(crate) const CI_TOOLS: &str = "target/ci-tools";

/// What the tests' environment needs from the preparation.
pub(crate) struct Prepared {
    /// Folders to put first on the tests' `PATH`: the venv's `bin` and, when the machine lacks
    /// them, Go-built programs the tests call by name (kubectl).
    pub(crate) path: Vec<PathBuf>,
}

/// A Go program the real-tool tests run, built with the go command from the Go module proxy.
struct GoTool {
    /// Its name under `target/ci-tools/bin/`, which is how the tests find it
    /// (`strata_testkit::ci_tool`).
    name: &'static str,
    /// The module that holds it, at `version`.
    module: &'static str,
    version: &'static str,
    /// The main package.
    package: &'static str,
    /// What a release build sets with `-ldflags -X` (`{version}` stands for the version), so
    /// that the tool's `version` prints what a user's copy prints (and, for kube-apiserver,
    /// what a chart's `kubeVersion` is checked against).
    release_variables: &'static [&'static str],
    /// The version that stands in for the module's local-path `replace` directives (Kubernetes
    /// replaces its staging modules with folders; their published twins are `v0.<minor>.<patch>`).
    /// `None` drops such directives: the requirement they shadow is the published module.
    local_replace_version: Option<&'static str>,
}

/// The Go programs, at the versions the tests are written against. helm-diff and the bpg/proxmox
/// provider would belong here, but the Go module proxy refuses both modules ("403 Forbidden:
/// This module version is not available"), so they cannot be built on these machines.
const GO_TOOLS: [GoTool; 5] = [
    GoTool {
        name: "helm3",
        module: "helm.sh/helm/v3",
        version: "v3.22.0",
        package: "helm.sh/helm/v3/cmd/helm",
        release_variables: &["helm.sh/helm/v3/internal/version.version={version}"],
        local_replace_version: None,
    },
    GoTool {
        name: "helm4",
        module: "helm.sh/helm/v4",
        version: "v4.3.2",
        package: "helm.sh/helm/v4/cmd/helm",
        release_variables: &["helm.sh/helm/v4/internal/version.version={version}"],
        local_replace_version: None,
    },
    GoTool {
        name: "tofu",
        module: "github.com/opentofu/opentofu",
        version: "v1.12.6",
        package: "github.com/opentofu/opentofu/cmd/tofu",
        // Without it, `tofu version` says `v1.12.6-dev`.
        release_variables: &["github.com/opentofu/opentofu/version.dev=no"],
        local_replace_version: None,
    },
    GoTool {
        name: "etcd",
        module: "go.etcd.io/etcd/server/v3",
        version: "v3.6.16",
        package: "go.etcd.io/etcd/server/v3",
        release_variables: &[],
        local_replace_version: None,
    },
    KUBE_APISERVER,
];

/// kube-apiserver, from a wrapper module: Kubernetes replaces its staging modules with folders.
const KUBE_APISERVER: GoTool = GoTool {
    name: "kube-apiserver",
    module: "k8s.io/kubernetes",
    version: "v1.33.13",
    package: "k8s.io/kubernetes/cmd/kube-apiserver",
    release_variables: KUBERNETES_RELEASE_VARIABLES,
    local_replace_version: Some("v0.33.13"),
};

/// What a Kubernetes release build sets (`hack/lib/version.sh`): the version a client and a
/// chart's `kubeVersion` see.
const KUBERNETES_RELEASE_VARIABLES: &[&str] = &[
    "k8s.io/component-base/version.gitVersion={version}",
    "k8s.io/component-base/version.gitMajor=1",
    "k8s.io/component-base/version.gitMinor=33",
    "k8s.io/component-base/version.gitTreeState=clean",
];

/// kubectl, built from the same module as kube-apiserver when the machine has none on `PATH`.
const KUBECTL: GoTool = GoTool {
    name: "kubectl",
    package: "k8s.io/kubernetes/cmd/kubectl",
    ..KUBE_APISERVER
};

/// The Python packages of the venv. ansible-core is held to the range the pinned Kubespray
/// (v2.29.0, `playbooks/ansible_version.yml`) accepts, so the local-runtime tests run the
/// Ansible a real Kubespray checkout runs with.
const PIP_PACKAGES: [&str; 1] = ["ansible-core>=2.17.3,<2.18"];

/// The Debian packages the real-tool tests use, by a file each brings: openssh-server for the
/// SSH "hosts", cloud-image-utils for NoCloud seeds (with genisoimage's isoinfo to read them
/// back), packer for the packer builder, qemu-utils for qemu-img, openssl for the API server's
/// certificates, curl for downloads and uploads. PostgreSQL is checked apart, its programs
/// living in a versioned folder.
const DEBIAN_PACKAGES: [(&str, &str); 7] = [
    ("/usr/sbin/sshd", "openssh-server"),
    ("/usr/bin/cloud-localds", "cloud-image-utils"),
    ("/usr/bin/isoinfo", "genisoimage"),
    ("/usr/bin/packer", "packer"),
    ("/usr/bin/qemu-img", "qemu-utils"),
    ("/usr/bin/openssl", "openssl"),
    ("/usr/bin/curl", "curl"),
];

/// Prepares every tool; a failure stops `ci` before any step runs, unless `allow_missing`
/// (`--allow-missing-tools`), which turns a missing Go toolchain into a warning.
pub(crate) fn prepare(root: &Path, allow_missing: bool, ui: &Ui) -> anyhow::Result<Prepared> {
    debian_packages(root, ui)?;
    let venv_bin = python_tools(root, ui)?;
    let mut path = vec![venv_bin];
    match which("go") {
        Some(go) => {
            for tool in &GO_TOOLS {
                build_go_tool(&go, root, tool, ui)?;
            }
            if which("kubectl").is_none() {
                ui.note("==> tools: no kubectl on PATH: building it for the tests");
                build_go_tool(&go, root, &KUBECTL, ui)?;
                let dir = root.join(CI_TOOLS).join("path");
                link(&root.join(CI_TOOLS).join("bin/kubectl"), &dir.join("kubectl"))?;
                path.push(dir);
            }
        }
        None if allow_missing => ui.warning(
            "go is not on PATH: helm, tofu, etcd and kube-apiserver are not built, and their tests skip",
            Some("install Go 1.26 or newer"),
        ),
        None => bail!(
            "go is not on PATH: the real-tool tests need helm 3 and 4, OpenTofu, etcd and \
             kube-apiserver built from the Go module proxy (install Go 1.26 or newer, or run \
             `cargo xtask ci --allow-missing-tools`)"
        ),
    }
    Ok(Prepared { path })
}

fn which(program: &str) -> Option<PathBuf> {
    std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|dir| dir.join(program))
            .find(|p| p.is_file())
    })
}

fn quiet() -> RunOptions<'static> {
    RunOptions {
        tail_lines: 30,
        ..RunOptions::default()
    }
}

fn debian_packages(root: &Path, ui: &Ui) -> anyhow::Result<()> {
    let mut missing: Vec<&str> = DEBIAN_PACKAGES
        .iter()
        .filter(|(file, _)| !Path::new(file).exists())
        .map(|(_, package)| *package)
        .collect();
    // The test kit starts PostgreSQL from /usr/lib/postgresql/<version>/bin.
    let has_postgres = std::fs::read_dir("/usr/lib/postgresql").is_ok_and(|versions| {
        versions
            .flatten()
            .any(|v| v.path().join("bin/initdb").is_file())
    });
    if !has_postgres {
        missing.push("postgresql");
    }
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
    let started = Instant::now();
    let install = Command::new("apt-get", root)
        .args(["install", "-y", "-q", "--no-install-recommends"])
        .args(missing.iter().copied())
        .env("DEBIAN_FRONTEND", "noninteractive");
    if exec(&install, &quiet()).is_err() {
        // A fresh machine has no package lists yet.
        let update = Command::new("apt-get", root)
            .args(["update", "-q"])
            .env("DEBIAN_FRONTEND", "noninteractive");
        exec(&update, &quiet()).context("apt-get update failed")?;
        exec(&install, &quiet()).context("apt-get install failed")?;
    }
    ui.note(&format!(
        "==> tools: installed in {:.1}s",
        started.elapsed().as_secs_f64()
    ));
    Ok(())
}

/// The venv `target/ci-tools/venv` with [`PIP_PACKAGES`]; a stamp file records what was
/// installed, so a changed pin reinstalls. Returns the venv's `bin`.
fn python_tools(root: &Path, ui: &Ui) -> anyhow::Result<PathBuf> {
    let venv = root.join(CI_TOOLS).join("venv");
    let bin = venv.join("bin");
    let stamp = venv.join("strata-requirements.txt");
    let wanted = PIP_PACKAGES.join("\n") + "\n";
    if std::fs::read_to_string(&stamp).is_ok_and(|s| s == wanted) && bin.join("pip").is_file() {
        return Ok(bin);
    }
    if !bin.join("pip").is_file() {
        let make = Command::new("python3", root)
            .args(["-m", "venv"])
            .arg(&venv);
        exec(&make, &quiet())
            .context("failed to create the tools venv (is python3 with venv installed?)")?;
    }
    ui.note(&ui.bold(&format!(
        "==> tools: installing {} into {CI_TOOLS}/venv (pip)",
        PIP_PACKAGES.join(", ")
    )));
    let started = Instant::now();
    let pip = Command::new(bin.join("pip"), root)
        .args(["install", "--quiet", "--disable-pip-version-check"])
        .args(PIP_PACKAGES);
    exec(&pip, &quiet()).context("failed to install the test tools from PyPI")?;
    std::fs::write(&stamp, wanted).with_context(|| format!("writing {}", stamp.display()))?;
    ui.note(&format!(
        "==> tools: installed in {:.1}s",
        started.elapsed().as_secs_f64()
    ));
    Ok(bin)
}

/// Builds `tool` into `target/ci-tools/go/<name>-<version>/` unless it is there, and points
/// `target/ci-tools/bin/<name>` at it. Go's own module and build caches (outside the checkout)
/// make a rebuild in a fresh clone mostly a link.
fn build_go_tool(go: &Path, root: &Path, tool: &GoTool, ui: &Ui) -> anyhow::Result<()> {
    let tools = root.join(CI_TOOLS);
    let dir = tools
        .join("go")
        .join(format!("{}-{}", tool.name, tool.version));
    let binary = dir.join(tool.name);
    // What the binary was built from; a changed recipe (flags, replaces) builds it again.
    let recipe_file = dir.join("recipe");
    let recipe = format!(
        "{}@{}\n{}\nlocal replaces: {:?}\n",
        tool.package,
        tool.version,
        ldflags(tool),
        tool.local_replace_version
    );
    let current =
        binary.is_file() && std::fs::read_to_string(&recipe_file).is_ok_and(|r| r == recipe);
    if !current {
        ui.note(&ui.bold(&format!(
            "==> tools: building {} ({}@{}) with go",
            tool.name, tool.package, tool.version
        )));
        let started = Instant::now();
        std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
        go_build(go, root, tool, &dir, &binary)
            .with_context(|| format!("failed to build {} {}", tool.name, tool.version))?;
        std::fs::write(&recipe_file, recipe)
            .with_context(|| format!("writing {}", recipe_file.display()))?;
        ui.note(&format!(
            "==> tools: built {} in {:.1}s",
            tool.name,
            started.elapsed().as_secs_f64()
        ));
    }
    link(&binary, &tools.join("bin").join(tool.name))
}

/// `-ldflags`: no symbol tables (smaller, quicker to link), and the release variables.
fn ldflags(tool: &GoTool) -> String {
    tool.release_variables
        .iter()
        .fold("-ldflags=-s -w".to_owned(), |flags, var| {
            format!("{flags} -X {}", var.replace("{version}", tool.version))
        })
}

/// The environment every go command runs with: no cgo (static programs, no C compiler
/// needed), the machine's own toolchain (never one fetched on the fly), and the flags that keep
/// a build reproducible.
fn go_command(go: &Path, cwd: &Path) -> Command {
    Command::new(go, cwd)
        .env("CGO_ENABLED", "0")
        .env("GOTOOLCHAIN", "local")
        .env("GOFLAGS", "-mod=mod -trimpath -buildvcs=false")
}

fn go_build(
    go: &Path,
    root: &Path,
    tool: &GoTool,
    dir: &Path,
    binary: &Path,
) -> anyhow::Result<()> {
    let gomod = module_go_mod(go, root, tool)?;
    let ldflags = ldflags(tool);
    let replaces = gomod["Replace"].as_array().cloned().unwrap_or_default();
    if replaces.is_empty() {
        // `go install module@version` builds the tool exactly as its module declares it.
        let install = go_command(go, root)
            .arg("install")
            .arg(&ldflags)
            .arg(format!("{}@{}", tool.package, tool.version))
            .env("GOBIN", dir);
        exec(&install, &quiet())?;
        // It is named after the package's last path element that is not a major version.
        let built = tool
            .package
            .rsplit('/')
            .find(|p| !is_major_suffix(p))
            .map_or_else(|| binary.to_owned(), |name| dir.join(name));
        if built != binary {
            std::fs::rename(&built, binary)?;
        }
        return Ok(());
    }
    // `go install` refuses a module with `replace` directives: a wrapper module requires the
    // tool's module and repeats them.
    let wrapper = dir.join("wrapper");
    std::fs::create_dir_all(&wrapper)?;
    std::fs::write(wrapper.join("go.mod"), wrapper_go_mod(tool, &gomod))?;
    let build = go_command(go, &wrapper)
        .arg("build")
        .arg(&ldflags)
        .arg("-o")
        .arg(binary)
        .arg(tool.package);
    exec(&build, &quiet())?;
    Ok(())
}

fn is_major_suffix(element: &str) -> bool {
    element.len() > 1
        && element.starts_with('v')
        && element[1..].chars().all(|c| c.is_ascii_digit())
}

/// The tool module's own `go.mod`, as `go mod edit -json` reads it.
fn module_go_mod(go: &Path, root: &Path, tool: &GoTool) -> anyhow::Result<serde_json::Value> {
    let download = go_command(go, root)
        .args(["mod", "download", "-json"])
        .arg(format!("{}@{}", tool.module, tool.version));
    let out = exec(
        &download,
        &RunOptions {
            capture_stdout: true,
            ..quiet()
        },
    )?;
    let info: serde_json::Value =
        serde_json::from_str(&out.stdout).context("`go mod download -json` printed no JSON")?;
    let Some(path) = info["GoMod"].as_str() else {
        bail!(
            "`go mod download -json` named no go.mod for {}",
            tool.module
        );
    };
    let edit = go_command(go, root).args(["mod", "edit", "-json", path]);
    let out = exec(
        &edit,
        &RunOptions {
            capture_stdout: true,
            ..quiet()
        },
    )?;
    serde_json::from_str(&out.stdout).context("`go mod edit -json` printed no JSON")
}

/// The wrapper module's `go.mod`: the tool's `go` and `godebug` lines, a requirement of the
/// tool's module, and its `replace` directives, those that point at a local folder turned into
/// the published module (or dropped, see [`GoTool::local_replace_version`]).
fn wrapper_go_mod(tool: &GoTool, gomod: &serde_json::Value) -> String {
    let mut text = format!(
        "// Written by `cargo xtask ci` to build {} {} (see xtask/src/commands/ci_tools.rs).\nmodule strata.invalid/ci-tools/{}\n\ngo {}\n",
        tool.package,
        tool.version,
        tool.name,
        gomod["Go"].as_str().unwrap_or("1.24")
    );
    for debug in gomod["Godebug"].as_array().into_iter().flatten() {
        if let (Some(k), Some(v)) = (debug["Key"].as_str(), debug["Value"].as_str()) {
            text.push_str(&format!("godebug {k}={v}\n"));
        }
    }
    text.push_str(&format!("\nrequire {} {}\n\n", tool.module, tool.version));
    for r in gomod["Replace"].as_array().into_iter().flatten() {
        let old = r["Old"]["Path"].as_str().unwrap_or_default();
        let old_version = r["Old"]["Version"].as_str();
        let new = r["New"]["Path"].as_str().unwrap_or_default();
        let new_version = r["New"]["Version"].as_str();
        let old = match old_version {
            Some(v) => format!("{old} {v}"),
            None => old.to_owned(),
        };
        match new_version {
            Some(v) => text.push_str(&format!("replace {old} => {new} {v}\n")),
            None => {
                if let Some(v) = tool.local_replace_version {
                    let module = old.split_whitespace().next().unwrap_or_default();
                    text.push_str(&format!("replace {module} => {module} {v}\n"));
                }
            }
        }
    }
    text
}

/// Points `link` at `target` (relative when both are under one folder), replacing what was there.
fn link(target: &Path, link: &Path) -> anyhow::Result<()> {
    let dir = link.parent().expect("a link has a folder");
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let _ = std::fs::remove_file(link);
    std::os::unix::fs::symlink(target, link)
        .with_context(|| format!("linking {} to {}", link.display(), target.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_wrapper_repeats_replaces_and_publishes_local_folders() {
        let gomod = serde_json::json!({
            "Go": "1.24.0",
            "Godebug": [{"Key": "default", "Value": "go1.24"}],
            "Replace": [
                {"Old": {"Path": "k8s.io/api"}, "New": {"Path": "./staging/src/k8s.io/api"}},
                {"Old": {"Path": "github.com/hashicorp/hcl/v2", "Version": "v2.20.1"},
                 "New": {"Path": "github.com/opentofu/hcl/v2", "Version": "v2.20.2-0.2025"}}
            ]
        });
        let text = wrapper_go_mod(&KUBECTL, &gomod);
        assert!(text.contains("\ngo 1.24.0\n"), "{text}");
        assert!(text.contains("godebug default=go1.24\n"), "{text}");
        assert!(
            text.contains("require k8s.io/kubernetes v1.33.13\n"),
            "{text}"
        );
        assert!(
            text.contains("replace k8s.io/api => k8s.io/api v0.33.13\n"),
            "{text}"
        );
        assert!(
            text.contains(
                "replace github.com/hashicorp/hcl/v2 v2.20.1 => github.com/opentofu/hcl/v2 v2.20.2-0.2025\n"
            ),
            "{text}"
        );
        let etcd = &GO_TOOLS[3];
        assert!(!wrapper_go_mod(etcd, &gomod).contains("k8s.io/api =>"));
    }
}
