//! `cargo xtask infra`: staging and the terraform command lines, with a stand-in terraform, and
//! the real terraform on a built-ins-only twin of the Proxmox modules.

use std::path::Path;

use strata_metadata::output::{InfraFailure, InfraOutput, Refusal, Staged};

use crate::support::{document, edit, read, repo_with_bundle, write, xtask, xtask_env};

/// A terraform stand-in: answers `version`, records each call (cwd, environment, arguments), exits with
/// $PLAN_EXIT (default 2, "changes") for plan and $APPLY_EXIT (default 0) for apply.
fn fake_terraform(dir: &Path) -> String {
    let calls = dir.join("calls");
    let body = format!(
        r#"if [ "$1" = version ]; then echo "Terraform v1.11.4"; exit 0; fi
echo "cwd=$PWD automation=$TF_IN_AUTOMATION input=$TF_INPUT data=$TF_DATA_DIR | $*" >> '{}'
case "$2" in
  plan) echo "Plan: 2 to add, 0 to change, 0 to destroy."; exit ${{PLAN_EXIT:-2}} ;;
  apply) if [ "${{APPLY_EXIT:-0}}" != 0 ]; then echo "Error: creating VM 1101: 500 Internal Server Error" >&2; fi; exit ${{APPLY_EXIT:-0}} ;;
esac
exit 0
"#,
        calls.display()
    );
    strata_testkit::script(dir, "terraform", &body)
        .display()
        .to_string()
}

fn calls(dir: &Path, root: &Path) -> String {
    std::fs::read_to_string(dir.join("calls"))
        .unwrap_or_default()
        .replace(&root.display().to_string(), "[ROOT]")
}

#[test]
fn runs_init_plan_apply_per_module_with_per_environment_state() {
    let repo = repo_with_bundle();
    let root = repo.path();
    assert_eq!(
        xtask(
            root,
            &["generate", "env", "--id", "staging", "--config", "core"]
        )
        .code,
        0
    );
    let bin = strata_testkit::TempDir::new("tf");
    let tf = fake_terraform(bin.path());
    for env in ["development", "staging"] {
        let run = xtask_env(root, &["infra", "--env", env], &[("STRATA_TERRAFORM", &tf)]);
        assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
        assert_eq!(
            run.stdout,
            "bootstrap: bundle is current\nimages: applied\ntemplates: applied\nnodes: applied\nansible: skipped (no infrastructure/ansible/playbook.yml)\n"
        );
    }
    insta::assert_snapshot!("infra_calls", calls(bin.path(), root));
    let staged = read(
        root,
        "infrastructure/platforms/proxmox/terraform/nodes/terraform.tfvars",
    );
    assert!(
        staged.starts_with(
            "# Staged by Strata from api/outputs/staging/terraform.tfvars (bundle sha256:"
        ),
        "{staged}"
    );
    assert!(
        staged.contains("stg-cp-1") && !staged.contains("cloud_image_url"),
        "nodes gets only its own variables:\n{staged}"
    );
    let logs = std::fs::read_dir(root.join(".strata/staging/runs"))
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    assert!(
        read(&logs, "nodes.log").contains("Plan: 2 to add"),
        "terraform's output is logged"
    );
}

/// A caller that runs several layer commands as one run (a CI job) hands them its id through
/// `STRATA_RUN_ID`: their logs share that run's folder.
#[test]
fn layer_commands_handed_a_run_id_log_into_its_folder() {
    let repo = repo_with_bundle();
    let root = repo.path();
    let bin = strata_testkit::TempDir::new("tf");
    let tf = fake_terraform(bin.path());
    for phase in ["images", "nodes"] {
        let run = xtask_env(
            root,
            &["infra", "--env", "development", "--phase", phase],
            &[("STRATA_TERRAFORM", &tf), ("STRATA_RUN_ID", "ci-42")],
        );
        assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    }
    let runs: Vec<_> = std::fs::read_dir(root.join(".strata/development/runs"))
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(runs, ["ci-42"]);
    let logs = root.join(".strata/development/runs/ci-42");
    assert!(read(&logs, "images.log").contains("Plan: 2 to add"));
    assert!(read(&logs, "nodes.log").contains("Plan: 2 to add"));
}

#[test]
fn no_changes_means_no_apply() {
    let repo = repo_with_bundle();
    let bin = strata_testkit::TempDir::new("tf");
    let tf = fake_terraform(bin.path());
    let run = xtask_env(
        repo.path(),
        &["infra", "--env", "development", "--phase", "images"],
        &[("STRATA_TERRAFORM", &tf), ("PLAN_EXIT", "0")],
    );
    assert_eq!(
        (run.code, run.stdout.as_str()),
        (0, "images: no changes\n"),
        "{}",
        run.stderr
    );
    let calls = calls(bin.path(), repo.path());
    assert_eq!(calls.lines().count(), 2, "init and plan only:\n{calls}");
    assert!(
        !repo
            .join(".strata/development/plans/images.tfplan")
            .exists()
    );
    let json = xtask_env(
        repo.path(),
        &[
            "infra",
            "--env",
            "development",
            "--phase",
            "images",
            "--output",
            "json",
        ],
        &[("STRATA_TERRAFORM", &tf), ("PLAN_EXIT", "0")],
    );
    let v: InfraOutput = document(&json);
    assert_eq!(v.modules.len(), 1);
    let images = &v.modules[0];
    assert_eq!(
        (images.module.as_str(), images.result.as_str()),
        ("images", "no changes")
    );
    assert_eq!(
        images.staged,
        Some(Staged::Unchanged),
        "staged by the first run"
    );
    assert_eq!(images.commands.as_ref().map(Vec::len), Some(2));
    let logs = v.logs.unwrap();
    assert!(logs.starts_with(".strata/development/runs/"), "{logs}");
}

