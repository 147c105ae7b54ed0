//! The run token's patience and holder (issue 17): a waiter gives up only after its patience of
//! polls in a row without a release, and the thread holding the token cannot take it again.
//! Every wait here also gives up once `aborted` has been asked 100 times, so that a mutant that
//! never gives up fails these tests instead of hanging them.

use super::{Refused, RunToken, TAKEN_TWICE};
use crate::sync::test_exec::on_another_thread;
use std::cell::Cell;
use std::panic::{catch_unwind, AssertUnwindSafe};

/// An `aborted` check that says yes from its 101st call, counting its calls.
fn asked(calls: &Cell<u64>) -> impl Fn() -> bool + '_ {
    move || {
        calls.set(calls.get() + 1);
        calls.get() > 100
    }
}

#[test]
fn a_held_token_is_given_up_on_after_the_patience_of_polls() {
    let token = RunToken::default();
    token.set_patience(3);
    assert_eq!(token.patience(), 3);
    assert_eq!(
        token.acquire(|| false),
        Ok(()),
        "a free token is taken at once"
    );
    let calls = on_another_thread(|| {
        let calls = Cell::new(0);
        assert_eq!(token.acquire(asked(&calls)), Err(Refused::Exhausted));
        calls.get()
    });
    assert_eq!(
        calls, 4,
        "one look before each of the 3 polls, and one after them"
    );
}

#[test]
fn a_release_is_counted_and_frees_the_token() {
    let token = RunToken::default();
    assert_eq!(token.patience(), super::PATIENCE);
    token.acquire(|| false).expect("free");
    token.release();
    assert_eq!(token.state.lock().unwrap().releases, 1);
    assert_eq!(
        token.acquire(|| false),
        Ok(()),
        "the releaser takes it back"
    );
    token.release();
    assert_eq!(
        on_another_thread(|| token.acquire(|| true)),
        Ok(()),
        "another actor takes it at once"
    );
    assert_eq!(token.state.lock().unwrap().releases, 2);
}

#[test]
fn the_run_token_is_held_until_released() {
    let token = RunToken::default();
    assert_eq!(
        token.acquire(|| true),
        Ok(()),
        "a free token is taken at once"
    );
    assert_eq!(
        on_another_thread(|| token.acquire(|| true)),
        Err(Refused::Aborted),
        "a held one is waited for until the abort"
    );
    token.release();
    assert_eq!(
        on_another_thread(|| token.acquire(|| true)),
        Ok(()),
        "released, it is free again"
    );
}

#[test]
fn the_holder_taking_the_token_again_is_a_facade_bug_reported_at_once() {
    let token = RunToken::default();
    token.acquire(|| false).expect("free");
    let calls = Cell::new(0);
    let payload = catch_unwind(AssertUnwindSafe(|| token.acquire(asked(&calls))))
        .expect_err("a second take by the holder panics");
    assert_eq!(
        payload.downcast_ref::<String>().map(String::as_str),
        Some(TAKEN_TWICE)
    );
    assert_eq!(calls.get(), 0, "without waiting for itself");
}
