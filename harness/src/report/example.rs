//! A hand-written counterexample for the renderers' unit tests.

use super::{Counterexample, REPORT_VERSION};
use crate::trace::{Trace, TraceRow, TraceViolation};

fn row(seq: usize, actor: usize, kind: &str, text: &str, locks: &[&str]) -> TraceRow {
    TraceRow {
        seq,
        step: seq as u64,
        actor,
        kind: kind.into(),
        text: text.into(),
        locks: locks.iter().map(|l| (*l).to_owned()).collect(),
        wire: None,
        peer: None,
    }
}

/// A small failing execution: two actors, a peer message each way, one lock, a violation.
pub(crate) fn example() -> Counterexample {
    let mut sent = row(3, 1, "probe", "HEADERS stream 1 sent", &["state_lock"]);
    sent.wire = Some("to-peer".into());
    let mut got = row(5, 2, "probe", "GOAWAY <last 1> received", &[]);
    got.wire = Some("from-peer".into());
    let trace = Trace {
        actors: vec!["main".into(), "A".into(), "B".into()],
        rows: vec![
            row(0, 0, "start", "starts", &[]),
            row(1, 1, "lock", "locks state_lock", &["state_lock"]),
            row(
                2,
                1,
                "probe",
                "conn 0 state := Active & <ok>",
                &["state_lock"],
            ),
            sent,
            row(4, 1, "unlock", "unlocks state_lock", &[]),
            got,
            row(6, 2, "probe", "conn 0 state := Idle", &[]),
        ],
        violation: Some(TraceViolation {
            invariant: "idle-while-active".into(),
            holds_when: "no connection is Idle while a request is active".into(),
            message: "conn 0 went Idle while request 1 is active".into(),
            actor: Some(2),
            seq: 6,
        }),
        clock: 0,
    };
    Counterexample {
        version: REPORT_VERSION,
        scenario: "toy-scenario".into(),
        scenario_file: "scenarios/toy-scenario.toml".into(),
        model: "toy".into(),
        variant: "buggy".into(),
        scheduler: "pct".into(),
        seed: Some(3),
        budget: "pct, depth 3, 100 iterations, seed 3".into(),
        verdict: "idle-while-active".into(),
        detail: None,
        executions: 7,
        elapsed_ms: 12,
        schedule: Some("pc1:t0,t1*2".into()),
        loom_checkpoint: None,
        preemption_bound: None,
        simplest: None,
        trace: Some(trace),
        outcomes: None,
    }
}