#[test]
fn a_failed_apply_shows_the_command_status_and_tail_and_keeps_the_plan() {
    let repo = repo_with_bundle();
    let root = repo.path();
    let bin = strata_testkit::TempDir::new("tf");
    let tf = fake_terraform(bin.path());
    // The stand-in does not write a plan file; a real one would. Leave one where terraform would.
    write(root, ".strata/development/plans/templates.tfplan", "plan");
    let args = ["infra", "--env", "development", "--phase", "templates"];
    let run = xtask_env(
        root,
        &args,
        &[("STRATA_TERRAFORM", &tf), ("APPLY_EXIT", "1")],
    );
    assert_eq!(run.code, 1);
    let shown = run
        .stderr
        .replace(&root.display().to_string(), "[ROOT]")
        .replace(&tf, "[TF]");
    let shown: String = shown
        .lines()
        .filter(|l| !l.starts_with("using "))
        .map(|l| format!("{l}\n"))
        .collect();
    insta::assert_snapshot!("infra_apply_failed", redact_run_id(&shown));
    let mut json_args = args.to_vec();
    json_args.extend(["--output", "json"]);
    let json = xtask_env(
        root,
        &json_args,
        &[("STRATA_TERRAFORM", &tf), ("APPLY_EXIT", "1")],
    );
    assert_eq!(json.code, 1);
    let failure: InfraFailure = document(&json);
    assert_eq!(failure.failed.as_deref(), Some("templates"));
    assert_eq!(failure.modules, Some(vec![]), "nothing finished before it");
    assert!(
        failure.error.contains("exited with status 1"),
        "{failure:#?}"
    );
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(root.join(".strata/development/plans/templates.tfplan"))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(
        mode & 0o777,
        0o600,
        "the plan stays for inspection, readable by its owner only"
    );
}

#[test]
fn a_hand_edited_staged_file_stops_the_run_unless_forced() {
    let repo = repo_with_bundle();
    let root = repo.path();
    let bin = strata_testkit::TempDir::new("tf");
    let tf = fake_terraform(bin.path());
    let env = [("STRATA_TERRAFORM", tf.as_str())];
    let args = ["infra", "--env", "development", "--phase", "images"];
    assert_eq!(xtask_env(root, &args, &env).code, 0);
    let staged = "infrastructure/platforms/proxmox/terraform/images/terraform.tfvars";
    edit(
        root,
        staged,
        "image_datastore_id = \"local\"",
        "image_datastore_id = \"nfs\"",
    );
    let run = xtask_env(root, &args, &env);
    assert_eq!(run.code, 2, "{}", run.stderr);
    let shown: String = run
        .stderr
        .lines()
        .filter(|l| !l.starts_with("using "))
        .map(|l| format!("{l}\n"))
        .collect();
    insta::assert_snapshot!("infra_hand_edited", shown);
    assert!(
        read(root, staged).contains("\"nfs\""),
        "the edit is left in place"
    );
    let mut forced = args.to_vec();
    forced.push("--force");
    let run = xtask_env(root, &forced, &env);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stderr
            .contains("overwrote the hand-edited terraform.tfvars (--force)")
    );
    assert!(read(root, staged).contains("image_datastore_id = \"local\""));
}

#[test]
fn dry_run_stages_and_prints_commands_without_terraform() {
    let repo = repo_with_bundle();
    let root = repo.path();
    let args = ["infra", "--env", "development", "--dry-run"];
    // An empty PATH: the dry run works on a machine without terraform.
    let run = xtask_env(root, &args, &[("PATH", "/nonexistent")]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    insta::assert_snapshot!(
        "infra_dry_run",
        run.stdout.replace(&root.display().to_string(), "[ROOT]")
    );
    assert!(
        root.join("infrastructure/platforms/proxmox/terraform/templates/terraform.tfvars")
            .is_file(),
        "staging is a local step and happens"
    );
    assert!(
        !root.join(".strata/development/terraform").exists(),
        "nothing else is written"
    );
}

#[test]
fn infra_needs_a_bundle_and_a_recent_terraform() {
    let repo = strata_testkit::sample_repo();
    let run = xtask(
        repo.path(),
        &["infra", "--env", "development", "--phase", "images"],
    );
    assert_eq!(run.code, 2);
    assert!(
        run.stderr
            .contains("run `cargo xtask infra --env development --phase bootstrap`"),
        "{}",
        run.stderr
    );

    let repo = repo_with_bundle();
    let bin = strata_testkit::TempDir::new("tf");
    let old = strata_testkit::script(bin.path(), "terraform", "echo 'Terraform v1.3.9'\n")
        .display()
        .to_string();
    let run = xtask_env(
        repo.path(),
        &["infra", "--env", "development"],
        &[("STRATA_TERRAFORM", &old)],
    );
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr
            .contains("is version 1.3.9; Strata needs terraform >= 1.5 or tofu >= 1.6"),
        "{}",
        run.stderr
    );
}

/// Tier 2: the real terraform applies the built-ins twin of the Proxmox modules for two
/// environments from one module folder, each into its own state, and a second run changes nothing.
#[test]
fn real_terraform_keeps_environments_apart() {
    for terraform in strata_testkit::terraform_engines() {
        real_terraform_keeps_environments_apart_with(&terraform);
    }
}

