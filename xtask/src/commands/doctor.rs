//! `cargo xtask doctor`: which external tools are here.

use strata_config::Layout;
use strata_exec::{Tool, find_tool, tool_version};

use strata_metadata::output::{DoctorOutput, ToolRow, ToolStatus};

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
    let rows: Vec<ToolRow> = tools().iter().map(|tool| row(tool, layout)).collect();
    ui.json(&DoctorOutput {
        tools: rows.clone(),
    });
    ui.result(&ui.bold(&format!(
        "{:<18} {:<8} {:<10} {}",
        "tool", "status", "version", "where"
    )));
    for r in &rows {
        let status = r.status.as_str();
        let painted = if r.status == ToolStatus::Found {
            ui.ok(status)
        } else {
            ui.bad(status)
        };
        let pad = " ".repeat(8usize.saturating_sub(status.len()));
        let where_ = match r.path.as_deref() {
            Some(p) if r.from_override => format!("{p} (from {})", r.override_var),
            Some(p) if r.status == ToolStatus::Broken => format!("{p}: {}", r.detail),
            Some(p) => p.to_owned(),
            None => r.detail.clone(),
        };
        ui.result(&format!(
            "{:<18} {painted}{pad} {:<10} {where_}",
            r.tool,
            r.version.as_deref().unwrap_or("-"),
        ));
    }
    Ok(Exit::Success)
}

/// Where `tool` is and whether it answers its version command.
fn row(tool: &Tool, layout: &Layout) -> ToolRow {
    match find_tool(tool) {
        Ok(found) => {
            let (status, version, detail) = match tool_version(&found, layout.root()) {
                Ok((line, v)) => (ToolStatus::Found, v, line),
                Err(e) => (ToolStatus::Broken, None, format!("{e}")),
            };
            ToolRow {
                tool: tool.name.to_owned(),
                program: Some(
                    found
                        .path
                        .file_name()
                        .map(|n| n.to_string_lossy().into_owned())
                        .unwrap_or_default(),
                ),
                status,
                version,
                path: Some(found.path.to_string_lossy().into_owned()),
                from_override: found.from_override,
                detail,
                override_var: tool.env_var.to_owned(),
            }
        }
        Err(e) => ToolRow {
            tool: tool.name.to_owned(),
            program: None,
            status: ToolStatus::Missing,
            version: None,
            path: None,
            from_override: false,
            detail: e.to_string(),
            override_var: tool.env_var.to_owned(),
        },
    }
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
