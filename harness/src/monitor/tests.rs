//! The definitions of the invariants on hand-written logs: what each counts and what it
//! exempts (the scenarios show them catching real variants).

mod independence;

use super::{CustomMonitor, Cx, MonitorSet, World};
use poolcheck_models::sync::{
    ActorInfo, CallbackKind, CloseReason, ConnPhase, Event, Ghost, Observer, Outcome, Record,
    RecordKind, Violation,
};

/// Feed `events` (actor, event) to the monitors named; the first violated invariant, if any.
fn verdict(invariants: &[&str], events: &[(usize, Event)]) -> Option<String> {
    judge(invariants, events, false)
}

/// [`verdict`], then the end of a completed execution.
fn verdict_at_end(invariants: &[&str], events: &[(usize, Event)]) -> Option<String> {
    judge(invariants, events, true)
}

fn judge(invariants: &[&str], events: &[(usize, Event)], to_the_end: bool) -> Option<String> {
    violation(invariants, events, to_the_end).map(|v| v.invariant)
}

/// The first violation of the monitors named, with its message.
fn violation(
    invariants: &[&str],
    events: &[(usize, Event)],
    to_the_end: bool,
) -> Option<Violation> {
    let names: Vec<String> = invariants.iter().map(|s| (*s).to_owned()).collect();
    feed(MonitorSet::new(&names), events, to_the_end)
}

/// Feed `events` to `set` as probes of actors main, A and B; the first violation, if any.
fn feed(mut set: MonitorSet, events: &[(usize, Event)], to_the_end: bool) -> Option<Violation> {
    let mut ghost = Ghost::default();
    for name in ["main", "A", "B"] {
        ghost.actors.push(ActorInfo {
            name: name.into(),
            waiting: None,
            done: false,
            held: 0,
        });
    }
    for (seq, (actor, ev)) in events.iter().enumerate() {
        let rec = Record {
            seq,
            step: seq as u64,
            actor: *actor,
            held: 0,
            kind: RecordKind::Probe(ev.clone()),
        };
        if let Err(v) = set.on_record(&ghost, &rec) {
            return Some(v);
        }
    }
    if to_the_end {
        return set.at_end(&ghost).err();
    }
    None
}

const A: usize = 1;
const B: usize = 2;

fn assigned(actor: usize) -> Vec<(usize, Event)> {
    vec![
        (actor, Event::RequestStarted { req: 200 }),
        (actor, Event::RequestAssigned { req: 200, conn: 1 }),
    ]
}

fn checked_out(actor: usize) -> Vec<(usize, Event)> {
    vec![
        (actor, Event::RequestStarted { req: 200 }),
        (actor, Event::ConnCheckedOut { req: 200, conn: 1 }),
    ]
}

fn closed(actor: usize, reason: CloseReason) -> (usize, Event) {
    (actor, Event::ConnClosed { conn: 1, reason })
}

#[test]
fn closed_while_active_counts_checked_out_requests_and_every_reason() {
    for reason in [CloseReason::Owner, CloseReason::Error, CloseReason::Expired] {
        let mut log = checked_out(B);
        log.push(closed(A, reason));
        assert_eq!(
            verdict(&["closed-while-active"], &log).as_deref(),
            Some("closed-while-active"),
            "{reason:?}"
        );
    }
}

#[test]
fn closed_while_active_lets_a_request_close_its_own_connection_and_the_teardown_run() {
    for closer in [B, 0] {
        let mut log = checked_out(B);
        log.push(closed(closer, CloseReason::Owner));
        assert_eq!(verdict(&["closed-while-active"], &log), None);
    }
    // httpcore may close a shared connection a request was assigned to; the request retries.
    let mut shared = assigned(B);
    shared.push(closed(A, CloseReason::Surplus));
    assert_eq!(verdict(&["closed-while-active"], &shared), None);
    let mut finished = checked_out(B);
    finished.push((
        B,
        Event::RequestFinished {
            req: 200,
            outcome: Outcome::Response,
        },
    ));
    finished.push(closed(A, CloseReason::Owner));
    assert_eq!(verdict(&["closed-while-active"], &finished), None);
}

