//! Whether an environment named on the command line exists, before anything is done for it.

use std::collections::BTreeSet;

use strata_metadata::{EnvironmentDefinitions, EnvironmentId, did_you_mean};

use crate::locate::yaml_key;
use crate::source::{parse_yaml, read_text};
use crate::{Diagnostic, Layout};

/// Checks that `env` is an environment this repository knows: one that
/// `api/definitions/environments.yaml` defines, or one that has a bundle (`backfill` makes
/// bundles for environments that predate the definitions). A command given an unknown
/// environment should stop before it writes anything.
///
/// When the definitions cannot be read or parsed the check passes: `validate` reports that
/// problem, with its position, better than a guess here would.
pub fn check_environment(layout: &Layout, env: &EnvironmentId) -> Result<(), Diagnostic> {
    let rel = Layout::definitions_rel().join("environments.yaml");
    let Ok(text) = read_text(layout.root(), &rel) else {
        return Ok(());
    };
    let Ok(defs) = parse_yaml::<EnvironmentDefinitions>(&rel, &text) else {
        return Ok(());
    };
    if defs.environments.contains_key(env) || has_bundle(layout, env.as_str()) {
        return Ok(());
    }
    let mut known: BTreeSet<String> = defs
        .environments
        .keys()
        .map(|e| e.as_str().to_owned())
        .collect();
    known.extend(bundled(layout));
    let listed = known
        .iter()
        .map(|e| format!("`{e}`"))
        .collect::<Vec<_>>()
        .join(", ");
    let hint = match did_you_mean(env.as_str(), known.iter().map(String::as_str)) {
        Some(close) => format!("did you mean `{close}`? The known environments: {listed}"),
        None if known.is_empty() => {
            format!(
                "no environment is defined yet: add `{env}` to {}",
                rel.display()
            )
        }
        None => format!(
            "the known environments: {listed}; a new one is defined in {}",
            rel.display()
        ),
    };
    Err(Diagnostic::error(
        &rel,
        "unknown-environment",
        format!("environment `{env}` is not defined"),
    )
    .at_opt(yaml_key(&text, &["environments"]))
    .hint(hint))
}

fn has_bundle(layout: &Layout, env: &str) -> bool {
    layout.bundle_dir(env).join("metadata.json").is_file()
}

/// The environments that have a bundle under `api/outputs/`.
fn bundled(layout: &Layout) -> Vec<String> {
    let Ok(entries) = std::fs::read_dir(layout.outputs_dir()) else {
        return Vec::new();
    };
    entries
        .filter_map(Result::ok)
        .filter_map(|e| e.file_name().into_string().ok())
        // Staging folders of a bundle being written are hidden siblings (`.<env>.new-…`).
        .filter(|name| name.parse::<EnvironmentId>().is_ok())
        .filter(|name| has_bundle(layout, name))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn repo(defs: &str) -> (strata_testkit::TempDir, Layout) {
        let dir = strata_testkit::TempDir::new("envs");
        strata_testkit::write(dir.path(), "api/definitions/environments.yaml", defs);
        let layout = Layout::new(dir.path().to_owned());
        (dir, layout)
    }

    fn id(s: &str) -> EnvironmentId {
        s.parse().unwrap()
    }

    const DEFS: &str = "# The organisation's environments.\nenvironments:\n  development:\n    description: dev\n  staging:\n    description: stage\n";

    #[test]
    fn an_unknown_environment_names_the_definitions_and_the_closest() {
        let (_dir, layout) = repo(DEFS);
        assert!(check_environment(&layout, &id("staging")).is_ok());
        let typo = check_environment(&layout, &id("developmnet")).unwrap_err();
        assert_eq!(
            typo.to_string(),
            "api/definitions/environments.yaml:2:1: environment `developmnet` is not defined"
        );
        assert_eq!(
            typo.hint.as_deref(),
            Some("did you mean `development`? The known environments: `development`, `staging`")
        );
        let far = check_environment(&layout, &id("nosuch")).unwrap_err();
        assert_eq!(
            far.hint.as_deref(),
            Some(
                "the known environments: `development`, `staging`; a new one is defined in api/definitions/environments.yaml"
            )
        );
    }

    #[test]
    fn a_bundle_makes_an_environment_known() {
        let (dir, layout) = repo(DEFS);
        strata_testkit::write(dir.path(), "api/outputs/legacy-prod/metadata.json", "{}");
        strata_testkit::write(
            dir.path(),
            "api/outputs/.legacy-prod.new-1-2/metadata.json",
            "{}",
        );
        assert!(check_environment(&layout, &id("legacy-prod")).is_ok());
        let err = check_environment(&layout, &id("legacy-prd")).unwrap_err();
        assert_eq!(
            err.hint.as_deref(),
            Some(
                "did you mean `legacy-prod`? The known environments: `development`, `legacy-prod`, `staging`"
            )
        );
    }

    #[test]
    fn unreadable_definitions_are_left_to_validate() {
        let (_dir, layout) = repo("environments: [");
        assert!(check_environment(&layout, &id("nosuch")).is_ok());
        let empty = strata_testkit::TempDir::new("envs");
        assert!(check_environment(&Layout::new(empty.path().to_owned()), &id("nosuch")).is_ok());
    }
}
