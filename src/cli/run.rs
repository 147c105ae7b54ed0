//! `poolcheck run <scenario>`: explore one scenario, all of it or the variant and scheduler you
//! name, with command-line overrides of the file's budget, optionally as one shard of N.

use super::diagnostic::CliError;
use super::exec::{self, Sink};
use super::index::{self, RunInfo};
use super::matrix::{self, Matrix, Meta};
use super::scenarios::load_one;
use super::{output, Cli, Format, Outcome, RunArgs};
use poolcheck_harness::backend::SchedulerSpec;
use poolcheck_harness::scenario::limits::{self, in_range};
use poolcheck_harness::scenario::{default_budget, AnyScenario, Expectation};
use poolcheck_harness::trial::{Method, Trial, TrialResult};
use std::io::Write as _;

/// Run the command.
pub fn run(cli: &Cli, a: &RunArgs) -> Result<Outcome, CliError> {
    let scenario = load_one(&cli.scenario_dir(), &a.scenario)?;
    let trials = select(&scenario, a)?;
    if trials.is_empty() {
        eprintln!(
            "nothing to run: shard {} has no part of this selection",
            shard_text(a)
        );
        return Ok(Outcome::AsExpected);
    }
    let sink = Sink {
        reports: &cli.reports,
        shard: a.shard.map(|s| (s.k, s.n)),
        deadline: exec::deadline(a.max_seconds),
    };
    let bar = exec::progress(trials.len());
    let show = |d: &TrialResult| {
        if a.format == Format::Text {
            bar.suspend(|| {
                print!("{}", text(d));
                if a.races {
                    print!("{}", races_text(d));
                }
                let _ = std::io::stdout().flush();
            });
        }
    };
    let results = exec::run_all(&trials, a.jobs, &sink, &show, &bar);
    bar.finish_and_clear();
    let meta = Meta::of(std::slice::from_ref(&scenario));
    index::write(&cli.reports, &results, &meta, &RunInfo::current());
    match a.format {
        Format::Json => println!("{}", output::json(&results)),
        Format::Text if results.len() > 1 && a.rows => {
            print!("{}", output::summary(&trials, &results));
        }
        Format::Text if results.len() > 1 => {
            print!("{}", matrix::render(&Matrix::new(&results, &meta)));
        }
        Format::Text => {}
    }
    Ok(exec::outcome_of(&trials, &results))
}

fn shard_text(a: &RunArgs) -> String {
    a.shard.map_or("0/1".into(), |s| format!("{}/{}", s.k, s.n))
}

/// One trial's result: its counterexample in full (or, without one, the subject's outcome
/// table where it has one), then the verdict and the judgement.
fn text(d: &TrialResult) -> String {
    let mut out = String::new();
    if let Some(c) = &d.counterexample {
        let replay = d.report.as_ref().map(|p| p.replay_command());
        out.push_str(&output::counterexample(c, replay.as_deref()));
        if let Some(p) = &d.report {
            out.push_str(&format!("report: {}\n", p.markdown.display()));
        }
    } else if let Some(table) = &d.outcomes {
        out.push_str(&format!("{}: {}\n\n{table}", d.name(), d.verdict));
    }
    out.push_str(&output::verdict_line(d));
    out
}

/// How many objects `--races` lists per trial.
const RACE_ROWS: usize = 25;

/// `--races`: the dpor trial's races per object, or why there is no such table.
fn races_text(d: &TrialResult) -> String {
    match &d.races {
        Some(t) if !t.is_empty() => format!(
            "races of {} by object:\n{}\n",
            d.name(),
            t.render(RACE_ROWS)
        ),
        Some(_) => format!("races of {}: none\n\n", d.name()),
        None => format!("races of {}: only dpor counts races\n\n", d.name()),
    }
}

/// The trials the arguments select, with overrides and the shard applied: each selected
/// variant under each selected scheduler, then (with no `--scheduler`) the scenario's other
/// trials of those variants (pinned schedules, checks).
fn select(s: &AnyScenario, a: &RunArgs) -> Result<Vec<Trial>, CliError> {
    if let Some(v) = &a.variant {
        s.check_variant(v)?;
    }
    let schedulers = schedulers(s, a)?;
    check_overrides(a, &schedulers)?;
    let wanted = |v: &str| a.variant.as_deref().is_none_or(|w| w == v);
    let mut trials: Vec<Trial> = Vec::new();
    let built = a
        .variant
        .as_deref()
        .filter(|v| s.expectation(v).is_none())
        .map(Expectation::none);
    for e in s
        .expect()
        .iter()
        .filter(|e| wanted(&e.variant))
        .chain(&built)
    {
        for spec in &schedulers {
            trials.push(Trial {
                scenario: s.clone(),
                variant: e.variant.clone(),
                method: Method::Scheduler(with_overrides(spec, a)),
                expected: e.under(spec.name()).map(str::to_owned),
            });
        }
    }
    if a.scheduler.is_none() {
        trials.extend(s.extra_trials().into_iter().filter(|t| wanted(&t.variant)));
    }
    Ok(match a.shard {
        None => trials,
        Some(shard) => trials
            .into_iter()
            .filter_map(|mut t| {
                // A check judges whole explorations: it has no share to run.
                t.method = Method::Scheduler(shard.apply(t.method.scheduler()?)?);
                Some(t)
            })
            .collect(),
    })
}

