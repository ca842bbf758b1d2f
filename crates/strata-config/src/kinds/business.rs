//! `business.yaml`: the ArgoCD app-of-apps values.

use std::collections::BTreeSet;
use std::path::Path;

use strata_metadata::BusinessConfig;

use super::dns_label_problem;
use crate::locate::{yaml_entries, yaml_entry};
use crate::source::parse_yaml;
use crate::{Diagnostic, secrets};

/// `business.yaml`: unique applications, each with exactly one source and in a project that
/// exists (ArgoCD's `default`, `config.project` or one of `projects`, which the chart creates).
pub(crate) fn check_business(rel: &Path, text: &str) -> Vec<Diagnostic> {
    let config: BusinessConfig = match parse_yaml(rel, text) {
        Ok(c) => c,
        Err(d) => return vec![d],
    };
    let mut out = Vec::new();
    let mut seen = BTreeSet::new();
    let mut found = Vec::new();
    for app in &config.applications {
        if let Some(helm) = &app.helm {
            secrets::json_member_secrets(
                &helm.values,
                &format!("{}.helm.values", app.name),
                &mut found,
            );
        }
    }
    for path in found {
        out.push(secrets::secret_diagnostic(rel, text, &path, "keep it in a Kubernetes Secret and reference it by name (for example `existingSecret`)"));
    }
    // A git token pasted into a repository URL would reach the bundle and every Application.
    let urls = std::iter::once(("config.repoURL".to_owned(), Some(&config.config.repo_url))).chain(
        config
            .applications
            .iter()
            .map(|a| (format!("{}.repoURL", a.name), a.repo_url.as_ref())),
    );
    for (path, url) in urls {
        if url.is_some_and(|u| secrets::is_url_with_password(u)) {
            out.push(secrets::secret_diagnostic(
                rel,
                text,
                &path,
                "give ArgoCD the repository's credentials as a repository Secret in its namespace; the URL carries none",
            ));
        }
    }
    let mut projects = BTreeSet::from(["default", config.config.project.as_str()]);
    for p in &config.projects {
        // Positions are searched for only when there is a problem to place.
        let pos = || yaml_entry(text, "name", &p.name);
        if p.name == "default" {
            out.push(
                Diagnostic::error(rel, "project-default", "project `default` is ArgoCD's own")
                    .at_opt(pos())
                    .hint("ArgoCD creates `default` by itself; remove it from `projects`"),
            );
        } else if !projects.insert(p.name.as_str()) {
            out.push(
                Diagnostic::error(
                    rel,
                    "duplicate-project",
                    format!("project `{}` is defined twice", p.name),
                )
                .at_opt(yaml_entries(text, "name", &p.name).nth(1).or_else(pos))
                .hint("`config.project` is created already; list each other project once"),
            );
        }
        if let Some(msg) = dns_label_problem(&p.name, 63) {
            out.push(
                Diagnostic::error(
                    rel,
                    "project-name",
                    format!("project name `{}` {msg}", p.name),
                )
                .at_opt(pos()),
            );
        }
    }
    for app in &config.applications {
        let pos = || yaml_entry(text, "name", &app.name);
        if let Some(project) = &app.project
            && !projects.contains(project.as_str())
        {
            // The line of this application's `project:`, else the application.
            let line = pos().map_or(0, |(l, _)| l);
            let at = yaml_entries(text, "project", project)
                .find(|(l, _)| *l > line)
                .or_else(pos);
            out.push(
                Diagnostic::error(
                    rel,
                    "unknown-project",
                    format!(
                        "application `{}` is in project `{project}`, which nothing creates",
                        app.name
                    ),
                )
                .at_opt(at)
                .hint(format!(
                    "ArgoCD never syncs an Application whose project does not exist: add `{project}` to `projects`, or use `{}` (config.project) or `default`",
                    config.config.project
                )),
            );
        }
        if !seen.insert(app.name.as_str()) {
            out.push(
                Diagnostic::error(
                    rel,
                    "duplicate-app",
                    format!("application `{}` is defined twice", app.name),
                )
                .at_opt(yaml_entries(text, "name", &app.name).nth(1))
                .hint("application names are unique within an environment; rename or merge one"),
            );
        }
        if let Some(msg) = dns_label_problem(&app.name, 63) {
            out.push(
                Diagnostic::error(
                    rel,
                    "app-name",
                    format!("application name `{}` {msg}", app.name),
                )
                .at_opt(pos()),
            );
        }
        match (&app.path, &app.chart) {
            (None, None) => out.push(Diagnostic::error(rel, "app-source", format!("application `{}` has no source", app.name))
                .at_opt(pos())
                .hint("set `path` (a folder in the git repository) or `chart` with `repoURL` (a Helm repository)")),
            (Some(_), Some(_)) => out.push(Diagnostic::error(rel, "app-source", format!("application `{}` sets both `path` and `chart`", app.name))
                .at_opt(pos())
                .hint("keep `path` for a git source or `chart` for a Helm repository")),
            (None, Some(_)) if app.repo_url.is_none() => out.push(Diagnostic::error(rel, "app-source", format!("application `{}` names a chart but no `repoURL` for its Helm repository", app.name))
                .at_opt(pos())),
            // A chart's revision is its version: the git branch in `config` means nothing there.
            (None, Some(_)) if app.target_revision.is_none() => out.push(Diagnostic::error(rel, "app-source", format!("application `{}` names a chart but no `targetRevision` (the chart version)", app.name))
                .at_opt(pos())
                .hint("pin the chart's version, such as `targetRevision: 20.3.0`")),
            _ => {}
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_in_a_repository_url_is_refused_without_being_repeated() {
        let text = "config:
  destinationServer: https://kubernetes.default.svc
  repoURL: https://oauth2:glpat-s3cret@git.example/apps.git
  targetRevision: main
  project: default
applications:
  - name: shop
    namespace: shop
    path: apps/shop
  - name: cache
    namespace: shop
    chart: redis
    repoURL: https://charts.example/stable
    targetRevision: 1.0.0
";
        let found = check_business(Path::new("business.yaml"), text);
        let secrets: Vec<&Diagnostic> = found
            .iter()
            .filter(|d| d.code == "secret-in-package")
            .collect();
        assert_eq!(secrets.len(), 1, "{found:#?}");
        let shown = secrets[0].to_string();
        assert!(
            shown.contains("`config.repoURL` holds a secret value"),
            "{shown}"
        );
        assert!(shown.starts_with("business.yaml:3:"), "{shown}");
        assert!(!shown.contains("glpat-s3cret"), "{shown}");
    }
}
