//! The requests in flight, and the peer that stops reading (`peer_stops_reading`).
//!
//! Every request's start and end goes through [`InFlight`], which probes them. With the option
//! on it also keeps them, so that a close or a command write can really block: the peer stops
//! reading, and resumes only once every request of the other actors has finished (its other
//! traffic drained). A stalled actor holding a lock then shows as what it is: a request waiting
//! for that lock never finishes, the stall never ends, and `request-answered` names both.
//! Abstraction: a real stall ends with a timeout or a reset; this one ends when nothing else is
//! in flight, which is the longest a correct pool can be made to wait.

use crate::sync::{current_actor, probe, ActorId, Condvar, Event, LockClass, Mutex, Outcome};
use std::collections::BTreeMap;

/// Requests in flight, and the stall of a peer that stopped reading.
pub struct InFlight {
    stalls: bool,
    open: Mutex<BTreeMap<u32, ActorId>>,
    drained: Condvar,
}

impl InFlight {
    /// `stalls`: the peer stops reading (closes and writes block).
    pub fn new(stalls: bool) -> Self {
        InFlight {
            stalls,
            open: Mutex::new(
                "peer.in_flight",
                LockClass::blocking_ok("peer"),
                BTreeMap::new(),
            ),
            drained: Condvar::new("peer: the other actors' requests finished"),
        }
    }

    /// Request `req` starts on the current actor.
    pub fn started(&self, req: u32) {
        probe(Event::RequestStarted { req });
        if self.stalls {
            self.open.lock().insert(req, current_actor());
        }
    }

    /// Request `req` ends with `outcome`.
    pub fn finished(&self, req: u32, outcome: Outcome) {
        probe(Event::RequestFinished { req, outcome });
        if self.stalls {
            self.open.lock().remove(&req);
            self.drained.notify_all();
        }
    }

    /// A close or write to the peer, after its `blocking` declaration: with a peer that stopped
    /// reading it returns only once no other actor has a request in flight.
    pub fn stall(&self) {
        if !self.stalls {
            return;
        }
        let me = current_actor();
        let mut open = self.open.lock();
        while open.values().any(|a| *a != me) {
            open = self.drained.wait(open);
        }
    }
}
