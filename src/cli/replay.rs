//! `poolcheck replay <report.json>`: rebuild the scheduler from the report (its shuttle schedule
//! or its loom checkpoint), rerun exactly that execution, and print its interleaving. The table
//! is rendered from the new execution, so it is byte-identical to the report's when the
//! execution is reproduced; the exit code says whether it was (0) or not (1).

use super::diagnostic::CliError;
use super::scenarios::{load_one, load_path};
use super::{Cli, Outcome, ReplayArgs};
use poolcheck_harness::report::{from_json, Counterexample, REPORT_VERSION};
use poolcheck_harness::scenario::{
    read_source, AnyScenario, Replayed, ScenarioError, MAX_REPORT_BYTES,
};
use poolcheck_harness::trace::render_table;
use std::path::{Path, PathBuf};

/// Run the command.
pub fn replay(cli: &Cli, a: &ReplayArgs) -> Result<Outcome, CliError> {
    let c = read_report(&a.report)?;
    let scenario = scenario_of(cli, &c)?;
    let how = match &c.schedule {
        Some(s) => format!("schedule {s}"),
        None => "loom checkpoint".to_owned(),
    };
    let replayed = scenario
        .replay(&c)
        .map_err(|e| CliError::usage(format!("`{}`: {}", a.report.display(), e.message), e.hint))?;
    println!("replaying {} ({how})", a.report.display());
    let (outcome, words) = compare(&c, &replayed);
    println!(
        "{} / {} / {}: {}",
        c.scenario, c.variant, c.scheduler, replayed.verdict
    );
    if let Some(d) = &replayed.detail {
        println!("{d}");
    }
    if let Some(t) = &replayed.trace {
        print!("\n{}", render_table(t));
    }
    println!("\n{words}");
    Ok(outcome)
}

/// Whether the replay reproduced the report: the same verdict and the same trace.
fn compare(c: &Counterexample, r: &Replayed) -> (Outcome, String) {
    let (verdict, what) = (&r.verdict, r.trace_name);
    if *verdict != c.verdict {
        let words = format!(
            "NOT reproduced: the replay gives {verdict}, the report says {}",
            c.verdict
        );
        (Outcome::NotAsExpected, words)
    } else if r.trace != c.trace {
        let words = format!(
            "{verdict} again, but the {what} differs from the report's (has the subject \
             changed since it was written?)"
        );
        (Outcome::NotAsExpected, words)
    } else {
        let words = format!("reproduced: {verdict}, the same {what} as the report");
        (Outcome::AsExpected, words)
    }
}

/// Read and parse a report: a regular file of at most [`MAX_REPORT_BYTES`], JSON (a syntax
/// error names its line and column), with an integer `version`.
fn read_report(path: &Path) -> Result<Counterexample, CliError> {
    let text = read_source(path, MAX_REPORT_BYTES).map_err(|mut e| {
        e.message = e.message.replacen("the file", "the report", 1);
        CliError::from(
            e.with_hint("reports are written as reports/<scenario>/<variant>.<scheduler>.json"),
        )
    })?;
    let value: serde_json::Value = serde_json::from_str(&text).map_err(|e| {
        let at = offset_of(&text, e.line(), e.column());
        ScenarioError::at(path, &text, at..at, "", format!("not JSON: {e}"))
    })?;
    match value.get("version") {
        Some(v) if !v.is_u64() => {
            let at = text.find("\"version\"").unwrap_or(0);
            return Err(ScenarioError::at(
                path,
                &text,
                at..at + 9,
                "version",
                format!("`version` must be an integer, found {v}"),
            )
            .with_hint(format!(
                "this poolcheck reads report version {REPORT_VERSION}"
            ))
            .into());
        }
        _ => {}
    }
    from_json(&text).map_err(|e| CliError::usage(format!("`{}`: {e}", path.display()), None))
}

/// The byte offset of serde_json's 1-based line and column (0 when it is out of the text).
fn offset_of(text: &str, line: usize, column: usize) -> usize {
    let start: usize = text
        .split_inclusive('\n')
        .take(line.saturating_sub(1))
        .map(str::len)
        .sum();
    (start + column.saturating_sub(1)).min(text.len())
}

/// The scenario a report came from: by name in `--scenarios DIR` when given, else the file the
/// report names, else by name in `scenarios/`.
fn scenario_of(cli: &Cli, c: &Counterexample) -> Result<AnyScenario, CliError> {
    if cli.scenarios.is_none() {
        let file = PathBuf::from(&c.scenario_file);
        if file.is_file() {
            return load_path(&file);
        }
    }
    load_one(&cli.scenario_dir(), &c.scenario)
}
