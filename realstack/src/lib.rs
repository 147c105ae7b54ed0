//! Real HTTP/2 code as a poolcheck subject: the real `h2` 0.4, `hyper` 1 and `hyper-util`
//! (legacy client pool) crates, unmodified, over `tokio::io::duplex`, explored by shuttle at
//! their await points under `shuttle::future::block_on` (no tokio runtime).
//!
//! A real-stack scenario (`scenarios/real-*.toml`, `model = "h2" | "hyper" | "hyper-util"`)
//! scripts h2 servers (accept, respond from their own task, SETTINGS, graceful or abrupt
//! shutdown, RST_STREAM, stop reading) and client requests, and declares each outcome class
//! acceptable, forbidden or interesting. Every execution is judged on three levels:
//!
//! - the wire ([`wire`]): every byte the client end wrote and read, decoded with h2's own codec;
//!   `stream-after-goaway`, `max-streams` and `frames-decode` are checked on the frames;
//! - the requests ([`outcome`]): each ends as `ok`, `ok-after-retry`, `refused-retryable`,
//!   `failed-unprocessed-not-retried`, `failed-after-processing` or `hung`, decided from ground
//!   truth (what the server's handlers accepted, what crossed the wire); `hung` and a request
//!   processed twice are always violations;
//! - the run: counts per class over every explored execution.
//!
//! # Using it
//! ```no_run
//! let sc = poolcheck_realstack::load("scenarios/real-goaway-vs-request.toml".as_ref()).unwrap();
//! let pct = poolcheck_harness::backend::SchedulerSpec::Pct { seed: 1, depth: 3, iterations: 200 };
//! let run = poolcheck_realstack::run(&sc, &pct, poolcheck_realstack::WATCHDOG).unwrap();
//! print!("{}", run.render_outcomes());
//! let trial = poolcheck_realstack::judge(&sc, &pct, &run); // the harness's `TrialResult`
//! if let Some(c) = &trial.counterexample {
//!     print!("{}", c.render_text());
//! }
//! if let Some(schedule) = &run.schedule {
//!     let again = poolcheck_realstack::replay(&sc, schedule).unwrap();
//!     assert_eq!(again.verdict, run.verdict);
//! }
//! ```
//!
//! # Limitations
//! - shuttle sees the crates' await points, not their std mutexes: code between two awaits is
//!   atomic, and a task blocking on a std mutex stops the whole execution (the watchdog turns
//!   that into a `request-answered` violation; the stuck thread is abandoned).
//! - The wire is observed at the client end only; frames the client never read are not shown.
//! - Time is logical and never advances by itself: keep-alive pings, idle timeouts and any
//!   timer-driven behaviour of the crates are not explored.
//! - `ok-after-retry` needs the retry to cross the wire; a retry of a request that never left
//!   the client (hyper-util's "canceled" path) counts as `ok`.

// A located error is a cold-path value a person reads (the harness's `ScenarioError`); boxing
// it would only add noise.
#![allow(clippy::result_large_err)]

mod client;
pub mod differential;
mod exec;
mod explore;
pub mod family;
mod glue;
mod io;
pub mod outcome;
pub mod report;
pub mod scenario;
mod server;
pub mod wire;
mod world;

pub use differential::{differential, run_model_side, Comparison, ModelSide};
pub use exec::RequestRow;
pub use family::{RealCrates, RealSubject};
pub use outcome::{Disposition, OutcomeClass};
pub use report::{judge, wire_trace};
pub use scenario::{load, parse, Case, RealScenario, Subject, Wiring, PROPERTIES};
pub use wire::WireRow;

use poolcheck_harness::backend::{
    decode_schedule, encode_schedule, shuttle_scheduler, Choice, Replaying, SchedulerSpec,
};
use shuttle::scheduler::{RandomScheduler, Scheduler, UncontrolledNondeterminismCheckScheduler};
use std::collections::BTreeMap;
use std::time::Duration;

/// The one variant of a real subject: the crate versions in Cargo.lock.
pub const VARIANT: &str = "upstream";

