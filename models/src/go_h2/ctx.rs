//! Request cancellation: a request's `context.Context`, the selects that watch its `Done()`
//! channel, and the goroutines the transport starts for a request (its body writer, the watcher
//! of `awaitOpenSlotForRequest`).
//!
//! Upstream: golang/net `http2/transport.go` at 4e4d966f. `roundTrip` (1075-1287) selects on
//! `ctx.Done()` in two places: with `cc.reqHeaderMu <- struct{}{}` (1097-1106: a cancelled
//! request returns its stream reservation and `ctx.Err()`), and in its wait for the response
//! (1255-1286: `handleError` writes RST_STREAM or stops the body writer, then forgets the
//! stream). `awaitOpenSlotForRequest` (1289-1327) waits on `cc.cond`, which cannot be selected
//! with a channel, so it starts a goroutine, `awaitRequestCancel(req, waitingForConn)`
//! (337-350), that on cancellation takes `cc.mu`, sets `waitingForConnErr` and broadcasts;
//! closing `waitingForConn` ends it. Go's mutexes (`cc.mu`, `cc.wmu`, the pool's `p.mu`) are not
//! selectable: a request blocked on one does not see its cancellation (golang/go#23559).
//!
//! A scenario cancels with `{ op = "cancel", target = "B" }`: the context of `B`'s request that
//! runs now, or of its next one if none runs (the context exists before `RoundTrip` is
//! called, as `context.WithTimeout` before `client.Do`). A request of an actor no `cancel`
//! targets runs with `context.Background()`, whose `Done()` is nil: `awaitRequestCancel`
//! returns at once for it (337-341), so the model starts no watcher for it and its selects
//! have no cancellation case, as upstream. `{ op = "request", deadline = true }` gives a
//! request a context with a deadline that does not pass within the execution: watched, never
//! cancelled.
//!
//! Abstractions: when a select finds its channel ready and the context done at once, Go picks
//! one at random; the model takes the channel in the response wait and the cancellation at
//! `reqHeaderMu` (the scheduler still orders the cancellation before or after either). The
//! cancellation after the response HEADERS (`cs.awaitRequestCancel` while the body is read,
//! 2206) is not modelled: a request whose response arrived is answered.

use super::client_conn::{ClientConn, ClientStream, ReqErr};
use crate::sync::{probe, spawn, Condvar, Event, JoinHandle, LockClass, Mutex, Plain};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

/// The goroutines the transport starts (read loops, body writers, cancellation watchers),
/// joined at the end of the execution.
pub struct Goroutines {
    handles: Plain<Vec<JoinHandle<()>>>,
    /// Watchers started so far (they are numbered from 1 for `no-leak`).
    watchers: Plain<u32>,
}

impl Goroutines {
    /// None started yet.
    pub fn new() -> Self {
        Goroutines {
            handles: Plain::new(Vec::new()),
            watchers: Plain::new(0),
        }
    }

    /// `go f()`, named `name` in traces.
    pub fn go(&self, name: &str, f: impl FnOnce() + Send + 'static) {
        let handle = spawn(name, f);
        self.handles.with(|h| h.push(handle));
    }

    /// Wait for every goroutine started (the caller has torn down what they wait on).
    pub fn join_all(&self) {
        let handles = self.handles.with(std::mem::take);
        for h in handles {
            h.join();
        }
    }
}

impl Default for Goroutines {
    fn default() -> Self {
        Self::new()
    }
}

/// What a request selecting on `ctx.Done()` waits on besides, so that a cancellation wakes it.
#[derive(Clone)]
enum Waiter {
    /// `case cc.reqHeaderMu <- struct{}{}` (the ticket is the request's number).
    HeaderMu(Arc<ClientConn>, u64),
    /// `roundTrip`'s wait on `cs.resc`, `cs.peerReset` and `bodyWriter.resc`.
    Response(Arc<ClientStream>),
}

