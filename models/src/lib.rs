//! Faithful models of connection pools and HTTP/2 connections, written once against the
//! [`sync`] facade so that loom, shuttle and std threads can all run them.
//!
//! Each model reimplements one upstream file with its lock and await structure intact, and keeps
//! each historical bug as a runtime variant ([`model::VariantInfo`]) so that every variant compiles into
//! one binary.
//!
//! # Limitations
//! - Async originals are modelled as threads whose scheduling points are exactly the original's
//!   awaits (one [`sync::yield_now`] or lock/semaphore operation per await).
//! - loom allows at most four spawned actors per execution.
//! - Time is logical: only explicit [`sync::advance_clock`] steps move it.

pub mod cancel;
#[cfg(test)]
mod check_tests;
pub mod checkout_pool;
pub mod go_h2;
pub mod httpcore;
pub mod lifecycle;
pub mod model;
pub mod sync;
pub mod typed;
