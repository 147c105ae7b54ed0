//! The checks a [`Builder`]'s settings pass before anything runs, with the scenario files'
//! limits (one table of ranges for both, `poolcheck_harness::scenario::limits`).

use crate::builder::Builder;
use crate::error::Error;
use poolcheck_harness::backend::SchedulerSpec;
use poolcheck_harness::monitor::{self, HARNESS_VERDICTS};
use poolcheck_harness::scenario::hint_for;
use poolcheck_harness::scenario::limits::{self, in_range, kebab_case};

/// Every setting of `b`, in field order; the first problem found.
pub(crate) fn settings(b: &Builder) -> Result<(), Error> {
    if b.schedulers.is_empty() {
        return Err(Error::new(
            "`schedulers` is empty: name at least one (Builder::default_schedulers() lists them)",
        ));
    }
    for s in &b.schedulers {
        scheduler(s).map_err(|m| Error::new(format!("`schedulers` ({}): {m}", s.name())))?;
    }
    for name in &b.invariants {
        builtin(name)?;
    }
    custom_names(b)?;
    in_range("step_bound", b.step_bound, &limits::STEP_BOUND).map_err(Error::new)?;
    if let Some(name) = &b.name {
        kebab_case("name", name).map_err(Error::new)?;
    }
    kebab_case("variant", &b.variant).map_err(Error::new)
}

fn scheduler(s: &SchedulerSpec) -> Result<(), String> {
    let bound = |b: usize| in_range("preemption_bound", b, &limits::PREEMPTION_BOUND);
    let iterations = |n: u64| in_range("iterations", n, &limits::ITERATIONS);
    match s {
        SchedulerSpec::Loom {
            preemption_bound,
            max_executions,
            max_branches,
        } => {
            bound(*preemption_bound)?;
            in_range("max_executions", *max_executions, &limits::LOOM_EXECUTIONS)?;
            in_range("max_branches", *max_branches, &limits::LOOM_BRANCHES)
        }
        SchedulerSpec::Random { iterations: n, .. } | SchedulerSpec::Std { iterations: n } => {
            iterations(*n)
        }
        SchedulerSpec::Pct {
            depth,
            iterations: n,
            ..
        } => {
            in_range("depth", *depth, &limits::PCT_DEPTH)?;
            iterations(*n)
        }
        SchedulerSpec::Dfs { max_iterations } => iterations(*max_iterations),
        SchedulerSpec::Dpor {
            preemption_bound,
            max_executions,
        } => {
            preemption_bound.map_or(Ok(()), bound)?;
            in_range("max_executions", *max_executions, &limits::LOOM_EXECUTIONS)
        }
        SchedulerSpec::LoomReplay {
            preemption_bound, ..
        } => bound(*preemption_bound),
        SchedulerSpec::Replay { .. } | SchedulerSpec::DporReplay { .. } => Ok(()),
    }
}

fn builtin(name: &str) -> Result<(), Error> {
    if monitor::find(name).is_some() {
        return Ok(());
    }
    let names: Vec<&str> = monitor::registry().iter().map(|m| m.name).collect();
    Err(Error::new(format!(
        "`invariants`: `{name}` is not a built-in invariant; {}",
        hint_for(name, names.iter().copied())
    )))
}

/// User monitors have kebab-case names of their own: not a built-in's, not a harness
/// verdict's, not each other's (the verdict must say which invariant failed).
fn custom_names(b: &Builder) -> Result<(), Error> {
    for (i, m) in b.monitors.iter().enumerate() {
        let err = |why: String| Error::new(format!("`monitors[{i}]`: {why}"));
        kebab_case("monitor name", &m.name).map_err(err)?;
        let taken = monitor::find(&m.name).is_some()
            || HARNESS_VERDICTS.iter().any(|(n, _)| *n == m.name)
            || m.name == "pass";
        if taken {
            return Err(err(format!(
                "`{}` is already the name of a poolcheck verdict; pick another",
                m.name
            )));
        }
        if b.monitors[..i].iter().any(|o| o.name == m.name) {
            return Err(err(format!("`{}` is given twice", m.name)));
        }
    }
    Ok(())
}
