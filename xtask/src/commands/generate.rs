//! `cargo xtask generate env`.

use anyhow::Context as _;
use strata_bundle::{BundleError, GenerateOptions, generate, source_date_epoch};
use strata_config::Layout;
use strata_metadata::FileKind;
use strata_metadata::output::GenerateOutput;

use crate::Exit;
use crate::cli::{GenerateCommand, GenerateEnvArgs};
use crate::ui::{Ui, refusal};

pub(crate) fn run(layout: &Layout, cmd: &GenerateCommand, ui: &Ui) -> anyhow::Result<Exit> {
    match cmd {
        GenerateCommand::Env(args) => env(layout, args, ui),
    }
}

fn env(layout: &Layout, args: &GenerateEnvArgs, ui: &Ui) -> anyhow::Result<Exit> {
    let opts = GenerateOptions {
        skip_validate: args.skip_validate,
        generated_at: source_date_epoch()?,
    };
    let target = layout.bundle_dir(args.id.as_str());
    let shown = strata_util::shown(layout.root(), &target);
    let generated = match generate(layout, &args.id, &args.config, &opts) {
        Ok(g) => g,
        Err(BundleError::Invalid(report)) => {
            for d in &report.diagnostics {
                ui.diagnostic(d);
            }
            ui.json(&refusal(&report.diagnostics));
            if !ui.json {
                let state = if target.exists() {
                    "left unchanged"
                } else {
                    "not written"
                };
                let n = report.error_count();
                let errors = super::validate::plural(n, "error");
                ui.error(
                    &format!(
                        "cannot generate `{}` from `{}`: {n} {errors}; {shown} {state}",
                        args.id, args.config
                    ),
                    None,
                );
            }
            return Ok(Exit::Invalid);
        }
        Err(e) => return Err(e).with_context(|| format!("failed to generate {shown}")),
    };
    for d in &generated.warnings {
        ui.diagnostic(d);
    }
    if args.skip_validate && !generated.warnings.is_empty() {
        let n = generated.warnings.len();
        ui.warning(
            &format!("--skip-validate: {n} {} above {} not enforced",
                super::validate::plural(n, "problem"),
                if n == 1 { "was" } else { "were" }),
            Some("this bundle may not match config/packages.lock; run `cargo xtask validate` before deploying it"),
        );
    }
    let m = &generated.metadata;
    ui.json(&GenerateOutput {
        ok: true,
        environment: m.environment.clone(),
        bundle: shown.clone(),
        config_package: m.config_package.clone(),
        generated_at: m.generated_at.clone(),
        files: m.files.clone(),
        file_count: m.digests.len(),
        unchanged: generated.unchanged,
    });
    let pkg = &m.config_package;
    let change = if generated.unchanged {
        " (content unchanged)"
    } else {
        ""
    };
    ui.result(&format!(
        "{} {shown} from {}@{} (package {}){change}",
        ui.ok("generated"),
        pkg.id,
        pkg.version,
        pkg.digest.short(12)
    ));
    for kind in FileKind::ALL {
        let Some(name) = m.files.get(&kind) else {
            continue;
        };
        let detail = if kind.is_dir() {
            let n = m
                .digests
                .keys()
                .filter(|k| k.starts_with(&format!("{name}/")))
                .count();
            format!("{name}/ ({n} {})", super::validate::plural(n, "file"))
        } else {
            let digest = &m.digests[name];
            format!("{name:<22} {}", digest.short(12))
        };
        ui.result(&format!("  {:<19} {detail}", kind.key()));
    }
    Ok(Exit::Success)
}
