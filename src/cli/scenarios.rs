//! Finding and loading scenario files for a command: every file of the folder (`list`, `gate`)
//! or one scenario by name (`run`), with unknown names reported with their close matches.

use super::diagnostic::CliError;
use poolcheck_harness::scenario::{hint_for, load_dir, load_file, Loaded, Scenario};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Every scenario of a folder, by file name.
pub struct Catalog {
    /// Model scenarios.
    pub models: Vec<Arc<Scenario>>,
    /// Real-crate scenarios (for the real-stack runner).
    pub real: Vec<PathBuf>,
}

/// Load every `*.toml` of `dir`; any file that does not load makes the whole folder an error
/// (all of the errors, not just the first).
pub fn load_all(dir: &Path) -> Result<Catalog, CliError> {
    let loaded = load_dir(dir).map_err(|e| {
        e.with_hint("pass --scenarios DIR, or run from the repository root (default: scenarios/)")
    })?;
    let mut catalog = Catalog {
        models: Vec::new(),
        real: Vec::new(),
    };
    let mut errors = Vec::new();
    for item in loaded {
        match item {
            Ok(Loaded::Model(s)) => catalog.models.push(Arc::new(*s)),
            Ok(Loaded::Real(p)) => catalog.real.push(p),
            Err(e) => errors.push(e),
        }
    }
    if errors.is_empty() {
        Ok(catalog)
    } else {
        Err(CliError::Scenarios(errors))
    }
}

/// Load one scenario: `name` is a file stem in `dir` (underscores match dashes) or a path to a
/// `.toml` file.
pub fn load_one(dir: &Path, name: &str) -> Result<Loaded, CliError> {
    let path = locate(dir, name)?;
    Ok(load_file(&path)?)
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
