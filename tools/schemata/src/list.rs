//! The mutants `cargo mutants --list --json` prints, read as far as the schemata need them.

use serde::{Deserialize, Serialize};

/// A position as cargo-mutants gives it: line and column both count from 1, the column in
/// characters.
#[derive(Clone, Copy, Debug, Deserialize, PartialEq, Eq)]
pub struct Pos {
    pub line: usize,
    pub column: usize,
}

/// A source range, end exclusive.
#[derive(Clone, Copy, Debug, Deserialize, PartialEq, Eq)]
pub struct Span {
    pub start: Pos,
    pub end: Pos,
}

/// One mutant of the list.
#[derive(Clone, Debug, Deserialize)]
pub struct Listed {
    pub name: String,
    pub file: String,
    pub package: String,
    pub genre: String,
    pub replacement: String,
    pub span: Span,
    /// The function the mutant is in, absent for a mutant outside any.
    #[serde(default)]
    pub function: Option<Function>,
}

/// The function around a mutant, as far as the schemata need it.
#[derive(Clone, Debug, Deserialize)]
pub struct Function {
    /// As written after the parameters (`-> impl Iterator<Item = u8>`), or empty.
    #[serde(default)]
    pub return_type: String,
}

/// What the schemata did with one mutant, by its index in the list (its id).
#[derive(Clone, Debug, Serialize)]
pub struct Placed {
    pub id: usize,
    pub name: String,
    pub file: String,
    pub package: String,
    /// `None`: written behind switch `id`. Otherwise why not: such a mutant is judged the
    /// ordinary way, one build each.
    pub left_out: Option<String>,
}

/// Read the list cargo-mutants wrote.
pub fn read(path: &str) -> Result<Vec<Listed>, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{path}: {e}"))?;
    serde_json::from_str(&text).map_err(|e| format!("{path}: not a cargo-mutants list: {e}"))
}
