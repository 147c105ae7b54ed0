//! Real-crate scenarios (`model = "h2"`, `"hyper"`, `"hyper-util"`): the seam between the CLI
//! and the real-stack runner (issue 7).
//!
//! The scenario loader recognises these files (`Loaded::Real(path)`) and every command routes
//! them here. Until the real-stack runner exists, `run` and `replay` refuse them with exit code 2,
//! `gate` has no trial for them (the test suite runs them), and `list` names them.
//!
//! To wire the runner in, fill in the four functions below: each real trial becomes a [`Done`]
//! (its `counterexample` a harness [`Counterexample`], so [`super::exec::write_report`] writes the
//! same Markdown, JSON and HTML reports, and the output and exit codes need no change).

use super::diagnostic::CliError;
use super::exec::{Done, Sink};
use super::{Cli, Outcome, RunArgs};
use poolcheck_harness::report::Counterexample;
use std::path::{Path, PathBuf};

fn not_wired(path: &Path) -> CliError {
    CliError::usage(
        format!(
            "`{}` is a real-crate scenario, which this build of the CLI does not run yet",
            path.display()
        ),
        Some("run it with `cargo test --features model`".to_owned()),
    )
}

/// `poolcheck run` on a real-crate scenario.
pub fn run(_cli: &Cli, _a: &RunArgs, path: &Path) -> Result<Outcome, CliError> {
    Err(not_wired(path))
}

/// `poolcheck replay` of a report whose scenario is a real-crate one.
pub fn replay(_cli: &Cli, _c: &Counterexample, path: &Path) -> Result<Outcome, CliError> {
    Err(not_wired(path))
}

/// The real-crate trials of `poolcheck gate` whose `scenario/variant/scheduler` name is
/// `selected`, run and judged, their reports written to `sink`, in a deterministic order.
pub fn gate(_paths: &[PathBuf], _selected: &dyn Fn(&str) -> bool, _sink: &Sink<'_>) -> Vec<Done> {
    Vec::new()
}

/// One line for `poolcheck list`.
pub fn describe(path: &Path) -> String {
    let name = path
        .file_stem()
        .map_or_else(String::new, |s| s.to_string_lossy().into_owned());
    format!("{name}  [real crate] (run by the test suite; not yet by the CLI)")
}
