//! The range of every number and the shape of every name a scenario file may hold, checked by
//! the loader before anything runs. docs/scenario-format.md lists the same table; a test keeps
//! the two in step.

use std::ops::RangeInclusive;

/// Actors a scenario may have, for every model.
pub const ACTORS: RangeInclusive<usize> = 1..=16;

/// Actors loom can run besides the main thread (loom allows 5 threads in all).
pub const LOOM_MAX_ACTORS: usize = 4;

/// Operations one actor may list.
pub const MAX_OPS: usize = 1_000;

/// `step_bound`: scheduling steps per execution.
pub const STEP_BOUND: RangeInclusive<u64> = 1..=1_000_000;

/// `[schedulers.loom] preemption_bound` and `[schedulers.dpor] preemption_bound`.
pub const PREEMPTION_BOUND: RangeInclusive<usize> = 0..=MAX_PREEMPTION_BOUND;

/// The largest preemption bound (beyond a handful, loom's exploration never ends anyway).
pub const MAX_PREEMPTION_BOUND: usize = 20;

/// `[schedulers.loom] max_executions` and `[schedulers.dpor] max_executions`.
pub const LOOM_EXECUTIONS: RangeInclusive<u64> = 1..=100_000_000;

/// `[schedulers.loom] max_branches`.
pub const LOOM_BRANCHES: RangeInclusive<usize> = 1..=1_000_000;

/// `[schedulers.pct] depth`: PCT's bug depth (priority change points + 1).
pub const PCT_DEPTH: RangeInclusive<usize> = 1..=64;

/// `iterations` (pct, random, std) and `[schedulers.dfs] max_iterations`.
pub const ITERATIONS: RangeInclusive<u64> = 1..=10_000_000;

/// Scenario names (the file stem): kebab-case, at most this long.
pub const MAX_NAME: usize = 100;

/// Actor names: at most this long.
pub const MAX_ACTOR_NAME: usize = 32;

/// `Err(what is wrong)` unless `n` is in `range`.
pub fn in_range<T: PartialOrd + std::fmt::Display>(
    key: &str,
    n: T,
    range: &RangeInclusive<T>,
) -> Result<(), String> {
    if range.contains(&n) {
        Ok(())
    } else {
        Err(format!(
            "`{key}` is {n}; it must be between {} and {}",
            range.start(),
            range.end()
        ))
    }
}

/// A scenario, case or request name: lowercase ASCII letters and digits in words joined by
/// single dashes (`last-stream-close`), at most [`MAX_NAME`] characters. Such a name is safe as
/// a file name, a test name and a command-line argument.
pub fn kebab_case(what: &str, name: &str) -> Result<(), String> {
    let words_ok = name.split('-').all(|w| {
        !w.is_empty()
            && w.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
    });
    if name.len() > MAX_NAME {
        return Err(format!(
            "the {what} is {} characters long; at most {MAX_NAME} are allowed",
            name.chars().count()
        ));
    }
    if name.is_empty() || !words_ok {
        return Err(format!(
            "the {what} `{}` is not kebab-case (lowercase letters and digits joined by single \
             dashes, like `goaway-vs-request`)",
            name.escape_debug()
        ));
    }
    Ok(())
}

/// An actor name: 1 to [`MAX_ACTOR_NAME`] ASCII letters, digits, `-`, `_` or `.`, starting with
/// a letter or digit (a column header in traces and reports).
pub fn actor_name(name: &str) -> Result<(), String> {
    let shown: String = name
        .chars()
        .take(40)
        .collect::<String>()
        .escape_debug()
        .to_string();
    if name.is_empty() || name.len() > MAX_ACTOR_NAME {
        return Err(format!(
            "the actor name `{shown}` must have 1 to {MAX_ACTOR_NAME} characters"
        ));
    }
    let first_ok = name
        .bytes()
        .next()
        .is_some_and(|b| b.is_ascii_alphanumeric());
    let rest_ok = name
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'));
    if !first_ok || !rest_ok {
        return Err(format!(
            "the actor name `{shown}` may only hold ASCII letters, digits, `-`, `_` and `.`, \
             starting with a letter or digit"
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_that_are_not_kebab_case_are_refused() {
        for bad in [
            "..", "--help", "a\nb", "a\u{1b}b", "", "A", "a--b", "a-", "-a", "a b",
        ] {
            assert!(kebab_case("name", bad).is_err(), "{bad:?}");
        }
        assert!(kebab_case("name", &"a".repeat(MAX_NAME + 1)).is_err());
        assert!(kebab_case("name", "last-stream-close-vs-new-stream-open").is_ok());
    }

    #[test]
    fn actor_names_are_short_and_printable() {
        for bad in ["", "\u{7}", "a\tb", "-a", "é", &"a".repeat(65_536)] {
            assert!(actor_name(bad).is_err(), "{bad:?}");
        }
        for good in ["A", "worker-1", "reaper_2", "client.a"] {
            assert!(actor_name(good).is_ok(), "{good}");
        }
    }
}
