//! The schema of each kind of mutant cargo-mutants makes (its "genres").
//!
//! | genre | mutant | schema |
//! | --- | --- | --- |
//! | `FnValue` | body replaced by a value | `if on(id) { return VALUE; }` before the statements |
//! | `BinaryOperator` | `a + b` to `a - b` | `(if on(id) { a - b } else { a + b })` |
//! | `UnaryOperator` | `!a` to `a` | `(if on(id) { a } else { !a })` |
//! | `MatchArmGuard` | guard `g` to `true` | `(if on(id) { true } else { g })` |
//! | `MatchArm` | arm deleted | the arm's guard becomes `!on(id) && (g)` (or `!on(id)`) |
//!
//! An early `return` has the type of the function's value, as cargo-mutants' replaced body
//! has, and leaves the original body (and its borrows) alone. A deleted arm is one whose guard
//! never holds, which keeps the match exhaustive where an unguarded `_` arm follows; other
//! deleted arms are left out. So are a body of a function returning `impl Trait` (the early
//! value would be a second concrete type) and `StructField` (a field of a struct expression
//! with `..base` deleted: the schema would evaluate `base` twice). A mutant left out is judged
//! by cargo-mutants itself.

use crate::list::Listed;
use crate::locate::{Nodes, Source};
use crate::render::{Form, Piece, Schema};

/// The schemata of one file's mutants (`(id, mutant)`), and the mutants left out with why.
pub fn schemata(
    src: &Source,
    nodes: &Nodes,
    mutants: &[(usize, &Listed)],
) -> (Vec<Schema>, Vec<(usize, String)>) {
    let mut out: Vec<Schema> = Vec::new();
    let mut left_out = Vec::new();
    for &(id, m) in mutants {
        match schema(src, nodes, id, m) {
            Ok(new) => {
                for s in new {
                    merge(&mut out, s);
                }
            }
            Err(why) => left_out.push((id, why)),
        }
    }
    (out, left_out)
}

/// Add `s`, folding it into a schema of the same range and form (two mutants of one operator,
/// two values of one function) so that they share one `if`/`else if` chain.
fn merge(all: &mut Vec<Schema>, s: Schema) {
    let same = all
        .iter_mut()
        .find(|o| o.start == s.start && o.end == s.end && o.depth == s.depth);
    match (same, s.form) {
        (Some(o), Form::Switch(mut alts)) => match &mut o.form {
            Form::Switch(mine) => mine.append(&mut alts),
            Form::Insert(_) => unreachable!("one depth holds one form"),
        },
        (Some(o), Form::Insert(mut alts)) => match &mut o.form {
            Form::Insert(mine) => mine.append(&mut alts),
            Form::Switch(_) => unreachable!("one depth holds one form"),
        },
        (None, form) => all.push(Schema { form, ..s }),
    }
}

// Depths: of schemata over one range, the guard's is outside the operator's inside it, and
// insertions (zero-width) never share a range with a switch.
const GUARD: u8 = 0;
const OPERATOR: u8 = 1;
const INSERT: u8 = 2;

fn schema(src: &Source, nodes: &Nodes, id: usize, m: &Listed) -> Result<Vec<Schema>, String> {
    let start = src
        .offset(m.span.start)
        .ok_or("span start outside the file")?;
    let end = src.offset(m.span.end).ok_or("span end outside the file")?;
    let on = |negate: bool| {
        let not = if negate { "!" } else { "" };
        Piece::Lit(format!("{not}crate::__mutants::on({id})"))
    };
    let lit = |t: String| Piece::Lit(t);
    Ok(match m.genre.as_str() {
        "FnValue" if returns_impl(m) => {
            return Err("the function returns `impl Trait`: a second concrete type".into())
        }
        "FnValue" => vec![insert(
            start,
            vec![lit("if ".into()), on(false), lit(value(m))],
        )],
        "BinaryOperator" => {
            let op = nodes.binary.get(&start).ok_or("no binary operator there")?;
            let alt = vec![
                Piece::Src(op.expr.0, op.op.0),
                lit(m.replacement.clone()),
                Piece::Src(op.op.1, op.expr.1),
            ];
            vec![switch(op.expr, OPERATOR, id, alt)]
        }
        "UnaryOperator" => {
            let op = nodes.unary.get(&start).ok_or("no unary operator there")?;
            if !m.replacement.is_empty() {
                return Err(format!("unary replacement `{}`", m.replacement));
            }
            vec![switch(
                op.expr,
                OPERATOR,
                id,
                vec![Piece::Src(op.op.1, op.expr.1)],
            )]
        }
        "MatchArmGuard" => vec![switch(
            (start, end),
            GUARD,
            id,
            vec![lit(m.replacement.clone())],
        )],
        "MatchArm" => {
            let arm = nodes.arms.get(&start).ok_or("no match arm there")?;
            if !arm.wildcard_after {
                return Err("no unguarded `_` arm follows".into());
            }
            match arm.guard {
                None => vec![insert(arm.pattern_end, vec![lit(" if ".into()), on(true)])],
                Some((g0, g1)) => vec![
                    insert(g0, vec![on(true), lit(" && (".into())]),
                    insert(g1, vec![lit(")".into())]),
                ],
            }
        }
        other => return Err(format!("genre {other} has no schema")),
    }
    .into_iter()
    .map(|f| f(id))
    .collect())
}

fn returns_impl(m: &Listed) -> bool {
    m.function
        .as_ref()
        .is_some_and(|f| f.return_type.contains("impl "))
}

/// ` { return VALUE; } ` after the switch check of a replaced function body.
fn value(m: &Listed) -> String {
    format!(" {{ return {}; }} ", m.replacement)
}

type Build = Box<dyn FnOnce(usize) -> Schema>;

fn insert(at: usize, pieces: Vec<Piece>) -> Build {
    Box::new(move |id| Schema {
        start: at,
        end: at,
        depth: INSERT,
        form: Form::Insert(vec![(id, pieces)]),
    })
}

fn switch(range: (usize, usize), depth: u8, id: usize, alt: Vec<Piece>) -> Build {
    Box::new(move |_| Schema {
        start: range.0,
        end: range.1,
        depth,
        form: Form::Switch(vec![(id, alt)]),
    })
}
