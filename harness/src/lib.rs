//! Schedulers, monitors, scenarios and reports for poolcheck.
//!
//! # Limitations
//! - loom explores at most 4 spawned actors per execution; scenarios that need more omit loom.
//! - shuttle replays a recorded schedule only against the same model code; a changed model makes
//!   the replay report where the schedule diverged.
//! - The std backend is a baseline: it may miss bugs and is not deterministic.

pub mod backend;
pub mod generate;
pub mod monitor;
pub mod outcome;
pub mod report;
pub mod scenario;
pub mod trace;
pub mod trial;
