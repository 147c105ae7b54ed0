//! `poolcheck bless [FILTER]`: run the selected trials that have no expectation (with
//! `--changed`, every selected trial) and write the verdict each gave into its scenario file's
//! `[expect]`, the way insta and expect-test review snapshots: the diff of every file is shown
//! first, and files are written only with `--write`. The edit keeps the file's comments and
//! layout (`toml_edit`): a new key for a variant the file left out, a new scheduler key in a
//! variant's table, or a changed value in place; every edited file is loaded again before it is
//! written.
//!
//! What is written judges each trial exactly as it ran: the verdict most schedulers gave is the
//! variant's (or its table's `default`), and a scheduler that gave another gets its own key,
//! except a std baseline that missed the bug (the baseline rule already allows it). Harness
//! verdicts (`bound-hit`, `model-panic`, `input-error`) are never written: they are reported,
//! and the exit code is 1.

use super::diagnostic::CliError;
use super::exec::{self, Sink};
use super::scenarios::load_all;
use super::FAMILIES;
use super::{BlessArgs, Cli, Outcome};
use poolcheck_harness::backend::SchedulerSpec;
use poolcheck_harness::scenario::{load_file, AnyScenario, SCHEDULER_DEFAULT};
use poolcheck_harness::trial::{trials_of, Method, Trial, TrialResult, ANY_OF};
use std::collections::BTreeMap;
use toml_edit::{DocumentMut, InlineTable, Item, Value};

/// Run the command.
pub fn bless(cli: &Cli, a: &BlessArgs) -> Result<Outcome, CliError> {
    let filter = a.filter.as_ref().map(|f| f.replace('_', "-"));
    let selected = |name: &str| filter.as_ref().is_none_or(|f| name.contains(f.as_str()));
    let catalog = load_all(&cli.scenario_dir())?;
    let trials: Vec<Trial> = catalog
        .iter()
        .flat_map(trials_of)
        .filter(|t| matches!(&t.method, Method::Scheduler(s) if !matches!(s, SchedulerSpec::Replay { .. })))
        .filter(|t| selected(&t.name()) && (a.changed || t.expected.is_none()))
        .collect();
    if trials.is_empty() {
        let what = if a.changed { "trial" } else { "unjudged trial" };
        println!("nothing to bless: no {what} is selected");
        return Ok(Outcome::AsExpected);
    }
    let sink = Sink {
        reports: &cli.reports,
        shard: None,
        deadline: exec::deadline(a.max_seconds),
    };
    let bar = exec::progress(trials.len());
    let results = exec::run_all(&trials, a.jobs, &sink, &|_| {}, &bar);
    bar.finish_and_clear();
    let mut refused = 0;
    let mut edited = Vec::new();
    for s in &catalog {
        let mine: Vec<(&Trial, &TrialResult)> = trials
            .iter()
            .zip(&results)
            .filter(|(t, _)| t.scenario.name() == s.name())
            .collect();
        let (changes, cannot) = changes_of(s, &mine, a.changed);
        for line in &cannot {
            println!("cannot bless {line}");
        }
        refused += cannot.len();
        if let Some(new) = edit_file(s, &changes)? {
            edited.push((s.path().to_owned(), new));
        }
    }
    report(&edited, refused, a.write)
}

/// Print the diffs, write them with `--write`, and say what happened.
fn report(
    edited: &[(std::path::PathBuf, (String, String))],
    refused: usize,
    write: bool,
) -> Result<Outcome, CliError> {
    for (path, (old, new)) in edited {
        print!("{}", unified_diff(&path.display().to_string(), old, new));
    }
    if write {
        for (path, (_, new)) in edited {
            std::fs::write(path, new).map_err(|e| {
                CliError::usage(format!("cannot write `{}`: {e}", path.display()), None)
            })?;
        }
    }
    let n = edited.len();
    match (n, write) {
        (0, _) => println!("no expectation to write"),
        (_, true) => println!("wrote {n} scenario file(s)"),
        (_, false) => println!("{n} scenario file(s) would change; pass --write to write them"),
    }
    Ok(if refused > 0 || (n > 0 && !write) {
        Outcome::NotAsExpected
    } else {
        Outcome::AsExpected
    })
}

