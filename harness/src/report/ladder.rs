//! The swimlane (ladder) diagram of an interleaving, as inline SVG.
//!
//! One vertical lane per actor (and a `peer` lane when messages cross the wire and no actor is
//! called `peer`), one row per step, top to bottom. A step is a dot on its actor's lane with its
//! text beside it; a step whose `wire` is `to-peer`/`from-peer` is an arrow between the actor's
//! lane and the peer's; a lock held by an actor over consecutive steps is a coloured bar beside
//! its lane; the step that revealed the violation sits on a red band, and the violation is the
//! last row. Pure function of the trace: the same trace gives the same bytes.

use super::html::escape;
use super::markdown::violating_row;
use crate::trace::{Trace, TraceRow};
use std::collections::BTreeMap;
use std::fmt::Write as _;

const LEFT: usize = 56;
const TOP: usize = 44;
const LANE: usize = 210;
const ROW: usize = 24;
const BAR: usize = 6;
const LABEL_CHARS: usize = 30;
const PALETTE: &[&str] = &[
    "#3b82f6", "#f59e0b", "#10b981", "#a855f7", "#ef4444", "#14b8a6", "#ec4899", "#84cc16",
];

/// The lanes: the trace's actors, plus `peer` when needed. Returns (names, peer lane index).
fn lanes(t: &Trace) -> (Vec<String>, Option<usize>) {
    let mut names = t.actors.clone();
    let wired = t.rows.iter().any(|r| r.wire.is_some() && r.peer.is_none());
    let peer = names.iter().position(|a| a.eq_ignore_ascii_case("peer"));
    let peer = match (peer, wired) {
        (Some(p), _) => Some(p),
        (None, true) => {
            names.push("peer".into());
            Some(names.len() - 1)
        }
        (None, false) => None,
    };
    (names, peer)
}

fn lane_x(lane: usize) -> usize {
    LEFT + LANE * lane + LANE / 2
}

fn row_y(i: usize) -> usize {
    TOP + ROW * i + ROW / 2
}

/// A lock held by one actor from one row to another (row indices, inclusive).
#[derive(Debug, PartialEq, Eq)]
struct Held {
    actor: usize,
    lock: String,
    from: usize,
    to: usize,
}

/// Lock-held intervals: per actor, a lock is held from the first of its rows that lists it to
/// the first of its rows that no longer does (the release), or to the last row.
fn held_intervals(t: &Trace) -> Vec<Held> {
    let mut open: BTreeMap<(usize, String), usize> = BTreeMap::new();
    let mut out = Vec::new();
    for (i, r) in t.rows.iter().enumerate() {
        let released: Vec<(usize, String)> = open
            .keys()
            .filter(|(a, l)| *a == r.actor && !r.locks.contains(l))
            .cloned()
            .collect();
        for key in released {
            let from = open.remove(&key).expect("present");
            out.push(Held {
                actor: key.0,
                lock: key.1,
                from,
                to: i,
            });
        }
        for l in &r.locks {
            open.entry((r.actor, l.clone())).or_insert(i);
        }
    }
    let last = t.rows.len().saturating_sub(1);
    for ((actor, lock), from) in open {
        out.push(Held {
            actor,
            lock,
            from,
            to: last,
        });
    }
    out.sort_by_key(|h| (h.from, h.actor));
    out
}

/// The diagram as one `<svg>` element.
pub fn render_svg(t: &Trace) -> String {
    let (names, peer) = lanes(t);
    let rows = t.rows.len() + usize::from(t.violation.is_some());
    // The last lane's labels run LABEL_CHARS characters past its line.
    let width = LEFT + LANE * names.len() + LABEL_CHARS * 7 - LANE / 2 + 20;
    let height = TOP + ROW * rows + 20;
    let mut s = format!(
        "<svg class=\"ladder\" viewBox=\"0 0 {width} {height}\" width=\"{width}\" \
         height=\"{height}\" role=\"img\" aria-label=\"interleaving diagram\">\n"
    );
    s.push_str(
        "<defs><marker id=\"arrow\" viewBox=\"0 0 10 10\" refX=\"9\" refY=\"5\" \
         markerWidth=\"7\" markerHeight=\"7\" orient=\"auto-start-reverse\">\
         <path d=\"M0,0 L10,5 L0,10 z\" fill=\"#334155\"/></marker></defs>\n",
    );
    let violating = t.violation.as_ref().and_then(|v| violating_row(t, v.seq));
    if let Some(i) = violating {
        band(&mut s, i, width, "hit");
    }
    for (lane, name) in names.iter().enumerate() {
        lane_line(&mut s, lane, name, height);
    }
    bars(&mut s, t);
    for (i, r) in t.rows.iter().enumerate() {
        step(&mut s, i, r, peer, Some(i) == violating);
    }
    if let Some(v) = &t.violation {
        let text = format!("VIOLATION {}: {}", v.invariant, v.message);
        for (k, line) in verdict_lines(t, width).iter().enumerate() {
            let i = t.rows.len() + k;
            band(&mut s, i, width, "verdict");
            writeln!(
                s,
                "<text class=\"violation\" x=\"{}\" y=\"{}\">{}<title>{}</title></text>",
                LEFT,
                row_y(i) + 4,
                escape(line),
                escape(&text)
            )
            .expect("String");
        }
    }
    s.push_str("</svg>\n");
    s
}

fn band(s: &mut String, i: usize, width: usize, class: &str) {
    writeln!(
        s,
        "<rect class=\"{class}\" x=\"0\" y=\"{}\" width=\"{width}\" height=\"{ROW}\"/>",
        TOP + ROW * i
    )
    .expect("String");
}

