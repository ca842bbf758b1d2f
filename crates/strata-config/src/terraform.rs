//! The Terraform modules packages feed: which variables each declares, and whether an
//! environment's tfvars fits them.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use strata_metadata::did_you_mean;

use crate::source::read_text;
use crate::tftype::{Mismatch, TypeConstraint, check_value};
use crate::{Diagnostic, Layout};

/// The infrastructure modules, in the order they are applied.
pub const TERRAFORM_MODULES: [&str; 3] = ["images", "templates", "nodes"];

/// The platform whose modules packages target today.
pub const DEFAULT_PLATFORM: &str = "proxmox";

/// The `images` module's variable for the cloud image's SHA-256. It is required, but a tfvars
/// file need not set it: `cargo xtask infra` stages the digest the package already knows (the
/// provisioner's base image with the same URL, or the published template image's record).
pub const IMAGE_CHECKSUM_VARIABLE: &str = "cloud_image_sha256";

/// One module's declared variables.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ModuleVariables {
    /// The module folder, relative to the repository root.
    pub dir: PathBuf,
    /// Variable name to whether it is required (declared without a `default`).
    pub variables: BTreeMap<String, bool>,
    /// Variable name to its `type` constraint, for the variables whose `type` Strata reads
    /// (one that is missing or unreadable is left to terraform).
    pub types: BTreeMap<String, TypeConstraint>,
}

impl ModuleVariables {
    /// Whether the module declares `name`.
    pub fn declares(&self, name: &str) -> bool {
        self.variables.contains_key(name)
    }

    /// The variables that have no default.
    pub fn required(&self) -> impl Iterator<Item = &str> {
        self.variables
            .iter()
            .filter(|(_, req)| **req)
            .map(|(n, _)| n.as_str())
    }
}

/// `infrastructure/platforms/<platform>/terraform/<module>`, relative to the root.
pub fn module_rel(platform: &str, module: &str) -> PathBuf {
    Path::new("infrastructure/platforms")
        .join(platform)
        .join("terraform")
        .join(module)
}

/// Reads the `variable` blocks of every `.tf` file of a module (override files excluded: they
/// only adjust, and Strata writes its own backend override there).
pub fn module_variables(
    layout: &Layout,
    rel_dir: &Path,
) -> Result<ModuleVariables, Vec<Diagnostic>> {
    let entries = std::fs::read_dir(layout.abs(rel_dir))
        .map_err(|e| vec![crate::source::io_diagnostic(rel_dir, &e)])?;
    let mut files: Vec<String> = entries
        .filter_map(Result::ok)
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".tf") && !n.ends_with("_override.tf") && n != "override.tf")
        .collect();
    files.sort();
    let mut out = ModuleVariables {
        dir: rel_dir.to_owned(),
        variables: BTreeMap::new(),
        types: BTreeMap::new(),
    };
    let mut diags = Vec::new();
    for name in files {
        let rel = rel_dir.join(&name);
        let text = match read_text(layout.root(), &rel) {
            Ok(t) => t,
            Err(d) => {
                diags.push(d);
                continue;
            }
        };
        let body = match hcl::parse(&text) {
            Ok(b) => b,
            Err(hcl::Error::Parse(e)) => {
                let loc = e.location();
                diags.push(
                    Diagnostic::error(&rel, "invalid-hcl", format!("invalid HCL: {}", e.message()))
                        .at((loc.line(), loc.column())),
                );
                continue;
            }
            Err(e) => {
                diags.push(Diagnostic::error(
                    &rel,
                    "invalid-hcl",
                    format!("invalid HCL: {e}"),
                ));
                continue;
            }
        };
        for block in body.blocks().filter(|b| b.identifier() == "variable") {
            if let Some(label) = block.labels().first() {
                let required = !block.body().attributes().any(|a| a.key() == "default");
                out.variables.insert(label.as_str().to_owned(), required);
                let ty = block
                    .body()
                    .attributes()
                    .find(|a| a.key() == "type")
                    .and_then(|a| TypeConstraint::parse(a.expr()).ok());
                if let Some(ty) = ty {
                    out.types.insert(label.as_str().to_owned(), ty);
                }
            }
        }
    }
    if diags.is_empty() {
        Ok(out)
    } else {
        Err(diags)
    }
}

