//! The HTML report: one self-contained page (inline CSS and SVG; no script, no external URL,
//! nothing fetched) with the verdict, the invariant in words, the swimlane diagram
//! (the `ladder` module), the interleaving table, the budget and the replay command.
//!
//! The markup is XHTML-style well-formed (every element closed, void elements self-closed), so
//! a strict parser and a browser read it the same way.

use super::ladder::{lock_colours, render_svg};
use super::markdown::violating_row;
use super::Counterexample;
use crate::trace::{holds_when, Trace};
use std::fmt::Write as _;

const STYLE: &str = "
body { font: 14px/1.45 system-ui, -apple-system, 'Segoe UI', sans-serif; margin: 24px; color: #0f172a; }
h1 { font-size: 20px; margin: 0 0 8px; }
h2 { font-size: 16px; margin: 24px 0 8px; }
code, pre, td, .ladder text { font-family: ui-monospace, 'DejaVu Sans Mono', monospace; }
.verdict { background: #fee2e2; border-left: 4px solid #dc2626; padding: 8px 12px; }
.legend span { margin-right: 18px; white-space: nowrap; display: inline-block; }
.swatch { display: inline-block; width: 12px; height: 12px; vertical-align: middle; margin-right: 4px; }
.diagram { overflow-x: auto; border: 1px solid #e2e8f0; }
.ladder .lane { stroke: #94a3b8; stroke-dasharray: 4 3; }
.ladder .lane-name { font-weight: bold; font-size: 13px; }
.ladder .step { fill: #64748b; font-size: 11px; }
.ladder .label { font-size: 11px; fill: #0f172a; }
.ladder .label.probe { fill: #1d4ed8; }
.ladder .label.blocking { fill: #b45309; font-weight: bold; }
.ladder .dot { fill: #0f172a; }
.ladder .dot.hit { fill: #dc2626; }
.ladder .wire { stroke: #334155; stroke-width: 1.5; }
.ladder .held { opacity: 0.75; }
.ladder .hit { fill: #fecaca; }
.ladder .verdict { fill: #fee2e2; }
.ladder .violation { fill: #b91c1c; font-weight: bold; font-size: 12px; }
table { border-collapse: collapse; font-size: 12px; }
th, td { border: 1px solid #e2e8f0; padding: 2px 6px; text-align: left; vertical-align: top; }
th { background: #f1f5f9; }
td.num { text-align: right; color: #64748b; }
tr.hit td { background: #fecaca; }
tr.violation td { background: #fee2e2; color: #b91c1c; font-weight: bold; }
";

/// Render `c` as a self-contained HTML page; `replay` is the command that replays it.
pub fn render_html(c: &Counterexample, replay: &str) -> String {
    let title = format!(
        "{} / {} / {}: {}",
        c.scenario, c.variant, c.scheduler, c.verdict
    );
    let mut out = format!(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\"/>\n\
         <title>{}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n<h1>{}</h1>\n",
        escape(&title),
        escape(&title)
    );
    verdict(&mut out, c);
    if let Some(o) = &c.outcomes {
        writeln!(out, "<h2>Outcomes</h2>\n<pre>{}</pre>", escape(o)).expect("String");
    }
    if let Some(t) = &c.trace {
        out.push_str("<h2>Interleaving</h2>\n");
        legend(&mut out, t);
        out.push_str("<div class=\"diagram\">\n");
        out.push_str(&render_svg(t));
        out.push_str("</div>\n<h2>Steps</h2>\n");
        table(&mut out, t);
    }
    budget(&mut out, c);
    writeln!(
        out,
        "<h2>Replay</h2>\n<pre><code>{}</code></pre>",
        escape(replay)
    )
    .expect("String");
    if let Some(s) = &c.schedule {
        writeln!(out, "<p>schedule: <code>{}</code></p>", escape(s)).expect("String");
    }
    out.push_str("</body>\n</html>\n");
    out
}

fn verdict(out: &mut String, c: &Counterexample) {
    let (name, message, words) = match c.trace.as_ref().and_then(|t| t.violation.as_ref()) {
        Some(v) => (v.invariant.clone(), v.message.clone(), v.holds_when.clone()),
        None => (c.verdict.clone(), String::new(), holds_when(&c.verdict)),
    };
    writeln!(
        out,
        "<p class=\"verdict\"><b>Violated: <code>{}</code></b> {}</p>",
        escape(&name),
        escape(&message)
    )
    .expect("String");
    if !words.is_empty() {
        writeln!(out, "<p>It holds when {}</p>", escape(&words)).expect("String");
    }
    if let Some(d) = &c.detail {
        writeln!(out, "<p>{}</p>", escape(d)).expect("String");
    }
}

fn legend(out: &mut String, t: &Trace) {
    out.push_str("<p class=\"legend\"><span>one lane per actor, time flows down</span>");
    if t.rows.iter().any(|r| r.wire.is_some()) {
        out.push_str("<span>&#8594; a frame to or from the peer</span>");
    }
    for (lock, colour) in lock_colours(t) {
        write!(
            out,
            "<span><i class=\"swatch\" style=\"background:{colour}\"></i>{} held</span>",
            escape(&lock)
        )
        .expect("String");
    }
    out.push_str(
        "<span><i class=\"swatch\" style=\"background:#fecaca\"></i>the step that broke the \
         invariant</span></p>\n",
    );
}

fn table(out: &mut String, t: &Trace) {
    out.push_str("<table>\n<tr><th>step</th>");
    for a in &t.actors {
        write!(out, "<th>{}</th>", escape(a)).expect("String");
    }
    out.push_str("<th>locks held</th></tr>\n");
    let hit = t.violation.as_ref().and_then(|v| violating_row(t, v.seq));
    for (i, r) in t.rows.iter().enumerate() {
        let class = if Some(i) == hit { " class=\"hit\"" } else { "" };
        write!(out, "<tr{class}><td class=\"num\">{}</td>", r.step).expect("String");
        for a in 0..t.actors.len() {
            let text = if a == r.actor {
                escape(&r.text)
            } else {
                String::new()
            };
            write!(out, "<td>{text}</td>").expect("String");
        }
        writeln!(out, "<td>{}</td></tr>", escape(&r.locks.join(", "))).expect("String");
    }
    if let Some(v) = &t.violation {
        writeln!(
            out,
            "<tr class=\"violation\"><td></td><td colspan=\"{}\">VIOLATION {}: {}</td></tr>",
            t.actors.len() + 1,
            escape(&v.invariant),
            escape(&v.message)
        )
        .expect("String");
    }
    out.push_str("</table>\n");
}

fn budget(out: &mut String, c: &Counterexample) {
    writeln!(
        out,
        "<h2>Budget</h2>\n<ul>\n<li>model <code>{}</code>, scenario file <code>{}</code></li>\n\
         <li>budget: {}</li>\n<li>found after {} execution(s) in {} ms</li>",
        escape(&c.model),
        escape(&c.scenario_file),
        escape(&c.budget),
        c.executions,
        c.elapsed_ms
    )
    .expect("String");
    if let Some(s) = c.seed {
        writeln!(out, "<li>seed: {s}</li>").expect("String");
    }
    if let Some(s) = &c.simplest {
        writeln!(out, "<li>simplest: {}</li>", escape(&s.in_words())).expect("String");
    }
    out.push_str("</ul>\n");
}

/// Text made safe for HTML text and attribute values.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for ch in s.chars() {
        match ch {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::example;

    #[test]
    fn the_page_is_self_contained() {
        let html = render_html(&example(), "cargo run --release -- replay x.json");
        for bad in ["http://", "https://", "<script", "<link", "src="] {
            assert!(!html.contains(bad), "{bad} in the page");
        }
        assert!(html.contains("<svg class=\"ladder\""));
        assert!(html.contains("<tr class=\"hit\">"));
        assert!(html.contains("VIOLATION idle-while-active"));
    }
}
