//! `poolcheck gate`: every scenario x variant x scheduler of the folder, and every pinned
//! schedule, on worker threads, then every real-crate trial; the verdict matrix (or, with
//! `--rows`, one row per trial streamed in a deterministic order; or one JSON object); a report
//! for every counterexample and `reports/index.html` linking them; exit code 0 only when every
//! trial is as expected.

use super::diagnostic::CliError;
use super::exec::{self, Sink};
use super::index::{self, RunInfo};
use super::matrix::{self, Matrix, Meta};
use super::scenarios::load_all;
use super::{output, realstack, Cli, Format, GateArgs, Outcome};
use poolcheck_harness::trial::{trials_of, Trial, TrialResult};
use poolcheck_realstack::RealScenario;
use std::io::Write as _;

/// What the filter selected.
struct Selection {
    models: Vec<Trial>,
    real: Vec<RealScenario>,
    /// `[scenario, variant, scheduler, expected]` of the selected real trials.
    real_names: Vec<[String; 4]>,
    /// The whole folder, for the matrix and the index.
    meta: Meta,
}

/// Run the command.
pub fn gate(cli: &Cli, a: &GateArgs) -> Result<Outcome, CliError> {
    let filter = a.filter.as_ref().map(|f| f.replace('_', "-"));
    let selected = |name: &str| filter.as_ref().is_none_or(|f| name.contains(f.as_str()));
    let sel = select(cli, &selected)?;
    if let Some(f) = filter
        .as_ref()
        .filter(|_| sel.models.is_empty() && sel.real_names.is_empty())
    {
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
    let mut table = output::Table::new(&sel.models);
    sel.real_names.iter().for_each(|n| table.fit(n));
    let rows = a.format == Format::Text && a.rows;
    if rows {
        print!("{}", table.header());
    }
    let bar = exec::progress(sel.models.len() + sel.real_names.len());
    let show = |d: &TrialResult| {
        if rows {
            bar.suspend(|| {
                print!("{}", table.row(d));
                let _ = std::io::stdout().flush();
            });
        }
    };
    let mut results = exec::run_all(&sel.models, a.jobs, &sink, &show, &bar);
    bar.set_message("real-crate trials");
    let show_real = |d: &TrialResult| {
        bar.inc(1);
        show(d);
    };
    results.extend(realstack::gate(&sel.real, &selected, &sink, &show_real));
    bar.finish_and_clear();
    index::write(&cli.reports, &results, &sel.meta, &RunInfo::current());
    match a.format {
        Format::Json => println!("{}", output::json(&results)),
        Format::Text if rows => print!("{}", output::footer(&results)),
        Format::Text => print!("{}", matrix::render(&Matrix::new(&results, &sel.meta))),
    }
    Ok(exec::outcome_of(&sel.models, &results))
}

/// Load the folder (any invalid file is an error) and keep the trials `selected` names.
fn select(cli: &Cli, selected: &dyn Fn(&str) -> bool) -> Result<Selection, CliError> {
    let catalog = load_all(&cli.scenario_dir())?;
    let models = catalog
        .models
        .iter()
        .flat_map(trials_of)
        .filter(|t| selected(&t.name()))
        .collect();
    let real = realstack::load_all(&catalog.real)?;
    let real_names = real
        .iter()
        .flat_map(realstack::trial_names)
        .filter(|n| selected(&format!("{}/{}/{}", n[0], n[1], n[2])))
        .collect();
    let meta = Meta::of(&catalog.models, &real);
    Ok(Selection {
        models,
        real,
        real_names,
        meta,
    })
}