#[test]
fn idle_while_active_counts_checked_out_requests_not_merely_assigned_ones() {
    let idle = (
        A,
        Event::ConnPhase {
            conn: 1,
            phase: ConnPhase::Idle { expire_at: None },
        },
    );
    let mut log = checked_out(B);
    log.push(idle.clone());
    assert_eq!(
        verdict(&["idle-while-active"], &log).as_deref(),
        Some("idle-while-active")
    );
    // httpcore's new connection is Idle after its handshake, before the request activates it.
    let mut log = assigned(B);
    log.push(idle);
    assert_eq!(verdict(&["idle-while-active"], &log), None);
}

fn ends(outcome: Outcome) -> (usize, Event) {
    (B, Event::RequestFinished { req: 200, outcome })
}

#[test]
fn spurious_error_wants_a_cause_for_every_failure() {
    let failed = Outcome::Error("connection closed".into());
    let cases: Vec<(Vec<(usize, Event)>, bool)> = vec![
        (vec![ends(Outcome::Cancelled)], false),
        (
            vec![
                (A, Event::RequestCancelled { req: 200 }),
                ends(Outcome::Cancelled),
            ],
            true,
        ),
        (vec![ends(failed.clone())], false),
        (vec![(A, Event::PoolClosed), ends(failed.clone())], true),
        (
            vec![closed(A, CloseReason::Error), ends(failed.clone())],
            true,
        ),
        (vec![ends(Outcome::Response)], true),
    ];
    for (events, holds) in cases {
        let mut log = assigned(B);
        log.extend(events);
        let got = verdict(&["spurious-error"], &log);
        assert_eq!(got.is_none(), holds, "{log:?}");
    }
}

#[test]
fn spurious_error_ignores_closes_of_connections_the_request_never_used() {
    let mut log = assigned(B);
    log.push((
        A,
        Event::ConnClosed {
            conn: 2,
            reason: CloseReason::Error,
        },
    ));
    log.push(ends(Outcome::Error("connection closed".into())));
    assert_eq!(
        verdict(&["spurious-error"], &log).as_deref(),
        Some("spurious-error")
    );
}

fn data_arrives(client: (i64, i64), peer: (i64, i64)) -> Vec<(usize, Event)> {
    vec![(
        A,
        Event::StreamFlowWindow {
            conn: 1,
            stream: 1,
            client: client.0,
            peer: peer.0,
            conn_client: client.1,
            conn_peer: peer.1,
        },
    )]
}

#[test]
fn flow_control_consistent_wants_both_receive_books_at_least_the_peers() {
    let judge = |client, peer| verdict(&["flow-control-consistent"], &data_arrives(client, peer));
    // In-flight WINDOW_UPDATEs: the client's books may be ahead of the peer, never behind.
    assert_eq!(judge((100, 200), (100, 200)), None);
    assert_eq!(judge((150, 300), (100, 200)), None);
    for behind in [((99, 200), (100, 200)), ((100, 199), (100, 200))] {
        assert_eq!(
            judge(behind.0, behind.1).as_deref(),
            Some("flow-control-consistent"),
            "{behind:?}"
        );
    }
}

#[test]
fn flow_control_consistent_wants_data_within_the_peers_receive_windows() {
    let sent = |len, stream_window, conn_window| {
        let ev = Event::PeerFlowWindow {
            conn: 1,
            stream: 1,
            len,
            stream_window,
            conn_window,
        };
        verdict(&["flow-control-consistent"], &[(A, ev)])
    };
    assert_eq!(sent(100, 100, 100), None);
    assert!(sent(101, 100, 200).is_some(), "over the stream window");
    assert!(sent(101, 200, 100).is_some(), "over the connection window");
}

