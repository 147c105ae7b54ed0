//! `poolcheck-schemata`: write every mutant of a cargo-mutants list into a copy of the tree,
//! each behind its own runtime switch (a *mutant schema*), so that one build serves them all.
//!
//! ```text
//! poolcheck-schemata --list LIST.json --tree COPY --out PLACED.json [--skip SKIP.tsv]
//!                    [--from ORIGINALS]
//! ```
//!
//! LIST.json is `cargo mutants --list --json`; a mutant's id is its index there. COPY is a
//! scratch copy of the workspace, rewritten in place: never the working tree. SKIP.tsv holds
//! `id<TAB>reason` lines of mutants to leave as they are (the driver,
//! `scripts/mutants_schemata.py`, adds those whose schema does not compile). PLACED.json says,
//! per mutant, whether it was written or why not. ORIGINALS (default COPY) is where the
//! unmutated files are read from; a file whose rewritten text is already in COPY is not
//! written again, so cargo does not rebuild what has not changed. docs/mutation-testing.md
//! explains the method.

mod list;
mod locate;
mod render;
mod runtime;
mod schema;

use list::{Listed, Placed};
use std::collections::BTreeMap;
use std::path::Path;
use std::process::ExitCode;

struct Args {
    list: String,
    tree: String,
    out: String,
    skip: Option<String>,
    from: Option<String>,
}

fn main() -> ExitCode {
    match parse_args().and_then(|a| run(&a)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("poolcheck-schemata: {e}");
            ExitCode::from(2)
        }
    }
}

fn parse_args() -> Result<Args, String> {
    let mut named = BTreeMap::new();
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let value = it.next().ok_or(format!("{flag} needs a value"))?;
        named.insert(flag, value);
    }
    let mut take = |f: &str| named.remove(f);
    let args = Args {
        list: take("--list").ok_or("--list is required")?,
        tree: take("--tree").ok_or("--tree is required")?,
        out: take("--out").ok_or("--out is required")?,
        skip: take("--skip"),
        from: take("--from"),
    };
    match named.keys().next() {
        Some(unknown) => Err(format!("unknown argument {unknown}")),
        None => Ok(args),
    }
}

fn run(args: &Args) -> Result<(), String> {
    let listed = list::read(&args.list)?;
    let skip = read_skip(args.skip.as_deref())?;
    let mut placed: Vec<Placed> = listed
        .iter()
        .enumerate()
        .map(|(id, m)| Placed {
            id,
            name: m.name.clone(),
            file: m.file.clone(),
            package: m.package.clone(),
            left_out: skip.get(&id).cloned(),
        })
        .collect();
    let mut by_file: BTreeMap<&str, Vec<(usize, &Listed)>> = BTreeMap::new();
    for (id, m) in listed.iter().enumerate() {
        if !skip.contains_key(&id) {
            by_file.entry(&m.file).or_default().push((id, m));
        }
    }
    let tree = Path::new(&args.tree);
    let from = Path::new(args.from.as_deref().unwrap_or(&args.tree));
    let mut written: BTreeMap<String, String> = BTreeMap::new();
    for (file, mutants) in &by_file {
        let (text, left_out) = rewrite(&from.join(file), mutants)?;
        written.insert(file.to_string(), text);
        for (id, why) in left_out {
            placed[id].left_out = Some(why);
        }
    }
    for lib in libs(&listed) {
        let mut text = match written.remove(&lib) {
            Some(t) => t,
            None => read(&from.join(&lib))?,
        };
        text.push_str(&runtime::module(listed.len()));
        written.insert(lib, text);
    }
    for (file, text) in &written {
        write_if_changed(&tree.join(file), text)?;
    }
    let json = serde_json::to_string_pretty(&placed).expect("plain data serializes");
    std::fs::write(&args.out, json).map_err(|e| format!("{}: {e}", args.out))
}

/// One file with its mutants' schemata, and the mutants left out, with why.
type Rewritten = (String, Vec<(usize, String)>);

fn rewrite(path: &Path, mutants: &[(usize, &Listed)]) -> Result<Rewritten, String> {
    let src = locate::Source::new(read(path)?);
    let nodes = locate::nodes(&src).map_err(|e| format!("{}: {e}", path.display()))?;
    let (schemata, left_out) = schema::schemata(&src, &nodes, mutants);
    Ok((render::render(&src.text, schemata), left_out))
}

fn read(path: &Path) -> Result<String, String> {
    std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))
}

/// `id<TAB>reason` lines; blank lines and `#` comments are ignored.
fn read_skip(path: Option<&str>) -> Result<BTreeMap<usize, String>, String> {
    let Some(path) = path else {
        return Ok(BTreeMap::new());
    };
    let text = std::fs::read_to_string(path).map_err(|e| format!("{path}: {e}"))?;
    let mut out = BTreeMap::new();
    for (n, line) in text.lines().enumerate() {
        if line.trim().is_empty() || line.starts_with('#') {
            continue;
        }
        let (id, why) = line.split_once('\t').unwrap_or((line, "skipped"));
        let id = id
            .trim()
            .parse()
            .map_err(|_| format!("{path}:{}: `{id}` is not a mutant id", n + 1))?;
        out.insert(id, why.to_owned());
    }
    Ok(out)
}

/// The `lib.rs` of each package with mutants: `<dir>/src/lib.rs` for files under `<dir>/`.
fn libs(listed: &[Listed]) -> Vec<String> {
    let mut dirs: Vec<String> = listed
        .iter()
        .filter_map(|m| {
            m.file
                .split_once('/')
                .map(|(d, _)| format!("{d}/src/lib.rs"))
        })
        .collect();
    dirs.sort();
    dirs.dedup();
    dirs
}

/// Write `text` unless the file holds it already (which would only make cargo rebuild).
fn write_if_changed(path: &Path, text: &str) -> Result<(), String> {
    if std::fs::read_to_string(path).is_ok_and(|old| old == text) {
        return Ok(());
    }
    std::fs::write(path, text).map_err(|e| format!("{}: {e}", path.display()))
}

#[cfg(test)]
mod tests;
