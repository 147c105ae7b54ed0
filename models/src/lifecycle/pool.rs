//! A small asyncio connection pool whose connections are born through the lifecycle: a
//! subprocess transport and its post-init ([`SubprocessTransport::create`]) or a named-pipe
//! connection ([`create_pipe_connection`]).
//!
//! This is a pool of our own design, not an upstream file: the httpcore model had not landed when
//! this was written. It is meant to be unified with the httpcore pool later (httpcore's
//! `AsyncConnectionPool` would then create its connections through this lifecycle), and keeps to
//! the shape every pool shares so that the lifecycle's bugs show up as pool bugs:
//! - capacity is a semaphore of `max_connections` permits; a connection holds one from the start
//!   of its connection attempt until it is closed, so the pool's capacity never shrinks as long
//!   as every attempt gives its permit back;
//! - a request takes an idle connection, or a free permit and starts a connection attempt, or
//!   waits (`await condition.wait()`) for either;
//! - the connection attempt runs in the requester's task: if the requester is cancelled while it
//!   connects, the attempt is cancelled with it and reclaimed (the lifecycle closes what it
//!   opened; the pool frees the permit and wakes a waiter), never orphaned;
//! - a connection whose peer went away (process exited, pipe closed) during the request fails
//!   the request with an error and is closed; a healthy one goes back to the idle list;
//! - a request may acquire through `asyncio.wait_for(pool.acquire(), timeout)`, as asyncpg's
//!   pool and connect path do: the acquire is then the inner task and the requester resumes one
//!   loop step after it finishes (`wait_for_resumes`, bpo-37658).
//!
//! The pool's state lives in a facade [`Mutex`] (`asyncio.Condition`'s lock: acquiring it is an
//! await) with a [`Condvar`] for the waits; at the end of an execution the pool closes its idle
//! connections.

use super::connect_pipe::create_pipe_connection;
use super::event_loop::{ConnectError, Loop, Transport};
use super::transport::SubprocessTransport;
use super::variant::WaitForCancel;
use crate::sync::{
    probe, probe_phase, CloseReason, Condvar, ConnPhase, Event, LockClass, Mutex, Outcome,
    Semaphore,
};

/// How the pool connects.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Connector {
    /// A worker subprocess with `pipes` pipes (`subprocess_exec` + post-init).
    Spawn {
        /// Pipes to connect during post-init.
        pipes: usize,
    },
    /// A named pipe (`create_pipe_connection`), busy for `busy` attempts.
    Pipe {
        /// `ConnectPipe` attempts that find the pipe busy.
        busy: u32,
    },
}

/// The pool's configuration.
#[derive(Clone, Copy, Debug)]
pub struct Config {
    /// Connections open at most (connecting, idle or in use).
    pub max_connections: u32,
    /// How connections are made.
    pub connector: Connector,
}

#[derive(Default)]
struct State {
    idle: Vec<Transport>,
}

/// How one request gets its connection.
#[derive(Clone, Copy, Debug, Default)]
pub struct Request {
    /// With the spawn connector, the pipe whose connection fails if this request has to connect.
    pub fail_at: Option<usize>,
    /// The acquire runs inside `asyncio.wait_for(pool.acquire(), timeout)`.
    pub wait_for: bool,
}

