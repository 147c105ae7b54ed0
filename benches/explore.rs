//! The side-by-side benchmark: every scheduler on every model scenario in one run, written as
//! `docs/performance.md` (and a copy in `reports/bench.md`).
//!
//! `cargo bench --bench explore -- [scenario-filter] [--seeds N] [--std-seconds S]
//! [--cap-seconds C] [--cap-executions E] [--proof-seconds P]`
//!
//! - **Exhausting `fixed`**: executions and seconds for loom at the file's preemption bound, dpor
//!   at the same bound, dpor unbounded, and dpor at the file's proof bound (`[schedulers.dpor]
//!   proof_bound`, else its `preemption_bound`: the highest bound that fits in 60 s, where the
//!   suite runs a cheaper one), capped at P seconds (60 by default).
//! - **First counterexample** of each buggy variant: executions and seconds under loom, dpor
//!   (the file's `[schedulers.dpor]`, else unbounded), PCT and random (medians over seeds
//!   1..=N, and how many seeds caught it) and the std-threads baseline (until it hits the bug or
//!   S seconds pass); then the simplest counterexample found (fewest preemptions, then steps).
//!
//! Every cell is capped at C seconds and E executions; a capped cell says so. Seconds are the
//! exploration's wall time (not the search for a simpler counterexample). Timing lives here,
//! never in unit tests.

use poolcheck_harness::backend::{run, Bounds, Counts, RunResult, SchedulerSpec, Verdict};
use poolcheck_harness::scenario::{load_dir, Scenario};
use std::cell::RefCell;
use std::fmt::Write as _;
use std::path::Path;
use std::time::{Duration, Instant};

struct Options {
    filter: Option<String>,
    seeds: u64,
    std_seconds: u64,
    cap_seconds: u64,
    cap_executions: u64,
    proof_seconds: u64,
}

fn options() -> Options {
    let mut o = Options {
        filter: None,
        seeds: 5,
        std_seconds: 2,
        cap_seconds: 10,
        cap_executions: 100_000,
        proof_seconds: 60,
    };
    let mut args = std::env::args().skip(1).filter(|a| a != "--bench");
    let number =
        |v: Option<String>, default: u64| v.and_then(|v| v.parse().ok()).unwrap_or(default);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--seeds" => o.seeds = number(args.next(), o.seeds).max(1),
            "--std-seconds" => o.std_seconds = number(args.next(), o.std_seconds),
            "--cap-seconds" => o.cap_seconds = number(args.next(), o.cap_seconds),
            "--cap-executions" => o.cap_executions = number(args.next(), o.cap_executions),
            "--proof-seconds" => o.proof_seconds = number(args.next(), o.proof_seconds),
            other => o.filter = Some(other.replace('_', "-")),
        }
    }
    o
}

fn main() {
    let o = options();
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios");
    let scenarios: Vec<Scenario> = load_dir(&dir, &[&poolcheck_realstack::RealCrates])
        .expect("scenario folder")
        .into_iter()
        .filter_map(|l| match l {
            Ok(s) => s.as_model().map(|s| (**s).clone()),
            Err(_) => None,
        })
        .filter(|s| {
            o.filter
                .as_ref()
                .is_none_or(|f| s.name.contains(f.as_str()))
        })
        .collect();
    let started = Instant::now();
    let mut exhaust = String::from(
        "| scenario | loom bound | loom executions | loom s | dpor same bound executions | dpor same bound s | dpor unbounded executions | dpor unbounded s | dpor proof bound | dpor proof executions | dpor proof s |\n\
         |---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n",
    );
    let mut first = String::from(
        "| scenario | variant | expected | loom | dpor | pct | random | std | simplest (preemptions, steps) |\n\
         |---|---|---|---|---|---|---|---|---|\n",
    );
    for s in &scenarios {
        if s.expectation("fixed").and_then(|e| e.default.as_deref()) == Some("pass") {
            let line = exhaust_row(s, &o);
            print!("{line}");
            exhaust.push_str(&line);
        }
        let caught = s
            .expect
            .iter()
            .filter_map(|e| Some((&e.variant, e.default.as_deref()?)));
        for (variant, expected) in caught.filter(|(_, e)| *e != "pass") {
            let line = first_row(s, variant, expected, &o);
            print!("{line}");
            first.push_str(&line);
        }
    }
    let doc = document(&o, &exhaust, &first, started.elapsed());
    for path in ["docs/performance.md", "reports/bench.md"] {
        if let Some(parent) = Path::new(path).parent() {
            std::fs::create_dir_all(parent).expect("output folder");
        }
        std::fs::write(path, &doc).unwrap_or_else(|e| panic!("write {path}: {e}"));
    }
    println!("\nwritten to docs/performance.md and reports/bench.md");
}

