//! Writing a generated scenario as an ordinary scenario file.

use poolcheck_models::model::{Args, Model, OpSpec, Value};
use std::fmt::Write as _;

/// The scenario file for a generated catch: a PCT budget and `expect`, the verdict of every
/// variant (see [`super::expectations`]).
pub fn to_toml(
    model: &dyn Model,
    name: &str,
    found: &super::Found,
    g: &super::GenerateSpec,
    expect: &[(String, String)],
) -> String {
    let mut out = String::new();
    let w = &mut out;
    let _ = writeln!(
        w,
        "version = 1\nname = \"{name}\"\nmodel = \"{}\"",
        model.info().name
    );
    let _ = writeln!(
        w,
        "description = \"generated: catches {} as {}\"",
        g.variant, found.invariant
    );
    let _ = writeln!(w, "origin = \"poolcheck generate, seed {}\"", g.seed);
    let invs: Vec<String> = g.invariants.iter().map(|i| format!("\"{i}\"")).collect();
    let _ = writeln!(
        w,
        "invariants = [{}]\nstep_bound = {}",
        invs.join(", "),
        g.step_bound
    );
    if !found.spec.config.0.is_empty() {
        let _ = writeln!(w, "\n[config]\n{}", args_lines(&found.spec.config));
    }
    for a in &found.spec.actors {
        let ops: Vec<String> = a.ops.iter().map(op_text).collect();
        let _ = writeln!(
            w,
            "\n[[actors]]\nname = \"{}\"\nops = [{}]",
            a.name,
            ops.join(", ")
        );
    }
    let _ = writeln!(
        w,
        "\n[schedulers.pct]\ndepth = 3\niterations = {}\nseed = {}",
        g.iterations, g.seed
    );
    let _ = writeln!(
        w,
        "\n# Every variant's verdict under the budget above, as run when this file was generated.\n[expect]"
    );
    for (variant, expected) in expect {
        let _ = writeln!(w, "{} = \"{expected}\"", toml_key(variant));
    }
    out
}

/// `name` as a TOML key: bare when TOML allows it, else quoted (`"upstream-1.0.9"`: a bare
/// key with dots would be a dotted key).
fn toml_key(name: &str) -> String {
    let bare = name
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    if bare {
        name.to_owned()
    } else {
        format!("\"{}\"", name.replace('\\', "\\\\").replace('"', "\\\""))
    }
}

fn op_text(op: &OpSpec) -> String {
    if op.args.0.is_empty() {
        return format!("\"{}\"", op.name);
    }
    let args: Vec<String> = op
        .args
        .0
        .iter()
        .map(|(k, v)| format!("{k} = {}", value_text(v)))
        .collect();
    format!("{{ op = \"{}\", {} }}", op.name, args.join(", "))
}

fn args_lines(args: &Args) -> String {
    let lines: Vec<String> = args
        .0
        .iter()
        .map(|(k, v)| format!("{k} = {}", value_text(v)))
        .collect();
    lines.join("\n")
}

fn value_text(v: &Value) -> String {
    match v {
        Value::Int(i) => i.to_string(),
        Value::Bool(b) => b.to_string(),
        Value::Str(s) => format!("{s:?}"),
    }
}

#[cfg(test)]
mod tests {
    use super::toml_key;

    #[test]
    fn a_variant_name_with_dots_is_a_quoted_key() {
        assert_eq!(toml_key("httpcore-1062"), "httpcore-1062");
        assert_eq!(toml_key("upstream-1.0.9"), "\"upstream-1.0.9\"");
        assert_eq!(
            toml_key("fixed-without=goaway-zero"),
            "\"fixed-without=goaway-zero\""
        );
    }
}
