//! The `poolcheck` command line.
fn main() {}