fn document(o: &Options, exhaust: &str, first: &str, took: Duration) -> String {
    let mut cmd = String::from("cargo bench --bench explore --");
    if let Some(f) = &o.filter {
        write!(cmd, " {f}").expect("string");
    }
    write!(
        cmd,
        " --seeds {} --std-seconds {} --cap-seconds {} --cap-executions {} --proof-seconds {}",
        o.seeds, o.std_seconds, o.cap_seconds, o.cap_executions, o.proof_seconds
    )
    .expect("string");
    format!(
        "# Performance\n\n\
         Generated by `{cmd}` (release build) in {:.0} s on {}.\n\n\
         Each cell is capped at {} s and {} executions; `cap` marks a cell that hit a cap (a \
         lower bound, not a result). Seconds are the exploration's wall time; finding the \
         simplest counterexample afterwards is not included. PCT and random are medians over \
         seeds 1..={} (`k/N`: seeds that caught the bug); std runs until it hits the bug or {} s \
         pass.\n\n\
         ## Exhausting `fixed`\n\n\
         `dpor proof` runs dpor at the scenario file's proof bound (`[schedulers.dpor] \
         proof_bound`, else its `preemption_bound`), capped at {} s only: the file claims it \
         finishes within 60 s.\n\n{exhaust}\n\
         ## First counterexample per buggy variant\n\n\
         Cells: executions, seconds. `simplest` is the counterexample with the fewest \
         preemptions (then steps) over every scheduler's minimised result.\n\n{first}",
        took.as_secs_f64(),
        machine(),
        o.cap_seconds,
        o.cap_executions,
        o.seeds,
        o.std_seconds,
        o.proof_seconds,
    )
}

/// CPU model and core count, from /proc where there is one.
fn machine() -> String {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|c| {
            c.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split(':').nth(1))
                .map(|m| m.trim().to_owned())
        })
        .unwrap_or_else(|| "an unknown CPU".into());
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    format!("{cores} cores ({cpu}), {}", std::env::consts::OS)
}

fn capped(o: &Options) -> Bounds {
    Bounds {
        wall: Duration::from_secs(o.cap_seconds),
        ..Bounds::default()
    }
}

fn exhaust_row(s: &Scenario, o: &Options) -> String {
    let loom = s.schedulers.iter().find_map(|spec| match spec {
        SchedulerSpec::Loom {
            preemption_bound,
            max_executions,
            max_branches,
        } => Some((*preemption_bound, *max_executions, *max_branches)),
        _ => None,
    });
    let cells = |spec: &SchedulerSpec| exhaust_cells(&run(&s.subject("fixed"), spec, capped(o)));
    let (bound, loom_cells, dpor_same) = match loom {
        Some((bound, max_executions, max_branches)) => (
            bound.to_string(),
            cells(&SchedulerSpec::Loom {
                preemption_bound: bound,
                max_executions: max_executions.min(o.cap_executions),
                max_branches,
            }),
            cells(&dpor(Some(bound), o)),
        ),
        None => ("none".into(), "— | —".into(), "— | —".into()),
    };
    let unbounded = cells(&dpor(None, o));
    let proof = proof_cells(s, o);
    format!(
        "| {} | {bound} | {loom_cells} | {dpor_same} | {unbounded} | {proof} |\n",
        s.name
    )
}

/// `bound | executions | seconds` of dpor at the file's proof bound (`proof_bound`, else the
/// suite's `preemption_bound`), capped at `--proof-seconds` and no execution cap: the claim the
/// file makes is that this finishes within 60 s.
fn proof_cells(s: &Scenario, o: &Options) -> String {
    let suite = s.schedulers.iter().find_map(|spec| match spec {
        SchedulerSpec::Dpor {
            preemption_bound, ..
        } => Some(*preemption_bound),
        _ => None,
    });
    let Some(bound) = s.proof_bound.map(|p| p.preemption_bound()).or(suite) else {
        return "— | — | —".into();
    };
    let spec = SchedulerSpec::Dpor {
        preemption_bound: bound,
        max_executions: 100_000_000,
    };
    let capped = Bounds {
        wall: Duration::from_secs(o.proof_seconds),
        ..Bounds::default()
    };
    let name = bound.map_or("unbounded".to_owned(), |b| b.to_string());
    let cells = exhaust_cells(&run(&s.subject("fixed"), &spec, capped));
    format!("{name} | {cells}")
}

fn dpor(preemption_bound: Option<usize>, o: &Options) -> SchedulerSpec {
    SchedulerSpec::Dpor {
        preemption_bound,
        max_executions: o.cap_executions,
    }
}

