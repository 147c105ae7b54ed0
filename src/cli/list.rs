//! `poolcheck list`: what there is to check. Scenarios (with their model and description),
//! models with their variants (and upstream links), operations and configuration keys,
//! invariants with their definitions, and the schedulers.

use super::diagnostic::CliError;
use super::scenarios::load_all;
use super::{Outcome, FAMILIES};
use poolcheck_harness::monitor;
use poolcheck_models::model::{self, Model, ModelInfo, ParamInfo, ParamKind};
use std::path::Path;

/// Scheduler names with what they do.
const SCHEDULERS: &[(&str, &str)] = &[
    (
        "loom",
        "exhaustive exploration up to a preemption bound (loom)",
    ),
    ("random", "uniformly random schedules from a seed (shuttle)"),
    (
        "pct",
        "probabilistic concurrency testing with a bug depth, from a seed (shuttle)",
    ),
    ("dfs", "depth-first enumeration of schedules (shuttle)"),
    (
        "std",
        "real OS threads: the stress-test baseline, allowed to miss a bug",
    ),
];

/// Run the command. An invalid scenario file is reported after everything else (exit code 2).
pub fn list(dir: &Path) -> Result<Outcome, CliError> {
    let catalog = load_all(dir);
    let mut out = format!("SCENARIOS ({})\n", dir.display());
    match &catalog {
        Ok(scenarios) => {
            let width = scenarios.iter().map(|s| s.name().len()).max().unwrap_or(0);
            for s in scenarios {
                out.push_str(&format!("  {:<width$}  {}\n", s.name(), s.describe()));
            }
        }
        Err(_) => out.push_str("  (the folder has errors: see below)\n"),
    }
    out.push_str("\nMODELS\n");
    for m in model::registry() {
        out.push_str(&describe_model(m));
    }
    out.push_str("\nINVARIANTS\n");
    let invariants = monitor::registry();
    let width = invariants.iter().map(|m| m.name.len()).max().unwrap_or(0);
    for m in &invariants {
        out.push_str(&format!(
            "  {:<width$}  holds when {}\n",
            m.name, m.holds_when
        ));
    }
    for (name, words) in monitor::HARNESS_VERDICTS {
        out.push_str(&format!(
            "  {name:<width$}  (raised by the harness) {words}\n"
        ));
    }
    for f in FAMILIES {
        out.push_str(&f.describe());
    }
    out.push_str("\nSCHEDULERS\n");
    for (name, words) in SCHEDULERS {
        out.push_str(&format!("  {name:<6}  {words}\n"));
    }
    print!("{out}");
    catalog.map(|_| Outcome::AsExpected)
}

fn describe_model(m: &dyn Model) -> String {
    let info = m.info();
    let mut out = format!(
        "  {}: {}\n    upstream: {}\n",
        info.name, info.summary, info.upstream
    );
    out.push_str(&variants(info));
    out.push_str(&fixes(info));
    if !info.ops.is_empty() {
        out.push_str("    operations:\n");
        for op in info.ops {
            out.push_str(&format!(
                "      {}{}: {}\n",
                op.name,
                params(op.params),
                op.doc
            ));
        }
    }
    if !info.config.is_empty() {
        out.push_str("    config:\n");
        for p in info.config {
            out.push_str(&format!("      {} ({}): {}\n", p.name, kind(p), p.doc));
        }
    }
    out
}

/// The named variants, each with its kind (`fixed`, `upstream`: a release exactly as published,
/// `bug`), upstream link and summary.
fn variants(info: &ModelInfo) -> String {
    let mut out = "    variants (and fixed-without=<fix>[,<fix>...]):\n".to_owned();
    let width = info
        .variants
        .iter()
        .map(|v| v.name.len())
        .max()
        .unwrap_or(0);
    for v in info.variants {
        let link = if v.upstream.is_empty() {
            "-"
        } else {
            v.upstream
        };
        let kind = v.kind.name();
        out.push_str(&format!("      {:<width$}  {kind:<8}  {link}\n", v.name));
        if !v.summary.is_empty() {
            out.push_str(&format!("      {:<width$}  {:<8}  {}\n", "", "", v.summary));
        }
    }
    out
}

/// The named fixes `fixed` applies: what each changes, why, and where it comes from.
fn fixes(info: &ModelInfo) -> String {
    if info.fixes.is_empty() {
        return String::new();
    }
    let mut out = "    fixes (all in `fixed`):\n".to_owned();
    for f in info.fixes {
        out.push_str(&format!("      {}  {}\n", f.name, f.upstream));
        out.push_str(&format!("        changes: {}\n", f.changes));
        out.push_str(&format!("        why: {}\n", f.why));
    }
    out
}

/// `integer 1..=1000`, `boolean`, `string`: the type, and an integer's accepted range.
fn kind(p: &ParamInfo) -> String {
    match p.kind {
        ParamKind::Int => format!("integer {}..={}", p.min, p.max),
        other => other.name().to_owned(),
    }
}

fn params(ps: &[ParamInfo]) -> String {
    if ps.is_empty() {
        return String::new();
    }
    let inner: Vec<String> = ps
        .iter()
        .map(|p| format!("{}: {}", p.name, kind(p)))
        .collect();
    format!(" {{ {} }}", inner.join(", "))
}