/// What `upstream` is in this build: `h2 0.4.20, hyper 1.12.0, hyper-util 0.1.21` (read from the
/// workspace's Cargo.lock at build time).
pub const CRATE_VERSIONS: &str = env!("POOLCHECK_REAL_CRATES");

/// The versions of loom and shuttle in Cargo.lock (`loom 0.7.2, shuttle 0.9.9`).
pub const SCHEDULER_CRATE_VERSIONS: &str = env!("POOLCHECK_SCHEDULER_CRATES");

/// How long an execution may take no scheduling decision before the watchdog calls it hung.
pub const WATCHDOG: Duration = Duration::from_secs(20);

/// A scenario or usage error, located in its file where it has a place: the harness's
/// [`ScenarioError`](poolcheck_harness::scenario::ScenarioError), so real-crate and model
/// scenarios report the same way.
pub use poolcheck_harness::scenario::ScenarioError as Error;

/// One exploration of a real-stack scenario with one scheduler: what the harness's
/// `RunResult` is to a model, with the wire and the outcome classes. [`judge`] makes it the
/// harness's one trial result.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RealRun {
    /// `pass` or the violated property (a forbidden class's name, `request-answered`,
    /// `processed-once`, a wire property, `bound-hit`, `model-panic`, `nondeterminism`).
    pub verdict: String,
    /// The violation in words.
    pub detail: Option<String>,
    /// Executions explored (all cases).
    pub executions: u64,
    /// Wall time (reports only).
    pub elapsed: Duration,
    /// The case of the counterexample (or of the last case run).
    pub case: String,
    /// The violating execution's schedule (`<case>@pc1:...`), replayable with [`replay`].
    pub schedule: Option<String>,
    /// Requests per outcome class, over every explored execution of every case.
    pub outcome_counts: BTreeMap<String, u64>,
    /// The same, per case.
    pub case_counts: BTreeMap<String, BTreeMap<String, u64>>,
    /// Classes seen that a case declares interesting: `case: class` to count.
    pub interesting: BTreeMap<String, u64>,
    /// Executions in which some host got a replacement connection, per case.
    pub replacements: BTreeMap<String, u64>,
    /// The reported execution's requests (the counterexample's, else the last execution's).
    pub requests: Vec<RequestRow>,
    /// The reported execution's frames, in order.
    pub wire_log: Vec<WireRow>,
    /// FNV-1a digest (hex) of every byte on every wire of every execution, in order.
    pub wire_digest: String,
}

impl RealRun {
    /// The verdict, the outcome table and, for a counterexample, its requests, wire and replay
    /// string. A pure function of the value.
    pub fn render_text(&self) -> String {
        let mut out = format!("{}\n", self.verdict);
        if let Some(d) = &self.detail {
            out.push_str(&format!("{d}\n"));
        }
        out.push_str(&format!("{} executions\n\n", self.executions));
        out.push_str(&self.render_outcomes());
        if let Some(s) = &self.schedule {
            out.push_str(&format!("\ncounterexample (case {}):\n", self.case));
            out.push_str(&self.render_requests());
            out.push('\n');
            for w in &self.wire_log {
                out.push_str(&format!(
                    "  {:>4} conn {} ({}) {:<15} {}\n",
                    w.seq, w.conn, w.host, w.direction, w.frame
                ));
            }
            out.push_str(&format!("\nreplay schedule: {s}\n"));
        }
        out
    }

    /// The outcome table (requests per class, per case, over every explored execution), the
    /// interesting classes seen and the replacement connections opened.
    pub fn render_outcomes(&self) -> String {
        let mut out = outcome_table(&self.case_counts);
        for (k, n) in &self.interesting {
            out.push_str(&format!("interesting: {k} x{n}\n"));
        }
        for (case, n) in self.replacements.iter().filter(|(_, n)| **n > 0) {
            out.push_str(&format!(
                "{case}: {n} execution(s) opened a replacement connection\n"
            ));
        }
        out
    }