#[test]
fn messages_name_an_actor_by_its_ghost_entry() {
    let mut ghost = Ghost::default();
    for name in ["main", "A"] {
        ghost.actors.push(ActorInfo {
            name: name.into(),
            waiting: None,
            done: false,
            held: 0,
        });
    }
    let world = World::default();
    let cx = Cx {
        ghost: &ghost,
        world: &world,
    };
    assert_eq!((cx.actor(A), cx.actor(7)), ("A", "?"));
}

#[test]
fn callback_order_wants_connection_lost_by_the_end_after_connection_made() {
    let callback = |kind| (A, Event::Callback { transport: 1, kind });
    let transport = |open: bool| {
        let id = 1;
        let ev = if open {
            Event::ResourceOpened {
                kind: "transport",
                id,
            }
        } else {
            Event::ResourceClosed {
                kind: "transport",
                id,
            }
        };
        (A, ev)
    };
    let made = vec![
        transport(true),
        callback(CallbackKind::Made),
        callback(CallbackKind::Exited),
    ];
    let closed = [made.clone(), vec![transport(false)]].concat();
    let caught = verdict_at_end(&["callback-order"], &closed);
    assert_eq!(
        caught.as_deref(),
        Some("callback-order"),
        "closed, never lost"
    );
    assert_eq!(
        verdict_at_end(&["callback-order"], &made),
        None,
        "no-leak's case"
    );
    let lost = [closed, vec![callback(CallbackKind::Lost)]].concat();
    assert_eq!(verdict_at_end(&["callback-order"], &lost), None);
    assert_eq!(verdict_at_end(&["callback-order"], &[]), None, "never made");
}

#[test]
fn a_monitor_that_does_not_say_what_it_reads_depends_on_every_record() {
    // dpor's soundness rests on this default: `no-leak` declares nothing, so every record is
    // one it may read, and two records it sees are never taken as independent.
    let set = MonitorSet::new(&["no-leak".to_owned()]);
    let mut touched = Vec::new();
    set.ghost_objects(&RecordKind::Done, &mut |k| touched.push(k));
    assert_eq!(touched, [0], "the monitor's own object");
}

#[test]
fn dpor_race_counts_and_debug_output_name_the_monitors() {
    let set = MonitorSet::new(&["no-leak".to_owned()]);
    assert_eq!(set.ghost_name(0), "monitor no-leak");
    let custom = CustomMonitor {
        name: "mine".into(),
        holds_when: "always".into(),
        new: std::sync::Arc::new(|| (super::find("no-leak").expect("built in").new)()),
    };
    let shown = format!("{custom:?}");
    assert!(
        shown.contains("\"mine\"") && shown.contains("\"always\""),
        "{shown}"
    );
}

#[test]
fn field_race_sees_a_store_inside_any_load_still_in_progress() {
    let field = "maxFrameSize";
    let enter = |write| Event::FieldEnter {
        conn: 1,
        field,
        write,
    };
    let exit = || Event::FieldExit { conn: 1, field };
    let race = Some("field-race");
    // Two loads may overlap; a store inside either is the race.
    assert_eq!(
        verdict(&["field-race"], &[(A, enter(false)), (B, enter(false))]),
        None
    );
    assert_eq!(
        verdict(&["field-race"], &[(A, enter(false)), (B, enter(true))]).as_deref(),
        race
    );
    // B's load leaves while A's is still in progress: A's must still be seen.
    let after_overlap = [
        (A, enter(false)),
        (B, enter(false)),
        (B, exit()),
        (0, enter(true)),
    ];
    assert_eq!(verdict(&["field-race"], &after_overlap).as_deref(), race);
    // Uses one after the other do not race.
    let sequential = [(A, enter(true)), (A, exit()), (B, enter(true)), (B, exit())];
    assert_eq!(verdict(&["field-race"], &sequential), None);
}

/// The message of the first violation of `invariant` on `events`.
fn message(invariant: &str, events: &[(usize, Event)]) -> String {
    violation(&[invariant], events, false).map_or_else(String::new, |v| v.message)
}

