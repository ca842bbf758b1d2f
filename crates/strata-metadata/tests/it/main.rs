//! Repository checks for the metadata types: the checked-in schemas match the types.

mod output;

use strata_metadata::{BundleMetadata, schema_files};

/// Every file under `dir`, as `/`-separated paths below it.
fn files_under(dir: &std::path::Path, prefix: &str) -> Vec<String> {
    let mut names = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let entry = entry.unwrap();
        let name = format!("{prefix}{}", entry.file_name().to_string_lossy());
        if entry.file_type().unwrap().is_dir() {
            names.extend(files_under(&entry.path(), &format!("{name}/")));
        } else {
            names.push(name);
        }
    }
    names
}

/// `api/schemas/` holds exactly the schemas generated from the types. A stale file is rewritten
/// locally (then the test fails so the change gets committed); under CI it only fails.
#[test]
fn schemas_are_up_to_date() {
    let dir = strata_testkit::workspace_root().join("api/schemas");
    let in_ci = std::env::var_os("CI").is_some();
    let mut stale = Vec::new();
    let files = schema_files();
    for schema in &files {
        let path = dir.join(schema.name);
        if std::fs::read_to_string(&path).ok().as_deref() != Some(schema.content.as_str()) {
            stale.push(schema.name.to_owned());
            if !in_ci {
                std::fs::create_dir_all(path.parent().unwrap()).unwrap();
                std::fs::write(&path, &schema.content).unwrap();
            }
        }
    }
    let expected: Vec<&str> = files.iter().map(|s| s.name).collect();
    for name in files_under(&dir, "") {
        if !expected.contains(&name.as_str()) {
            stale.push(format!("{name} (no type produces it; delete it)"));
        }
    }
    assert!(
        stale.is_empty(),
        "api/schemas is out of date: {}\n{}",
        stale.join(", "),
        if in_ci {
            "run `cargo test -p strata-metadata` locally and commit api/schemas"
        } else {
            "rewrote them: review and commit api/schemas"
        }
    );
}

#[test]
fn metadata_schema_names_every_field() {
    let schema = schema_files()
        .into_iter()
        .find(|s| s.name == "metadata.schema.json")
        .unwrap();
    for field in [
        "schemaVersion",
        "environment",
        "configPackage",
        "generatedAt",
        "files",
        "digests",
    ] {
        assert!(schema.content.contains(&format!("\"{field}\"")), "{field}");
    }
    assert!(schema.content.contains("^sha256:[0-9a-f]{64}$"));
}

#[test]
fn metadata_rejects_unknown_fields_and_bad_digests() {
    let good = r#"{"schemaVersion":1,"environment":"development","configPackage":{"id":"core","version":"0.2.0","digest":"sha256:5e1b6136aec73c71c01b7d686c252106363ac363f02d53dac3d1187d272237bd"},"generatedAt":"2026-11-25T09:41:55Z","files":{"terraform":"terraform.tfvars"},"digests":{}}"#;
    let parsed: BundleMetadata = serde_json::from_str(good).unwrap();
    assert_eq!(
        serde_json::to_string(&parsed).unwrap(),
        good,
        "round trip keeps the exact form"
    );
    let extra = good.replace("\"digests\"", "\"extra\":1,\"digests\"");
    assert!(
        serde_json::from_str::<BundleMetadata>(&extra)
            .unwrap_err()
            .to_string()
            .contains("unknown field `extra`")
    );
    let bad = good.replace("sha256:5e1b", "sha1:5e1b");
    assert!(
        serde_json::from_str::<BundleMetadata>(&bad)
            .unwrap_err()
            .to_string()
            .contains("does not start with `sha256:`")
    );
    let hostile = good.replace("\"development\"", "\"../etc\"");
    assert!(
        serde_json::from_str::<BundleMetadata>(&hostile)
            .unwrap_err()
            .to_string()
            .contains("would leave its directory")
    );
}

/// `docs/reference/output.md` links every `--output json` schema, so the table a script
/// author reads names each document there is.
#[test]
fn the_output_reference_lists_every_document_schema() {
    let doc =
        std::fs::read_to_string(strata_testkit::workspace_root().join("docs/reference/output.md"))
            .unwrap();
    let missing: Vec<&str> = schema_files()
        .iter()
        .map(|s| s.name)
        .filter(|n| n.starts_with("output/"))
        .filter(|n| !doc.contains(&format!("(../../api/schemas/{n})")))
        .collect();
    assert!(
        missing.is_empty(),
        "docs/reference/output.md does not link: {}",
        missing.join(", ")
    );
}
