//! A counterexample's interleaving: the ghost log turned into rows a person can read, and the
//! text table (one column per actor, one row per step, locks held, the violation last).
//!
//! Rendering is a pure function of the log, so the same execution renders byte-identically.

use crate::monitor;
use poolcheck_models::sync::{Event, Ghost, Record, RecordKind};
use serde::{Deserialize, Serialize};

/// One visible step.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TraceRow {
    /// Position in the ghost log.
    pub seq: usize,
    /// Scheduling steps taken so far.
    pub step: u64,
    /// Actor index (column).
    pub actor: usize,
    /// Record kind tag (`lock`, `unlock`, `await`, `blocking`, `probe`...).
    pub kind: String,
    /// What happened, in words.
    pub text: String,
    /// Locks the actor held after the step.
    pub locks: Vec<String>,
    /// `to-peer` / `from-peer` when the step is a message on the wire.
    pub wire: Option<String>,
    /// The actor at the other end of that message, when it is one of the trace's actors (a
    /// real-stack wire: client and server connections); `None` means the scripted peer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub peer: Option<usize>,
}

/// The violated invariant, as shown last.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TraceViolation {
    /// Invariant name.
    pub invariant: String,
    /// Its definition in words.
    pub holds_when: String,
    /// What went wrong.
    pub message: String,
    /// The actor whose step revealed it.
    pub actor: Option<usize>,
    /// Log position of that step.
    pub seq: usize,
}

/// The interleaving of one execution.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Trace {
    /// Actor names, by index.
    pub actors: Vec<String>,
    /// Visible steps in order.
    pub rows: Vec<TraceRow>,
    /// The violation, if the execution failed.
    pub violation: Option<TraceViolation>,
    /// Logical time at the end.
    pub clock: u64,
}

impl Trace {
    /// Build the trace of an execution from its ghost state.
    pub fn from_ghost(g: &Ghost) -> Self {
        let rows = g.log.iter().filter_map(|r| row(g, r)).collect();
        let violation = g.violation.as_ref().map(|v| TraceViolation {
            invariant: v.invariant.clone(),
            holds_when: holds_when(&v.invariant),
            message: v.message.clone(),
            actor: v.actor,
            seq: v.seq,
        });
        Trace {
            actors: g.actors.iter().map(|a| a.name.clone()).collect(),
            rows,
            violation,
            clock: g.clock,
        }
    }
}

/// The definition of an invariant or harness verdict.
pub fn holds_when(name: &str) -> String {
    if let Some(m) = monitor::find(name) {
        return m.holds_when.to_owned();
    }
    monitor::HARNESS_VERDICTS
        .iter()
        .find(|(n, _)| *n == name)
        .map_or_else(String::new, |(_, d)| (*d).to_owned())
}

fn row(g: &Ghost, r: &Record) -> Option<TraceRow> {
    let (kind, text) = describe(g, &r.kind)?;
    let locks = g
        .locks_in(r.held)
        .filter(|(_, l)| !l.class.internal)
        .map(|(_, l)| l.name.clone())
        .collect();
    let wire = wire_direction(&r.kind).map(str::to_owned);
    Some(TraceRow {
        seq: r.seq,
        step: r.step,
        actor: r.actor,
        kind: kind.into(),
        text,
        locks,
        wire,
        peer: None,
    })
}

fn internal(g: &Ghost, lock: usize) -> bool {
    g.locks[lock].class.internal
}

