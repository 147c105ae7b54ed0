//! Our own record of shuttle's decisions, and a scheduler that feeds them back.
//!
//! [`Recording`] wraps any shuttle scheduler and keeps the current execution's decisions on a
//! [`Tape`] (which task ran, and every value handed out by `shuttle::rand`); [`Replaying`]
//! returns them in order. A real-stack schedule names its case: `<case>@pc1:<items>`, where the
//! items are the harness's `pc1` format (`t<N>` run task N, `r<HEX>` a random value, `*<K>` K
//! repetitions), so one string replays one execution of one case.
//!
//! The tape lives behind a std mutex: the watchdog thread reads it when an execution stops
//! making progress, to report the schedule prefix that hangs.

use shuttle::scheduler::{Schedule, Scheduler, Task, TaskId};
use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

/// The item format's version tag (the same as the harness's).
pub const SCHEDULE_VERSION: &str = "pc1";

/// One scheduling decision.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Choice {
    /// Run this task next.
    Task(usize),
    /// Return this value to the running task's random request.
    Random(u64),
}

/// Encode `case@pc1:t0*3,t1,r1f`.
pub fn encode(case: &str, choices: &[Choice]) -> String {
    let mut out = format!("{case}@{SCHEDULE_VERSION}:");
    let mut i = 0;
    while i < choices.len() {
        let run = choices[i..]
            .iter()
            .take_while(|c| **c == choices[i])
            .count();
        if i > 0 {
            out.push(',');
        }
        let _ = match choices[i] {
            Choice::Task(t) => write!(out, "t{t}"),
            Choice::Random(r) => write!(out, "r{r:x}"),
        };
        if run > 1 {
            let _ = write!(out, "*{run}");
        }
        i += run;
    }
    out
}

/// Schedule text longer than this is rejected before it is parsed (the harness's limit).
pub const MAX_SCHEDULE_BYTES: usize = 4 << 20;

/// Decisions a decoded schedule may hold at most, repeat counts included; checked before any
/// count is expanded.
pub const MAX_SCHEDULE_CHOICES: usize = 1 << 22;

/// The largest task number a schedule may name.
pub const MAX_SCHEDULE_TASK: usize = 4095;

/// Decode a schedule written by [`encode`] into its case name and decisions. Sizes and counts
/// are checked before anything is expanded; every malformed input is an error, never a panic.
pub fn decode(text: &str) -> Result<(String, Vec<Choice>), String> {
    if text.len() > MAX_SCHEDULE_BYTES {
        return Err(format!(
            "the schedule is {} bytes; at most {MAX_SCHEDULE_BYTES} are accepted",
            text.len()
        ));
    }
    let (case, rest) = text
        .trim()
        .split_once('@')
        .ok_or("a real-stack schedule starts with `<case>@`")?;
    let body = rest
        .strip_prefix(&format!("{SCHEDULE_VERSION}:"))
        .ok_or_else(|| format!("expected `{SCHEDULE_VERSION}:` after the case name"))?;
    if body.is_empty() {
        return Err("the schedule is empty: it must hold at least one decision".into());
    }
    let mut items = Vec::new();
    let mut total = 0usize;
    for (i, item) in body.split(',').enumerate() {
        let (choice, count) = item_of(item).map_err(|e| format!("item {}: {e}", i + 1))?;
        total = total
            .checked_add(count)
            .filter(|t| *t <= MAX_SCHEDULE_CHOICES)
            .ok_or_else(|| {
                format!("the schedule expands to more than {MAX_SCHEDULE_CHOICES} decisions")
            })?;
        items.push((choice, count));
    }
    let mut out = Vec::with_capacity(total);
    for (choice, count) in items {
        out.extend(std::iter::repeat_n(choice, count));
    }
    Ok((case.to_owned(), out))
}

