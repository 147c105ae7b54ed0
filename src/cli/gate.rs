//! `poolcheck gate`: every scenario x variant x scheduler of the folder, and every pinned
//! schedule, on worker threads; a summary table (or one JSON object) in a deterministic order;
//! a report for every counterexample; exit code 0 only when every trial is as expected.

use super::diagnostic::CliError;
use super::exec::{self, Sink};
use super::scenarios::load_all;
use super::{output, realstack, Cli, Format, GateArgs, Outcome};
use poolcheck_harness::trial::{trials_of, Trial};
use std::io::Write as _;

/// Run the command.
pub fn gate(cli: &Cli, a: &GateArgs) -> Result<Outcome, CliError> {
    let catalog = load_all(&cli.scenario_dir())?;
    let filter = a.filter.as_ref().map(|f| f.replace('_', "-"));
    let selected = |name: &str| filter.as_ref().is_none_or(|f| name.contains(f.as_str()));
    let trials: Vec<Trial> = catalog
        .models
        .iter()
        .flat_map(trials_of)
        .filter(|t| selected(&t.name()))
        .collect();
    let real = realstack::load_all(&catalog.real)?;
    let real_names: Vec<[String; 4]> = real.iter().flat_map(realstack::trial_names).collect();
    let any_real = real_names
        .iter()
        .any(|n| selected(&format!("{}/{}/{}", n[0], n[1], n[2])));
    if let Some(f) = filter.as_ref().filter(|_| trials.is_empty() && !any_real) {
        return Err(CliError::usage(
            format!("no trial matches `{f}`"),
            Some("the filter is a substring of scenario/variant/scheduler".to_owned()),
        ));
    }
    let sink = Sink {
        reports: &cli.reports,
        shard: None,
    };
    let mut table = output::Table::new(&trials);
    for n in real_names.iter().filter(|_| any_real) {
        table.fit(n);
    }
    let text = a.format == Format::Text;
    if text {
        print!("{}", table.header());
    }
    let show = |d: &exec::Done| {
        if text {
            print!("{}", table.row(d));
            let _ = std::io::stdout().flush();
        }
    };
    let mut results = exec::run_all(&trials, a.jobs, &sink, &show);
    results.extend(realstack::gate(&real, &selected, &sink, &show));
    match a.format {
        Format::Json => println!("{}", output::json(&results)),
        Format::Text => print!("{}", output::footer(&results)),
    }
    Ok(if results.iter().all(|d| d.ok) {
        Outcome::AsExpected
    } else {
        Outcome::NotAsExpected
    })
}
