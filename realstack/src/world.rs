//! The ghost state of one execution: the bytes on every connection as the client end saw them,
//! which requests the servers' handlers accepted, and how each request ended.
//!
//! It lives behind a std mutex, never a shuttle primitive, so recording adds no scheduling
//! points; every section is short and never awaits.

use crate::outcome::Ending;
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Waker};

/// Which way bytes went, seen from the client end of a connection.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Dir {
    /// The client wrote them (client to server).
    ClientWrite,
    /// The client read them (server to client).
    ClientRead,
}

/// One successful read or write.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Chunk {
    /// Connection index (in connect order).
    pub conn: usize,
    /// Direction.
    pub dir: Dir,
    /// The bytes.
    pub bytes: Vec<u8>,
}

/// One request's ground truth.
#[derive(Clone, Debug, Default)]
pub struct RequestState {
    /// Its name.
    pub name: String,
    /// How it ended; `None` while outstanding.
    pub ending: Option<Ending>,
    /// Times a server handler accepted it.
    pub processed: u32,
    /// Times a server refused it with RST_STREAM(REFUSED_STREAM).
    pub refused: u32,
}

/// The state of one execution.
#[derive(Default)]
pub struct World {
    /// Every read and write, in the order they happened.
    pub chunks: Vec<Chunk>,
    /// The host of each connection.
    pub conns: Vec<String>,
    /// The requests, in scenario order.
    pub requests: Vec<RequestState>,
    waiters: Vec<Waker>,
}

/// The shared handle.
#[derive(Clone, Default)]
pub struct Shared(Arc<Mutex<World>>);

impl Shared {
    /// A fresh world for requests named `names`.
    pub fn new(names: impl IntoIterator<Item = String>) -> Self {
        let w = World {
            requests: names
                .into_iter()
                .map(|name| RequestState {
                    name,
                    ..RequestState::default()
                })
                .collect(),
            ..World::default()
        };
        Shared(Arc::new(Mutex::new(w)))
    }

    /// Lock it (poisoning ignored: a panicking execution is reported anyway).
    pub fn lock(&self) -> MutexGuard<'_, World> {
        self.0.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Lock it unless someone holds it (the watchdog's view of a stuck execution).
    pub fn try_lock(&self) -> Option<MutexGuard<'_, World>> {
        match self.0.try_lock() {
            Ok(g) => Some(g),
            Err(std::sync::TryLockError::Poisoned(p)) => Some(p.into_inner()),
            Err(std::sync::TryLockError::WouldBlock) => None,
        }
    }

    /// Register a connection to `host`; returns its index and how many the host had before.
    pub fn add_conn(&self, host: &str) -> (usize, usize) {
        let mut w = self.lock();
        let before = w.conns.iter().filter(|h| *h == host).count();
        w.conns.push(host.to_owned());
        (w.conns.len() - 1, before)
    }

    /// Record bytes on the wire.
    pub fn record(&self, conn: usize, dir: Dir, bytes: &[u8]) {
        if !bytes.is_empty() {
            self.lock().chunks.push(Chunk {
                conn,
                dir,
                bytes: bytes.to_vec(),
            });
        }
    }

    fn request(&self, name: &str, f: impl FnOnce(&mut RequestState)) {
        let mut w = self.lock();
        if let Some(r) = w.requests.iter_mut().find(|r| r.name == name) {
            f(r);
        }
    }

    /// A server handler accepted `name`.
    pub fn processed(&self, name: &str) {
        self.request(name, |r| r.processed += 1);
    }

    /// A server refused `name`; returns how many times it had refused it before.
    pub fn refused(&self, name: &str) -> u32 {
        let mut before = 0;
        self.request(name, |r| {
            before = r.refused;
            r.refused += 1;
        });
        before
    }

    /// `name` ended; wakes every task waiting for requests to end.
    pub fn ended(&self, name: &str, ending: Ending) {
        self.request(name, |r| r.ending = Some(ending));
        let waiters = std::mem::take(&mut self.lock().waiters);
        waiters.into_iter().for_each(Waker::wake);
    }

    /// Whether every request in `names` has ended; if not, wake `cx` when one does.
    pub fn poll_all_ended(&self, names: &[String], cx: &mut Context<'_>) -> bool {
        let mut w = self.lock();
        let all = names.iter().all(|n| {
            w.requests
                .iter()
                .any(|r| &r.name == n && r.ending.is_some())
        });
        if !all && !w.waiters.iter().any(|k| k.will_wake(cx.waker())) {
            w.waiters.push(cx.waker().clone());
        }
        all
    }
}
