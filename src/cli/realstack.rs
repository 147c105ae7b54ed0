//! Real-crate scenarios (`model = "h2"`, `"hyper"`, `"hyper-util"`) in the CLI: `run` prints
//! each trial's outcome table and writes the usual reports (with the wire-level ladder) for a
//! counterexample, `replay` reruns a report's schedule, `gate` runs every scheduler budget of
//! every file plus the differential check, and `list` names them.
//!
//! The scenario loader recognises these files (`Loaded::Real(path)`) and every command routes
//! them here; each trial becomes a [`TrialResult`], so output, JSON and exit codes are the models'.

use super::diagnostic::CliError;
use super::exec::{write_report, Sink};
use super::index::{self, RunInfo};
use super::matrix::Meta;
use super::run::{default_spec, with_overrides};
use super::{output, Cli, Format, Outcome, RunArgs};
use poolcheck_harness::backend::SchedulerSpec;
use poolcheck_harness::report::Counterexample;
use poolcheck_harness::scenario::hint_for;
use poolcheck_harness::trace::render_table;
use poolcheck_harness::trial::TrialResult;
use poolcheck_realstack::{
    self as real, OutcomeClass, RealRun, RealScenario, CRATE_VERSIONS, PROPERTIES, SCHEDULERS,
    VARIANT,
};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// `poolcheck run` on a real-crate scenario.
pub fn run(cli: &Cli, a: &RunArgs, path: &Path) -> Result<Outcome, CliError> {
    let sc = load(path)?;
    let budgets = select(&sc, a)?;
    if budgets.is_empty() {
        eprintln!("nothing to run: this shard has no part of this selection");
        return Ok(Outcome::AsExpected);
    }
    let sink = Sink {
        reports: &cli.reports,
        shard: a.shard.map(|s| (s.k, s.n)),
        deadline: super::exec::deadline(a.max_seconds),
    };
    let mut results = Vec::new();
    let mut runs = Vec::new();
    for b in &budgets {
        if sink.out_of_time() {
            results.push(not_started(&sc, b, &sink));
            continue;
        }
        let (run, done) = run_budget(&sc, b, &sink);
        if a.format == Format::Text {
            print!("{}", text(&run, &done));
        }
        runs.push(run);
        results.push(done);
    }
    if budgets.len() == SCHEDULERS.len() && runs.len() == budgets.len() {
        if let Some(d) = differential(&sc, &runs) {
            if a.format == Format::Text {
                println!("{}: {}: {}\n", d.name(), d.verdict, d.judgement);
            }
            results.push(d);
        }
    }
    let meta = Meta::of(&[], std::slice::from_ref(&sc));
    index::write(&cli.reports, &results, &meta, &RunInfo::current());
    if a.format == Format::Json {
        println!("{}", output::json(&results));
    }
    Ok(outcome(&results))
}

/// `poolcheck replay` of a report whose scenario is a real-crate one: rerun its schedule (one
/// execution of one case) and compare the verdict and the wire with the report's.
pub fn replay(_cli: &Cli, c: &Counterexample, path: &Path) -> Result<Outcome, CliError> {
    let sc = load(path)?;
    if c.model != sc.model.name() || !SCHEDULERS.contains(&c.scheduler.as_str()) {
        return Err(CliError::usage(
            format!(
                "the report says model `{}` under `{}`, but `{}` runs `{}` under {}",
                c.model,
                c.scheduler,
                sc.name,
                sc.model.name(),
                SCHEDULERS.join(" or ")
            ),
            Some("replay the report as `run` or `gate` wrote it".to_owned()),
        ));
    }
    let schedule = c.schedule.as_deref().ok_or_else(|| {
        CliError::usage(
            format!("the report of `{}` has no schedule to replay", c.scenario),
            None,
        )
    })?;
    println!(
        "replaying {} / {} (schedule {schedule})",
        c.scenario, c.scheduler
    );
    let run = real::replay(&sc, schedule).map_err(|e| CliError::usage(e.to_string(), None))?;
    if let Some(d) = run
        .detail
        .as_deref()
        .filter(|d| d.contains("schedule diverged"))
    {
        return Err(CliError::usage(
            format!("the report's schedule does not fit `{}`: {d}", sc.name),
            Some("rerun the scenario to write a fresh report".to_owned()),
        ));
    }
    let trace = real::wire_trace(&run);
    println!(
        "{} / {} / {}: {}",
        c.scenario, c.variant, c.scheduler, run.verdict
    );
    if let Some(d) = &run.detail {
        println!("{d}");
    }
    print!("\n{}", render_table(&trace));
    let (result, words) = if run.verdict != c.verdict {
        let words = format!(
            "NOT reproduced: the replay gives {}, the report says {}",
            run.verdict, c.verdict
        );
        (Outcome::NotAsExpected, words)
    } else if c.trace.as_ref() != Some(&trace) {
        let words = format!(
            "{} again, but the wire differs from the report's (have the crates changed since \
             it was written?)",
            run.verdict
        );
        (Outcome::NotAsExpected, words)
    } else {
        let words = format!("reproduced: {}, the same wire as the report", run.verdict);
        (Outcome::AsExpected, words)
    };
    println!("\n{words}");
    Ok(result)
}

