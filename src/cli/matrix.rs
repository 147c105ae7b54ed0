//! The verdict matrix: per model, one row per scenario and one column per variant, each cell the
//! verdict of that scenario x variant with its schedulers folded in (expanded where they
//! disagree) and a `!` when a trial of it is not as expected; then the trials not as expected
//! with their reports and replay commands, then the summary line. `gate` and `run` print it by
//! default, and `reports/index.html` draws the same [`Matrix`] with links.
//!
//! What it prints depends only on the results' names, verdicts and judgements and on the
//! catalogue (never on time or hashing), so the same run prints the same bytes.

use poolcheck_harness::monitor;
use poolcheck_harness::scenario::{model_variant_links, AnyScenario};
use poolcheck_harness::trial::TrialResult;
use poolcheck_models::model;
use std::path::PathBuf;

/// What the matrix knows about a scenario beyond its trials.
#[derive(Clone, Debug)]
pub struct ScenarioMeta {
    /// Its name (the file stem).
    pub name: String,
    /// The model (or real crate) it explores.
    pub model: String,
    /// Its file.
    pub path: PathBuf,
    /// One line.
    pub description: String,
    /// The upstream bug report it comes from.
    pub origin: Option<String>,
}

/// A model's variants, in its own order (the fixed behaviour first).
#[derive(Clone, Debug)]
pub struct ModelMeta {
    /// The model's name.
    pub name: String,
    /// `(variant, upstream link or version)`.
    pub variants: Vec<(String, String)>,
}

/// The catalogue the results came from.
#[derive(Clone, Debug, Default)]
pub struct Meta {
    /// Scenarios, in catalogue order.
    pub scenarios: Vec<ScenarioMeta>,
    /// Models, in registry order.
    pub models: Vec<ModelMeta>,
}

impl Meta {
    /// The catalogue of these scenarios: each one, every model of the registry, then the
    /// model of each scenario the registry does not have (a family's: the real crates').
    pub fn of(scenarios: &[AnyScenario]) -> Self {
        let mut meta = Meta::default();
        for m in model::registry() {
            meta.models.push(ModelMeta {
                name: m.info().name.to_owned(),
                variants: model_variant_links(m),
            });
        }
        for s in scenarios {
            meta.scenarios.push(ScenarioMeta {
                name: s.name().to_owned(),
                model: s.model_name().to_owned(),
                path: s.path().to_owned(),
                description: s.description().to_owned(),
                origin: s.origin().map(str::to_owned),
            });
            if meta.model(s.model_name()).is_none() {
                meta.models.push(ModelMeta {
                    name: s.model_name().to_owned(),
                    variants: s.variant_links(),
                });
            }
        }
        meta
    }

    fn scenario(&self, name: &str) -> Option<&ScenarioMeta> {
        self.scenarios.iter().find(|s| s.name == name)
    }

    fn model(&self, name: &str) -> Option<&ModelMeta> {
        self.models.iter().find(|m| m.name == name)
    }

    /// The upstream link of a model's variant, if the catalogue has one.
    pub fn upstream(&self, model: &str, variant: &str) -> Option<&str> {
        let m = self.model(model)?;
        m.variants
            .iter()
            .find(|(v, _)| v == variant)
            .map(|(_, u)| u.as_str())
    }
}

/// One model's table.
#[derive(Clone, Debug)]
pub struct Block {
    /// The model's name.
    pub model: String,
    /// The columns: variants with a trial, in the model's order (then any others as met).
    pub variants: Vec<String>,
    /// One row per scenario, in the order of the results.
    pub rows: Vec<Row>,
}

/// One scenario's row.
#[derive(Clone, Debug)]
pub struct Row {
    /// The scenario.
    pub scenario: String,
    /// Per column: the indices (into the results) of that variant's trials.
    pub cells: Vec<Vec<usize>>,
}

/// The whole matrix, over one run's results.
#[derive(Clone, Debug)]
pub struct Matrix<'a> {
    /// The results, in run order.
    pub results: &'a [TrialResult],
    /// Per model, in the order of the results.
    pub blocks: Vec<Block>,
}