/// The requester resumes from `wait_for`'s `await waiter` after the inner acquire finished with
/// `t` (its done callback released the waiter; the wakeup is one more loop step, in which the
/// requester can be cancelled). `None`: `t` was dropped.
///
/// python/cpython `Lib/asyncio/tasks.py`, `wait_for` (line numbers of the Tulip twins): the
/// acquire is the inner task `fut`, and a cancellation of the requester is delivered in `await
/// waiter` whatever `fut` did meanwhile. v3.4.2 (340-378) has no handler there: the
/// `CancelledError` leaves `wait_for` and `fut` runs on. bpo-23219 (3.4.3, 367-374; the same
/// handler up to 3.8.5, whose line numbers we did not read) cancels it:
/// `fut.remove_done_callback(cb); fut.cancel(); raise`. a2118a14 returns the result of a done
/// `fut`. How a cancellation reaches an acquire still running is [`Pool::acquire_through_wait_for`]'s
/// business; only the finished case is decided here.
fn wait_for_resumes(lp: &Loop, me: &str, t: Transport) -> Option<Transport> {
    if lp.await_point(me, "wait_for: await waiter").is_ok() {
        return Some(t);
    }
    match lp.variant().wait_for_cancel() {
        WaitForCancel::ReturnsDoneResult => {
            // a2118a14: `if fut.done(): return fut.result()`; the cancellation is spent.
            lp.consume_cancel(me);
            Some(t)
        }
        WaitForCancel::CancelsInner | WaitForCancel::LeavesInnerRunning => {
            // `raise` (after `fut.cancel()` since bpo-23219, which does nothing to a finished
            // task): its result, the connection, is never read.
            drop_connection(&t);
            None
        }
    }
}

/// Nobody will read the connection `t` a finished acquire returned.
fn drop_connection(t: &Transport) {
    probe(Event::Note(format!(
        "wait_for raises CancelledError and drops connection {}",
        t.id()
    )));
}

/// The pool.
pub struct Pool {
    config: Config,
    state: Mutex<State>,
    changed: Condvar,
    capacity: Semaphore,
}

impl Pool {
    /// An empty pool.
    pub fn new(config: Config) -> Self {
        probe(Event::PoolLimit {
            max_connections: config.max_connections,
        });
        Pool {
            config,
            state: Mutex::new(
                "pool.cond",
                LockClass::non_blocking("pool"),
                State::default(),
            ),
            changed: Condvar::new("pool.cond: connection returned, permit freed or cancelled"),
            capacity: Semaphore::new("pool.capacity", i64::from(config.max_connections)),
        }
    }

    /// One request of actor `me`, numbered `req`.
    pub fn request(&self, lp: &Loop, me: &str, req: u32, how: Request) {
        probe(Event::RequestStarted { req });
        lp.begin_cancellable(me);
        let outcome = self.serve(lp, me, req, how);
        lp.end_cancellable(me);
        probe(Event::RequestFinished { req, outcome });
    }

    fn serve(&self, lp: &Loop, me: &str, req: u32, how: Request) -> Outcome {
        let acquired = if how.wait_for {
            self.acquire_through_wait_for(lp, me, how.fail_at)
        } else {
            self.acquire(lp, me, how.fail_at)
        };
        let conn = match acquired {
            Ok(t) => t,
            Err(outcome) => return outcome,
        };
        probe(Event::RequestAssigned {
            req,
            conn: conn.id(),
        });
        self.exchange(lp, me, conn)
    }

    /// `await asyncio.wait_for(pool.acquire(), timeout)`. Since bpo-23219 a cancellation of the
    /// requester reaches the acquire still running at its next await (`fut.cancel()`), which
    /// [`Pool::acquire`] does as it is. In v3.4.2 it does not: the acquire runs on, unaware,
    /// and whatever it returns is dropped, since the requester left `wait_for` when it was
    /// cancelled. Abstraction: the model's requester reports its cancellation when that acquire
    /// ends, not at once (the inner task is not a task of its own); if the acquire waits for
    /// good, so does the request.
    fn acquire_through_wait_for(
        &self,
        lp: &Loop,
        me: &str,
        fail_at: Option<usize>,
    ) -> Result<Transport, Outcome> {
        if lp.variant().wait_for_cancel() != WaitForCancel::LeavesInnerRunning {
            let t = self.acquire(lp, me, fail_at)?;
            return wait_for_resumes(lp, me, t).ok_or(Outcome::Cancelled);
        }
        let acquired = lp.unaware_of_cancel(me, || self.acquire(lp, me, fail_at));
        if lp.cancel_requested(me) {
            if let Ok(t) = &acquired {
                drop_connection(t);
            }
            return Err(Outcome::Cancelled);
        }
        wait_for_resumes(lp, me, acquired?).ok_or(Outcome::Cancelled)
    }

