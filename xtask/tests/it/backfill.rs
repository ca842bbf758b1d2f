//! `cargo xtask backfill`: a bundle from an environment's existing files, and its move into a
//! package.

use strata_testkit::TempDir;

use strata_metadata::output::BackfillOutput;

use crate::support::{Run, document, read, write, xtask};

/// The development files of the sample package, copied out as a legacy environment keeps them.
fn legacy() -> TempDir {
    let dir = TempDir::new("legacy");
    let repo = strata_testkit::workspace_root();
    let env = repo.join("config/packages/core/environments");
    for (from, to) in [
        ("development.terraform.tfvars", "terraform.tfvars"),
        ("development.business.yaml", "business.yaml"),
        ("development.platform.yaml", "platform.yaml"),
        ("development.provisioner.json", "provisioner.json"),
        ("development.kubespray.json", "kubespray.json"),
    ] {
        std::fs::copy(env.join(from), dir.join(to)).unwrap();
    }
    // A backfill carries no provisioner config to find the image's checksum in, so the legacy
    // tfvars state it (the images module refuses to download an unchecked image).
    let tfvars = dir.join("terraform.tfvars");
    let text = std::fs::read_to_string(&tfvars).unwrap();
    std::fs::write(
        &tfvars,
        text + "cloud_image_sha256 = \"612b2c0cc1bc413a6cb8c38fd611794caf0f2b436c50013d8b3794db12ad7354\"\n",
    )
    .unwrap();
    strata_testkit::copy_dir(
        &repo.join("config/packages/core/kubespray/inventory/pn-development"),
        &dir.join("inventory"),
    );
    dir
}

fn backfill(root: &std::path::Path, legacy: &TempDir, extra: &[&str]) -> Run {
    let p = |f: &str| legacy.join(f).display().to_string();
    let (tf, inv, biz) = (p("terraform.tfvars"), p("inventory"), p("business.yaml"));
    let mut args = vec![
        "backfill",
        "--env",
        "legacy-prod",
        "--terraform",
        &tf,
        "--inventory",
        &inv,
        "--business",
        &biz,
    ];
    args.extend(extra);
    xtask(root, &args)
}

#[test]
fn a_backfilled_bundle_verifies_records_its_sources_and_deploys_what_it_has() {
    let repo = strata_testkit::sample_repo();
    let root = repo.path();
    let old = legacy();
    let run = backfill(root, &old, &[]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stdout
            .starts_with("backfilled api/outputs/legacy-prod from 3 sources"),
        "{}",
        run.stdout
    );
    let meta: strata_metadata::BundleMetadata =
        serde_json::from_str(&read(root, "api/outputs/legacy-prod/metadata.json")).unwrap();
    match document(&backfill(root, &old, &["--output", "json"])) {
        BackfillOutput::Bundle(made) => {
            assert_eq!(made.bundle, "api/outputs/legacy-prod");
            assert_eq!(
                made.metadata, meta,
                "the JSON carries the metadata.json written"
            );
        }
        other => panic!("not the bundle document: {other:#?}"),
    }
    let sources = &meta.config_package.backfill.as_ref().unwrap().sources;
    assert_eq!(
        sources[&strata_metadata::FileKind::Terraform],
        old.join("terraform.tfvars").display().to_string()
    );
    assert_eq!(
        read(root, "api/outputs/legacy-prod/kubespray/hosts.yaml"),
        read(old.path(), "inventory/hosts.yaml")
    );
    let verify = xtask(root, &["bundle", "verify", "--env", "legacy-prod"]);
    assert_eq!(verify.code, 0, "{}", verify.stderr);
    assert!(
        verify.stdout.contains("a backfill of 3 sources"),
        "{}",
        verify.stdout
    );

    // deploy runs what the bundle has, and says what it lacks.
    let deploy = xtask(root, &["deploy", "--env", "legacy-prod", "--dry-run"]);
    assert_eq!(deploy.code, 0, "{}\n{}", deploy.stdout, deploy.stderr);
    assert!(
        deploy.stdout.contains("generate    dry run"),
        "{}",
        deploy.stdout
    );
    assert!(
        deploy
            .stdout
            .contains("provision   not configured        -  the bundle has no provisioner.json"),
        "{}",
        deploy.stdout
    );
    assert!(
        deploy.stdout.contains("nodes       dry run"),
        "{}",
        deploy.stdout
    );
    assert!(
        deploy.stdout.contains("business    dry run"),
        "{}",
        deploy.stdout
    );
}