fn real_terraform_keeps_environments_apart_with(terraform: &std::path::Path) {
    let repo = twin_repo();
    let root = repo.path();
    let modules = root.join("infrastructure/platforms/proxmox/terraform");
    let tf = terraform.display().to_string();
    let env = [
        ("STRATA_TERRAFORM", tf.as_str()),
        ("TF_CLI_CONFIG_FILE", "/dev/null"),
    ];
    for e in ["development", "staging"] {
        let run = xtask_env(root, &["infra", "--env", e], &env);
        assert_eq!(run.code, 0, "{e}: {}{}", run.stdout, run.stderr);
        assert_eq!(
            run.stdout,
            "bootstrap: bundle is current\nimages: applied\ntemplates: applied\nnodes: applied\nansible: skipped (no infrastructure/ansible/playbook.yml)\n",
            "{e}"
        );
    }
    let dev = read(root, ".strata/development/terraform/nodes.tfstate");
    let stg = read(root, ".strata/staging/terraform/nodes.tfstate");
    assert!(
        dev.contains("dev-cp-1") && !dev.contains("stg-cp-1"),
        "development's state holds only development"
    );
    assert!(
        stg.contains("stg-cp-1") && !stg.contains("dev-cp-1"),
        "staging's state holds only staging"
    );
    assert!(
        !modules.join("nodes/.terraform").exists()
            && !modules.join("nodes/terraform.tfstate").exists(),
        "nothing lands in the shared module folder but the staged tfvars"
    );
    let again = xtask_env(root, &["infra", "--env", "development"], &env);
    assert_eq!(again.code, 0, "{}", again.stderr);
    assert_eq!(
        again.stdout,
        "bootstrap: bundle is current\nimages: no changes\ntemplates: no changes\nnodes: no changes\nansible: skipped (no infrastructure/ansible/playbook.yml)\n"
    );
}

/// Log folders are named after the time and process: `runs/<id>/` becomes `runs/[RUN]/`.
fn redact_run_id(text: &str) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(i) = rest.find("runs/") {
        out.push_str(&rest[..i + 5]);
        rest = &rest[i + 5..];
        out.push_str("[RUN]");
        rest = &rest[rest.find('/').unwrap_or(rest.len())..];
    }
    out.push_str(rest);
    out
}

/// A copy of the sample with both bundles and the built-ins twin in place of the Proxmox modules.
fn twin_repo() -> strata_testkit::TempDir {
    let repo = repo_with_bundle();
    let root = repo.path();
    assert_eq!(
        xtask(
            root,
            &["generate", "env", "--id", "staging", "--config", "core"]
        )
        .code,
        0
    );
    let modules = root.join("infrastructure/platforms/proxmox/terraform");
    std::fs::remove_dir_all(&modules).unwrap();
    strata_testkit::copy_dir(
        &strata_testkit::workspace_root()
            .join("crates/strata-terraform/tests/fixtures/proxmox-builtins"),
        &modules,
    );
    repo
}

/// Tier 2: plan, a refused stale plan, apply-plan, outputs and destroy, with the real terraform.
#[test]
fn real_terraform_plan_apply_plan_outputs_destroy() {
    for terraform in strata_testkit::terraform_engines() {
        real_terraform_plan_apply_plan_outputs_destroy_with(&terraform);
    }
}

fn real_terraform_plan_apply_plan_outputs_destroy_with(terraform: &std::path::Path) {
    let repo = twin_repo();
    let root = repo.path();
    let tf = terraform.display().to_string();
    let env = [
        ("STRATA_TERRAFORM", tf.as_str()),
        ("TF_CLI_CONFIG_FILE", "/dev/null"),
    ];
    let infra = |extra: &[&str]| {
        let mut args = vec!["infra", "--env", "development"];
        args.extend(extra);
        xtask_env(root, &args, &env)
    };

    let planned = infra(&["--plan"]);
    assert_eq!(planned.code, 0, "{}", planned.stderr);
    assert!(planned.stdout.contains("nodes: plan saved to .strata/development/plans/nodes.tfplan: 3 to add, 0 to change, 0 to destroy"), "{}", planned.stdout);
    use std::os::unix::fs::PermissionsExt;
    let plan = root.join(".strata/development/plans/nodes.tfplan");
    assert_eq!(
        std::fs::metadata(&plan).unwrap().permissions().mode() & 0o777,
        0o600
    );
    assert!(
        !root
            .join(".strata/development/terraform/nodes.tfstate")
            .exists()
            || !read(root, ".strata/development/terraform/nodes.tfstate").contains("dev-cp-1"),
        "--plan applies nothing"
    );

    // A module edited after planning: its saved plan no longer says what would happen.
    let main_tf = "infrastructure/platforms/proxmox/terraform/nodes/main.tf";
    let original = read(root, main_tf);
    write(root, main_tf, format!("{original}\n# reviewed\n"));
    let stale = infra(&["--apply-plan", "--phase", "nodes"]);
    assert_eq!(stale.code, 2, "{}", stale.stderr);
    assert!(
        stale
            .stderr
            .contains("the saved plan for module `nodes` was made from other inputs"),
        "{}",
        stale.stderr
    );
    write(root, main_tf, original);

    let applied = infra(&["--apply-plan"]);
    assert_eq!(applied.code, 0, "{}", applied.stderr);
    assert_eq!(
        applied.stdout,
        "bootstrap: bundle is current\nimages: applied\ntemplates: applied\nnodes: applied\n"
    );
    assert!(
        !plan.exists(),
        "an applied plan is removed: it holds secrets in clear text"
    );
    let again = infra(&["--apply-plan", "--phase", "nodes"]);
    assert_eq!(again.code, 2);
    assert!(
        again
            .stderr
            .contains("there is no saved plan for module `nodes`"),
        "{}",
        again.stderr
    );

    let outputs = infra(&["--outputs"]);
    assert_eq!(outputs.code, 0, "{}", outputs.stderr);
    assert_eq!(
        outputs.stdout,
        "  dev-cp-1         10.10.0.11      k8s-control-plane\n  dev-worker-1     10.10.0.21      k8s-worker\n  dev-worker-2     10.10.0.22      k8s-worker\nnodes: outputs recorded\n"
    );
    let recorded: serde_json::Value = serde_json::from_str(&read(
        root,
        ".strata/development/terraform/nodes.outputs.json",
    ))
    .unwrap();
    assert_eq!(
        recorded["nodes"]["value"]["dev-worker-2"]["ip"],
        "10.10.0.22"
    );

    let destroyed = infra(&["--destroy", "--yes"]);
    assert_eq!(destroyed.code, 0, "{}", destroyed.stderr);
    assert_eq!(
        destroyed.stdout,
        "bootstrap: bundle is current\nnodes: destroyed\ntemplates: destroyed\nimages: destroyed\n"
    );
    let state: serde_json::Value =
        serde_json::from_str(&read(root, ".strata/development/terraform/nodes.tfstate")).unwrap();
    assert_eq!(
        state["resources"].as_array().map(Vec::len),
        Some(0),
        "nothing is left in development's state"
    );
}

