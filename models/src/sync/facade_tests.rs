//! The std backend's run token and the step count, which the judge of a mutant
//! (`.cargo/mutants.toml`: the cheap deterministic trials and these unit tests) would otherwise
//! never exercise: the std scheduler is left to the full suite, and no cheap trial comes near
//! its step bound (issue 17).

use super::context::install;
use super::run_token::RunToken;
use super::test_exec::Quiet;
use super::{Backend, Event, LockId, RecordKind};

#[test]
fn the_run_token_is_held_until_released() {
    let token = RunToken::default();
    assert_eq!(
        token.acquire(|| true),
        Ok(()),
        "a free token is taken at once"
    );
    assert_eq!(
        token.acquire(|| true),
        Err(()),
        "a held one is waited for until the abort"
    );
    token.release();
    assert_eq!(token.acquire(|| true), Ok(()), "released, it is free again");
}

#[test]
fn a_std_actor_gives_its_run_token_back() {
    let (exec, _installed) = install(Backend::Std, Box::new(Quiet), 100, "main");
    // `install` gave the token to main; once main releases it, taking it again must not wait,
    // even with the execution aborted (an aborted wait unwinds the taker).
    exec.release_run_token();
    exec.abort();
    exec.take_run_token();
}

#[test]
fn only_scheduling_points_count_as_steps() {
    let lock: LockId = 0;
    let not_steps = [
        RecordKind::Probe(Event::PoolLimit { max_connections: 1 }),
        RecordKind::Unlock(lock),
        RecordKind::Notify("c".into()),
        RecordKind::Reserve(0, 1),
    ];
    for kind in not_steps {
        assert!(!kind.is_step(), "{kind:?} is not a scheduling point");
    }
    for kind in [
        RecordKind::Lock(lock),
        RecordKind::Yield("await"),
        RecordKind::Done,
    ] {
        assert!(kind.is_step(), "{kind:?} is a scheduling point");
    }
}
