//! Which requests get a context, and which request a `cancel` reaches: the one running, or,
//! once it finished, the actor's next one.

use super::Contexts;
use crate::sync::test_exec::StdExecution;
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
