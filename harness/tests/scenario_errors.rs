//! Malformed scenario files give located errors (file, line, column, field, hint), never a panic.

// Located errors are cold-path values a person reads; boxing them would only add noise.
#![allow(clippy::result_large_err)]

use poolcheck_harness::scenario::{load_file, AnyScenario, ScenarioError};
use std::path::PathBuf;

const GOOD: &str = r#"version = 1
name = "NAME"
model = "httpcore"
description = "a scenario"
invariants = ["idle-while-active"]
actors = [{ name = "A", ops = ["request"] }]

[schedulers.pct]
depth = 3
iterations = 10
seed = 1

[expect]
"#;

/// `GOOD` with an expectation for every variant of the httpcore model appended.
fn good() -> String {
    let model = poolcheck_models::model::find("httpcore").expect("httpcore model");
    let lines: Vec<String> = model
        .info()
        .variants
        .iter()
        .map(|v| format!("{} = \"pass\"\n", toml_key(v.name)))
        .collect();
    format!("{GOOD}{}", lines.concat())
}

/// `name` as a TOML key: quoted when bare it would be dotted (`upstream-1.0.9`).
fn toml_key(name: &str) -> String {
    let bare = name
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if bare {
        name.to_owned()
    } else {
        format!("\"{name}\"")
    }
}

