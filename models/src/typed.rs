//! How a model is written: the typed [`TypedModel`] trait, with its variants ([`Variants`]) and
//! operations ([`Ops`]) as types whose parsing rejects an unknown name, and the one adapter that
//! turns any typed model into the object-safe [`Model`] the harness explores.
//!
//! The adapter owns what every model used to repeat: parsing the variant, spawning one facade
//! actor per scenario actor (in file order, named as in the file), the request-id formula
//! ([`request_id`]), parsing each operation just before it runs, and joining the actors before
//! the model's own end of run ([`TypedModel::finish`]). A name that does not parse at run time
//! is a bug in the model or the loader, so it panics: the harness reports it as `model-panic`.

use crate::model::{
    ActorSpec, Args, Model, ModelInfo, OpInfo, OpSpec, ScenarioSpec, SpecError, VariantInfo,
};
use crate::sync::spawn;
use std::sync::Arc;

/// A model's variants: a fieldless enum listed once, with its self-description.
///
/// `ALL[i]` is described by `INFO[i]`; the fixed behaviour comes first. The name in `INFO` is the
/// only place a variant's name is written: [`Variants::parse`] reads it from there.
pub trait Variants: Copy + Sized + 'static {
    /// Every variant, the fixed one first.
    const ALL: &'static [Self];
    /// The description of each variant of [`Variants::ALL`], in the same order.
    const INFO: &'static [VariantInfo];

    /// The variant named `name`, or an error naming the valid ones.
    fn parse(name: &str) -> Result<Self, String> {
        debug_assert_eq!(
            Self::ALL.len(),
            Self::INFO.len(),
            "one description per variant"
        );
        Self::ALL
            .iter()
            .zip(Self::INFO)
            .find(|(_, info)| info.name == name)
            .map(|(v, _)| *v)
            .ok_or_else(|| unknown("variant", name, Self::INFO.iter().map(|i| i.name)))
    }
}

/// A model's operations: a typed enum parsed from the scenario's [`OpSpec`].
pub trait Ops: Sized {
    /// The operations scenario files may name, with their parameters.
    const INFO: &'static [OpInfo];

    /// Parse one operation; `config` supplies the defaults an operation takes from the
    /// scenario's configuration. An unknown name is an error ([`unknown_op`]).
    fn parse(op: &OpSpec, config: &Args) -> Result<Self, String>;
}

/// The error for an operation name that is not in `Op::INFO`.
pub fn unknown_op<O: Ops>(name: &str) -> String {
    unknown("operation", name, O::INFO.iter().map(|o| o.name))
}

fn unknown<'a>(what: &str, name: &str, valid: impl Iterator<Item = &'a str>) -> String {
    let valid: Vec<&str> = valid.collect();
    format!("unknown {what} `{name}` (valid: {})", valid.join(", "))
}

/// The request id of operation `op` of actor `actor` (both from 0): `(actor + 1) * 100 + op`,
/// so that traces read `A`'s first request as 100 and `B`'s as 200.
pub fn request_id(actor: usize, op: usize) -> u32 {
    u32::try_from((actor + 1) * 100 + op).unwrap_or(u32::MAX)
}

/// A state machine asked to make a move its diagram does not have: a bug in the model's own
/// bookkeeping, never a verdict on the pool. Callers panic with it ([`Transition::or_panic`]),
/// which the harness reports as `model-panic`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IllegalTransition {
    /// The state machine (`httpcore connection`).
    pub machine: &'static str,
    /// The state it was in.
    pub from: String,
    /// The move it was asked to make.
    pub event: &'static str,
}

impl IllegalTransition {
    /// `machine` in state `from` cannot take `event`.
    pub fn new(machine: &'static str, from: impl std::fmt::Debug, event: &'static str) -> Self {
        IllegalTransition {
            machine,
            from: format!("{from:?}"),
            event,
        }
    }
}

impl std::fmt::Display for IllegalTransition {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "model bug: {} in state {} cannot {}",
            self.machine, self.from, self.event
        )
    }
}

/// The result of a state machine's move.
pub trait Transition<T> {
    /// The new state; an illegal move panics (a `model-panic`).
    fn or_panic(self) -> T;
}

impl<T> Transition<T> for Result<T, IllegalTransition> {
    #[track_caller]
    fn or_panic(self) -> T {
        self.unwrap_or_else(|e| panic!("{e}"))
    }
}

/// Where an operation runs: its actor's name and its request id.
#[derive(Clone, Copy, Debug)]
pub struct OpAt<'a> {
    /// The actor's name.
    pub actor: &'a str,
    /// The operation's request id ([`request_id`]).
    pub req: u32,
}