#[derive(Default)]
struct CtxState {
    /// The request using this context (once it started).
    req: Option<u32>,
    cancelled: bool,
    /// The execution is over: blocked watchers stop (the program exits).
    torn_down: bool,
    waiting: Option<Waiter>,
    /// `waitingForConn` channels closed so far, by watcher number.
    closed_watches: BTreeSet<u32>,
}

/// A request's `context.Context` (class `internal`: the runtime's channel, not a lock of the
/// original).
pub struct ReqCtx {
    state: Mutex<CtxState>,
    done: Condvar,
}

/// How a watcher's `select` ended.
enum WatchEnd {
    Cancelled,
    Closed,
    TornDown,
}

impl ReqCtx {
    fn new(actor: &str) -> Self {
        ReqCtx {
            state: Mutex::new(
                format!("{actor}.ctx"),
                LockClass::internal("ctx"),
                CtxState::default(),
            ),
            done: Condvar::new(format!("{actor}.ctx: Done or waitingForConn")),
        }
    }

    /// Request `req` runs with this context; a cancellation that came first is reported now.
    fn bind(&self, req: u32) {
        let mut s = self.state.lock();
        s.req = Some(req);
        if s.cancelled {
            probe(Event::RequestCancelled { req });
        }
    }

    /// `cancel()`: close `Done()`, waking the select the request waits in and its watchers.
    fn cancel(&self) {
        let mut s = self.state.lock();
        if s.cancelled {
            return;
        }
        s.cancelled = true;
        if let Some(req) = s.req {
            probe(Event::RequestCancelled { req });
        }
        let waiter = s.waiting.clone();
        drop(s);
        self.done.notify_all();
        match waiter {
            Some(Waiter::HeaderMu(cc, ticket)) => cc.req_header_mu.abandon(ticket),
            Some(Waiter::Response(cs)) => cs.wake(),
            None => {}
        }
    }

    /// Is `Done()` closed?
    pub fn is_cancelled(&self) -> bool {
        self.state.lock().cancelled
    }

    fn set_waiting(&self, w: Option<Waiter>) {
        self.state.lock().waiting = w;
    }

    /// `select { case cc.reqHeaderMu <- struct{}{}: ...; case <-ctx.Done(): ... }`: the slot,
    /// or `None` once cancelled.
    pub fn select_req_header_mu<'a>(
        &self,
        cc: &'a Arc<ClientConn>,
        req: u32,
    ) -> Option<crate::sync::SlotGuard<'a>> {
        let ticket = u64::from(req);
        self.set_waiting(Some(Waiter::HeaderMu(cc.clone(), ticket)));
        let slot = if self.is_cancelled() {
            None
        } else {
            cc.req_header_mu.acquire_unless(Some(ticket))
        };
        self.set_waiting(None);
        slot
    }

    /// `roundTrip` is about to wait for `cs`'s channels: a cancellation must wake it there.
    pub fn watch_response(&self, cs: &Arc<ClientStream>) {
        self.set_waiting(Some(Waiter::Response(cs.clone())));
    }

    /// `roundTrip` stopped waiting for its stream's channels.
    pub fn unwatch(&self) {
        self.set_waiting(None);
    }

    /// `close(waitingForConn)`.
    fn close_watch(&self, watch: u32) {
        self.state.lock().closed_watches.insert(watch);
        self.done.notify_all();
    }

    /// The watcher's `select` over `ctx.Done()` and `waitingForConn`.
    fn await_cancel_or_close(&self, watch: u32) -> WatchEnd {
        let mut s = self.state.lock();
        loop {
            if s.cancelled {
                return WatchEnd::Cancelled;
            }
            if s.closed_watches.contains(&watch) {
                return WatchEnd::Closed;
            }
            if s.torn_down {
                return WatchEnd::TornDown;
            }
            s = self.done.wait(s);
        }
    }

    fn tear_down(&self) {
        self.state.lock().torn_down = true;
        self.done.notify_all();
    }
}

