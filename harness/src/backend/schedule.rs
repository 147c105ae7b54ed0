//! shuttle schedules: recorded by wrapping any scheduler, encoded in a versioned text format,
//! and fed back by a replaying scheduler.
//!
//! We record decisions ourselves instead of parsing shuttle's failure message: the schedule is
//! then available as a value for every failing execution, and our format is versioned
//! (`pc1:`) with a round-trip test. Format: `pc1:` followed by comma-separated items, `t<N>`
//! (run task N) or `r<HEX>` (a random value), with `*<K>` for K repetitions of an item.

use super::execute::GhostSlot;
use shuttle::scheduler::{Schedule, Scheduler, Task, TaskId};
use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

/// The schedule format's version tag.
pub const SCHEDULE_VERSION: &str = "pc1";

/// One scheduling decision.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Choice {
    /// Run this task next.
    Task(usize),
    /// Return this value to the running task's random request.
    Random(u64),
}

/// Encode decisions as `pc1:t0*3,t1,r1f`.
pub fn encode_schedule(choices: &[Choice]) -> String {
    let mut out = format!("{SCHEDULE_VERSION}:");
    let mut i = 0;
    while i < choices.len() {
        let run = choices[i..]
            .iter()
            .take_while(|c| **c == choices[i])
            .count();
        if i > 0 {
            out.push(',');
        }
        match choices[i] {
            Choice::Task(t) => write!(out, "t{t}"),
            Choice::Random(r) => write!(out, "r{r:x}"),
        }
        .expect("writing to a String");
        if run > 1 {
            write!(out, "*{run}").expect("writing to a String");
        }
        i += run;
    }
    out
}

/// Schedule text longer than this is rejected before it is parsed.
pub const MAX_SCHEDULE_BYTES: usize = 4 << 20;

/// Decisions a decoded schedule may hold at most (repeat counts included), checked before
/// anything is expanded: at 16 bytes a decision, 64 MiB. shuttle's own step backstop stops an
/// execution at 4 x `step_bound` (at most 4,000,000) decisions, so every recorded schedule fits.
pub const MAX_SCHEDULE_CHOICES: usize = 1 << 22;

/// The largest task number a schedule may name (shuttle numbers tasks 0, 1, 2... in spawn
/// order; a scenario has at most a few dozen).
pub const MAX_SCHEDULE_TASK: usize = 4095;

/// Decode a schedule written by [`encode_schedule`].
///
/// Every item is checked and the total length is bounded ([`MAX_SCHEDULE_BYTES`],
/// [`MAX_SCHEDULE_CHOICES`]) before a repeat count is expanded, so no input can make this
/// allocate more than the limit or panic. An empty schedule, an empty item, a zero count and an
/// unknown version are errors; a schedule that parses but does not fit the scenario (a task it
/// never has) is reported when it is replayed.
pub fn decode_schedule(text: &str) -> Result<Vec<Choice>, String> {
    let body = schedule_body(text)?;
    let items = parse_items(body)?;
    let mut out = Vec::with_capacity(items.iter().map(|(_, n)| *n).sum());
    for (choice, count) in items {
        out.extend(std::iter::repeat_n(choice, count));
    }
    Ok(out)
}

/// The items after `pc1:`, with the size and version checked.
fn schedule_body(text: &str) -> Result<&str, String> {
    if text.len() > MAX_SCHEDULE_BYTES {
        return Err(format!(
            "the schedule is {} bytes; at most {MAX_SCHEDULE_BYTES} are accepted",
            text.len()
        ));
    }
    let text = text.trim();
    match text.split_once(':') {
        Some((SCHEDULE_VERSION, body)) => Ok(body),
        Some((v, _)) if v.len() <= 8 && v.starts_with("pc") => Err(format!(
            "unsupported schedule version `{v}`: this poolcheck reads `{SCHEDULE_VERSION}:`"
        )),
        _ => Err(format!("a schedule must start with `{SCHEDULE_VERSION}:`")),
    }
}

