//! The `poolcheck` command line: `list`, `run`, `replay` and `gate` over the scenario files.
//!
//! Exit codes: 0 every trial as expected, 1 some trial not as expected (or a replay that did
//! not reproduce), 2 bad input (usage, an unknown name, an unreadable or invalid scenario).

mod cli;

fn main() -> std::process::ExitCode {
    cli::main()
}
