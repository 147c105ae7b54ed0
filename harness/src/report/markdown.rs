//! The Markdown report: verdict, the invariant in words, the interleaving table (one column per
//! actor, one row per step, locks held, the violation last), budget and executions, and the
//! replay command. A pure function of the counterexample.

use super::Counterexample;
use crate::trace::{holds_when, Trace};
use std::fmt::Write as _;

/// Render `c` as Markdown; `replay` is the command that replays its JSON report.
pub fn render_markdown(c: &Counterexample, replay: &str) -> String {
    let mut out = format!(
        "# {} / {} / {}: `{}`\n\n",
        c.scenario, c.variant, c.scheduler, c.verdict
    );
    verdict(&mut out, c);
    if let Some(o) = &c.outcomes {
        out.push_str("\n## Outcomes\n\n```text\n");
        out.push_str(o);
        if !o.ends_with('\n') {
            out.push('\n');
        }
        out.push_str("```\n");
    }
    if let Some(t) = &c.trace {
        out.push_str("\n## Interleaving\n\n");
        table(&mut out, t);
    }
    out.push_str("\n## Budget\n\n");
    line(
        &mut out,
        format!("- model `{}`, scenario file `{}`", c.model, c.scenario_file),
    );
    line(&mut out, format!("- budget: {}", c.budget));
    line(
        &mut out,
        format!(
            "- found after {} execution(s) in {} ms",
            c.executions, c.elapsed_ms
        ),
    );
    if let Some(s) = c.seed {
        line(&mut out, format!("- seed: {s}"));
    }
    if let Some(s) = &c.simplest {
        line(&mut out, format!("- simplest: {}", s.in_words()));
    }
    out.push_str("\n## Replay\n\n```sh\n");
    line(&mut out, replay.to_owned());
    out.push_str("```\n");
    if let Some(s) = &c.schedule {
        line(&mut out, format!("\nschedule: `{s}`"));
    }
    out
}

fn line(out: &mut String, s: String) {
    out.push_str(&s);
    out.push('\n');
}

fn verdict(out: &mut String, c: &Counterexample) {
    match c.trace.as_ref().and_then(|t| t.violation.as_ref()) {
        Some(v) => {
            line(
                out,
                format!("**Violated:** `{}`: {}\n", v.invariant, cell(&v.message)),
            );
            line(out, format!("**It holds when** {}", v.holds_when));
        }
        None => {
            let words = holds_when(&c.verdict);
            line(out, format!("**Verdict:** `{}`", c.verdict));
            if !words.is_empty() {
                line(out, format!("\n**It holds when** {words}"));
            }
        }
    }
    if let Some(d) = &c.detail {
        line(out, format!("\n{d}"));
    }
}

/// The interleaving as a Markdown table, the violation as its last row.
pub fn table(out: &mut String, t: &Trace) {
    let mut header = String::from("| step |");
    let mut rule = String::from("| ---: |");
    for a in &t.actors {
        write!(header, " {} |", cell(a)).expect("String");
        rule.push_str(" --- |");
    }
    header.push_str(" locks held |");
    rule.push_str(" --- |");
    line(out, header);
    line(out, rule);
    let violating = t.violation.as_ref().and_then(|v| violating_row(t, v.seq));
    for (i, r) in t.rows.iter().enumerate() {
        let mut row = format!("| {} |", r.step);
        for a in 0..t.actors.len() {
            let text = if a == r.actor {
                cell(&r.text)
            } else {
                String::new()
            };
            let text = match (a == r.actor, Some(i) == violating) {
                (true, true) => format!("**{text}**"),
                _ => text,
            };
            write!(row, " {text} |").expect("String");
        }
        write!(row, " {} |", cell(&r.locks.join(", "))).expect("String");
        line(out, row);
    }
    if let Some(v) = &t.violation {
        let mut row = String::from("| |");
        for a in 0..t.actors.len() {
            let mine = v.actor.map_or(a == 0, |x| x == a);
            let text = if mine {
                format!("**VIOLATION `{}`**: {}", v.invariant, cell(&v.message))
            } else {
                String::new()
            };
            write!(row, " {text} |").expect("String");
        }
        row.push_str(" |");
        line(out, row);
    }
}

/// The index of the row that revealed the violation: the row at log position `seq`, or the last
/// visible row before it (the record itself may be hidden).
pub fn violating_row(t: &Trace, seq: usize) -> Option<usize> {
    t.rows.iter().rposition(|r| r.seq <= seq)
}

/// Text made safe for one Markdown table cell.
fn cell(s: &str) -> String {
    s.replace('|', "\\|").replace('\n', " ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::example;

    #[test]
    fn the_report_has_every_section() {
        let md = render_markdown(&example(), "cargo run --release -- replay x.json");
        for needle in [
            "# toy-scenario / buggy / pct: `idle-while-active`",
            "**Violated:** `idle-while-active`",
            "| step | main | A | B | locks held |",
            "**VIOLATION `idle-while-active`**",
            "found after 7 execution(s)",
            "cargo run --release -- replay x.json",
            "schedule: `pc1:t0,t1*2`",
        ] {
            assert!(md.contains(needle), "missing {needle:?} in\n{md}");
        }
    }
}