    /// The reported execution's requests, one line each: class, times processed, HEADERS
    /// frames that carried it, and how it ended.
    pub fn render_requests(&self) -> String {
        self.requests
            .iter()
            .map(|r| {
                format!(
                    "  {:<4} {:<30} processed {} attempts {}  {}\n",
                    r.name, r.class, r.processed, r.attempts, r.ending
                )
            })
            .collect()
    }
}

/// The outcome table: one row per case, one column per class.
pub fn outcome_table(case_counts: &BTreeMap<String, BTreeMap<String, u64>>) -> String {
    let width = case_counts
        .keys()
        .map(String::len)
        .max()
        .unwrap_or(4)
        .max(4);
    let count =
        |case: &BTreeMap<String, u64>, c: OutcomeClass| case.get(c.name()).copied().unwrap_or(0);
    let columns: Vec<usize> = OutcomeClass::ALL
        .iter()
        .map(|c| {
            let widest = case_counts
                .values()
                .map(|k| count(k, *c).to_string().len())
                .max()
                .unwrap_or(1);
            widest.max(c.name().len())
        })
        .collect();
    let mut out = format!("{:<width$}", "case");
    for (c, w) in OutcomeClass::ALL.iter().zip(&columns) {
        out.push_str(&format!(" | {:>w$}", c.name()));
    }
    out.push('\n');
    for (case, counts) in case_counts {
        out.push_str(&format!("{case:<width$}"));
        for (c, w) in OutcomeClass::ALL.iter().zip(&columns) {
            out.push_str(&format!(" | {:>w$}", count(counts, *c)));
        }
        out.push('\n');
    }
    out
}

/// The schedulers a real-crate scenario runs under (shuttle's; the real crates' own
/// synchronisation is invisible to loom, dpor and the facade).
pub const SCHEDULERS: &[&str] = &["random", "pct"];

/// Explore every case of `sc` with `spec` (random or pct, its iterations per case), stopping
/// at the first violation; `watchdog` is how long an execution may take no scheduling decision
/// ([`WATCHDOG`]; tests use a short one to show the watchdog at work).
pub fn run(sc: &RealScenario, spec: &SchedulerSpec, watchdog: Duration) -> Result<RealRun, Error> {
    if !SCHEDULERS.contains(&spec.name()) {
        return Err(Error::whole_file(
            &sc.about.path,
            format!(
                "real crates run under {} only, not {}",
                SCHEDULERS.join(" and "),
                spec.name()
            ),
        ));
    }
    let make = || shuttle_scheduler(spec).map(|(s, _)| s);
    run_cases(sc, &sc.cases, &make, watchdog)
}

/// shuttle's uncontrolled-nondeterminism check around its random scheduler: every schedule runs
/// twice and must take the same decisions (verdict `nondeterminism` otherwise).
pub fn check_nondeterminism(
    sc: &RealScenario,
    seed: u64,
    iterations: u64,
) -> Result<RealRun, Error> {
    let make = || -> Result<Box<dyn Scheduler + Send>, String> {
        let random =
            RandomScheduler::new_from_seed(seed, usize::try_from(iterations).unwrap_or(usize::MAX));
        Ok(Box::new(UncontrolledNondeterminismCheckScheduler::new(
            random,
        )))
    };
    run_cases(sc, &sc.cases, &make, WATCHDOG)
}

/// A real-stack schedule names its case: `<case>@` and the harness's `pc1` schedule, so one
/// string replays one execution of one case.
pub fn case_schedule(case: &str, choices: &[Choice]) -> String {
    format!("{case}@{}", encode_schedule(choices))
}

/// The case and decisions of a schedule written by [`case_schedule`].
pub fn decode_case_schedule(text: &str) -> Result<(String, Vec<Choice>), String> {
    let (case, schedule) = text
        .trim()
        .split_once('@')
        .ok_or("a real-stack schedule starts with `<case>@`")?;
    Ok((case.to_owned(), decode_schedule(schedule)?))
}

