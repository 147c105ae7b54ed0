//! The keys every scenario file has, whatever explores it (a model, or the real crates'
//! runner): `version`, `name` and `step_bound`, each checked by one function here, so both
//! loaders reject a bad header with the same located error.

// A located error is a cold-path value a person reads; boxing it would only add noise.
#![allow(clippy::result_large_err)]

use super::error::ScenarioError;
use super::limits;
use super::load::SCENARIO_VERSION;
use std::path::Path;
use toml::Spanned;

/// Where a header is read from, for its errors.
#[derive(Clone, Copy)]
pub struct Header<'a> {
    /// The scenario file.
    pub path: &'a Path,
    /// Its text (errors quote the line).
    pub source: &'a str,
}

impl Header<'_> {
    fn err<T>(&self, s: &Spanned<T>, field: &str, msg: impl Into<String>) -> ScenarioError {
        ScenarioError::at(self.path, self.source, s.span(), field, msg)
    }

    /// `version` is the one this build reads, and `name` is kebab-case and the file's stem.
    pub fn check(
        &self,
        version: &Spanned<i64>,
        name: &Spanned<String>,
    ) -> Result<(), ScenarioError> {
        if *version.get_ref() != SCENARIO_VERSION {
            return Err(self
                .err(version, "version", "unsupported scenario format version")
                .with_hint(format!("this poolcheck reads version = {SCENARIO_VERSION}")));
        }
        limits::kebab_case("scenario name", name.get_ref())
            .map_err(|m| self.err(name, "name", m))?;
        let stem = self.path.file_stem().and_then(|s| s.to_str()).unwrap_or("");
        if name.get_ref() != stem {
            return Err(self
                .err(
                    name,
                    "name",
                    format!("the name must equal the file name `{stem}`"),
                )
                .with_hint("one scenario per file, named after it, so one grep finds both"));
        }
        Ok(())
    }

    /// `step_bound`, in [`limits::STEP_BOUND`]; `default` when the file leaves it out (the
    /// subject's own: the real crates take more steps than a model).
    pub fn step_bound(
        &self,
        raw: Option<&Spanned<i64>>,
        default: u64,
    ) -> Result<u64, ScenarioError> {
        let Some(s) = raw else {
            return Ok(default);
        };
        let range = limits::STEP_BOUND;
        u64::try_from(*s.get_ref())
            .ok()
            .filter(|n| range.contains(n))
            .ok_or_else(|| {
                self.err(
                    s,
                    "step_bound",
                    format!(
                        "`step_bound` is {}; it must be between {} and {}",
                        s.get_ref(),
                        range.start(),
                        range.end()
                    ),
                )
            })
    }
}
