//! The lifecycle model's variants: CPython code exactly as released or committed, and `fixed`,
//! each a runtime switch so that all of them compile into one binary.
//!
//! The four bugs never lived together. In CPython order (asyncio's text is that of its Tulip
//! twin, python/asyncio, which Victor Stinner committed to both repositories the same day):
//!
//! ```text
//!   v3.4.2 (2014-10-06)  every old code below: try-finish, post-init, the worker-thread
//!                        connect_pipe, wait_for without a cancellation handler
//!   1b9763d0 2014-12-18  _try_finish goes through _call            (lost-via-pending-calls)
//!   4bf22e03 2015-01-15  close the transport when post-init fails  (close-on-post-init-failure)
//!   bpo-23219 2015-01-15 wait_for cancels its inner task when it is cancelled (the code of
//!                        bpo-37658)
//!   7ffa2c5f 2015-01-22  connect_pipe as a call_later poll (bpo-23293's bug)
//!   e0fd157b 2015-01-26  connect_pipe as a coroutine               (cancel-ends-pipe-poll)
//!   v3.4.3 (2015-02-25) .. v3.8.5 (2020-07-20): bpo-37658's wait_for
//!   a2118a14 2020-08-26  wait_for returns a done inner result     (wait-for-returns-done-result)
//!                        (backported to 3.8.6rc1, Misc/NEWS.d/3.8.6rc1.rst)
//! ```
//!
//! - `upstream-3.4.2`, `upstream-7ffa2c5f`, `upstream-3.8.5` are that code exactly: the fixes it
//!   already has, none of the later ones (`Only` the ones it has). Where the structure itself
//!   differs, the [`Release`] says so: 3.4.2's connect_pipe and wait_for are other code, and
//!   up to 7ffa2c5f the creator runs post-init itself (3.4.3 made it a task, c92da15).
//!   v3.4.3 through v3.8.5 are one variant in the model: the functions it follows changed
//!   shape (`yield from` became `await`, `except Exception` became `except BaseException`) but
//!   not their awaits or callbacks.
//! - `fixed` is CPython 3.8.6: every fix, all four upstream. No fix of ours is needed.
//! - `cpython-try-finish`, `cpython-post-init`, `cpython-23293`, `cpython-37658` are `fixed` with
//!   one fix undone (`fixed-without=<fix>`): the bug alone, on 3.8.6's code.

use crate::model::{FixInfo, VariantInfo, VariantKind};
use crate::typed::{self, FixSpec};

/// A variant of the model: its release plus a set of [`Fix`]es.
pub type Variant = typed::Variant<Release>;

/// The code the variants start from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Release {
    /// CPython v3.4.2 (python/cpython tag v3.4.2, 2014-10-06; its asyncio is python/asyncio tag
    /// 3.4.2, f9401d73): `IocpProactor.connect_pipe` hands the connection to an uninterruptible
    /// thread-pool worker (`Overlapped.WaitNamedPipeAndConnect`), and `wait_for` has no
    /// handler for its own cancellation (the inner task keeps running). None of the fixes.
    Cpython3_4_2,
    /// CPython 7ffa2c5f (2015-01-22): as v3.4.2, the creator runs `yield from
    /// transp._post_init()` itself, so post-init's first await is its first pipe's connect;
    /// `connect_pipe` and `wait_for` are the fixes' business from here on.
    Cpython7ffa2c5f,
    /// CPython 3.8.6 (tag v3.8.6, 2020-09-23): every fix. Post-init is the `_connect_pipes` task
    /// `__init__` starts (python/asyncio c92da15, bpo-23347, 2015-01-29, in 3.4.3), awaited
    /// through a waiter, so an exit can be seen before its first step. With fixes removed, the
    /// code of an earlier release from 3.4.3 on (v3.8.5).
    Cpython3_8_6,
}