#[test]
fn callback_order_names_the_callback_out_of_order() {
    let callback = |kind| (A, Event::Callback { transport: 1, kind });
    let early = message("callback-order", &[callback(CallbackKind::Data)]);
    assert!(
        early.contains("ran a data callback before connection_made (run by A)"),
        "{early}"
    );
    let twice = [callback(CallbackKind::Made), callback(CallbackKind::Made)];
    let again = message("callback-order", &twice);
    assert!(
        again.contains("ran connection_made a second time"),
        "{again}"
    );
}

#[test]
fn hpack_consistent_shows_both_blocks_one_field_a_part_long_values_cut() {
    let long = format!("x-long: {}", "v".repeat(41));
    let encoded = Event::HeaderBlockEncoded {
        conn: 1,
        stream: 1,
        headers: format!(":method: GET\n{long}"),
    };
    let decoded = Event::HeaderBlockDecoded {
        conn: 1,
        stream: 1,
        headers: Ok(":method: PUT".into()),
    };
    let got = message("hpack-consistent", &[(A, encoded), (B, decoded)]);
    let cut = format!("[:method: GET; {}...(49 octets)]", &long[..40]);
    assert!(got.contains("decoded [:method: PUT] on"), "{got}");
    assert!(got.contains(&format!("encoded {cut} for it")), "{got}");
    let exactly_48 = format!("x-long: {}", "v".repeat(40));
    let fits = Event::HeaderBlockDecoded {
        conn: 1,
        stream: 3,
        headers: Ok(exactly_48.clone()),
    };
    let unasked = message("hpack-consistent", &[(A, fits)]);
    assert!(unasked.contains(&format!("[{exactly_48}]")), "{unasked}");
}

#[test]
fn flow_control_consistent_lets_dpor_reorder_its_window_probes() {
    // Each probe is judged on its own fields: none of them is a read of the monitor's object,
    // so dpor need not explore both orders of two of them (and the world view keys none).
    let set = MonitorSet::new(&["flow-control-consistent".to_owned()]);
    let window = Event::PeerFlowWindow {
        conn: 1,
        stream: 1,
        len: 1,
        stream_window: 1,
        conn_window: 1,
    };
    let [(_, arrives)] = &data_arrives((1, 1), (1, 1))[..] else {
        unreachable!("one probe")
    };
    for ev in [window, arrives.clone()] {
        let mut touched = Vec::new();
        set.ghost_objects(&RecordKind::Probe(ev), &mut |k| touched.push(k));
        assert_eq!(touched, Vec::<u64>::new());
    }
}

/// Whether the only monitor of `set` reads `kind` (its object is 0; the world's are above).
fn monitor_reads(invariant: &str, kind: RecordKind) -> bool {
    let set = MonitorSet::new(&[invariant.to_owned()]);
    let mut touched = Vec::new();
    set.ghost_objects(&kind, &mut |k| touched.push(k));
    touched.contains(&0)
}

#[test]
fn each_monitor_declares_the_records_it_reads_to_dpor() {
    let probe = RecordKind::Probe;
    let conn_created = || probe(Event::ConnCreated { conn: 1 });
    let read = [
        (
            "field-race",
            Event::FieldExit {
                conn: 1,
                field: "f",
            },
        ),
        ("hpack-consistent", Event::EncoderEnter { conn: 1 }),
        ("max-streams", Event::StreamClosed { conn: 1, stream: 1 }),
        ("spurious-error", Event::PoolClosed),
        (
            "stream-after-goaway",
            Event::GoawayReceived {
                conn: 1,
                last_stream: 1,
            },
        ),
    ];
    for (invariant, ev) in read {
        assert!(monitor_reads(invariant, probe(ev)), "{invariant} reads it");
        assert!(!monitor_reads(invariant, conn_created()), "{invariant}");
    }
    // Judged record by record on their own fields, or at the end: nothing to reorder.
    let blocking = RecordKind::Blocking(poolcheck_models::sync::BlockKind::NetWrite, "w".into());
    for invariant in ["lock-held-blocking", "request-answered"] {
        assert!(!monitor_reads(invariant, blocking.clone()), "{invariant}");
        assert!(!monitor_reads(invariant, conn_created()), "{invariant}");
    }
}

