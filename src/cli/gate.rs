//! `poolcheck gate`: every scenario x variant x scheduler of the folder, every pinned schedule
//! and every check (the real crates' `differential`), on worker threads; the verdict matrix (or,
//! with `--rows`, one row per trial streamed in a deterministic order; or one JSON object); a
//! report for every counterexample and `reports/index.html` linking them; exit code 0 only when
//! every trial is as expected.

use super::diagnostic::CliError;
use super::exec::{self, Sink};
use super::index::{self, RunInfo};
use super::matrix::{self, Matrix, Meta};
use super::scenarios::load_all;
use super::{output, Cli, Format, GateArgs, Outcome};
use poolcheck_harness::trial::{trials_of, Trial, TrialResult};
use std::io::Write as _;

/// Run the command.
pub fn gate(cli: &Cli, a: &GateArgs) -> Result<Outcome, CliError> {
    let filter = a.filter.as_ref().map(|f| f.replace('_', "-"));
    let selected = |name: &str| filter.as_ref().is_none_or(|f| name.contains(f.as_str()));
    let (trials, meta) = select(cli, &selected)?;
    if let Some(f) = filter.as_ref().filter(|_| trials.is_empty()) {
        return Err(CliError::usage(
            format!("no trial matches `{f}`"),
            Some("the filter is a substring of scenario/variant/scheduler".to_owned()),
        ));
    }
    let sink = Sink {
        reports: &cli.reports,
        shard: None,
        deadline: exec::deadline(a.max_seconds),
    };
    let table = output::Table::new(&trials);
    let rows = a.format == Format::Text && a.rows;
    if rows {
        print!("{}", table.header());
    }
    let bar = exec::progress(trials.len());
    let show = |d: &TrialResult| {
        if rows {
            bar.suspend(|| {
                print!("{}", table.row(d));
                let _ = std::io::stdout().flush();
            });
        }
    };
    let results = exec::run_all(&trials, a.jobs, &sink, &show, &bar);
    bar.finish_and_clear();
    index::write(&cli.reports, &results, &meta, &RunInfo::current());
    match a.format {
        Format::Json => println!("{}", output::json(&results)),
        Format::Text if rows => print!("{}", output::footer(&results)),
        Format::Text => print!("{}", matrix::render(&Matrix::new(&results, &meta))),
    }
    Ok(exec::outcome_of(&trials, &results))
}

/// Load the folder (any invalid file is an error) and keep the trials `selected` names, with
/// the whole folder's catalogue for the matrix and the index.
fn select(cli: &Cli, selected: &dyn Fn(&str) -> bool) -> Result<(Vec<Trial>, Meta), CliError> {
    let scenarios = load_all(&cli.scenario_dir())?;
    let trials = scenarios
        .iter()
        .flat_map(trials_of)
        .filter(|t| selected(&t.name()))
        .collect();
    Ok((trials, Meta::of(&scenarios)))
}
