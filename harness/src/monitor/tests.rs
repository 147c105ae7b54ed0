//! The definitions of the invariants on hand-written logs: what each counts and what it
//! exempts (the scenarios show them catching real variants).

use super::MonitorSet;
use poolcheck_models::sync::{
    ActorInfo, CloseReason, ConnPhase, Event, Ghost, Observer, Outcome, Record, RecordKind,
};

/// Feed `events` (actor, event) to the monitors named; the first violated invariant, if any.
fn verdict(invariants: &[&str], events: &[(usize, Event)]) -> Option<String> {
    let names: Vec<String> = invariants.iter().map(|s| (*s).to_owned()).collect();
    let mut set = MonitorSet::new(&names);
    let mut ghost = Ghost::default();
    for name in ["main", "A", "B"] {
        ghost.actors.push(ActorInfo {
            name: name.into(),
            waiting: None,
            done: false,
            held: 0,
        });
    }
    for (seq, (actor, ev)) in events.iter().enumerate() {
        let rec = Record {
            seq,
            step: seq as u64,
            actor: *actor,
            held: 0,
            kind: RecordKind::Probe(ev.clone()),
        };
        if let Err(v) = set.on_record(&ghost, &rec) {
            return Some(v.invariant);
        }
    }
    None
}

const A: usize = 1;
const B: usize = 2;

fn assigned(actor: usize) -> Vec<(usize, Event)> {
    vec![
        (actor, Event::RequestStarted { req: 200 }),
        (actor, Event::RequestAssigned { req: 200, conn: 1 }),
    ]
}

fn closed(actor: usize, reason: CloseReason) -> (usize, Event) {
    (actor, Event::ConnClosed { conn: 1, reason })
}

#[test]
fn closed_while_active_counts_assigned_requests_and_every_reason() {
    for reason in [CloseReason::Owner, CloseReason::Error, CloseReason::Expired] {
        let mut log = assigned(B);
        log.push(closed(A, reason));
        assert_eq!(
            verdict(&["closed-while-active"], &log).as_deref(),
            Some("closed-while-active"),
            "{reason:?}"
        );
    }
}

#[test]
fn closed_while_active_lets_a_request_close_its_own_connection_and_the_teardown_run() {
    for closer in [B, 0] {
        let mut log = assigned(B);
        log.push(closed(closer, CloseReason::Owner));
        assert_eq!(verdict(&["closed-while-active"], &log), None);
    }
    let mut finished = assigned(B);
    finished.push((
        B,
        Event::RequestFinished {
            req: 200,
            outcome: Outcome::Response,
        },
    ));
    finished.push(closed(A, CloseReason::Owner));
    assert_eq!(verdict(&["closed-while-active"], &finished), None);
}

#[test]
fn idle_while_active_counts_requests_assigned_by_another_actor() {
    let idle = Event::ConnPhase {
        conn: 1,
        phase: ConnPhase::Idle { expire_at: None },
    };
    let by = |actor: usize| {
        let mut log = assigned(B);
        log.push((actor, idle.clone()));
        verdict(&["idle-while-active"], &log)
    };
    assert_eq!(by(A).as_deref(), Some("idle-while-active"));
    // httpcore's own handshake sets the new connection Idle before the request's stream.
    assert_eq!(by(B), None);
}

fn ends(outcome: Outcome) -> (usize, Event) {
    (B, Event::RequestFinished { req: 200, outcome })
}

#[test]
fn spurious_error_wants_a_cause_for_every_failure() {
    let failed = Outcome::Error("connection closed".into());
    let cases: Vec<(Vec<(usize, Event)>, bool)> = vec![
        (vec![ends(Outcome::Cancelled)], false),
        (
            vec![
                (A, Event::RequestCancelled { req: 200 }),
                ends(Outcome::Cancelled),
            ],
            true,
        ),
        (vec![ends(failed.clone())], false),
        (vec![(A, Event::PoolClosed), ends(failed.clone())], true),
        (
            vec![closed(A, CloseReason::Error), ends(failed.clone())],
            true,
        ),
        (vec![ends(Outcome::Response)], true),
    ];
    for (events, holds) in cases {
        let mut log = assigned(B);
        log.extend(events);
        let got = verdict(&["spurious-error"], &log);
        assert_eq!(got.is_none(), holds, "{log:?}");
    }
}

#[test]
fn spurious_error_ignores_closes_of_connections_the_request_never_used() {
    let mut log = assigned(B);
    log.push((
        A,
        Event::ConnClosed {
            conn: 2,
            reason: CloseReason::Error,
        },
    ));
    log.push(ends(Outcome::Error("connection closed".into())));
    assert_eq!(
        verdict(&["spurious-error"], &log).as_deref(),
        Some("spurious-error")
    );
}