/// A named fix; each undoes one historical bug (the doc says what it was and what changed).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fix {
    /// python/cpython 1b9763d0 (2014-12-18), `Lib/asyncio/base_subprocess.py`,
    /// `BaseSubprocessTransport._try_finish` (lines 149-156 of the parent revision, the text of
    /// v3.4.2 and of python/asyncio 942933b^).
    /// Before: once the process has exited and every pipe is disconnected, `_try_finish` schedules
    /// `_call_connection_lost` with `self._loop.call_soon(...)` (156), straight onto the loop,
    /// even while `_post_init` is still connecting and `_pending_calls` holds the protocol's
    /// earlier calls; `connection_lost` then runs before `connection_made`.
    /// After: `self._call(self._call_connection_lost, None)`, so it joins the pending-call queue
    /// and runs after `connection_made` and the calls queued before it.
    LostViaPendingCalls,
    /// python/cpython 4bf22e03 (2015-01-15), `Lib/asyncio/unix_events.py` and
    /// `Lib/asyncio/windows_events.py`, `_make_subprocess_transport` (windows_events.py 269-276
    /// at v3.4.2).
    /// Before: `yield from transp._post_init()` with no handler (275): an exception or a
    /// cancellation inside post-init propagates and leaves the transport open (child process
    /// alive, pipes connected so far open). After: `try: yield from transp._post_init() except:
    /// transp.close(); raise` (3.8: `except BaseException: transp.close(); await
    /// transp._wait(); raise`).
    CloseOnPostInitFailure,
    /// bpo-23293: python/cpython 7ffa2c5f (2015-01-22) rewrote `IocpProactor.connect_pipe()` in
    /// `Lib/asyncio/windows_events.py` as a poll: `_connect_pipe(fut, address, delay)` retries
    /// `ConnectPipe()` through `loop.call_later()` and completes `fut`; the chain never looks at
    /// whether `fut` was cancelled. Before (this variant): cancelling the caller cancels only the
    /// future; the chain keeps polling, and when the pipe frees it opens a handle that nobody will
    /// ever close (`set_result` on the cancelled future raises `InvalidStateError`). After
    /// (e0fd157b, 2015-01-26): `connect_pipe` is a coroutine that loops over `yield from
    /// tasks.sleep(delay)`, "to ensure that the schedule call is cancelled" (its commit message):
    /// cancellation ends the poll at once.
    CancelEndsPipePoll,
    /// bpo-37658 (<https://bugs.python.org/issue37658>, python/cpython#21894), fixed by
    /// python/cpython a2118a14627256197bddcf4fcecad4c264c1e39d (2020-08-26; in 3.8.6rc1),
    /// `Lib/asyncio/tasks.py`, `wait_for`. Only requests made with `wait_for = true` (a pool
    /// acquire wrapped in `asyncio.wait_for(..., timeout)`, as asyncpg's pool and `_connect_addr`
    /// do) behave differently.
    /// Before (this variant; bpo-23219's handler, in every release from 3.4.3 to 3.8.5): when
    /// the task awaiting `wait_for` is cancelled while suspended in `await waiter`, the handler
    /// is `fut.remove_done_callback(cb); fut.cancel(); raise`. If the inner acquire had already
    /// finished (its completion released the waiter, but the outer task had not resumed yet),
    /// `fut.cancel()` does nothing and the connection it returned is never looked at again:
    /// nobody closes it or gives it back (asyncpg#467, the socket leak of the issue). After:
    /// `if fut.done(): return fut.result()`, and only a still-running inner task is cancelled
    /// and awaited before `CancelledError` propagates.
    WaitForReturnsDoneResult,
}

impl typed::Fix for Fix {
    const ALL: &'static [Self] = &[
        Fix::LostViaPendingCalls,
        Fix::CloseOnPostInitFailure,
        Fix::CancelEndsPipePoll,
        Fix::WaitForReturnsDoneResult,
    ];
    const INFO: &'static [FixInfo] = &[
        FixInfo {
            name: "lost-via-pending-calls",
            upstream: "https://github.com/python/cpython/commit/1b9763d0a9c62c13dc2a06770032e5906b610c96",
            changes: "_try_finish schedules _call_connection_lost through self._call, behind the pending calls (1b9763d0)",
            why: "call_soon straight onto the loop can run connection_lost before connection_made",
        },
        FixInfo {
            name: "close-on-post-init-failure",
            upstream: "https://github.com/python/cpython/commit/4bf22e033e975f61c33752db5a3764dc0f7d0b03",
            changes: "_make_subprocess_transport closes the transport when _post_init fails or is cancelled (4bf22e03)",
            why: "otherwise the child process and the pipes connected so far stay open",
        },
        FixInfo {
            name: "cancel-ends-pipe-poll",
            upstream: "https://bugs.python.org/issue23293 (7ffa2c5f; fixed by e0fd157b)",
            changes: "connect_pipe is a coroutine looping over await sleep, so cancellation ends the poll (e0fd157b)",
            why: "the call_later chain ignores the cancelled future and opens a handle nobody closes",
        },
        FixInfo {
            name: "wait-for-returns-done-result",
            upstream: "https://bugs.python.org/issue37658 (fixed by a2118a14)",
            changes: "wait_for cancelled after its inner task finished returns that result instead of raising (a2118a14)",
            why: "otherwise the connection the inner acquire returned is dropped",
        },
    ];
}