/// Per variant, the `(scheduler, verdict)` pairs to write.
type Changes = BTreeMap<String, Vec<(String, String)>>;

/// The changes the trials that ran call for, and the trials whose verdict cannot be written (a
/// harness verdict) in words.
fn changes_of(
    s: &AnyScenario,
    ran: &[(&Trial, &TrialResult)],
    changed: bool,
) -> (Changes, Vec<String>) {
    let mut out = Changes::new();
    let mut cannot = Vec::new();
    for (t, d) in ran {
        let wanted = t.expected.is_none() || (changed && !d.ok);
        if !wanted {
            continue;
        }
        if !s.is_verdict(&d.verdict) {
            cannot.push(format!("{}: {}: {}", d.name(), d.verdict, d.judgement));
            continue;
        }
        out.entry(t.variant.clone())
            .or_default()
            .push((t.method.name().to_owned(), d.verdict.clone()));
    }
    (out, cannot)
}

/// The file's text before and after writing `changes`, or `None` when nothing changes.
fn edit_file(s: &AnyScenario, changes: &Changes) -> Result<Option<(String, String)>, CliError> {
    if changes.is_empty() {
        return Ok(None);
    }
    let path = s.path();
    let old = std::fs::read_to_string(path)
        .map_err(|e| CliError::usage(format!("cannot read `{}`: {e}", path.display()), None))?;
    let mut doc: DocumentMut = old
        .parse()
        .map_err(|e| CliError::usage(format!("`{}` does not parse: {e}", path.display()), None))?;
    if doc.get("expect").is_none() {
        doc.insert("expect", toml_edit::table());
    }
    let expect = doc["expect"].as_table_like_mut().ok_or_else(|| {
        CliError::usage(
            format!("`{}`: `expect` is not a table", path.display()),
            None,
        )
    })?;
    // In the model's variant order (`fixed` first), as a person would write them.
    for variant in s.expect().iter().map(|e| e.variant.as_str()) {
        if let Some(pairs) = changes.get(variant) {
            edit_variant(s, expect, variant, pairs);
        }
    }
    let new = doc.to_string();
    check_loads(s, &new)?;
    Ok((new != old).then_some((old, new)))
}

/// Write `pairs` into `variant`'s entry of `expect`.
fn edit_variant(
    s: &AnyScenario,
    expect: &mut dyn toml_edit::TableLike,
    variant: &str,
    pairs: &[(String, String)],
) {
    if let Some(table) = expect.get_mut(variant).and_then(Item::as_table_like_mut) {
        // A table: one key per scheduler, changed in place or added.
        for (scheduler, verdict) in pairs {
            set_value(table, scheduler, verdict_value(verdict));
        }
        return;
    }
    // A verdict, or nothing (then `"*"`'s, if the file has it): every scheduler's current
    // expectation, updated, then written compactly.
    let current = s.expectation(variant);
    let mut by: Vec<(&str, bool, Option<String>)> = s
        .schedulers()
        .iter()
        .map(|spec| {
            let now = current
                .and_then(|e| e.under(spec.name()))
                .map(str::to_owned);
            (spec.name(), spec.must_catch(), now)
        })
        .collect();
    for (scheduler, verdict) in pairs {
        if let Some(slot) = by.iter_mut().find(|(n, _, _)| n == scheduler) {
            slot.2 = Some(verdict.clone());
        }
    }
    // `"*"` itself is never edited: a variant whose verdict leaves it gets its own key.
    set_value(expect, variant, compact(&by));
}

