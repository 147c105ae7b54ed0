//! Errors a person reads, rendered rustc-style with miette: a scenario file error shows the
//! file, line and column, the offending span with a label, and the hint as `help`. Every error
//! here means bad input (exit code 2); none is a panic.

use miette::{
    Diagnostic, GraphicalReportHandler, GraphicalTheme, LabeledSpan, NamedSource, SourceCode,
};
use poolcheck_harness::scenario::{read_source, ScenarioError, UsageError, MAX_REPORT_BYTES};
use std::fmt;
use std::io::IsTerminal as _;

/// Bad input: a usage error found after parsing, or invalid scenario files.
#[derive(Debug)]
pub enum CliError {
    /// An unknown name or an impossible combination of options, with what would be valid.
    Usage {
        /// What is wrong.
        message: String,
        /// What would be valid.
        help: Option<String>,
    },
    /// One or more scenario files that do not load.
    Scenarios(Vec<ScenarioError>),
}

impl CliError {
    /// A usage error with a hint.
    pub fn usage(message: impl Into<String>, help: impl Into<Option<String>>) -> Self {
        CliError::Usage {
            message: message.into(),
            help: help.into(),
        }
    }

    /// Print to stderr.
    pub fn print(&self) {
        match self {
            CliError::Usage { message, help } => eprint!(
                "{}",
                render(&Plain {
                    message: message.clone(),
                    help: help.clone(),
                })
            ),
            CliError::Scenarios(errors) => {
                for e in errors {
                    eprint!("{}", render_scenario_error(e));
                }
            }
        }
    }
}

impl From<UsageError> for CliError {
    fn from(e: UsageError) -> Self {
        CliError::usage(e.message, e.hint)
    }
}

impl From<ScenarioError> for CliError {
    fn from(e: ScenarioError) -> Self {
        CliError::Scenarios(vec![e])
    }
}

/// A scenario error rendered with its source: the whole report as text.
pub fn render_scenario_error(e: &ScenarioError) -> String {
    // Read again, with the same limits (never a FIFO or a device, never unbounded).
    let source = read_source(&e.file, MAX_REPORT_BYTES).ok();
    render(&FileDiagnostic::new(e, source))
}

fn render(d: &dyn Diagnostic) -> String {
    let theme = if std::io::stderr().is_terminal() {
        GraphicalTheme::unicode()
    } else {
        GraphicalTheme::unicode_nocolor()
    };
    let mut out = String::new();
    let handler = GraphicalReportHandler::new_themed(theme).with_wrap_lines(false);
    if handler.render_report(&mut out, d).is_err() {
        out = format!("error: {d}\n");
    }
    if !out.ends_with('\n') {
        out.push('\n');
    }
    out
}

/// A message with an optional hint.
#[derive(Debug)]
struct Plain {
    message: String,
    help: Option<String>,
}

impl fmt::Display for Plain {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Plain {}

impl Diagnostic for Plain {
    fn help<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        self.help
            .as_ref()
            .map(|h| Box::new(h) as Box<dyn fmt::Display>)
    }
}

/// A [`ScenarioError`] with the text of its file, as a miette diagnostic.
#[derive(Debug)]
pub struct FileDiagnostic<'e> {
    error: &'e ScenarioError,
    source: Option<NamedSource<String>>,
}

impl<'e> FileDiagnostic<'e> {
    /// `source` is the file's text, when it could be read (the span points into it).
    pub fn new(error: &'e ScenarioError, source: Option<String>) -> Self {
        let source = source
            .filter(|s| error.line > 0 && error.span.end <= s.len())
            .map(|s| NamedSource::new(error.file.display().to_string(), s).with_language("toml"));
        FileDiagnostic { error, source }
    }
}

impl fmt::Display for FileDiagnostic<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let e = self.error;
        write!(f, "{}", e.message)?;
        if !e.field.is_empty() && self.source.is_none() {
            write!(f, " ({})", e.field)?;
        }
        match (&self.source, e.line) {
            (Some(_), _) => Ok(()),
            (None, 0) => write!(f, "\n  --> {}", e.file.display()),
            (None, line) => write!(f, "\n  --> {}:{line}:{}", e.file.display(), e.column),
        }
    }
}

impl std::error::Error for FileDiagnostic<'_> {}

impl Diagnostic for FileDiagnostic<'_> {
    fn help<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        self.error
            .hint
            .as_ref()
            .map(|h| Box::new(h) as Box<dyn fmt::Display>)
    }

    fn source_code(&self) -> Option<&dyn SourceCode> {
        self.source.as_ref().map(|s| s as &dyn SourceCode)
    }

    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        self.source.as_ref()?;
        let e = self.error;
        let label = if e.field.is_empty() {
            "here".to_owned()
        } else {
            e.field.clone()
        };
        let span = LabeledSpan::new_primary_with_span(Some(label), e.span.clone());
        Some(Box::new(std::iter::once(span)))
    }
}
