//! Cancellation at any await, the one mechanism every model uses.
//!
//! Real cancellation (an anyio cancel scope, asyncio's `Task.cancel`, a Go context, a dropped
//! Rust future) is delivered at an await: the task is suspended there, or reaches it later, and
//! the await raises instead of returning. A model names each await a request may be cancelled
//! at (the `cancel_at` parameter of its operations lists them) and asks [`CancelBook::reach`]
//! right after that await: the scenario's `cancel_at` fires there, and a cancellation another
//! actor delivered earlier (a `cancel target=...` operation, at a moment the scheduler chooses)
//! is observed there. Once cancelled, a request stays cancelled: every later await it reaches
//! raises too (level-triggered, as anyio's and trio's cancel scopes are), unless the model runs
//! that await shielded (it simply does not ask).
//!
//! The book is plain data: a model keeps it where its own state lives (under its pool lock, or
//! in a [`crate::sync::Plain`] cell for an asyncio original whose code between awaits is
//! atomic), so that asking it adds no scheduling point of its own.

use crate::model::{OpInfo, OpSpec, ScenarioSpec};
use crate::sync::{probe, Event};
use std::collections::{BTreeMap, BTreeSet};

/// Which requests are cancelled, and where the scenario cancels the others.
#[derive(Clone, Debug, Default)]
pub struct CancelBook {
    /// req -> the await at which the scenario cancels it (`cancel_at`).
    at: BTreeMap<u32, &'static str>,
    /// Requests cancelled so far.
    cancelled: BTreeSet<u32>,
    /// Requests whose cancellation some await raised already.
    delivered: BTreeSet<u32>,
    /// Requests cancelled again after that (a second `Task.cancel()`).
    again: BTreeSet<u32>,
    /// Requests whose shielded cleanup that second cancellation already interrupted.
    interrupted: BTreeSet<u32>,
}

impl CancelBook {
    /// The scenario cancels `req` when it reaches the await `point` (its `cancel_at`).
    pub fn cancel_at(&mut self, req: u32, point: &'static str) {
        self.at.insert(req, point);
    }

    /// Cancel `req` now (a canceller, a timeout, a dropped future); recorded once, as
    /// [`Event::RequestCancelled`], so that `spurious-error` knows the cancellation happened.
    pub fn cancel(&mut self, req: u32) {
        if self.delivered.contains(&req) {
            self.again.insert(req);
        }
        if self.cancelled.insert(req) {
            probe(Event::RequestCancelled { req });
        }
    }

    /// A cleanup `req` runs shielded after its cancellation was raised: is it interrupted
    /// there, once, by a cancellation that came after that raise? anyio's
    /// `CancelScope(shield=True)` stops anyio cancellation, not a native asyncio
    /// `Task.cancel()`; two calls before the task runs again raise once, so only a later one
    /// counts.
    pub fn interrupts_cleanup(&mut self, req: u32) -> bool {
        self.again.contains(&req) && self.interrupted.insert(req)
    }

    /// Would [`CancelBook::interrupts_cleanup`] say yes? (Read-only, asked first.)
    pub fn would_interrupt_cleanup(&self, req: u32) -> bool {
        self.again.contains(&req) && !self.interrupted.contains(&req)
    }

    /// `req` reaches the await `point`: the scenario's `cancel_at` fires there. Does the await
    /// raise (is `req` cancelled now)?
    pub fn reach(&mut self, req: u32, point: &'static str) -> bool {
        if self.at.get(&req) == Some(&point) {
            self.cancel(req);
        }
        let raises = self.is_cancelled(req);
        if raises {
            self.delivered.insert(req);
        }
        raises
    }

    /// Was `req` cancelled?
    pub fn is_cancelled(&self, req: u32) -> bool {
        self.cancelled.contains(&req)
    }

    /// Would [`CancelBook::reach`] say `req` is cancelled at `point`? (Asked first, so that a
    /// request nothing cancels only reads the book.)
    pub fn raises_at(&self, req: u32, point: &'static str) -> bool {
        self.is_cancelled(req) || self.at.get(&req) == Some(&point)
    }
}

/// The actors some `cancel` operation of `spec` targets (its `target` argument): only their
/// requests look at the book when no `cancel_at` names an await of theirs.
pub fn cancel_targets(spec: &ScenarioSpec) -> BTreeSet<String> {
    let ops = spec.actors.iter().flat_map(|a| &a.ops);
    ops.filter(|op| op.name == "cancel")
        .map(|op| op.args.str("target", "").to_owned())
        .collect()
}

/// A `cancel` operation's `target` must name an actor of `spec`.
pub fn check_target(spec: &ScenarioSpec, target: &str) -> Result<(), String> {
    if spec.actors.iter().any(|x| x.name == target) {
        return Ok(());
    }
    let names: Vec<&str> = spec.actors.iter().map(|x| x.name.as_str()).collect();
    Err(format!(
        "`cancel` targets `{target}`, which is not an actor ({})",
        names.join(", ")
    ))
}

/// The await named by `op`'s `cancel_at` (`None` when it has none), checked against the awaits
/// its `cancel_at` parameter declares in `ops` ([`crate::model::ParamInfo::one_of`]).
pub fn cancel_point(op: &OpSpec, ops: &[OpInfo]) -> Result<Option<&'static str>, String> {
    let name = op.args.str("cancel_at", "");
    if name.is_empty() {
        return Ok(None);
    }
    let info = ops.iter().find(|o| o.name == op.name);
    let param = info.and_then(|o| o.params.iter().find(|p| p.name == "cancel_at"));
    let points = param.map_or(&[][..], |p| p.choices);
    match points.iter().find(|p| **p == name) {
        Some(point) => Ok(Some(*point)),
        None => Err(format!(
            "`{}` has no await `{name}` to cancel at (valid: {})",
            op.name,
            points.join(", ")
        )),
    }
}

#[cfg(test)]
#[path = "cancel_tests.rs"]
mod tests;
