//! `cargo xtask backfill`: a bundle for an environment that predates config packages, and
//! optionally its move into a package.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use strata_bundle::{BundleError, backfill, source_date_epoch};
use strata_config::{AdoptError, Layout, add_environment};
use strata_metadata::output::{BackfillBundleOutput, BackfillOutput, BackfillPackageOutput};
use strata_metadata::{EnvironmentId, FileKind, PackageId};

use crate::Exit;
use crate::cli::BackfillArgs;
use crate::ui::{Ui, refusal};

pub(crate) fn run(layout: &Layout, args: &BackfillArgs, ui: &Ui) -> anyhow::Result<Exit> {
    let env = args.env.as_str();
    let absolute = |p: &Path| std::path::absolute(p).unwrap_or_else(|_| p.to_owned());
    let mut sources: BTreeMap<FileKind, PathBuf> = BTreeMap::new();
    sources.insert(FileKind::Terraform, absolute(&args.terraform));
    sources.insert(FileKind::KubesprayInventory, absolute(&args.inventory));
    sources.insert(FileKind::Business, absolute(&args.business));
    for (kind, path) in [
        (FileKind::Platform, &args.platform),
        (FileKind::Provisioner, &args.provisioner),
        (FileKind::KubesprayConfig, &args.kubespray_config),
    ] {
        if let Some(p) = path {
            sources.insert(kind, absolute(p));
        }
    }
    if args.to_package.is_some() && sources.len() < FileKind::ALL.len() {
        let message =
            "`--to-package` writes a whole package environment, which names all six kinds";
        let hint = "add --platform, --provisioner and --kubespray-config";
        crate::report::error(ui, message, Some(hint));
        return Ok(Exit::Invalid);
    }
    let generated_at = source_date_epoch()?.unwrap_or_else(|| {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs())
    });
    let done = match backfill(layout, &args.env, &sources, generated_at) {
        Ok(d) => d,
        Err(BundleError::Invalid(report)) => {
            for d in &report.diagnostics {
                ui.diagnostic(d);
            }
            ui.json(&refusal(&report.diagnostics));
            if !ui.json {
                ui.error(
                    &format!("cannot backfill `{env}`: nothing was written"),
                    None,
                );
            }
            return Ok(Exit::Invalid);
        }
        Err(e) => return Err(e.into()),
    };
    for w in &done.warnings {
        ui.diagnostic(w);
    }
    let shown = strata_util::shown(layout.root(), &done.dir);
    ui.result(&format!(
        "backfilled {shown} from {} sources (package `backfill`)",
        sources.len()
    ));
    for (kind, name) in &done.metadata.files {
        let from = &done
            .metadata
            .config_package
            .backfill
            .as_ref()
            .expect("a backfill")
            .sources[kind];
        ui.result(&format!("  {:18}  {name:22}  <- {from}", kind.to_string()));
    }
    let Some(package) = &args.to_package else {
        ui.json(&BackfillOutput::Bundle(BackfillBundleOutput {
            ok: true,
            bundle: shown,
            metadata: done.metadata,
        }));
        return Ok(Exit::Success);
    };
    to_package(layout, &args.env, package, &sources, ui)
}

/// Writes the sources into `config/packages/<id>` as environment `env`, bumps the package's
/// patch version and records it in the lock (strata-config's `add_environment`, which leaves
/// the package as it was on any refusal).
fn to_package(
    layout: &Layout,
    environment: &EnvironmentId,
    package: &PackageId,
    sources: &BTreeMap<FileKind, PathBuf>,
    ui: &Ui,
) -> anyhow::Result<Exit> {
    let (env, id) = (environment.as_str(), package.as_str());
    let version = match add_environment(layout, id, env, sources) {
        Ok(v) => v,
        Err(e @ AdoptError::Io { .. }) => return Err(e.into()),
        Err(e) => {
            let hint = match &e {
                AdoptError::NoPackage { .. } => {
                    "create it first, or name an existing package".to_owned()
                }
                AdoptError::EnvironmentExists { .. } => {
                    "backfill into a package that does not offer it yet".to_owned()
                }
                AdoptError::FileExists { .. } => {
                    "nothing was written; move it away or pick another package".to_owned()
                }
                AdoptError::Invalid { diagnostics, .. } => {
                    for d in diagnostics.iter().filter(|d| d.is_error()) {
                        ui.diagnostic(d);
                    }
                    if diagnostics.iter().any(|d| d.code == "unknown-environment") {
                        format!(
                            "an environment must be defined in api/definitions/environments.yaml before a package offers it; add `{env}` there and run this again"
                        )
                    } else {
                        "fix the problems above in the source files and run this again".to_owned()
                    }
                }
                AdoptError::Io { .. } => unreachable!("handled above"),
            };
            let message = format!("{e}: it was left as it was (the backfilled bundle stays)");
            crate::report::error(ui, &message, Some(&hint));
            return Ok(Exit::Invalid);
        }
    };
    ui.result(&format!(
        "wrote environment `{env}` into package `{id}` ({}), version {version}, and recorded it in config/packages.lock",
        Layout::package_rel(id).display(),
    ));
    ui.result(&format!(
        "next: point the module selectors of `{env}` at `{id}`, then `cargo xtask generate env --id {env} --config {id}` replaces the backfilled bundle"
    ));
    ui.json(&BackfillOutput::Package(BackfillPackageOutput {
        ok: true,
        package: package.clone(),
        environment: environment.clone(),
        version,
    }));
    Ok(Exit::Success)
}