#[test]
fn hpack_consistent_lets_one_actor_at_a_time_use_an_encoder() {
    let enter = |a| (a, Event::EncoderEnter { conn: 1 });
    let exit = |a| (a, Event::EncoderExit { conn: 1 });
    let race = Some("hpack-consistent");
    assert_eq!(
        verdict(&["hpack-consistent"], &[enter(A), enter(B)]).as_deref(),
        race
    );
    let turns = [enter(A), enter(A), exit(A), enter(B), exit(B)];
    assert_eq!(verdict(&["hpack-consistent"], &turns), None);
}

fn assign(req: u32, conn: u32) -> (usize, Event) {
    (A, Event::RequestAssigned { req, conn })
}

fn limit_one() -> (usize, Event) {
    let applied = Event::SettingsApplied {
        conn: 1,
        max_streams: Some(1),
        header_table_size: None,
    };
    (A, applied)
}

#[test]
fn max_streams_counts_a_request_assigned_until_it_finishes_or_its_stream_closes() {
    let over = [limit_one(), assign(1, 1), assign(2, 1)];
    let caught = verdict(&["max-streams"], &over);
    assert_eq!(caught.as_deref(), Some("max-streams"));
    let finished = (
        A,
        Event::RequestFinished {
            req: 1,
            outcome: Outcome::Response,
        },
    );
    let after_finish = [limit_one(), assign(1, 1), finished, assign(2, 1)];
    assert_eq!(verdict(&["max-streams"], &after_finish), None);
    let stream = |open| {
        let ev = if open {
            Event::StreamOpened {
                conn: 1,
                stream: 1,
                req: 1,
            }
        } else {
            Event::StreamClosed { conn: 1, stream: 1 }
        };
        (A, ev)
    };
    let after_close = [
        limit_one(),
        assign(1, 1),
        stream(true),
        stream(false),
        assign(2, 1),
    ];
    assert_eq!(verdict(&["max-streams"], &after_close), None);
}

#[test]
fn max_streams_names_the_requests_of_the_over_assigned_connection_only() {
    let over = [limit_one(), assign(3, 2), assign(1, 1), assign(2, 1)];
    let e = message("max-streams", &over);
    assert!(
        e.contains(
            "handed connection 1 to request 2 while it already carries requests 1, 2: 2 \
                    in all, above its MAX_CONCURRENT_STREAMS of 1"
        ),
        "{e}"
    );
}

/// `permit-accounting` over `steps`: each record is judged with the semaphore (number 1) at
/// (free, held, reserved) permits; then the end. The first violation, if any.
fn permit_verdict(steps: &[(RecordKind, (i64, i64, i64))]) -> Option<String> {
    let mut set = MonitorSet::new(&["permit-accounting".to_owned()]);
    let mut ghost = Ghost::default();
    ghost.actors.push(ActorInfo {
        name: "main".into(),
        waiting: None,
        done: false,
        held: 0,
    });
    for name in ["other", "conn2.permits"] {
        ghost.sems.push(poolcheck_models::sync::SemInfo {
            name: name.into(),
            free: 0,
            held: 0,
            reserved: 0,
        });
    }
    for (seq, (kind, (free, held, reserved))) in steps.iter().enumerate() {
        let s = &mut ghost.sems[1];
        (s.free, s.held, s.reserved) = (*free, *held, *reserved);
        let rec = Record {
            seq,
            step: seq as u64,
            actor: 0,
            held: 0,
            kind: kind.clone(),
        };
        if let Err(v) = set.on_record(&ghost, &rec) {
            return Some(v.message);
        }
    }
    set.at_end(&ghost).err().map(|v| v.message)
}

fn permits(limit: u32) -> RecordKind {
    RecordKind::Probe(Event::StreamPermits {
        conn: 2,
        sem: 1,
        limit,
    })
}

fn protocol_open(open: u32) -> RecordKind {
    RecordKind::Probe(Event::ProtocolOpenStreams {
        conn: 2,
        open,
        limit: 2,
    })
}