#[test]
fn destroy_needs_yes_and_json_reports_the_plan() {
    let repo = repo_with_bundle();
    let root = repo.path();
    let run = xtask(root, &["infra", "--env", "development", "--destroy"]);
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("--yes"), "{}", run.stderr);
    let run = xtask(
        root,
        &[
            "infra",
            "--env",
            "development",
            "--plan",
            "--destroy",
            "--yes",
        ],
    );
    assert_eq!(run.code, 2, "one action at a time: {}", run.stderr);
    let run = xtask_env(
        root,
        &[
            "infra",
            "--env",
            "development",
            "--dry-run",
            "--destroy",
            "--yes",
            "--output",
            "json",
        ],
        &[("PATH", "/nonexistent")],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    let v: InfraOutput = document(&run);
    assert_eq!(v.logs, None, "a dry run writes no logs");
    let order: Vec<&str> = v.modules.iter().map(|m| m.module.as_str()).collect();
    assert_eq!(
        order,
        ["nodes", "templates", "images"],
        "destroy goes in reverse"
    );
    let last = v.modules[0].commands.as_ref().unwrap().last().unwrap();
    assert_eq!(v.modules[0].staged, Some(Staged::Created));
    assert!(
        last.contains(" destroy -input=false -no-color -auto-approve -lock-timeout=5m"),
        "{last}"
    );
}

#[test]
fn bootstrap_generates_a_missing_or_outdated_bundle() {
    let repo = strata_testkit::sample_repo();
    let root = repo.path();
    let bootstrap = ["infra", "--env", "development", "--phase", "bootstrap"];
    let first = xtask(root, &bootstrap);
    assert_eq!(
        (first.code, first.stdout.as_str()),
        (0, "bootstrap: bundle generated\n"),
        "{}",
        first.stderr
    );
    assert_eq!(
        xtask(root, &["bundle", "verify", "--env", "development"]).code,
        0
    );
    assert_eq!(
        xtask(root, &bootstrap).stdout,
        "bootstrap: bundle is current\n"
    );
    let mut json_args = bootstrap.to_vec();
    json_args.extend(["--output", "json"]);
    let current: InfraOutput = document(&xtask(root, &json_args));
    assert_eq!((current.modules.len(), current.logs), (0, None));
    let tfvars = "config/packages/core/environments/development.terraform.tfvars";
    edit(
        root,
        tfvars,
        "vlan_id            = 110",
        "vlan_id            = 111",
    );
    edit(
        root,
        "config/packages/core/package.json",
        "\"0.2.0\"",
        "\"0.2.1\"",
    );
    assert_eq!(xtask(root, &["config", "lock"]).code, 0);
    let third = xtask(root, &bootstrap);
    assert_eq!(
        third.stdout, "bootstrap: bundle regenerated: its package changed\n",
        "{}",
        third.stderr
    );
    assert!(
        read(root, "api/outputs/development/terraform.tfvars").contains("vlan_id            = 111")
    );
    edit(
        root,
        tfvars,
        "vlan_id            = 111",
        "vlan_id            = 112",
    );
    let refused = xtask(root, &bootstrap);
    assert_eq!(
        refused.code, 2,
        "an invalid package is not rendered: {}",
        refused.stderr
    );
    let json = xtask(root, &json_args);
    assert_eq!(json.code, 2);
    assert!(!document::<Refusal>(&json).diagnostics.is_empty());
    assert!(
        refused
            .stderr
            .contains("content changed but version is still 0.2.1"),
        "{}",
        refused.stderr
    );
}

/// Tier 2: with a real PostgreSQL, the `pg` backend declared in the package keeps one schema per
/// environment and module, and terraform's own lock refuses an apply of the same environment
/// from another checkout while one is running.
#[test]
fn real_terraform_pg_backend_and_state_lock() {
    for terraform in strata_testkit::terraform_engines() {
        real_terraform_pg_backend_and_state_lock_with(&terraform);
    }
}

