//! Real-crate scenarios (`model = "h2"`, `"hyper"`, `"hyper-util"`): the seam between the CLI
//! and the real-stack runner.
//!
//! The scenario loader recognises these files (`Loaded::Real`) and the CLI routes them here.
//! Until the real-stack runner is wired in, `run` and `replay` refuse them with exit code 2,
//! `gate` reports nothing for them (tests/realstack.rs runs them), and `list` names them.

use super::diagnostic::CliError;
use super::exec::Done;
use super::{Cli, Outcome, RunArgs};
use poolcheck_harness::report::Counterexample;
use std::path::Path;

fn not_wired(path: &Path) -> CliError {
    CliError::usage(
        format!(
            "`{}` is a real-crate scenario, which this build of the CLI does not run",
            path.display()
        ),
        Some("run it with `cargo test --features model --test realstack`".to_owned()),
    )
}

/// `run` on a real-crate scenario.
pub fn run(_cli: &Cli, _a: &RunArgs, path: &Path) -> Result<Outcome, CliError> {
    Err(not_wired(path))
}

/// `replay` of a real-crate report.
pub fn replay(_cli: &Cli, _c: &Counterexample, path: &Path) -> Result<Outcome, CliError> {
    Err(not_wired(path))
}

/// The real-crate trials of `gate` (selected by `scenario/variant/scheduler`).
pub fn gate(
    _cli: &Cli,
    _paths: &[std::path::PathBuf],
    _selected: &dyn Fn(&str) -> bool,
) -> Vec<Done> {
    Vec::new()
}

/// One line for `list`.
pub fn describe(path: &Path) -> String {
    let name = path
        .file_stem()
        .map_or_else(String::new, |s| s.to_string_lossy().into_owned());
    format!("{name}  [real crate] (run by the real-stack runner)")
}
