//! `cargo xtask doctor`: which external tools are here.

use strata_config::Layout;
use strata_exec::{Tool, find_tool, tool_version};

use crate::Exit;
use crate::ui::Ui;

/// Every tool Strata drives, each listed by the crate that owns it: the Terraform runner, the
/// Kubespray session, Helm, the image builder.
pub(crate) fn tools() -> Vec<Tool> {
    [
        strata_terraform::TOOLS,
        strata_kubespray::TOOLS,
        strata_helm::TOOLS,
        strata_provisioner::TOOLS,
    ]
    .concat()
}

pub(crate) fn run(layout: &Layout, ui: &Ui) -> anyhow::Result<Exit> {
    let mut rows = Vec::new();
    for tool in &tools() {
        let row = match find_tool(tool) {
            Ok(found) => {
                let (status, version, detail) = match tool_version(&found, layout.root()) {
                    Ok((line, v)) => ("found", v, line),
                    Err(e) => ("broken", None, format!("{e}")),
                };
                let program = found
                    .path
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_default();
                serde_json::json!({
                    "tool": tool.name, "program": program, "status": status, "version": version,
                    "path": found.path, "fromOverride": found.from_override, "detail": detail, "override": tool.env_var,
                })
            }
            Err(e) => serde_json::json!({
                "tool": tool.name, "program": null, "status": "missing", "version": null,
                "path": null, "fromOverride": false, "detail": e.to_string(), "override": tool.env_var,
            }),
        };
        rows.push(row);
    }
    ui.json(&serde_json::json!({ "tools": rows }));
    ui.result(&ui.bold(&format!(
        "{:<18} {:<8} {:<10} {}",
        "tool", "status", "version", "where"
    )));
    for r in &rows {
        let status = r["status"].as_str().unwrap_or_default();
        let painted = if status == "found" {
            ui.ok(status)
        } else {
            ui.bad(status)
        };
        let pad = " ".repeat(8usize.saturating_sub(status.len()));
        let where_ = match r["path"].as_str() {
            Some(p) if r["fromOverride"] == true => {
                format!("{p} (from {})", r["override"].as_str().unwrap_or_default())
            }
            Some(p) if status == "broken" => {
                format!("{p}: {}", r["detail"].as_str().unwrap_or_default())
            }
            Some(p) => p.to_owned(),
            None => r["detail"].as_str().unwrap_or_default().to_owned(),
        };
        ui.result(&format!(
            "{:<18} {painted}{pad} {:<10} {where_}",
            r["tool"].as_str().unwrap_or_default(),
            r["version"].as_str().unwrap_or("-"),
        ));
    }
    Ok(Exit::Success)
}

#[cfg(test)]
mod tests {
    use strata_metadata::Phase;

    use super::tools;

    #[test]
    fn every_tool_is_listed_once_in_the_order_doctor_shows() {
        let names: Vec<_> = tools().iter().map(|t| t.name).collect();
        assert_eq!(
            names,
            [
                "terraform",
                "container runtime",
                "ansible-playbook",
                "helm",
                "kubectl",
                "qemu-img",
                "packer",
                "cloud-localds",
                "curl"
            ]
        );
        let mut vars: Vec<_> = tools().iter().map(|t| t.env_var).collect();
        vars.sort_unstable();
        vars.dedup();
        assert_eq!(vars.len(), names.len(), "one override variable per tool");
    }

    /// Tool crates never depend on each other, so a tool two of them run is declared by both:
    /// the copy must find the same program through the same variable as the owner's, or
    /// `doctor` would vouch for a different binary than the one a phase runs.
    #[test]
    fn a_tools_copy_in_another_crate_matches_its_owner() {
        assert_eq!(
            strata_terraform::ANSIBLE_PLAYBOOK,
            strata_kubespray::ANSIBLE_PLAYBOOK
        );
        assert_eq!(strata_kubespray::KUBECTL, strata_helm::KUBECTL);
    }

    /// A tool whose identity is a phase input is one `doctor` shows.
    #[test]
    fn doctor_shows_every_tool_a_phase_depends_on() {
        let all = tools();
        for phase in Phase::ALL {
            for tool in strata_deploy::phase_tools(phase) {
                assert!(all.contains(tool), "{phase:?} runs `{}`", tool.name);
            }
        }
    }
}
