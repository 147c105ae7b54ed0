//! A small blocking connection pool: at most `max` connections, idle ones reused, callers wait
//! for one to come back when the pool is full.
//!
//! Concurrency comes only through the `sync` switch below, so `cargo test` (feature
//! `poolcheck`) explores the pool under poolcheck's schedulers, and a build without the feature
//! is plain std.
//!
//! There are two versions of [`Pool::get`] ([`Version`]): the fixed one counts a new connection
//! before it releases the lock to connect; the buggy one counts it after it connected, so two
//! callers that both saw room open one connection too many. tests/pool.rs shows poolcheck
//! catching the second and passing the first.

mod events;
mod sync;

use sync::{Condvar, Mutex};

/// Which `get` the pool runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Version {
    /// Reserve the connection's place under the lock, then connect without it.
    Fixed,
    /// Connect without the lock, then count the connection: the check and the act are apart.
    CountAfterConnect,
}

/// A connection, numbered in the order the pool opened them.
#[derive(Debug)]
pub struct Conn {
    /// Its number.
    pub id: u32,
}

struct State {
    idle: Vec<Conn>,
    open: usize,
    opened: u32,
}

/// The pool.
pub struct Pool {
    state: Mutex<State>,
    returned: Condvar,
    max: usize,
    version: Version,
}

impl Pool {
    /// A pool of at most `max` connections.
    pub fn new(max: usize, version: Version) -> Self {
        events::pool_created(max);
        Pool {
            state: Mutex::new(State {
                idle: Vec::new(),
                open: 0,
                opened: 0,
            }),
            returned: Condvar::new(),
            max,
            version,
        }
    }

    /// An idle connection, a new one if there is room, or the next one given back.
    pub fn get(&self) -> Conn {
        let mut s = self.state.lock().unwrap();
        loop {
            if let Some(conn) = s.idle.pop() {
                return conn;
            }
            if s.open < self.max {
                return match self.version {
                    Version::Fixed => {
                        s.open += 1;
                        let id = next_id(&mut s);
                        drop(s);
                        connect(id)
                    }
                    Version::CountAfterConnect => {
                        let id = next_id(&mut s);
                        drop(s);
                        let conn = connect(id);
                        self.state.lock().unwrap().open += 1;
                        conn
                    }
                };
            }
            s = self.returned.wait(s).unwrap();
        }
    }

    /// Give a connection back for the next caller.
    pub fn put(&self, conn: Conn) {
        self.state.lock().unwrap().idle.push(conn);
        self.returned.notify_one();
    }
}

fn next_id(s: &mut State) -> u32 {
    s.opened += 1;
    s.opened
}

/// Open connection `id`: the slow part, done without the pool's lock.
fn connect(id: u32) -> Conn {
    sync::thread::yield_now();
    events::connected(id);
    Conn { id }
}
