//! Generating, reading back and verifying bundles through the CLI.

use strata_metadata::output::{DriftEntry, GenerateOutput, VerifyOutput};

use crate::support::{
    EPOCH, command, document, edit, read, repo_with_bundle, snapshot_filters, write, xtask,
    xtask_env,
};

const GENERATE: [&str; 6] = ["generate", "env", "--id", "development", "--config", "core"];

#[test]
fn generated_bundle_matches_snapshot() {
    let repo = strata_testkit::sample_repo();
    let _filters = snapshot_filters(repo.path());
    insta_cmd::assert_cmd_snapshot!("generate_summary", command(repo.path(), &GENERATE));
    let metadata = read(repo.path(), "api/outputs/development/metadata.json");
    insta::assert_snapshot!("bundle_metadata", metadata);
    let files: Vec<String> = strata_testkit::read_tree(&repo.join("api/outputs/development"))
        .into_keys()
        .collect();
    insta::assert_snapshot!("bundle_files", files.join("\n"));
    // The bundle carries the package's bytes unchanged.
    assert_eq!(
        read(repo.path(), "api/outputs/development/terraform.tfvars"),
        read(
            repo.path(),
            "config/packages/core/environments/development.terraform.tfvars"
        )
    );
    assert!(
        metadata.contains("\"generatedAt\": \"2026-11-25T09:41:55Z\""),
        "SOURCE_DATE_EPOCH={EPOCH} is honoured"
    );
}

#[test]
fn generating_twice_is_byte_identical() {
    let repo = strata_testkit::sample_repo();
    let other = strata_testkit::sample_repo();
    for r in [&repo, &other, &repo] {
        assert_eq!(xtask(r.path(), &GENERATE).code, 0);
    }
    let a = strata_testkit::read_tree(&repo.join("api/outputs"));
    let b = strata_testkit::read_tree(&other.join("api/outputs"));
    assert_eq!(a, b, "two checkouts and two runs give the same bytes");
    let second = xtask(repo.path(), &GENERATE);
    assert!(
        second.stdout.contains("(content unchanged)"),
        "{}",
        second.stdout
    );
}

#[test]
fn every_environment_generates_and_verifies() {
    let repo = strata_testkit::sample_repo();
    for env in ["development", "staging", "production"] {
        let run = xtask(
            repo.path(),
            &["generate", "env", "--id", env, "--config", "core"],
        );
        assert_eq!(run.code, 0, "{env}: {}", run.stderr);
        let verify = xtask(repo.path(), &["bundle", "verify", "--env", env]);
        assert_eq!(verify.code, 0, "{env}: {}", verify.stderr);
    }
}

#[test]
fn verify_reports_tampering_and_drift() {
    let repo = repo_with_bundle();
    let root = repo.path();
    let _filters = snapshot_filters(root);
    let args = ["bundle", "verify", "--env", "development"];
    insta_cmd::assert_cmd_snapshot!("verify_clean", command(root, &args));

    let bundle = "api/outputs/development";
    edit(
        root,
        &format!("{bundle}/terraform.tfvars"),
        "vlan_id            = 110",
        "vlan_id            = 999",
    );
    std::fs::remove_file(root.join(format!("{bundle}/kubespray/group_vars/all/all.yml"))).unwrap();
    write(root, &format!("{bundle}/notes.txt"), "left by hand\n");
    write(
        root,
        &format!("{bundle}/provisioner/k8s-worker.json"),
        "{}\n",
    );
    edit(
        root,
        "config/packages/core/package.json",
        "Proxmox + Kubespray baseline",
        "Proxmox + Kubespray baseline, tuned",
    );
    // Drift is a failed check: exit 1.
    insta_cmd::assert_cmd_snapshot!("verify_drift", command(root, &args));

    let json = xtask(
        root,
        &[
            "bundle",
            "verify",
            "--env",
            "development",
            "--output",
            "json",
        ],
    );
    let verified: VerifyOutput = document(&json);
    assert!(!verified.ok);
    let kinds: Vec<&str> = verified
        .drift
        .iter()
        .map(|d| match d {
            DriftEntry::Missing { .. } => "missing",
            DriftEntry::Modified { .. } => "modified",
            DriftEntry::Unexpected { .. } => "unexpected",
            DriftEntry::PackageChanged { .. } => "packageChanged",
            DriftEntry::Remapped { .. } => "remapped",
        })
        .collect();
    assert_eq!(
        kinds,
        ["missing", "modified", "unexpected", "packageChanged"]
    );
}

