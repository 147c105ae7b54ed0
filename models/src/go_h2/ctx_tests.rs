//! Which requests get a context, and which request a `cancel` reaches: the one running, or,
//! once it finished, the actor's next one.

use super::super::round_trip::tests::connection;
use super::{Contexts, SlotWatch, WATCHER};
use crate::sync::test_exec::StdExecution;
use crate::sync::Event;
use std::collections::BTreeSet;
use std::sync::Arc;

#[test]
fn a_request_has_a_context_only_when_a_cancel_targets_its_actor_or_it_has_a_deadline() {
    let _exec = StdExecution::install();
    let contexts = Contexts::new(BTreeSet::from(["A".to_owned()]));
    assert!(
        contexts.for_request("B", 1, false).is_none(),
        "Background()"
    );
    assert!(contexts.for_request("B", 2, true).is_some(), "a deadline");
    assert!(contexts.for_request("A", 3, false).is_some(), "cancellable");
    contexts.tear_down();
}

#[test]
fn a_cancel_after_a_request_finished_reaches_the_actors_next_request() {
    let _exec = StdExecution::install();
    let contexts = Contexts::new(BTreeSet::from(["A".to_owned()]));
    let first = contexts.for_request("A", 1, false).expect("cancellable");
    contexts.finished("A");
    contexts.cancel("A");
    assert!(!first.is_cancelled(), "the finished request is left alone");
    let next = contexts.for_request("A", 2, false).expect("cancellable");
    assert!(!Arc::ptr_eq(&first, &next), "a new context");
    assert!(next.is_cancelled(), "cancelled before it started");
    contexts.tear_down();
}

#[test]
fn each_slot_watcher_is_a_resource_of_its_own() {
    let exec = StdExecution::install();
    let (_net, cc) = connection("fixed", false);
    let contexts = Contexts::new(BTreeSet::from(["A".to_owned()]));
    let ctx = contexts.for_request("A", 1, false).expect("cancellable");
    let watches = [SlotWatch::start(&ctx, &cc), SlotWatch::start(&ctx, &cc)];
    for watch in &watches {
        watch.close();
    }
    cc.goroutines.join_all();
    let ends: Vec<(&str, u32)> = exec
        .probes()
        .into_iter()
        .filter_map(|e| match e {
            Event::ResourceOpened { kind: WATCHER, id } => Some(("opened", id)),
            Event::ResourceClosed { kind: WATCHER, id } => Some(("closed", id)),
            _ => None,
        })
        .collect();
    let mut closed = ends[2..].to_vec();
    closed.sort_unstable();
    assert_eq!(ends[..2], [("opened", 1), ("opened", 2)]);
    assert_eq!(
        closed,
        [("closed", 1), ("closed", 2)],
        "each closed its own"
    );
    contexts.tear_down();
}

#[test]
fn a_request_waiting_for_its_response_is_woken_by_a_cancel_only_while_it_waits() {
    let _exec = StdExecution::install();
    let (_net, cc) = connection("fixed", false);
    let cs = cc.new_stream(&mut cc.mu.lock(), 1, false);
    let contexts = Contexts::new(BTreeSet::from(["A".to_owned()]));
    let ctx = contexts.for_request("A", 1, false).expect("cancellable");
    let waiting = || ctx.state.lock().waiting.is_some();
    ctx.watch_response(&cs);
    assert!(waiting(), "a cancel wakes its select");
    ctx.unwatch();
    assert!(!waiting(), "it no longer waits");
    contexts.tear_down();
}
