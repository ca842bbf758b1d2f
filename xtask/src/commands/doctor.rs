//! `cargo xtask doctor`: which external tools are here.

use strata_config::Layout;
use strata_exec::{TOOLS, find_tool, tool_version};

use crate::Exit;
use crate::ui::Ui;

pub(crate) fn run(layout: &Layout, ui: &Ui) -> anyhow::Result<Exit> {
    let mut rows = Vec::new();
    for tool in &TOOLS {
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
