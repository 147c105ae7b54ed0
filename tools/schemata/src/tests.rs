//! Each genre's schema on a small file, and schemata nested in each other's operands.

use crate::list::{Listed, Pos, Span};
use crate::{locate, render, schema};

fn mutant(genre: &str, replacement: &str, start: (usize, usize), end: (usize, usize)) -> Listed {
    let pos = |(line, column)| Pos { line, column };
    Listed {
        name: format!("{genre} {replacement}"),
        file: "x.rs".into(),
        package: "x".into(),
        genre: genre.into(),
        replacement: replacement.into(),
        span: Span {
            start: pos(start),
            end: pos(end),
        },
        function: None,
    }
}

/// The file with the mutants' schemata, markers removed, and the mutants left out.
fn rewrite(text: &str, mutants: &[Listed]) -> (String, Vec<usize>) {
    let src = locate::Source::new(text.to_owned());
    let nodes = locate::nodes(&src).unwrap();
    let ids: Vec<(usize, &Listed)> = mutants.iter().enumerate().collect();
    let (schemata, left_out) = schema::schemata(&src, &nodes, &ids);
    let out = render::render(text, schemata);
    (
        unmark(&out),
        left_out.into_iter().map(|(id, _)| id).collect(),
    )
}

fn unmark(s: &str) -> String {
    let mut out = String::new();
    let mut rest = s;
    while let Some(i) = rest.find("/*") {
        out.push_str(&rest[..i]);
        let j = rest[i..].find("*/").unwrap();
        rest = &rest[i + j + 2..];
    }
    out.push_str(rest);
    out.replace("crate::__mutants::on", "on")
}

#[test]
fn a_replaced_body_returns_early() {
    let text = "fn f() -> u8 {\n    1 + 2\n}\n";
    let (out, _) = rewrite(text, &[mutant("FnValue", "0", (2, 5), (2, 10))]);
    assert_eq!(out, "fn f() -> u8 {\n    if on(0) { return 0; } 1 + 2\n}\n");
}

#[test]
fn two_values_of_one_function_share_the_insertion() {
    let text = "fn f() -> bool {\n    g()\n}\n";
    let ms = [
        mutant("FnValue", "true", (2, 5), (2, 8)),
        mutant("FnValue", "false", (2, 5), (2, 8)),
    ];
    let (out, _) = rewrite(text, &ms);
    assert_eq!(
        out,
        "fn f() -> bool {\n    if on(0) { return true; } if on(1) { return false; } g()\n}\n"
    );
}

#[test]
fn an_operator_switches_between_both_whole_expressions() {
    let text = "fn f(a: u8, b: u8) -> u8 {\n    a + b\n}\n";
    let ms = [
        mutant("BinaryOperator", "-", (2, 7), (2, 8)),
        mutant("BinaryOperator", "*", (2, 7), (2, 8)),
    ];
    let (out, _) = rewrite(text, &ms);
    assert!(
        out.contains("(if on(0) { a - b } else if on(1) { a * b } else { a + b })"),
        "{out}"
    );
}

#[test]
fn an_operator_inside_an_operand_is_switched_in_every_copy() {
    let text = "fn f(a: u8, b: u8, c: u8) -> bool {\n    a + b < c\n}\n";
    let ms = [
        mutant("BinaryOperator", ">", (2, 11), (2, 12)),
        mutant("BinaryOperator", "-", (2, 7), (2, 8)),
    ];
    let (out, _) = rewrite(text, &ms);
    let inner = "(if on(1) { a - b } else { a + b })";
    let want = format!("(if on(0) {{ {inner} > c }} else {{ {inner} < c }})");
    assert!(out.contains(&want), "{out}");
}

#[test]
fn a_deleted_negation_keeps_the_operand() {
    let text = "fn f(a: bool) -> bool {\n    !a\n}\n";
    let (out, _) = rewrite(text, &[mutant("UnaryOperator", "", (2, 5), (2, 6))]);
    assert!(out.contains("(if on(0) { a } else { !a })"), "{out}");
}

#[test]
fn a_deleted_arm_gets_a_guard_that_fails_when_switched_on() {
    let text = "fn f(x: u8) -> u8 {\n    match x {\n        1 => 2,\n        _ => 3,\n    }\n}\n";
    let (out, _) = rewrite(text, &[mutant("MatchArm", "", (3, 9), (3, 15))]);
    assert!(out.contains("1 if !on(0) => 2,"), "{out}");
}

#[test]
fn a_guard_is_switched_and_its_arm_can_still_be_deleted() {
    let text =
        "fn f(x: u8) -> u8 {\n    match x {\n        n if n > 1 => 2,\n        _ => 3,\n    }\n}\n";
    let ms = [
        mutant("MatchArm", "", (3, 9), (3, 24)),
        mutant("MatchArmGuard", "true", (3, 14), (3, 19)),
        mutant("BinaryOperator", "<", (3, 16), (3, 17)),
    ];
    let (out, _) = rewrite(text, &ms);
    let guard = "(if on(1) { true } else { (if on(2) { n < 1 } else { n > 1 }) })";
    assert!(
        out.contains(&format!("n if !on(0) && ({guard}) => 2,")),
        "{out}"
    );
}

#[test]
fn a_struct_field_deletion_is_left_out() {
    let text = "fn f() -> S {\n    S { a: 1, ..S::new() }\n}\n";
    let (_, left_out) = rewrite(text, &[mutant("StructField", "", (2, 9), (2, 14))]);
    assert_eq!(left_out, vec![0]);
}

#[test]
fn an_arm_without_an_unguarded_wildcard_after_it_is_left_out() {
    let text = "fn f(x: u8) -> u8 {\n    match x {\n        _ if g() => 1,\n        1 => 2,\n        _ => 3,\n    }\n}\n";
    let ms = [
        mutant("MatchArm", "", (4, 9), (4, 15)),
        mutant("MatchArm", "", (5, 9), (5, 15)),
    ];
    let (_, left_out) = rewrite(text, &ms);
    assert_eq!(left_out, vec![1]);
}