impl<'a> Matrix<'a> {
    /// Arrange `results` by model, scenario and variant.
    pub fn new(results: &'a [TrialResult], meta: &Meta) -> Self {
        let mut blocks: Vec<Block> = Vec::new();
        for (i, d) in results.iter().enumerate() {
            let model = meta
                .scenario(&d.scenario)
                .map_or_else(|| "?".to_owned(), |s| s.model.clone());
            let b = match blocks.iter().position(|b| b.model == model) {
                Some(b) => b,
                None => {
                    blocks.push(Block {
                        model,
                        variants: Vec::new(),
                        rows: Vec::new(),
                    });
                    blocks.len() - 1
                }
            };
            blocks[b].add(i, d);
        }
        for b in &mut blocks {
            b.order_columns(meta.model(&b.model));
        }
        // Models in the catalogue's order (the registry's, then real crates), stable otherwise.
        blocks.sort_by_key(|b| {
            meta.models
                .iter()
                .position(|m| m.name == b.model)
                .unwrap_or(usize::MAX)
        });
        Matrix { results, blocks }
    }

    /// The trials of one cell.
    pub fn trials(&self, cell: &[usize]) -> Vec<&'a TrialResult> {
        cell.iter().map(|&i| &self.results[i]).collect()
    }
}

impl Block {
    fn add(&mut self, i: usize, d: &TrialResult) {
        let col = match self.variants.iter().position(|v| *v == d.variant) {
            Some(c) => c,
            None => {
                self.variants.push(d.variant.clone());
                self.rows.iter_mut().for_each(|r| r.cells.push(Vec::new()));
                self.variants.len() - 1
            }
        };
        let row = match self.rows.iter().position(|r| r.scenario == d.scenario) {
            Some(r) => r,
            None => {
                self.rows.push(Row {
                    scenario: d.scenario.clone(),
                    cells: vec![Vec::new(); self.variants.len()],
                });
                self.rows.len() - 1
            }
        };
        self.rows[row].cells[col].push(i);
    }

    /// Put the columns in the model's variant order; variants it does not list keep the order
    /// they were met in, after it.
    fn order_columns(&mut self, model: Option<&ModelMeta>) {
        let rank = |v: &str| {
            model
                .and_then(|m| m.variants.iter().position(|(n, _)| n == v))
                .unwrap_or(usize::MAX)
        };
        let mut order: Vec<usize> = (0..self.variants.len()).collect();
        order.sort_by_key(|&c| rank(&self.variants[c])); // stable: ties keep their order
        self.variants = order.iter().map(|&c| self.variants[c].clone()).collect();
        for r in &mut self.rows {
            r.cells = order.iter().map(|&c| r.cells[c].clone()).collect();
        }
    }
}

/// A column's key: `A`..`Z`, then `AA`, `AB`...
pub fn column_key(mut i: usize) -> String {
    let mut key = String::new();
    loop {
        key.insert(0, char::from(b'A' + (i % 26) as u8));
        if i < 26 {
            return key;
        }
        i = i / 26 - 1;
    }
}

/// Short names for verdicts (`.` for pass, initials otherwise: `RA` request-answered) and
/// schedulers (`l` loom, `p` pct, `R` replay...). Names known to the harness get the same short
/// form in every run; names met first in this run follow, each unique.
pub struct Shorthand {
    verdicts: Vec<(String, String)>,
    schedulers: Vec<(String, String)>,
}

/// Scheduler names in the order they get their keys (so the keys are stable across runs).
const SCHEDULER_ORDER: &[&str] = &[
    "loom",
    "pct",
    "random",
    "dfs",
    "std",
    "replay",
    "loom-replay",
    "dpor",
    "dpor-replay",
    "differential",
];

