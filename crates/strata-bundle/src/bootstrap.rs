//! Making sure an environment has a current bundle before a phase reads it.

use strata_config::{Definitions, Depth, Layout, load_package, selected_package};
use strata_metadata::EnvironmentId;

use crate::{Bundle, BundleError, GenerateOptions, generate};

/// What [`ensure_current`] found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Bootstrap {
    /// The bundle matched its package; nothing was written.
    Current,
    /// There was no bundle; one was generated.
    Generated,
    /// The package changed since the bundle was generated; it was regenerated.
    Regenerated,
}

/// Generates `env`'s bundle when it is missing or older than its package: the package the
/// infrastructure selector names, compared by content digest.
pub fn ensure_current(
    layout: &Layout,
    env: &EnvironmentId,
    opts: &GenerateOptions,
) -> Result<(Bundle, Bootstrap), BundleError> {
    // A backfilled bundle has no package to be compared with: it is what there is.
    if let Ok(bundle) = Bundle::open(&layout.bundle_dir(env.as_str()))
        && bundle.metadata().config_package.backfill.is_some()
    {
        return Ok((bundle, Bootstrap::Current));
    }
    let package = selected_package(layout, "infrastructure", env.as_str()).map_err(|d| {
        BundleError::Invalid(strata_config::Report {
            diagnostics: vec![d],
            ..Default::default()
        })
    })?;
    let dir = layout.bundle_dir(env.as_str());
    let outcome = match Bundle::open(&dir) {
        Ok(bundle) if matches_package(layout, &bundle, &package) => {
            return Ok((bundle, Bootstrap::Current));
        }
        Ok(_) => Bootstrap::Regenerated,
        Err(BundleError::NotFound { .. }) => Bootstrap::Generated,
        Err(e) => return Err(e),
    };
    let generated = generate(layout, env, &package, opts)?;
    Ok((Bundle::open(&generated.dir)?, outcome))
}

/// Whether `bundle` was generated from the current content of `package`.
fn matches_package(layout: &Layout, bundle: &Bundle, package: &strata_metadata::PackageId) -> bool {
    let (current, _) = load_package(
        layout,
        package.as_str(),
        &Definitions::default(),
        Depth::Manifest,
    );
    let made_from = &bundle.metadata().config_package;
    current.is_some_and(|p| p.id() == &made_from.id && p.digest == made_from.digest)
}

/// Whether `bundle` still matches the package it was generated from (its content digest); a
/// phase run on a stale bundle deploys yesterday's configuration.
pub fn is_current(layout: &Layout, bundle: &Bundle) -> bool {
    bundle.metadata().config_package.backfill.is_some()
        || matches_package(layout, bundle, &bundle.metadata().config_package.id)
}
