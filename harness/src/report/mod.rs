//! Counterexample reports: the value, its replay command, and its renderings (text in
//! [`crate::trace`], Markdown, versioned JSON, self-contained HTML), and where they are written.

mod counterexample;
#[cfg(test)]
mod example;
pub mod html;
pub mod json;
mod ladder;
pub mod markdown;
mod replay;
pub mod write;

pub use counterexample::{budget, trace_of, Counterexample, Origin, Simplicity, REPORT_VERSION};
#[cfg(test)]
pub(crate) use example::example;
pub use html::render_html;
pub use json::{from_json, to_json};
pub use markdown::render_markdown;
pub use replay::replay_model;
pub use write::{sanitise, write_atomic, write_reports, write_reports_with, ReportPaths};
