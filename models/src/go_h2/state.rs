//! The state machines the model keeps for a `ClientConn` and a `clientStream`, with transition
//! functions that reject the moves upstream cannot make (an [`IllegalTransition`]: a bug in the
//! model, reported as `model-panic`, never a verdict on the pool).
//!
//! Upstream keeps these as loose fields guarded by `cc.mu`: `cc.closed` (golang/net
//! `http2/transport.go` at 4e4d966f, line 265) and, per stream, its presence in `cc.streams`
//! (`newStream` 1810-1825 adds it, `streamByID(id, true)` 1831-1849 and the close paths remove
//! it) and `cs.sentHeaders`-like progress that `roundTrip` tracks in local variables. The
//! model names the states so that its own bookkeeping is checked.

use crate::typed::IllegalTransition;

/// A connection's life as `cc.closed` says it:
///
/// ```text
///          close (closeForError, closeIfIdle, read-loop cleanup, d0c6ba3f's idle close)
///   OPEN -----------------------------------------------------------------> CLOSED
///     \__ admit a stream (awaitOpenSlotForRequest, newStream)    close again: stays CLOSED
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ConnLife {
    /// `cc.closed == false`.
    Open,
    /// `cc.closed == true`.
    Closed,
}

impl ConnLife {
    const MACHINE: &'static str = "go-h2 ClientConn";

    /// `cc.closed = true`: from either state (upstream sets it again in `cleanup` after
    /// `closeForError`, and closes `tconn` twice).
    pub fn close(self) -> ConnLife {
        ConnLife::Closed
    }

    /// `newStream` on this connection: only an open one (`awaitOpenSlotForRequest` refuses a
    /// closed one under the same `mu` section).
    pub fn admit_stream(self) -> Result<ConnLife, IllegalTransition> {
        match self {
            ConnLife::Open => Ok(self),
            ConnLife::Closed => Err(IllegalTransition::new(Self::MACHINE, self, "open a stream")),
        }
    }

    /// `cc.closed`.
    pub fn is_closed(self) -> bool {
        self == ConnLife::Closed
    }
}

/// A stream as the client's books see it:
///
/// ```text
///   ALLOCATED --headers written--> HEADERS_SENT
///       \                              |
///        \---------- forget -----------+--> FORGOTTEN (out of cc.streams; nothing leaves it)
/// ```
///
/// `forget` is the one removal from `cc.streams` (`streamByID(id, true)`, `closeForError`,
/// `cleanup`); a second removal of the same stream is a model bug. HEADERS are written at most
/// once, before or after the stream was forgotten (a write may race with a reset).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StreamState {
    /// In `cc.streams`, HEADERS not yet written.
    Allocated,
    /// In `cc.streams`, HEADERS written.
    HeadersSent,
    /// Removed from `cc.streams` before its HEADERS were written.
    ForgottenUnsent,
    /// Removed from `cc.streams` after its HEADERS were written.
    Forgotten,
}

impl StreamState {
    const MACHINE: &'static str = "go-h2 clientStream";

    /// `writeHeaders` succeeded for this stream.
    pub fn headers_sent(self) -> Result<StreamState, IllegalTransition> {
        match self {
            StreamState::Allocated => Ok(StreamState::HeadersSent),
            StreamState::ForgottenUnsent => Ok(StreamState::Forgotten),
            _ => Err(IllegalTransition::new(
                Self::MACHINE,
                self,
                "write its HEADERS again",
            )),
        }
    }

    /// The stream leaves `cc.streams`.
    pub fn forget(self) -> Result<StreamState, IllegalTransition> {
        match self {
            StreamState::Allocated => Ok(StreamState::ForgottenUnsent),
            StreamState::HeadersSent => Ok(StreamState::Forgotten),
            _ => Err(IllegalTransition::new(
                Self::MACHINE,
                self,
                "leave cc.streams again",
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_closed_connection_admits_no_stream_and_closes_again() {
        assert_eq!(ConnLife::Open.admit_stream(), Ok(ConnLife::Open));
        assert!(ConnLife::Closed.admit_stream().is_err());
        assert_eq!(ConnLife::Closed.close(), ConnLife::Closed);
        assert!(ConnLife::Open.close().is_closed());
        assert!(!ConnLife::Open.is_closed());
    }

    #[test]
    fn a_stream_is_sent_once_and_forgotten_once() {
        let sent = StreamState::Allocated.headers_sent().unwrap();
        assert!(sent.headers_sent().is_err());
        let gone = sent.forget().unwrap();
        assert_eq!(gone, StreamState::Forgotten);
        assert!(gone.forget().is_err());
        let early = StreamState::Allocated.forget().unwrap();
        assert_eq!(early.headers_sent(), Ok(StreamState::Forgotten));
    }
}