impl Shorthand {
    /// Short forms for every verdict and scheduler of `results`.
    pub fn new(results: &[TrialResult]) -> Self {
        let mut s = Shorthand {
            verdicts: vec![("pass".into(), ".".into())],
            schedulers: Vec::new(),
        };
        let registry = monitor::registry();
        let known = registry.iter().map(|m| m.name);
        let harness = monitor::HARNESS_VERDICTS.iter().map(|(n, _)| *n);
        for v in known.chain(harness).chain(["harness-panic"]) {
            s.add_verdict(v);
        }
        for d in results {
            s.add_verdict(&d.verdict);
        }
        for n in SCHEDULER_ORDER {
            s.add_scheduler(n);
        }
        for d in results {
            s.add_scheduler(&d.scheduler);
        }
        s
    }

    fn add_verdict(&mut self, name: &str) {
        if self.verdicts.iter().any(|(n, _)| n == name) {
            return;
        }
        let initials: String = name
            .split('-')
            .filter_map(|w| w.chars().next())
            .collect::<String>()
            .to_uppercase();
        let taken = |k: &str| self.verdicts.iter().any(|(_, s)| s == k);
        let key = unique(&initials, name, &taken);
        self.verdicts.push((name.to_owned(), key));
    }

    fn add_scheduler(&mut self, name: &str) {
        if self.schedulers.iter().any(|(n, _)| n == name) {
            return;
        }
        let first: String = name.chars().take(1).collect();
        let upper = first.to_uppercase();
        let taken = |k: &str| self.schedulers.iter().any(|(_, s)| s == k);
        let key = if !taken(&first) {
            first
        } else if !taken(&upper) {
            upper
        } else {
            unique(&first, name, &taken)
        };
        self.schedulers.push((name.to_owned(), key));
    }

    /// A verdict's short form.
    pub fn verdict(&self, name: &str) -> &str {
        lookup(&self.verdicts, name)
    }

    /// A scheduler's key.
    pub fn scheduler(&self, name: &str) -> &str {
        lookup(&self.schedulers, name)
    }

    /// `(short, name)` of the verdicts `results` show, in shorthand order.
    pub fn verdicts_in(&self, results: &[TrialResult]) -> Vec<(&str, &str)> {
        used(&self.verdicts, results.iter().map(|d| d.verdict.as_str()))
    }

    /// `(key, name)` of the schedulers `results` ran, in shorthand order.
    pub fn schedulers_in(&self, results: &[TrialResult]) -> Vec<(&str, &str)> {
        used(
            &self.schedulers,
            results.iter().map(|d| d.scheduler.as_str()),
        )
    }

    /// The text of one cell: the verdict every trial gave (`RA`), or the most common one then
    /// each other with the keys of the schedulers that gave it (`RA s:.`); `!` after it when a
    /// trial of the cell is not as expected. Empty when the cell has no trial.
    pub fn cell(&self, trials: &[&TrialResult]) -> String {
        if trials.is_empty() {
            return String::new();
        }
        let mut groups: Vec<(&str, Vec<&str>)> = Vec::new();
        for d in trials {
            match groups.iter_mut().find(|(v, _)| *v == d.verdict) {
                Some((_, s)) => s.push(&d.scheduler),
                None => groups.push((&d.verdict, vec![&d.scheduler])),
            }
        }
        let main = groups
            .iter()
            .enumerate()
            .max_by_key(|(i, (_, s))| (s.len(), std::cmp::Reverse(*i)))
            .map_or(0, |(i, _)| i);
        let mut out = self.verdict(groups[main].0).to_owned();
        for (i, (v, schedulers)) in groups.iter().enumerate() {
            if i != main {
                let keys: String = schedulers.iter().map(|s| self.scheduler(s)).collect();
                out.push_str(&format!(" {keys}:{}", self.verdict(v)));
            }
        }
        if trials.iter().any(|d| !d.ok) {
            out.push('!');
        }
        if trials.iter().any(|d| d.unjudged()) {
            out.push('?');
        }
        out
    }
}

