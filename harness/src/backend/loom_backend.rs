//! loom: exhaustive exploration up to a preemption bound, and replay from a checkpoint.
//!
//! `loom::model::Builder::new()` reads `LOOM_*` variables; we overwrite every field afterwards so
//! that the scenario file alone decides. The checkpoint is written before every execution (loom
//! stores the path it is about to run), so when an execution fails the file holds exactly the
//! path that replays it.

use super::execute::{classify_panic, execute_once, result, take_ghost, GhostSlot};
use super::panic_hook::Exploring;
use super::{Bounds, RunResult, SchedulerSpec, Subject, Verdict};
use poolcheck_models::sync::Backend;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Instant;

/// loom's hard limit on threads per execution, main included.
const MAX_THREADS: usize = 5;

pub(super) fn run(
    subject: &Subject,
    spec: &SchedulerSpec,
    bounds: Bounds,
    slot: &GhostSlot,
) -> RunResult {
    let checkpoint = CheckpointFile::new();
    let (builder, budget) = match builder_for(spec, bounds, &checkpoint) {
        Ok(b) => b,
        Err(e) => return result(Verdict::ModelPanic(e), 0, Default::default(), None),
    };
    let count = Arc::new(AtomicU64::new(0));
    let body = {
        let (subject, slot, count) = (subject.clone(), (*slot).clone(), count.clone());
        move || {
            count.fetch_add(1, Ordering::SeqCst);
            execute_once(&subject, Backend::Loom, &slot);
        }
    };
    let start = Instant::now();
    let outcome = {
        let _quiet = Exploring::enter();
        catch_unwind(AssertUnwindSafe(|| builder.check(body)))
    };
    let (elapsed, executions) = (start.elapsed(), count.load(Ordering::SeqCst));
    match outcome {
        Ok(()) => {
            let verdict = stopped_early(executions, budget, elapsed, bounds);
            result(verdict.unwrap_or(Verdict::Pass), executions, elapsed, None)
        }
        Err(payload) => {
            let ghost = take_ghost(slot);
            let verdict = classify_panic(payload.as_ref(), ghost.as_ref());
            let mut r = result(verdict, executions, elapsed, ghost);
            r.loom_checkpoint = checkpoint.read();
            r
        }
    }
}

/// loom returns normally both when it has explored everything and when a bound stopped it.
fn stopped_early(
    executions: u64,
    budget: Option<u64>,
    elapsed: std::time::Duration,
    bounds: Bounds,
) -> Option<Verdict> {
    if elapsed >= bounds.wall {
        return Some(Verdict::BoundHit(format!(
            "wall-time bound of {:?} hit after {executions} executions",
            bounds.wall
        )));
    }
    match budget {
        Some(b) if executions >= b => Some(Verdict::BoundHit(format!(
            "execution bound of {b} hit before loom exhausted the schedules"
        ))),
        _ => None,
    }
}

fn builder_for(
    spec: &SchedulerSpec,
    bounds: Bounds,
    checkpoint: &CheckpointFile,
) -> Result<(loom::model::Builder, Option<u64>), String> {
    let mut b = loom::model::Builder::new();
    b.max_threads = MAX_THREADS;
    b.max_duration = Some(bounds.wall);
    b.checkpoint_interval = 1;
    b.expect_explicit_explore = false;
    b.location = false;
    b.log = false;
    b.checkpoint_file = Some(checkpoint.path.clone());
    match spec {
        SchedulerSpec::Loom {
            preemption_bound,
            max_executions,
            max_branches,
        } => {
            b.preemption_bound = Some(*preemption_bound);
            b.max_branches = *max_branches;
            // loom stops *before* execution N when max_permutations = N.
            b.max_permutations = Some(usize::try_from(*max_executions + 1).unwrap_or(usize::MAX));
            Ok((b, Some(*max_executions)))
        }
        SchedulerSpec::LoomReplay {
            preemption_bound,
            checkpoint: text,
        } => {
            std::fs::write(&checkpoint.path, text).map_err(|e| format!("checkpoint: {e}"))?;
            b.preemption_bound = Some(*preemption_bound);
            b.max_branches = 100_000;
            b.max_permutations = Some(2);
            Ok((b, None))
        }
        other => Err(format!("{} is not a loom scheduler", other.name())),
    }
}

/// A checkpoint file unique to this exploration, removed when dropped.
struct CheckpointFile {
    path: PathBuf,
}

impl CheckpointFile {
    fn new() -> Self {
        static NEXT: AtomicU64 = AtomicU64::new(0);
        let n = NEXT.fetch_add(1, Ordering::SeqCst);
        let name = format!("poolcheck-loom-{}-{n}.json", std::process::id());
        CheckpointFile {
            path: std::env::temp_dir().join(name),
        }
    }

    fn read(&self) -> Option<String> {
        std::fs::read_to_string(&self.path).ok()
    }
}

impl Drop for CheckpointFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}
