//! Staging a bundle's tfvars into a module: only the variables the module declares, with a
//! header that lets the next run tell an out-of-date file from a hand-edited one.

use std::path::{Path, PathBuf};

use sha2::{Digest as _, Sha256};
use strata_config::ModuleVariables;

use crate::TerraformError;

/// The file Strata writes into each module.
pub const STAGED_FILE: &str = "terraform.tfvars";

/// The override file Strata writes into a module when the package uses a remote backend.
pub const BACKEND_OVERRIDE_FILE: &str = "strata_backend_override.tf";

const MARK: &str = "# Staged by Strata from ";

/// What staging did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StageOutcome {
    /// There was no staged file; one was written.
    Created,
    /// The staged file already had this content; nothing was written.
    Unchanged,
    /// The staged file came from another bundle (or environment); it was replaced.
    Replaced,
    /// The staged file had been edited by hand and `force` replaced it.
    Overwrote,
    /// Dry run: the staged file was edited by hand and `force` would replace it; it was kept.
    WouldOverwrite,
}

/// The staged content for `module`: a header naming the bundle file and its digest (and the
/// digest of the staged content itself, which tells a hand edit apart), then the bundle's
/// assignments for the variables the module declares, in the bundle's order.
///
/// `overrides` are values Strata supplies (the published role image, its checksum, whether the
/// image runs the guest agent): each replaces the bundle's value in place, or, when the bundle
/// has none, is appended. Only variables the module declares are written.
pub fn render(
    bundle_tfvars: &str,
    source: &str,
    module: &ModuleVariables,
    overrides: &[(&str, hcl::Expression)],
) -> Result<String, TerraformError> {
    let body = hcl::parse(bundle_tfvars).map_err(|e| TerraformError::Tfvars {
        path: PathBuf::from(source),
        message: e.to_string(),
    })?;
    let mut kept: hcl::Body = body
        .attributes()
        .filter(|a| module.declares(a.key()))
        .map(|a| match overrides.iter().find(|(k, _)| *k == a.key()) {
            Some((k, v)) => hcl::Attribute::new(*k, v.clone()),
            None => a.clone(),
        })
        .collect();
    for (key, value) in overrides {
        if module.declares(key) && !body.attributes().any(|a| a.key() == *key) {
            kept.0.push(hcl::Attribute::new(*key, value.clone()).into());
        }
    }
    let content = hcl::format::to_string(&kept).map_err(|e| TerraformError::Tfvars {
        path: PathBuf::from(source),
        message: e.to_string(),
    })?;
    let digest = hex(&Sha256::digest(content.as_bytes()));
    let bundle_digest = hex(&Sha256::digest(bundle_tfvars.as_bytes()));
    Ok(format!(
        "{MARK}{source} (bundle sha256:{bundle_digest}, content sha256:{digest}); do not edit: regenerate with `cargo xtask generate env`\n{content}"
    ))
}

/// Writes `staged` into `dir/terraform.tfvars` unless it is already there. A file whose content
/// no longer matches its own header was edited by hand: that stops the run unless `force`.
///
/// A dry run stages too (staging is local and reversible), except over a hand edit: that is
/// only reported, never replaced, whatever `force` says.
pub fn stage(
    dir: &Path,
    staged: &str,
    force: bool,
    dry_run: bool,
) -> Result<StageOutcome, TerraformError> {
    let path = dir.join(STAGED_FILE);
    let outcome = match std::fs::read_to_string(&path) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => StageOutcome::Created,
        Err(source) => {
            return Err(TerraformError::Io {
                action: "read",
                path,
                source,
            });
        }
        Ok(existing) if existing == staged => return Ok(StageOutcome::Unchanged),
        Ok(existing) if intact(&existing) => StageOutcome::Replaced,
        Ok(_) if force && dry_run => return Ok(StageOutcome::WouldOverwrite),
        Ok(_) if force => StageOutcome::Overwrote,
        Ok(_) => return Err(TerraformError::HandEdited { path }),
    };
    strata_util::write_atomic(&path, staged.as_bytes()).map_err(|source| TerraformError::Io {
        action: "write",
        path: path.clone(),
        source,
    })?;
    Ok(outcome)
}