/// The kind tag and text of a record; `None` hides it (internal locks, notifications).
fn describe(g: &Ghost, k: &RecordKind) -> Option<(&'static str, String)> {
    let lock = |l: &usize| g.locks[*l].name.clone();
    Some(match k {
        RecordKind::Start => ("start", "starts".into()),
        RecordKind::Spawn(a) => ("spawn", format!("spawns {}", g.actors[*a].name)),
        RecordKind::Joined(a) => ("join", format!("joins {}", g.actors[*a].name)),
        RecordKind::Done => ("done", "returns".into()),
        RecordKind::Lock(l) if !internal(g, *l) => ("lock", format!("locks {}", lock(l))),
        RecordKind::Unlock(l) if !internal(g, *l) => ("unlock", format!("unlocks {}", lock(l))),
        RecordKind::Wait(l, c) if !internal(g, *l) => {
            ("wait", format!("waits: {c} (releases {})", lock(l)))
        }
        RecordKind::Wait(_, c) => ("wait", format!("waits: {c}")),
        RecordKind::Woke(l) if !internal(g, *l) => ("woke", format!("wakes (holds {})", lock(l))),
        RecordKind::Yield(label) => ("await", format!("await {label}")),
        RecordKind::Blocking(kind, what) => {
            ("blocking", format!("BLOCKING {}: {what}", kind.name()))
        }
        RecordKind::Acquire(s) => (
            "permit",
            format!("acquires a permit of {}", g.sems[*s].name),
        ),
        RecordKind::Release(s) => (
            "permit",
            format!("releases a permit of {}", g.sems[*s].name),
        ),
        RecordKind::Clock(t) => ("clock", format!("clock -> {t}")),
        RecordKind::Probe(e) => ("probe", describe_event(e)),
        RecordKind::Lock(_)
        | RecordKind::Unlock(_)
        | RecordKind::Woke(_)
        | RecordKind::Notify(_)
        | RecordKind::Reserve(..) => return None,
    })
}

fn wire_direction(k: &RecordKind) -> Option<&'static str> {
    let RecordKind::Probe(e) = k else { return None };
    match e {
        Event::HeadersSent { .. } | Event::GoawaySent { .. } => Some("to-peer"),
        Event::GoawayReceived { .. } | Event::SettingsApplied { .. } => Some("from-peer"),
        _ => None,
    }
}

/// An event in words.
pub fn describe_event(e: &Event) -> String {
    match e {
        Event::RequestStarted { req } => format!("request {req} starts"),
        Event::RequestFinished { req, outcome } => format!("request {req} ends: {outcome:?}"),
        Event::RequestAssigned { req, conn } => format!("request {req} assigned to conn {conn}"),
        Event::RequestCancelled { req } => format!("request {req} CANCELLED"),
        Event::PoolClosed => "pool closed".into(),
        Event::StreamOpened { conn, stream, req } => {
            format!("conn {conn}: stream {stream} opened for request {req}")
        }
        Event::StreamClosed { conn, stream } => format!("conn {conn}: stream {stream} closed"),
        Event::ConnCreated { conn } => format!("conn {conn} created"),
        Event::ConnPhase { conn, phase } => format!("conn {conn} state := {phase:?}"),
        Event::ConnClosed { conn, reason } => format!("conn {conn} CLOSED ({reason:?})"),
        Event::ConnPooled { conn } => format!("conn {conn} back in the pool"),
        Event::ConnCheckedOut { conn, req } => format!("conn {conn} checked out by request {req}"),
        Event::ConnCheckedIn { conn, req } => format!("conn {conn} checked in by request {req}"),
        Event::ResourceOpened { kind, id } => format!("{kind} {id} opened"),
        Event::ResourceClosed { kind, id } => format!("{kind} {id} released"),
        Event::PoolLimit { max_connections } => {
            format!("pool limit: {max_connections} connection(s)")
        }
        Event::Note(text) => text.clone(),
        Event::User(ev) => ev.to_string(),
        Event::Callback { transport, kind } => format!("transport {transport}: {kind:?} callback"),
        Event::GoawayReceived { conn, last_stream } => {
            format!("conn {conn}: GOAWAY received (last stream {last_stream})")
        }
        Event::SettingsApplied {
            conn,
            max_streams,
            header_table_size,
        } => {
            format!("conn {conn}: SETTINGS applied (max streams {max_streams:?}, table {header_table_size:?})")
        }
        Event::HeadersSent { conn, stream } => {
            format!("conn {conn}: HEADERS for stream {stream} sent")
        }
        other => format!("{other:?}"),
    }
}