#[test]
fn permit_accounting_wants_a_permit_held_for_every_stream_the_protocol_counts() {
    let stream = RecordKind::Probe(Event::StreamOpened {
        conn: 2,
        stream: 1,
        req: 1,
    });
    let one_stream = vec![
        (permits(2), (2, 0, 0)),
        (stream, (1, 1, 0)),
        (protocol_open(1), (1, 1, 0)),
    ];
    assert_eq!(permit_verdict(&one_stream), None, "1 free + 1 active = 2");
    // The permit goes back (a release of the connection's semaphore) with the stream open.
    let released = [
        one_stream.clone(),
        vec![(RecordKind::Release(1), (2, 0, 0))],
    ]
    .concat();
    let e = permit_verdict(&released).expect("a permit went back too early");
    assert!(
        e.contains("counts 1 open stream(s) but requests hold only 0"),
        "{e}"
    );
    // The structure's own reserved permits are not a request's.
    let reserved = [(permits(2), (0, 2, 1)), (protocol_open(2), (0, 2, 1))];
    let e = permit_verdict(&reserved).expect("2 open, 1 held by a request");
    assert!(
        e.contains("counts 2 open stream(s) but requests hold only 1"),
        "{e}"
    );
    let lost = [(permits(2), (1, 0, 0))];
    let e = permit_verdict(&lost).expect("a permit held by nobody");
    assert!(e.contains("1 permit(s) are held by no stream"), "{e}");
}

#[test]
fn request_answered_wants_every_started_request_finished_by_the_end() {
    let started = [(A, Event::RequestStarted { req: 1 })];
    let hung = verdict_at_end(&["request-answered"], &started);
    assert_eq!(hung.as_deref(), Some("request-answered"));
    let finished = Event::RequestFinished {
        req: 1,
        outcome: Outcome::Response,
    };
    let answered = [started[0].clone(), (B, finished)];
    assert_eq!(verdict_at_end(&["request-answered"], &answered), None);
}

#[test]
fn single_owner_forgets_a_holder_only_at_its_own_check_in() {
    let out = |req| (A, Event::ConnCheckedOut { conn: 1, req });
    let back = |req| (A, Event::ConnCheckedIn { conn: 1, req });
    let stale = [out(1), back(2), out(3)];
    let caught = verdict(&["single-owner"], &stale);
    assert_eq!(
        caught.as_deref(),
        Some("single-owner"),
        "request 1 still holds it"
    );
    assert_eq!(verdict(&["single-owner"], &[out(1), back(1), out(3)]), None);
}

#[test]
fn spurious_error_names_the_connections_the_request_used() {
    let failed = ends(Outcome::Error("connection closed".into()));
    let mut log = assigned(B);
    log.push((B, Event::RequestAssigned { req: 200, conn: 2 }));
    log.push(failed.clone());
    let used = message("spurious-error", &log);
    assert!(used.contains("(conn 1, conn 2)"), "{used}");
    let none = message("spurious-error", &[failed]);
    assert!(none.contains("(none)"), "{none}");
}

#[test]
fn stream_after_goaway_releases_a_caught_request_only_on_another_connection() {
    let caught = [
        (
            A,
            Event::StreamOpened {
                conn: 1,
                stream: 3,
                req: 200,
            },
        ),
        (
            A,
            Event::GoawayReceived {
                conn: 1,
                last_stream: 1,
            },
        ),
    ];
    let failed = ends(Outcome::Error("refused".into()));
    let same_conn = [caught.to_vec(), vec![assign(200, 1), failed.clone()]].concat();
    let v = verdict(&["stream-after-goaway"], &same_conn);
    assert_eq!(
        v.as_deref(),
        Some("stream-after-goaway"),
        "not retried elsewhere"
    );
    let moved = [caught.to_vec(), vec![assign(200, 2), failed]].concat();
    assert_eq!(verdict(&["stream-after-goaway"], &moved), None);
}

