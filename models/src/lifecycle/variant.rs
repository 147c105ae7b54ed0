//! The lifecycle model's variants: today's CPython behaviour and the historical bugs, each a
//! runtime switch so that all of them compile into one binary.

use crate::model::{FixInfo, VariantInfo, VariantKind};
use crate::typed::{self, FixSpec};

/// A variant of the model: its release plus a set of [`Fix`]es.
pub type Variant = typed::Variant<Release>;

/// The code the variants start from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Release {
    /// CPython 3.4.3 and later (every fix below applied).
    Cpython,
}

/// A named fix; each undoes one historical bug (the doc says what it was and what changed).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fix {
    /// python/cpython 1b9763d0 (2014-12-18), `Lib/asyncio/base_subprocess.py`,
    /// `BaseSubprocessTransport._try_finish` (lines 115-122 of the parent revision).
    /// Before: once the process has exited and every pipe is disconnected, `_try_finish` schedules
    /// `_call_connection_lost` with `self._loop.call_soon(...)`, straight onto the loop, even while
    /// `_post_init` is still connecting and `_pending_calls` holds the protocol's earlier calls;
    /// `connection_lost` then runs before `connection_made`.
    /// After: `self._call(self._call_connection_lost, None)`, so it joins the pending-call queue
    /// and runs after `connection_made` and the calls queued before it.
    LostViaPendingCalls,
    /// python/cpython 4bf22e03 (2015-01-15), `Lib/asyncio/unix_events.py` and
    /// `Lib/asyncio/windows_events.py`, `_make_subprocess_transport`.
    /// Before: `yield from transp._post_init()` with no handler: an exception or a cancellation
    /// inside post-init propagates and leaves the transport open (child process alive, pipes
    /// connected so far open). After: `try: yield from transp._post_init() except: transp.close();
    /// raise` (today: `except BaseException: transp.close(); await transp._wait(); raise`).
    CloseOnPostInitFailure,
    /// bpo-23293: python/cpython 7ffa2c5f (2015-01-22) rewrote `IocpProactor.connect_pipe()` in
    /// `Lib/asyncio/windows_events.py` as a poll: `ConnectPipe()` retried through a chain of
    /// `loop.call_later()` callbacks that complete a future; the chain never looks at whether
    /// that future was cancelled. Before (this variant): cancelling the caller cancels only the
    /// future; the chain keeps polling, and when the pipe frees it opens a handle that nobody will
    /// ever close (`set_result` on the cancelled future fails). After (e0fd157b, 2015-01-26):
    /// `connect_pipe` is a coroutine that loops over `await tasks.sleep(delay)`, "to ensure that
    /// the schedule call is cancelled" (its commit message): cancellation ends the poll at once.
    CancelEndsPipePoll,
    /// bpo-37658 (<https://bugs.python.org/issue37658>, python/cpython#21894), fixed by
    /// python/cpython a2118a14627256197bddcf4fcecad4c264c1e39d (2020-08-26),
    /// `Lib/asyncio/tasks.py`, `wait_for`. Only requests made with `wait_for = true` (a pool
    /// acquire wrapped in `asyncio.wait_for(..., timeout)`, as asyncpg's pool and `_connect_addr`
    /// do) behave differently.
    /// Before (this variant): when the task awaiting `wait_for` is cancelled while suspended in
    /// `await waiter`, the handler is `fut.remove_done_callback(cb); fut.cancel(); raise`. If the
    /// inner acquire had already finished (its completion released the waiter, but the outer task
    /// had not resumed yet), `fut.cancel()` does nothing and the connection it returned is never
    /// looked at again: nobody closes it or gives it back (asyncpg#467, the socket leak of the
    /// issue). After: `if fut.done(): return fut.result()`, and only a still-running inner task is
    /// cancelled and awaited before `CancelledError` propagates.
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
        (Release::Cpython, FixSpec::All),
        (
            Release::Cpython,
            FixSpec::AllBut(&[Fix::LostViaPendingCalls]),
        ),
        (
            Release::Cpython,
            FixSpec::AllBut(&[Fix::CloseOnPostInitFailure]),
        ),
        (
            Release::Cpython,
            FixSpec::AllBut(&[Fix::CancelEndsPipePoll]),
        ),
        (
            Release::Cpython,
            FixSpec::AllBut(&[Fix::WaitForReturnsDoneResult]),
        ),
    ];
    const INFO: &'static [VariantInfo] = &[
        VariantInfo {
            name: "fixed",
            kind: VariantKind::Fixed,
            upstream: "",
            summary: "every fix applied (CPython 3.4.3 and later)",
        },
        VariantInfo {
            name: "cpython-try-finish",
            kind: VariantKind::Bug,
            upstream:
                "https://github.com/python/cpython/commit/1b9763d0a9c62c13dc2a06770032e5906b610c96",
            summary: "_try_finish schedules connection_lost with call_soon, bypassing the \
                  pending-call queue: it can run before connection_made",
        },
        VariantInfo {
            name: "cpython-post-init",
            kind: VariantKind::Bug,
            upstream:
                "https://github.com/python/cpython/commit/4bf22e033e975f61c33752db5a3764dc0f7d0b03",
            summary: "a post-init that fails or is cancelled leaves the transport open",
        },
        VariantInfo {
            name: "cpython-23293",
            kind: VariantKind::Bug,
            upstream: "https://bugs.python.org/issue23293 (7ffa2c5f; fixed by e0fd157b)",
            summary: "connect_pipe's call_later poll ignores the cancellation of its future and \
                  keeps polling, then opens a handle nobody closes",
        },
        VariantInfo {
            name: "cpython-37658",
            kind: VariantKind::Bug,
            upstream: "https://bugs.python.org/issue37658 (fixed by a2118a14)",
            summary: "wait_for cancelled after its inner acquire finished raises CancelledError \
                  and drops the connection the acquire returned (requests with wait_for)",
        },
    ];
}
