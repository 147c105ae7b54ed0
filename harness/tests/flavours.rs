//! Lock flavours: for each flavour, the interleavings it forbids are never produced (dpor,
//! unbounded, so "never" is a proof; and none of loom, PCT, random, DFS or std threads finds
//! one) and the ones it allows are (found by dpor and loom).
//!
//! dpor's reduction is checked against the unreduced search on every program and flavour.
//!
//! Each program below panics exactly when the interleaving it watches for happens, so a
//! produced interleaving is a `model-panic` whose message names it, and a forbidden one that
//! never happens is a pass.

use poolcheck_harness::backend::dpor::{explore_subject, ExploreOptions, Reduction};
use poolcheck_harness::backend::{run, Bounds, Proof, SchedulerSpec, Subject, Verdict};
use poolcheck_models::model::{Model, ModelInfo, ScenarioSpec};
use poolcheck_models::sync::{
    probe, spawn, use_flavour, yield_now, Condvar, Event, Flavour, LockClass, Mutex, Plain,
    Semaphore, UserEvent,
};
use std::sync::Arc;

struct Flavoured;

static INFO: ModelInfo = ModelInfo {
    name: "flavoured",
    summary: "lock flavour probes",
    upstream: "",
    variants: &[],
    fixes: &[],
    ops: &[],
    config: &[],
};

/// What a program does when the interleaving it watches for happens.
#[derive(Clone, Copy)]
enum Seen {
    /// Panic: the run's verdict is a `model-panic` naming the interleaving.
    Panic,
    /// Record it as a probe and go on: the execution's final state shows it (for comparing
    /// explorations, which stop at a panic).
    Record,
}

impl Seen {
    fn produced(self, what: &'static str) {
        match self {
            Seen::Panic => panic!("PRODUCED: {what}"),
            Seen::Record => probe(Event::User(UserEvent::new(what))),
        }
    }
}

/// The variant is `<flavour>/<program>`, or `<flavour>/<program>/record` to record what the
/// program watches for instead of panicking.
impl Model for Flavoured {
    fn info(&self) -> &'static ModelInfo {
        &INFO
    }

    fn run(&self, _spec: &ScenarioSpec, variant: &str) {
        let (flavour, program) = variant.split_once('/').expect("flavour/program");
        let (program, seen) = match program.strip_suffix("/record") {
            Some(program) => (program, Seen::Record),
            None => (program, Seen::Panic),
        };
        let flavour = *Flavour::ALL
            .iter()
            .find(|f| f.name() == flavour)
            .expect("a flavour");
        use_flavour(flavour);
        match program {
            "exclusion" => exclusion(seen),
            "barge" => barge(seen),
            "sem-barge" => sem_barge(seen),
            "release-switch" => release_switch(seen),
            "checkpoint" => checkpoint(seen),
            "free-window" => free_window(seen),
            "condvar" => condvar(),
            other => panic!("no program {other}"),
        }
    }
}

fn lock() -> Arc<Mutex<()>> {
    Arc::new(Mutex::new("L", LockClass::non_blocking("probe"), ()))
}

fn flag() -> Arc<Plain<bool>> {
    Arc::new(Plain::new(false))
}

fn join_all(handles: Vec<poolcheck_models::sync::JoinHandle<()>>) {
    handles.into_iter().for_each(|h| h.join());
}

/// Two holders at once.
fn exclusion(seen: Seen) {
    let (l, inside) = (lock(), flag());
    let actor = |name: &str| {
        let (l, inside) = (l.clone(), inside.clone());
        spawn(name, move || {
            let _g = l.lock();
            if inside.get() {
                seen.produced("two holders at once");
            }
            inside.set(true);
            yield_now("inside");
            inside.set(false);
        })
    };
    join_all(vec![actor("A"), actor("B")]);
}

/// A newcomer (the releaser itself, re-locking with no scheduling point in between) takes the
/// lock while another actor is queued for it.
fn barge(seen: Seen) {
    let (l, b_waiting, b_got) = (lock(), flag(), flag());
    let a = {
        let (l, b_waiting, b_got) = (l.clone(), b_waiting.clone(), b_got.clone());
        spawn("A", move || {
            let g = l.lock();
            yield_now("let B queue");
            let queued = b_waiting.get();
            drop(g);
            let _again = l.lock();
            if queued && !b_got.get() {
                seen.produced("a newcomer took the lock while a waiter was queued");
            }
        })
    };
    let b = spawn("B", move || {
        b_waiting.set(true);
        let _g = l.lock();
        b_got.set(true);
    });
    join_all(vec![a, b]);
}

