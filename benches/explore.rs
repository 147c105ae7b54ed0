//! Time to the first counterexample and exploration throughput, per scenario, variant and
//! scheduler, written as a Markdown table to `reports/bench.md`.
//!
//! `cargo bench --bench explore -- [scenario-filter] [--seeds N] [--std-seconds S]`
//!
//! For each variant a scenario expects to be caught: loom's executions and time to the first
//! counterexample (deterministic), PCT's and random's median over N seeds (seeds 1..=N), and how
//! long the std-threads baseline took to hit it (or that it did not within S seconds). For each
//! variant expected to pass: loom's executions and time to exhaust it within its bound.
//! Timing lives here, never in unit tests.

use poolcheck_harness::backend::{run, Bounds, SchedulerSpec, Verdict};
use poolcheck_harness::scenario::{load_dir, Loaded, Scenario};
use std::fmt::Write as _;
use std::path::Path;
use std::time::Duration;

struct Options {
    filter: Option<String>,
    seeds: u64,
    std_seconds: u64,
}

fn options() -> Options {
    let mut o = Options {
        filter: None,
        seeds: 20,
        std_seconds: 30,
    };
    let mut args = std::env::args().skip(1).filter(|a| a != "--bench");
    while let Some(a) = args.next() {
        match a.as_str() {
            "--seeds" => o.seeds = args.next().and_then(|v| v.parse().ok()).unwrap_or(20),
            "--std-seconds" => {
                o.std_seconds = args.next().and_then(|v| v.parse().ok()).unwrap_or(30)
            }
            other => o.filter = Some(other.replace('_', "-")),
        }
    }
    o
}

fn main() {
    let o = options();
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios");
    let scenarios: Vec<Scenario> = load_dir(&dir)
        .expect("scenario folder")
        .into_iter()
        .filter_map(|l| match l {
            Ok(Loaded::Model(s)) => Some(*s),
            _ => None,
        })
        .filter(|s| {
            o.filter
                .as_ref()
                .is_none_or(|f| s.name.contains(f.as_str()))
        })
        .collect();
    let mut table = String::from(
        "| scenario | variant | expected | scheduler | found | executions (median) | time ms (median) | race windows both ways |\n\
         |---|---|---|---|---|---|---|---|\n",
    );
    for s in &scenarios {
        for (variant, expected) in &s.expect {
            for line in measure(s, variant, expected, &o) {
                table.push_str(&line);
                print!("{line}");
            }
        }
    }
    std::fs::create_dir_all("reports").expect("reports folder");
    std::fs::write("reports/bench.md", &table).expect("write reports/bench.md");
    println!("\nwritten to reports/bench.md");
}

fn measure(s: &Scenario, variant: &str, expected: &str, o: &Options) -> Vec<String> {
    let mut out = Vec::new();
    for spec in &s.schedulers {
        let row = match spec {
            SchedulerSpec::Loom { .. } => one(s, variant, spec, Bounds::default()),
            SchedulerSpec::Pct {
                depth, iterations, ..
            } => seeds(
                o.seeds,
                |seed| SchedulerSpec::Pct {
                    seed,
                    depth: *depth,
                    iterations: *iterations,
                },
                s,
                variant,
            ),
            SchedulerSpec::Random { iterations, .. } => seeds(
                o.seeds,
                |seed| SchedulerSpec::Random {
                    seed,
                    iterations: *iterations,
                },
                s,
                variant,
            ),
            SchedulerSpec::Std { .. } if expected != "pass" => {
                let budget = Bounds {
                    wall: Duration::from_secs(o.std_seconds),
                    ..Bounds::default()
                };
                one(
                    s,
                    variant,
                    &SchedulerSpec::Std {
                        iterations: u64::MAX,
                    },
                    budget,
                )
            }
            _ => continue,
        };
        out.push(format!(
            "| {} | {variant} | {expected} | {} | {row} |\n",
            s.name,
            spec.name()
        ));
    }
    out
}

fn one(s: &Scenario, variant: &str, spec: &SchedulerSpec, bounds: Bounds) -> String {
    let r = run(&s.subject(variant), spec, bounds);
    format!(
        "{} | {} | {} | {}/{}",
        found(&r.verdict),
        r.executions,
        r.elapsed.as_millis(),
        r.coverage.both_orders,
        r.coverage.pairs
    )
}

fn seeds(n: u64, spec: impl Fn(u64) -> SchedulerSpec, s: &Scenario, variant: &str) -> String {
    let mut windows = String::new();
    let mut runs: Vec<(u64, u128, bool)> = (1..=n)
        .map(|seed| {
            let r = run(&s.subject(variant), &spec(seed), Bounds::default());
            if seed == 1 {
                windows = format!("{}/{} (seed 1)", r.coverage.both_orders, r.coverage.pairs);
            }
            (
                r.executions,
                r.elapsed.as_micros(),
                !matches!(r.verdict, Verdict::Pass),
            )
        })
        .collect();
    let hits = runs.iter().filter(|r| r.2).count();
    runs.sort_by_key(|r| r.0);
    let execs = runs[runs.len() / 2].0;
    runs.sort_by_key(|r| r.1);
    let mut cell = String::new();
    let ms = runs[runs.len() / 2].1 as f64 / 1000.0;
    write!(cell, "{hits}/{n} seeds | {execs} | {ms:.1} | {windows}").expect("string");
    cell
}

fn found(v: &Verdict) -> String {
    match v {
        Verdict::Pass => "pass (none)".into(),
        other => other.name().to_owned(),
    }
}
