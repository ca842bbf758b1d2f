//! `validate`: every rule over the whole repository, all problems at once.

use tracing::instrument;

use crate::lock::{check_lock, check_lock_of};
use crate::package::{Depth, load_package, package_folders};
use crate::selectors::check_selectors;
use crate::{Definitions, Diagnostic, Layout, Package, Report, load_definitions};

/// A part of the repository `validate` can check on its own.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Target {
    /// `api/definitions/`.
    Definitions,
    /// `config/packages/` and the lock.
    Packages,
    /// The module selectors, `<module>/environments/<env>.yaml`.
    Environments,
}

impl Target {
    /// Every target.
    pub const ALL: [Target; 3] = [Target::Definitions, Target::Packages, Target::Environments];
}

/// Checks the chosen parts of the repository and returns every problem found.
///
/// Definitions always load (packages are checked against them), but their own problems are
/// reported only when [`Target::Definitions`] is chosen; likewise packages load for
/// [`Target::Environments`] without their files being checked.
#[instrument(skip_all)]
pub fn validate(layout: &Layout, targets: &[Target]) -> Report {
    let mut report = Report::default();
    let (defs, def_diags) = load_definitions(layout);
    if targets.contains(&Target::Definitions) {
        report.extend(def_diags);
        report.checked.definitions = true;
    }
    let check_packages = targets.contains(&Target::Packages);
    if check_packages || targets.contains(&Target::Environments) {
        let depth = if check_packages {
            Depth::Full
        } else {
            Depth::Manifest
        };
        let (packages, pkg_diags) = load_all_packages(layout, &defs, depth);
        if check_packages {
            report.checked.packages = packages.len();
            report.checked.environments =
                packages.iter().map(|p| p.manifest.environments.len()).sum();
            // The version-bump rule judges packages that are otherwise valid: a package with
            // errors is being edited, and "bump the version" would only bury the real problem.
            let valid: Vec<&Package> = packages
                .iter()
                .filter(|p| {
                    !pkg_diags
                        .iter()
                        .any(|d| d.is_error() && d.path.starts_with(p.rel_dir()))
                })
                .collect();
            report.extend(pkg_diags);
            if packages.is_empty() && !layout.abs(Layout::packages_rel()).is_dir() {
                report.push(
                    Diagnostic::error(
                        Layout::packages_rel(),
                        "missing-file",
                        "config/packages does not exist",
                    )
                    .hint("is --root (or STRATA_ROOT) the repository root?"),
                );
            }
            report.extend(check_lock_of(layout, &valid));
        }
        if targets.contains(&Target::Environments) {
            let (selectors, diags) = check_selectors(layout, &packages);
            report.checked.selectors = selectors.len();
            report.extend(diags);
        }
    }
    report.finish()
}

/// Loads every package under `config/packages`, in parallel, in folder order.
pub fn load_all_packages(
    layout: &Layout,
    defs: &Definitions,
    depth: Depth,
) -> (Vec<Package>, Vec<Diagnostic>) {
    let folders = package_folders(layout);
    let results = strata_util::map_bounded(&folders, strata_util::default_workers(), |folder| {
        load_package(layout, folder, defs, depth)
    });
    let mut packages = Vec::new();
    let mut diags = Vec::new();
    for (p, d) in results {
        packages.extend(p);
        diags.extend(d);
    }
    (packages, diags)
}

/// What `generate env` checks before rendering: the definitions, the one package with all its
/// files, its lock entry, and that every module selecting `env` selects this package.
///
/// Returns the package when it loaded, and the problems found.
#[instrument(skip_all, fields(env = env.as_str(), package = package_id.as_str()))]
pub fn check_for_generate(
    layout: &Layout,
    env: &strata_metadata::EnvironmentId,
    package_id: &strata_metadata::PackageId,
) -> (Option<Package>, Report) {
    let mut report = Report::default();
    let (defs, def_diags) = load_definitions(layout);
    report.extend(def_diags);
    let (package, diags) = load_package(layout, package_id.as_str(), &defs, Depth::Full);
    let package_ok = !diags.iter().any(Diagnostic::is_error);
    report.extend(diags);
    if let Some(p) = &package {
        if package_ok {
            report.extend(check_lock(layout, std::slice::from_ref(p)));
        }
        if !p.manifest.environments.contains_key(env) {
            let offered: Vec<String> = p
                .manifest
                .environments
                .keys()
                .map(|e| format!("`{e}`"))
                .collect();
            report.push(
                Diagnostic::error(
                    p.rel_dir().join("package.json"),
                    "package-environment",
                    format!("package `{package_id}` does not offer environment `{env}`"),
                )
                .hint(format!("it offers {}", offered.join(", "))),
            );
        }
        let (selectors, sel_diags) = crate::check_selectors(layout, std::slice::from_ref(p));
        let env_files: Vec<_> = selectors
            .iter()
            .filter(|s| &s.selector.environment == env)
            .map(|s| s.path.clone())
            .collect();
        report.extend(
            sel_diags
                .into_iter()
                .filter(|d| env_files.contains(&d.path) && d.code != "unknown-package"),
        );
        for s in selectors
            .iter()
            .filter(|s| &s.selector.environment == env && &s.selector.config_package != package_id)
        {
            report.push(
                Diagnostic::error(
                    &s.path,
                    "selector-package",
                    format!(
                        "module `{}` selects package `{}` for `{env}`, not `{package_id}`",
                        s.module, s.selector.config_package
                    ),
                )
                .hint(format!(
                    "generate with `--config {}`, or change the selector",
                    s.selector.config_package
                )),
            );
        }
    } else if !layout
        .abs(Layout::package_rel(package_id.as_str()))
        .is_dir()
    {
        let folders = package_folders(layout);
        let hint = match strata_metadata::did_you_mean(
            package_id.as_str(),
            folders.iter().map(String::as_str),
        ) {
            Some(m) => format!("did you mean `{m}`?"),
            None if folders.is_empty() => {
                "there are no packages under config/packages: is --root (or STRATA_ROOT) the repository root?".to_owned()
            }
            None => format!("packages here: {}", folders.join(", ")),
        };
        // The package folder's own "cannot be read" is what this error says better.
        let dir = Layout::package_rel(package_id.as_str());
        report.diagnostics.retain(|d| !d.path.starts_with(&dir));
        report.push(
            Diagnostic::error(
                Layout::package_rel(package_id.as_str()),
                "unknown-package",
                format!("package `{package_id}` does not exist"),
            )
            .hint(hint),
        );
    }
    (package, report.finish())
}