fn real_terraform_pg_backend_and_state_lock_with(terraform: &std::path::Path) {
    let Some(pg) = strata_testkit::Postgres::start() else {
        return;
    };
    let repo = twin_repo();
    let root = repo.path();
    let pkg = "config/packages/core/package.json";
    edit(
        root,
        pkg,
        "\"description\": \"Proxmox + Kubespray baseline\",",
        "\"description\": \"Proxmox + Kubespray baseline\",\n  \"terraform\": {\"backend\": {\"type\": \"pg\", \"config\": {\"schema_name\": \"strata_{env}_{module}\"}}},",
    );
    edit(root, pkg, "\"0.2.0\"", "\"0.3.0\"");
    assert_eq!(xtask(root, &["config", "lock"]).code, 0);
    let tf = terraform.display().to_string();
    let conn = pg.conn_str();
    let env = [
        ("STRATA_TERRAFORM", tf.as_str()),
        ("TF_CLI_CONFIG_FILE", "/dev/null"),
        ("PG_CONN_STR", conn.as_str()),
    ];
    for e in ["development", "staging"] {
        let run = xtask_env(root, &["infra", "--env", e], &env);
        assert_eq!(run.code, 0, "{e}: {}{}", run.stdout, run.stderr);
        assert!(
            run.stdout
                .starts_with("bootstrap: bundle regenerated: its package changed\n"),
            "{}",
            run.stdout
        );
    }
    let backend = read(root, "api/outputs/development/terraform-backend.json");
    assert!(
        backend.contains("\"schema_name\": \"strata_development_{module}\""),
        "{backend}"
    );
    assert!(
        !root
            .join(".strata/development/terraform/nodes.tfstate")
            .exists(),
        "no local state with a remote backend"
    );
    let schemas = pg.query("select schema_name from information_schema.schemata where schema_name like 'strata_%' order by 1");
    assert_eq!(
        schemas,
        "strata_development_images\nstrata_development_nodes\nstrata_development_templates\nstrata_staging_images\nstrata_staging_nodes\nstrata_staging_templates\n"
    );
    let dev_state = pg.query("select data from strata_development_nodes.states");
    assert!(dev_state.contains("dev-cp-1") && !dev_state.contains("stg-cp-1"));

    // Hold development's nodes lock with a slow apply, then try a second apply of it.
    let main_tf = "infrastructure/platforms/proxmox/terraform/nodes/main.tf";
    let slow = "\nresource \"terraform_data\" \"slow_apply\" {\n  triggers_replace = [timestamp()]\n  provisioner \"local-exec\" {\n    command = \"sleep 8\"\n  }\n}\n";
    write(root, main_tf, read(root, main_tf) + slow);
    // A second checkout (another engineer, another CI runner) of the same repository: it shares
    // nothing with this one but the state in PostgreSQL.
    let other = strata_testkit::TempDir::new("checkout");
    strata_testkit::copy_dir(root, other.path());
    #[expect(
        clippy::disallowed_methods,
        reason = "the test runs two deploys of one environment at once"
    )]
    let first = std::process::Command::new(env!("CARGO_BIN_EXE_xtask"))
        .args([
            "infra",
            "--env",
            "development",
            "--phase",
            "nodes",
            "--root",
        ])
        .arg(root)
        .envs(env)
        .env("NO_COLOR", "1")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let runs = root.join(".strata/development/runs");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(120);
    let applying = || {
        std::fs::read_dir(&runs)
            .into_iter()
            .flatten()
            .filter_map(Result::ok)
            .any(|d| {
                std::fs::read_to_string(d.path().join("nodes.log"))
                    .is_ok_and(|l| l.contains("slow_apply: Provisioning with 'local-exec'"))
            })
    };
    while !applying() {
        assert!(
            std::time::Instant::now() < deadline,
            "the first apply never started its slow resource"
        );
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    let second = xtask_env(
        other.path(),
        &[
            "infra",
            "--env",
            "development",
            "--phase",
            "nodes",
            "--lock-timeout",
            "0s",
        ],
        &env,
    );
    let first = first.wait_with_output().unwrap();
    assert_eq!(
        first.status.code(),
        Some(0),
        "the first apply finishes: {}",
        String::from_utf8_lossy(&first.stderr)
    );
    // Exit 3, as for a deploy refused by another's lock: another run holds this state.
    assert_eq!(second.code, 3, "{}", second.stderr);
    assert!(
        second.stderr.contains("Error acquiring the state lock"),
        "terraform's reason is shown: {}",
        second.stderr
    );
    assert!(
        second
            .stderr
            .contains("error: the Terraform state of module `nodes` is locked by another run: "),
        "{}",
        second.stderr
    );
    // The pg backend's lock is an advisory lock that records nobody: the `Who:` terraform
    // prints is this run's own, which must not be passed off as the holder.
    let hint = second
        .stderr
        .lines()
        .find(|l| l.trim_start().starts_with("hint:"))
        .unwrap_or_default();
    assert!(
        hint.contains("another run holds this state's lock (this backend does not record whose)"),
        "{}",
        second.stderr
    );
}

const HOOK: &str = "infrastructure/ansible/playbook.yml";

