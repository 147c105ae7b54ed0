//! Finding and loading scenario files for a command: every file of the folder (`list`, `gate`)
//! or one scenario by name (`run`), with unknown names reported with their close matches. Every
//! load hands the loader the binary's scenario families ([`super::FAMILIES`]).

use super::diagnostic::CliError;
use super::FAMILIES;
use poolcheck_harness::scenario::{hint_for, load_dir, load_file, AnyScenario};
use std::path::{Path, PathBuf};

/// Load every `*.toml` of `dir`, by file name; any file that does not load makes the whole
/// folder an error (all of the errors, not just the first).
pub fn load_all(dir: &Path) -> Result<Vec<AnyScenario>, CliError> {
    let loaded = load_dir(dir, FAMILIES).map_err(|e| {
        e.with_hint("pass --scenarios DIR, or run from the repository root (default: scenarios/)")
    })?;
    let mut scenarios = Vec::new();
    let mut errors = Vec::new();
    for item in loaded {
        match item {
            Ok(s) => scenarios.push(s),
            Err(e) => errors.push(e),
        }
    }
    if errors.is_empty() {
        Ok(scenarios)
    } else {
        Err(CliError::Scenarios(errors))
    }
}

/// Load one scenario file.
pub fn load_path(path: &Path) -> Result<AnyScenario, CliError> {
    Ok(load_file(path, FAMILIES)?)
}

/// Load one scenario: `name` is a file stem in `dir` (underscores match dashes) or a path to a
/// `.toml` file.
pub fn load_one(dir: &Path, name: &str) -> Result<AnyScenario, CliError> {
    load_path(&locate(dir, name)?)
}
fn locate(dir: &Path, name: &str) -> Result<PathBuf, CliError> {
    if name.ends_with(".toml") || name.contains(std::path::MAIN_SEPARATOR) {
        let path = PathBuf::from(name);
        if path.is_file() {
            return Ok(path);
        }
        return Err(CliError::usage(format!("no scenario file `{name}`"), None));
    }
    for stem in [name.to_owned(), name.replace('_', "-")] {
        let path = dir.join(format!("{stem}.toml"));
        if path.is_file() {
            return Ok(path);
        }
    }
    let names = stems(dir).map_err(|e| {
        CliError::usage(
            format!("cannot read the scenario folder `{}`: {e}", dir.display()),
            Some("pass --scenarios DIR, or run from the repository root".to_owned()),
        )
    })?;
    Err(CliError::usage(
        format!("unknown scenario `{name}` in `{}`", dir.display()),
        Some(hint_for(name, names.iter().map(String::as_str))),
    ))
}

/// The scenario names (file stems) of `dir`, sorted.
pub fn stems(dir: &Path) -> std::io::Result<Vec<String>> {
    let mut names: Vec<String> = std::fs::read_dir(dir)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .filter_map(|p| p.file_stem().and_then(|s| s.to_str()).map(str::to_owned))
        .collect();
    names.sort();
    Ok(names)
}
