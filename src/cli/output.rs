//! Printing results: the per-trial table (`--rows`; the verdict matrix is in `matrix`), a
//! counterexample as text, and the JSON object
//! `{"version": 1, "ok": bool, "trials": [...]}` that `run --format json` and
//! `gate --format json` print.

use poolcheck_harness::monitor;
use poolcheck_harness::report::Counterexample;
use poolcheck_harness::trace::render_table;
use poolcheck_harness::trial::{Trial, TrialResult};
use serde::Serialize;

/// The JSON output's format version.
pub const OUTPUT_VERSION: u32 = 1;

#[derive(Serialize)]
struct JsonOutput<'a> {
    version: u32,
    ok: bool,
    trials: Vec<JsonTrial<'a>>,
}

#[derive(Serialize)]
struct JsonTrial<'a> {
    scenario: &'a str,
    variant: &'a str,
    scheduler: &'a str,
    expected: &'a str,
    verdict: &'a str,
    ok: bool,
    judgement: &'a str,
    executions: u64,
    elapsed_ms: u64,
    seed: Option<u64>,
    report: Option<String>,
    /// Preemptions of the reported counterexample (after simplifying), when known.
    #[serde(skip_serializing_if = "Option::is_none")]
    preemptions: Option<u32>,
    /// Steps of the reported counterexample, when there is one.
    #[serde(skip_serializing_if = "Option::is_none")]
    steps: Option<u64>,
    /// What a pass covers (`exhaustive: N executions`, `bounded at preemption bound B: ...`).
    #[serde(skip_serializing_if = "Option::is_none")]
    covers: Option<&'a str>,
}

fn simplest(d: &TrialResult) -> Option<&poolcheck_harness::report::Simplicity> {
    d.counterexample.as_ref()?.simplest.as_ref()
}

/// Every result as one JSON object (one line).
pub fn json(results: &[TrialResult]) -> String {
    let trials = results
        .iter()
        .map(|d| JsonTrial {
            scenario: &d.scenario,
            variant: &d.variant,
            scheduler: &d.scheduler,
            expected: &d.expected,
            verdict: &d.verdict,
            ok: d.ok,
            judgement: &d.judgement,
            executions: d.executions,
            elapsed_ms: u64::try_from(d.elapsed.as_millis()).unwrap_or(u64::MAX),
            seed: d.seed,
            report: d.report.as_ref().map(|p| p.json.display().to_string()),
            preemptions: simplest(d).and_then(|s| s.preemptions),
            steps: simplest(d).map(|s| s.steps),
            covers: d.note.as_deref(),
        })
        .collect();
    let out = JsonOutput {
        version: OUTPUT_VERSION,
        ok: results.iter().all(|d| d.ok),
        trials,
    };
    serde_json::to_string(&out).expect("plain data always serialises")
}

/// The summary table, printed a row at a time as trials finish: column widths are fixed up front
/// from the trials' names, so streamed rows line up.
pub struct Table {
    widths: [usize; 9],
}

const HEADERS: [&str; 9] = [
    "scenario",
    "variant",
    "scheduler",
    "expected",
    "verdict",
    "ok",
    "executions",
    "time",
    "note",
];

impl Table {
    /// A table for these trials.
    pub fn new(trials: &[Trial]) -> Self {
        let mut widths = HEADERS.map(str::len);
        let invariants = monitor::registry();
        let verdicts = invariants
            .iter()
            .map(|m| m.name.len())
            .chain(monitor::HARNESS_VERDICTS.iter().map(|(n, _)| n.len()))
            .chain(["bound-hit", "harness-panic"].map(str::len));
        widths[4] = widths[4].max(verdicts.max().unwrap_or(0));
        widths[5] = 4;
        widths[6] = widths[6].max(9);
        widths[7] = widths[7].max("100.00s".len());
        let mut table = Table { widths };
        for t in trials {
            table.fit(&[
                t.scenario.name().to_owned(),
                t.variant.clone(),
                t.method.name().to_owned(),
                t.expected_text().to_owned(),
            ]);
        }
        table
    }

