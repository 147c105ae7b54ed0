//! Outcome classes: how each request of one execution ended, jcstress-style.
//!
//! A request's class is decided from ground truth, not from the error alone: the scripted
//! server records every request its handler accepted ("processed"), and the wire log counts the
//! HEADERS frames that carried the request ("attempts"). The error only decides whether an
//! unprocessed failure told the caller it is safe to retry.

use serde::{Deserialize, Serialize};
use std::fmt;

/// How one request ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum OutcomeClass {
    /// A response, on the first attempt.
    Ok,
    /// A response, after the request went out more than once (the server saw an attempt that
    /// it refused or never processed, and a retry layer sent it again).
    OkAfterRetry,
    /// No response; the server never processed it, and the error says so (RST_STREAM
    /// REFUSED_STREAM, or a GOAWAY from the peer). The caller has no retry layer and was told.
    RefusedRetryable,
    /// No response; the server never processed it, but either the error does not say it is
    /// safe to retry, or the subject has a retry layer (hyper-util's pool) that did not retry.
    FailedUnprocessedNotRetried,
    /// No response, after the server's handler had accepted the request.
    FailedAfterProcessing,
    /// Never finished: the execution deadlocked or hung with the request outstanding.
    Hung,
}

impl OutcomeClass {
    /// Every class, in report order.
    pub const ALL: [OutcomeClass; 6] = [
        OutcomeClass::Ok,
        OutcomeClass::OkAfterRetry,
        OutcomeClass::RefusedRetryable,
        OutcomeClass::FailedUnprocessedNotRetried,
        OutcomeClass::FailedAfterProcessing,
        OutcomeClass::Hung,
    ];

    /// The kebab-case name used in scenario files and reports.
    pub fn name(self) -> &'static str {
        match self {
            OutcomeClass::Ok => "ok",
            OutcomeClass::OkAfterRetry => "ok-after-retry",
            OutcomeClass::RefusedRetryable => "refused-retryable",
            OutcomeClass::FailedUnprocessedNotRetried => "failed-unprocessed-not-retried",
            OutcomeClass::FailedAfterProcessing => "failed-after-processing",
            OutcomeClass::Hung => "hung",
        }
    }

    /// What the class means, in words (for `poolcheck list`).
    pub fn meaning(self) -> &'static str {
        match self {
            OutcomeClass::Ok => "a response, on the first attempt",
            OutcomeClass::OkAfterRetry => "a response after a retry crossed the wire",
            OutcomeClass::RefusedRetryable => {
                "no response, never processed, and the error says it is safe to retry"
            }
            OutcomeClass::FailedUnprocessedNotRetried => {
                "no response, never processed, but not retried or not said to be retryable"
            }
            OutcomeClass::FailedAfterProcessing => "no response after the handler accepted it",
            OutcomeClass::Hung => "never finished (always forbidden)",
        }
    }

    /// The class named `name`.
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|c| c.name() == name)
    }
}

impl fmt::Display for OutcomeClass {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// What a scenario says about a class.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Disposition {
    /// Expected; counted.
    Acceptable,
    /// A violation: the first execution that shows it is the counterexample.
    Forbidden,
    /// Allowed but worth a reader's attention (a known upstream limitation); counted and
    /// listed in the report.
    Interesting,
}

impl Disposition {
    /// The kebab-case name.
    pub fn name(self) -> &'static str {
        match self {
            Disposition::Acceptable => "acceptable",
            Disposition::Forbidden => "forbidden",
            Disposition::Interesting => "interesting",
        }
    }
}

/// What the client saw when a request ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Ending {
    /// A response with this status, its body read to the end.
    Response(u16),
    /// An error: its source chain in words, and whether it carries a retry-safe signal.
    Error {
        /// `outer: inner: innermost`.
        chain: String,
        /// REFUSED_STREAM, or a GOAWAY initiated by the peer, somewhere in the chain.
        retry_signal: bool,
    },
}

/// Everything the classifier needs about one request.
#[derive(Clone, Debug)]
pub struct Facts {
    /// How it ended; `None`: it never did.
    pub ending: Option<Ending>,
    /// Times the server's handler accepted it.
    pub processed: u32,
    /// HEADERS frames that carried it, on any connection.
    pub attempts: u32,
    /// Whether the subject has its own retry layer (hyper-util's pool).
    pub retry_layer: bool,
}

/// The class of one request.
pub fn classify(f: &Facts) -> OutcomeClass {
    match &f.ending {
        None => OutcomeClass::Hung,
        Some(Ending::Response(_)) if f.attempts > 1 => OutcomeClass::OkAfterRetry,
        Some(Ending::Response(_)) => OutcomeClass::Ok,
        Some(Ending::Error { .. }) if f.processed > 0 => OutcomeClass::FailedAfterProcessing,
        Some(Ending::Error { retry_signal, .. }) if *retry_signal && !f.retry_layer => {
            OutcomeClass::RefusedRetryable
        }
        Some(Ending::Error { .. }) => OutcomeClass::FailedUnprocessedNotRetried,
    }
}

/// The retry-safe signal of an error chain: an `h2::Error` that is a REFUSED_STREAM reset or a
/// GOAWAY the peer sent.
pub fn error_facts(e: &(dyn std::error::Error + 'static)) -> Ending {
    let mut chain = Vec::new();
    let mut retry_signal = false;
    let mut cur = Some(e);
    while let Some(err) = cur {
        chain.push(err.to_string());
        if let Some(h) = err.downcast_ref::<h2::Error>() {
            retry_signal |=
                h.reason() == Some(h2::Reason::REFUSED_STREAM) || (h.is_go_away() && h.is_remote());
        }
        cur = err.source();
    }
    chain.dedup();
    Ending::Error {
        chain: chain.join(": "),
        retry_signal,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn facts(ending: Option<Ending>, processed: u32, attempts: u32, layer: bool) -> Facts {
        Facts {
            ending,
            processed,
            attempts,
            retry_layer: layer,
        }
    }

    fn err(signal: bool) -> Option<Ending> {
        Some(Ending::Error {
            chain: "e".into(),
            retry_signal: signal,
        })
    }

    #[test]
    fn names_round_trip() {
        for c in OutcomeClass::ALL {
            assert_eq!(OutcomeClass::from_name(c.name()), Some(c));
        }
    }

    #[test]
    fn classes_follow_ground_truth() {
        use OutcomeClass::*;
        assert_eq!(classify(&facts(None, 0, 1, false)), Hung);
        assert_eq!(
            classify(&facts(Some(Ending::Response(200)), 1, 1, false)),
            Ok
        );
        assert_eq!(
            classify(&facts(Some(Ending::Response(200)), 1, 2, true)),
            OkAfterRetry
        );
        assert_eq!(
            classify(&facts(err(true), 1, 1, false)),
            FailedAfterProcessing
        );
        assert_eq!(classify(&facts(err(true), 0, 1, false)), RefusedRetryable);
        assert_eq!(
            classify(&facts(err(false), 0, 1, false)),
            FailedUnprocessedNotRetried
        );
        assert_eq!(
            classify(&facts(err(true), 0, 1, true)),
            FailedUnprocessedNotRetried
        );
    }
}
