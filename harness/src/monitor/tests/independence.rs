//! The `dpor` scheduler takes two records of different actors that touch no common ghost
//! object (`MonitorSet::ghost_objects`: the monitors that read them, the parts of the world view
//! they change) as independent, and explores only one of their orders. That is sound only if
//! swapping such a pair never changes a verdict. Each log below has a verdict that depends on
//! the order of one pair of its records, which the declarations must therefore keep dependent:
//! a monitor's `reads` or `World::key_of` that forgets one of them fails here.

use super::{A, B};
use crate::monitor::{CustomMonitor, Cx, Monitor, MonitorSet, World};
use poolcheck_models::sync::{
    CloseReason, ConnPhase, Event, Observer, Outcome, Record, RecordKind,
};
use std::sync::Arc;

/// The verdict of `log` (the violated invariant, if any), and the first adjacent pair the
/// declarations call independent whose swap changes it.
fn swap_changing_the_verdict(
    invariants: &[&str],
    custom: &[CustomMonitor],
    log: &[(usize, Event)],
) -> Option<usize> {
    let set = || {
        let names: Vec<String> = invariants.iter().map(|s| (*s).to_owned()).collect();
        MonitorSet::with_custom(&names, custom)
    };
    let verdict = judge(set(), log);
    (0..log.len().saturating_sub(1)).find(|&i| {
        let independent = log[i].0 != log[i + 1].0 && disjoint(&set(), &log[i].1, &log[i + 1].1);
        let mut swapped = log.to_vec();
        swapped.swap(i, i + 1);
        independent && judge(set(), &swapped) != verdict
    })
}

fn disjoint(set: &MonitorSet, a: &Event, b: &Event) -> bool {
    let objects = |ev: &Event| {
        let mut touched = Vec::new();
        set.ghost_objects(&RecordKind::Probe(ev.clone()), &mut |k| touched.push(k));
        touched
    };
    let b = objects(b);
    !objects(a).iter().any(|k| b.contains(k))
}

fn judge(set: MonitorSet, log: &[(usize, Event)]) -> Option<String> {
    super::feed(set, log, true).map(|v| v.invariant)
}

fn sound(invariant: &str, log: &[(usize, Event)]) {
    let swap = swap_changing_the_verdict(&[invariant], &[], log);
    assert_eq!(
        swap, None,
        "{invariant}: records {swap:?} and the next are not independent"
    );
}

#[test]
fn max_streams_orders_a_stream_close_before_another_open() {
    let settings = Event::SettingsApplied {
        conn: 1,
        max_streams: Some(1),
        header_table_size: None,
    };
    let open = |stream, req| Event::StreamOpened {
        conn: 1,
        stream,
        req,
    };
    let log = [
        (0, settings),
        (A, open(1, 200)),
        (A, Event::StreamClosed { conn: 1, stream: 1 }),
        (B, open(3, 201)),
    ];
    sound("max-streams", &log);
}

#[test]
fn stream_after_goaway_orders_a_goaway_before_an_open() {
    let log = [
        (
            0,
            Event::GoawayReceived {
                conn: 1,
                last_stream: 1,
            },
        ),
        (
            A,
            Event::StreamOpened {
                conn: 1,
                stream: 3,
                req: 200,
            },
        ),
    ];
    sound("stream-after-goaway", &log);
}

#[test]
fn field_race_orders_a_load_leaving_before_a_store() {
    let field = "maxFrameSize";
    let log = [
        (
            A,
            Event::FieldEnter {
                conn: 1,
                field,
                write: false,
            },
        ),
        (A, Event::FieldExit { conn: 1, field }),
        (
            B,
            Event::FieldEnter {
                conn: 1,
                field,
                write: true,
            },
        ),
    ];
    sound("field-race", &log);
}

#[test]
fn spurious_error_orders_a_failure_after_its_cause() {
    let log = [
        (B, Event::RequestStarted { req: 200 }),
        (B, Event::RequestAssigned { req: 200, conn: 1 }),
        (
            A,
            Event::ConnClosed {
                conn: 1,
                reason: CloseReason::Error,
            },
        ),
        (
            B,
            Event::RequestFinished {
                req: 200,
                outcome: Outcome::Error("closed".into()),
            },
        ),
    ];
    sound("spurious-error", &log);
}

/// A user's invariant that reads no record and judges the world view at the end: the final
/// view must not depend on the order of two changes to one part of it, which `World::key_of`
/// keeps dependent.
struct AtTheEnd(fn(&World) -> bool);

impl Monitor for AtTheEnd {
    fn on_record(&mut self, _cx: &Cx<'_>, _rec: &Record) -> Result<(), String> {
        Ok(())
    }

    fn at_end(&mut self, cx: &Cx<'_>) -> Result<(), String> {
        match (self.0)(cx.world) {
            true => Ok(()),
            false => Err("the end state is not as required".into()),
        }
    }

    fn reads(&self, _kind: &RecordKind) -> bool {
        false
    }
}

fn at_the_end(check: fn(&World) -> bool, log: &[(usize, Event)]) {
    let custom = CustomMonitor {
        name: "at-the-end".into(),
        holds_when: "the final world view is as required".into(),
        new: Arc::new(move || Box::new(AtTheEnd(check))),
    };
    let swap = swap_changing_the_verdict(&[], &[custom], log);
    assert_eq!(swap, None, "{log:?}: the two changes are not kept in order");
}

#[test]
fn the_world_view_orders_two_changes_to_one_part_of_it() {
    let conn = 1;
    at_the_end(
        |w| w.open_resources.is_empty(),
        &[
            (
                A,
                Event::ResourceOpened {
                    kind: "socket",
                    id: 1,
                },
            ),
            (
                B,
                Event::ResourceClosed {
                    kind: "socket",
                    id: 1,
                },
            ),
        ],
    );
    at_the_end(
        |w| w.conns.values().all(|c| c.streams.is_empty()),
        &[
            (
                A,
                Event::StreamOpened {
                    conn,
                    stream: 1,
                    req: 200,
                },
            ),
            (B, Event::StreamClosed { conn, stream: 1 }),
        ],
    );
    at_the_end(
        |w| w.requests.values().all(Option::is_some),
        &[
            (A, Event::RequestStarted { req: 200 }),
            (
                B,
                Event::RequestFinished {
                    req: 200,
                    outcome: Outcome::Response,
                },
            ),
        ],
    );
    at_the_end(
        |w| w.conns.values().all(|c| c.phase == ConnPhase::Closed),
        &[
            (
                A,
                Event::ConnClosed {
                    conn,
                    reason: CloseReason::Error,
                },
            ),
            (
                B,
                Event::ConnPhase {
                    conn,
                    phase: ConnPhase::Active,
                },
            ),
        ],
    );
}
