//! Running trials: on `jobs` worker threads (std::thread::scope), each taking the next trial
//! from a shared counter, with the results kept in trial order so the output is deterministic
//! whatever the timing. Every counterexample is written as a report. A progress bar counts
//! trials on stderr, hidden when stderr is not a terminal.

use super::diagnostic::CliError;
use super::Outcome;
use console::Term;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use poolcheck_harness::backend::{stderr, Bounds, INPUT_ERROR};
use poolcheck_harness::report::write_reports;
use poolcheck_harness::scenario::ScenarioError;
use poolcheck_harness::trial::{input_error, run_trial, Trial, TrialResult};
use std::io::IsTerminal as _;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// The judgement of a trial `--max-seconds` left no time for.
const NOT_STARTED: &str = "the --max-seconds budget ran out before this trial started";

/// Where and how results are written.
pub struct Sink<'a> {
    /// The reports folder.
    pub reports: &'a Path,
    /// `(k, n)` for a sharded run: report names carry it.
    pub shard: Option<(u64, u64)>,
    /// When `--max-seconds` runs out: every exploration stops at it, and trials not started by
    /// then are reported as `bound-hit` without running.
    pub deadline: Option<Instant>,
}

/// The deadline `--max-seconds` sets, counted from now.
pub fn deadline(max_seconds: Option<u64>) -> Option<Instant> {
    max_seconds.map(|s| Instant::now() + Duration::from_secs(s))
}

impl Sink<'_> {
    /// Has `--max-seconds` run out?
    pub fn out_of_time(&self) -> bool {
        self.deadline.is_some_and(|d| Instant::now() >= d)
    }
}

/// Run every trial on `jobs` threads, counting them on `bar`. `on_done` sees each result in trial order as soon as it
/// and every trial before it have finished (so output streams, deterministically ordered); the
/// results come back in trial order.
pub fn run_all(
    trials: &[Trial],
    jobs: usize,
    sink: &Sink<'_>,
    on_done: &(dyn Fn(&TrialResult) + Sync),
    bar: &ProgressBar,
) -> Vec<TrialResult> {
    let next = AtomicUsize::new(0);
    let state = Mutex::new(Ordered {
        results: vec![None; trials.len()],
        shown: 0,
    });
    std::thread::scope(|s| {
        for _ in 0..jobs.clamp(1, trials.len().max(1)) {
            s.spawn(|| loop {
                let i = next.fetch_add(1, Ordering::SeqCst);
                let Some(t) = trials.get(i) else { break };
                bar.set_message(t.name());
                let done = run_one(t, sink);
                bar.inc(1);
                let mut st = state.lock().unwrap_or_else(|p| p.into_inner());
                st.results[i] = Some(done);
                st.show_ready(on_done);
            });
        }
    });
    let st = state.into_inner().unwrap_or_else(|p| p.into_inner());
    st.results
        .into_iter()
        .map(|d| d.expect("every trial ran"))
        .collect()
}

/// Results by trial index, and how many of them (a prefix) have been shown.
struct Ordered {
    results: Vec<Option<TrialResult>>,
    shown: usize,
}

impl Ordered {
    fn show_ready(&mut self, show: &dyn Fn(&TrialResult)) {
        while let Some(Some(d)) = self.results.get(self.shown) {
            show(d);
            self.shown += 1;
        }
    }
}

/// A bar on the original stderr (fd 2 is silenced while trials run, see
/// [`poolcheck_harness::backend::stderr`]): trials done of all, time left, the trial started
/// last. Hidden when stderr is not a terminal.
pub fn progress(len: usize) -> ProgressBar {
    let term = match stderr::original() {
        Some(f) if f.is_terminal() => Term::read_write_pair(std::io::stdin(), f),
        _ => return ProgressBar::hidden(),
    };
    let style = ProgressStyle::with_template(
        "{elapsed_precise} [{bar:30}] {pos}/{len} trials, {eta} left  {wide_msg}",
    )
    .expect("a valid template")
    .progress_chars("=> ");
    ProgressBar::with_draw_target(Some(len as u64), ProgressDrawTarget::term(term, 10))
        .with_style(style)
}

/// Run, judge, and write the reports of one trial. A panic out of the harness becomes a failed
/// trial, never a crash of the whole gate.
fn run_one(t: &Trial, sink: &Sink<'_>) -> TrialResult {
    let started = Instant::now();
    if sink.out_of_time() {
        return TrialResult::of(t, "bound-hit", NOT_STARTED.into());
    }
    let bounds = Bounds {
        deadline: sink.deadline,
        ..Bounds::default()
    };
    let mut done = match catch_unwind(AssertUnwindSafe(|| run_trial(t, bounds))) {
        Ok(r) => r,
        Err(p) => {
            let why = format!("the harness panicked: {}", panic_text(p.as_ref()));
            let mut r = TrialResult::of(t, "harness-panic", why);
            r.elapsed = started.elapsed();
            r
        }
    };
    write_report(&mut done, sink);
    done
}

/// The outcome of `results` (the first `trials.len()` of them belong to `trials`, in order):
/// an input error when any trial could not run as its input is, after printing each one
/// located (a pinned schedule at its line in the scenario file); else as expected or not.
pub fn outcome_of(trials: &[Trial], results: &[TrialResult]) -> Outcome {
    let input_errors: Vec<ScenarioError> = results
        .iter()
        .enumerate()
        .filter(|(_, d)| d.verdict == INPUT_ERROR)
        .map(|(i, d)| match trials.get(i) {
            Some(t) => input_error(t, &d.judgement),
            None => ScenarioError::whole_file(
                Path::new(&d.scenario),
                format!("{}: {}", d.name(), d.judgement),
            ),
        })
        .collect();
    if !input_errors.is_empty() {
        CliError::Scenarios(input_errors).print();
        return Outcome::InputError;
    }
    if results.iter().all(|d| d.ok) {
        Outcome::AsExpected
    } else {
        Outcome::NotAsExpected
    }
}

/// Write the reports of `done`'s counterexample, if it has one, and record where. A report that
/// cannot be written is a warning: the trial's verdict stands.
pub fn write_report(done: &mut TrialResult, sink: &Sink<'_>) {
    if done.verdict == INPUT_ERROR {
        return; // not a counterexample: the input is reported as an error instead
    }
    if let Some(c) = &done.counterexample {
        match write_reports(sink.reports, c, sink.shard) {
            Ok(paths) => done.report = Some(paths),
            Err(e) => stderr::eprint_original(&format!(
                "warning: cannot write the report of {} under {}: {e}\n",
                done.name(),
                sink.reports.display()
            )),
        }
    }
}

fn panic_text(p: &(dyn std::any::Any + Send)) -> String {
    p.downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| p.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "non-string panic payload".into())
}
