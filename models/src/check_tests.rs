//! Every model's load-time checks ([`Model::check`]) refuse what they exist to refuse, and only
//! that. The harness's bad-input tests run them through the CLI; these run in the models' own
//! unit tests, which is what judges a mutant of `models/` (issue 17, `.cargo/mutants.toml`): a
//! check replaced by `Ok(())` must fail a test here.

use crate::model::{find, ActorSpec, Args, Model, OpSpec, ScenarioSpec, SpecError, Value};

pub(crate) fn int(v: i64) -> Value {
    Value::Int(v)
}

fn text(v: &str) -> Value {
    Value::Str(v.to_owned())
}

fn args(pairs: &[(&str, Value)]) -> Args {
    Args(
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), v.clone()))
            .collect(),
    )
}

pub(crate) fn op(name: &str, pairs: &[(&str, Value)]) -> OpSpec {
    OpSpec {
        name: name.to_owned(),
        args: args(pairs),
    }
}

fn actor(name: &str, ops: Vec<OpSpec>) -> ActorSpec {
    ActorSpec {
        name: name.to_owned(),
        ops,
    }
}

pub(crate) fn spec(config: &[(&str, Value)], actors: Vec<ActorSpec>) -> ScenarioSpec {
    ScenarioSpec {
        config: args(config),
        actors,
    }
}

fn model(name: &str) -> &'static dyn Model {
    find(name).unwrap_or_else(|| panic!("model {name} is registered"))
}

/// `spec` is refused, at `(actor, op)` (or the config key), with a message containing `says`.
fn refused(m: &str, spec: &ScenarioSpec, at: (Option<usize>, Option<usize>), says: &str) {
    let e: SpecError = model(m).check(spec).expect_err(says);
    assert_eq!((e.actor, e.op), at, "{m}: {e:?}");
    assert!(
        e.message.contains(says),
        "{m}: {:?} lacks {says:?}",
        e.message
    );
}

fn accepted(m: &str, spec: &ScenarioSpec) {
    if let Err(e) = model(m).check(spec) {
        panic!("{m}: {e:?}");
    }
}

#[test]
fn httpcore_refuses_an_unknown_respond_mode_and_a_kept_cancelled_response() {
    let one = |ops| vec![actor("A", ops)];
    let bad_config = spec(
        &[("respond", text("sometimes"))],
        one(vec![op("request", &[])]),
    );
    let e = model("httpcore").check(&bad_config).expect_err("respond");
    assert_eq!(e.key, Some("respond"));
    let keep_cancelled = [("keep", Value::Bool(true)), ("cancel_after", text("sent"))];
    let kept = spec(&[], one(vec![op("request", &keep_cancelled)]));
    refused("httpcore", &kept, (Some(0), Some(0)), "no response to keep");
    let nothing_kept = spec(&[], one(vec![op("close-response", &[])]));
    refused(
        "httpcore",
        &nothing_kept,
        (Some(0), Some(0)),
        "needs a response kept open",
    );
    let twice = one(vec![
        op("request", &[("keep", Value::Bool(true))]),
        op("close-response", &[]),
        op("close-response", &[]),
    ]);
    refused(
        "httpcore",
        &spec(&[], twice),
        (Some(0), Some(2)),
        "kept open",
    );
    let fine = one(vec![
        op("request", &[("keep", Value::Bool(true))]),
        op("close-response", &[]),
    ]);
    accepted("httpcore", &spec(&[("respond", text("manual"))], fine));
}

#[test]
fn httpcore_refuses_http2_only_awaits_and_frames_on_http11_and_strange_alpn() {
    let one = |ops| vec![actor("A", ops)];
    let h1 = [("http2", Value::Bool(false))];
    let at_permit = one(vec![op("request", &[("cancel_at", text("permit"))])]);
    refused(
        "httpcore",
        &spec(&h1, at_permit.clone()),
        (Some(0), Some(0)),
        "no await `permit`",
    );
    accepted("httpcore", &spec(&[], at_permit));
    let both = [("cancel_at", text("wait")), ("cancel_after", text("sent"))];
    let twice = spec(&[], one(vec![op("request", &both)]));
    refused("httpcore", &twice, (Some(0), Some(0)), "not both");
    let goaway = one(vec![op("goaway", &[("conn", int(2))])]);
    let second_h1 = [("alpn", text("h2,http/1.1"))];
    refused(
        "httpcore",
        &spec(&second_h1, goaway.clone()),
        (Some(0), Some(0)),
        "speaks HTTP/1.1",
    );
    accepted("httpcore", &spec(&[("alpn", text("http/1.1,h2"))], goaway));
    let odd = spec(&[("alpn", text("h3"))], one(vec![op("request", &[])]));
    let e = model("httpcore").check(&odd).expect_err("alpn");
    assert_eq!(e.key, Some("alpn"));
    let nobody = one(vec![op("cancel", &[("target", text("Z"))])]);
    refused(
        "httpcore",
        &spec(&[], nobody),
        (Some(0), Some(0)),
        "not an actor",
    );
}

