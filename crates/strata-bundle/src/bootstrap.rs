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
    let package = selected_package(layout, "infrastructure", env.as_str()).map_err(|d| {
        BundleError::Invalid(strata_config::Report {
            diagnostics: vec![d],
            ..Default::default()
        })
    })?;
    let dir = layout.bundle_dir(env.as_str());
    let outcome = match Bundle::open(&dir) {
        Ok(bundle) => {
            let (current, _) = load_package(
                layout,
                package.as_str(),
                &Definitions::default(),
                Depth::Manifest,
            );
            let same = current.is_some_and(|p| {
                p.digest == bundle.metadata().config_package.digest
                    && p.id() == &bundle.metadata().config_package.id
            });
            if same {
                return Ok((bundle, Bootstrap::Current));
            }
            Bootstrap::Regenerated
        }
        Err(BundleError::NotFound { .. }) => Bootstrap::Generated,
        Err(e) => return Err(e),
    };
    let generated = generate(layout, env, &package, opts)?;
    Ok((Bundle::open(&generated.dir)?, outcome))
}