/// Render the trace as a text table: one column per actor, the locks each step's actor holds,
/// and the violation last.
///
/// Column widths are counted in characters and capped at [`MAX_WIDTH`]: a longer actor name is
/// shortened with `…` (the loader allows 32 characters, but a trace may come from anywhere), and
/// a row naming an actor the trace does not list goes in the last column.
pub fn render_table(t: &Trace) -> String {
    let cols = t.actors.len();
    if cols == 0 {
        return String::from("(no actors)\n");
    }
    let col = |actor: usize| actor.min(cols - 1);
    let header: Vec<String> = t.actors.iter().map(|a| shorten(a, MAX_WIDTH)).collect();
    let mut widths: Vec<usize> = header.iter().map(|a| a.chars().count().max(6)).collect();
    for r in &t.rows {
        let w = &mut widths[col(r.actor)];
        *w = (*w).max(r.text.chars().count().min(MAX_WIDTH));
    }
    let mut out = String::new();
    push_line(&mut out, "step", &header, &widths, "locks held");
    let rule: Vec<String> = widths.iter().map(|w| "-".repeat(*w)).collect();
    push_line(&mut out, "----", &rule, &widths, "----------");
    for r in &t.rows {
        let lines = wrap(&r.text, widths[col(r.actor)]);
        for (i, l) in lines.iter().enumerate() {
            let mut cells = vec![String::new(); cols];
            cells[col(r.actor)] = l.clone();
            let step = if i == 0 {
                r.step.to_string()
            } else {
                String::new()
            };
            let locks = if i == 0 {
                r.locks.join(", ")
            } else {
                String::new()
            };
            push_line(&mut out, &step, &cells, &widths, &locks);
        }
    }
    if let Some(v) = &t.violation {
        out.push_str(&format!(
            "\nVIOLATION {}: {}\n  holds when: {}\n",
            v.invariant, v.message, v.holds_when
        ));
    }
    out
}

/// The widest a column gets, in characters.
pub const MAX_WIDTH: usize = 34;

/// `name` cut to `max` characters, the last one `…` when it was cut.
pub fn shorten(name: &str, max: usize) -> String {
    if name.chars().count() <= max {
        return name.to_owned();
    }
    let mut out: String = name.chars().take(max.saturating_sub(1)).collect();
    out.push('…');
    out
}

/// One table line. Cells are padded by hand, not with `{:<w$}`: a formatting width must fit in
/// a `u16`, and a width from the data must never be able to panic.
fn push_line(out: &mut String, step: &str, cells: &[String], widths: &[usize], locks: &str) {
    let mut line = format!("{step:>5} |");
    for (c, w) in cells.iter().zip(widths) {
        line.push(' ');
        line.push_str(c);
        let pad = w.saturating_sub(c.chars().count());
        line.extend(std::iter::repeat_n(' ', pad));
        line.push_str(" |");
    }
    line.push(' ');
    line.push_str(locks);
    out.push_str(line.trim_end());
    out.push('\n');
}

/// Split `text` into lines of at most `width` characters, at spaces where possible.
fn wrap(text: &str, width: usize) -> Vec<String> {
    let mut lines = vec![String::new()];
    for word in text.split(' ') {
        let cur = lines.last_mut().expect("never empty");
        let len = cur.chars().count();
        if len > 0 && len + 1 + word.chars().count() > width {
            lines.push(String::new());
        }
        let cur = lines.last_mut().expect("never empty");
        if !cur.is_empty() {
            cur.push(' ');
        }
        cur.push_str(word);
    }
    lines
        .into_iter()
        .flat_map(|l| hard_split(&l, width))
        .collect()
}

fn hard_split(line: &str, width: usize) -> Vec<String> {
    let chars: Vec<char> = line.chars().collect();
    if chars.len() <= width {
        return vec![line.to_owned()];
    }
    chars.chunks(width).map(|c| c.iter().collect()).collect()
}
