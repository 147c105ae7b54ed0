//! A real-stack run judged as a harness trial: the harness's [`TrialResult`], with a
//! [`Counterexample`] built by the harness's builder, so it is written, printed and replayed like
//! a model's: the same Markdown, JSON and HTML reports, with a wire-level ladder.
//!
//! The interleaving of a real-stack execution is its wire, as the client end saw it: one lane
//! for the client and one per server connection (`server <host>#<conn>`), one row per decoded
//! frame (an arrow from the sender's lane to the receiver's), then one row per request saying
//! how it ended. The crates' own tasks are not lanes: shuttle schedules them, but what they do
//! between two await points is only visible through the bytes they write.

use crate::{
    OutcomeClass, RealRun, RealScenario, RequestRow, WireRow, CRATE_VERSIONS, PROPERTIES, VARIANT,
};
use poolcheck_harness::backend::SchedulerSpec;
use poolcheck_harness::report::{budget, Counterexample};
use poolcheck_harness::trace::{Trace, TraceRow, TraceViolation};
use poolcheck_harness::trial::TrialResult;
use std::collections::BTreeMap;

/// `run`, explored with `spec`, judged against the scenario's expectation for [`VARIANT`].
pub fn judge(sc: &RealScenario, spec: &SchedulerSpec, run: &RealRun) -> TrialResult {
    let ok = run.verdict == sc.expect;
    let name = [sc.about.name.as_str(), VARIANT, spec.name(), &sc.expect];
    let mut r = TrialResult::named(name, &run.verdict, judgement(sc, run, ok));
    r.ok = ok;
    r.executions = run.executions;
    r.elapsed = run.elapsed;
    r.seed = spec.seed();
    r.counterexample = counterexample(sc, spec, run);
    r
}

fn judgement(sc: &RealScenario, run: &RealRun, ok: bool) -> String {
    let got = match (&run.detail, run.verdict.as_str()) {
        (_, "pass") => "no forbidden outcome and no property violated".to_owned(),
        (Some(d), v) => format!("{v} in case {}: {d}", run.case),
        (None, v) => format!("{v} in case {}", run.case),
    };
    if ok {
        got
    } else {
        format!("expected {}, got {got}", sc.expect)
    }
}

/// The counterexample of a failed run; `None` when it passed. Its budget names the crate
/// versions explored: `pct, depth 3, 500 iterations per case x 4 cases, seed 1; h2 0.4.20, ...`.
pub fn counterexample(
    sc: &RealScenario,
    spec: &SchedulerSpec,
    run: &RealRun,
) -> Option<Counterexample> {
    let (verdict, executions) = (&run.verdict, run.executions);
    let mut c =
        Counterexample::found_in(&sc.about, VARIANT, spec, verdict, executions, run.elapsed)?;
    c.budget = format!("{}; {CRATE_VERSIONS}", budget(spec, Some(sc.cases.len())));
    // `detail` stays empty: the violation's message is in the trace, and twice would be noise.
    c.schedule.clone_from(&run.schedule);
    c.trace = Some(wire_trace(run));
    c.outcomes = Some(outcomes(run));
    Some(c)
}

/// The outcome table over the whole exploration, then the failing execution's requests.
fn outcomes(t: &RealRun) -> String {
    let mut out = t.render_outcomes();
    out.push_str(&format!(
        "\nrequests of the failing execution (case {}):\n",
        t.case
    ));
    out.push_str(&t.render_requests());
    out
}

/// The wire of the reported execution as a trace: frames, then the requests' endings, then the
/// violation. A pure function of the trial, so a replay that reproduces the execution gives the
/// same trace.
pub fn wire_trace(t: &RealRun) -> Trace {
    let (actors, lane_of) = lanes(&t.wire_log);
    let mut rows: Vec<TraceRow> = t
        .wire_log
        .iter()
        .enumerate()
        .map(|(i, w)| frame_row(i, w, lane_of[&w.conn]))
        .collect();
    let last_step = rows.last().map_or(0, |r| r.step);
    let first_request = rows.len();
    rows.extend(
        t.requests
            .iter()
            .enumerate()
            .map(|(k, r)| request_row(first_request + k, last_step, r)),
    );
    let violation = violation(t, &rows, first_request);
    Trace {
        actors,
        rows,
        violation,
        clock: 0,
    }
}