/// A HOME holding the key the development bundle names (`~/.ssh/strata-development`).
fn home_with_key() -> strata_testkit::TempDir {
    let home = strata_testkit::TempDir::new("home");
    write(
        home.path(),
        ".ssh/strata-development",
        "not a real key: the connection here is local\n",
    );
    home
}

#[test]
fn ansible_hook_runs_the_teams_playbook_with_the_bundles_inventory_and_key() {
    let repo = repo_with_bundle();
    let root = repo.path();
    let args = ["infra", "--env", "development", "--phase", "ansible"];
    let skipped = xtask(root, &args);
    assert_eq!(
        (skipped.code, skipped.stdout.as_str()),
        (
            0,
            "ansible: skipped (no infrastructure/ansible/playbook.yml)\n"
        )
    );
    let mut json_args = args.to_vec();
    json_args.extend(["--output", "json"]);
    let json: InfraOutput = document(&xtask(root, &json_args));
    assert_eq!(json.modules.len(), 1);
    assert_eq!(
        (json.modules[0].module.as_str(), json.modules[0].staged),
        ("ansible", None)
    );
    assert_eq!(
        json.modules[0].result,
        "skipped (no infrastructure/ansible/playbook.yml)"
    );

    write(root, HOOK, "- hosts: all\n  tasks: []\n");
    let bin = strata_testkit::TempDir::new("ansible");
    let stand_in = strata_testkit::stand_in(bin.path(), "ansible-playbook", "PLAY RECAP\n", "", 0)
        .display()
        .to_string();
    let home = home_with_key();
    let home_s = home.path().display().to_string();
    let env = [
        ("STRATA_ANSIBLE_PLAYBOOK", stand_in.as_str()),
        ("HOME", home_s.as_str()),
    ];
    let ran = xtask_env(root, &args, &env);
    assert_eq!(
        (ran.code, ran.stdout.as_str()),
        (0, "ansible: ran\n"),
        "{}",
        ran.stderr
    );
    let calls = strata_testkit::stand_in_calls(bin.path(), "ansible-playbook");
    let argv = calls[0][1..]
        .join(" ")
        .replace(&root.display().to_string(), "[ROOT]")
        .replace(&home_s, "[HOME]");
    assert_eq!(
        argv,
        "-i [ROOT]/api/outputs/development/kubespray/hosts.yaml [ROOT]/infrastructure/ansible/playbook.yml -u ubuntu --private-key [HOME]/.ssh/strata-development -e strata_env=development"
    );

    let unreachable = strata_testkit::stand_in(
        bin.path(),
        "ansible-playbook",
        "",
        "fatal: [dev-worker-2]: UNREACHABLE!\n",
        4,
    )
    .display()
    .to_string();
    let failed = xtask_env(
        root,
        &args,
        &[
            ("STRATA_ANSIBLE_PLAYBOOK", unreachable.as_str()),
            ("HOME", home_s.as_str()),
        ],
    );
    assert_eq!(failed.code, 1);
    assert!(
        failed
            .stderr
            .contains("fatal: [dev-worker-2]: UNREACHABLE!")
            && failed.stderr.contains("exited with status 4"),
        "{}",
        failed.stderr
    );

    assert!(
        failed
            .stderr
            .contains("error: the ansible phase's playbook failed:"),
        "{}",
        failed.stderr
    );
    let mut with_plan = args.to_vec();
    with_plan.push("--plan");
    let refused = xtask_env(root, &with_plan, &env);
    assert_eq!(refused.code, 2, "{}", refused.stderr);
    assert!(
        refused
            .stderr
            .contains("the ansible phase only runs its playbook"),
        "{}",
        refused.stderr
    );

    let nokey = xtask_env(
        root,
        &args,
        &[
            ("STRATA_ANSIBLE_PLAYBOOK", stand_in.as_str()),
            ("HOME", "/nonexistent"),
        ],
    );
    assert_eq!(nokey.code, 2);
    assert!(
        nokey
            .stderr
            .contains("the SSH private key `/nonexistent/.ssh/strata-development` does not exist"),
        "{}",
        nokey.stderr
    );
}

/// Tier 2: the real ansible-playbook runs the hook over the bundle's inventory (with a local
/// connection, since the hosts are not there), with the user and variables Strata passes.
#[test]
fn real_ansible_runs_the_hook() {
    let Some(ansible) = strata_testkit::real_tool("ansible-playbook") else {
        return;
    };
    let repo = strata_testkit::sample_repo();
    let root = repo.path();
    let hosts = "config/packages/core/kubespray/inventory/pn-development/hosts.yaml";
    // The hosts do not exist here: run each host's tasks on this machine instead.
    edit(
        root,
        hosts,
        "all:\n",
        "all:\n  vars:\n    ansible_connection: local\n    ansible_python_interpreter: /usr/bin/python3\n",
    );
    edit(
        root,
        "config/packages/core/package.json",
        "\"0.2.0\"",
        "\"0.2.1\"",
    );
    assert_eq!(xtask(root, &["config", "lock"]).code, 0);
    assert_eq!(
        xtask(
            root,
            &["generate", "env", "--id", "development", "--config", "core"]
        )
        .code,
        0
    );
    write(
        root,
        HOOK,
        "- hosts: all\n  gather_facts: false\n  tasks:\n    - ansible.builtin.copy:\n        content: \"{{ inventory_hostname }} {{ strata_env }} {{ ansible_user }}\\n\"\n        dest: \"{{ playbook_dir }}/out/{{ inventory_hostname }}\"\n",
    );
    std::fs::create_dir_all(root.join("infrastructure/ansible/out")).unwrap();
    let home = home_with_key();
    let ansible_s = ansible.display().to_string();
    let home_s = home.path().display().to_string();
    let run = xtask_env(
        root,
        &["infra", "--env", "development", "--phase", "ansible"],
        &[
            ("STRATA_ANSIBLE_PLAYBOOK", ansible_s.as_str()),
            ("HOME", home_s.as_str()),
        ],
    );
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    for host in ["dev-cp-1", "dev-worker-1", "dev-worker-2"] {
        assert_eq!(
            read(root, &format!("infrastructure/ansible/out/{host}")),
            format!("{host} development ubuntu\n")
        );
    }
}