/// [`barge`] with a one-permit semaphore.
fn sem_barge(seen: Seen) {
    let s = Arc::new(Semaphore::new("S", 1));
    let (b_waiting, b_got) = (flag(), flag());
    let a = {
        let (s, b_waiting, b_got) = (s.clone(), b_waiting.clone(), b_got.clone());
        spawn("A", move || {
            s.acquire();
            yield_now("let B queue");
            let queued = b_waiting.get();
            s.release();
            s.acquire();
            if queued && !b_got.get() {
                seen.produced("a newcomer took the permit while a waiter was queued");
            }
            s.release();
        })
    };
    let b = spawn("B", move || {
        b_waiting.set(true);
        s.acquire();
        b_got.set(true);
        s.release();
    });
    join_all(vec![a, b]);
}

/// Another actor (the waiter, or a bystander) runs between a release and the releaser's next
/// statement.
fn release_switch(seen: Seen) {
    let (l, released, after) = (lock(), flag(), flag());
    let a = {
        let (l, released, after) = (l.clone(), released.clone(), after.clone());
        spawn("A", move || {
            let g = l.lock();
            yield_now("let B queue");
            released.set(true);
            drop(g);
            after.set(true);
        })
    };
    let watch = move |released: &Plain<bool>, after: &Plain<bool>| {
        if released.get() && !after.get() {
            seen.produced("a switch at release");
        }
    };
    let b = {
        let (l, released, after) = (l.clone(), released.clone(), after.clone());
        spawn("B", move || {
            let _g = l.lock();
            watch(&released, &after);
        })
    };
    let c = spawn("C", move || watch(&released, &after));
    join_all(vec![a, b, c]);
}

/// Another actor runs after an uncontended acquire took the lock, before the holder's next
/// statement (anyio's checkpoint while holding).
fn checkpoint(seen: Seen) {
    let (l, entered) = (lock(), flag());
    let a = {
        let (l, entered) = (l.clone(), entered.clone());
        spawn("A", move || {
            let _g = l.lock();
            entered.set(true);
        })
    };
    let b = spawn("B", move || {
        if l.locked() && !entered.get() {
            seen.produced("a switch after taking an uncontended lock");
        }
    });
    join_all(vec![a, b]);
}

/// A third actor sees the lock free after a release to a queued waiter that has not run yet.
fn free_window(seen: Seen) {
    let (l, b_waiting, b_got, released) = (lock(), flag(), flag(), flag());
    let a = {
        let (l, b_waiting, released) = (l.clone(), b_waiting.clone(), released.clone());
        spawn("A", move || {
            let g = l.lock();
            yield_now("let B queue");
            let queued = b_waiting.get();
            drop(g);
            released.set(queued);
            yield_now("after release");
        })
    };
    let b = {
        let (l, b_got) = (l.clone(), b_got.clone());
        spawn("B", move || {
            b_waiting.set(true);
            let _g = l.lock();
            b_got.set(true);
        })
    };
    let c = spawn("C", move || {
        if released.get() && !b_got.get() && !l.locked() {
            seen.produced("the lock was free while a woken waiter had not run");
        }
    });
    join_all(vec![a, b, c]);
}

/// A condition-variable hand-shake: it works (no deadlock, no lost wake-up) in every flavour.
fn condvar() {
    let state = Arc::new((
        Mutex::new("L", LockClass::non_blocking("probe"), false),
        Condvar::new("ready"),
    ));
    let waiter = {
        let state = state.clone();
        spawn("A", move || {
            let mut ready = state.0.lock();
            while !*ready {
                ready = state.1.wait(ready);
            }
        })
    };
    let setter = spawn("B", move || {
        *state.0.lock() = true;
        state.1.notify_all();
    });
    join_all(vec![waiter, setter]);
}

static MODEL: Flavoured = Flavoured;

fn variant(flavour: Flavour, program: &str) -> String {
    format!("{}/{program}", flavour.name())
}

fn subject(flavour: Flavour, program: &str) -> Subject {
    Subject::of_model(
        &MODEL,
        Arc::new(ScenarioSpec::default()),
        &variant(flavour, program),
        Arc::new(vec!["request-answered".into()]),
        500,
    )
}

fn dpor() -> SchedulerSpec {
    SchedulerSpec::Dpor {
        preemption_bound: None,
        max_executions: 100_000,
    }
}