#[test]
fn verify_without_a_bundle_says_how_to_make_one() {
    let repo = strata_testkit::sample_repo();
    let args = ["bundle", "verify", "--env", "staging"];
    let _filters = snapshot_filters(repo.path());
    insta_cmd::assert_cmd_snapshot!("verify_missing", command(repo.path(), &args));
}

#[test]
fn image_records_survive_regeneration() {
    let repo = repo_with_bundle();
    let record = "api/outputs/development/provisioner/k8s-worker.json";
    write(repo.path(), record, "{\"role\": \"k8s-worker\"}\n");
    assert_eq!(xtask(repo.path(), &GENERATE).code, 0);
    assert_eq!(read(repo.path(), record), "{\"role\": \"k8s-worker\"}\n");
    assert_eq!(
        xtask(repo.path(), &["bundle", "verify", "--env", "development"]).code,
        0
    );
}

#[test]
fn skip_validate_still_needs_a_loadable_package() {
    let repo = repo_with_bundle();
    let root = repo.path();
    // A content change without a version bump fails validation but renders with --skip-validate.
    let tfvars = "config/packages/core/environments/development.terraform.tfvars";
    edit(
        root,
        tfvars,
        "vlan_id            = 110",
        "vlan_id            = 111",
    );
    assert_eq!(xtask(root, &GENERATE).code, 2);
    let mut skip = GENERATE.to_vec();
    skip.push("--skip-validate");
    assert_eq!(xtask(root, &skip).code, 0);
    assert!(
        read(root, "api/outputs/development/terraform.tfvars").contains("vlan_id            = 111")
    );
    // A package.json that does not parse cannot be rendered at all.
    write(root, "config/packages/core/package.json", "{");
    let run = xtask(root, &skip);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr
            .contains("config/packages/core/package.json:1:1: EOF while parsing"),
        "{}",
        run.stderr
    );
}

#[test]
fn generate_json_output_describes_the_bundle() {
    let repo = strata_testkit::sample_repo();
    let mut args = GENERATE.to_vec();
    args.extend(["--output", "json"]);
    let run = xtask(repo.path(), &args);
    assert_eq!(run.code, 0);
    let generated: GenerateOutput = document(&run);
    assert_eq!(generated.bundle, "api/outputs/development");
    assert_eq!(generated.config_package.version.to_string(), "0.2.0");
    assert_eq!(generated.file_count, 9);
    assert_eq!(
        generated.files[&strata_metadata::FileKind::KubesprayInventory],
        "kubespray"
    );
    assert!(run.stderr.is_empty(), "nothing but JSON: {}", run.stderr);
}

#[test]
fn invalid_source_date_epoch_is_refused() {
    let repo = strata_testkit::sample_repo();
    let run = xtask_env(
        repo.path(),
        &GENERATE,
        &[("SOURCE_DATE_EPOCH", "yesterday")],
    );
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.contains("SOURCE_DATE_EPOCH is `yesterday`"),
        "{}",
        run.stderr
    );
    assert!(!repo.join("api/outputs/development").exists());
}