/// Parse `t0*3,t1,r1f` into (decision, count) pairs whose counts sum to at most
/// [`MAX_SCHEDULE_CHOICES`].
pub fn parse_items(body: &str) -> Result<Vec<(Choice, usize)>, String> {
    if body.is_empty() {
        return Err("the schedule is empty: it must hold at least one decision".into());
    }
    let mut items = Vec::new();
    let mut total = 0usize;
    for (i, item) in body.split(',').enumerate() {
        let (choice, count) = parse_item(item).map_err(|e| format!("item {}: {e}", i + 1))?;
        total = total
            .checked_add(count)
            .filter(|t| *t <= MAX_SCHEDULE_CHOICES)
            .ok_or_else(|| {
                format!("the schedule expands to more than {MAX_SCHEDULE_CHOICES} decisions")
            })?;
        items.push((choice, count));
    }
    Ok(items)
}

fn parse_item(item: &str) -> Result<(Choice, usize), String> {
    let (one, count) = match item.split_once('*') {
        Some((one, n)) => (one, parse_count(item, n)?),
        None => (item, 1),
    };
    let choice = match one.split_at_checked(1) {
        Some(("t", n)) if is_decimal(n) => match n.parse::<usize>() {
            Ok(t) if t <= MAX_SCHEDULE_TASK => Choice::Task(t),
            _ => {
                return Err(format!(
                    "`{item}` names task {n}; tasks are numbered 0 to {MAX_SCHEDULE_TASK}"
                ))
            }
        },
        Some(("r", x))
            if !x.is_empty() && x.len() <= 16 && x.bytes().all(|b| b.is_ascii_hexdigit()) =>
        {
            Choice::Random(u64::from_str_radix(x, 16).map_err(|_| bad(item))?)
        }
        _ => return Err(bad(item)),
    };
    Ok((choice, count))
}

fn parse_count(item: &str, n: &str) -> Result<usize, String> {
    match n.parse::<usize>() {
        Ok(c) if is_decimal(n) && (1..=MAX_SCHEDULE_CHOICES).contains(&c) => Ok(c),
        _ if is_decimal(n) => Err(format!(
            "`{item}`: a repeat count is between 1 and {MAX_SCHEDULE_CHOICES}"
        )),
        _ => Err(bad(item)),
    }
}

fn is_decimal(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())
}

fn bad(item: &str) -> String {
    let shown: String = item.chars().take(40).collect();
    format!("bad schedule item `{shown}` (expected t<task>, r<hex> or either with *<count>)")
}

/// Shared view of what a [`Recording`] scheduler saw: the current execution's decisions, the
/// executions started, and a count of every decision taken (a watchdog on another thread reads
/// it as a heartbeat, so the tape is `Send`).
#[derive(Clone, Default)]
pub struct Tape(Arc<TapeInner>);

#[derive(Default)]
struct TapeInner {
    state: Mutex<TapeState>,
    /// Decisions taken so far in the whole exploration.
    decisions: AtomicU64,
}

#[derive(Default)]
struct TapeState {
    choices: Vec<Choice>,
    executions: u64,
    /// Ghost steps taken before each preemption of the current execution.
    preempted_at: Vec<u64>,
    /// Start no further execution.
    stop: bool,
}

impl Tape {
    fn state(&self) -> MutexGuard<'_, TapeState> {
        self.0.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The current (or last, or violating) execution's decisions.
    pub fn choices(&self) -> Vec<Choice> {
        self.state().choices.clone()
    }

    /// Executions started.
    pub fn executions(&self) -> u64 {
        self.state().executions
    }

    /// Decisions taken so far in the whole exploration.
    pub fn decisions(&self) -> u64 {
        self.0.decisions.load(Ordering::Relaxed)
    }

    /// Start no further execution: the current one is the counterexample, and its decisions
    /// stay on the tape. For subjects judged only when an execution has ended.
    pub fn stop(&self) {
        self.state().stop = true;
    }

    /// The current execution's preemptions (switches away from a task that could have gone on),
    /// each as the number of ghost steps taken before it.
    pub(crate) fn preempted_at(&self) -> Vec<u64> {
        self.state().preempted_at.clone()
    }