fn loom() -> SchedulerSpec {
    SchedulerSpec::Loom {
        preemption_bound: 3,
        max_executions: 100_000,
        max_branches: 10_000,
    }
}

fn samplers() -> Vec<SchedulerSpec> {
    vec![
        SchedulerSpec::Pct {
            seed: 3,
            depth: 3,
            iterations: 300,
        },
        SchedulerSpec::Random {
            seed: 3,
            iterations: 300,
        },
        SchedulerSpec::Dfs {
            max_iterations: 5_000,
        },
        SchedulerSpec::Std { iterations: 30 },
    ]
}

/// `program` never panics under `flavour`: dpor proves it; loom and the samplers agree.
fn never(flavour: Flavour, program: &str) {
    let (s, name) = (subject(flavour, program), variant(flavour, program));
    let proof = run(&s, &dpor(), Bounds::default());
    assert_eq!(proof.verdict, Verdict::Pass, "{name}: dpor");
    assert_eq!(proof.proof, Some(Proof::Exhaustive), "{name}");
    for spec in std::iter::once(loom()).chain(samplers()) {
        let r = run(&s, &spec, Bounds::default());
        assert_eq!(r.verdict, Verdict::Pass, "{name} under {}", spec.name());
    }
}

/// `program` panics under `flavour` in some execution: dpor and loom both find it.
fn produced(flavour: Flavour, program: &str) {
    let (s, name) = (subject(flavour, program), variant(flavour, program));
    for spec in [dpor(), loom()] {
        let r = run(&s, &spec, Bounds::default());
        match &r.verdict {
            Verdict::ModelPanic(m) if m.contains("PRODUCED") => {}
            v => panic!(
                "{name} under {}: expected it produced, got {v:?}",
                spec.name()
            ),
        }
    }
}

/// Every program [`Flavoured`] runs.
const PROGRAMS: [&str; 7] = [
    "exclusion",
    "barge",
    "sem-barge",
    "release-switch",
    "checkpoint",
    "free-window",
    "condvar",
];

const BARGING: [Flavour; 2] = [Flavour::Std, Flavour::Go];
const FAIR: [Flavour; 2] = [Flavour::Asyncio, Flavour::Anyio];

#[test]
fn no_flavour_lets_two_actors_hold_a_lock() {
    Flavour::ALL.iter().for_each(|f| never(*f, "exclusion"));
}

#[test]
fn std_and_go_let_a_newcomer_barge_past_a_waiter() {
    for f in BARGING {
        produced(f, "barge");
        produced(f, "sem-barge");
    }
}

#[test]
fn asyncio_and_anyio_never_let_a_newcomer_take_what_a_waiter_was_given() {
    for f in FAIR {
        never(f, "barge");
        never(f, "sem-barge");
    }
}

#[test]
fn asyncio_and_anyio_never_switch_at_release() {
    FAIR.iter().for_each(|f| never(*f, "release-switch"));
}

#[test]
fn only_anyio_checkpoints_after_taking_a_free_lock() {
    produced(Flavour::Anyio, "checkpoint");
    for f in [Flavour::Std, Flavour::Go, Flavour::Asyncio] {
        never(f, "checkpoint");
    }
}

#[test]
fn asyncio_leaves_the_lock_free_until_the_woken_waiter_runs_and_anyio_never_does() {
    produced(Flavour::Asyncio, "free-window");
    produced(Flavour::Std, "free-window");
    never(Flavour::Anyio, "free-window");
}

#[test]
fn condition_variables_work_with_every_flavour() {
    Flavour::ALL.iter().for_each(|f| never(*f, "condvar"));
}

/// Every program under every flavour: dpor reaches the traces, verdicts and final states of the
/// unreduced search (a fair lock's queueing, hand-off and resumption are ordinary steps on the
/// lock's object; a std or Go lock's blocked acquisition is a pending step), so what dpor proves
/// above is what every interleaving shows.
#[test]
fn dpor_matches_the_unreduced_search_on_every_flavour() {
    for &flavour in Flavour::ALL {
        for program in PROGRAMS {
            let s = subject(flavour, &format!("{program}/record"));
            let full = explore_subject(&s, ExploreOptions::new(Reduction::None));
            let dpor = explore_subject(&s, ExploreOptions::new(Reduction::Source));
            let name = variant(flavour, program);
            assert!(full.stats.exhausted && dpor.stats.exhausted, "{name}");
            assert_eq!(dpor.outcomes, full.outcomes, "{name}: final states");
            assert_eq!(dpor.traces, full.traces, "{name}: traces");
        }
    }
}