    /// An idle connection, or a new one through the lifecycle, or why there is none.
    fn acquire(&self, lp: &Loop, me: &str, fail_at: Option<usize>) -> Result<Transport, Outcome> {
        match self.checkout(lp, me) {
            Err(()) => Err(Outcome::Cancelled),
            Ok(Some(t)) => {
                probe_phase(t.id(), ConnPhase::Active);
                Ok(t)
            }
            Ok(None) => self.connect(lp, me, fail_at),
        }
    }

    /// An idle connection (`Some`), a permit for a new one (`None`), or cancelled.
    fn checkout(&self, lp: &Loop, me: &str) -> Result<Option<Transport>, ()> {
        let mut st = self.state.lock();
        loop {
            if lp.cancel_requested(me) {
                return Err(());
            }
            if let Some(t) = st.idle.pop() {
                return Ok(Some(t));
            }
            if self.capacity.try_acquire() {
                return Ok(None);
            }
            st = self.changed.wait(st);
        }
    }

    /// A connection attempt holding one permit; on failure or cancellation it is reclaimed.
    fn connect(&self, lp: &Loop, me: &str, fail_at: Option<usize>) -> Result<Transport, Outcome> {
        let conn = lp.reserve_transport_id();
        probe(Event::ConnCreated { conn });
        probe(Event::ResourceOpened {
            kind: "conn",
            id: conn,
        });
        probe_phase(conn, ConnPhase::Connecting);
        let attempt = match self.config.connector {
            Connector::Spawn { pipes } => SubprocessTransport::create(lp, me, conn, pipes, fail_at),
            Connector::Pipe { busy } => create_pipe_connection(lp, me, conn, busy),
        };
        match attempt {
            Ok(t) => {
                probe_phase(conn, ConnPhase::Active);
                Ok(t)
            }
            Err(ConnectError::Cancelled) => {
                self.forget(conn, CloseReason::Owner);
                Err(Outcome::Cancelled)
            }
            Err(ConnectError::Failed) => {
                self.forget(conn, CloseReason::Error);
                Err(Outcome::Error("connection attempt failed".into()))
            }
        }
    }

    /// Send the request and await the response on `t`; return it to the pool or close it.
    fn exchange(&self, lp: &Loop, me: &str, t: Transport) -> Outcome {
        let sent = lp.await_point(me, "send the request, await the response");
        let (outcome, reason) = match sent {
            Err(_) => (Outcome::Cancelled, CloseReason::Owner),
            Ok(()) if t.peer_gone() => {
                (Outcome::Error("connection lost".into()), CloseReason::Error)
            }
            Ok(()) => {
                self.release(t);
                return Outcome::Response;
            }
        };
        t.close(lp);
        self.forget(t.id(), reason);
        outcome
    }

    /// A healthy connection goes back to the idle list.
    fn release(&self, t: Transport) {
        probe_phase(t.id(), ConnPhase::Idle { expire_at: None });
        probe(Event::ConnPooled { conn: t.id() });
        self.state.lock().idle.push(t);
        self.changed.notify_all();
    }

    /// The pool stops counting connection `conn`: its permit is free again.
    fn forget(&self, conn: u32, reason: CloseReason) {
        probe(Event::ConnClosed { conn, reason });
        probe(Event::ResourceClosed {
            kind: "conn",
            id: conn,
        });
        let st = self.state.lock();
        self.capacity.release();
        drop(st);
        self.changed.notify_all();
    }

    /// Wake waiting requests so that a cancelled one sees its cancellation.
    pub fn wake(&self) {
        let st = self.state.lock();
        drop(st);
        self.changed.notify_all();
    }

    /// Close every idle connection (the end of an execution).
    pub fn close(&self, lp: &Loop) {
        let idle = std::mem::take(&mut self.state.lock().idle);
        for t in idle {
            t.close(lp);
            self.forget(t.id(), CloseReason::Owner);
        }
    }
}

#[cfg(test)]
#[path = "pool_tests.rs"]
mod tests;