/// Whether a staged file still matches the digest in its own header.
fn intact(existing: &str) -> bool {
    let Some((header, body)) = existing.split_once('\n') else {
        return false;
    };
    let Some(rest) = header.strip_prefix(MARK) else {
        return false;
    };
    let Some(digest) = rest
        .split("content sha256:")
        .nth(1)
        .and_then(|r| r.split(')').next())
    else {
        return false;
    };
    hex(&Sha256::digest(body.as_bytes())) == digest
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn module(vars: &[&str]) -> ModuleVariables {
        ModuleVariables {
            dir: "m".into(),
            variables: vars.iter().map(|v| (v.to_string(), true)).collect(),
            types: Default::default(),
        }
    }

    const TFVARS: &str = "# comment\na = 1\nb = \"two\"\nc = [\"x\"]\n";

    #[test]
    fn overrides_replace_declared_values_only() {
        let out = render(
            TFVARS,
            "t",
            &module(&["a", "b"]),
            &[
                ("b", "three".into()),
                ("c", "never".into()),
                ("d", true.into()),
            ],
        )
        .unwrap();
        let body = out.split_once('\n').unwrap().1;
        assert_eq!(body, "a = 1\nb = \"three\"\n");
    }

    #[test]
    fn overrides_the_bundle_lacks_are_appended() {
        let out = render(
            TFVARS,
            "t",
            &module(&["a", "d"]),
            &[("d", true.into()), ("e", "never".into())],
        )
        .unwrap();
        let body = out.split_once('\n').unwrap().1;
        assert_eq!(body, "a = 1\nd = true\n");
    }

    #[test]
    fn keeps_only_declared_variables_in_order() {
        let out = render(
            TFVARS,
            "api/outputs/dev/terraform.tfvars",
            &module(&["c", "a"]),
            &[],
        )
        .unwrap();
        let (header, body) = out.split_once('\n').unwrap();
        assert!(
            header.starts_with(
                "# Staged by Strata from api/outputs/dev/terraform.tfvars (bundle sha256:"
            ),
            "{header}"
        );
        assert!(header.contains(", content sha256:"), "{header}");
        assert_eq!(body, "a = 1\nc = [\n  \"x\"\n]\n");
    }

    #[test]
    fn fresh_identical_stale_and_hand_edited() {
        let dir = strata_testkit::TempDir::new("stage");
        let first = render(TFVARS, "bundle-a", &module(&["a", "b"]), &[]).unwrap();
        let second = render(
            &TFVARS.replace("1", "2"),
            "bundle-b",
            &module(&["a", "b"]),
            &[],
        )
        .unwrap();
        assert_eq!(
            stage(dir.path(), &first, false, false).unwrap(),
            StageOutcome::Created
        );
        assert_eq!(
            stage(dir.path(), &first, false, false).unwrap(),
            StageOutcome::Unchanged
        );
        assert_eq!(
            stage(dir.path(), &second, false, false).unwrap(),
            StageOutcome::Replaced
        );
        let path = dir.join(STAGED_FILE);
        std::fs::write(&path, second.replace("a = 2", "a = 3")).unwrap();
        let err = stage(dir.path(), &first, false, false).unwrap_err();
        assert!(matches!(err, TerraformError::HandEdited { .. }), "{err}");
        assert!(
            std::fs::read_to_string(&path).unwrap().contains("a = 3"),
            "the edit is kept"
        );
        assert_eq!(
            stage(dir.path(), &first, true, true).unwrap(),
            StageOutcome::WouldOverwrite
        );
        assert!(
            std::fs::read_to_string(&path).unwrap().contains("a = 3"),
            "a dry run never overwrites a hand edit"
        );
        assert_eq!(
            stage(dir.path(), &first, true, false).unwrap(),
            StageOutcome::Overwrote
        );
        assert_eq!(std::fs::read_to_string(&path).unwrap(), first);
        std::fs::write(&path, "a = 9\n").unwrap();
        assert!(
            matches!(
                stage(dir.path(), &first, false, false),
                Err(TerraformError::HandEdited { .. })
            ),
            "a file with no header is not Strata's"
        );
    }
}
