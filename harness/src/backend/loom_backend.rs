//! loom: exhaustive exploration up to a preemption bound, and replay from a checkpoint.
//!
//! `loom::model::Builder::new()` reads `LOOM_*` variables; we overwrite every field afterwards so
//! that the scenario file alone decides.
//!
//! **No I/O per execution.** loom can only hand out the path of an execution through its
//! checkpoint file, and writing that file before every execution made exploration 7-10x slower.
//! We explore without a checkpoint file and count executions; when execution `k` fails, we run
//! the same exploration again (loom's order is deterministic for the same model and bound) with
//! `checkpoint_interval = k`, so loom writes the file exactly once, just before execution `k`,
//! and that execution fails again. The file exists only during that re-run; on Linux it is
//! unlinked as soon as it is created (loom reaches it through `/proc/self/fd`), so even a killed
//! run leaves nothing in the temp folder.

use super::execute::{classify_panic, execute_once, result, take_ghost, GhostSlot};
use super::panic_hook::Exploring;
use super::{Bounds, RunResult, SchedulerSpec, Subject, Verdict};
use poolcheck_models::sync::Backend;
use std::any::Any;
use std::fs::File;
use std::io::{Read as _, Seek as _, SeekFrom, Write as _};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// loom's hard limit on threads per execution, main included.
const MAX_THREADS: usize = 5;

/// Replays read at most this many branches of a checkpoint.
const REPLAY_BRANCHES: usize = 100_000;

pub(super) fn run(
    subject: &Subject,
    spec: &SchedulerSpec,
    bounds: Bounds,
    slot: &GhostSlot,
) -> RunResult {
    match spec {
        SchedulerSpec::Loom {
            preemption_bound,
            max_executions,
            max_branches,
        } => explore(
            subject,
            Exploration {
                preemption_bound: *preemption_bound,
                max_executions: *max_executions,
                max_branches: *max_branches,
            },
            bounds,
            slot,
        ),
        SchedulerSpec::LoomReplay {
            preemption_bound,
            checkpoint,
        } => replay(subject, *preemption_bound, checkpoint, bounds, slot),
        other => {
            let why = format!("{} is not a loom scheduler", other.name());
            result(Verdict::ModelPanic(why), 0, Duration::ZERO, None)
        }
    }
}

/// The settings of one exhaustive exploration.
#[derive(Clone, Copy, Debug)]
pub(super) struct Exploration {
    pub(super) preemption_bound: usize,
    pub(super) max_executions: u64,
    pub(super) max_branches: usize,
}

/// Explore without checkpoints; on a failure, capture the failing execution's checkpoint.
pub(super) fn explore(
    subject: &Subject,
    e: Exploration,
    bounds: Bounds,
    slot: &GhostSlot,
) -> RunResult {
    let mut b = builder(bounds, e.preemption_bound, e.max_branches);
    // loom stops *before* execution N when max_permutations = N.
    b.max_permutations = Some(usize::try_from(e.max_executions + 1).unwrap_or(usize::MAX));
    let (outcome, executions, elapsed) = check(&b, subject, slot);
    match outcome {
        Ok(()) => {
            let verdict = stopped_early(executions, e.max_executions, elapsed, bounds);
            result(verdict.unwrap_or(Verdict::Pass), executions, elapsed, None)
        }
        Err(payload) => {
            let ghost = take_ghost(slot);
            let verdict = classify_panic(payload.as_ref(), ghost.as_ref());
            let mut r = result(verdict, executions, elapsed, ghost);
            r.loom_checkpoint = capture(subject, e, bounds, executions);
            r
        }
    }
}

/// Run execution `failing` of the same exploration again, with loom writing its checkpoint once,
/// just before it. `None` if it does not fail again (a nondeterministic model).
fn capture(subject: &Subject, e: Exploration, bounds: Bounds, failing: u64) -> Option<String> {
    let interval = usize::try_from(failing).ok()?;
    let mut file = CheckpointFile::create(&fresh_path(e.preemption_bound)).ok()?;
    let mut b = builder(bounds, e.preemption_bound, e.max_branches);
    b.checkpoint_file = Some(file.loom_path());
    b.checkpoint_interval = interval;
    b.max_permutations = Some(interval.saturating_add(1));
    let (outcome, executions, _) = check(&b, subject, &GhostSlot::default());
    if outcome.is_ok() || executions != failing {
        return None;
    }
    file.read().ok()
}