/// Replace `key`'s value keeping its decoration (a trailing comment), or add it.
fn set_value(table: &mut dyn toml_edit::TableLike, key: &str, mut value: Value) {
    match table.get_mut(key).and_then(Item::as_value_mut) {
        Some(old) => {
            *value.decor_mut() = old.decor().clone();
            *old = value;
        }
        None => {
            table.insert(key, Item::Value(value));
        }
    }
}

/// One variant's expectations by scheduler `(name, must catch, expectation)` as an `[expect]`
/// value: a verdict when every scheduler agrees (a std baseline that passed agrees with any
/// violation), else `{ default = <most common>, <scheduler> = ... }`; a table of only the known
/// ones when some scheduler has none.
fn compact(by: &[(&str, bool, Option<String>)]) -> Value {
    if by.iter().any(|(_, _, e)| e.is_none()) {
        let mut t = InlineTable::new();
        for (name, _, e) in by {
            if let Some(e) = e {
                t.insert(*name, verdict_value(e));
            }
        }
        return Value::InlineTable(t);
    }
    let default = most_common(by);
    let mut t = InlineTable::new();
    for (name, must_catch, e) in by {
        let e = e.as_deref().unwrap_or_default();
        let baseline_miss = !must_catch && e == "pass" && default != "pass";
        if e != default && !baseline_miss {
            t.insert(*name, verdict_value(e));
        }
    }
    if t.is_empty() {
        return verdict_value(&default);
    }
    let mut with_default = InlineTable::new();
    with_default.insert(SCHEDULER_DEFAULT, verdict_value(&default));
    for (k, v) in t.iter() {
        with_default.insert(k, v.clone());
    }
    Value::InlineTable(with_default)
}

/// The expectation most schedulers that must catch share (ties: the first in the scenario's
/// scheduler order); the others' when none must.
fn most_common(by: &[(&str, bool, Option<String>)]) -> String {
    let pool: Vec<&str> = match by.iter().filter(|(_, m, _)| *m).count() {
        0 => by.iter().filter_map(|(_, _, e)| e.as_deref()).collect(),
        _ => by
            .iter()
            .filter(|(_, m, _)| *m)
            .filter_map(|(_, _, e)| e.as_deref())
            .collect(),
    };
    let count = |e: &str| pool.iter().filter(|p| **p == e).count();
    let mut best = pool.first().copied().unwrap_or("pass");
    for e in &pool {
        if count(e) > count(best) {
            best = e;
        }
    }
    best.to_owned()
}

/// `"pass"`, `"invariant"`, or an array for an any-of expectation (`a|b`).
fn verdict_value(e: &str) -> Value {
    if e.contains(ANY_OF) {
        Value::Array(e.split(ANY_OF).collect())
    } else {
        Value::from(e)
    }
}

/// The edited text must load as a scenario, as its file would: written beside a copy with the
/// same name in a scratch folder, loaded, removed.
fn check_loads(s: &AnyScenario, text: &str) -> Result<(), CliError> {
    let dir = std::env::temp_dir().join(format!("poolcheck-bless-{}", std::process::id()));
    std::fs::create_dir_all(&dir)
        .map_err(|e| CliError::usage(format!("cannot make `{}`: {e}", dir.display()), None))?;
    let path = dir.join(s.path().file_name().unwrap_or_default());
    std::fs::write(&path, text)
        .map_err(|e| CliError::usage(format!("cannot write `{}`: {e}", path.display()), None))?;
    let loaded = load_file(&path, FAMILIES);
    let _ = std::fs::remove_file(&path);
    match loaded {
        Ok(_) => Ok(()),
        Err(e) => Err(CliError::usage(
            format!("blessing `{}` would not load: {e}", s.path().display()),
            Some("this is a bug in `poolcheck bless`; the file was not written".into()),
        )),
    }
}