/// Tier 2: two environments planned at the same time from one checkout each plan with their
/// own values (the module folder is locked while one uses it); an unchanged `--plan` followed by
/// `--apply-plan` over every module applies nothing and succeeds.
#[test]
fn real_terraform_concurrent_environments_and_empty_plans() {
    for terraform in strata_testkit::terraform_engines() {
        real_terraform_concurrent_environments_and_empty_plans_with(&terraform);
    }
}

fn real_terraform_concurrent_environments_and_empty_plans_with(terraform: &std::path::Path) {
    let repo = twin_repo();
    let root = repo.path();
    let tf = terraform.display().to_string();
    let env = [
        ("STRATA_TERRAFORM", tf.as_str()),
        ("TF_CLI_CONFIG_FILE", "/dev/null"),
    ];
    for e in ["development", "staging"] {
        assert_eq!(xtask_env(root, &["infra", "--env", e], &env).code, 0);
    }
    let spawn = |e: &str| {
        #[expect(
            clippy::disallowed_methods,
            reason = "two environments run at once, as two people would"
        )]
        let child = std::process::Command::new(env!("CARGO_BIN_EXE_xtask"))
            .args(["infra", "--env", e, "--plan", "--root"])
            .arg(root)
            .envs(env)
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        child
    };
    let (dev, stg) = (spawn("development"), spawn("staging"));
    for (name, child) in [("development", dev), ("staging", stg)] {
        let out = child.wait_with_output().unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert_eq!(
            out.status.code(),
            Some(0),
            "{name}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(
            stdout,
            "bootstrap: bundle is current\nimages: no changes\ntemplates: no changes\nnodes: no changes\n",
            "{name} planned with its own values"
        );
    }
    // A first --apply-plan, then the real one below: a rerun (say, after a refused module)
    // still finds the empty plans' records.
    let first = xtask_env(
        root,
        &["infra", "--env", "development", "--apply-plan"],
        &env,
    );
    assert_eq!(first.code, 0, "{}", first.stderr);
    let applied = xtask_env(
        root,
        &["infra", "--env", "development", "--apply-plan"],
        &env,
    );
    assert_eq!(applied.code, 0, "{}", applied.stderr);
    assert_eq!(
        applied.stdout,
        "bootstrap: bundle is current\nimages: no changes\ntemplates: no changes\nnodes: no changes\n"
    );
}

#[test]
fn a_dry_run_never_overwrites_a_hand_edit_and_single_phases_warn_of_a_stale_bundle() {
    let repo = repo_with_bundle();
    let root = repo.path();
    let bin = strata_testkit::TempDir::new("tf");
    let tf = fake_terraform(bin.path());
    let env = [("STRATA_TERRAFORM", tf.as_str())];
    assert_eq!(
        xtask_env(
            root,
            &["infra", "--env", "development", "--phase", "images"],
            &env
        )
        .code,
        0
    );
    let staged = "infrastructure/platforms/proxmox/terraform/images/terraform.tfvars";
    edit(
        root,
        staged,
        "image_datastore_id = \"local\"",
        "image_datastore_id = \"nfs\"",
    );
    let dry = xtask_env(
        root,
        &[
            "infra",
            "--env",
            "development",
            "--phase",
            "images",
            "--dry-run",
            "--force",
        ],
        &env,
    );
    assert_eq!(dry.code, 0, "{}", dry.stderr);
    assert!(
        dry.stderr.contains(
            "would overwrite the hand-edited terraform.tfvars (--force); kept it in this dry run"
        ),
        "{}",
        dry.stderr
    );
    assert!(read(root, staged).contains("\"nfs\""));

    edit(
        root,
        "config/packages/core/environments/development.terraform.tfvars",
        "vlan_id            = 110",
        "vlan_id            = 111",
    );
    edit(
        root,
        "config/packages/core/package.json",
        "\"0.2.0\"",
        "\"0.2.1\"",
    );
    assert_eq!(xtask(root, &["config", "lock"]).code, 0);
    let stale = xtask_env(
        root,
        &["infra", "--env", "development", "--phase", "nodes"],
        &env,
    );
    assert_eq!(stale.code, 0);
    assert!(
        stale
            .stderr
            .contains("warning: the bundle for `development` is older than its package"),
        "{}",
        stale.stderr
    );
    assert!(
        stale
            .stderr
            .contains("regenerate it with `cargo xtask infra --env development --phase bootstrap`"),
        "{}",
        stale.stderr
    );
}

