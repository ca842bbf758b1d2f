//! One problem found in the repository, with the place it was found and how to fix it.

use std::fmt;
use std::path::{Path, PathBuf};

/// How bad a problem is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Severity {
    /// Validation fails.
    Error,
    /// Worth fixing; validation still passes.
    Warning,
}

/// A problem in one file, located by line and column (1-based) where that is known.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    /// Error or warning.
    pub severity: Severity,
    /// The file, relative to the repository root.
    pub path: PathBuf,
    /// 1-based line; the first line when the problem is the file as a whole.
    pub line: usize,
    /// 1-based column.
    pub column: usize,
    /// A stable identifier for tools (`package-version`, `path-escapes`, …).
    pub code: &'static str,
    /// What is wrong: a lowercase fragment without a trailing period.
    pub message: String,
    /// How to fix it, when that is clear.
    pub hint: Option<String>,
}

impl Diagnostic {
    /// An error at the start of `path`.
    pub fn error(path: impl AsRef<Path>, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            severity: Severity::Error,
            path: path.as_ref().to_owned(),
            line: 1,
            column: 1,
            code,
            message: message.into(),
            hint: None,
        }
    }

    /// A warning at the start of `path`.
    pub fn warning(path: impl AsRef<Path>, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            severity: Severity::Warning,
            ..Self::error(path, code, message)
        }
    }

    /// Places the problem at a line and column.
    pub fn at(mut self, (line, column): (usize, usize)) -> Self {
        self.line = line.max(1);
        self.column = column.max(1);
        self
    }

    /// Places the problem at a position when one is known.
    pub fn at_opt(self, pos: Option<(usize, usize)>) -> Self {
        match pos {
            Some(pos) => self.at(pos),
            None => self,
        }
    }

    /// Adds a hint.
    pub fn hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }

    /// Adds a hint when one is given.
    pub fn hint_opt(mut self, hint: Option<String>) -> Self {
        self.hint = hint.or(self.hint);
        self
    }

    /// Whether this is an error.
    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }
}

impl fmt::Display for Diagnostic {
    /// `path:line:column: message`, the form editors and CI annotations understand.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}:{}:{}: {}",
            self.path.display(),
            self.line,
            self.column,
            self.message
        )
    }
}

/// Every problem a validation found, sorted by file and position.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Report {
    /// The problems, errors and warnings together.
    pub diagnostics: Vec<Diagnostic>,
    /// What was looked at, so that a clean report can say what it vouches for.
    pub checked: Checked,
}

/// What a validation looked at.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Checked {
    /// Whether the definitions were checked.
    pub definitions: bool,
    /// Packages whose manifest loaded.
    pub packages: usize,
    /// Package environments whose files were checked.
    pub environments: usize,
    /// Module selector files read.
    pub selectors: usize,
}

impl Report {
    /// Adds problems.
    pub fn extend(&mut self, more: impl IntoIterator<Item = Diagnostic>) {
        self.diagnostics.extend(more);
    }

    /// Adds one problem.
    pub fn push(&mut self, d: Diagnostic) {
        self.diagnostics.push(d);
    }

    /// Whether any problem is an error.
    pub fn has_errors(&self) -> bool {
        self.diagnostics.iter().any(Diagnostic::is_error)
    }

    /// The number of errors.
    pub fn error_count(&self) -> usize {
        self.diagnostics.iter().filter(|d| d.is_error()).count()
    }

    /// The number of warnings.
    pub fn warning_count(&self) -> usize {
        self.diagnostics.len() - self.error_count()
    }

    /// Sorts by path, then position, then message, and drops exact repeats.
    pub fn finish(mut self) -> Self {
        self.diagnostics.sort_by(|a, b| {
            (&a.path, a.line, a.column, &a.message).cmp(&(&b.path, b.line, b.column, &b.message))
        });
        self.diagnostics.dedup();
        self
    }
}
