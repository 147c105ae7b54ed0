//! What the harness's scenario loader reads from a model's self-description: the names of
//! parameter kinds in its type errors, and the default spelling of a variant (issue 17: the
//! loader's own tests live in `poolcheck-harness`, which does not judge a mutant of `models/`).

use super::{Model, ModelInfo, ParamKind, ScenarioSpec, VariantInfo, VariantKind};

#[test]
fn parameter_kinds_are_named_as_type_errors_read() {
    let names = [ParamKind::Int, ParamKind::Bool, ParamKind::Str].map(ParamKind::name);
    assert_eq!(names, ["integer", "boolean", "string"]);
}

/// A model that leaves [`Model::variant`] to its default: its named variants only.
struct Named;

const fn variant(name: &'static str, kind: VariantKind) -> VariantInfo {
    VariantInfo {
        name,
        kind,
        upstream: "",
        summary: "",
    }
}

static NAMED: ModelInfo = ModelInfo {
    name: "named",
    summary: "",
    upstream: "",
    variants: &[
        variant("fixed", VariantKind::Fixed),
        variant("lost-wakeup", VariantKind::Bug),
    ],
    fixes: &[],
    ops: &[],
    config: &[],
};

impl Model for Named {
    fn info(&self) -> &'static ModelInfo {
        &NAMED
    }

    fn run(&self, _spec: &ScenarioSpec, _variant: &str) {}
}

#[test]
fn by_default_a_variant_is_one_of_the_named_ones_spelled_as_named() {
    assert_eq!(Named.variant("lost-wakeup"), Ok("lost-wakeup".to_owned()));
    assert_eq!(Named.variant("fixed"), Ok("fixed".to_owned()));
    assert_eq!(
        Named.variant("lost"),
        Err("unknown variant `lost` (valid: fixed, lost-wakeup)".to_owned())
    );
}
