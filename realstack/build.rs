//! Records the versions of the real crates under test (from the workspace's Cargo.lock) so
//! reports and `poolcheck list` can say exactly what was explored: the `upstream` variant of a
//! real-crate scenario is whatever Cargo.lock resolved. The scheduling crates' versions are
//! recorded here too, for `reports/index.html`: one reader of Cargo.lock for the workspace.

use std::path::Path;

const CRATES: [&str; 3] = ["h2", "hyper", "hyper-util"];
const SCHEDULER_CRATES: [&str; 2] = ["loom", "shuttle"];

fn main() {
    let lock = Path::new(env!("CARGO_MANIFEST_DIR")).join("../Cargo.lock");
    println!("cargo:rerun-if-changed={}", lock.display());
    let text = std::fs::read_to_string(&lock).unwrap_or_default();
    let versions = |names: &[&str]| -> String {
        names
            .iter()
            .map(|name| format!("{name} {}", version_of(&text, name)))
            .collect::<Vec<_>>()
            .join(", ")
    };
    println!(
        "cargo:rustc-env=POOLCHECK_REAL_CRATES={}",
        versions(&CRATES)
    );
    println!(
        "cargo:rustc-env=POOLCHECK_SCHEDULER_CRATES={}",
        versions(&SCHEDULER_CRATES)
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
