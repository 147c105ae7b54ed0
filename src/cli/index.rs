//! `reports/index.html`, written by every `gate` and `run`: one self-contained page (inline CSS,
//! no script, nothing fetched) with the run's date, command, commit and crate versions, the
//! verdict matrix of [`super::matrix`] with each cell linking to the reports its trials wrote,
//! each scenario linking to its file (with its description and origin), each variant to its
//! upstream issue, and the trials not as expected.
//!
//! The markup is XHTML-style well-formed like the reports' (every element closed, void elements
//! self-closed). Links to reports and scenario files are relative to the page, so the folder can
//! be moved or served as it is.

use super::matrix::{column_key, Block, Matrix, Meta, Shorthand};
use poolcheck_harness::report::html::escape;
use poolcheck_harness::report::write_atomic;
use poolcheck_harness::trial::TrialResult;
use std::fmt::Write as _;
use std::path::{Component, Path, PathBuf};

/// What the page says about the run at its top.
pub struct RunInfo {
    /// When it ran, `YYYY-MM-DD HH:MM:SS UTC`.
    pub date: String,
    /// The command line.
    pub command: String,
    /// The commit of the working tree (`unknown` outside git), `+ changes` when dirty.
    pub commit: String,
    /// poolcheck's and the explored crates' versions.
    pub versions: String,
}

impl RunInfo {
    /// The current run: the wall clock, this process's arguments, `git` in the working folder.
    pub fn current() -> Self {
        let args: Vec<String> = std::env::args().collect();
        let mut command = vec!["poolcheck".to_owned()];
        command.extend(args.into_iter().skip(1).map(|a| quote(&a)));
        RunInfo {
            date: utc_now(),
            command: command.join(" "),
            commit: commit(),
            versions: format!(
                "poolcheck {}; schedulers: {}; real crates: {}",
                env!("CARGO_PKG_VERSION"),
                poolcheck_realstack::SCHEDULER_CRATE_VERSIONS,
                poolcheck_realstack::CRATE_VERSIONS
            ),
        }
    }
}

/// Write `<reports>/index.html` for `results`. A page that cannot be written is a warning.
pub fn write(
    reports: &Path,
    results: &[TrialResult],
    meta: &Meta,
    info: &RunInfo,
) -> Option<PathBuf> {
    let path = reports.join("index.html");
    let page = render(results, meta, info, reports);
    match write_atomic(&path, page.as_bytes()) {
        Ok(()) => Some(path),
        Err(e) => {
            poolcheck_harness::backend::stderr::eprint_original(&format!(
                "warning: cannot write {}: {e}\n",
                path.display()
            ));
            None
        }
    }
}

