//! `poolcheck replay <report.json>`: rebuild the scheduler from the report (its shuttle schedule
//! or its loom checkpoint), rerun exactly that execution, and print its interleaving. The table
//! is rendered from the new execution, so it is byte-identical to the report's when the
//! execution is reproduced; the exit code says whether it was (0) or not (1).

use super::diagnostic::CliError;
use super::scenarios::load_one;
use super::{realstack, Cli, Outcome, ReplayArgs};
use poolcheck_harness::backend::{self, Bounds};
use poolcheck_harness::report::trace_of;
use poolcheck_harness::report::{from_json, Counterexample};
use poolcheck_harness::scenario::{hint_for, load_file, Loaded, Scenario};
use poolcheck_harness::trace::render_table;
use std::path::PathBuf;

/// Run the command.
pub fn replay(cli: &Cli, a: &ReplayArgs) -> Result<Outcome, CliError> {
    let c = read_report(&a.report)?;
    let scenario = match scenario_of(cli, &c)? {
        Loaded::Model(s) => *s,
        Loaded::Real(path) => return realstack::replay(cli, &c, &path),
    };
    if scenario.expected(&c.variant).is_none() {
        let names = scenario.expect.iter().map(|(v, _)| v.as_str());
        return Err(CliError::usage(
            format!(
                "the report's variant `{}` is not in the scenario",
                c.variant
            ),
            Some(hint_for(&c.variant, names)),
        ));
    }
    replay_model(&scenario, &c, a)
}

fn replay_model(s: &Scenario, c: &Counterexample, a: &ReplayArgs) -> Result<Outcome, CliError> {
    let spec = c.replay_scheduler().ok_or_else(|| {
        CliError::usage(
            format!(
                "`{}` has neither a schedule nor a loom checkpoint to replay",
                a.report.display()
            ),
            Some(
                "std-thread runs are not deterministic; rerun with loom, pct, random or dfs"
                    .to_owned(),
            ),
        )
    })?;
    let how = match &c.schedule {
        Some(s) => format!("schedule {s}"),
        None => "loom checkpoint".to_owned(),
    };
    println!("replaying {} ({how})", a.report.display());
    let run = backend::run(&s.subject(&c.variant), &spec, Bounds::default());
    let trace = run.ghost.as_ref().map(|g| trace_of(g, &run.verdict));
    let verdict = run.verdict.name();
    println!(
        "{} / {} / {}: {verdict}",
        c.scenario, c.variant, c.scheduler
    );
    if let Some(t) = &trace {
        print!("\n{}", render_table(t));
    }
    let (outcome, words) = if verdict != c.verdict {
        (
            Outcome::NotAsExpected,
            format!(
                "NOT reproduced: the replay gives {verdict}, the report says {}",
                c.verdict
            ),
        )
    } else if trace != c.trace {
        (
            Outcome::NotAsExpected,
            format!(
                "{verdict} again, but the interleaving differs from the report's (has the \
                 model changed since it was written?)"
            ),
        )
    } else {
        (
            Outcome::AsExpected,
            format!("reproduced: {verdict}, the same interleaving as the report"),
        )
    };
    println!("\n{words}");
    Ok(outcome)
}

fn read_report(path: &std::path::Path) -> Result<Counterexample, CliError> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        CliError::usage(
            format!("cannot read the report `{}`: {e}", path.display()),
            Some("reports are written as reports/<scenario>/<variant>.<scheduler>.json".into()),
        )
    })?;
    from_json(&text).map_err(|e| CliError::usage(format!("`{}`: {e}", path.display()), None))
}

/// The scenario a report came from: by name in `--scenarios DIR` when given, else the file the
/// report names, else by name in `scenarios/`.
fn scenario_of(cli: &Cli, c: &Counterexample) -> Result<Loaded, CliError> {
    if cli.scenarios.is_none() {
        let file = PathBuf::from(&c.scenario_file);
        if file.is_file() {
            return Ok(load_file(&file)?);
        }
    }
    load_one(&cli.scenario_dir(), &c.scenario)
}
