//! `poolcheck-schemata`: write every mutant of a cargo-mutants list into a copy of the tree,
//! each behind its own runtime switch (a *mutant schema*), so that one build serves them all.
//!
//! ```text
//! poolcheck-schemata --list LIST.json --tree COPY --out PLACED.json [--skip SKIP.tsv]
//! ```
//!
//! LIST.json is `cargo mutants --list --json`; a mutant's id is its index there. COPY is a
//! scratch copy of the workspace, rewritten in place: never the working tree. SKIP.tsv holds
//! `id<TAB>reason` lines of mutants to leave as they are (the driver,
//! `scripts/mutants_schemata.py`, adds those whose schema does not compile). PLACED.json says,
//! per mutant, whether it was written or why not. docs/mutation-testing.md explains the method.

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
    for (file, mutants) in &by_file {
        for (id, why) in rewrite(&tree.join(file), mutants)? {
            placed[id].left_out = Some(why);
        }
    }
    for lib in libs(&listed) {
        append(&tree.join(&lib), &runtime::module(listed.len()))?;
    }
    let json = serde_json::to_string_pretty(&placed).expect("plain data serializes");
    std::fs::write(&args.out, json).map_err(|e| format!("{}: {e}", args.out))
}

/// Rewrite one file with its mutants' schemata; returns the mutants left out, with why.
fn rewrite(path: &Path, mutants: &[(usize, &Listed)]) -> Result<Vec<(usize, String)>, String> {
    let shown = path.display();
    let text = std::fs::read_to_string(path).map_err(|e| format!("{shown}: {e}"))?;
    let src = locate::Source::new(text);
    let nodes = locate::nodes(&src).map_err(|e| format!("{shown}: {e}"))?;
    let (schemata, left_out) = schema::schemata(&src, &nodes, mutants);
    let out = render::render(&src.text, schemata);
    std::fs::write(path, out).map_err(|e| format!("{shown}: {e}"))?;
    Ok(left_out)
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

fn append(path: &Path, text: &str) -> Result<(), String> {
    let shown = path.display();
    let mut old = std::fs::read_to_string(path).map_err(|e| format!("{shown}: {e}"))?;
    old.push_str(text);
    std::fs::write(path, old).map_err(|e| format!("{shown}: {e}"))
}

#[cfg(test)]
mod tests;
