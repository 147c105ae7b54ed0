//! Outcome classes: how each request of one execution ended, jcstress-style, for models and
//! real crates alike.
//!
//! A request's class is decided from ground truth, not from the error alone: what the server
//! processed ("processed") and how many HEADERS frames carried the request ("attempts"). The
//! error only decides whether an unprocessed failure told the caller it is safe to retry. The
//! real-crate runner gathers these facts from the wire and its scripted servers; a model's come
//! from its ghost log ([`model_outcomes`]), so the differential check compares the two with one
//! classifier.

use poolcheck_models::sync::{Event, Ghost, Outcome, RecordKind};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
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

/// Requests per class.
pub type OutcomeCounts = BTreeMap<OutcomeClass, u64>;

/// The class of every request of one model execution, in request order, from its probes:
/// `RequestFinished` gives the ending (a response; `RetryableError` is an error with the
/// retry-safe signal, told to the caller, so no retry layer is assumed), the request's streams
/// (`StreamOpened`) give its `HeadersSent` (attempts) and `PeerProcessed` (processed). A
/// cancelled request is the caller's choice, not an outcome the real crates' scripts produce,
/// and is left out; a request without `RequestFinished` is `hung`.
pub fn model_outcomes(g: &Ghost) -> Vec<OutcomeClass> {
    let mut facts: BTreeMap<u32, Facts> = BTreeMap::new();
    let mut stream_of: BTreeMap<(u32, u32), u32> = BTreeMap::new();
    let mut cancelled = Vec::new();
    for r in &g.log {
        let RecordKind::Probe(e) = &r.kind else {
            continue;
        };
        match e {
            Event::RequestStarted { req } => {
                facts.entry(*req).or_insert(Facts {
                    ending: None,
                    processed: 0,
                    attempts: 0,
                    retry_layer: false,
                });
            }
            Event::StreamOpened { conn, stream, req } => {
                stream_of.insert((*conn, *stream), *req);
            }
            Event::HeadersSent { conn, stream } => {
                if let Some(f) = stream_of
                    .get(&(*conn, *stream))
                    .and_then(|q| facts.get_mut(q))
                {
                    f.attempts += 1;
                }
            }
            Event::PeerProcessed { conn, stream } => {
                if let Some(f) = stream_of
                    .get(&(*conn, *stream))
                    .and_then(|q| facts.get_mut(q))
                {
                    f.processed += 1;
                }
            }
            Event::RequestFinished { req, outcome } => match facts.get_mut(req) {
                Some(_) if *outcome == Outcome::Cancelled => cancelled.push(*req),
                Some(f) => f.ending = Some(ending_of(outcome)),
                None => {}
            },
            _ => {}
        }
    }
    facts
        .iter()
        .filter(|(req, _)| !cancelled.contains(req))
        .map(|(_, f)| classify(f))
        .collect()
}

fn ending_of(outcome: &Outcome) -> Ending {
    let error = |chain: &str, retry_signal| Ending::Error {
        chain: chain.to_owned(),
        retry_signal,
    };
    match outcome {
        Outcome::Response => Ending::Response(200),
        Outcome::RetryableError(why) => error(why, true),
        Outcome::Error(why) => error(why, false),
        Outcome::Cancelled => error("cancelled", false),
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