#[test]
fn lifecycle_refuses_transports_it_cannot_hold_and_failures_it_cannot_reach() {
    let one = |ops| {
        spec(
            &[],
            vec![actor("A", ops), actor("B", vec![op("close", &[])])],
        )
    };
    let spawn = |pairs: &[(&str, Value)]| op("spawn", pairs);
    let cases: Vec<(Vec<OpSpec>, usize, &str)> = vec![
        (vec![spawn(&[]), spawn(&[])], 1, "already holds"),
        (vec![spawn(&[("pipes", int(4))])], 0, "between 0 and 3"),
        (vec![spawn(&[("fail_at", int(1))])], 0, "connects 1 pipe"),
        (
            vec![op("connect-pipe", &[("busy", int(101))])],
            0,
            "between 0 and 100",
        ),
        (vec![op("close", &[])], 0, "needs a transport"),
        (
            vec![op("request", &[("fail_at", int(2))])],
            0,
            "connects 1 pipe",
        ),
        (vec![op("exit", &[("transport", int(0))])], 0, "`transport`"),
        (vec![op("data", &[("fd", int(3))])], 0, "`fd`"),
        (vec![op("cancel", &[("target", text("A"))])], 0, "B"),
        (vec![op("cancel", &[("target", text("Z"))])], 0, "B"),
    ];
    for (ops, at, says) in cases {
        let s = one(ops);
        // B's lone `close` is refused too; A comes first.
        refused("asyncio-lifecycle", &s, (Some(0), Some(at)), says);
    }
    let piped = spec(
        &[("connect", text("pipe"))],
        vec![actor("A", vec![op("request", &[("fail_at", int(0))])])],
    );
    refused(
        "asyncio-lifecycle",
        &piped,
        (Some(0), Some(0)),
        "spawn connector",
    );
    let fork = spec(
        &[("connect", text("fork"))],
        vec![actor("A", vec![op("close", &[])])],
    );
    let e = model("asyncio-lifecycle")
        .check(&fork)
        .expect_err("connect");
    assert_eq!(e.key, Some("connect"));
    let fine = vec![
        actor(
            "A",
            vec![
                spawn(&[("fail_at", int(0))]),
                op("close", &[]),
                op("connect-pipe", &[]),
                op("close", &[]),
            ],
        ),
        actor("B", vec![op("cancel", &[("target", text("A"))])]),
    ];
    accepted("asyncio-lifecycle", &spec(&[], fine));
}

#[test]
fn lifecycle_reads_a_spawn_without_fail_at_as_one_whose_pipes_all_connect() {
    use crate::lifecycle::Op;
    use crate::typed::Ops;
    let parsed = |pairs: &[(&str, Value)]| {
        Op::parse(&op("spawn", pairs), &args(&[("pipes", int(3))])).expect("a spawn")
    };
    assert!(
        matches!(
            parsed(&[]),
            Op::Spawn {
                pipes: 3,
                fail_at: None
            }
        ),
        "{:?}",
        parsed(&[])
    );
    let failing = parsed(&[("fail_at", int(1))]);
    assert!(
        matches!(
            failing,
            Op::Spawn {
                pipes: 3,
                fail_at: Some(1)
            }
        ),
        "{failing:?}"
    );
}

#[test]
fn go_h2_refuses_connection_zero_and_negative_sizes() {
    let one = |o| spec(&[], vec![actor("P", vec![o])]);
    let conn0 = one(op("goaway", &[("conn", int(0))]));
    refused(
        "go-h2",
        &conn0,
        (Some(0), Some(0)),
        "out of range for `goaway`",
    );
    let size = one(op("settings", &[("max_streams", int(-2))]));
    refused("go-h2", &size, (Some(0), Some(0)), "`max_streams = -2`");
    accepted("go-h2", &one(op("respond", &[("conn", int(0))])));
    accepted("go-h2", &one(op("settings", &[("max_streams", int(-1))])));
}

#[test]
fn go_h2_takes_exactly_the_protocols_max_frame_sizes() {
    let with = |v| {
        let o = op("settings", &[("max_frame_size", int(v))]);
        spec(&[], vec![actor("P", vec![o])])
    };
    for v in [-1, 16_384, 16_777_215] {
        accepted("go-h2", &with(v));
    }
    for v in [16_383, 16_777_216] {
        refused(
            "go-h2",
            &with(v),
            (Some(0), Some(0)),
            "bounds 16384 to 16777215",
        );
    }
}

#[test]
fn checkout_pool_refuses_timers_and_tasks_its_config_does_not_enable() {
    let twice = spec(
        &[],
        vec![actor("A", vec![op("checkout", &[]), op("checkout", &[])])],
    );
    refused("checkout-pool", &twice, (Some(0), Some(1)), "already holds");
    let unheld = spec(&[], vec![actor("A", vec![op("use", &[])])]);
    refused("checkout-pool", &unheld, (Some(0), Some(0)), "in hand");
    let nobody = spec(
        &[],
        vec![actor("A", vec![op("cancel", &[("target", text("Z"))])])],
    );
    refused("checkout-pool", &nobody, (Some(0), Some(0)), "not an actor");
    let timers = spec(&[], vec![actor("A", vec![op("timers", &[])])]);
    refused("checkout-pool", &timers, (Some(0), Some(0)), "idle_timers");
    let drive = spec(&[], vec![actor("A", vec![op("drive", &[])])]);
    refused("checkout-pool", &drive, (Some(0), Some(0)), "conn_tasks");
    let tasks = [("conn_tasks", Value::Bool(true))];
    let no_close = spec(&tasks, vec![actor("A", vec![op("drive", &[])])]);
    let e = model("checkout-pool")
        .check(&no_close)
        .expect_err("close-pool");
    assert_eq!(e.key, Some("conn_tasks"));
    let fine = vec![
        actor("A", vec![op("drive", &[])]),
        actor("B", vec![op("close-pool", &[])]),
    ];
    accepted("checkout-pool", &spec(&tasks, fine));
    let timed = [("idle_timers", Value::Bool(true))];
    accepted(
        "checkout-pool",
        &spec(&timed, vec![actor("A", vec![op("timers", &[])])]),
    );
}