/// The real-crate trials of `poolcheck gate` whose `scenario/variant/scheduler` name is
/// `selected`, run and judged, their reports written to `sink`, in file and budget order. A
/// scenario that mirrors a model scenario adds a `differential` trial when selected.
/// `show` sees each result as it is judged.
pub fn gate(
    scenarios: &[RealScenario],
    selected: &dyn Fn(&str) -> bool,
    sink: &Sink<'_>,
    show: &dyn Fn(&TrialResult),
) -> Vec<TrialResult> {
    let mut results = Vec::new();
    for sc in scenarios {
        let diff_wanted = sc.differential.is_some() && selected(&name(sc, "differential"));
        let mut runs = Vec::new();
        let mut all_ran = true;
        for b in &sc.schedulers {
            if (diff_wanted || selected(&name(sc, b.name()))) && sink.out_of_time() {
                let done = not_started(sc, b, sink);
                show(&done);
                results.push(done);
                all_ran = false;
            } else if diff_wanted || selected(&name(sc, b.name())) {
                let (run, done) = run_budget(sc, b, sink);
                show(&done);
                runs.push(run);
                results.push(done);
            }
        }
        if let Some(d) = differential(sc, &runs).filter(|_| diff_wanted && all_ran) {
            show(&d);
            results.push(d);
        }
    }
    results
}

/// Load every real-crate scenario of the gate; any that does not load is an error.
pub fn load_all(paths: &[PathBuf]) -> Result<Vec<RealScenario>, CliError> {
    let mut scenarios = Vec::new();
    let mut errors = Vec::new();
    for p in paths {
        match real::load(p) {
            Ok(sc) => scenarios.push(sc),
            Err(e) => errors.push(e),
        }
    }
    if errors.is_empty() {
        Ok(scenarios)
    } else {
        Err(CliError::Scenarios(errors))
    }
}

/// The `[scenario, variant, scheduler, expected]` of every trial [`gate`] can run for `sc`.
pub fn trial_names(sc: &RealScenario) -> Vec<[String; 4]> {
    let row = |scheduler: &str, expected: &str| {
        [
            sc.name.clone(),
            VARIANT.to_owned(),
            scheduler.to_owned(),
            expected.to_owned(),
        ]
    };
    let mut out: Vec<[String; 4]> = sc
        .schedulers
        .iter()
        .map(|b| row(b.name(), &sc.expect))
        .collect();
    if sc.differential.is_some() {
        out.push(row("differential", "pass"));
    }
    out
}

/// One line for `poolcheck list`, the name padded to `width`.
pub fn describe(sc: &RealScenario, width: usize) -> String {
    format!(
        "{:<width$}  [real crate {}, {} case(s)] {}",
        sc.name,
        sc.model.name(),
        sc.cases.len(),
        sc.description
    )
}

/// The `REAL CRATES` section of `poolcheck list`: the subjects, the properties checked on the
/// wire and the requests, and the outcome classes.
pub fn describe_subjects() -> String {
    let mut out = String::from(
        "\nREAL CRATES (model = \"h2\" | \"hyper\" | \"hyper-util\"; schedulers random, pct)\n",
    );
    out.push_str(&format!(
        "  variant `upstream`: the versions in Cargo.lock ({CRATE_VERSIONS})\n  properties:\n"
    ));
    let width = PROPERTIES.iter().map(|(n, _)| n.len()).max().unwrap_or(0);
    for (name, words) in PROPERTIES {
        out.push_str(&format!("    {name:<width$}  holds when {words}\n"));
    }
    out.push_str(
        "  outcome classes (each case declares them acceptable, interesting or forbidden):\n",
    );
    let width = OutcomeClass::ALL
        .iter()
        .map(|c| c.name().len())
        .max()
        .unwrap_or(0);
    for c in OutcomeClass::ALL {
        out.push_str(&format!("    {:<width$}  {}\n", c.name(), c.meaning()));
    }
    out
}

fn name(sc: &RealScenario, scheduler: &str) -> String {
    format!("{}/{VARIANT}/{scheduler}", sc.name)
}

fn outcome(results: &[TrialResult]) -> Outcome {
    if results.iter().all(|d| d.ok) {
        Outcome::AsExpected
    } else {
        Outcome::NotAsExpected
    }
}