fn lane_line(s: &mut String, lane: usize, name: &str, height: usize) {
    let x = lane_x(lane);
    writeln!(
        s,
        "<text class=\"lane-name\" x=\"{x}\" y=\"{}\" text-anchor=\"middle\">{}</text>\n\
         <line class=\"lane\" x1=\"{x}\" y1=\"{TOP}\" x2=\"{x}\" y2=\"{}\"/>",
        TOP - 16,
        escape(name),
        height - 10
    )
    .expect("String");
}

/// Each lock's bar colour, in order of first acquisition.
pub fn lock_colours(t: &Trace) -> Vec<(String, &'static str)> {
    let mut out: Vec<(String, &'static str)> = Vec::new();
    for h in held_intervals(t) {
        if !out.iter().any(|(l, _)| *l == h.lock) {
            let c = PALETTE[out.len() % PALETTE.len()];
            out.push((h.lock, c));
        }
    }
    out
}

fn bars(s: &mut String, t: &Trace) {
    let colours = lock_colours(t);
    let mut slot: BTreeMap<(usize, &str), usize> = BTreeMap::new();
    let held = held_intervals(t);
    for h in &held {
        let colour = colours
            .iter()
            .find(|(l, _)| *l == h.lock)
            .map_or(PALETTE[0], |(_, c)| c);
        let next = slot.keys().filter(|(a, _)| *a == h.actor).count();
        let k = *slot.entry((h.actor, &h.lock)).or_insert(next);
        let x = lane_x(h.actor) - 12 - (BAR + 2) * k;
        let y0 = row_y(h.from) - 8;
        let y1 = row_y(h.to) + 8;
        let (first, last) = (t.rows[h.from].step, t.rows[h.to].step);
        writeln!(
            s,
            "<rect class=\"held\" x=\"{x}\" y=\"{y0}\" width=\"{BAR}\" height=\"{}\" \
             fill=\"{}\"><title>{} holds {} (steps {first}-{last})</title></rect>",
            y1 - y0,
            colour,
            escape(&t.actors[h.actor]),
            escape(&h.lock)
        )
        .expect("String");
    }
}

fn step(s: &mut String, i: usize, r: &TraceRow, peer: Option<usize>, hit: bool) {
    let (x, y) = (lane_x(r.actor), row_y(i));
    writeln!(
        s,
        "<text class=\"step\" x=\"{}\" y=\"{}\" text-anchor=\"end\">{}</text>",
        LEFT - 8,
        y + 4,
        r.step
    )
    .expect("String");
    let arrow = r.peer.or(peer).filter(|p| *p != r.actor).and_then(|p| {
        let (from, to) = match r.wire.as_deref()? {
            "to-peer" => (x, lane_x(p)),
            "from-peer" => (lane_x(p), x),
            _ => return None,
        };
        Some((from, to))
    });
    if let Some((from, to)) = arrow {
        let pad = |a: usize, b: usize| if a < b { a + 5 } else { a - 5 };
        writeln!(
            s,
            "<line class=\"wire\" x1=\"{}\" y1=\"{y}\" x2=\"{}\" y2=\"{y}\" \
             marker-end=\"url(#arrow)\"/>",
            pad(from, to),
            pad(to, from)
        )
        .expect("String");
    }
    let class = if hit { "dot hit" } else { "dot" };
    writeln!(
        s,
        "<circle class=\"{class}\" cx=\"{x}\" cy=\"{y}\" r=\"{}\"/>",
        if hit { 6 } else { 4 }
    )
    .expect("String");
    // Arrow labels sit above the arrow, other labels beside the dot.
    let ty = if arrow.is_some() { y - 4 } else { y + 4 };
    writeln!(
        s,
        "<text class=\"label {}\" x=\"{}\" y=\"{ty}\">{}<title>{}</title></text>",
        r.kind,
        x + 9,
        escape(&clip(&r.text, LABEL_CHARS)),
        escape(&r.text)
    )
    .expect("String");
}

/// The violation line, wrapped at word boundaries to the diagram's width (7.5 px a character).
fn verdict_lines(t: &Trace, width: usize) -> Vec<String> {
    let Some(v) = &t.violation else {
        return Vec::new();
    };
    let per_line = (width.saturating_sub(LEFT) * 2 / 15).max(20);
    let mut lines = vec![String::new()];
    for word in format!("VIOLATION {}: {}", v.invariant, v.message).split(' ') {
        let cur = lines.last_mut().expect("never empty");
        if !cur.is_empty() && cur.chars().count() + 1 + word.chars().count() > per_line {
            lines.push(String::new());
        }
        let cur = lines.last_mut().expect("never empty");
        if !cur.is_empty() {
            cur.push(' ');
        }
        cur.push_str(&clip(word, per_line));
    }
    lines
}

/// At most `n` characters, with an ellipsis when cut.
fn clip(text: &str, n: usize) -> String {
    if text.chars().count() <= n {
        return text.to_owned();
    }
    let mut out: String = text.chars().take(n.saturating_sub(1)).collect();
    out.push('\u{2026}');
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::example;

    #[test]
    fn locks_are_held_from_acquire_to_release() {
        let t = example().trace.unwrap();
        let held = held_intervals(&t);
        assert_eq!(
            held,
            vec![Held {
                actor: 1,
                lock: "state_lock".into(),
                from: 1,
                to: 4
            }]
        );
    }

    #[test]
    fn wire_steps_are_arrows_to_a_peer_lane() {
        let svg = render_svg(&example().trace.unwrap());
        assert!(svg.contains(">peer</text>"), "{svg}");
        assert_eq!(svg.matches("marker-end=\"url(#arrow)\"").count(), 2);
        assert!(svg.contains("class=\"dot hit\""));
        assert!(svg.contains("VIOLATION idle-while-active"));
        assert!(svg.contains("&amp; &lt;ok&gt;"));
    }
}
