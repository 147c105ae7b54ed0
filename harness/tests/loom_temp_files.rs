//! loom leaves no checkpoint file in the temp folder (issue 15, item 14: killed runs left
//! `poolcheck-loom-<pid>-<n>.json` behind). Its own test binary, so no other test of this
//! process creates such a file while this one looks.

use poolcheck_harness::backend::{run, Bounds, SchedulerSpec};
use poolcheck_harness::scenario::{load_file, AnyScenario};
use std::path::Path;

fn leftovers() -> Vec<String> {
    let prefix = format!("poolcheck-loom-{}-", std::process::id());
    std::fs::read_dir(std::env::temp_dir())
        .map(|d| {
            d.filter_map(Result::ok)
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .filter(|n| n.starts_with(&prefix))
                .collect()
        })
        .unwrap_or_default()
}

#[test]
fn a_failing_loom_run_and_its_replay_leave_no_checkpoint_file() {
    let file = Path::new(env!("CARGO_MANIFEST_DIR")).join("../scenarios/cancel-vs-handoff.toml");
    let Ok(AnyScenario::Model(s)) = load_file(&file, &[]) else {
        panic!("cancel-vs-handoff loads");
    };
    let loom = SchedulerSpec::Loom {
        preemption_bound: 2,
        max_executions: 20_000,
        max_branches: 10_000,
    };
    let variant = s
        .expect
        .iter()
        .find(|e| e.default.as_deref().is_some_and(|e| e != "pass"))
        .map(|e| &e.variant)
        .expect("a buggy variant");
    let bad = run(&s.subject(variant), &loom, Bounds::default());
    assert!(bad.ghost.is_some(), "{:?}", bad.verdict);
    let checkpoint = bad.loom_checkpoint.clone().expect("a checkpoint");
    assert_eq!(leftovers(), Vec::<String>::new());
    let spec = SchedulerSpec::LoomReplay {
        preemption_bound: 2,
        checkpoint,
    };
    let replay = run(&s.subject(variant), &spec, Bounds::default());
    assert_eq!(replay.executions, 1);
    assert_eq!(replay.verdict, bad.verdict);
    assert_eq!(leftovers(), Vec::<String>::new());
}