    /// Widen the first four columns to fit a trial's scenario, variant, scheduler and expected.
    pub fn fit(&mut self, names: &[String; 4]) {
        for (w, n) in self.widths.iter_mut().zip(names) {
            *w = (*w).max(n.chars().count());
        }
    }

    /// The header and the rule under it.
    pub fn header(&self) -> String {
        let mut out = line(&HEADERS.map(str::to_owned), &self.widths);
        out.push_str(&line(&self.widths.map(|w| "-".repeat(w)), &self.widths));
        out
    }

    /// One trial's row.
    pub fn row(&self, d: &TrialResult) -> String {
        line(&cells(d), &self.widths)
    }
}

/// The summary table at once: a header, one line per trial, then [`footer`].
pub fn summary(trials: &[Trial], results: &[TrialResult]) -> String {
    let table = Table::new(trials);
    let mut out = table.header();
    for d in results {
        out.push_str(&table.row(d));
    }
    out.push_str(&footer(results));
    out
}

/// The count, then every trial not as expected with its judgement and report.
pub fn footer(results: &[TrialResult]) -> String {
    let bad: Vec<&TrialResult> = results.iter().filter(|d| !d.ok).collect();
    let mut out = super::matrix::summary_line(results);
    for d in bad {
        out.push_str(&format!(
            "\nNOT AS EXPECTED {}: {}\n",
            d.name(),
            d.judgement
        ));
        if let Some(p) = &d.report {
            out.push_str(&format!(
                "  report: {}\n  replay: {}\n",
                p.markdown.display(),
                p.replay_command()
            ));
        }
    }
    out
}

fn cells(d: &TrialResult) -> [String; 9] {
    [
        d.scenario.clone(),
        d.variant.clone(),
        d.scheduler.clone(),
        d.expected.clone(),
        d.verdict.clone(),
        match (d.ok, d.unjudged()) {
            (true, true) => "?",
            (true, false) => "ok",
            (false, _) => "FAIL",
        }
        .to_owned(),
        d.executions.to_string(),
        format!("{:.2}s", d.elapsed.as_secs_f64()),
        d.note.clone().unwrap_or_default(),
    ]
}

fn line(cells: &[String], widths: &[usize]) -> String {
    let mut out = String::new();
    for (c, w) in cells.iter().zip(widths) {
        out.push_str(&format!("{c:<w$}  "));
    }
    format!("{}\n", out.trim_end())
}

/// A counterexample as text: the verdict, the interleaving table (with the violation and the
/// invariant in words), the budget and the replay command.
pub fn counterexample(c: &Counterexample, replay: Option<&str>) -> String {
    let mut out = format!(
        "{} / {} / {}: {}\n",
        c.scenario, c.variant, c.scheduler, c.verdict
    );
    if let Some(d) = &c.detail {
        out.push_str(&format!("{d}\n"));
    }
    if let Some(o) = &c.outcomes {
        out.push('\n');
        out.push_str(o);
    }
    if let Some(t) = &c.trace {
        out.push('\n');
        out.push_str(&render_table(t));
    }
    out.push_str(&format!(
        "\nbudget: {}; found after {} execution(s)\n",
        c.budget, c.executions
    ));
    if let Some(s) = &c.simplest {
        out.push_str(&format!("simplest: {}\n", s.in_words()));
    }
    if let Some(r) = replay {
        out.push_str(&format!("replay: {r}\n"));
    }
    out
}

/// A trial's last line: its verdict, executions, time, and whether that is what was expected.
pub fn verdict_line(d: &TrialResult) -> String {
    let how = if d.ok {
        "as expected"
    } else {
        "NOT AS EXPECTED"
    };
    let covered = d.note.as_ref().map_or(String::new(), |n| format!(" ({n})"));
    format!(
        "{}: {}{covered} after {} execution(s) in {:.2}s; {how}: {}\n\n",
        d.name(),
        d.verdict,
        d.executions,
        d.elapsed.as_secs_f64(),
        d.judgement
    )
}
