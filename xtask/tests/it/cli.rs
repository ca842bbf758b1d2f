//! The command line itself: help, output formats, targets, the lock workflow, doctor.

use strata_metadata::output::{
    DoctorOutput, Failure, LockOutput, Refusal, Severity, ToolStatus, ValidateOutput,
};

use crate::support::{command, document, edit, read, snapshot_filters, write, xtask, xtask_env};

#[test]
fn help_reads_well() {
    let root = strata_testkit::workspace_root();
    for args in [
        &["--help"][..],
        &["validate", "--help"],
        &["generate", "env", "--help"],
        &["bundle", "verify", "--help"],
        &["config", "lock", "--help"],
        &["doctor", "--help"],
        &["ci", "--help"],
    ] {
        let run = xtask(&root, args);
        assert_eq!(run.code, 0, "{args:?}: {}", run.stderr);
        let name = format!("help_{}", args[..args.len() - 1].join("_"))
            .trim_end_matches('_')
            .to_owned();
        insta::assert_snapshot!(name, run.stdout);
    }
}

#[test]
fn bad_arguments_exit_2() {
    let repo = strata_testkit::sample_repo();
    for args in [
        &["generate", "env", "--id", "Dev", "--config", "core"][..],
        &[
            "generate",
            "env",
            "--id",
            "development",
            "--config",
            "../core",
        ],
        &["bundle", "verify", "--env", &"x".repeat(200)],
        &["validate", "--target", "everything"],
        &["frobnicate"],
    ] {
        let run = xtask(repo.path(), args);
        assert_eq!(run.code, 2, "{args:?}: {}", run.stderr);
        assert!(run.stderr.starts_with("error:"), "{args:?}: {}", run.stderr);
    }
    let _filters = snapshot_filters(repo.path());
    insta_cmd::assert_cmd_snapshot!(
        "generate_unknown_package",
        command(
            repo.path(),
            &["generate", "env", "--id", "development", "--config", "kore"]
        )
    );
}

#[test]
fn validate_clean_sample_with_each_target() {
    let repo = strata_testkit::sample_repo();
    let mut lines = Vec::new();
    for target in [
        None,
        Some("definitions"),
        Some("packages"),
        Some("environments"),
    ] {
        let mut args = vec!["validate"];
        if let Some(t) = target {
            args.extend(["--target", t]);
        }
        let run = xtask(repo.path(), &args);
        assert_eq!(run.code, 0, "{args:?}: {}", run.stderr);
        lines.push(run.render(&args, repo.path()));
    }
    insta::assert_snapshot!("validate_targets", lines.join("\n"));
}

#[test]
fn a_target_reports_only_its_own_part() {
    let repo = strata_testkit::sample_repo();
    let root = repo.path();
    edit(
        root,
        "infrastructure/environments/staging.yaml",
        "configPackage: core",
        "configPackage: kore",
    );
    assert_eq!(xtask(root, &["validate", "--target", "packages"]).code, 0);
    assert_eq!(
        xtask(root, &["validate", "--target", "definitions"]).code,
        0
    );
    let run = xtask(root, &["validate", "--target", "environments"]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr
            .contains("infrastructure/environments/staging.yaml"),
        "{}",
        run.stderr
    );
}

#[test]
fn validate_json_lists_every_problem() {
    let repo = strata_testkit::sample_repo();
    let root = repo.path();
    edit(
        root,
        "config/packages/core/environments/staging.platform.yaml",
        "      - cert-manager\n",
        "      - cert-manger\n",
    );
    edit(
        root,
        "container-orchestration/environments/production.yaml",
        "configPackage: core",
        "configPackage: nope",
    );
    let run = xtask(root, &["validate", "--output", "json"]);
    assert_eq!(run.code, 2);
    let v: ValidateOutput = document(&run);
    assert!(!v.ok);
    assert_eq!(v.errors, 2, "both problems, not just the first: {v:#?}");
    assert!(v.checked.definitions);
    insta::assert_snapshot!(
        "validate_json",
        serde_json::to_string_pretty(&v.diagnostics).unwrap()
    );
    assert!(
        run.stderr
            .lines()
            .all(|l| !l.starts_with("error: validation failed")),
        "JSON mode keeps stderr for problems only"
    );
}

