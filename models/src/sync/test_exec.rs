//! Unit tests of model code outside any scheduler: a std execution on the test's own thread,
//! whose observer judges nothing, so that a test can call one function of a model and read what
//! it did (its state, and the ghost log: what it declared it writes, for instance).

use super::context::{install_traced, Exec, ExecGuard, Observer};
use super::{
    spawn, Access, Backend, BlockKind, Condvar, Event, Ghost, Mutex, Object, Outcome, Record,
    RecordKind, StepLog, Violation,
};
use std::io::Write;
use std::sync::mpsc::{self, RecvTimeoutError};
use std::sync::Arc;
use std::time::Duration;

/// An observer that judges nothing.
pub(crate) struct Quiet;

impl Observer for Quiet {
    fn on_record(&mut self, _ghost: &Ghost, _rec: &Record) -> Result<(), Violation> {
        Ok(())
    }

    fn at_end(&mut self, _ghost: &Ghost) -> Result<(), Violation> {
        Ok(())
    }
}

/// The step bound of a [`StdExecution`]: above what any unit test takes (a few hundred
/// steps), low enough that a model waiting for ever fails its test with `bound-hit` within
/// seconds. A std wait wakes every 5 ms and records a step each time it waits again, so without
/// this a wait that is never satisfied hangs the test binary, which a mutation run counts as a
/// timeout instead of a kill (issue 17: `Net::resume_reading` replaced by nothing). 10,000 took
/// 26 s to fail such a test, past the schemata judge's timeout for the unit tests (three times
/// their unmutated time, plus 15 s); 1,000 fails it in about 3 s.
const STEP_BOUND: u64 = 1_000;

/// The polls of 5 ms in a row without a release after which an actor of a [`StdExecution`]
/// gives up on the run token and the execution stops with `bound-hit` (half a second; the
/// harness's std backend waits a minute): a facade mutant that keeps the token then fails each
/// test in half a second instead of hanging the test binary. (A token kept by its own holder
/// fails at once: `RunToken::acquire` panics at a second take, issue 17.)
pub(crate) const TOKEN_PATIENCE: u64 = 100;

/// How long a unit test's std execution may last before the test binary gives up on it. Every
/// unit test takes well under a second (0.14 s at most in the optimised build of a mutation
/// run, about ten times that in a debug build), so this is a hang the step bound cannot stop:
/// a wait outside the facade's steps (a mutant of the run token or of a std condition
/// variable's wait) or a loop that never calls the facade. Exiting the binary fails the test
/// where it would hang, which a mutation run counted as a timeout instead of a kill (issue 17:
/// eight such mutants at 0e2d5aa); it is below the judge's shortest timeout (15 s).
const HANG_AFTER: Duration = Duration::from_secs(10);

/// What the watchdog prints before it exits.
pub(crate) const HUNG: &str = "its std execution still runs: hung";

/// Exit the test binary unless the returned sender is dropped within `after`.
fn watchdog(after: Duration) -> mpsc::Sender<()> {
    let (alive, dropped) = mpsc::channel();
    let test = std::thread::current()
        .name()
        .unwrap_or("a unit test")
        .to_owned();
    std::thread::spawn(move || {
        if dropped.recv_timeout(after) == Err(RecvTimeoutError::Timeout) {
            // Written to stderr itself: the test harness captures `eprintln!` of a test's
            // threads, and would drop it at the exit.
            let _ = writeln!(std::io::stderr(), "{test}: {HUNG} after {after:?}");
            std::process::exit(101);
        }
    });
    alive
}

/// The accesses of the step `steps` logged since it was last taken, to the objects `of` picks
/// (taking the step, so that the next call sees only what follows).
pub(crate) fn step_accesses(steps: &StepLog, of: impl Fn(Object) -> bool) -> Vec<Access> {
    let step = steps.take();
    let accesses = step.footprint.accesses().iter().copied();
    accesses.filter(|a| of(a.object)).collect()
}

/// Run `f` on an OS thread of its own, as another std actor would run, and return its result
/// (the run token knows its holder by thread: the test's own thread cannot wait for it).
pub(crate) fn on_another_thread<R: Send>(f: impl FnOnce() -> R + Send) -> R {
    std::thread::scope(|s| s.spawn(f).join().expect("the other thread panicked"))
}

/// A std execution reporting footprints (as under `dpor`), with the step log it reports to.
pub(crate) fn traced() -> (StdExecution, Arc<StepLog>) {
    let steps = Arc::new(StepLog::default());
    (StdExecution::traced(&steps), steps)
}

/// The calling actor waits on `set`, holding `ready`, until a spawned actor `A` sets `ready`
/// and notifies: a condition wait that another actor ends.
pub(crate) fn wait_until_another_actor_sets(ready: &Arc<Mutex<bool>>, set: &Arc<Condvar>) {
    let mut g = ready.lock();
    let setter = spawn("A", {
        let (ready, set) = (ready.clone(), set.clone());
        move || {
            *ready.lock() = true;
            set.notify_one();
        }
    });
    while !*g {
        g = set.wait(g);
    }
    drop(g);
    setter.join();
}

/// A std execution installed on the current thread (uninstalled when dropped; one that hangs
/// exits the test binary after [`HANG_AFTER`]); the thread is its `main` actor.
pub(crate) struct StdExecution {
    exec: Arc<Exec>,
    _installed: ExecGuard,
    _watchdog: mpsc::Sender<()>,
}

