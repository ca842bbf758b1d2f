//! The library API other tools use: generate, open, path, verify.

use strata_bundle::{Bundle, BundleError, GenerateOptions, generate, verify};
use strata_config::Layout;
use strata_metadata::{EnvironmentId, FileKind, PackageId};

fn ids() -> (EnvironmentId, PackageId) {
    (
        EnvironmentId::new("staging").unwrap(),
        PackageId::new("core").unwrap(),
    )
}

fn opts() -> GenerateOptions {
    GenerateOptions {
        skip_validate: false,
        generated_at: Some(0),
    }
}

#[test]
fn open_resolves_paths_relative_to_the_bundle() {
    let repo = strata_testkit::sample_repo();
    let layout = Layout::new(repo.path());
    let (env, pkg) = ids();
    let generated = generate(&layout, &env, &pkg, &opts()).unwrap();
    // A bundle can be moved: nothing in it is absolute.
    let moved = repo.join("elsewhere");
    std::fs::rename(&generated.dir, &moved).unwrap();
    let bundle = Bundle::open(&moved).unwrap();
    assert_eq!(bundle.metadata().environment, env);
    assert_eq!(
        bundle.path(FileKind::KubesprayInventory),
        Some(moved.join("kubespray"))
    );
    let hosts = std::fs::read_to_string(moved.join("kubespray/hosts.yaml")).unwrap();
    assert!(hosts.contains("stg-cp-1"), "{hosts}");
    assert!(verify(&bundle, None).unwrap().is_clean());
}

#[test]
fn open_refuses_tampered_paths_and_other_schema_versions() {
    let repo = strata_testkit::sample_repo();
    let layout = Layout::new(repo.path());
    let (env, pkg) = ids();
    let dir = generate(&layout, &env, &pkg, &opts()).unwrap().dir;
    let meta = dir.join("metadata.json");
    let original = std::fs::read_to_string(&meta).unwrap();

    std::fs::write(
        &meta,
        original.replace("\"terraform.tfvars\",", "\"../../../etc/passwd\","),
    )
    .unwrap();
    let err = Bundle::open(&dir).unwrap_err();
    assert!(
        matches!(err, BundleError::PathEscapes { ref entry, .. } if entry == "../../../etc/passwd"),
        "{err}"
    );

    std::fs::write(
        &meta,
        original.replace("\"schemaVersion\": 1", "\"schemaVersion\": 2"),
    )
    .unwrap();
    let err = Bundle::open(&dir).unwrap_err();
    assert!(
        err.to_string()
            .ends_with("has schemaVersion 2, this Strata reads 1"),
        "{err}"
    );

    std::fs::write(
        &meta,
        original.replace("\"environment\"", "\"environmnet\""),
    )
    .unwrap();
    let err = Bundle::open(&dir).unwrap_err();
    let BundleError::Metadata { line, message, .. } = err else {
        panic!("{err}")
    };
    assert_eq!(line, 3);
    assert!(
        message.starts_with("unknown field `environmnet`"),
        "{message}"
    );

    std::fs::remove_dir_all(&dir).unwrap();
    assert!(matches!(
        Bundle::open(&dir),
        Err(BundleError::NotFound { .. })
    ));
}

#[test]
fn invalid_package_writes_nothing_and_returns_every_problem() {
    let repo = strata_testkit::sample_repo();
    let layout = Layout::new(repo.path());
    let (env, pkg) = ids();
    let platform = repo.join("config/packages/core/environments/staging.platform.yaml");
    let text = std::fs::read_to_string(&platform).unwrap();
    std::fs::write(
        &platform,
        text.replace("  - name: ingress-nginx", "  - name: Ingress_Nginx"),
    )
    .unwrap();
    let Err(BundleError::Invalid(report)) = generate(&layout, &env, &pkg, &opts()) else {
        panic!("invalid")
    };
    let codes: Vec<&str> = report.diagnostics.iter().map(|d| d.code).collect();
    assert_eq!(codes, ["release-name", "unknown-need"], "{report:#?}");
    assert!(!layout.bundle_dir("staging").exists());
    assert_eq!(
        std::fs::read_dir(layout.outputs_dir())
            .map(|d| d.count())
            .unwrap_or(0),
        0,
        "no staging dir left"
    );
}

#[test]
fn the_refusal_counts_its_errors_in_words() {
    let one = strata_config::Report {
        diagnostics: vec![strata_config::Diagnostic::error(
            "infrastructure/environments/qa.yaml",
            "missing-file",
            "file does not exist",
        )],
        ..Default::default()
    };
    assert_eq!(
        BundleError::Invalid(one.clone()).to_string(),
        "the configuration is invalid (1 error)"
    );
    let mut two = one;
    two.diagnostics.push(two.diagnostics[0].clone());
    assert_eq!(
        BundleError::Invalid(two).to_string(),
        "the configuration is invalid (2 errors)"
    );
}