/// A unified diff of `old` and `new` (`--- a/path`, `+++ b/path`, hunks with two lines of
/// context), by the longest common subsequence of their lines.
pub fn unified_diff(path: &str, old: &str, new: &str) -> String {
    let a: Vec<&str> = old.lines().collect();
    let b: Vec<&str> = new.lines().collect();
    let ops = line_ops(&a, &b);
    let mut out = format!("--- a/{path}\n+++ b/{path}\n");
    let context = 2;
    let changed: Vec<usize> = (0..ops.len()).filter(|&i| ops[i].0 != ' ').collect();
    let mut i = 0;
    while i < changed.len() {
        let start = changed[i].saturating_sub(context);
        let mut end = changed[i] + context + 1;
        while i + 1 < changed.len() && changed[i + 1] <= end + context {
            i += 1;
            end = changed[i] + context + 1;
        }
        let end = end.min(ops.len());
        let (a0, b0) = position(&ops[..start]);
        let (an, bn) = position(&ops[start..end]);
        out.push_str(&format!("@@ -{},{an} +{},{bn} @@\n", a0 + 1, b0 + 1));
        for (op, line) in &ops[start..end] {
            out.push_str(&format!("{op}{line}\n"));
        }
        i += 1;
    }
    out
}

/// Lines of `a` and `b` taken by `ops`.
fn position(ops: &[(char, &str)]) -> (usize, usize) {
    let a = ops.iter().filter(|(o, _)| *o != '+').count();
    let b = ops.iter().filter(|(o, _)| *o != '-').count();
    (a, b)
}

/// The edit script from `a` to `b`: `' '` kept, `'-'` removed, `'+'` added, in order.
fn line_ops<'t>(a: &[&'t str], b: &[&'t str]) -> Vec<(char, &'t str)> {
    let (n, m) = (a.len(), b.len());
    let mut lcs = vec![vec![0u32; m + 1]; n + 1];
    for i in (0..n).rev() {
        for j in (0..m).rev() {
            lcs[i][j] = if a[i] == b[j] {
                lcs[i + 1][j + 1] + 1
            } else {
                lcs[i + 1][j].max(lcs[i][j + 1])
            };
        }
    }
    let (mut i, mut j) = (0, 0);
    let mut out = Vec::new();
    while i < n || j < m {
        if i < n && j < m && a[i] == b[j] {
            out.push((' ', a[i]));
            i += 1;
            j += 1;
        } else if i < n && (j == m || lcs[i + 1][j] >= lcs[i][j + 1]) {
            out.push(('-', a[i]));
            i += 1;
        } else {
            out.push(('+', b[j]));
            j += 1;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_diff_shows_each_change_with_two_lines_of_context() {
        let old = "a\nb\nc\nd\ne\nf\ng\n";
        let new = "a\nb\nc\nD\ne\nf\ng\nh\n";
        let d = unified_diff("x.toml", old, new);
        assert_eq!(
            d,
            "--- a/x.toml\n+++ b/x.toml\n@@ -2,6 +2,7 @@\n b\n c\n-d\n+D\n e\n f\n g\n+h\n"
        );
    }

    #[test]
    fn a_baseline_miss_agrees_with_the_bug_and_a_lone_dissenter_gets_its_own_key() {
        let v = |e: &str| Some(e.to_owned());
        let agree = [
            ("loom", true, v("no-leak")),
            ("pct", true, v("no-leak")),
            ("std", false, v("pass")),
        ];
        assert_eq!(compact(&agree).to_string(), "\"no-leak\"");
        let random_misses = [
            ("loom", true, v("no-leak")),
            ("pct", true, v("no-leak")),
            ("random", true, v("pass")),
        ];
        assert_eq!(
            compact(&random_misses).to_string(),
            "{ default = \"no-leak\", random = \"pass\" }"
        );
        let partial = [
            ("loom", true, v("no-leak|max-streams")),
            ("pct", true, None),
        ];
        assert_eq!(
            compact(&partial).to_string(),
            "{ loom = [\"no-leak\", \"max-streams\"] }"
        );
    }
}