#[test]
fn broken_sources_are_named_and_nothing_is_written() {
    let repo = strata_testkit::sample_repo();
    let root = repo.path();
    let old = legacy();
    write(old.path(), "terraform.tfvars", "vlan_id = \n");
    let run = backfill(root, &old, &[]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr.contains(&format!(
            "error: {}:",
            old.join("terraform.tfvars").display()
        )),
        "the file is named: {}",
        run.stderr
    );
    assert!(
        run.stderr
            .contains("cannot backfill `legacy-prod`: nothing was written")
    );
    assert!(!root.join("api/outputs/legacy-prod").exists());

    // A bundle made from a package is never replaced by a backfill.
    let generated = xtask(
        root,
        &["generate", "env", "--id", "development", "--config", "core"],
    );
    assert_eq!(generated.code, 0);
    let fine = legacy();
    let p = |f: &str| fine.join(f).display().to_string();
    let (tf, inv, biz) = (p("terraform.tfvars"), p("inventory"), p("business.yaml"));
    let refused = xtask(
        root,
        &[
            "backfill",
            "--env",
            "development",
            "--terraform",
            &tf,
            "--inventory",
            &inv,
            "--business",
            &biz,
        ],
    );
    assert_eq!(refused.code, 2, "{}", refused.stderr);
    assert!(
        refused
            .stderr
            .contains("was generated from package `core`; a backfill would replace it"),
        "{}",
        refused.stderr
    );
}

#[test]
fn to_package_writes_the_environment_into_the_package_or_nothing() {
    let repo = strata_testkit::sample_repo();
    let root = repo.path();
    let old = legacy();
    let p = |f: &str| old.join(f).display().to_string();
    let (plat, prov, ks) = (
        p("platform.yaml"),
        p("provisioner.json"),
        p("kubespray.json"),
    );
    let all = [
        "--platform",
        &plat,
        "--provisioner",
        &prov,
        "--kubespray-config",
        &ks,
        "--to-package",
        "core",
    ];

    let partial = backfill(root, &old, &["--to-package", "core"]);
    assert_eq!(partial.code, 2);
    assert!(
        partial
            .stderr
            .contains("add --platform, --provisioner and --kubespray-config"),
        "{}",
        partial.stderr
    );

    // legacy-prod is not defined yet: the package is left exactly as it was.
    let manifest = read(root, "config/packages/core/package.json");
    let lock = read(root, "config/packages.lock");
    let undefined = backfill(root, &old, &all);
    assert_eq!(undefined.code, 2, "{}", undefined.stderr);
    assert!(
        undefined.stderr.contains(
            "environment `legacy-prod` is not defined in api/definitions/environments.yaml"
        ),
        "{}",
        undefined.stderr
    );
    assert_eq!(read(root, "config/packages/core/package.json"), manifest);
    assert_eq!(read(root, "config/packages.lock"), lock);
    assert!(
        !root
            .join("config/packages/core/environments/legacy-prod.terraform.tfvars")
            .exists()
    );
    assert!(
        !root
            .join("config/packages/core/kubespray/inventory/pn-legacy-prod")
            .exists()
    );

    let defs = read(root, "api/definitions/environments.yaml");
    write(
        root,
        "api/definitions/environments.yaml",
        format!(
            "{defs}  legacy-prod:\n    description: The cluster from before config packages.\n"
        ),
    );
    let mut all_json = all.to_vec();
    all_json.extend(["--output", "json"]);
    let moved = backfill(root, &old, &all_json);
    assert_eq!(moved.code, 0, "{}\n{}", moved.stdout, moved.stderr);
    match document(&moved) {
        BackfillOutput::Package(written) => {
            assert_eq!(
                (written.package.as_str(), written.environment.as_str()),
                ("core", "legacy-prod")
            );
            assert_eq!(written.version.to_string(), "0.2.1");
        }
        other => panic!("not the package document: {other:#?}"),
    }
    let pkg: serde_json::Value =
        serde_json::from_str(&read(root, "config/packages/core/package.json")).unwrap();
    assert_eq!(pkg["version"], "0.2.1");
    assert_eq!(
        pkg["environments"]["legacy-prod"]["kubesprayInventory"],
        "kubespray/inventory/pn-legacy-prod"
    );
    assert!(read(root, "config/packages.lock").contains("0.2.1"));
    assert_eq!(xtask(root, &["validate"]).code, 0);
    let generate = xtask(
        root,
        &["generate", "env", "--id", "legacy-prod", "--config", "core"],
    );
    assert_eq!(generate.code, 0, "{}", generate.stderr);
}