/// `executions | seconds` of an exhaustive run: a pass, a capped run, or an unexpected verdict.
fn exhaust_cells(r: &RunResult) -> String {
    let s = r.elapsed.as_secs_f64();
    match &r.verdict {
        Verdict::Pass => format!("{} | {s:.2}", r.executions),
        Verdict::BoundHit(_) => format!("≥{} (cap) | ≥{s:.2}", r.executions),
        other => format!("{} ({}) | {s:.2}", r.executions, other.name()),
    }
}

fn first_row(s: &Scenario, variant: &str, expected: &str, o: &Options) -> String {
    let simplest = RefCell::new(None);
    let subject = s.subject(variant);
    let one = |spec: &SchedulerSpec, bounds: Bounds| {
        let r = run(&subject, spec, bounds);
        note(&simplest, &r);
        first_cell(&r)
    };
    let loom = match s
        .schedulers
        .iter()
        .find(|x| matches!(x, SchedulerSpec::Loom { .. }))
    {
        Some(SchedulerSpec::Loom {
            preemption_bound,
            max_executions,
            max_branches,
        }) => one(
            &SchedulerSpec::Loom {
                preemption_bound: *preemption_bound,
                max_executions: (*max_executions).min(o.cap_executions),
                max_branches: *max_branches,
            },
            capped(o),
        ),
        _ => "—".into(),
    };
    let dpor_spec = s
        .schedulers
        .iter()
        .find(|x| matches!(x, SchedulerSpec::Dpor { .. }))
        .cloned()
        .unwrap_or_else(|| dpor(None, o));
    let dpor_cell = one(&dpor_spec, capped(o));
    let std_bounds = Bounds {
        wall: Duration::from_secs(o.std_seconds),
        ..Bounds::default()
    };
    let std_cell = one(
        &SchedulerSpec::Std {
            iterations: u64::MAX,
        },
        std_bounds,
    );
    let (mut pct, mut random) = ("—".to_owned(), "—".to_owned());
    for spec in &s.schedulers {
        match spec {
            SchedulerSpec::Pct {
                depth, iterations, ..
            } => {
                pct = seeds(o, &subject, &simplest, |seed| SchedulerSpec::Pct {
                    seed,
                    depth: *depth,
                    iterations: *iterations,
                })
            }
            SchedulerSpec::Random { iterations, .. } => {
                random = seeds(o, &subject, &simplest, |seed| SchedulerSpec::Random {
                    seed,
                    iterations: *iterations,
                })
            }
            _ => {}
        }
    }
    let simplest = simplest.into_inner().map_or("—".into(), |c: Counts| {
        format!("{}, {}", c.preemptions.unwrap_or(0), c.steps)
    });
    format!(
        "| {} | {variant} | {expected} | {loom} | {dpor_cell} | {pct} | {random} | {std_cell} | {simplest} |\n",
        s.name
    )
}

/// Keep the simplest counterexample seen so far.
fn note(simplest: &RefCell<Option<Counts>>, r: &RunResult) {
    let Some(c) = r.simplest.map(|x| x.counts) else {
        return;
    };
    let mut best = simplest.borrow_mut();
    let violated = matches!(r.verdict, Verdict::Violation(_));
    if violated && c.preemptions.is_some() && best.is_none_or(|b| c < b) {
        *best = Some(c);
    }
}

/// `executions, seconds` to the first counterexample, or why there is none.
fn first_cell(r: &RunResult) -> String {
    let s = r.elapsed.as_secs_f64();
    match &r.verdict {
        Verdict::Violation(_) => format!("{}, {s:.3}", r.executions),
        Verdict::Pass => format!("missed ({}, {s:.2})", r.executions),
        Verdict::BoundHit(_) => format!("cap ({}, {s:.2})", r.executions),
        Verdict::ModelPanic(_) => "model-panic".into(),
        Verdict::InputError(_) => "input-error".into(),
    }
}

/// Medians over seeds 1..=N of the runs that caught the bug, and how many did.
fn seeds(
    o: &Options,
    subject: &poolcheck_harness::backend::Subject,
    simplest: &RefCell<Option<Counts>>,
    spec: impl Fn(u64) -> SchedulerSpec,
) -> String {
    let mut caught: Vec<(u64, f64)> = Vec::new();
    for seed in 1..=o.seeds {
        let r = run(subject, &spec(seed), Bounds::default());
        note(simplest, &r);
        if matches!(r.verdict, Verdict::Violation(_)) {
            caught.push((r.executions, r.elapsed.as_secs_f64()));
        }
    }
    let k = caught.len();
    if k == 0 {
        return format!("missed (0/{})", o.seeds);
    }
    let mut execs: Vec<u64> = caught.iter().map(|c| c.0).collect();
    let mut secs: Vec<f64> = caught.iter().map(|c| c.1).collect();
    execs.sort_unstable();
    secs.sort_by(f64::total_cmp);
    format!("{}, {:.3} ({k}/{})", execs[k / 2], secs[k / 2], o.seeds)
}
