//! `cargo xtask backfill`: a bundle for an environment that predates config packages, and
//! optionally its move into a package.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use strata_bundle::{BundleError, backfill, source_date_epoch};
use strata_config::{Layout, plan_lock, render_lock};
use strata_metadata::FileKind;

use crate::Exit;
use crate::cli::BackfillArgs;
use crate::ui::{Ui, diagnostic_json};

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
        ui.error(message, Some(hint));
        ui.json(&serde_json::json!({"ok": false, "error": message, "hint": hint}));
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
            ui.json(&serde_json::json!({
                "ok": false,
                "diagnostics": report.diagnostics.iter().map(diagnostic_json).collect::<Vec<_>>(),
            }));
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
    let shown = done
        .dir
        .strip_prefix(layout.root())
        .unwrap_or(&done.dir)
        .display()
        .to_string();
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
        ui.json(&serde_json::json!({"ok": true, "bundle": shown, "metadata": done.metadata}));
        return Ok(Exit::Success);
    };
    to_package(layout, args, package.as_str(), &sources, ui)
}

/// Writes the sources into `config/packages/<id>` as environment `env`, bumps the package's
/// patch version and records it in the lock; then regenerates the bundle from the package. On
/// any refusal every file is put back as it was.
fn to_package(
    layout: &Layout,
    args: &BackfillArgs,
    id: &str,
    sources: &BTreeMap<FileKind, PathBuf>,
    ui: &Ui,
) -> anyhow::Result<Exit> {
    let env = args.env.as_str();
    let pkg_dir = layout.abs(Layout::package_rel(id));
    let manifest_path = pkg_dir.join("package.json");
    let Ok(manifest_text) = std::fs::read_to_string(&manifest_path) else {
        ui.error(
            &format!(
                "package `{id}` does not exist (no {})",
                manifest_path.display()
            ),
            Some("create it first, or name an existing package"),
        );
        return Ok(Exit::Invalid);
    };
    let mut manifest: serde_json::Value = serde_json::from_str(&manifest_text)?;
    if manifest["environments"].get(env).is_some() {
        ui.error(
            &format!("package `{id}` already has environment `{env}`"),
            Some("backfill into a package that does not offer it yet"),
        );
        return Ok(Exit::Invalid);
    }
    let rel = |kind: FileKind| -> String {
        match kind {
            FileKind::Terraform => format!("environments/{env}.terraform.tfvars"),
            FileKind::Provisioner => format!("environments/{env}.provisioner.json"),
            FileKind::KubesprayConfig => format!("environments/{env}.kubespray.json"),
            FileKind::KubesprayInventory => format!("kubespray/inventory/pn-{env}"),
            FileKind::Platform => format!("environments/{env}.platform.yaml"),
            FileKind::Business => format!("environments/{env}.business.yaml"),
        }
    };
    for kind in FileKind::ALL {
        if pkg_dir.join(rel(kind)).exists() {
            ui.error(
                &format!("{} already exists in package `{id}`", rel(kind)),
                Some("nothing was written; move it away or pick another package"),
            );
            return Ok(Exit::Invalid);
        }
    }
    // Write everything, remembering what to undo.
    let mut written: Vec<PathBuf> = Vec::new();
    let undo = |written: &[PathBuf]| {
        for p in written.iter().rev() {
            if p.is_dir() {
                let _ = std::fs::remove_dir_all(p);
            } else {
                let _ = std::fs::remove_file(p);
            }
        }
        let _ = std::fs::write(&manifest_path, &manifest_text);
    };
    let result: anyhow::Result<()> = (|| {
        let mut entry = serde_json::Map::new();
        for kind in FileKind::ALL {
            let to = pkg_dir.join(rel(kind));
            std::fs::create_dir_all(to.parent().expect("a parent"))?;
            if kind.is_dir() {
                written.push(to.clone());
                copy_tree(&sources[&kind], &to)?;
            } else {
                written.push(to.clone());
                std::fs::copy(&sources[&kind], &to)?;
            }
            entry.insert(kind.to_string(), rel(kind).into());
        }
        manifest["environments"][env] = serde_json::Value::Object(entry);
        let version = manifest["version"].as_str().unwrap_or("0.0.0").to_owned();
        let mut v: semver_like::Version = version.parse().map_err(|()| {
            anyhow::anyhow!("package `{id}` has version `{version}`, which is not x.y.z")
        })?;
        v.2 += 1;
        manifest["version"] = v.to_string().into();
        std::fs::write(
            &manifest_path,
            serde_json::to_string_pretty(&manifest)? + "\n",
        )?;
        Ok(())
    })();
    if let Err(e) = result {
        undo(&written);
        return Err(e);
    }
    // The package must now validate and lock (the lock refuses a package that does not
    // validate); otherwise put everything back.
    let (lock, _) = match plan_lock(layout) {
        Ok(l) => l,
        Err(diags) => {
            undo(&written);
            for d in diags.iter().filter(|d| d.is_error()) {
                ui.diagnostic(d);
            }
            let undefined = diags.iter().any(|d| {
                d.message
                    .contains("is not defined in api/definitions/environments.yaml")
            });
            let hint = if undefined {
                format!(
                    "an environment must be defined in api/definitions/environments.yaml before a package offers it; add `{env}` there and run this again"
                )
            } else {
                "fix the problems above in the source files and run this again".to_owned()
            };
            ui.error(
                &format!("package `{id}` would not validate with environment `{env}`: it was left as it was (the backfilled bundle stays)"),
                Some(&hint),
            );
            return Ok(Exit::Invalid);
        }
    };
    let lock_path = layout.abs(Layout::lock_rel());
    std::fs::write(&lock_path, render_lock(&lock))?;
    ui.result(&format!(
        "wrote environment `{env}` into package `{id}` ({}), version {}, and recorded it in config/packages.lock",
        Layout::package_rel(id).display(),
        manifest["version"].as_str().unwrap_or_default()
    ));
    ui.result(&format!(
        "next: point the module selectors of `{env}` at `{id}`, then `cargo xtask generate env --id {env} --config {id}` replaces the backfilled bundle"
    ));
    ui.json(&serde_json::json!({"ok": true, "package": id, "environment": env}));
    Ok(Exit::Success)
}

fn copy_tree(from: &Path, to: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(to)?;
    for entry in std::fs::read_dir(from)? {
        let entry = entry?;
        let dest = to.join(entry.file_name());
        if entry.file_type()?.is_dir() {
            copy_tree(&entry.path(), &dest)?;
        } else {
            std::fs::copy(entry.path(), &dest)?;
        }
    }
    Ok(())
}

/// Just enough of semver to bump a patch version.
mod semver_like {
    pub(crate) struct Version(pub(crate) u64, pub(crate) u64, pub(crate) u64);
    impl std::str::FromStr for Version {
        type Err = ();
        fn from_str(s: &str) -> Result<Self, ()> {
            let mut parts = s.split('.').map(|p| p.parse::<u64>().map_err(|_| ()));
            let v = Version(
                parts.next().ok_or(())??,
                parts.next().ok_or(())??,
                parts.next().ok_or(())??,
            );
            if parts.next().is_some() {
                return Err(());
            }
            Ok(v)
        }
    }
    impl std::fmt::Display for Version {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            write!(f, "{}.{}.{}", self.0, self.1, self.2)
        }
    }
}
