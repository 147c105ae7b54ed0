//! Malformed scenario files give located errors (file, line, column, field, hint), never a panic.

// Located errors are cold-path values a person reads; boxing them would only add noise.
#![allow(clippy::result_large_err)]

use poolcheck_harness::scenario::{load_file, Loaded, ScenarioError};
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
        .map(|v| format!("{} = \"pass\"\n", v.name))
        .collect();
    format!("{GOOD}{}", lines.concat())
}

/// Write `text` (with NAME replaced by the file stem) to a fresh temp file and load it.
fn load(stem: &str, text: &str) -> Result<Loaded, ScenarioError> {
    let dir =
        std::env::temp_dir().join(format!("poolcheck-scenario-errors-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path: PathBuf = dir.join(format!("{stem}.toml"));
    std::fs::write(&path, text.replace("NAME", stem)).unwrap();
    load_file(&path)
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
    let e = load_file(std::path::Path::new("/nonexistent/poolcheck/x.toml"))
        .err()
        .unwrap();
    assert!(e.message.contains("cannot read"), "{e}");
}

#[test]
fn a_star_expectation_covers_every_variant_the_file_does_not_name() {
    let text = format!("{GOOD}\"*\" = \"pass\"\nhttpcore-1062 = \"idle-while-active\"\n");
    let Ok(Loaded::Model(s)) = load("star", &text) else {
        panic!("the file should load");
    };
    let variants = poolcheck_models::model::find("httpcore")
        .unwrap()
        .info()
        .variants;
    assert_eq!(s.expect.len(), variants.len());
    assert_eq!(s.expected("httpcore-1062"), Some("idle-while-active"));
    assert_eq!(s.expected("fixed"), Some("pass"));
    let e = error("no-star", &format!("{GOOD}fixed = \"pass\"\n"));
    assert!(e.message.contains("no expectation for variant"), "{e}");
    assert!(e.hint.unwrap_or_default().contains("\"*\""));
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
    let Ok(Loaded::Model(s)) = load("any-of", &text) else {
        panic!("the file should load");
    };
    assert_eq!(
        s.expected("httpcore-1062"),
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