fn item_of(item: &str) -> Result<(Choice, usize), String> {
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    let (one, count) = match item.split_once('*') {
        Some((one, n)) if digits(n) => match n.parse::<usize>() {
            Ok(c) if (1..=MAX_SCHEDULE_CHOICES).contains(&c) => (one, c),
            _ => {
                return Err(format!(
                    "`{item}`: a repeat count is between 1 and {MAX_SCHEDULE_CHOICES}"
                ))
            }
        },
        Some(_) => return Err(bad(item)),
        None => (item, 1),
    };
    let choice = match one.split_at_checked(1) {
        Some(("t", n)) if digits(n) => match n.parse::<usize>() {
            Ok(t) if t <= MAX_SCHEDULE_TASK => Choice::Task(t),
            _ => {
                return Err(format!(
                    "`{item}`: tasks are numbered 0 to {MAX_SCHEDULE_TASK}"
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

fn bad(item: &str) -> String {
    let shown: String = item.chars().take(40).collect();
    format!("bad schedule item `{shown}` (expected t<task>, r<hex> or either with *<count>)")
}

/// What a [`Recording`] scheduler saw, shared with the explorer and its watchdog.
#[derive(Clone, Default)]
pub struct Tape(Arc<TapeInner>);

#[derive(Default)]
struct TapeInner {
    state: Mutex<TapeState>,
    /// Decisions taken so far in the whole exploration: the watchdog's heartbeat.
    steps: AtomicU64,
}

#[derive(Default)]
struct TapeState {
    choices: Vec<Choice>,
    executions: u64,
    stop: bool,
}

impl Tape {
    fn state(&self) -> std::sync::MutexGuard<'_, TapeState> {
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

    /// Decisions taken so far in the exploration.
    pub fn steps(&self) -> u64 {
        self.0.steps.load(Ordering::Relaxed)
    }

    /// Start no further execution: the current one is the counterexample.
    pub fn stop(&self) {
        self.state().stop = true;
    }

    fn push(&self, c: Choice) {
        self.state().choices.push(c);
        self.0.steps.fetch_add(1, Ordering::Relaxed);
    }
}

/// Wraps a scheduler and records the decisions of the current execution on a [`Tape`].
pub struct Recording<S> {
    inner: S,
    tape: Tape,
}

impl<S> Recording<S> {
    /// Record `inner`'s decisions on `tape`.
    pub fn new(inner: S, tape: Tape) -> Self {
        Recording { inner, tape }
    }
}

impl<S: Scheduler> Scheduler for Recording<S> {
    fn new_execution(&mut self) -> Option<Schedule> {
        if self.tape.state().stop {
            return None; // keep the violating execution's decisions on the tape
        }
        let next = self.inner.new_execution()?;
        let mut t = self.tape.state();
        t.choices.clear();
        t.executions += 1;
        Some(next)
    }

    fn next_task(
        &mut self,
        runnable: &[&Task],
        current: Option<TaskId>,
        yielding: bool,
    ) -> Option<TaskId> {
        let next = self.inner.next_task(runnable, current, yielding)?;
        self.tape.push(Choice::Task(usize::from(next)));
        Some(next)
    }

    fn next_u64(&mut self) -> u64 {
        let v = self.inner.next_u64();
        self.tape.push(Choice::Random(v));
        v
    }
}

/// Replays one recorded execution; a decision that does not fit panics with the place where
/// the run diverged from the schedule.
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
            other => {
                let ids: Vec<usize> = runnable.iter().map(|t| usize::from(t.id())).collect();
                panic!(
                    "schedule diverged at decision {at}: recorded {other:?}, runnable tasks {ids:?}"
                )
            }
        }
    }

    fn next_u64(&mut self) -> u64 {
        let at = self.pos;
        match self.next() {
            Some(Choice::Random(v)) => v,
            other => panic!(
                "schedule diverged at decision {at}: recorded {other:?}, but the execution \
                 asked for a random value"
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schedules_round_trip() {
        let choices = vec![
            Choice::Task(0),
            Choice::Task(0),
            Choice::Random(0xbeef),
            Choice::Task(3),
        ];
        let text = encode("hyper-util-graceful", &choices);
        assert_eq!(text, "hyper-util-graceful@pc1:t0*2,rbeef,t3");
        assert_eq!(
            decode(&text).unwrap(),
            ("hyper-util-graceful".to_owned(), choices)
        );
        assert!(decode("pc1:t0").is_err());
        assert!(decode("c@pc1:x1").unwrap_err().contains("x1"));
    }

    /// Issue 15, item 1: repeat counts are bounded before they are expanded.
    #[test]
    fn hostile_schedules_are_errors_without_allocating() {
        for text in [
            "c@pc1:t0*18446744073709551615",
            "c@pc1:t0*4294967296",
            "c@pc1:t0*1000000000",
            "c@pc1:t0*4000000,t0*4000000",
            "c@pc1:",
            "c@pc1:t0,,t1",
            "c@pc1:t0*0",
            "c@pc2:t0",
            "c@pc1:t99999",
        ] {
            assert!(decode(text).is_err(), "{text}");
        }
    }
}
