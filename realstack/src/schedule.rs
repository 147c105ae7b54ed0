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

/// Decode a schedule written by [`encode`] into its case name and decisions.
pub fn decode(text: &str) -> Result<(String, Vec<Choice>), String> {
    let (case, rest) = text
        .trim()
        .split_once('@')
        .ok_or("a real-stack schedule starts with `<case>@`")?;
    let body = rest
        .strip_prefix(&format!("{SCHEDULE_VERSION}:"))
        .ok_or_else(|| format!("expected `{SCHEDULE_VERSION}:` after `{case}@`"))?;
    let mut out = Vec::new();
    for item in body.split(',').filter(|s| !s.is_empty()) {
        let (one, count) = match item.split_once('*') {
            Some((one, n)) => (one, n.parse::<usize>().map_err(|_| bad(item))?),
            None => (item, 1),
        };
        let choice = match one.split_at_checked(1) {
            Some(("t", n)) => Choice::Task(n.parse().map_err(|_| bad(item))?),
            Some(("r", x)) => Choice::Random(u64::from_str_radix(x, 16).map_err(|_| bad(item))?),
            _ => return Err(bad(item)),
        };
        out.extend(std::iter::repeat_n(choice, count));
    }
    Ok((case.to_owned(), out))
}

fn bad(item: &str) -> String {
    format!("bad schedule item `{item}` (expected t<task>, r<hex> or either with *<count>)")
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
}