/// Write `text` (with NAME replaced by the file stem) to a fresh temp file and load it.
fn load(stem: &str, text: &str) -> Result<AnyScenario, ScenarioError> {
    let dir =
        std::env::temp_dir().join(format!("poolcheck-scenario-errors-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path: PathBuf = dir.join(format!("{stem}.toml"));
    std::fs::write(&path, text.replace("NAME", stem)).unwrap();
    load_file(&path, &[])
}

fn error(stem: &str, text: &str) -> ScenarioError {
    match load(stem, text) {
        Err(e) => e,
        Ok(_) => panic!("{stem} should not load"),
    }
}

#[test]
fn an_unknown_top_level_key_is_located() {
    let e = error("unknown-key", &good().replace("description", "descripton"));
    assert_eq!((e.line, e.column), (4, 1), "{e}");
    assert!(e.message.contains("descripton"), "{e}");
    assert!(e.to_string().contains("unknown-key.toml:4:1"), "{e}");
}

#[test]
fn an_unknown_model_suggests_close_matches() {
    let e = error(
        "unknown-model",
        &good().replace("\"httpcore\"", "\"httpcor\""),
    );
    assert_eq!(e.line, 3);
    assert_eq!(e.field, "model");
    assert!(
        e.hint
            .as_deref()
            .unwrap()
            .contains("did you mean `httpcore`"),
        "{e}"
    );
}

#[test]
fn an_unknown_invariant_suggests_close_matches() {
    let e = error(
        "unknown-invariant",
        &good().replace("idle-while-active\"]", "idle-while-activ\"]"),
    );
    assert_eq!(e.line, 5);
    assert!(
        e.hint
            .as_deref()
            .unwrap()
            .contains("did you mean `idle-while-active`"),
        "{e}"
    );
}

#[test]
fn a_wrong_version_is_rejected() {
    let e = error("bad-version", &good().replace("version = 1", "version = 7"));
    assert_eq!((e.line, e.field.as_str()), (1, "version"));
}

#[test]
fn a_name_that_differs_from_the_file_is_rejected() {
    let e = error(
        "misnamed",
        &good().replace("name = \"NAME\"", "name = \"other\""),
    );
    assert_eq!((e.line, e.field.as_str()), (2, "name"));
}

#[test]
fn a_syntax_error_is_located() {
    let e = error("syntax", &good().replace("seed = 1", "seed = = 1"));
    assert_eq!(e.line, 11, "{e}");
}

#[test]
fn a_wrong_type_names_the_field() {
    let e = error(
        "wrong-type",
        &good().replace("iterations = 10", "iterations = \"ten\""),
    );
    assert_eq!(e.line, 10, "{e}");
    assert!(e.to_string().contains("iterations"), "{e}");
}

#[test]
fn an_expectation_naming_an_unchecked_invariant_is_rejected() {
    let e = error(
        "unchecked",
        &good().replace("fixed = \"pass\"", "fixed = \"no-leak\""),
    );
    assert_eq!(e.field, "expect.fixed");
    assert!(
        e.message
            .contains("neither `pass` nor an invariant this scenario checks"),
        "{e}"
    );
}

#[test]
fn an_unknown_variant_in_expect_is_rejected() {
    let e = error("unknown-variant", &format!("{}fixd = \"pass\"\n", good()));
    assert!(
        e.hint.as_deref().unwrap().contains("did you mean `fixed`"),
        "{e}"
    );
}

#[test]
fn an_unknown_operation_lists_the_valid_ones() {
    let text = good().replace("ops = [\"request\"]", "ops = [\"no-such-op\"]");
    let e = error("unknown-op", &text);
    assert_eq!(e.field, "actors[0].ops[0]");
    assert!(e.message.contains("unknown operation `no-such-op`"), "{e}");
    assert!(e.hint.as_deref().unwrap().contains("request"), "{e}");
}

#[test]
fn no_scheduler_is_an_error() {
    let text = good().replace(
        "[schedulers.pct]\ndepth = 3\niterations = 10\nseed = 1\n",
        "[schedulers]\n",
    );
    let e = error("no-scheduler", &text);
    assert_eq!(e.field, "schedulers");
}

#[test]
fn an_unreadable_file_is_an_error_not_a_panic() {
    let e = load_file(std::path::Path::new("/nonexistent/poolcheck/x.toml"), &[])
        .err()
        .unwrap();
    assert!(e.message.contains("cannot read"), "{e}");
}

#[test]
fn a_star_expectation_covers_every_variant_the_file_does_not_name() {
    let text = format!("{GOOD}\"*\" = \"pass\"\nhttpcore-1062 = \"idle-while-active\"\n");
    let Ok(AnyScenario::Model(s)) = load("star", &text) else {
        panic!("the file should load");
    };
    let variants = poolcheck_models::model::find("httpcore")
        .unwrap()
        .info()
        .variants;
    assert_eq!(s.expect.len(), variants.len());
    assert_eq!(
        s.expected("httpcore-1062", "pct"),
        Some("idle-while-active")
    );
    assert_eq!(s.expected("fixed", "pct"), Some("pass"));
}

#[test]
fn a_variant_built_from_the_fixes_is_a_trial_of_the_files_that_name_it() {
    let key = "\"fixed-without=events-delete-in-lock,idle-counts-pending\"";
    let text = format!("{GOOD}\"*\" = \"pass\"\n{key} = \"idle-while-active\"\n");
    let Ok(AnyScenario::Model(s)) = load("built", &text) else {
        panic!("the file should load");
    };
    let named = poolcheck_models::model::find("httpcore")
        .unwrap()
        .info()
        .variants
        .len();
    assert_eq!(
        s.expect.len(),
        named + 1,
        "the named variants, then the built one"
    );
    let built = "fixed-without=events-delete-in-lock,idle-counts-pending";
    assert_eq!(s.expected(built, "pct"), Some("idle-while-active"));
    assert_eq!(s.expect.last().unwrap().variant, built);
}

#[test]
fn a_built_variant_has_one_spelling_and_known_fixes() {
    let misordered = "\"fixed-without=idle-counts-pending,events-delete-in-lock\" = \"pass\"\n";
    let e = error("misordered", &format!("{}{misordered}", good()));
    assert!(
        e.message
            .contains("is spelled `fixed-without=events-delete-in-lock,idle-counts-pending`"),
        "{e}"
    );
    let unknown = "\"fixed-without=goaway-nine\" = \"pass\"\n";
    let e = error("unknown-fix", &format!("{}{unknown}", good()));
    assert!(
        e.message.contains("unknown fix `goaway-nine` (valid: "),
        "{e}"
    );
    assert!(
        e.hint.as_deref().unwrap_or("").contains("poolcheck list"),
        "{e}"
    );
}

#[test]
fn a_variant_the_file_leaves_out_is_unjudged_not_an_error() {
    let Ok(AnyScenario::Model(s)) = load("no-star", &format!("{GOOD}fixed = \"pass\"\n")) else {
        panic!("a file may leave variants out");
    };
    assert_eq!(s.expected("fixed", "pct"), Some("pass"));
    assert_eq!(s.expected("httpcore-1062", "pct"), None);
    let trials = poolcheck_harness::trial::trials_of(&AnyScenario::Model(s));
    let unjudged: Vec<String> = trials
        .iter()
        .filter(|t| t.expected.is_none())
        .map(|t| t.name())
        .collect();
    assert!(unjudged.contains(&"no-star/httpcore-1062/pct".to_owned()));
    assert!(!unjudged.iter().any(|n| n.contains("/fixed/")));
    let text = GOOD.replace("[expect]\n", "");
    assert!(
        matches!(load("no-expect", &text), Ok(AnyScenario::Model(_))),
        "without [expect] every variant is unjudged"
    );
}

/// `GOOD` with loom as well as pct, and `[expect]` lines after it.
fn two_schedulers(expect: &str) -> String {
    let head = GOOD.replace(
        "[schedulers.pct]",
        "[schedulers.loom]\npreemption_bound = 2\n[schedulers.pct]",
    );
    format!("{head}\"*\" = \"pass\"\n{expect}")
}

#[test]
fn an_expectation_may_differ_by_scheduler() {
    let text = two_schedulers(
        "httpcore-1062 = { default = \"idle-while-active\", pct = \"pass\" }\n\
         httpx2-1013 = { loom = \"idle-while-active\" }\n",
    );
    let Ok(AnyScenario::Model(s)) = load("by-scheduler", &text) else {
        panic!("the file should load");
    };
    assert_eq!(
        s.expected("httpcore-1062", "loom"),
        Some("idle-while-active")
    );
    assert_eq!(s.expected("httpcore-1062", "pct"), Some("pass"));
    assert_eq!(s.expected("httpx2-1013", "loom"), Some("idle-while-active"));
    assert_eq!(
        s.expected("httpx2-1013", "pct"),
        None,
        "a table without `default` leaves the others unjudged, not `*`"
    );
    let table = two_schedulers(
        "[expect.httpcore-1943]\ndefault = \"pass\"\npct = [\"idle-while-active\"]\n",
    )
    .replace("1943", "943");
    let Ok(AnyScenario::Model(s)) = load("by-scheduler-table", &table) else {
        panic!("a [expect.<variant>] table is the same thing");
    };
    assert_eq!(s.expected("httpcore-943", "pct"), Some("idle-while-active"));
    assert_eq!(s.expected("httpcore-943", "loom"), Some("pass"));
}

#[test]
fn a_bad_per_scheduler_expectation_is_located() {
    for (stem, line, needle, hint) in [
        (
            "by-scheduler-typo",
            "fixed = { default = \"pass\", randm = \"pass\" }",
            "unknown scheduler `randm`",
            "default, loom, pct",
        ),
        (
            "by-scheduler-unlisted",
            "fixed = { default = \"pass\", random = \"pass\" }",
            "`random` is not a scheduler of this scenario",
            "default, loom, pct",
        ),
        (
            "by-scheduler-verdict",
            "fixed = { default = \"pass\", loom = \"no-leek\" }",
            "neither `pass` nor an invariant",
            "pass, idle-while-active",
        ),
        (
            "by-scheduler-variant",
            "fixd = { loom = \"pass\" }",
            "unknown variant `fixd`",
            "did you mean `fixed`?",
        ),
        (
            "by-scheduler-empty",
            "fixed = {}",
            "an empty expectation table",
            "default",
        ),
    ] {
        let text = two_schedulers(&format!("{line}\n"));
        let e = error(stem, &text);
        assert!(e.message.contains(needle), "{stem}: {e}");
        assert!(
            e.hint.clone().unwrap_or_default().contains(hint),
            "{stem}: {e}"
        );
        let at = text.lines().position(|l| l == line).unwrap() + 1;
        assert_eq!(e.line, at, "{stem}: {e}");
        let word = needle.split('`').nth(1).unwrap_or("{}");
        let column = line.find(word).map_or(1, |c| c + 1);
        if !needle.contains("neither") {
            assert_eq!(e.column, column, "{stem}: {e}");
        }
    }
}

#[test]
fn an_expectation_may_list_invariants_any_of_which_catches() {
    let head = GOOD.replace(
        "invariants = [\"idle-while-active\"]",
        "invariants = [\"idle-while-active\", \"closed-while-active\"]",
    );
    let text = format!(
        "{head}\"*\" = \"pass\"\nhttpcore-1062 = [\"idle-while-active\", \"closed-while-active\"]\n"
    );
    let Ok(AnyScenario::Model(s)) = load("any-of", &text) else {
        panic!("the file should load");
    };
    assert_eq!(
        s.expected("httpcore-1062", "pct"),
        Some("idle-while-active|closed-while-active")
    );
    for (stem, bad, needle) in [
        ("any-of-empty", "[]", "cannot be empty"),
        (
            "any-of-pass",
            "[\"pass\", \"idle-while-active\"]",
            "contain `pass`",
        ),
        (
            "any-of-unknown",
            "[\"idle-while-actve\"]",
            "neither `pass` nor",
        ),
        ("any-of-number", "3", "found integer"),
    ] {
        let text = format!("{head}\"*\" = \"pass\"\nhttpcore-1062 = {bad}\n");
        let e = error(stem, &text);
        assert!(e.message.contains(needle), "{stem}: {e}");
        assert!(e.line > 0, "{stem}: located");
    }
}

/// `GOOD` with a `[schedulers.dpor]` table of these lines (before `[schedulers.pct]`).
fn with_dpor(lines: &str) -> String {
    good().replace(
        "[schedulers.pct]",
        &format!("[schedulers.dpor]\n{lines}\n[schedulers.pct]"),
    )
}

#[test]
fn a_proof_bound_loads_as_a_bound_or_unbounded() {
    use poolcheck_harness::scenario::ProofBound;
    for (value, want) in [
        ("3", ProofBound::Bound(3)),
        ("\"unbounded\"", ProofBound::Unbounded),
    ] {
        let text = with_dpor(&format!("preemption_bound = 1\nproof_bound = {value}"));
        match load("proof-bound", &text) {
            Ok(AnyScenario::Model(s)) => assert_eq!(s.proof_bound, Some(want)),
            Ok(_) => panic!("not a model scenario"),
            Err(e) => panic!("{e}"),
        }
    }
}

#[test]
fn a_proof_bound_that_proves_nothing_more_is_located() {
    let cases = [
        ("proof_bound = 2", "already runs dpor unbounded"),
        (
            "preemption_bound = 2\nproof_bound = 2",
            "is not above preemption_bound 2",
        ),
        (
            "preemption_bound = 2\nproof_bound = \"unbound\"",
            "neither a bound nor",
        ),
        ("preemption_bound = 2\nproof_bound = 99", "99"),
    ];
    for (lines, says) in cases {
        let e = error("proof-bound-bad", &with_dpor(lines));
        assert_eq!(e.field, "schedulers.dpor.proof_bound", "{e}");
        assert!(e.message.contains(says), "{lines}: {e}");
        assert!(e.hint.is_some(), "{e}");
    }
}

/// A file whose `model` no linked family claims and no model has is an unknown model at its
/// `model` key, even when it has a family's tables (here the real crates', which this test
/// does not link), never a complaint about those tables.
#[test]
fn an_unclaimed_model_is_unknown_at_its_key_not_at_its_tables() {
    let text = "version = 1\nname = \"NAME\"\nmodel = \"hyper-util\"\ndescription = \"d\"\n\
                [outcomes]\nhung = \"forbidden\"\n";
    let e = error("unclaimed", text);
    assert_eq!(e.message, "unknown model `hyper-util`", "{e}");
    assert_eq!(e.line, 3, "{e}");
}
