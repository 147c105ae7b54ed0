//! Outcome classes: how each request of one execution ended, jcstress-style. The classes and
//! the classifier are the harness's ([`poolcheck_harness::outcome`]), shared with the models;
//! here are what a scenario says about a class and the retry signal of an h2 error.
//!
//! A request's class is decided from ground truth, not from the error alone: the scripted
//! server records every request its handler accepted ("processed"), and the wire log counts the
//! HEADERS frames that carried the request ("attempts"). The error only decides whether an
//! unprocessed failure told the caller it is safe to retry.

pub use poolcheck_harness::outcome::{classify, Ending, Facts, OutcomeClass};
use serde::{Deserialize, Serialize};

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
