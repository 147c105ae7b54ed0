//! The JSON report: the versioned [`Counterexample`], pretty-printed, and its reader.
//!
//! The format is `serde_json` of [`Counterexample`] with `"version": 1`. A reader refuses any
//! other version instead of guessing, so an old poolcheck never misreads a newer report.

use super::{Counterexample, REPORT_VERSION};

/// The report as pretty JSON (with a trailing newline).
pub fn to_json(c: &Counterexample) -> String {
    let mut text = serde_json::to_string_pretty(c).expect("a counterexample always serialises");
    text.push('\n');
    text
}

/// Read a JSON report, checking its version.
pub fn from_json(text: &str) -> Result<Counterexample, String> {
    let value: serde_json::Value =
        serde_json::from_str(text).map_err(|e| format!("not JSON: {e}"))?;
    match value.get("version").and_then(serde_json::Value::as_u64) {
        Some(v) if v == u64::from(REPORT_VERSION) => {}
        Some(v) => {
            return Err(format!(
                "report format version {v}; this poolcheck reads version {REPORT_VERSION}"
            ))
        }
        None => return Err("not a poolcheck report: no `version` field".into()),
    }
    serde_json::from_value(value).map_err(|e| format!("not a poolcheck report: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::example;

    #[test]
    fn a_report_round_trips() {
        let c = example();
        let text = to_json(&c);
        assert!(text.contains("\"version\": 1"));
        assert_eq!(from_json(&text).unwrap(), c);
    }

    #[test]
    fn another_version_is_refused() {
        let text = to_json(&example()).replace("\"version\": 1", "\"version\": 2");
        let err = from_json(&text).unwrap_err();
        assert!(err.contains("version 2"), "{err}");
        assert!(from_json("{}").unwrap_err().contains("no `version`"));
        assert!(from_json("nope").unwrap_err().contains("not JSON"));
    }
}