/// The modules of the default platform that exist in this repository.
pub fn load_modules(layout: &Layout) -> (Vec<ModuleVariables>, Vec<Diagnostic>) {
    let mut modules = Vec::new();
    let mut diags = Vec::new();
    for module in TERRAFORM_MODULES {
        let rel = module_rel(DEFAULT_PLATFORM, module);
        if !layout.abs(&rel).is_dir() {
            continue;
        }
        match module_variables(layout, &rel) {
            Ok(m) => modules.push(m),
            Err(d) => diags.extend(d),
        }
    }
    // Checking tfvars against a partial set of modules would report every variable of the
    // broken module as undeclared; the module's own error says what to fix first.
    if !diags.is_empty() {
        modules.clear();
    }
    (modules, diags)
}

/// Checks an environment's tfvars against the modules: every key is declared by some module (a
/// typo fails here, not twenty minutes into a run), every value fits the type each module that
/// declares it gives it, and every module's required variables are set.
pub(crate) fn check_tfvars_against(
    rel: &Path,
    text: &str,
    body: &hcl::Body,
    edit: &hcl::edit::structure::Body,
    modules: &[ModuleVariables],
) -> Vec<Diagnostic> {
    if modules.is_empty() {
        return Vec::new();
    }
    let mut out = Vec::new();
    let keys: Vec<&str> = body.attributes().map(|a| a.key()).collect();
    for key in &keys {
        if !modules.iter().any(|m| m.declares(key)) {
            let all = modules
                .iter()
                .flat_map(|m| m.variables.keys().map(String::as_str));
            let hint = match did_you_mean(key, all) {
                Some(m) => format!("did you mean `{m}`?"),
                None => "declare it in the module that uses it, or remove it".to_owned(),
            };
            out.push(
                Diagnostic::error(
                    rel,
                    "tfvars-undeclared",
                    format!(
                        "`{key}` is not a variable of any Terraform module ({})",
                        module_list(modules)
                    ),
                )
                .at_opt(attribute_position(text, key))
                .hint(hint),
            );
        }
    }
    out.extend(check_types(rel, text, edit, modules));
    for m in modules {
        for required in m.required() {
            if !keys.contains(&required) && required != IMAGE_CHECKSUM_VARIABLE {
                out.push(
                    Diagnostic::error(
                        rel,
                        "tfvars-missing",
                        format!(
                            "`{required}` is required by module `{}` but not set",
                            m.dir.display()
                        ),
                    )
                    .hint(format!(
                        "add `{required} = …`; see {}/variables.tf",
                        m.dir.display()
                    )),
                );
            }
        }
    }
    out
}

/// `tfvars-type`: each value against the type of each module that declares it (modules that
/// agree on a type are checked once), pointing at the offending value itself.
fn check_types(
    rel: &Path,
    text: &str,
    body: &hcl::edit::structure::Body,
    modules: &[ModuleVariables],
) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    for attr in body.attributes() {
        let name = attr.key.as_str();
        let mut seen: Vec<(&TypeConstraint, Vec<Mismatch>)> = Vec::new();
        for m in modules {
            let Some(ty) = m.types.get(name) else {
                continue;
            };
            if seen.iter().any(|(t, _)| *t == ty) {
                continue;
            }
            let mut found = Vec::new();
            check_value(ty, &attr.value, name, &mut found);
            for mismatch in &found {
                if seen.iter().any(|(_, f)| f.contains(mismatch)) {
                    continue;
                }
                let declared_by: Vec<&ModuleVariables> = modules
                    .iter()
                    .filter(|o| o.types.get(name) == Some(ty))
                    .collect();
                out.push(
                    Diagnostic::error(
                        rel,
                        "tfvars-type",
                        format!("`{}` {}", mismatch.path, mismatch.problem),
                    )
                    .at_opt(mismatch.span.as_ref().map(|s| position(text, s.start)))
                    .hint(format!(
                        "`{name}` is declared `type = {ty}` in {} ({}); write a value of that type",
                        declared_by[0].dir.join("variables.tf").display(),
                        module_list_of(&declared_by),
                    )),
                );
            }
            seen.push((ty, found));
        }
    }
    out
}

/// The 1-based line and column of a byte offset.
fn position(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, column)
}