fn lookup<'s>(table: &'s [(String, String)], name: &str) -> &'s str {
    table
        .iter()
        .find(|(n, _)| n == name)
        .map_or("?", |(_, s)| s.as_str())
}

fn used<'s, 'n>(
    table: &'s [(String, String)],
    names: impl Iterator<Item = &'n str>,
) -> Vec<(&'s str, &'s str)> {
    let names: Vec<&str> = names.collect();
    table
        .iter()
        .filter(|(n, _)| names.contains(&n.as_str()))
        .map(|(n, s)| (s.as_str(), n.as_str()))
        .collect()
}

/// `base`, or `base` followed by more letters of `name`, or by a number: the first not taken.
fn unique(base: &str, name: &str, taken: &dyn Fn(&str) -> bool) -> String {
    if !taken(base) {
        return base.to_owned();
    }
    let letters: Vec<char> = name.chars().filter(char::is_ascii_alphanumeric).collect();
    for n in 2..=letters.len() {
        let k = format!("{base}{}", letters[1..n].iter().collect::<String>());
        if !taken(&k) {
            return k;
        }
    }
    (2..)
        .map(|n| format!("{base}{n}"))
        .find(|k| !taken(k))
        .expect("some number is free")
}

/// The matrix as text: each model's table with its column legend, the verdict and scheduler
/// legend, the trials not as expected, and the summary line.
pub fn render(m: &Matrix<'_>) -> String {
    let short = Shorthand::new(m.results);
    let mut out = String::new();
    for b in &m.blocks {
        out.push_str(&block(b, m, &short));
        out.push('\n');
    }
    out.push_str(&legend(m.results, &short));
    out.push_str(&not_as_expected(m.results));
    out.push_str(&unjudged(m.results));
    out.push_str(&summary_line(m.results));
    out
}

fn block(b: &Block, m: &Matrix<'_>, short: &Shorthand) -> String {
    let keys: Vec<String> = (0..b.variants.len()).map(column_key).collect();
    let cells: Vec<Vec<String>> = b
        .rows
        .iter()
        .map(|r| r.cells.iter().map(|c| short.cell(&m.trials(c))).collect())
        .collect();
    let first = b
        .rows
        .iter()
        .map(|r| r.scenario.chars().count())
        .chain([8])
        .max()
        .unwrap_or(8);
    let widths: Vec<usize> = keys
        .iter()
        .enumerate()
        .map(|(c, k)| {
            cells
                .iter()
                .map(|r| r[c].chars().count())
                .chain([k.len()])
                .max()
                .unwrap_or(1)
        })
        .collect();
    let mut out = format!(
        "{} ({} scenario(s) x {} variant(s))\n",
        b.model,
        b.rows.len(),
        b.variants.len()
    );
    out.push_str(&line("scenario", &keys, first, &widths));
    for (r, row) in b.rows.iter().zip(&cells) {
        out.push_str(&line(&r.scenario, row, first, &widths));
    }
    let names: Vec<String> = keys
        .iter()
        .zip(&b.variants)
        .map(|(k, v)| format!("{k} {v}"))
        .collect();
    out.push_str(&wrap(&names, "  ", 100));
    out
}

fn line(head: &str, cells: &[String], first: usize, widths: &[usize]) -> String {
    let mut out = format!("{head:<first$}");
    for (c, w) in cells.iter().zip(widths) {
        out.push_str(&format!("  {c:<w$}"));
    }
    format!("{}\n", out.trim_end())
}

/// `items` on lines of at most `width` characters (an item longer than that gets a line of its
/// own), each line starting with `indent`, items two spaces apart.
fn wrap(items: &[String], indent: &str, width: usize) -> String {
    let mut out = String::new();
    let mut current = String::new();
    for item in items {
        if !current.is_empty() && indent.len() + current.len() + 2 + item.len() > width {
            out.push_str(&format!("{indent}{current}\n"));
            current.clear();
        }
        if !current.is_empty() {
            current.push_str("  ");
        }
        current.push_str(item);
    }
    if !current.is_empty() {
        out.push_str(&format!("{indent}{current}\n"));
    }
    out
}

