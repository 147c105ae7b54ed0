//! Replaying a model scenario's report: the report must agree with the scenario and with
//! itself (model, variant, scheduler, schedule, preemption bound) before its scheduler is rebuilt
//! and exactly that execution runs again. A family replays its own reports
//! ([`crate::scenario::FamilyScenario::replay`]).

use super::{trace_of, Counterexample};
use crate::backend::{self, decode_schedule, Bounds, Verdict};
use crate::scenario::{hint_for, Replayed, Scenario, UsageError, MAX_PREEMPTION_BOUND};

/// Rerun the execution `c` recorded of `s`.
pub fn replay_model(s: &Scenario, c: &Counterexample) -> Result<Replayed, UsageError> {
    if s.expectation(&c.variant).is_none() && s.model.variant(&c.variant).is_err() {
        return Err(UsageError::new(
            format!(
                "the report's variant `{}` is not a variant of the scenario's model",
                c.variant
            ),
            Some(hint_for(&c.variant, s.variants())),
        ));
    }
    check_report(s, c).map_err(|what| {
        UsageError::new(
            what,
            Some("replay the report as `run` or `gate` wrote it".into()),
        )
    })?;
    let spec = c.replay_scheduler().ok_or_else(|| {
        UsageError::new(
            "it has neither a schedule nor a loom checkpoint to replay",
            Some(
                "std-thread runs are not deterministic; rerun with loom, pct, random or dfs"
                    .to_owned(),
            ),
        )
    })?;
    let run = backend::run(&s.subject(&c.variant), &spec, Bounds::default());
    if let Verdict::InputError(why) = &run.verdict {
        return Err(UsageError::new(
            format!("it does not replay: {why}"),
            Some("rerun the scenario to write a fresh report".to_owned()),
        ));
    }
    Ok(Replayed {
        verdict: run.verdict.name().to_owned(),
        detail: None,
        trace: run.ghost.as_ref().map(|g| trace_of(g, &run.verdict)),
        trace_name: "interleaving",
    })
}

/// Fields of the report that must agree with the scenario and with each other before anything
/// is replayed: the model, the scheduler, the preemption bound, a schedule that decodes.
fn check_report(s: &Scenario, c: &Counterexample) -> Result<(), String> {
    let model = s.model.info().name;
    if c.model != model {
        return Err(format!(
            "the report's model is `{}`, but scenario `{}` explores `{model}`",
            c.model, s.name
        ));
    }
    let shuttle = ["random", "pct", "dfs", "replay", "dpor", "dpor-replay"];
    let loom = ["loom", "loom-replay"];
    match (&c.schedule, &c.loom_checkpoint) {
        (Some(_), Some(_)) => return Err("it has both a schedule and a loom checkpoint".into()),
        (Some(_), None) if !shuttle.contains(&c.scheduler.as_str()) => {
            return Err(format!(
                "a shuttle schedule, but the scheduler is `{}` (expected {})",
                c.scheduler,
                shuttle.join(", ")
            ))
        }
        (None, Some(_)) if !loom.contains(&c.scheduler.as_str()) => {
            return Err(format!(
                "a loom checkpoint, but the scheduler is `{}` (expected loom)",
                c.scheduler
            ))
        }
        _ => {}
    }
    if let Some(text) = &c.schedule {
        decode_schedule(text).map_err(|e| format!("its schedule does not parse: {e}"))?;
    }
    check_preemption_bound(c)
}

/// A loom report's preemption bound is in range and is the one its budget line names.
fn check_preemption_bound(c: &Counterexample) -> Result<(), String> {
    let is_loom = c.scheduler == "loom" || c.scheduler == "loom-replay";
    let bounded = is_loom || c.scheduler.starts_with("dpor");
    match c.preemption_bound {
        Some(_) if !bounded => Err(format!(
            "a preemption bound, but the scheduler is `{}` (only loom and dpor have one)",
            c.scheduler
        )),
        None if is_loom && c.loom_checkpoint.is_some() => {
            Err("a loom checkpoint without its `preemption_bound`".into())
        }
        Some(b) if b > MAX_PREEMPTION_BOUND => Err(format!(
            "preemption_bound {b} is out of range (0 to {MAX_PREEMPTION_BOUND})"
        )),
        Some(b)
            if (c.scheduler == "loom" || c.scheduler == "dpor")
                && !c.budget.contains(&format!("preemption bound {b},")) =>
        {
            Err(format!(
                "preemption_bound {b} disagrees with its budget `{}`",
                c.budget
            ))
        }
        _ => Ok(()),
    }
}
