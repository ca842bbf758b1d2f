//! `business.yaml`: the values of the ArgoCD app-of-apps chart (`business/charts/cluster-apps`).

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// The app-of-apps values: shared settings and one entry per business application.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct BusinessConfig {
    /// Settings every Application shares unless it overrides them.
    pub config: BusinessShared,
    /// ArgoCD projects besides `config.project`, for applications that name their own. The
    /// chart creates each of them (and `config.project`) as an `AppProject`; only `default`
    /// exists in ArgoCD by itself.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub projects: Vec<BusinessProject>,
    /// The business applications.
    pub applications: Vec<Application>,
}

/// Settings shared by every Application.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct BusinessShared {
    /// The destination cluster, normally `https://kubernetes.default.svc`.
    pub destination_server: String,
    /// The git repository holding the applications.
    #[serde(rename = "repoURL")]
    pub repo_url: String,
    /// The branch, tag or commit to track.
    pub target_revision: String,
    /// The ArgoCD project of every Application that does not name its own: `default`, or a
    /// project the chart creates.
    pub project: String,
}

/// An ArgoCD project the chart creates. Its source repositories and destinations are those of
/// the applications in it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct BusinessProject {
    /// The project's name (a DNS label; not `default`, which ArgoCD owns).
    pub name: String,
    /// What the project is for, shown by ArgoCD.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

/// One ArgoCD Application: a `path` in the git repository or a Helm `chart`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Application {
    /// The Application's name.
    pub name: String,
    /// The namespace it deploys into.
    pub namespace: String,
    /// A path in the git repository (`config.repoURL` unless `repoURL` is set).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    /// A chart name in the Helm repository `repoURL`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub chart: Option<String>,
    /// Overrides `config.repoURL`.
    #[serde(default, rename = "repoURL", skip_serializing_if = "Option::is_none")]
    pub repo_url: Option<String>,
    /// Overrides `config.targetRevision` (the chart version for a Helm source).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target_revision: Option<String>,
    /// Overrides `config.project`: `default`, `config.project` or one of `projects`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub project: Option<String>,
    /// Helm settings of the source.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub helm: Option<AppHelm>,
}

/// Helm settings of an Application's source.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AppHelm {
    /// Values files inside the source.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub value_files: Vec<String>,
    /// Inline values.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub values: BTreeMap<String, serde_json::Value>,
}