/// Replay one execution from its checkpoint.
fn replay(
    subject: &Subject,
    preemption_bound: usize,
    checkpoint: &str,
    bounds: Bounds,
    slot: &GhostSlot,
) -> RunResult {
    let file = match CheckpointFile::create(checkpoint) {
        Ok(f) => f,
        Err(e) => {
            let why = format!("checkpoint: {e}");
            return result(Verdict::ModelPanic(why), 0, Duration::ZERO, None);
        }
    };
    let mut b = builder(bounds, preemption_bound, REPLAY_BRANCHES);
    b.checkpoint_file = Some(file.loom_path());
    b.max_permutations = Some(2);
    let (outcome, executions, elapsed) = check(&b, subject, slot);
    match outcome {
        Ok(()) => result(Verdict::Pass, executions, elapsed, None),
        Err(payload) => {
            let ghost = take_ghost(slot);
            let verdict = classify_panic(payload.as_ref(), ghost.as_ref());
            let mut r = result(verdict, executions, elapsed, ghost);
            r.loom_checkpoint = Some(checkpoint.to_owned());
            r
        }
    }
}

type Outcome = Result<(), Box<dyn Any + Send>>;

/// Run loom's exploration quietly; the outcome, the executions started and the wall time.
fn check(
    b: &loom::model::Builder,
    subject: &Subject,
    slot: &GhostSlot,
) -> (Outcome, u64, Duration) {
    let count = Arc::new(AtomicU64::new(0));
    let body = {
        let (subject, slot, count) = (subject.clone(), slot.clone(), count.clone());
        move || {
            count.fetch_add(1, Ordering::SeqCst);
            execute_once(&subject, Backend::Loom, &slot);
        }
    };
    let start = Instant::now();
    let outcome = {
        let _quiet = Exploring::enter();
        catch_unwind(AssertUnwindSafe(|| b.check(body)))
    };
    (outcome, count.load(Ordering::SeqCst), start.elapsed())
}

/// loom returns normally both when it has explored everything and when a bound stopped it.
fn stopped_early(
    executions: u64,
    budget: u64,
    elapsed: Duration,
    bounds: Bounds,
) -> Option<Verdict> {
    if elapsed >= bounds.wall {
        return Some(Verdict::BoundHit(format!(
            "wall-time bound of {:?} hit after {executions} executions",
            bounds.wall
        )));
    }
    (executions >= budget).then(|| {
        Verdict::BoundHit(format!(
            "execution bound of {budget} hit before loom exhausted the schedules"
        ))
    })
}

/// A builder with every field set; no checkpoint file.
fn builder(bounds: Bounds, preemption_bound: usize, max_branches: usize) -> loom::model::Builder {
    let mut b = loom::model::Builder::new();
    b.max_threads = MAX_THREADS;
    b.max_duration = Some(bounds.wall);
    b.max_branches = max_branches;
    b.preemption_bound = Some(preemption_bound);
    // loom checks its bounds only every `checkpoint_interval` executions.
    b.checkpoint_interval = 1;
    b.checkpoint_file = None;
    b.expect_explicit_explore = false;
    b.location = false;
    b.log = false;
    b
}

/// The checkpoint loom writes before its first execution (loom 0.7.2's `rt::Path`, empty): the
/// starting content of a capture's file, since on Linux the file exists before loom opens it.
fn fresh_path(preemption_bound: usize) -> String {
    format!(
        r#"{{"preemption_bound":{preemption_bound},"pos":0,"branches":{{"entries":[]}},"exploring":true,"skipping":false,"exploring_on_start":true}}"#
    )
}