fn legend(results: &[TrialResult], short: &Shorthand) -> String {
    let verdicts: Vec<String> = short
        .verdicts_in(results)
        .iter()
        .map(|(s, n)| format!("{s} {n}"))
        .collect();
    let schedulers: Vec<String> = short
        .schedulers_in(results)
        .iter()
        .map(|(s, n)| format!("{s} {n}"))
        .collect();
    let mut out = String::from("verdicts:\n");
    out.push_str(&wrap(&verdicts, "  ", 100));
    out.push_str("schedulers:\n");
    out.push_str(&wrap(&schedulers, "  ", 100));
    out.push_str(
        "a cell is the verdict of every scheduler, or the most common one then `keys:verdict` \
         for the others;\n`!` marks a cell with a trial not as expected\n",
    );
    if results.iter().any(TrialResult::unjudged) {
        out.push_str(
            "`?` marks a cell with a trial its scenario file has no expectation for (unjudged)\n",
        );
    }
    out
}

/// Every trial not as expected, with its judgement, report and replay command.
pub fn not_as_expected(results: &[TrialResult]) -> String {
    let mut out = String::new();
    for d in results.iter().filter(|d| !d.ok) {
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

/// The unjudged trials that ran (no expectation in their file) with what each gave, for
/// `poolcheck bless` to record; empty when there are none.
pub fn unjudged(results: &[TrialResult]) -> String {
    let open: Vec<&TrialResult> = results.iter().filter(|d| d.ok && d.unjudged()).collect();
    if open.is_empty() {
        return String::new();
    }
    let mut out = format!(
        "\nUNJUDGED {} trial(s), no expectation in their scenario file \
         (`poolcheck bless` records what they gave):\n",
        open.len()
    );
    for d in open {
        out.push_str(&format!("  {}: {}\n", d.name(), d.verdict));
    }
    out
}

/// `N trial(s): X as expected, Y not` (then `, Z unjudged` when some are), after a blank line.
/// An unjudged trial counts as neither as expected nor not, unless a harness verdict failed it.
pub fn summary_line(results: &[TrialResult]) -> String {
    let bad = results.iter().filter(|d| !d.ok).count();
    let open = results.iter().filter(|d| d.ok && d.unjudged()).count();
    let tail = if open > 0 {
        format!(", {open} unjudged")
    } else {
        String::new()
    };
    format!(
        "\n{} trial(s): {} as expected, {bad} not{tail}\n",
        results.len(),
        results.len() - bad - open
    )
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;
    use std::time::Duration;

    fn done(
        scenario: &str,
        variant: &str,
        scheduler: &str,
        verdict: &str,
        ok: bool,
    ) -> TrialResult {
        TrialResult {
            scenario: scenario.into(),
            variant: variant.into(),
            scheduler: scheduler.into(),
            expected: "pass".into(),
            verdict: verdict.into(),
            ok,
            judgement: format!("{variant}: {verdict}"),
            executions: 3,
            elapsed: Duration::from_millis(7),
            seed: None,
            note: None,
            counterexample: None,
            report: None,
            races: None,
            outcomes: None,
        }
    }

    /// Three scenarios of two models, for the matrix's and the index's tests.
    pub(in crate::cli) fn meta() -> Meta {
        let sc = |name: &str, model: &str| ScenarioMeta {
            name: name.into(),
            model: model.into(),
            path: format!("scenarios/{name}.toml").into(),
            description: format!("{name} in words"),
            origin: None,
        };
        Meta {
            scenarios: vec![sc("s1", "m"), sc("s2", "m"), sc("r1", "h2")],
            models: vec![ModelMeta {
                name: "m".into(),
                variants: vec![
                    ("fixed".into(), String::new()),
                    ("bug-a".into(), "https://example.invalid/a".into()),
                    ("bug-b".into(), String::new()),
                ],
            }],
        }
    }

    /// Trials of [`meta`]'s scenarios: folded, disagreeing and not-as-expected cells.
    pub(in crate::cli) fn results() -> Vec<TrialResult> {
        vec![
            done("s1", "bug-b", "loom", "request-answered", true),
            done("s1", "bug-b", "std", "pass", true),
            done("s1", "fixed", "loom", "pass", true),
            done("s1", "fixed", "std", "pass", true),
            done("s2", "fixed", "loom", "pass", true),
            done("s2", "bug-a", "loom", "pass", false),
            done("s2", "bug-a", "dpor", "max-connections", true),
            done("r1", "upstream", "pct", "pass", true),
            done("r1", "upstream", "differential", "pass", true),
        ]
    }

    #[test]
    fn cells_fold_schedulers_and_mark_surprises() {
        let r = results();
        let m = Matrix::new(&r, &meta());
        assert_eq!(m.blocks.len(), 2);
        let b = &m.blocks[0];
        assert_eq!(b.variants, ["fixed", "bug-a", "bug-b"], "the model's order");
        let short = Shorthand::new(&r);
        let cell = |row: usize, col: usize| short.cell(&m.trials(&b.rows[row].cells[col]));
        assert_eq!(cell(0, 0), ".");
        assert_eq!(cell(0, 1), "", "no trial");
        assert_eq!(cell(0, 2), "RA s:.");
        assert_eq!(
            cell(1, 1),
            ". D:MC!",
            "ties go to the first; dpor's key is D"
        );
    }

    #[test]
    fn the_same_results_render_the_same_bytes() {
        let r = results();
        let text = render(&Matrix::new(&r, &meta()));
        let again = render(&Matrix::new(&r.clone(), &meta()));
        assert_eq!(text, again);
        let expected = "\
m (2 scenario(s) x 3 variant(s))
scenario  A  B        C
s1        .           RA s:.
s2        .  . D:MC!
  A fixed  B bug-a  C bug-b

h2 (1 scenario(s) x 1 variant(s))
scenario  A
r1        .
  A upstream

verdicts:
  . pass  MC max-connections  RA request-answered
schedulers:
  l loom  p pct  s std  D dpor  di differential
a cell is the verdict of every scheduler, or the most common one then `keys:verdict` for the others;
`!` marks a cell with a trial not as expected

NOT AS EXPECTED s2/bug-a/loom: bug-a: pass

9 trial(s): 8 as expected, 1 not
";
        assert_eq!(text, expected);
    }

    #[test]
    fn unjudged_trials_are_marked_listed_and_counted_apart() {
        let mut r = results();
        for d in r.iter_mut().filter(|d| d.variant == "bug-b") {
            d.expected = poolcheck_harness::trial::UNJUDGED.into();
        }
        let m = Matrix::new(&r, &meta());
        let short = Shorthand::new(&r);
        let b = &m.blocks[0];
        assert_eq!(short.cell(&m.trials(&b.rows[0].cells[2])), "RA s:.?");
        let text = render(&m);
        assert!(text.contains("`?` marks a cell with a trial its scenario file has no expectation"));
        assert!(text.contains("UNJUDGED 2 trial(s)"), "{text}");
        assert!(
            text.contains("  s1/bug-b/loom: request-answered\n"),
            "{text}"
        );
        assert!(
            text.ends_with("9 trial(s): 6 as expected, 1 not, 2 unjudged\n"),
            "{text}"
        );
    }

    #[test]
    fn column_keys_run_past_z() {
        assert_eq!(column_key(0), "A");
        assert_eq!(column_key(25), "Z");
        assert_eq!(column_key(26), "AA");
        assert_eq!(column_key(27), "AB");
    }

    #[test]
    fn every_known_verdict_has_its_own_short_form() {
        let s = Shorthand::new(&[]);
        let mut seen: Vec<&str> = s.verdicts.iter().map(|(_, k)| k.as_str()).collect();
        let n = seen.len();
        seen.sort_unstable();
        seen.dedup();
        assert_eq!(seen.len(), n, "{:?}", s.verdicts);
    }
}
