//! The switches: a module appended to each mutated crate's `lib.rs`.
//!
//! `on(id)` is true in a process whose `POOLCHECK_MUTANT` is `id`. With
//! `POOLCHECK_MUTANT_COVER=FILE` it also appends each switch's id to FILE the first time the
//! process checks it: the mutants a test *reaches* unmutated. A test that never reaches a
//! mutant's code runs exactly as without it, so only the tests that reach a mutant need run to
//! judge it. Both crates write to one FILE: lines are short appends, one `write` each.

/// The module's source, for a list of `count` mutants.
pub fn module(count: usize) -> String {
    format!(
        r#"

/// Mutant switches written by poolcheck-schemata (tools/schemata): never committed.
#[doc(hidden)]
#[allow(missing_docs, dead_code)]
pub mod __mutants {{
    use std::io::Write;
    use std::sync::atomic::{{AtomicBool, Ordering}};
    use std::sync::OnceLock;

    const COUNT: usize = {count};
    static REACHED: [AtomicBool; COUNT] = [const {{ AtomicBool::new(false) }}; COUNT];

    fn active() -> Option<usize> {{
        static ACTIVE: OnceLock<Option<usize>> = OnceLock::new();
        *ACTIVE.get_or_init(|| std::env::var("POOLCHECK_MUTANT").ok()?.parse().ok())
    }}

    fn cover() -> Option<&'static str> {{
        static COVER: OnceLock<Option<String>> = OnceLock::new();
        COVER.get_or_init(|| std::env::var("POOLCHECK_MUTANT_COVER").ok()).as_deref()
    }}

    /// Whether mutant `id` is the one this process runs.
    pub fn on(id: usize) -> bool {{
        if let Some(path) = cover() {{
            if !REACHED[id].swap(true, Ordering::Relaxed) {{
                let mut f = std::fs::OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(path)
                    .expect("POOLCHECK_MUTANT_COVER names a writable file");
                f.write_all(format!("{{id}}\n").as_bytes()).expect("the cover file takes a line");
            }}
        }}
        active() == Some(id)
    }}
}}
"#
    )
}