/// Load a real-crate scenario; an error points at its file, line and column.
fn load(path: &Path) -> Result<RealScenario, CliError> {
    real::load(path).map_err(CliError::from)
}

/// The budgets `run`'s arguments select: the file's, or the one named (its default budget
/// where the file has none), with the overrides and the shard applied as for models.
fn select(sc: &RealScenario, a: &RunArgs) -> Result<Vec<SchedulerSpec>, CliError> {
    check_args(a)?;
    let named: Vec<SchedulerSpec> = match a.scheduler.as_deref() {
        None => sc.schedulers.clone(),
        Some(s) => vec![sc.scheduler(s).cloned().unwrap_or_else(|| default_spec(s))],
    };
    let mut out = Vec::new();
    for spec in named {
        let spec = with_overrides(&spec, a);
        match a.shard {
            None => out.push(spec),
            Some(shard) => out.extend(shard.apply(&spec)),
        }
    }
    Ok(out)
}

fn check_args(a: &RunArgs) -> Result<(), CliError> {
    super::run::check_ranges(a)?;
    if let Some(v) = a.variant.as_deref().filter(|v| *v != VARIANT) {
        return Err(CliError::usage(
            format!("unknown variant `{v}`: a real-crate scenario has one variant, `{VARIANT}`"),
            Some(format!(
                "the crate versions in Cargo.lock; pass --variant {VARIANT} or omit it"
            )),
        ));
    }
    if let Some(s) = a.scheduler.as_deref().filter(|s| !SCHEDULERS.contains(s)) {
        return Err(CliError::usage(
            format!("unknown scheduler `{s}` for a real-crate scenario"),
            Some(format!(
                "{} (real crates run under shuttle's random and pct only)",
                hint_for(s, SCHEDULERS.iter().copied())
            )),
        ));
    }
    if a.preemption_bound.is_some() {
        return Err(CliError::usage(
            "--preemption-bound applies to loom only; real-crate scenarios run under random and pct",
            None,
        ));
    }
    Ok(())
}

/// Explore with one budget; judge it and write its reports.
fn run_budget(sc: &RealScenario, spec: &SchedulerSpec, sink: &Sink<'_>) -> (RealRun, TrialResult) {
    let run = {
        let _quiet = poolcheck_harness::backend::stderr::silence();
        real::run(sc, spec, real::WATCHDOG).expect("only random and pct are selected")
    };
    let mut done = real::judge(sc, spec, &run);
    write_report(&mut done, sink);
    (run, done)
}

/// A budget `--max-seconds` left no time for.
fn not_started(sc: &RealScenario, spec: &SchedulerSpec, sink: &Sink<'_>) -> TrialResult {
    sink.not_started([&sc.name, VARIANT, spec.name(), &sc.expect], spec.seed())
}

/// The differential check as a trial of its own: the mirrored model scenario is run and its
/// outcome classes compared with the real trials' both ways (`poolcheck_realstack::differential`).
fn differential(sc: &RealScenario, runs: &[RealRun]) -> Option<TrialResult> {
    let refs: Vec<&RealRun> = runs.iter().collect();
    let (result, executions, elapsed) = match real::run_model_side(sc) {
        Ok(None) => return None,
        Ok(Some(model)) => (
            real::differential(sc, &refs, &model),
            model.executions,
            model.elapsed,
        ),
        Err(e) => (Err(e.to_string()), 0, Duration::ZERO),
    };
    let (Ok(judgement) | Err(judgement)) = result.clone();
    Some(TrialResult {
        scenario: sc.name.clone(),
        variant: VARIANT.into(),
        scheduler: "differential".into(),
        expected: "pass".into(),
        verdict: if result.is_ok() {
            "pass"
        } else {
            "differential"
        }
        .into(),
        ok: result.is_ok(),
        judgement,
        // The model side's exploration; the real trials above are counted on their own rows.
        executions,
        elapsed,
        seed: None,
        note: None,
        counterexample: None,
        report: None,
        races: None,
    })
}

/// One trial as text: the verdict and outcome table, the counterexample with its wire and
/// report paths, then the judgement line.
fn text(run: &RealRun, d: &TrialResult) -> String {
    let mut out = String::new();
    match &d.counterexample {
        Some(c) => {
            let replay = d.report.as_ref().map(|p| p.replay_command());
            out.push_str(&output::counterexample(c, replay.as_deref()));
            if let Some(p) = &d.report {
                out.push_str(&format!("report: {}\n", p.markdown.display()));
            }
        }
        None => {
            out.push_str(&format!("{}: {}\n\n", d.name(), d.verdict));
            out.push_str(&run.render_outcomes());
        }
    }
    out.push_str(&output::verdict_line(d));
    out
}
