//! Counterexample reports: the value, its replay command, and its renderings.

mod counterexample;

pub use counterexample::{Counterexample, REPORT_VERSION};