#[test]
fn legacy_group_names_warn_but_pass() {
    let repo = strata_testkit::sample_repo();
    let root = repo.path();
    let hosts = "config/packages/core/kubespray/inventory/pn-staging/hosts.yaml";
    let text = read(root, hosts).replace("k8s_cluster:", "k8s-cluster:");
    write(root, hosts, text);
    // The content changed, so record a bump first: this test is about the warning.
    edit(
        root,
        "config/packages/core/package.json",
        "\"0.2.0\"",
        "\"0.2.1\"",
    );
    assert_eq!(xtask(root, &["config", "lock"]).code, 0);
    let run = xtask(root, &["validate"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stderr
            .contains("warning: config/packages/core/kubespray/inventory/pn-staging/hosts.yaml"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("rename it to `k8s_cluster`"),
        "{}",
        run.stderr
    );
    let quiet = xtask(root, &["validate", "-q"]);
    assert_eq!(
        (quiet.code, quiet.stdout.as_str(), quiet.stderr.as_str()),
        (0, "", "")
    );
}

/// The version-bump rule end to end: edit, refuse, bump, lock, pass.
#[test]
fn version_bump_workflow() {
    let repo = strata_testkit::sample_repo();
    let root = repo.path();
    let mut transcript = Vec::new();
    let mut step = |args: &[&str], want: i32| {
        let run = xtask(root, args);
        assert_eq!(run.code, want, "{args:?}: {}{}", run.stdout, run.stderr);
        transcript.push(run.render(args, root));
    };
    step(&["config", "lock", "--check"], 0);
    edit(
        root,
        "config/packages/core/environments/development.terraform.tfvars",
        "vlan_id            = 110",
        "vlan_id            = 115",
    );
    step(&["validate", "--target", "packages"], 2);
    step(&["config", "lock"], 2);
    edit(
        root,
        "config/packages/core/package.json",
        "\"0.2.0\"",
        "\"0.3.0\"",
    );
    step(&["validate", "--target", "packages"], 2);
    step(&["config", "lock", "--check"], 1);
    // The JSON says what the exit code says: an out-of-date lock under `--check` is not ok.
    let check = xtask(root, &["config", "lock", "--check", "--output", "json"]);
    assert_eq!(check.code, 1);
    assert_eq!(
        document::<LockOutput>(&check),
        LockOutput {
            ok: false,
            check: true,
            changes: vec!["would record core 0.2.0 -> 0.3.0".to_owned()],
        }
    );
    step(&["config", "lock"], 0);
    let current = xtask(root, &["config", "lock", "--check", "--output", "json"]);
    assert_eq!(
        (current.code, document::<LockOutput>(&current).ok),
        (0, true)
    );
    step(&["validate", "--target", "packages"], 0);
    edit(
        root,
        "config/packages/core/package.json",
        "\"0.3.0\"",
        "\"0.2.5\"",
    );
    step(&["config", "lock"], 2);
    insta::assert_snapshot!("version_bump_workflow", transcript.join("\n"));
    let lock = read(root, "config/packages.lock");
    assert!(lock.contains("\"version\": \"0.3.0\""), "{lock}");
}

#[test]
fn lock_drops_removed_packages() {
    let repo = strata_testkit::sample_repo();
    let root = repo.path();
    strata_testkit::copy_package(root, "core", "edge");
    let run = xtask(root, &["config", "lock"]);
    assert!(
        run.stdout.contains("recorded edge 0.2.0 (new)"),
        "{}",
        run.stdout
    );
    std::fs::remove_dir_all(root.join("config/packages/edge")).unwrap();
    let run = xtask(root, &["validate", "--target", "packages"]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr
            .contains("the lock records package `edge`, which no longer exists"),
        "{}",
        run.stderr
    );
    let run = xtask(root, &["config", "lock"]);
    assert!(
        run.stdout.contains("dropped edge (package removed)"),
        "{}",
        run.stdout
    );
    assert_eq!(xtask(root, &["validate"]).code, 0);
}

/// `doctor` finds tools through PATH and the STRATA_* overrides, and says what is missing.
#[test]
fn doctor_lists_tools_found_and_missing() {
    let repo = strata_testkit::sample_repo();
    let bin = strata_testkit::TempDir::new("bin");
    strata_testkit::stand_in(
        bin.path(),
        "tofu",
        "OpenTofu v1.8.3\non linux_amd64\n",
        "",
        0,
    );
    strata_testkit::stand_in(bin.path(), "podman", "podman version 5.2.2\n", "", 0);
    strata_testkit::stand_in(bin.path(), "my-helm", "v3.16.2+g13654a5\n", "", 0);
    strata_testkit::stand_in(bin.path(), "qemu-img", "qemu-img version 10.0.2\n", "", 0);
    strata_testkit::stand_in(
        bin.path(),
        "kubectl",
        "",
        "kubectl: cannot reach anything\n",
        3,
    );
    let path = bin.path().display().to_string();
    let helm = bin.join("my-helm").display().to_string();
    let env = [
        ("PATH", path.as_str()),
        ("STRATA_HELM", helm.as_str()),
        ("STRATA_PACKER", ""),
    ];
    let run = xtask_env(repo.path(), &["doctor"], &env);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let shown = run.stdout.replace(&path, "[BIN]");
    insta::assert_snapshot!("doctor", shown);
    let calls = strata_testkit::stand_in_calls(bin.path(), "tofu");
    assert_eq!(calls[0][1..], ["version"], "tofu is asked with `version`");

    let json = xtask_env(repo.path(), &["doctor", "--output", "json"], &env);
    let v: DoctorOutput = document(&json);
    assert_eq!(v.tools[0].version.as_deref(), Some("1.8.3"));
    assert!(v.tools[3].from_override);
    assert_eq!(v.tools[2].status, ToolStatus::Missing);
    assert_eq!(v.tools[2].path, None);

    let bad = xtask_env(
        repo.path(),
        &["doctor"],
        &[
            ("PATH", path.as_str()),
            ("STRATA_TERRAFORM", "/nowhere/terraform"),
        ],
    );
    assert!(
        bad.stdout
            .contains("STRATA_TERRAFORM is set to `/nowhere/terraform`"),
        "{}",
        bad.stdout
    );
}

/// The lock vouches for content: a package that fails validation is never recorded.
#[test]
fn lock_refuses_invalid_packages() {
    let repo = strata_testkit::sample_repo();
    let root = repo.path();
    let tfvars = "config/packages/core/environments/development.terraform.tfvars";
    let t = read(root, tfvars);
    write(
        root,
        tfvars,
        t + "proxmox_api_token = \"root@pam!ci=very-secret-value\"\n",
    );
    edit(
        root,
        "config/packages/core/package.json",
        "\"0.2.0\"",
        "\"0.2.1\"",
    );
    let before = read(root, "config/packages.lock");
    let run = xtask(root, &["config", "lock"]);
    assert_eq!(run.code, 2, "{}", run.stdout);
    assert!(
        run.stderr.contains("secret-in-package") || run.stderr.contains("holds a secret value"),
        "{}",
        run.stderr
    );
    assert!(!run.stderr.contains("very-secret-value"));
    let json = xtask(root, &["config", "lock", "--output", "json"]);
    assert_eq!(json.code, 2);
    let refused: Refusal = document(&json);
    assert!(
        refused
            .diagnostics
            .iter()
            .any(|d| d.code == "secret-in-package" && d.severity == Severity::Error),
        "{refused:#?}"
    );
    assert!(!json.stdout.contains("very-secret-value"));
    assert_eq!(
        read(root, "config/packages.lock"),
        before,
        "the lock is untouched"
    );
}

#[test]
fn lock_refuses_when_definitions_are_broken() {
    let repo = strata_testkit::sample_repo();
    std::fs::remove_file(repo.join("api/definitions/roles.yaml")).unwrap();
    let run = xtask(repo.path(), &["config", "lock"]);
    assert_eq!(run.code, 2, "{}", run.stdout);
    assert!(
        run.stderr
            .contains("api/definitions/roles.yaml:1:1: file does not exist"),
        "{}",
        run.stderr
    );
}

/// `--output json` prints one JSON document on stdout whatever happens.
#[test]
fn json_output_is_json_even_on_failure() {
    let repo = strata_testkit::sample_repo();
    let root = repo.path();
    let no_bundle = xtask(
        root,
        &["bundle", "verify", "--env", "staging", "--output", "json"],
    );
    let failure: Failure = document(&no_bundle);
    assert_eq!((no_bundle.code, failure.ok), (2, false));
    assert_eq!(failure.error, "no bundle at `api/outputs/staging`");
    assert!(failure.hint.unwrap().contains("generate env --id staging"));
    let unknown_package = xtask(
        root,
        &[
            "generate",
            "env",
            "--id",
            "development",
            "--config",
            "kore",
            "--output",
            "json",
        ],
    );
    let refused: Refusal = document(&unknown_package);
    assert_eq!(unknown_package.code, 2);
    assert!(!refused.diagnostics.is_empty());
    assert!(document::<ValidateOutput>(&xtask(root, &["validate", "--output", "json"])).ok);
    document::<DoctorOutput>(&xtask(root, &["doctor", "--output", "json"]));
    let bad = xtask_env(
        repo.path(),
        &[
            "generate",
            "env",
            "--id",
            "development",
            "--config",
            "core",
            "--output",
            "json",
        ],
        &[("SOURCE_DATE_EPOCH", "soon")],
    );
    let v: Failure = document(&bad);
    assert_eq!((bad.code, v.ok), (2, false));
    assert!(v.error.contains("SOURCE_DATE_EPOCH"));
}

/// The README's main command, as the README writes it, works on a fresh copy of the sample.
#[test]
fn the_readme_main_command_works() {
    let readme =
        std::fs::read_to_string(strata_testkit::workspace_root().join("README.md")).unwrap();
    let line = readme
        .lines()
        .find(|l| l.starts_with("cargo xtask ") && l.contains("# the main job"))
        .expect("the README names its main command");
    let args: Vec<&str> = line["cargo xtask ".len()..]
        .split('#')
        .next()
        .unwrap()
        .split_whitespace()
        .collect();
    assert!(
        args.contains(&"--dry-run"),
        "the main command is a dry run: {line}"
    );
    let repo = strata_testkit::sample_repo();
    let run = crate::support::xtask(repo.path(), &args);
    assert_eq!(run.code, 0, "{line}\n{}\n{}", run.stdout, run.stderr);
}

/// `api/bin/api`, the old CLI's name, says the new command and runs it.
#[test]
fn the_old_api_wrapper_forwards_to_xtask() {
    let repo = strata_testkit::sample_repo();
    let api = strata_testkit::workspace_root().join("api/bin/api");
    let run = |args: &[&str]| {
        #[expect(
            clippy::disallowed_methods,
            reason = "the test runs the wrapper as a user would"
        )]
        let out = std::process::Command::new(&api)
            .args(args)
            .env("STRATA_XTASK", env!("CARGO_BIN_EXE_xtask"))
            .env("STRATA_ROOT", repo.path())
            .env("NO_COLOR", "1")
            .output()
            .unwrap();
        (
            out.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let (code, _, stderr) = run(&["validate", "--target", "definitions"]);
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stderr.starts_with("api: this is now `cargo xtask validate --target definitions`"),
        "{stderr}"
    );
    let (code, stdout, stderr) =
        run(&["generate", "env", "--id", "development", "--config", "core"]);
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stdout.contains("generated api/outputs/development from core@0.2.0"),
        "{stdout}"
    );
    assert!(repo.join("api/outputs/development/metadata.json").is_file());
    let (code, _, stderr) = run(&["deploy"]);
    assert_eq!(code, 2);
    assert!(
        stderr.contains("docs/migration/modular-refactor.md"),
        "{stderr}"
    );
}
