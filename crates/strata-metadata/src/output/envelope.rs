//! The documents every command shares: a failure, a refusal with diagnostics, and the
//! diagnostic itself.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// A command that failed before it had a document of its own: `{"ok": false, "error", "hint"}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Failure {
    /// Always `false`.
    pub ok: bool,
    /// The error and each of its causes, joined with `: `.
    pub error: String,
    /// What to do about it; `null` when there is nothing clear to say.
    pub hint: Option<String>,
}

impl Failure {
    /// The failure `error`, with `hint`.
    pub fn new(error: impl Into<String>, hint: Option<&str>) -> Self {
        Self {
            ok: false,
            error: error.into(),
            hint: hint.map(str::to_owned),
        }
    }
}

/// Invalid input, refused: `{"ok": false, "diagnostics": [...]}` (with `error` when one sentence
/// says what was refused, as for a staged Kubespray inventory).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Refusal {
    /// Always `false`.
    pub ok: bool,
    /// What was refused, when the diagnostics alone do not say.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// Each problem found.
    pub diagnostics: Vec<Diagnostic>,
}

impl Refusal {
    /// A refusal listing `diagnostics`.
    pub fn new(diagnostics: Vec<Diagnostic>) -> Self {
        Self {
            ok: false,
            error: None,
            diagnostics,
        }
    }
}

/// One problem in one file, as `validate` and every refusal list it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Diagnostic {
    /// Error or warning.
    pub severity: Severity,
    /// The file, relative to the repository root, with `/` separators.
    pub path: String,
    /// 1-based line.
    pub line: usize,
    /// 1-based column.
    pub column: usize,
    /// A stable identifier for tools (`secret-in-package`, `package-version`, ...).
    pub code: String,
    /// What is wrong.
    pub message: String,
    /// How to fix it; `null` when there is nothing clear to say.
    pub hint: Option<String>,
}

/// How much a [`Diagnostic`] matters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// It stops the command.
    Error,
    /// Worth fixing; the command went on.
    Warning,
}
