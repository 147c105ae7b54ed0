//! Where reports go and how they are written.
//!
//! A counterexample is written as `<root>/<scenario>/<variant>.<scheduler>.{md,json,html}`
//! (with `.shard-K-of-N` before the extension for a sharded run). Every name that comes from a
//! scenario file is sanitised to `[a-z0-9._-]`, with no leading dot, so nothing lands outside
//! `<root>`. Each file is written to a temporary sibling and renamed into place, so a reader (or
//! a concurrent run) never sees half a report.

use super::{html, json, markdown, Counterexample};
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

/// The three files of one counterexample.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReportPaths {
    /// The versioned JSON report (what `poolcheck replay` reads).
    pub json: PathBuf,
    /// The Markdown report.
    pub markdown: PathBuf,
    /// The self-contained HTML page.
    pub html: PathBuf,
}

impl ReportPaths {
    /// The paths for `c` under `root`; `shard` is `Some((k, n))` for a sharded run.
    pub fn new(root: &Path, c: &Counterexample, shard: Option<(u64, u64)>) -> Self {
        let dir = root.join(sanitise(&c.scenario));
        let mut stem = format!("{}.{}", sanitise(&c.variant), sanitise(&c.scheduler));
        if let Some((k, n)) = shard.filter(|(_, n)| *n > 1) {
            stem.push_str(&format!(".shard-{k}-of-{n}"));
        }
        ReportPaths {
            json: dir.join(format!("{stem}.json")),
            markdown: dir.join(format!("{stem}.md")),
            html: dir.join(format!("{stem}.html")),
        }
    }

    /// The command that replays the JSON report.
    pub fn replay_command(&self) -> String {
        format!("cargo run --release -- replay {}", self.json.display())
    }
}

/// A name made safe for one path component: lowercase ASCII letters, digits, `.`, `_`, `-`;
/// anything else becomes `_`; leading dots become `_` (no `..`, no hidden files); never empty.
pub fn sanitise(name: &str) -> String {
    let mut out: String = name
        .chars()
        .map(|c| match c.to_ascii_lowercase() {
            c @ ('a'..='z' | '0'..='9' | '.' | '_' | '-') => c,
            _ => '_',
        })
        .collect();
    let dots = out.len() - out.trim_start_matches('.').len();
    out.replace_range(..dots, &"_".repeat(dots));
    if out.is_empty() {
        out.push('_');
    }
    out.truncate(100);
    out
}

/// Write the Markdown, JSON and HTML reports of `c` under `root`.
pub fn write_reports(
    root: &Path,
    c: &Counterexample,
    shard: Option<(u64, u64)>,
) -> std::io::Result<ReportPaths> {
    let paths = ReportPaths::new(root, c, shard);
    let replay = paths.replay_command();
    write_reports_with(&paths, c, &replay)?;
    Ok(paths)
}

/// Write the reports of `c` to `paths`, with `replay` as the way to replay it (a library check
/// names its `Builder` call instead of the command line).
pub fn write_reports_with(
    paths: &ReportPaths,
    c: &Counterexample,
    replay: &str,
) -> std::io::Result<()> {
    write_atomic(&paths.json, json::to_json(c).as_bytes())?;
    write_atomic(
        &paths.markdown,
        markdown::render_markdown(c, replay).as_bytes(),
    )?;
    write_atomic(&paths.html, html::render_html(c, replay).as_bytes())?;
    Ok(())
}

/// Create (or truncate) a temporary file beside `path`, write `bytes`, then rename it over
/// `path`. The temporary name carries the process id and a per-process count, so concurrent
/// writers (other processes, or other threads of this one: tests checking in parallel) never
/// share one.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let name = path
        .file_name()
        .map_or_else(|| "report".into(), |n| n.to_string_lossy().into_owned());
    static WRITES: AtomicU64 = AtomicU64::new(0);
    let n = WRITES.fetch_add(1, Ordering::Relaxed);
    let tmp = path.with_file_name(format!(".{name}.{}.{n}.tmp", std::process::id()));
    let mut f = std::fs::File::create(&tmp)?;
    f.write_all(bytes)?;
    f.sync_all()?;
    drop(f);
    std::fs::rename(&tmp, path).inspect_err(|_| {
        let _ = std::fs::remove_file(&tmp);
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sanitise_keeps_names_inside_one_component() {
        assert_eq!(sanitise("httpcore-1062"), "httpcore-1062");
        assert_eq!(sanitise("../../etc/passwd"), "___.._etc_passwd");
        assert_eq!(sanitise(".hidden"), "_hidden");
        assert_eq!(sanitise("A B/C\\d"), "a_b_c_d");
        assert_eq!(sanitise(""), "_");
        assert_eq!(sanitise(".."), "__");
    }

    #[test]
    fn threads_of_one_process_write_the_same_report_without_clobbering() {
        let dir = std::env::temp_dir().join(format!("poolcheck-threads-{}", std::process::id()));
        let path = dir.join("a.json");
        let writers: Vec<_> = (0..4)
            .map(|_| {
                let path = path.clone();
                std::thread::spawn(move || {
                    (0..50).try_for_each(|_| write_atomic(&path, b"same bytes"))
                })
            })
            .collect();
        for w in writers {
            w.join().unwrap().unwrap();
        }
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "same bytes");
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn write_atomic_replaces_the_file_whole() {
        let dir = std::env::temp_dir().join(format!("poolcheck-write-{}", std::process::id()));
        let path = dir.join("x").join("a.json");
        write_atomic(&path, b"first, longer").unwrap();
        write_atomic(&path, b"second").unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "second");
        let leftovers = std::fs::read_dir(path.parent().unwrap()).unwrap().count();
        assert_eq!(leftovers, 1);
        std::fs::remove_dir_all(dir).unwrap();
    }
}