impl typed::Release for Release {
    type Fix = Fix;
    const NAMED: &'static [(Self, FixSpec<Fix>)] = &[
        (Release::Cpython3_8_6, FixSpec::All),
        (Release::Cpython3_4_2, FixSpec::Only(&[])),
        (
            Release::Cpython7ffa2c5f,
            FixSpec::Only(&[Fix::LostViaPendingCalls, Fix::CloseOnPostInitFailure]),
        ),
        (
            Release::Cpython3_8_6,
            FixSpec::Only(&[
                Fix::LostViaPendingCalls,
                Fix::CloseOnPostInitFailure,
                Fix::CancelEndsPipePoll,
            ]),
        ),
        (
            Release::Cpython3_8_6,
            FixSpec::AllBut(&[Fix::LostViaPendingCalls]),
        ),
        (
            Release::Cpython3_8_6,
            FixSpec::AllBut(&[Fix::CloseOnPostInitFailure]),
        ),
        (
            Release::Cpython3_8_6,
            FixSpec::AllBut(&[Fix::CancelEndsPipePoll]),
        ),
        (
            Release::Cpython3_8_6,
            FixSpec::AllBut(&[Fix::WaitForReturnsDoneResult]),
        ),
    ];
    const INFO: &'static [VariantInfo] = &[
        VariantInfo {
            name: "fixed",
            kind: VariantKind::Fixed,
            upstream: "https://github.com/python/cpython/tree/v3.8.6",
            summary: "CPython 3.8.6: every fix (all four upstream; no fix of ours)",
        },
        VariantInfo {
            name: "upstream-3.4.2",
            kind: VariantKind::Upstream,
            upstream: "https://github.com/python/cpython/tree/v3.4.2",
            summary: "CPython 3.4.2 exactly: _try_finish bypasses the pending calls, a failed \
                      post-init leaves the transport open, connect_pipe runs in an \
                      uninterruptible worker thread, wait_for does not cancel its inner task",
        },
        VariantInfo {
            name: "upstream-7ffa2c5f",
            kind: VariantKind::Upstream,
            upstream:
                "https://github.com/python/cpython/commit/7ffa2c5fdda8a9cc254edf67c4458b15db1252fa",
            summary: "CPython 7ffa2c5f exactly (never released): connect_pipe's call_later poll \
                      ignores cancellation, and wait_for's bpo-37658 code; 1b9763d0 and \
                      4bf22e03 already in",
        },
        VariantInfo {
            name: "upstream-3.8.5",
            kind: VariantKind::Upstream,
            upstream: "https://github.com/python/cpython/tree/v3.8.5",
            summary: "CPython 3.8.5 exactly (the same model code as 3.4.3 and every release up \
                      to it): wait_for cancelled after its inner task finished drops the result",
        },
        VariantInfo {
            name: "cpython-try-finish",
            kind: VariantKind::Bug,
            upstream:
                "https://github.com/python/cpython/commit/1b9763d0a9c62c13dc2a06770032e5906b610c96",
            summary: "fixed-without=lost-via-pending-calls: _try_finish schedules connection_lost \
                      with call_soon, bypassing the pending-call queue: it can run before \
                      connection_made (3.4.2's code there)",
        },
        VariantInfo {
            name: "cpython-post-init",
            kind: VariantKind::Bug,
            upstream:
                "https://github.com/python/cpython/commit/4bf22e033e975f61c33752db5a3764dc0f7d0b03",
            summary: "fixed-without=close-on-post-init-failure: a post-init that fails or is \
                      cancelled leaves the transport open (3.4.2's code there)",
        },
        VariantInfo {
            name: "cpython-23293",
            kind: VariantKind::Bug,
            upstream: "https://bugs.python.org/issue23293 (7ffa2c5f; fixed by e0fd157b)",
            summary: "fixed-without=cancel-ends-pipe-poll: connect_pipe's call_later poll \
                      ignores the cancellation of its future and keeps polling, then opens a \
                      handle nobody closes (7ffa2c5f's code there)",
        },
        VariantInfo {
            name: "cpython-37658",
            kind: VariantKind::Bug,
            upstream: "https://bugs.python.org/issue37658 (fixed by a2118a14)",
            summary: "fixed-without=wait-for-returns-done-result: wait_for cancelled after its \
                      inner acquire finished raises CancelledError and drops the connection the \
                      acquire returned (requests with wait_for; 3.8.5's code there)",
        },
    ];
}

