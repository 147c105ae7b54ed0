//! Located scenario errors: file, line, column, field, and a hint saying what would be valid.

use std::fmt;
use std::path::{Path, PathBuf};

/// A problem in a scenario file, with its exact place.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ScenarioError {
    /// The file.
    pub file: PathBuf,
    /// 1-based line (0 when the problem is the file as a whole).
    pub line: usize,
    /// 1-based column.
    pub column: usize,
    /// Byte range of the offending text in the file.
    pub span: std::ops::Range<usize>,
    /// The field (`actors[1].ops[0]`, `expect.httpcore-1062`).
    pub field: String,
    /// What is wrong.
    pub message: String,
    /// What would be valid there.
    pub hint: Option<String>,
    /// The offending source line, for display.
    pub source_line: String,
}

impl ScenarioError {
    /// An error at byte range `span` of `source`.
    pub fn at(
        file: &Path,
        source: &str,
        span: std::ops::Range<usize>,
        field: impl Into<String>,
        message: impl Into<String>,
    ) -> Self {
        let (line, column) = line_col(source, span.start);
        let source_line = source
            .lines()
            .nth(line.saturating_sub(1))
            .unwrap_or("")
            .to_owned();
        ScenarioError {
            file: file.to_owned(),
            line,
            column,
            span,
            field: field.into(),
            message: message.into(),
            hint: None,
            source_line,
        }
    }

    /// A problem with the file as a whole (unreadable, misnamed).
    pub fn whole_file(file: &Path, message: impl Into<String>) -> Self {
        ScenarioError {
            file: file.to_owned(),
            line: 0,
            column: 0,
            span: 0..0,
            field: String::new(),
            message: message.into(),
            hint: None,
            source_line: String::new(),
        }
    }

    /// Add a hint.
    pub fn with_hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }
}

/// 1-based line and column of a byte offset.
pub fn line_col(source: &str, offset: usize) -> (usize, usize) {
    let before = &source[..offset.min(source.len())];
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, column)
}

impl fmt::Display for ScenarioError {
    /// rustc-style: `error: msg`, `--> file:line:col`, the source line, a caret, the hint.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let field = if self.field.is_empty() {
            String::new()
        } else {
            format!(" ({})", self.field)
        };
        writeln!(f, "error: {}{field}", self.message)?;
        if self.line == 0 {
            write!(f, "  --> {}", self.file.display())?;
        } else {
            writeln!(
                f,
                "  --> {}:{}:{}",
                self.file.display(),
                self.line,
                self.column
            )?;
            let gutter = self.line.to_string().len();
            writeln!(f, "{:gutter$} |", "")?;
            writeln!(f, "{} | {}", self.line, self.source_line)?;
            let width = self.span.len().clamp(1, self.source_line.len().max(1));
            write!(
                f,
                "{:gutter$} | {}{}",
                "",
                " ".repeat(self.column - 1),
                "^".repeat(width)
            )?;
        }
        if let Some(h) = &self.hint {
            write!(f, "\n  = help: {h}")?;
        }
        Ok(())
    }
}

impl std::error::Error for ScenarioError {}

/// Up to three names close to `wanted`, best first, as a hint (`did you mean ...?`).
pub fn close_matches<'a>(wanted: &str, names: impl IntoIterator<Item = &'a str>) -> Vec<&'a str> {
    let mut scored: Vec<(f64, &str)> = names
        .into_iter()
        .map(|n| (strsim::jaro_winkler(wanted, n), n))
        .filter(|(s, _)| *s > 0.7)
        .collect();
    scored.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(b.1)));
    scored.into_iter().take(3).map(|(_, n)| n).collect()
}

/// "did you mean `a`? valid: a, b, c"
pub fn hint_for<'a>(wanted: &str, names: impl IntoIterator<Item = &'a str> + Clone) -> String {
    let close = close_matches(wanted, names.clone());
    let all: Vec<&str> = names.into_iter().collect();
    match close.first() {
        Some(best) => format!("did you mean `{best}`? valid: {}", all.join(", ")),
        None => format!("valid: {}", all.join(", ")),
    }
}
