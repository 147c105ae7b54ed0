//! Shrinking a failing scenario: drop whole actors, then single operations, while the failure
//! (same invariant, fixed still passing) remains. Greedy and deterministic.

use poolcheck_models::model::ScenarioSpec;

/// The smallest scenario reachable by removals that still satisfies `keeps`.
pub fn shrink(mut spec: ScenarioSpec, keeps: impl Fn(&ScenarioSpec) -> bool) -> ScenarioSpec {
    loop {
        let before = size(&spec);
        spec = drop_actors(spec, &keeps);
        spec = drop_ops(spec, &keeps);
        if size(&spec) == before {
            return spec;
        }
    }
}

fn size(s: &ScenarioSpec) -> usize {
    s.actors.len() + s.actors.iter().map(|a| a.ops.len()).sum::<usize>()
}

fn drop_actors(mut spec: ScenarioSpec, keeps: &impl Fn(&ScenarioSpec) -> bool) -> ScenarioSpec {
    let mut i = 0;
    while i < spec.actors.len() && spec.actors.len() > 1 {
        let mut smaller = spec.clone();
        smaller.actors.remove(i);
        if keeps(&smaller) {
            spec = smaller;
        } else {
            i += 1;
        }
    }
    spec
}

fn drop_ops(mut spec: ScenarioSpec, keeps: &impl Fn(&ScenarioSpec) -> bool) -> ScenarioSpec {
    for a in 0..spec.actors.len() {
        let mut o = 0;
        while o < spec.actors[a].ops.len() {
            let mut smaller = spec.clone();
            smaller.actors[a].ops.remove(o);
            if keeps(&smaller) {
                spec = smaller;
            } else {
                o += 1;
            }
        }
    }
    spec
}