    fn push(&self, c: Choice) {
        self.state().choices.push(c);
        self.0.decisions.fetch_add(1, Ordering::Relaxed);
    }
}

/// Wraps a scheduler and records the decisions of the current execution on a [`Tape`].
pub struct Recording<S> {
    inner: Option<S>,
    tape: Tape,
    /// The model execution's ghost slot: stop at its violation, count preemptions in its steps.
    slot: Option<GhostSlot>,
    stopped: bool,
}

impl<S> Recording<S> {
    /// Record `inner`'s decisions on `tape`; exploring stops when [`Tape::stop`] is called.
    pub fn new(inner: S, tape: Tape) -> Self {
        Recording {
            inner: Some(inner),
            tape,
            slot: None,
            stopped: false,
        }
    }

    /// Record `inner`'s decisions on `tape`; stop exploring once the execution in `slot`
    /// reports a violation.
    pub(crate) fn watching(inner: S, tape: Tape, slot: GhostSlot) -> Self {
        let mut recording = Recording::new(inner, tape);
        recording.slot = Some(slot);
        recording
    }

    fn inner(&mut self) -> &mut S {
        self.inner.as_mut().expect("present until dropped")
    }
}

impl<S> Drop for Recording<S> {
    /// shuttle's random scheduler prints "failing seed ... set SHUTTLE_RANDOM_SEED" when dropped
    /// after an execution that did not complete (a failure, or our stop at a violation); poolcheck's replay is the recorded schedule, so that advice would
    /// mislead. Forgetting the scheduler on the failure path leaks a few bytes once per failed
    /// exploration.
    fn drop(&mut self) {
        if self.stopped || std::thread::panicking() {
            std::mem::forget(self.inner.take());
        }
    }
}

impl<S: Scheduler> Scheduler for Recording<S> {
    fn new_execution(&mut self) -> Option<Schedule> {
        if self.stopped || self.tape.state().stop {
            self.stopped = true;
            return None; // keep the violating execution's decisions on the tape
        }
        let next = self.inner().new_execution()?;
        let mut t = self.tape.state();
        t.choices.clear();
        t.preempted_at.clear();
        t.executions += 1;
        Some(next)
    }

    fn next_task(
        &mut self,
        runnable: &[&Task],
        current: Option<TaskId>,
        yielding: bool,
    ) -> Option<TaskId> {
        if self.slot.as_ref().is_some_and(GhostSlot::stop_requested) {
            self.stopped = true;
            return None;
        }
        // shuttle offers parked tasks too, for a spurious wake-up. Under a model (a slot) the
        // facade parks an actor only until another unparks it, and would park it again at once:
        // a schedule of spurious wake-ups is the same execution made longer (DFS would follow one
        // to its step bound). Real crates keep them.
        let awake: Vec<&Task> = match self.slot {
            Some(_) => runnable.iter().copied().filter(|t| t.runnable()).collect(),
            None => runnable.to_vec(),
        };
        let runnable = &awake[..];
        let next = self.inner().next_task(runnable, current, yielding)?;
        self.tape.push(Choice::Task(usize::from(next)));
        if let Some(slot) = self.slot.as_ref() {
            if is_preemption(runnable, current, yielding, next) {
                self.tape.state().preempted_at.push(slot.steps());
            }
        }
        Some(next)
    }

    fn next_u64(&mut self) -> u64 {
        let v = self.inner().next_u64();
        self.tape.push(Choice::Random(v));
        v
    }
}

/// Replays one recorded execution; a decision that does not fit (the subject changed) panics
/// with a message saying where the schedule diverged.
pub struct Replaying {
    choices: Vec<Choice>,
    pos: usize,
    started: bool,
}

impl Replaying {
    /// Feed back `choices`, once.
    pub fn new(choices: Vec<Choice>) -> Self {
        Replaying {
            choices,
            pos: 0,
            started: false,
        }
    }

    fn next(&mut self) -> Option<Choice> {
        let c = self.choices.get(self.pos).copied();
        self.pos += 1;
        c
    }
}