/// The schedulers to run: the one named (from the file, or with its default budget), or every
/// scheduler of the file.
fn schedulers(s: &AnyScenario, a: &RunArgs) -> Result<Vec<SchedulerSpec>, CliError> {
    let Some(name) = &a.scheduler else {
        return Ok(s.schedulers().to_vec());
    };
    s.check_scheduler(name)?;
    Ok(vec![s
        .scheduler(name)
        .cloned()
        .unwrap_or_else(|| default_spec(name))])
}

/// The budget of a scheduler the scenario file does not list (one it can run).
pub fn default_spec(name: &str) -> SchedulerSpec {
    default_budget(name).expect("a scheduler name `run` accepts")
}

/// The numeric overrides are in the ranges the loader enforces for the same keys in a file.
fn check_ranges(a: &RunArgs) -> Result<(), CliError> {
    let out_of_range = |flag: &str, e: String| {
        CliError::usage(
            format!(
                "{flag}: {}",
                e.replacen(&format!("`{}`", &flag[2..]), "the value", 1)
            ),
            Some("docs/scenario-format.md lists the range of every key".to_owned()),
        )
    };
    if let Some(n) = a.iterations {
        in_range("iterations", n, &limits::ITERATIONS)
            .map_err(|e| out_of_range("--iterations", e))?;
    }
    if let Some(n) = a.preemption_bound {
        in_range("preemption-bound", n, &limits::PREEMPTION_BOUND)
            .map_err(|e| out_of_range("--preemption-bound", e))?;
    }
    Ok(())
}

/// Each override must apply to at least one selected scheduler.
fn check_overrides(a: &RunArgs, schedulers: &[SchedulerSpec]) -> Result<(), CliError> {
    check_ranges(a)?;
    let takes = |names: &[&str]| schedulers.iter().any(|s| names.contains(&s.name()));
    let checks: [(bool, &str, &[&str]); 3] = [
        (a.seed.is_some(), "--seed", &["random", "pct"]),
        (
            a.iterations.is_some(),
            "--iterations",
            &["dpor", "random", "pct", "dfs", "std"],
        ),
        (
            a.preemption_bound.is_some(),
            "--preemption-bound",
            &["loom", "dpor"],
        ),
    ];
    for (given, flag, names) in checks {
        if given && !takes(names) {
            return Err(CliError::usage(
                format!("{flag} applies to {} only", names.join(", ")),
                Some(format!(
                    "add --scheduler {} (this selection runs: {})",
                    names[0],
                    schedulers
                        .iter()
                        .map(SchedulerSpec::name)
                        .collect::<Vec<_>>()
                        .join(", ")
                )),
            ));
        }
    }
    Ok(())
}

/// `spec` with `run`'s `--seed`, `--iterations` and `--preemption-bound` applied where it takes them.
fn with_overrides(spec: &SchedulerSpec, a: &RunArgs) -> SchedulerSpec {
    let mut spec = spec.clone();
    match &mut spec {
        SchedulerSpec::Loom {
            preemption_bound, ..
        } => set(preemption_bound, a.preemption_bound),
        SchedulerSpec::Random { seed, iterations } => {
            set(seed, a.seed);
            set(iterations, a.iterations);
        }
        SchedulerSpec::Pct {
            seed, iterations, ..
        } => {
            set(seed, a.seed);
            set(iterations, a.iterations);
        }
        SchedulerSpec::Dfs { max_iterations } => set(max_iterations, a.iterations),
        SchedulerSpec::Dpor {
            preemption_bound,
            max_executions,
        } => {
            if a.preemption_bound.is_some() {
                *preemption_bound = a.preemption_bound;
            }
            set(max_executions, a.iterations);
        }
        SchedulerSpec::Std { iterations } => set(iterations, a.iterations),
        SchedulerSpec::Replay { .. }
        | SchedulerSpec::LoomReplay { .. }
        | SchedulerSpec::DporReplay { .. } => {}
    }
    spec
}

fn set<T: Copy>(slot: &mut T, value: Option<T>) {
    if let Some(v) = value {
        *slot = v;
    }
}