const STYLE: &str = "
body { font: 14px/1.45 system-ui, -apple-system, 'Segoe UI', sans-serif; margin: 24px; color: #0f172a; }
h1 { font-size: 20px; margin: 0 0 8px; }
h2 { font-size: 16px; margin: 28px 0 8px; }
code, td.cell, th.key { font-family: ui-monospace, 'DejaVu Sans Mono', monospace; }
dl.run { display: grid; grid-template-columns: max-content auto; gap: 2px 12px; margin: 8px 0; }
dl.run dt { color: #64748b; }
dl.run dd { margin: 0; }
.summary { padding: 8px 12px; border-left: 4px solid #16a34a; background: #f0fdf4; }
.summary.bad { border-color: #dc2626; background: #fee2e2; }
table { border-collapse: collapse; font-size: 12px; }
th, td { border: 1px solid #e2e8f0; padding: 3px 6px; text-align: left; vertical-align: top; }
th { background: #f1f5f9; }
th.key { text-align: left; vertical-align: bottom; padding: 6px 2px; }
th.key .vname { writing-mode: vertical-rl; transform: rotate(180deg); white-space: nowrap; font-weight: normal; }
td.scenario { min-width: 240px; }
td.scenario a { font-weight: 600; }
td.scenario .desc { color: #475569; font-size: 11px; max-width: 340px; overflow-wrap: anywhere; }
td.cell { text-align: center; white-space: nowrap; }
td.cell .v { font-weight: bold; }
td.pass { background: #f0fdf4; color: #15803d; }
td.caught { background: #eff6ff; color: #1d4ed8; }
td.bad { background: #fee2e2; color: #b91c1c; outline: 2px solid #dc2626; outline-offset: -2px; }
td.open { outline: 2px dashed #94a3b8; outline-offset: -2px; }
td.cell .r { display: block; font-size: 10px; font-weight: normal; color: #475569; }
td.cell .r a { color: #1d4ed8; }
ul.variants { columns: 2; font-size: 12px; margin: 6px 0 0; padding-left: 18px; }
.legend span { margin-right: 14px; white-space: nowrap; display: inline-block; }
";

/// The page.
pub fn render(results: &[TrialResult], meta: &Meta, info: &RunInfo, reports: &Path) -> String {
    let m = Matrix::new(results, meta);
    let short = Shorthand::new(results);
    let mut out = format!(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\"/>\n\
         <title>poolcheck: verdict matrix</title>\n<style>{STYLE}</style>\n</head>\n<body>\n\
         <h1>poolcheck: verdict matrix</h1>\n"
    );
    header(&mut out, info);
    summary(&mut out, results, reports);
    for b in &m.blocks {
        block(&mut out, b, &m, &short, meta, reports);
    }
    legend(&mut out, results, &short);
    out.push_str("</body>\n</html>\n");
    out
}

fn header(out: &mut String, info: &RunInfo) {
    out.push_str("<dl class=\"run\">\n");
    for (k, v) in [
        ("date", &info.date),
        ("command", &info.command),
        ("commit", &info.commit),
        ("versions", &info.versions),
    ] {
        writeln!(out, "<dt>{k}</dt><dd><code>{}</code></dd>", escape(v)).expect("String");
    }
    out.push_str("</dl>\n");
}

fn summary(out: &mut String, results: &[TrialResult], reports: &Path) {
    let bad: Vec<&TrialResult> = results.iter().filter(|d| !d.ok).collect();
    writeln!(
        out,
        "<p class=\"summary{}\">{}</p>",
        if bad.is_empty() { "" } else { " bad" },
        escape(super::matrix::summary_line(results).trim())
    )
    .expect("String");
    if bad.is_empty() {
        return;
    }
    out.push_str("<h2>Not as expected</h2>\n<ul>\n");
    for d in bad {
        write!(
            out,
            "<li><code>{}</code>: {}",
            escape(&d.name()),
            escape(&d.judgement)
        )
        .expect("String");
        if let Some(links) = report_links(d, reports) {
            write!(out, " ({links})").expect("String");
        }
        out.push_str("</li>\n");
    }
    out.push_str("</ul>\n");
}

fn block(
    out: &mut String,
    b: &Block,
    m: &Matrix<'_>,
    short: &Shorthand,
    meta: &Meta,
    reports: &Path,
) {
    writeln!(
        out,
        "<h2 id=\"{}\">{} <small>({} scenario(s) x {} variant(s))</small></h2>",
        escape(&b.model),
        escape(&b.model),
        b.rows.len(),
        b.variants.len()
    )
    .expect("String");
    out.push_str("<table>\n<tr><th>scenario</th>");
    for (i, v) in b.variants.iter().enumerate() {
        write!(
            out,
            "<th class=\"key\" title=\"{}\"><span class=\"vname\">{} {}</span></th>",
            escape(v),
            column_key(i),
            escape(v)
        )
        .expect("String");
    }
    out.push_str("</tr>\n");
    for r in &b.rows {
        out.push_str("<tr>");
        scenario_cell(out, &r.scenario, meta, reports);
        for (cell, v) in r.cells.iter().zip(&b.variants) {
            verdict_cell(out, &m.trials(cell), v, short, reports);
        }
        out.push_str("</tr>\n");
    }
    out.push_str("</table>\n<ul class=\"variants\">\n");
    for (i, v) in b.variants.iter().enumerate() {
        write!(out, "<li><code>{}</code> ", column_key(i)).expect("String");
        match meta.upstream(&b.model, v) {
            Some(u) if u.starts_with("https://") => {
                write!(out, "<a href=\"{}\">{}</a>", escape(u), escape(v))
            }
            Some(u) if !u.is_empty() => write!(out, "{} <small>({})</small>", escape(v), escape(u)),
            _ => write!(out, "{}", escape(v)),
        }
        .expect("String");
        out.push_str("</li>\n");
    }
    out.push_str("</ul>\n");
}

fn scenario_cell(out: &mut String, name: &str, meta: &Meta, reports: &Path) {
    out.push_str("<td class=\"scenario\">");
    match meta.scenarios.iter().find(|s| s.name == name) {
        Some(s) => {
            write!(
                out,
                "<a href=\"{}\">{}</a><div class=\"desc\">{}",
                escape(&href(reports, &s.path)),
                escape(name),
                escape(&s.description)
            )
            .expect("String");
            match &s.origin {
                Some(o) if o.starts_with("https://") => {
                    write!(out, " (<a href=\"{}\">origin</a>)", escape(o))
                }
                Some(o) => write!(out, " ({})", escape(o)),
                None => Ok(()),
            }
            .expect("String");
            out.push_str("</div>");
        }
        None => out.push_str(&escape(name)),
    }
    out.push_str("</td>");
}

fn verdict_cell(
    out: &mut String,
    trials: &[&TrialResult],
    variant: &str,
    short: &Shorthand,
    reports: &Path,
) {
    if trials.is_empty() {
        out.push_str("<td class=\"cell\"></td>");
        return;
    }
    let mut class = if trials.iter().any(|d| !d.ok) {
        "bad"
    } else if trials.iter().all(|d| d.verdict == "pass") {
        "pass"
    } else {
        "caught"
    }
    .to_owned();
    if trials.iter().any(|d| d.unjudged()) {
        class.push_str(" open");
    }
    let title: Vec<String> = trials
        .iter()
        .map(|d| format!("{}: {}", d.scheduler, d.judgement))
        .collect();
    write!(
        out,
        "<td class=\"cell {class}\" title=\"{}\"><span class=\"v\">{}</span>",
        escape(&format!("{variant}\n{}", title.join("\n"))),
        escape(&short.cell(trials))
    )
    .expect("String");
    for d in trials {
        if let Some(links) = report_links(d, reports) {
            write!(
                out,
                "<span class=\"r\">{} {links}</span>",
                escape(short.scheduler(&d.scheduler))
            )
            .expect("String");
        }
    }
    out.push_str("</td>");
}

/// `html md json` links to a trial's reports, relative to the page.
fn report_links(d: &TrialResult, reports: &Path) -> Option<String> {
    let p = d.report.as_ref()?;
    let link = |path: &Path, label: &str| {
        format!("<a href=\"{}\">{label}</a>", escape(&href(reports, path)))
    };
    Some(format!(
        "{} {} {}",
        link(&p.html, "html"),
        link(&p.markdown, "md"),
        link(&p.json, "json")
    ))
}

fn legend(out: &mut String, results: &[TrialResult], short: &Shorthand) {
    out.push_str("<h2>Legend</h2>\n<p class=\"legend\">");
    for (s, n) in short.verdicts_in(results) {
        write!(out, "<span><code>{}</code> {}</span>", escape(s), escape(n)).expect("String");
    }
    out.push_str("</p>\n<p class=\"legend\">");
    for (s, n) in short.schedulers_in(results) {
        write!(out, "<span><code>{}</code> {}</span>", escape(s), escape(n)).expect("String");
    }
    out.push_str(
        "</p>\n<p>A cell is the verdict of every scheduler of that scenario x variant, or the \
         most common one then <code>keys:verdict</code> for the others; <code>!</code> and a red \
         outline mark a cell with a trial not as expected; <code>?</code> and a dashed outline \
         mark a cell with a trial its scenario file has no expectation for (unjudged: \
         <code>poolcheck bless</code> records one). Under a verdict, each scheduler that wrote a \
         report links to it. Hover a cell for each trial's judgement.</p>\n",
    );
}

/// `target` relative to the folder `from` (both relative to the working folder, or absolute),
/// with `/` separators, for an `href`.
fn href(from: &Path, target: &Path) -> String {
    let cwd = std::env::current_dir().unwrap_or_default();
    let from = normalise(&cwd.join(from));
    let target = normalise(&cwd.join(target));
    let common = from.iter().zip(&target).take_while(|(a, b)| a == b).count();
    let mut parts: Vec<String> = vec!["..".to_owned(); from.len() - common];
    parts.extend(target[common..].iter().cloned());
    parts.join("/")
}

fn normalise(p: &Path) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for c in p.components() {
        match c {
            Component::ParentDir => {
                out.pop();
            }
            Component::Normal(n) => out.push(n.to_string_lossy().into_owned()),
            _ => {}
        }
    }
    out
}

fn quote(arg: &str) -> String {
    let plain = |c: char| c.is_ascii_alphanumeric() || "-_./=:,+@%".contains(c);
    if !arg.is_empty() && arg.chars().all(plain) {
        arg.to_owned()
    } else {
        format!("'{}'", arg.replace('\'', r"'\''"))
    }
}

fn commit() -> String {
    let git = |args: &[&str]| {
        std::process::Command::new("git")
            .args(args)
            .stderr(std::process::Stdio::null())
            .output()
            .ok()
            .filter(|o| o.status.success())
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
    };
    match git(&["rev-parse", "HEAD"]) {
        Some(head) => match git(&["status", "--porcelain", "--untracked-files=no"]) {
            Some(s) if !s.is_empty() => format!("{head} + uncommitted changes"),
            _ => head,
        },
        None => "unknown (not a git checkout)".to_owned(),
    }
}

/// The wall clock as `YYYY-MM-DD HH:MM:SS UTC` (the page header only; never in the matrix).
fn utc_now() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    utc(secs)
}

fn utc(secs: u64) -> String {
    let days = i64::try_from(secs / 86_400).unwrap_or(0);
    let rem = secs % 86_400;
    // Howard Hinnant's days-to-civil.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02} {:02}:{:02}:{:02} UTC",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_are_civil_utc() {
        assert_eq!(utc(0), "1970-01-01 00:00:00 UTC");
        assert_eq!(utc(951_782_400), "2000-02-29 00:00:00 UTC");
        assert_eq!(utc(1_796_128_496), "2026-12-01 12:34:56 UTC");
    }

    #[test]
    fn links_are_relative_to_the_page() {
        let r = Path::new("reports");
        assert_eq!(href(r, Path::new("reports/s/v.pct.html")), "s/v.pct.html");
        assert_eq!(
            href(r, Path::new("scenarios/s.toml")),
            "../scenarios/s.toml"
        );
        assert_eq!(href(Path::new("a/b"), Path::new("c")), "../../c");
    }

    /// A cell with an unjudged trial carries the `?` mark and the dashed outline, and the legend
    /// says what both mean.
    #[test]
    fn the_legend_explains_the_unjudged_mark() {
        let mut r = super::super::matrix::tests::results();
        for d in r.iter_mut().filter(|d| d.variant == "bug-b") {
            d.expected = poolcheck_harness::trial::UNJUDGED.into();
        }
        let info = RunInfo {
            date: utc(0),
            command: "poolcheck gate".into(),
            commit: "abc".into(),
            versions: "poolcheck 0".into(),
        };
        let meta = super::super::matrix::tests::meta();
        let html = render(&r, &meta, &info, Path::new("reports"));
        assert!(html.contains("class=\"cell caught open\""), "{html}");
        assert!(html.contains("<span class=\"v\">RA s:.?</span>"), "{html}");
        assert!(
            html.contains("<code>?</code> and a dashed outline"),
            "{html}"
        );
    }

    #[test]
    fn arguments_are_quoted_for_a_shell() {
        assert_eq!(quote("gate"), "gate");
        assert_eq!(quote("a b"), "'a b'");
        assert_eq!(quote("it's"), r"'it'\''s'");
    }
}