/// How `IocpProactor.connect_pipe` waits for a free pipe instance.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PipeConnect {
    /// v3.4.2: a thread-pool worker (`WaitNamedPipeAndConnect`) that cancellation cannot stop;
    /// its completion reaches the loop through the proactor, which ignores a cancelled future.
    WorkerThread,
    /// 7ffa2c5f: a `call_later` chain that ignores the cancelled future.
    CallLaterPoll,
    /// e0fd157b: a coroutine whose sleep a cancellation interrupts.
    Coroutine,
}

/// What `wait_for` does when the task awaiting it is cancelled.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WaitForCancel {
    /// v3.4.2: nothing; `CancelledError` leaves `yield from waiter` and the inner task runs on.
    LeavesInnerRunning,
    /// bpo-23219 (3.4.3 to 3.8.5): `fut.remove_done_callback(cb); fut.cancel(); raise`.
    CancelsInner,
    /// a2118a14: a done inner task's result is returned; a running one is cancelled.
    ReturnsDoneResult,
}

/// The model's questions to its variant, one per fix site.
impl Variant {
    /// How `connect_pipe` polls.
    pub fn pipe_connect(self) -> PipeConnect {
        if self.release() == Release::Cpython3_4_2 {
            PipeConnect::WorkerThread
        } else if self.has(Fix::CancelEndsPipePoll) {
            PipeConnect::Coroutine
        } else {
            PipeConnect::CallLaterPoll
        }
    }

    /// What a cancelled `wait_for` does.
    pub fn wait_for_cancel(self) -> WaitForCancel {
        if self.release() == Release::Cpython3_4_2 {
            WaitForCancel::LeavesInnerRunning
        } else if self.has(Fix::WaitForReturnsDoneResult) {
            WaitForCancel::ReturnsDoneResult
        } else {
            WaitForCancel::CancelsInner
        }
    }

    /// Is post-init a task of its own, awaited through a waiter (c92da15, 3.4.3 on), rather than
    /// run by the creator (v3.4.2, 7ffa2c5f)?
    pub fn post_init_is_a_task(self) -> bool {
        self.release() >= Release::Cpython3_8_6
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn named(name: &str) -> Variant {
        Variant::parse(name).expect(name)
    }

    #[test]
    fn each_release_has_its_own_connect_pipe_wait_for_and_post_init() {
        let v342 = named("upstream-3.4.2");
        assert_eq!(v342.pipe_connect(), PipeConnect::WorkerThread);
        assert_eq!(v342.wait_for_cancel(), WaitForCancel::LeavesInnerRunning);
        assert!(!v342.post_init_is_a_task());
        let v7ffa = named("upstream-7ffa2c5f");
        assert_eq!(v7ffa.pipe_connect(), PipeConnect::CallLaterPoll);
        assert_eq!(v7ffa.wait_for_cancel(), WaitForCancel::CancelsInner);
        assert!(!v7ffa.post_init_is_a_task());
        assert!(v7ffa.has(Fix::LostViaPendingCalls) && v7ffa.has(Fix::CloseOnPostInitFailure));
        let v385 = named("upstream-3.8.5");
        assert_eq!(v385.pipe_connect(), PipeConnect::Coroutine);
        assert_eq!(v385.wait_for_cancel(), WaitForCancel::CancelsInner);
        assert!(v385.post_init_is_a_task());
        let fixed = named("fixed");
        assert_eq!(fixed.wait_for_cancel(), WaitForCancel::ReturnsDoneResult);
        assert_eq!(fixed.pipe_connect(), PipeConnect::Coroutine);
    }

    #[test]
    fn the_historical_names_undo_one_fix_of_fixed() {
        assert_eq!(named("cpython-37658"), named("upstream-3.8.5"));
        let pipe = named("cpython-23293");
        assert_eq!(pipe.pipe_connect(), PipeConnect::CallLaterPoll);
        assert!(
            pipe.post_init_is_a_task(),
            "3.8.6's structure, not 7ffa2c5f's"
        );
        assert_eq!(
            named("cpython-try-finish"),
            named("fixed-without=lost-via-pending-calls")
        );
    }
}
