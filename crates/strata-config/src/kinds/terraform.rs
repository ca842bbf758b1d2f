//! `terraform.tfvars`: HCL assignments only, and no secret values.

use std::path::Path;

use super::KindContext;
use crate::{Diagnostic, secrets};

/// `terraform.tfvars`: HCL assignments only, and no secret values.
pub(crate) fn check_terraform(rel: &Path, text: &str, cx: &KindContext<'_>) -> Vec<Diagnostic> {
    // Parsed once, keeping positions (what `hcl::parse` does before it drops them); the typed
    // body the checks below walk is converted from it.
    let edit = match hcl::edit::parser::parse_body(text) {
        Ok(body) => body,
        Err(e) => {
            let loc = e.location();
            return vec![
                Diagnostic::error(rel, "invalid-hcl", format!("invalid HCL: {}", e.message()))
                    .at((loc.line(), loc.column())),
            ];
        }
    };
    let body = hcl::Body::from(edit.clone());
    let mut out = Vec::new();
    for block in body.blocks() {
        let ident = block.identifier();
        out.push(
            Diagnostic::error(
                rel,
                "tfvars-block",
                format!("tfvars hold only `name = value` assignments, found a `{ident}` block"),
            )
            .at_opt(
                text.lines()
                    .position(|l| l.trim_start().starts_with(ident))
                    .map(|n| (n + 1, 1)),
            ),
        );
    }
    let mut found = Vec::new();
    for attr in body.attributes() {
        secrets::hcl_secrets(attr.key(), attr.expr(), attr.key(), &mut found);
    }
    for path in found {
        let top = path.split(['.', '[']).next().unwrap_or(&path);
        out.push(secrets::secret_diagnostic(
            rel,
            text,
            &path,
            &format!("remove it and export TF_VAR_{top} (or the provider's variable, such as PROXMOX_VE_API_TOKEN) where Terraform runs"),
        ));
    }
    out.extend(crate::terraform::check_tfvars_against(
        rel,
        text,
        &body,
        &edit,
        cx.terraform_modules,
    ));
    out
}