/// Killing `generate` at any moment leaves either the old bundle or the new one, whole.
#[test]
fn killed_generate_never_leaves_a_partial_bundle() {
    let repo = repo_with_bundle();
    let root = repo.path();
    let bundle = root.join("api/outputs/development");
    let old = strata_testkit::read_tree(&bundle);
    // Make the new bundle differ so that old and new can be told apart.
    edit(
        root,
        "config/packages/core/package.json",
        "\"0.2.0\"",
        "\"0.2.1\"",
    );
    let tfvars = "config/packages/core/environments/development.terraform.tfvars";
    edit(
        root,
        tfvars,
        "vlan_id            = 110",
        "vlan_id            = 112",
    );
    assert_eq!(xtask(root, &["config", "lock"]).code, 0);
    let mut saw_new = false;
    let mut saw_old = false;
    // Sweep the kills from start-up to past the end of a whole run, measured here and now, so
    // that a slow or busy machine still sees kills before and after the swap.
    let started = std::time::Instant::now();
    assert_eq!(xtask(root, &GENERATE).code, 0);
    let full_run = started.elapsed();
    std::fs::remove_dir_all(&bundle).unwrap();
    strata_testkit::copy_dir(&repo_backup(&old, root), &bundle);
    const KILLS: u32 = 40;
    let step = full_run.mul_f64(1.5) / KILLS;
    // On a busy machine a run can take longer than the one measured: keep sweeping later
    // (up to four times further) until kills have landed on both sides of the swap.
    for i in 0..(KILLS * 4) {
        if i >= KILLS && saw_old && saw_new {
            break;
        }
        #[expect(
            clippy::disallowed_methods,
            reason = "the test kills the real binary mid-run"
        )]
        let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_xtask"))
            .args(GENERATE)
            .arg("--root")
            .arg(root)
            .env("SOURCE_DATE_EPOCH", EPOCH)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(step * i);
        let _ = child.kill();
        let _ = child.wait();
        let now = strata_testkit::read_tree(&bundle);
        if now == old {
            saw_old = true;
        } else {
            let verify = xtask(root, &["bundle", "verify", "--env", "development"]);
            assert_eq!(
                verify.code, 0,
                "kill #{i} left a bundle that does not verify:\n{}",
                verify.stderr
            );
            assert!(read(root, "api/outputs/development/metadata.json").contains("\"0.2.1\""));
            saw_new = true;
            // Start the next round from the old bundle again.
            std::fs::remove_dir_all(&bundle).unwrap();
            strata_testkit::copy_dir(&repo_backup(&old, root), &bundle);
        }
    }
    assert!(
        saw_old && saw_new,
        "the kills landed both before and after the swap"
    );
    // A later run cleans up what killed runs left and succeeds.
    assert_eq!(xtask(root, &GENERATE).code, 0);
    let leftovers: Vec<_> = std::fs::read_dir(root.join("api/outputs"))
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(leftovers, ["development"]);
}

/// Writes `tree` into a scratch folder of `root` and returns it.
fn repo_backup(
    tree: &std::collections::BTreeMap<String, Vec<u8>>,
    root: &std::path::Path,
) -> std::path::PathBuf {
    let dir = root.join("backup");
    let _ = std::fs::remove_dir_all(&dir);
    for (rel, bytes) in tree {
        let path = dir.join(rel);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, bytes).unwrap();
    }
    dir
}

#[test]
fn verify_catches_an_edited_file_map() {
    let repo = repo_with_bundle();
    let meta = "api/outputs/development/metadata.json";
    edit(
        repo.path(),
        meta,
        "\"terraform\": \"terraform.tfvars\"",
        "\"terraform\": \"platform.yaml\"",
    );
    let run = xtask(repo.path(), &["bundle", "verify", "--env", "development"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(
        run.stderr.contains(
            "metadata.json points terraform at `platform.yaml` instead of `terraform.tfvars`"
        ),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("1 problem\n"), "{}", run.stderr);
}

#[test]
fn content_unchanged_is_claimed_only_when_the_files_are_intact() {
    let repo = repo_with_bundle();
    write(
        repo.path(),
        "api/outputs/development/terraform.tfvars",
        "edited by hand\n",
    );
    let run = xtask(repo.path(), &GENERATE);
    assert_eq!(run.code, 0);
    assert!(
        !run.stdout.contains("content unchanged"),
        "a repaired bundle changed: {}",
        run.stdout
    );
    let again = xtask(repo.path(), &GENERATE);
    assert!(
        again.stdout.contains("(content unchanged)"),
        "{}",
        again.stdout
    );
}

#[test]
fn skip_validate_shows_what_it_did_not_enforce() {
    let repo = repo_with_bundle();
    let tfvars = "config/packages/core/environments/development.terraform.tfvars";
    edit(
        repo.path(),
        tfvars,
        "vlan_id            = 110",
        "vlan_id            = 111",
    );
    let mut args = GENERATE.to_vec();
    args.push("--skip-validate");
    let _filters = snapshot_filters(repo.path());
    insta_cmd::assert_cmd_snapshot!("skip_validate_warnings", command(repo.path(), &args));
}

#[test]
fn hidden_files_are_not_package_content() {
    let repo = strata_testkit::sample_repo();
    write(
        repo.path(),
        "config/packages/core/environments/.development.platform.yaml.swp",
        "editor state",
    );
    write(
        repo.path(),
        "config/packages/core/.DS_Store",
        "finder state",
    );
    assert_eq!(
        xtask(repo.path(), &["validate"]).code,
        0,
        "no version bump needed"
    );
    assert_eq!(xtask(repo.path(), &GENERATE).code, 0);
    let files = strata_testkit::read_tree(&repo.join("api/outputs/development"));
    assert!(
        files
            .keys()
            .all(|k| !k.contains("/.") && !k.starts_with('.')),
        "{:?}",
        files.keys()
    );
}