/// The preemptions of the execution a loom checkpoint replays, as loom counts them (a switch
/// away from a thread that could have continued). The branches after the checkpoint's last
/// schedule branch are new ones, where loom keeps the running thread: they add none.
pub(super) fn checkpoint_preemptions(checkpoint: &str) -> Option<u32> {
    let path: serde_json::Value = serde_json::from_str(checkpoint).ok()?;
    let entries = path.get("branches")?.get("entries")?.as_array()?;
    let Some(last) = entries.iter().rev().find_map(|e| e.get("Schedule")) else {
        return Some(0);
    };
    let before = u32::try_from(last.get("preemptions")?.as_u64()?).ok()?;
    let initial = last.get("initial_active")?.as_u64();
    let active = last
        .get("threads")?
        .as_array()?
        .iter()
        .position(|t| t.as_str() == Some("Active"))
        .map(|i| i as u64);
    Some(before + u32::from(initial.is_some() && initial != active))
}

/// The checkpoint file of one capture or replay, never left behind.
///
/// On Linux the file is unlinked right after it is created and loom opens it again through
/// `/proc/self/fd/N`; elsewhere it is a named file removed when this is dropped.
struct CheckpointFile {
    file: File,
    #[cfg_attr(target_os = "linux", allow(dead_code))]
    named: PathBuf,
}

impl CheckpointFile {
    fn create(content: &str) -> std::io::Result<Self> {
        static NEXT: AtomicU64 = AtomicU64::new(0);
        let n = NEXT.fetch_add(1, Ordering::SeqCst);
        let name = format!("poolcheck-loom-{}-{n}.json", std::process::id());
        let named = std::env::temp_dir().join(name);
        let mut file = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create_new(true)
            .open(&named)?;
        let this = CheckpointFile {
            file: file.try_clone()?,
            named,
        };
        if cfg!(target_os = "linux") {
            std::fs::remove_file(&this.named)?;
        }
        file.write_all(content.as_bytes())?;
        Ok(this)
    }

    /// The path loom opens.
    #[cfg(target_os = "linux")]
    fn loom_path(&self) -> PathBuf {
        use std::os::fd::AsRawFd as _;
        PathBuf::from(format!("/proc/self/fd/{}", self.file.as_raw_fd()))
    }

    #[cfg(not(target_os = "linux"))]
    fn loom_path(&self) -> PathBuf {
        self.named.clone()
    }

    fn read(&mut self) -> std::io::Result<String> {
        let mut text = String::new();
        self.file.seek(SeekFrom::Start(0))?;
        self.file.read_to_string(&mut text)?;
        Ok(text)
    }
}

impl Drop for CheckpointFile {
    fn drop(&mut self) {
        if !cfg!(target_os = "linux") {
            let _ = std::fs::remove_file(&self.named);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_fresh_path_is_what_loom_writes_before_its_first_execution() {
        let named =
            std::env::temp_dir().join(format!("poolcheck-loom-test-{}.json", std::process::id()));
        let _ = std::fs::remove_file(&named);
        let mut b = builder(Bounds::default(), 2, 100);
        b.checkpoint_file = Some(named.clone());
        b.max_permutations = Some(1);
        b.check(|| {});
        let written = std::fs::read_to_string(&named).unwrap();
        let _ = std::fs::remove_file(&named);
        assert_eq!(written, fresh_path(2));
    }

    #[test]
    fn a_checkpoint_file_is_gone_from_the_temp_folder_once_created() {
        let mut f = CheckpointFile::create("{}").unwrap();
        if cfg!(target_os = "linux") {
            assert!(!f.named.exists());
        }
        assert_eq!(f.read().unwrap(), "{}");
        let named = f.named.clone();
        drop(f);
        assert!(!named.exists());
    }

    #[test]
    fn preemptions_are_read_from_the_last_schedule_branch() {
        let path = |initial: &str, active: usize| {
            let mut threads = ["\"Disabled\""; 5];
            threads[active] = "\"Active\"";
            format!(
                r#"{{"branches":{{"entries":[{{"Schedule":{{"preemptions":1,"initial_active":{initial},"threads":[{}]}}}},{{"Load":{{}}}}]}}}}"#,
                threads.join(",")
            )
        };
        assert_eq!(checkpoint_preemptions(&path("0", 1)), Some(2));
        assert_eq!(checkpoint_preemptions(&path("1", 1)), Some(1));
        assert_eq!(checkpoint_preemptions(&path("null", 1)), Some(1));
        assert_eq!(checkpoint_preemptions(&fresh_path(2)), Some(0));
        assert_eq!(checkpoint_preemptions("nope"), None);
    }
}