impl StdExecution {
    /// Install one, with a step bound of [`STEP_BOUND`].
    pub(crate) fn install() -> Self {
        Self::with_step_bound(STEP_BOUND)
    }

    /// Install one with a step bound of `bound` (a test of a wait that a mutant never satisfies
    /// fails sooner with a few hundred). Its run token is given up on after [`TOKEN_PATIENCE`]
    /// polls without a release.
    pub(crate) fn with_step_bound(bound: u64) -> Self {
        Self::new(bound, None, HANG_AFTER)
    }

    /// Install one that reports every step's footprint to `steps` (as under `dpor`).
    pub(crate) fn traced(steps: &Arc<StepLog>) -> Self {
        Self::new(STEP_BOUND, Some(steps.clone()), HANG_AFTER)
    }

    /// Install one that exits the test binary if it still runs after `after` (not
    /// [`HANG_AFTER`]: a test of the watchdog itself).
    pub(crate) fn hanging_after(after: Duration) -> Self {
        Self::new(STEP_BOUND, None, after)
    }

    fn new(bound: u64, steps: Option<Arc<StepLog>>, after: Duration) -> Self {
        let (exec, installed) = install_traced(Backend::Std, Box::new(Quiet), bound, "main", steps);
        exec.run_token.set_patience(TOKEN_PATIENCE);
        StdExecution {
            exec,
            _installed: installed,
            _watchdog: watchdog(after),
        }
    }

    /// The execution.
    pub(crate) fn exec(&self) -> &Arc<Exec> {
        &self.exec
    }

    /// A copy of the ghost state now.
    pub(crate) fn ghost(&self) -> Ghost {
        self.exec.ghost().lock().expect("ghost lock").clone()
    }

    /// Who recorded what, in order.
    pub(crate) fn records(&self) -> Vec<(super::ActorId, RecordKind)> {
        let log = self.ghost().log;
        log.into_iter().map(|r| (r.actor, r.kind)).collect()
    }

    /// What the model declared so far as operations of `kind` that may block
    /// ([`super::blocking`]), in order, as it described them.
    pub(crate) fn blocking(&self, kind: BlockKind) -> Vec<String> {
        let ghost = self.exec.ghost();
        let log = &ghost.lock().expect("ghost lock").log;
        log.iter()
            .filter_map(|r| match &r.kind {
                RecordKind::Blocking(k, what) if *k == kind => Some(what.clone()),
                _ => None,
            })
            .collect()
    }

    /// The names of the locks taken so far, in order (a re-lock after a wait not included).
    pub(crate) fn locks_taken(&self) -> Vec<String> {
        let ghost = self.exec.ghost();
        let g = ghost.lock().expect("ghost lock");
        g.log
            .iter()
            .filter_map(|r| match r.kind {
                RecordKind::Lock(l) => Some(g.locks[l].name.clone()),
                _ => None,
            })
            .collect()
    }

    /// The condition variables notified so far, by name, in order (a std wait also wakes by
    /// itself every few milliseconds, so a lost notification shows only here).
    pub(crate) fn notified(&self) -> Vec<String> {
        let ghost = self.exec.ghost();
        let log = &ghost.lock().expect("ghost lock").log;
        log.iter()
            .filter_map(|r| match &r.kind {
                RecordKind::Notify(name) => Some(name.clone()),
                _ => None,
            })
            .collect()
    }

    /// The labels of the awaits passed so far ([`super::yield_now`]), in order.
    pub(crate) fn yields(&self) -> Vec<&'static str> {
        let ghost = self.exec.ghost();
        let log = &ghost.lock().expect("ghost lock").log;
        log.iter()
            .filter_map(|r| match r.kind {
                RecordKind::Yield(label) => Some(label),
                _ => None,
            })
            .collect()
    }

    /// The records so far that show a model's steps, in order, as short text: `lock NAME` for
    /// a lock taken, `notify WHAT` for a condition variable notified, and each probe's `Debug`
    /// form (to check the order of steps, which a trace shows and the other views lose).
    pub(crate) fn trail(&self) -> Vec<String> {
        let ghost = self.exec.ghost();
        let g = ghost.lock().expect("ghost lock");
        g.log
            .iter()
            .filter_map(|r| match &r.kind {
                RecordKind::Lock(l) => Some(format!("lock {}", g.locks[*l].name)),
                RecordKind::Notify(what) => Some(format!("notify {what}")),
                RecordKind::Probe(ev) => Some(format!("{ev:?}")),
                _ => None,
            })
            .collect()
    }

    /// The requests finished so far and how, in order ([`Event::RequestFinished`]).
    pub(crate) fn finished(&self) -> Vec<(u32, Outcome)> {
        let finished = |ev| match ev {
            Event::RequestFinished { req, outcome } => Some((req, outcome)),
            _ => None,
        };
        self.probes().into_iter().filter_map(finished).collect()
    }

    /// The probes reported so far, in order.
    pub(crate) fn probes(&self) -> Vec<Event> {
        let ghost = self.exec.ghost();
        let log = &ghost.lock().expect("ghost lock").log;
        log.iter()
            .filter_map(|r| match &r.kind {
                RecordKind::Probe(ev) => Some(ev.clone()),
                _ => None,
            })
            .collect()
    }
}
