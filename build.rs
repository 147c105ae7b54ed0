//! Records the versions of the scheduling crates (from Cargo.lock) so `reports/index.html` can
//! say exactly what explored the run, like the real-stack crate does for h2, hyper and hyper-util.

use std::path::Path;

const CRATES: [&str; 2] = ["loom", "shuttle"];

fn main() {
    let lock = Path::new(env!("CARGO_MANIFEST_DIR")).join("Cargo.lock");
    println!("cargo:rerun-if-changed={}", lock.display());
    let text = std::fs::read_to_string(&lock).unwrap_or_default();
    let versions: Vec<String> = CRATES
        .iter()
        .map(|name| format!("{name} {}", version_of(&text, name)))
        .collect();
    println!(
        "cargo:rustc-env=POOLCHECK_SCHEDULER_CRATES={}",
        versions.join(", ")
    );
}

/// The version(s) Cargo.lock resolved for `name`, or `unknown` without a lock file.
fn version_of(lock: &str, name: &str) -> String {
    let header = format!("name = \"{name}\"");
    let mut found = Vec::new();
    let mut lines = lock.lines();
    while let Some(line) = lines.next() {
        if line.trim() == header {
            if let Some(v) = lines
                .next()
                .and_then(|l| l.trim().strip_prefix("version = "))
            {
                found.push(v.trim_matches('"').to_owned());
            }
        }
    }
    if found.is_empty() {
        "unknown".to_owned()
    } else {
        found.join("/")
    }
}