/// The watcher `awaitOpenSlotForRequest` started for one wait: its `waitingForConn` and the
/// `waitingForConnErr` it sets (guarded by `cc.mu`).
pub struct SlotWatch {
    ctx: Arc<ReqCtx>,
    id: u32,
    /// `waitingForConnErr`, read and written with `cc.mu` held.
    pub err: Arc<Plain<Option<ReqErr>>>,
}

/// The resource kind `no-leak` names a watcher that never ended by.
pub const WATCHER: &str = "awaitRequestCancel goroutine";

impl SlotWatch {
    /// `go func() { if err := awaitRequestCancel(req, waitingForConn); err != nil { cc.mu.Lock();
    /// waitingForConnErr = err; cc.cond.Broadcast(); cc.mu.Unlock() } }()` (1310-1318).
    pub fn start(ctx: &Arc<ReqCtx>, cc: &Arc<ClientConn>) -> SlotWatch {
        let id = cc.goroutines.watchers.with(|n| {
            *n += 1;
            *n
        });
        let err = Arc::new(Plain::new(None));
        probe(Event::ResourceOpened { kind: WATCHER, id });
        let (ctx2, cc2, err2) = (ctx.clone(), cc.clone(), err.clone());
        let name = format!("cc{}.awaitRequestCancel{id}", cc.id);
        cc.goroutines
            .go(&name, move || match ctx2.await_cancel_or_close(id) {
                WatchEnd::Cancelled => {
                    let st = cc2.mu.lock();
                    err2.set(Some(ReqErr::Canceled));
                    drop(st);
                    cc2.cond.notify_all();
                    probe(Event::ResourceClosed { kind: WATCHER, id });
                }
                WatchEnd::Closed => probe(Event::ResourceClosed { kind: WATCHER, id }),
                WatchEnd::TornDown => {} // still blocked when the program ended
            });
        SlotWatch {
            ctx: ctx.clone(),
            id,
            err,
        }
    }

    /// `close(waitingForConn)`.
    pub fn close(&self) {
        self.ctx.close_watch(self.id);
    }
}

/// The contexts of one execution, by actor.
pub struct Contexts {
    /// Actors some `cancel` operation targets.
    targets: BTreeSet<String>,
    /// actor -> the context of its running (or next) request.
    current: Plain<BTreeMap<String, Arc<ReqCtx>>>,
    /// Every context made, torn down at the end.
    all: Plain<Vec<Arc<ReqCtx>>>,
}

impl Contexts {
    /// `targets`: the actors a `cancel` operation may reach.
    pub fn new(targets: BTreeSet<String>) -> Self {
        Contexts {
            targets,
            current: Plain::new(BTreeMap::new()),
            all: Plain::new(Vec::new()),
        }
    }

    fn current_of(&self, actor: &str) -> Arc<ReqCtx> {
        if let Some(ctx) = self.current.read(|c| c.get(actor).cloned()) {
            return ctx;
        }
        let ctx = Arc::new(ReqCtx::new(actor));
        self.current
            .with(|c| c.insert(actor.to_owned(), ctx.clone()));
        self.all.with(|a| a.push(ctx.clone()));
        ctx
    }

    /// The context of `actor`'s request `req`: `None` (`context.Background()`) unless something
    /// may cancel it or it has a `deadline`.
    pub fn for_request(&self, actor: &str, req: u32, deadline: bool) -> Option<Arc<ReqCtx>> {
        if !deadline && !self.targets.contains(actor) {
            return None;
        }
        let ctx = self.current_of(actor);
        ctx.bind(req);
        Some(ctx)
    }

    /// `actor`'s request is over: its next request gets a new context.
    pub fn finished(&self, actor: &str) {
        self.current.with(|c| c.remove(actor));
    }

    /// `cancel target=...`.
    pub fn cancel(&self, target: &str) {
        self.current_of(target).cancel();
    }

    /// The execution is over: watchers still blocked stop.
    pub fn tear_down(&self) {
        for ctx in self.all.with(std::mem::take) {
            ctx.tear_down();
        }
    }
}

#[cfg(test)]
#[path = "ctx_tests.rs"]
mod tests;