/// The template's disk is imported over SSH on the Proxmox node. With an API token alone the
/// real apply creates the VM and fails at `qm disk import`; Strata refuses before applying,
/// after a plan that has changes, and leaves no plan behind. Nothing to change needs no SSH.
#[test]
fn templates_are_not_applied_without_the_providers_ssh_settings() {
    let repo = repo_with_bundle();
    let root = repo.path();
    let bin = strata_testkit::TempDir::new("tf");
    let tf = fake_terraform(bin.path());
    let args = ["infra", "--env", "development", "--phase", "templates"];
    // An empty value is unset, to the provider and to Strata.
    let token_only = [
        ("STRATA_TERRAFORM", tf.as_str()),
        ("PROXMOX_VE_API_TOKEN", "terraform@pve!strata=very-secret"),
        ("PROXMOX_VE_SSH_USERNAME", ""),
    ];
    let run = xtask_env(root, &args, &token_only);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr.contains(
            "error: module `templates` imports its disk over SSH on the Proxmox node, but PROXMOX_VE_SSH_USERNAME is not set"
        ) && run.stderr.contains("hint: nothing was applied; export PROXMOX_VE_SSH_USERNAME"),
        "{}",
        run.stderr
    );
    assert!(!run.stderr.contains("very-secret") && !run.stdout.contains("very-secret"));
    let ran = calls(bin.path(), root);
    assert!(
        ran.contains(" plan ") && !ran.contains(" apply "),
        "planned, never applied:\n{ran}"
    );
    assert!(
        !root
            .join(".strata/development/plans/templates.tfplan")
            .exists()
    );

    let no_auth = xtask_env(
        root,
        &args,
        &[
            ("STRATA_TERRAFORM", tf.as_str()),
            ("PROXMOX_VE_SSH_AGENT", ""),
        ],
    );
    assert_eq!(no_auth.code, 2, "{}", no_auth.stderr);
    assert!(
        no_auth.stderr.contains("but no SSH authentication is set"),
        "{}",
        no_auth.stderr
    );

    let unchanged = xtask_env(
        root,
        &args,
        &[
            token_only[0],
            token_only[1],
            token_only[2],
            ("PLAN_EXIT", "0"),
        ],
    );
    assert_eq!(
        (unchanged.code, unchanged.stdout.as_str()),
        (0, "templates: no changes\n"),
        "{}",
        unchanged.stderr
    );
    // The images and nodes modules run over the API only.
    for module in ["images", "nodes"] {
        let run = xtask_env(
            root,
            &["infra", "--env", "development", "--phase", module],
            &token_only,
        );
        assert_eq!(run.code, 0, "{module}: {}", run.stderr);
    }
    let with_key = xtask_env(
        root,
        &args,
        &[
            token_only[0],
            ("PROXMOX_VE_SSH_USERNAME", "terraform"),
            ("PROXMOX_VE_SSH_AGENT", ""),
            (
                "PROXMOX_VE_SSH_PRIVATE_KEY",
                "-----BEGIN OPENSSH PRIVATE KEY-----",
            ),
        ],
    );
    assert_eq!(
        (with_key.code, with_key.stdout.as_str()),
        (0, "templates: applied\n"),
        "{}",
        with_key.stderr
    );
}

/// Proxmox checks the cloud image download against the SHA-256 the package knows: the
/// provisioner's base image with the same URL. The template and its clones leave the guest
/// agent off, since a stock cloud image has none.
#[test]
fn the_images_module_gets_the_packages_checksum_and_the_vms_no_agent() {
    let repo = repo_with_bundle();
    let root = repo.path();
    for module in ["images", "templates", "nodes"] {
        let run = xtask(
            root,
            &[
                "infra",
                "--env",
                "development",
                "--phase",
                module,
                "--dry-run",
            ],
        );
        assert_eq!(run.code, 0, "{module}: {}", run.stderr);
    }
    let staged = |m: &str| {
        read(
            root,
            &format!("infrastructure/platforms/proxmox/terraform/{m}/terraform.tfvars"),
        )
    };
    assert!(
        staged("images").ends_with(
            "cloud_image_sha256 = \"612b2c0cc1bc413a6cb8c38fd611794caf0f2b436c50013d8b3794db12ad7354\"\n"
        ),
        "{}",
        staged("images")
    );
    for m in ["templates", "nodes"] {
        assert!(
            !staged(m).contains("cloud_image_sha256") && !staged(m).contains("qemu_guest_agent"),
            "{m} keeps its default (no agent):\n{}",
            staged(m)
        );
    }
}

/// Without a checksum anywhere in the package, the images module is refused before terraform
/// runs (exit 2), naming the bundle's tfvars and what to add.
#[test]
fn an_image_without_a_known_checksum_is_refused() {
    let repo = repo_with_bundle();
    let root = repo.path();
    let provisioner = "config/packages/core/environments/development.provisioner.json";
    let text = read(root, provisioner).replace(
        "release-20260911/ubuntu-24.04-server-cloudimg-amd64.img",
        "release-20261001/ubuntu-24.04-server-cloudimg-amd64.img",
    );
    write(root, provisioner, text);
    crate::support::bump_package(root, true);
    let bin = strata_testkit::TempDir::new("tf");
    let tf = fake_terraform(bin.path());
    let run = xtask_env(
        root,
        &["infra", "--env", "development"],
        &[("STRATA_TERRAFORM", &tf)],
    );
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr.contains(
            "error: `api/outputs/development/terraform.tfvars` sets no `cloud_image_sha256`, and no provisioner base image has its `cloud_image_url`"
        ) && run.stderr.contains("hint: add `cloud_image_sha256 = "),
        "{}",
        run.stderr
    );
    assert_eq!(calls(bin.path(), root), "", "terraform never ran");
    assert!(
        !root
            .join("infrastructure/platforms/proxmox/terraform/images/terraform.tfvars")
            .exists()
    );
}