/// The lanes: `client`, then one per connection in order of its first frame.
fn lanes(wire: &[WireRow]) -> (Vec<String>, BTreeMap<usize, usize>) {
    let mut actors = vec!["client".to_owned()];
    let mut lane_of = BTreeMap::new();
    for w in wire {
        lane_of.entry(w.conn).or_insert_with(|| {
            actors.push(format!("server {}#{}", w.host, w.conn));
            actors.len() - 1
        });
    }
    (actors, lane_of)
}

fn frame_row(seq: usize, w: &WireRow, server: usize) -> TraceRow {
    let (actor, peer) = if w.actor == "client" {
        (0, server)
    } else {
        (server, 0)
    };
    TraceRow {
        seq,
        step: w.seq as u64,
        actor,
        kind: "frame".into(),
        text: w.frame.clone(),
        locks: Vec::new(),
        wire: Some("to-peer".into()),
        peer: Some(peer),
    }
}

fn request_row(seq: usize, step: u64, r: &RequestRow) -> TraceRow {
    TraceRow {
        seq,
        step,
        actor: 0,
        kind: "outcome".into(),
        text: format!(
            "request {} to {}: {} ({}; processed {}, {} HEADERS)",
            r.name, r.host, r.class, r.ending, r.processed, r.attempts
        ),
        locks: Vec::new(),
        wire: None,
        peer: None,
    }
}

/// The violation, pinned to the row that shows it: the request whose class is forbidden (or
/// that hung, or was processed twice), else the last frame.
fn violation(t: &RealRun, rows: &[TraceRow], first_request: usize) -> Option<TraceViolation> {
    if t.verdict == "pass" {
        return None;
    }
    let culprit = |r: &RequestRow| match t.verdict.as_str() {
        "request-answered" => r.class == OutcomeClass::Hung.name(),
        "processed-once" => r.processed > 1,
        v => r.class == v,
    };
    let seq = t
        .requests
        .iter()
        .position(culprit)
        .map(|k| first_request + k)
        .or_else(|| first_request.checked_sub(1))
        .or_else(|| rows.len().checked_sub(1))
        .unwrap_or(0);
    Some(TraceViolation {
        invariant: t.verdict.clone(),
        holds_when: holds_when(&t.verdict),
        message: t.detail.clone().unwrap_or_default(),
        actor: Some(rows.get(seq).map_or(0, |r| r.actor)),
        seq,
    })
}

/// The definition of a real-stack verdict: a wire or request property, a forbidden outcome
/// class, or a harness verdict.
pub fn holds_when(verdict: &str) -> String {
    if let Some((_, words)) = PROPERTIES.iter().find(|(n, _)| *n == verdict) {
        return (*words).to_owned();
    }
    if OutcomeClass::from_name(verdict).is_some() {
        return format!("no request ends as `{verdict}` (the scenario declares it forbidden)");
    }
    match verdict {
        "bound-hit" => "every execution ends within the scenario's step bound".into(),
        "model-panic" => "the real crates and the scenario's tasks never panic".into(),
        "nondeterminism" => {
            "the same schedule gives the same execution (shuttle's nondeterminism check)".into()
        }
        _ => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn wire(seq: usize, conn: usize, actor: &str, frame: &str) -> WireRow {
        WireRow {
            seq,
            conn,
            host: "a".into(),
            actor: actor.into(),
            direction: String::new(),
            frame: frame.into(),
        }
    }

    #[test]
    fn frames_are_arrows_between_the_client_and_its_connections() {
        let log = [
            wire(0, 0, "client", "HEADERS 1"),
            wire(1, 0, "server", "GOAWAY 0"),
            wire(2, 1, "client", "HEADERS 1"),
        ];
        let (actors, lanes) = lanes(&log);
        assert_eq!(actors, ["client", "server a#0", "server a#1"]);
        let rows: Vec<TraceRow> = log
            .iter()
            .enumerate()
            .map(|(i, w)| frame_row(i, w, lanes[&w.conn]))
            .collect();
        let ends: Vec<(usize, Option<usize>)> = rows.iter().map(|r| (r.actor, r.peer)).collect();
        assert_eq!(ends, [(0, Some(1)), (1, Some(0)), (0, Some(2))]);
    }

    #[test]
    fn every_real_verdict_has_a_definition() {
        let names = PROPERTIES.iter().map(|(n, _)| *n);
        let classes = OutcomeClass::ALL.iter().map(|c| c.name());
        let harness = ["bound-hit", "model-panic", "nondeterminism"].into_iter();
        for v in names.chain(classes).chain(harness) {
            assert!(!holds_when(v).is_empty(), "{v} has no definition");
        }
    }
}
