//! The cancellation book on its own (issue 17): the trials cancel some requests, but never ask
//! the book about a request nothing cancelled in a way a wrong answer would change the verdict
//! of, nor cancel one request twice around a shielded cleanup.

use super::CancelBook;
use crate::sync::test_exec::StdExecution;

#[test]
fn a_request_nothing_cancels_raises_nowhere() {
    let mut book = CancelBook::default();
    book.cancel_at(100, "send_request_headers");
    assert!(!book.raises_at(200, "send_request_headers"));
    assert!(!book.reach(200, "send_request_headers"));
    assert!(!book.raises_at(100, "receive_response_headers"));
    assert!(!book.reach(100, "receive_response_headers"));
    assert!(!book.would_interrupt_cleanup(200));
    assert!(!book.interrupts_cleanup(200), "no cleanup interrupted");
}

#[test]
fn a_request_cancelled_at_an_await_raises_there_and_at_every_later_one() {
    let _exec = StdExecution::install(); // the cancellation is probed
    let mut book = CancelBook::default();
    book.cancel_at(100, "send_request_headers");
    assert!(book.raises_at(100, "send_request_headers"));
    assert!(book.reach(100, "send_request_headers"));
    assert!(book.raises_at(100, "receive_response_headers"));
    assert!(book.reach(100, "receive_response_headers"));
}

#[test]
fn only_a_cancellation_after_the_raise_interrupts_the_shielded_cleanup_once() {
    let _exec = StdExecution::install();
    let mut book = CancelBook::default();
    book.cancel(100);
    book.cancel(100); // before the task ran again: raised once, as one cancellation
    assert!(!book.would_interrupt_cleanup(100));
    assert!(book.reach(100, "send_request_headers"));
    assert!(
        !book.would_interrupt_cleanup(100),
        "not cancelled again yet"
    );
    assert!(!book.interrupts_cleanup(100));
    book.cancel(100);
    assert!(book.would_interrupt_cleanup(100));
    assert!(book.interrupts_cleanup(100));
    assert!(!book.would_interrupt_cleanup(100), "interrupted once");
    assert!(!book.interrupts_cleanup(100));
}
