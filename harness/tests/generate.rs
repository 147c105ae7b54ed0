//! Generated scenarios: found, shrunk, written, and accepted by the loader as ordinary files whose
//! trials pass.

use poolcheck_harness::backend::Bounds;
use poolcheck_harness::generate::{expectations, generate, to_toml, GenerateSpec};
use poolcheck_harness::scenario::load_file;
use poolcheck_harness::trial::{run_trial, trials_of};
use poolcheck_models::model::{find, Args};

fn spec(variant: &str, invariants: &[&str]) -> GenerateSpec {
    GenerateSpec {
        variant: variant.into(),
        invariants: invariants.iter().map(|s| (*s).into()).collect(),
        config: Args::default(),
        actors: 3,
        max_ops: 4,
        tries: 300,
        seed: 1,
        iterations: 300,
        step_bound: 2_000,
    }
}

#[test]
fn a_generated_scenario_catches_the_variant_and_round_trips_through_the_loader() {
    let model = find("checkout-pool").expect("model");
    let g = spec(
        "size-check-then-create",
        &["max-connections", "no-leak", "request-answered"],
    );
    let found = generate(model, &g).expect("a scenario");
    assert_eq!(found.invariant, "max-connections");
    let ops: usize = found.spec.actors.iter().map(|a| a.ops.len()).sum();
    assert!(ops <= 3, "shrunk to a few operations: {:?}", found.spec);

    let dir = std::env::temp_dir().join(format!("poolcheck-generate-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("generated-size.toml");
    let expect = expectations(model, &g, &found).expect("every variant has a verdict");
    std::fs::write(&path, to_toml(model, "generated-size", &found, &g, &expect)).unwrap();
    let scenario = load_file(&path, &[]).expect("loads");
    assert!(scenario.as_model().is_some(), "a model scenario");
    for t in trials_of(&scenario) {
        let r = run_trial(&t, Bounds::default());
        assert!(r.ok, "{}: {}", t.name(), r.judgement);
    }
}

#[test]
fn generation_is_deterministic() {
    let model = find("checkout-pool").expect("model");
    let g = spec("cancel-drops-delivered", &["no-leak", "request-answered"]);
    let a = generate(model, &g).map(|f| f.spec);
    let b = generate(model, &g).map(|f| f.spec);
    assert_eq!(a, b);
}