/// A model written with types; every such model is a [`Model`] through the blanket adapter.
pub trait TypedModel: Send + Sync + 'static {
    /// Its variants.
    type Variant: Variants;
    /// Its operations.
    type Op: Ops;
    /// What the actors of one execution share (pool, network, event loop...).
    type World: Send + Sync + 'static;
    /// What one actor keeps between its operations (a held connection, kept responses...).
    type Actor: Default;

    /// Its self-description; `variants` and `ops` are [`Variants::INFO`] and [`Ops::INFO`].
    const INFO: &'static ModelInfo;

    /// Checks beyond names and types (actor counts, argument ranges). Default: none.
    fn check(_spec: &ScenarioSpec) -> Result<(), SpecError> {
        Ok(())
    }

    /// Create the shared objects of one execution, on the main actor.
    fn build(spec: &ScenarioSpec, variant: Self::Variant) -> Self::World;

    /// Run one operation on its actor.
    fn run_op(world: &Self::World, actor: &mut Self::Actor, at: OpAt<'_>, op: Self::Op);

    /// After an actor's last operation (check in what it holds...). Default: nothing.
    fn end_actor(_world: &Self::World, _actor: Self::Actor) {}

    /// After every actor has been joined, on the main actor (close the pool...).
    fn finish(world: &Self::World);
}

impl<M: TypedModel> Model for M {
    fn info(&self) -> &'static ModelInfo {
        M::INFO
    }

    fn check(&self, spec: &ScenarioSpec) -> Result<(), SpecError> {
        M::check(spec)
    }

    fn run(&self, spec: &ScenarioSpec, variant: &str) {
        let variant = M::Variant::parse(variant).unwrap_or_else(|e| panic!("{e}"));
        let world = Arc::new(M::build(spec, variant));
        let handles: Vec<_> = spec
            .actors
            .iter()
            .enumerate()
            .map(|(i, actor)| {
                let (world, actor, config) = (world.clone(), actor.clone(), spec.config.clone());
                spawn(&actor.name.clone(), move || {
                    run_actor::<M>(&world, i, &actor, &config)
                })
            })
            .collect();
        for h in handles {
            h.join();
        }
        M::finish(&world);
    }
}

/// One actor: its operations in order, each parsed just before it runs, then its end.
fn run_actor<M: TypedModel>(world: &M::World, index: usize, actor: &ActorSpec, config: &Args) {
    let mut state = M::Actor::default();
    for (o, spec) in actor.ops.iter().enumerate() {
        let op = M::Op::parse(spec, config).unwrap_or_else(|e| panic!("{e}"));
        let at = OpAt {
            actor: &actor.name,
            req: request_id(index, o),
        };
        M::run_op(world, &mut state, at, op);
    }
    M::end_actor(world, state);
}

/// Check that every operation of every actor parses, reporting the first that does not at its
/// place (the loader has checked names and types; this catches values only the model knows).
pub fn parse_all<O: Ops>(spec: &ScenarioSpec) -> Result<Vec<Vec<O>>, SpecError> {
    spec.actors
        .iter()
        .enumerate()
        .map(|(a, actor)| {
            let parse = |(o, op)| O::parse(op, &spec.config).map_err(|m| SpecError::op(a, o, m));
            actor.ops.iter().enumerate().map(parse).collect()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::registry;

    #[test]
    fn every_model_rejects_an_unknown_variant_and_operation() {
        for m in registry() {
            let mut spec = ScenarioSpec::default();
            spec.actors.push(ActorSpec {
                name: "A".into(),
                ops: vec![OpSpec {
                    name: "no-such-op".into(),
                    args: Args::default(),
                }],
            });
            let err = m.check(&spec).expect_err(m.info().name);
            assert!(err.message.contains("unknown operation"), "{}", err.message);
        }
    }

    /// Each model's variants: one description per variant, names parse back to their variant,
    /// an unknown name is an error; each operation of its table parses as a name (its
    /// arguments may still be missing).
    fn check_typed<M: TypedModel>() {
        let (all, info) = (M::Variant::ALL, M::Variant::INFO);
        assert_eq!(all.len(), info.len(), "{}", M::INFO.name);
        assert_eq!(info[0].name, "fixed");
        for v in info {
            assert!(M::Variant::parse(v.name).is_ok(), "{}", v.name);
        }
        assert!(M::Variant::parse("no-such-variant").is_err());
        for o in M::Op::INFO {
            let spec = OpSpec {
                name: o.name.into(),
                args: Args::default(),
            };
            if let Err(e) = M::Op::parse(&spec, &Args::default()) {
                assert!(!e.contains("unknown operation"), "{}: {e}", o.name);
            }
        }
    }

    #[test]
    fn every_model_is_typed_consistently() {
        check_typed::<crate::httpcore::HttpcoreModel>();
        check_typed::<crate::checkout_pool::CheckoutPoolModel>();
        check_typed::<crate::lifecycle::LifecycleModel>();
        check_typed::<crate::go_h2::GoH2Model>();
    }

    #[test]
    fn an_illegal_transition_is_a_model_bug() {
        let e = IllegalTransition::new("httpcore connection", "Closed", "go idle");
        assert_eq!(
            e.to_string(),
            "model bug: httpcore connection in state \"Closed\" cannot go idle"
        );
    }

    #[test]
    fn request_ids_count_actors_by_hundreds() {
        assert_eq!(request_id(0, 0), 100);
        assert_eq!(request_id(1, 2), 202);
    }
}