#[test]
fn the_world_follows_a_request_to_the_connection_it_was_last_assigned() {
    // Checked out on connection 1, then moved to connection 2: closing 1 closes nothing of it.
    let mut log = checked_out(B);
    log.push((B, Event::RequestAssigned { req: 200, conn: 2 }));
    log.push(closed(A, CloseReason::Owner));
    assert_eq!(verdict(&["closed-while-active"], &log), None);
    let mut log = checked_out(B);
    log.push(closed(A, CloseReason::Owner));
    let e = message("closed-while-active", &log);
    assert!(
        e.contains("while request 200 has it checked out and has not finished"),
        "{e}"
    );
    let mut log = assigned(B);
    log.push((
        B,
        Event::StreamOpened {
            conn: 1,
            stream: 3,
            req: 200,
        },
    ));
    log.push(closed(A, CloseReason::Owner));
    let e = message("closed-while-active", &log);
    assert!(
        e.contains("while request 200 is active on its stream 3"),
        "{e}"
    );
}

#[test]
fn world_keys_tell_every_object_apart_and_name_it() {
    let conn = |conn| Event::ConnCreated { conn };
    let stream = |conn, stream| Event::StreamClosed { conn, stream };
    let req = |req| Event::RequestStarted { req };
    let resource = |kind, id| Event::ResourceClosed { kind, id };
    let objects = [
        conn(1),
        conn(2),
        stream(1, 1),
        stream(1, 3),
        stream(2, 1),
        req(1),
        req(2),
        resource("transport", 1),
        resource("transport", 2),
        resource("pipe", 1),
        resource("poll-task", 1),
        resource("slot", 1),
        resource("conn", 1),
        stream(1, 0xff_ffff),
    ];
    let keys: Vec<u64> = objects
        .iter()
        .map(|ev| World::key_of(ev).expect("a world object"))
        .collect();
    let distinct: std::collections::BTreeSet<u64> = keys.iter().copied().collect();
    assert_eq!(distinct.len(), keys.len(), "{keys:x?}");
    assert!(
        keys.iter().all(|k| *k >= 1 << 32),
        "above the monitors' own numbers"
    );
    let names: Vec<String> = keys.iter().map(|k| World::describe_key(*k)).collect();
    assert_eq!(
        names[..3],
        ["world conn 1", "world conn 2", "world conn 1 stream 1"]
    );
    assert_eq!(
        names[5..8],
        ["world request 1", "world request 2", "world resource 1"]
    );
    // Every event about one object has that object's key.
    let same = [
        (
            conn(1),
            Event::ConnClosed {
                conn: 1,
                reason: CloseReason::Owner,
            },
        ),
        (
            stream(1, 3),
            Event::StreamOpened {
                conn: 1,
                stream: 3,
                req: 9,
            },
        ),
        (req(2), Event::ConnCheckedOut { req: 2, conn: 5 }),
        (req(2), Event::RequestAssigned { req: 2, conn: 5 }),
        (
            resource("pipe", 1),
            Event::ResourceOpened {
                kind: "pipe",
                id: 1,
            },
        ),
    ];
    for (a, b) in same {
        assert_eq!(World::key_of(&a), World::key_of(&b), "{a:?} and {b:?}");
    }
    assert_eq!(World::key_of(&Event::PoolClosed), None);
}

#[test]
fn a_request_with_a_stream_on_a_connection_is_active_there_once() {
    use super::Activity;
    let mut world = World::default();
    let events = [
        Event::RequestStarted { req: 1 },
        Event::RequestAssigned { req: 1, conn: 1 },
        Event::StreamOpened {
            conn: 1,
            stream: 3,
            req: 1,
        },
        Event::RequestStarted { req: 2 },
        Event::RequestAssigned { req: 2, conn: 1 },
    ];
    for (seq, ev) in events.into_iter().enumerate() {
        world.apply(&Record {
            seq,
            step: seq as u64,
            actor: A,
            held: 0,
            kind: RecordKind::Probe(ev),
        });
    }
    assert_eq!(
        world.active_on(1),
        [(1, Activity::Stream(3)), (2, Activity::Assigned)]
    );
}
