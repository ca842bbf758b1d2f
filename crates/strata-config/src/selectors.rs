//! The module selectors, `<module>/environments/<env>.yaml`: which package each environment uses.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

use strata_metadata::{EnvironmentId, ModuleSelector, did_you_mean};

use crate::locate::yaml_key;
use crate::source::{parse_yaml, read_text};
use crate::{Diagnostic, Layout, MODULES, Package};

/// One selector file that loaded.
#[derive(Debug, Clone)]
pub struct Selector {
    /// The module (`infrastructure`, …).
    pub module: &'static str,
    /// The file, relative to the root.
    pub path: PathBuf,
    /// Its content.
    pub selector: ModuleSelector,
    text: String,
}

impl Selector {
    /// The environment the file is named after.
    pub fn env_of_file(&self) -> &str {
        self.path
            .file_stem()
            .and_then(|s| s.to_str())
            .unwrap_or_default()
    }
}

/// Loads every module's selectors and checks them against the loaded packages: the file name
/// is the environment, the package exists and offers it, and all modules agree per environment.
pub fn check_selectors(layout: &Layout, packages: &[Package]) -> (Vec<Selector>, Vec<Diagnostic>) {
    let mut diags = Vec::new();
    let mut selectors = Vec::new();
    for module in MODULES {
        let dir_rel = Layout::selectors_rel(module);
        let Ok(entries) = std::fs::read_dir(layout.abs(&dir_rel)) else {
            diags.push(
                Diagnostic::error(
                    &dir_rel,
                    "missing-file",
                    format!("module `{module}` has no environments/ folder"),
                )
                .hint(format!(
                    "create {}/<env>.yaml naming the package each environment uses",
                    dir_rel.display()
                )),
            );
            continue;
        };
        let mut names: Vec<String> = entries
            .filter_map(Result::ok)
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        for name in names {
            let rel = dir_rel.join(&name);
            let Some(stem) = name.strip_suffix(".yaml") else {
                if name.ends_with(".yml") {
                    diags.push(
                        Diagnostic::error(
                            &rel,
                            "selector-name",
                            "selector files end in `.yaml`, not `.yml`",
                        )
                        .hint(format!(
                            "rename it to {}",
                            name.trim_end_matches(".yml").to_owned() + ".yaml"
                        )),
                    );
                }
                continue;
            };
            if let Err(e) = EnvironmentId::new(stem) {
                diags.push(
                    Diagnostic::error(&rel, "environment-id", format!("file name: {e}"))
                        .hint("name the file after the environment, such as `development.yaml`"),
                );
                continue;
            }
            let text = match read_text(layout.root(), &rel) {
                Ok(t) => t,
                Err(d) => {
                    diags.push(d);
                    continue;
                }
            };
            let selector: ModuleSelector = match parse_yaml(&rel, &text) {
                Ok(s) => s,
                Err(d) => {
                    diags.push(d);
                    continue;
                }
            };
            if selector.environment.as_str() != stem {
                diags.push(
                    Diagnostic::error(
                        &rel,
                        "selector-environment",
                        format!(
                            "selector names environment `{}` but the file is for `{stem}`",
                            selector.environment
                        ),
                    )
                    .at_opt(yaml_key(&text, &["environment"]))
                    .hint(format!("set `environment: {stem}`")),
                );
            }
            selectors.push(Selector {
                module,
                path: rel,
                selector,
                text,
            });
        }
    }

    // A package whose folder exists but whose manifest did not load has its own errors; saying
    // "does not exist" about it would mislead.
    let present = |id: &str| {
        layout
            .abs(Layout::package_rel(id))
            .join("package.json")
            .is_file()
    };
    for s in &selectors {
        let pkg_pos = yaml_key(&s.text, &["configPackage"]);
        let id = &s.selector.config_package;
        match packages.iter().find(|p| p.id() == id) {
            None if present(id.as_str()) => {}
            None => {
                let hint = match did_you_mean(id.as_str(), packages.iter().map(|p| p.id().as_str()))
                {
                    Some(m) => format!("did you mean `{m}`?"),
                    None => format!(
                        "packages are folders under config/packages ({})",
                        packages
                            .iter()
                            .map(|p| format!("`{}`", p.id()))
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                };
                diags.push(
                    Diagnostic::error(
                        &s.path,
                        "unknown-package",
                        format!("package `{id}` does not exist"),
                    )
                    .at_opt(pkg_pos)
                    .hint(hint),
                );
            }
            // A selector whose `environment` disagrees with its file name is reported above;
            // judging the package by the mistyped field would only repeat that mistake.
            Some(p)
                if s.selector.environment.as_str() == s.env_of_file()
                    && !p
                        .manifest
                        .environments
                        .contains_key(&s.selector.environment) =>
            {
                diags.push(
                    Diagnostic::error(
                        &s.path,
                        "package-environment",
                        format!(
                            "package `{id}` does not offer environment `{}`",
                            s.selector.environment
                        ),
                    )
                    .at_opt(pkg_pos)
                    .hint(format!(
                        "add it under `environments` in config/packages/{}/package.json",
                        p.folder
                    )),
                );
            }
            Some(_) => {}
        }
    }

    // Grouped by file name: a selector whose `environment` field is wrong is reported above and
    // still belongs to the environment its file is named after.
    let mut by_env: BTreeMap<&str, Vec<&Selector>> = BTreeMap::new();
    for s in &selectors {
        by_env.entry(s.env_of_file()).or_default().push(s);
    }
    for (env, group) in by_env {
        // Disagreement is judged among packages that exist; a missing one is reported above.
        let used: BTreeSet<&str> = group
            .iter()
            .map(|s| s.selector.config_package.as_str())
            .filter(|id| packages.iter().any(|p| p.id().as_str() == *id))
            .collect();
        if used.len() > 1 {
            let summary = group
                .iter()
                .map(|s| format!("{} uses `{}`", s.module, s.selector.config_package))
                .collect::<Vec<_>>()
                .join(", ");
            for s in &group {
                diags.push(
                    Diagnostic::error(
                        &s.path,
                        "selectors-disagree",
                        format!("modules disagree on the package for `{env}`: {summary}"),
                    )
                    .at_opt(yaml_key(&s.text, &["configPackage"]))
                    .hint("every module of one environment uses the same package"),
                );
            }
        }
        let present: BTreeSet<&str> = group.iter().map(|s| s.module).collect();
        for module in MODULES.iter().filter(|m| !present.contains(*m)) {
            diags.push(
                Diagnostic::warning(
                    Layout::selectors_rel(module).join(format!("{env}.yaml")),
                    "selector-missing",
                    format!(
                        "module `{module}` has no selector for `{env}`, which other modules have"
                    ),
                )
                .hint("add it so every layer agrees on the package"),
            );
        }
    }
    (selectors, diags)
}

/// The package `module` selects for `env`, read from `<module>/environments/<env>.yaml`.
pub fn selected_package(
    layout: &Layout,
    module: &str,
    env: &str,
) -> Result<strata_metadata::PackageId, Diagnostic> {
    let rel = Layout::selectors_rel(module).join(format!("{env}.yaml"));
    let text = read_text(layout.root(), &rel)?;
    let selector: ModuleSelector = parse_yaml(&rel, &text)?;
    Ok(selector.config_package)
}