impl Scheduler for Replaying {
    fn new_execution(&mut self) -> Option<Schedule> {
        if std::mem::replace(&mut self.started, true) {
            return None;
        }
        self.pos = 0;
        Some(Schedule::new(0))
    }

    fn next_task(&mut self, runnable: &[&Task], _c: Option<TaskId>, _y: bool) -> Option<TaskId> {
        let at = self.pos;
        match self.next() {
            Some(Choice::Task(t)) if runnable.iter().any(|r| usize::from(r.id()) == t) => {
                Some(TaskId::from(t))
            }
            Some(other) => panic!(
                "schedule diverged at decision {at}: recorded {other:?}, but \
                                   the runnable tasks are {:?}",
                ids(runnable)
            ),
            None => panic!(
                "schedule diverged: it ended at decision {at} but the execution \
                 continues"
            ),
        }
    }

    fn next_u64(&mut self) -> u64 {
        let at = self.pos;
        match self.next() {
            Some(Choice::Random(v)) => v,
            other => panic!(
                "schedule diverged at decision {at}: recorded {other:?}, but the \
                             model asked for a random value"
            ),
        }
    }
}

/// Is running `next` a switch away from a task that could have continued? (A task that yields,
/// blocks or finishes gives the processor up; that is no preemption.)
pub(crate) fn is_preemption(
    runnable: &[&Task],
    current: Option<TaskId>,
    yielding: bool,
    next: TaskId,
) -> bool {
    current.is_some_and(|c| !yielding && c != next && runnable.iter().any(|t| t.id() == c))
}

fn ids(runnable: &[&Task]) -> Vec<usize> {
    runnable.iter().map(|t| usize::from(t.id())).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schedule_round_trips() {
        let choices = vec![
            Choice::Task(0),
            Choice::Task(0),
            Choice::Task(2),
            Choice::Random(0xdead_beef),
            Choice::Task(1),
            Choice::Task(1),
            Choice::Task(1),
        ];
        let text = encode_schedule(&choices);
        assert_eq!(text, "pc1:t0*2,t2,rdeadbeef,t1*3");
        assert_eq!(decode_schedule(&text).unwrap(), choices);
    }

    #[test]
    fn malformed_schedules_are_errors() {
        assert!(decode_schedule("t0,t1").unwrap_err().contains("pc1:"));
        assert!(decode_schedule("pc1:x3").unwrap_err().contains("x3"));
        assert!(decode_schedule("pc1:t1*q").unwrap_err().contains("t1*q"));
    }

    /// Issue 15, items 1 and 7: counts are checked before anything is expanded, and every
    /// malformed schedule is an error, never a panic or a huge allocation.
    #[test]
    fn hostile_schedules_are_errors_without_allocating() {
        for (text, says) in [
            ("pc1:t0*18446744073709551615", "repeat count"),
            ("pc1:t0*4294967296", "repeat count"),
            ("pc1:t0*100000000", "repeat count"),
            ("pc1:t0*4000000,t1*4000000", "more than"),
            ("pc1:", "empty"),
            ("pc2:t0", "unsupported schedule version `pc2`"),
            ("pc1:zz,,*", "zz"),
            ("pc1:t0,,t1", "item 2"),
            ("pc1:t0,", "item 2"),
            ("pc1:t0*0", "between 1 and"),
            ("pc1:t+1", "t+1"),
            ("pc1:t99999", "tasks are numbered"),
            ("pc1:r", "`r`"),
            ("pc1:r11111111111111111", "r111"),
            ("pc1:t0*-1", "t0*-1"),
        ] {
            let err = decode_schedule(text).unwrap_err();
            assert!(err.contains(says), "{text}: {err}");
        }
        let long = format!("pc1:{}", "t0,".repeat(MAX_SCHEDULE_BYTES / 3 + 1));
        assert!(decode_schedule(&long).unwrap_err().contains("bytes"));
        let most = parse_items(&format!("t1*{MAX_SCHEDULE_CHOICES}")).unwrap();
        assert_eq!(most, vec![(Choice::Task(1), MAX_SCHEDULE_CHOICES)]);
    }
}