fn module_list_of(modules: &[&ModuleVariables]) -> String {
    let names: Vec<String> = modules
        .iter()
        .filter_map(|m| m.dir.file_name())
        .map(|n| n.to_string_lossy().into_owned())
        .collect();
    let noun = if names.len() == 1 {
        "module"
    } else {
        "modules"
    };
    format!("{noun} {}", names.join(", "))
}

fn module_list(modules: &[ModuleVariables]) -> String {
    modules
        .iter()
        .filter_map(|m| m.dir.file_name())
        .map(|n| n.to_string_lossy().into_owned())
        .collect::<Vec<_>>()
        .join(", ")
}

fn attribute_position(text: &str, key: &str) -> Option<(usize, usize)> {
    text.lines().enumerate().find_map(|(n, line)| {
        let t = line.trim_start();
        let rest = t.strip_prefix(key)?;
        rest.trim_start()
            .starts_with('=')
            .then(|| (n + 1, line.len() - t.len() + 1))
    })
}

/// Checks a package's Terraform backend settings: the value naming a state keeps every
/// environment and module apart, placeholders are known, and no credential is written down.
pub(crate) fn check_backend(
    rel: &Path,
    positions: &crate::locate::JsonPositions,
    backend: &strata_metadata::BackendSettings,
) -> Vec<Diagnostic> {
    use strata_metadata::BackendKind;
    let at = |path: &[&str]| positions.get(path);
    let mut out = Vec::new();
    let kind = backend.kind;
    if kind == BackendKind::Local && !backend.config.is_empty() {
        out.push(
            Diagnostic::error(rel, "backend-config", "the `local` backend takes no `config`: Strata keeps its state under .strata/<env>/terraform/")
                .at_opt(at(&["terraform", "backend", "config"])),
        );
    }
    if let Some(key) = kind.state_key() {
        match backend.config.get(key) {
            None => out.push(
                Diagnostic::error(rel, "backend-config", format!("the `{}` backend needs `config.{key}`", kind.name()))
                    .at_opt(at(&["terraform", "backend"]))
                    .hint(format!("name each state with both placeholders, such as `\"{key}\": \"{}\"`", example(kind))),
            ),
            Some(value) if !(value.contains("{env}") && value.contains("{module}")) => out.push(
                Diagnostic::error(rel, "backend-shared-state", format!("`config.{key}` must contain `{{env}}` and `{{module}}`, or environments and modules would share one state"))
                    .at_opt(at(&["terraform", "backend", "config", key]))
                    .hint(format!("for example `\"{key}\": \"{}\"`", example(kind))),
            ),
            Some(_) => {}
        }
    }
    let credential_hint = match kind {
        BackendKind::Pg => "export PG_CONN_STR where Terraform runs",
        BackendKind::S3 => {
            "use AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or AWS_PROFILE, where Terraform runs"
        }
        BackendKind::Http => "export TF_HTTP_USERNAME and TF_HTTP_PASSWORD where Terraform runs",
        BackendKind::Local => "credentials have no place in a local backend",
    };
    for (key, value) in &backend.config {
        let pos = at(&["terraform", "backend", "config", key]);
        let credential = ["conn_str", "access_key", "username"].contains(&key.as_str())
            || crate::secrets::is_secret_key(key);
        if credential {
            out.push(
                Diagnostic::error(
                    rel,
                    "secret-in-package",
                    format!("`config.{key}` would put credentials in the package"),
                )
                .at_opt(pos)
                .hint(credential_hint),
            );
        }
        let mut rest = value.as_str();
        while let Some(i) = rest.find('{') {
            let end = rest[i..].find('}').map_or(rest.len(), |e| i + e + 1);
            let placeholder = &rest[i..end];
            if placeholder != "{env}" && placeholder != "{module}" {
                out.push(
                    Diagnostic::error(rel, "backend-config", format!("`config.{key}` uses `{placeholder}`; only `{{env}}` and `{{module}}` are filled in"))
                        .at_opt(pos),
                );
            }
            rest = &rest[end..];
        }
    }
    out
}

fn example(kind: strata_metadata::BackendKind) -> &'static str {
    use strata_metadata::BackendKind;
    match kind {
        BackendKind::Pg => "strata_{env}_{module}",
        BackendKind::S3 => "strata/{env}/{module}.tfstate",
        BackendKind::Http => "https://state.example.internal/strata/{env}/{module}",
        BackendKind::Local => "",
    }
}
