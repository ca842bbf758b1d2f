//! Rendering for people: colours when stderr is a terminal and NO_COLOR is unset; human text on
//! stderr, results on stdout.

use std::io::{IsTerminal, Write};

use strata_config::{Diagnostic, Severity};
use strata_metadata::output;

use crate::cli::{Global, OutputFormat};

/// How to print, decided once from the global flags and the environment.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Ui {
    pub(crate) json: bool,
    pub(crate) quiet: bool,
    color: bool,
}

impl Ui {
    pub(crate) fn new(global: &Global) -> Self {
        let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
        Self {
            json: global.output == OutputFormat::Json,
            quiet: global.quiet,
            color: !no_color && std::io::stderr().is_terminal(),
        }
    }

    fn paint(&self, code: &str, text: &str) -> String {
        if self.color {
            format!("\x1b[{code}m{text}\x1b[0m")
        } else {
            text.to_owned()
        }
    }

    /// `error: …` on stderr, with a `hint:` line when given.
    pub(crate) fn error(&self, message: &str, hint: Option<&str>) {
        let mut err = std::io::stderr().lock();
        let _ = writeln!(err, "{}: {message}", self.paint("1;31", "error"));
        if let Some(h) = hint {
            let _ = writeln!(err, "  {}: {h}", self.paint("1;36", "hint"));
        }
    }

    /// `warning: …` on stderr unless quiet.
    pub(crate) fn warning(&self, message: &str, hint: Option<&str>) {
        if self.quiet {
            return;
        }
        let mut err = std::io::stderr().lock();
        let _ = writeln!(err, "{}: {message}", self.paint("1;33", "warning"));
        if let Some(h) = hint {
            let _ = writeln!(err, "  {}: {h}", self.paint("1;36", "hint"));
        }
    }

    /// One validation problem, as `error: path:line:col: message`.
    pub(crate) fn diagnostic(&self, d: &Diagnostic) {
        match d.severity {
            Severity::Error => self.error(&d.to_string(), d.hint.as_deref()),
            Severity::Warning => self.warning(&d.to_string(), d.hint.as_deref()),
        }
    }

    /// A human result line on stdout, unless quiet or printing JSON.
    pub(crate) fn result(&self, line: &str) {
        if !self.quiet && !self.json {
            // A closed pipe (`| head`) ends the output, not the program.
            let _ = writeln!(std::io::stdout().lock(), "{line}");
        }
    }

    /// A progress or status note on stderr, unless quiet or printing JSON.
    pub(crate) fn note(&self, line: &str) {
        if !self.quiet && !self.json {
            let _ = writeln!(std::io::stderr().lock(), "{line}");
        }
    }

    /// Bold, for headers.
    pub(crate) fn bold(&self, text: &str) -> String {
        self.paint("1", text)
    }

    /// Green, for success.
    pub(crate) fn ok(&self, text: &str) -> String {
        self.paint("32", text)
    }

    /// Red, for failure.
    pub(crate) fn bad(&self, text: &str) -> String {
        self.paint("31", text)
    }

    /// The command's one JSON document on stdout, when `--output json`: one of the types in
    /// `strata_metadata::output` (or the deploy report), whose schemas are checked in.
    pub(crate) fn json(&self, document: &impl serde::Serialize) {
        if !self.json {
            return;
        }
        match serde_json::to_string_pretty(document) {
            Ok(text) => {
                let _ = writeln!(std::io::stdout().lock(), "{text}");
            }
            // The documents hold strings, numbers and string-keyed maps, which always
            // serialize; should one not, say so rather than print half a document.
            Err(e) => self.error(&format!("failed to render the JSON document: {e}"), None),
        }
    }
}

/// A diagnostic as the JSON documents list it.
pub(crate) fn diagnostic_output(d: &Diagnostic) -> output::Diagnostic {
    output::Diagnostic {
        severity: match d.severity {
            Severity::Error => output::Severity::Error,
            Severity::Warning => output::Severity::Warning,
        },
        path: d.path.to_string_lossy().replace('\\', "/"),
        line: d.line,
        column: d.column,
        code: d.code.to_owned(),
        message: d.message.clone(),
        hint: d.hint.clone(),
    }
}

/// `{"ok": false, "diagnostics": [...]}` for a refusal.
pub(crate) fn refusal(diagnostics: &[Diagnostic]) -> output::Refusal {
    output::Refusal::new(diagnostics.iter().map(diagnostic_output).collect())
}
