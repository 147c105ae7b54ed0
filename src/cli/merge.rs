//! `poolcheck merge <out.json>...`: combine the JSON outputs of sharded runs (`run --shard K/N
//! --format json`, one per process or CI job) into one judgement per trial.
//!
//! A shard is judged alone: a shard whose seeds missed a bug says "not as expected". What
//! matters is the union: a buggy variant is caught when any shard caught it with the expected
//! invariant and no shard saw another violation; a variant expected to pass passes when every
//! shard passed. Executions and times add up; the report is the first shard's that shows the
//! merged verdict. The output is the same table or JSON object as `run` and `gate`.

use super::diagnostic::CliError;
use super::output::{self, Table, OUTPUT_VERSION};
use super::{Format, MergeArgs, Outcome};
use poolcheck_harness::report::ReportPaths;
use poolcheck_harness::scenario::{read_source, MAX_REPORT_BYTES};
use poolcheck_harness::trial::{accepts, TrialResult, UNJUDGED};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// One `--format json` output, as read back.
#[derive(Deserialize)]
struct Output {
    version: u32,
    trials: Vec<Record>,
}

/// One trial of it.
#[derive(Clone, Deserialize)]
struct Record {
    scenario: String,
    variant: String,
    scheduler: String,
    expected: String,
    verdict: String,
    ok: bool,
    executions: u64,
    elapsed_ms: u64,
    seed: Option<u64>,
    report: Option<String>,
}

impl Record {
    fn key(&self) -> (String, String, String) {
        (
            self.scenario.clone(),
            self.variant.clone(),
            self.scheduler.clone(),
        )
    }
}

/// Run the command.
pub fn merge(a: &MergeArgs) -> Result<Outcome, CliError> {
    let mut groups: Vec<Vec<Record>> = Vec::new();
    let mut index: BTreeMap<(String, String, String), usize> = BTreeMap::new();
    for path in &a.outputs {
        for r in read(path)?.trials {
            let i = *index.entry(r.key()).or_insert_with(|| {
                groups.push(Vec::new());
                groups.len() - 1
            });
            groups[i].push(r);
        }
    }
    let merged = groups
        .iter()
        .map(|g| merge_group(g))
        .collect::<Result<Vec<TrialResult>, CliError>>()?;
    match a.format {
        Format::Json => println!("{}", output::json(&merged)),
        Format::Text => print!("{}", text(&merged)),
    }
    Ok(if merged.iter().all(|d| d.ok) {
        Outcome::AsExpected
    } else {
        Outcome::NotAsExpected
    })
}

fn read(path: &Path) -> Result<Output, CliError> {
    let text = read_source(path, MAX_REPORT_BYTES).map_err(|e| {
        CliError::from(
            e.with_hint("pass the files written by `run --format json` or `gate --format json`"),
        )
    })?;
    let out: Output = serde_json::from_str(&text)
        .map_err(|e| CliError::usage(format!("`{}`: {e}", path.display()), None))?;
    if out.version != OUTPUT_VERSION {
        return Err(CliError::usage(
            format!(
                "`{}` is output version {}; this poolcheck reads version {OUTPUT_VERSION}",
                path.display(),
                out.version
            ),
            None,
        ));
    }
    Ok(out)
}

/// The shards of one trial, judged together.
fn merge_group(shards: &[Record]) -> Result<TrialResult, CliError> {
    let first = &shards[0];
    if let Some(other) = shards.iter().find(|r| r.expected != first.expected) {
        return Err(CliError::usage(
            format!(
                "the shards of {}/{}/{} expect different verdicts ({} and {})",
                first.scenario, first.variant, first.scheduler, first.expected, other.expected
            ),
            Some("merge outputs of runs over the same scenario files".into()),
        ));
    }
    let expected = first.expected.as_str();
    if expected == UNJUDGED {
        return Ok(merge_unjudged(shards));
    }
    let caught = |r: &&Record| expected != "pass" && accepts(expected, &r.verdict);
    let other = shards
        .iter()
        .find(|r| r.verdict != "pass" && !accepts(expected, &r.verdict));
    let (verdict, ok, how) = match (other, shards.iter().find(caught)) {
        (Some(o), _) => (o.verdict.clone(), false, "a shard found another verdict"),
        (None, Some(c)) => (c.verdict.clone(), true, "caught by at least one shard"),
        (None, None) if expected == "pass" => ("pass".to_owned(), true, "every shard passed"),
        // No shard caught the bug: as expected only where each shard says a miss is allowed
        // (the std baseline).
        (None, None) => (
            "pass".to_owned(),
            shards.iter().all(|r| r.ok),
            "no shard caught it",
        ),
    };
    let shown = shards.iter().find(|r| r.verdict == verdict);
    Ok(TrialResult {
        scenario: first.scenario.clone(),
        variant: first.variant.clone(),
        scheduler: first.scheduler.clone(),
        expected: expected.to_owned(),
        judgement: format!("{} shard(s): {how}", shards.len()),
        verdict,
        ok,
        executions: shards.iter().map(|r| r.executions).sum(),
        elapsed: Duration::from_millis(shards.iter().map(|r| r.elapsed_ms).sum()),
        seed: shown.and_then(|r| r.seed),
        note: None,
        counterexample: None,
        report: shown.and_then(|r| r.report.as_deref()).map(report_paths),
        races: None,
        outcomes: None,
    })
}

/// Shards of an unjudged trial: the first violation any shard found (else `pass`), failed only
/// where a shard failed (a harness verdict).
fn merge_unjudged(shards: &[Record]) -> TrialResult {
    let first = &shards[0];
    let shown = shards.iter().find(|r| r.verdict != "pass").unwrap_or(first);
    TrialResult {
        scenario: first.scenario.clone(),
        variant: first.variant.clone(),
        scheduler: first.scheduler.clone(),
        expected: UNJUDGED.to_owned(),
        judgement: format!("{} shard(s), unjudged", shards.len()),
        verdict: shown.verdict.clone(),
        ok: shards.iter().all(|r| r.ok),
        executions: shards.iter().map(|r| r.executions).sum(),
        elapsed: Duration::from_millis(shards.iter().map(|r| r.elapsed_ms).sum()),
        seed: shown.seed,
        note: None,
        counterexample: None,
        report: shown.report.as_deref().map(report_paths),
        races: None,
        outcomes: None,
    }
}

fn report_paths(json: &str) -> ReportPaths {
    let json = PathBuf::from(json);
    ReportPaths {
        markdown: json.with_extension("md"),
        html: json.with_extension("html"),
        json,
    }
}

fn text(merged: &[TrialResult]) -> String {
    let mut table = Table::new(&[]);
    for d in merged {
        table.fit(&[
            d.scenario.clone(),
            d.variant.clone(),
            d.scheduler.clone(),
            d.expected.clone(),
        ]);
    }
    let mut out = table.header();
    for d in merged {
        out.push_str(&table.row(d));
    }
    out.push_str(&output::footer(merged));
    out
}
