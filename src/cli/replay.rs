//! `poolcheck replay <report.json>`: rebuild the scheduler from the report (its shuttle schedule
//! or its loom checkpoint), rerun exactly that execution, and print its interleaving. The table
//! is rendered from the new execution, so it is byte-identical to the report's when the
//! execution is reproduced; the exit code says whether it was (0) or not (1).

use super::diagnostic::CliError;
use super::scenarios::load_one;
use super::{realstack, Cli, Outcome, ReplayArgs};
use poolcheck_harness::backend::{self, decode_schedule, Bounds, Verdict};
use poolcheck_harness::report::trace_of;
use poolcheck_harness::report::{from_json, Counterexample, REPORT_VERSION};
use poolcheck_harness::scenario::{
    hint_for, load_file, read_source, Loaded, Scenario, ScenarioError, MAX_PREEMPTION_BOUND,
    MAX_REPORT_BYTES,
};
use poolcheck_harness::trace::render_table;
use std::path::{Path, PathBuf};

/// Run the command.
pub fn replay(cli: &Cli, a: &ReplayArgs) -> Result<Outcome, CliError> {
    let c = read_report(&a.report)?;
    let scenario = match scenario_of(cli, &c)? {
        Loaded::Model(s) => *s,
        Loaded::Real(path) => return realstack::replay(cli, &c, &path),
    };
    if scenario.expectation(&c.variant).is_none() && scenario.model.variant(&c.variant).is_err() {
        let names = scenario.variants();
        return Err(CliError::usage(
            format!(
                "the report's variant `{}` is not a variant of the scenario's model",
                c.variant
            ),
            Some(hint_for(&c.variant, names)),
        ));
    }
    check_report(&scenario, &c, &a.report)?;
    replay_model(&scenario, &c, a)
}

/// Fields of the report that must agree with the scenario and with each other before anything
/// is replayed: the model, the scheduler, the preemption bound, a schedule that decodes.
fn check_report(s: &Scenario, c: &Counterexample, path: &Path) -> Result<(), CliError> {
    let bad = |what: String| {
        CliError::usage(
            format!("`{}`: {what}", path.display()),
            Some("replay the report as `run` or `gate` wrote it".to_owned()),
        )
    };
    let model = s.model.info().name;
    if c.model != model {
        return Err(bad(format!(
            "the report's model is `{}`, but scenario `{}` explores `{model}`",
            c.model, s.name
        )));
    }
    let shuttle = ["random", "pct", "dfs", "replay", "dpor", "dpor-replay"];
    let loom = ["loom", "loom-replay"];
    match (&c.schedule, &c.loom_checkpoint) {
        (Some(_), Some(_)) => {
            return Err(bad("it has both a schedule and a loom checkpoint".into()))
        }
        (Some(_), None) if !shuttle.contains(&c.scheduler.as_str()) => {
            return Err(bad(format!(
                "a shuttle schedule, but the scheduler is `{}` (expected {})",
                c.scheduler,
                shuttle.join(", ")
            )))
        }
        (None, Some(_)) if !loom.contains(&c.scheduler.as_str()) => {
            return Err(bad(format!(
                "a loom checkpoint, but the scheduler is `{}` (expected loom)",
                c.scheduler
            )))
        }
        _ => {}
    }
    if let Some(text) = &c.schedule {
        decode_schedule(text).map_err(|e| bad(format!("its schedule does not parse: {e}")))?;
    }
    check_preemption_bound(c).map_err(bad)
}

/// A loom report's preemption bound is in range and is the one its budget line names.
fn check_preemption_bound(c: &Counterexample) -> Result<(), String> {
    let is_loom = c.scheduler == "loom" || c.scheduler == "loom-replay";
    let bounded = is_loom || c.scheduler.starts_with("dpor");
    match c.preemption_bound {
        Some(_) if !bounded => Err(format!(
            "a preemption bound, but the scheduler is `{}` (only loom and dpor have one)",
            c.scheduler
        )),
        None if is_loom && c.loom_checkpoint.is_some() => {
            Err("a loom checkpoint without its `preemption_bound`".into())
        }
        Some(b) if b > MAX_PREEMPTION_BOUND => Err(format!(
            "preemption_bound {b} is out of range (0 to {MAX_PREEMPTION_BOUND})"
        )),
        Some(b)
            if (c.scheduler == "loom" || c.scheduler == "dpor")
                && !c.budget.contains(&format!("preemption bound {b},")) =>
        {
            Err(format!(
                "preemption_bound {b} disagrees with its budget `{}`",
                c.budget
            ))
        }
        _ => Ok(()),
    }
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
    if let Verdict::InputError(why) = &run.verdict {
        return Err(CliError::usage(
            format!("`{}` does not replay: {why}", a.report.display()),
            Some("rerun the scenario to write a fresh report".to_owned()),
        ));
    }
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
fn scenario_of(cli: &Cli, c: &Counterexample) -> Result<Loaded, CliError> {
    if cli.scenarios.is_none() {
        let file = PathBuf::from(&c.scenario_file);
        if file.is_file() {
            return Ok(load_file(&file)?);
        }
    }
    load_one(&cli.scenario_dir(), &c.scenario)
}
