//! Runtime glue between the real crates and shuttle's async executor, with the known traps
//! handled.
//!
//! - [`Spawner`]: hyper's `Executor`. hyper-util's legacy pool calls `execute()` while it holds
//!   its `std::sync::Mutex` (the pool lock). A shuttle `spawn` is a scheduling point, so a direct
//!   spawn there can switch to a task that then blocks the only OS thread on that std mutex: the
//!   process hangs silently. `execute()` only queues the future and wakes the pump task
//!   ([`pump`]), which spawns it on shuttle once the caller has released its lock. Waking is
//!   not a scheduling point in shuttle.
//! - [`LogicalTimer`]: hyper's `Timer`. Time is logical and never moves unless the scenario
//!   advances it, so a sleep never fires by itself and `now()` is deterministic.
//! - [`config`]: the harness's shuttle `Config` (every field set in code) with 4 MiB stacks (h2
//!   overflows shuttle's default 60 KiB with a silent SIGSEGV), our step bound, no wall-time
//!   bound (the watchdog handles hangs).
//! - [`pick`] / [`delay`]: explored timing, from shuttle's own random source.

use futures::future::BoxFuture;
use shuttle::rand::Rng as _;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex, OnceLock};
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

use crate::scenario::Steps;

/// Stack per shuttle task: h2 needs more than the models.
pub const STACK_SIZE: usize = 4 << 20;

/// The harness's shuttle configuration with our stack, our step bound and no wall-time bound
/// (the watchdog handles hangs).
pub fn config(step_bound: u64) -> shuttle::Config {
    let mut c = poolcheck_harness::backend::shuttle_config(step_bound, None);
    c.stack_size = STACK_SIZE;
    c
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// An explored number of steps in `s.lo..=s.hi`, from shuttle's random source (recorded on
/// the schedule, so replayable). A fixed range draws nothing.
pub fn pick(s: Steps) -> u32 {
    if s.lo == s.hi {
        s.lo
    } else {
        shuttle::rand::thread_rng().gen_range(s.lo..=s.hi)
    }
}

/// Yield to shuttle `n` times.
pub async fn yields(n: u32) {
    for _ in 0..n {
        shuttle::future::yield_now().await;
    }
}

/// Yield an explored number of times.
pub async fn delay(s: Steps) {
    yields(pick(s)).await;
}

#[derive(Default)]
struct Queue {
    pending: Vec<BoxFuture<'static, ()>>,
    pump: Option<Waker>,
    direct: bool,
}

/// hyper's executor: queues futures for the pump task (see the module docs).
#[derive(Clone, Default)]
pub struct Spawner(Arc<Mutex<Queue>>);

impl Spawner {
    /// The trap itself, for demonstrating the watchdog: spawn on shuttle directly, inside
    /// whatever lock the caller holds.
    pub fn direct() -> Self {
        let s = Spawner::default();
        lock(&s.0).direct = true;
        s
    }

    /// Queue `fut`; the pump spawns it on shuttle.
    pub fn spawn(&self, fut: impl Future<Output = ()> + Send + 'static) {
        if lock(&self.0).direct {
            drop(shuttle::future::spawn(fut));
            return;
        }
        let waker = {
            let mut q = lock(&self.0);
            q.pending.push(Box::pin(fut));
            q.pump.take()
        };
        if let Some(w) = waker {
            w.wake();
        }
    }
}

impl<F> hyper::rt::Executor<F> for Spawner
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    fn execute(&self, fut: F) {
        self.spawn(async move {
            let _ = fut.await;
        });
    }
}

/// The pump task: spawns what [`Spawner`] queued, forever (it is detached; shuttle tears it
/// down when the execution ends).
pub async fn pump(spawner: Spawner) {
    loop {
        let batch = std::future::poll_fn(|cx| {
            let mut q = lock(&spawner.0);
            if q.pending.is_empty() {
                q.pump = Some(cx.waker().clone());
                Poll::Pending
            } else {
                Poll::Ready(std::mem::take(&mut q.pending))
            }
        })
        .await;
        for fut in batch {
            drop(shuttle::future::spawn(fut));
        }
    }
}

/// A set-once flag that tasks can wait for.
#[derive(Clone, Default)]
pub struct Gate(Arc<Mutex<GateState>>);

#[derive(Default)]
struct GateState {
    open: bool,
    waiters: Vec<Waker>,
}

impl Gate {
    /// Open it and wake every waiter.
    pub fn open(&self) {
        let waiters = {
            let mut g = lock(&self.0);
            g.open = true;
            std::mem::take(&mut g.waiters)
        };
        waiters.into_iter().for_each(Waker::wake);
    }

    /// Whether it is open; if not, wake `cx` when it opens.
    pub fn poll_open(&self, cx: &mut Context<'_>) -> bool {
        let mut g = lock(&self.0);
        if !g.open && !g.waiters.iter().any(|w| w.will_wake(cx.waker())) {
            g.waiters.push(cx.waker().clone());
        }
        g.open
    }
}

/// The fixed origin of logical time: `now()` is always this plus the logical clock.
fn origin() -> Instant {
    static ORIGIN: OnceLock<Instant> = OnceLock::new();
    *ORIGIN.get_or_init(Instant::now)
}

#[derive(Default)]
struct Clock {
    now: Duration,
    sleepers: Vec<Waker>,
}

/// hyper's timer on logical time: nothing fires until [`LogicalTimer::advance`].
#[derive(Clone, Default)]
pub struct LogicalTimer(Arc<Mutex<Clock>>);

impl LogicalTimer {
    /// Move logical time forward and wake every sleeper (each re-checks its deadline).
    #[allow(dead_code)] // no scenario advances time yet: every sleep stays pending
    pub fn advance(&self, by: Duration) {
        let sleepers = {
            let mut c = lock(&self.0);
            c.now += by;
            std::mem::take(&mut c.sleepers)
        };
        sleepers.into_iter().for_each(Waker::wake);
    }

    fn sleep_at(&self, deadline: Duration) -> Pin<Box<dyn hyper::rt::Sleep>> {
        Box::pin(LogicalSleep {
            clock: self.clone(),
            deadline,
        })
    }
}

impl hyper::rt::Timer for LogicalTimer {
    fn sleep(&self, duration: Duration) -> Pin<Box<dyn hyper::rt::Sleep>> {
        let now = lock(&self.0).now;
        self.sleep_at(now + duration)
    }

    fn sleep_until(&self, deadline: Instant) -> Pin<Box<dyn hyper::rt::Sleep>> {
        self.sleep_at(deadline.saturating_duration_since(origin()))
    }

    fn now(&self) -> Instant {
        origin() + lock(&self.0).now
    }
}

struct LogicalSleep {
    clock: LogicalTimer,
    deadline: Duration,
}

impl Future for LogicalSleep {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let mut c = lock(&self.clock.0);
        if c.now >= self.deadline {
            Poll::Ready(())
        } else {
            if !c.sleepers.iter().any(|w| w.will_wake(cx.waker())) {
                c.sleepers.push(cx.waker().clone());
            }
            Poll::Pending
        }
    }
}

impl hyper::rt::Sleep for LogicalSleep {}