/// Replay one execution from a schedule string (`<case>@pc1:...`) written by [`run`].
pub fn replay(sc: &RealScenario, schedule: &str) -> Result<RealRun, Error> {
    let (case, choices) =
        decode_case_schedule(schedule).map_err(|e| Error::whole_file(&sc.about.path, e))?;
    let case = sc.case(&case).ok_or_else(|| {
        Error::whole_file(
            &sc.about.path,
            format!("the schedule is for case `{case}`, which the scenario does not have"),
        )
    })?;
    let make = || -> Result<Box<dyn Scheduler + Send>, String> {
        Ok(Box::new(Replaying::new(choices.clone())))
    };
    run_cases(sc, std::slice::from_ref(case), &make, WATCHDOG)
}

/// A shuttle scheduler for each case, or why there is none.
type MakeScheduler<'a> = dyn Fn() -> Result<Box<dyn Scheduler + Send>, String> + 'a;

fn run_cases(
    sc: &RealScenario,
    cases: &[Case],
    make: &MakeScheduler<'_>,
    watchdog: Duration,
) -> Result<RealRun, Error> {
    let mut run = RealRun {
        verdict: "pass".into(),
        detail: None,
        executions: 0,
        elapsed: Duration::ZERO,
        case: String::new(),
        schedule: None,
        outcome_counts: BTreeMap::new(),
        case_counts: BTreeMap::new(),
        interesting: BTreeMap::new(),
        replacements: BTreeMap::new(),
        requests: Vec::new(),
        wire_log: Vec::new(),
        wire_digest: String::new(),
    };
    let mut digest = wire::DIGEST_SEED;
    for case in cases {
        let scheduler = make().map_err(|e| Error::whole_file(&sc.about.path, e))?;
        let explored =
            explore::explore_case(case, &sc.invariants, sc.step_bound, scheduler, watchdog);
        digest = digest.rotate_left(5) ^ explored.digest;
        if run.add_case(case, explored) {
            break;
        }
    }
    run.wire_digest = format!("{digest:016x}");
    Ok(run)
}

impl RealRun {
    /// Fold one case's exploration into the run; `true` when it found a violation (which
    /// becomes the run's verdict and reported execution).
    fn add_case(&mut self, case: &Case, run: explore::CaseRun) -> bool {
        self.executions += run.executions;
        self.elapsed += run.elapsed;
        self.count_classes(case, &run.counts);
        self.replacements.insert(case.name.clone(), run.replaced);
        self.case = case.name.clone();
        self.requests = run.requests;
        self.wire_log = run.rows;
        if run.verdict == "pass" {
            return false;
        }
        self.verdict = run.verdict;
        self.detail = run.detail;
        self.schedule = run.schedule;
        true
    }

    fn count_classes(&mut self, case: &Case, counts: &BTreeMap<OutcomeClass, u64>) {
        let per_case = self.case_counts.entry(case.name.clone()).or_default();
        for (class, n) in counts {
            *per_case.entry(class.name().to_owned()).or_default() += n;
            *self
                .outcome_counts
                .entry(class.name().to_owned())
                .or_default() += n;
            if case.outcomes.get(class) == Some(&Disposition::Interesting) {
                let key = format!("{}: {}", case.name, class.name());
                *self.interesting.entry(key).or_default() += n;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn case_schedules_round_trip_through_the_harness_codec() {
        let choices = vec![Choice::Task(0), Choice::Task(0), Choice::Random(0xbeef)];
        let text = case_schedule("hyper-util-graceful", &choices);
        assert_eq!(text, "hyper-util-graceful@pc1:t0*2,rbeef");
        assert_eq!(
            decode_case_schedule(&text).unwrap(),
            ("hyper-util-graceful".to_owned(), choices)
        );
        assert!(decode_case_schedule("pc1:t0").unwrap_err().contains('@'));
        assert!(decode_case_schedule("c@pc1:x1").unwrap_err().contains("x1"));
        assert!(decode_case_schedule("c@pc1:t0*4000000,t0*4000000").is_err());
    }
}
