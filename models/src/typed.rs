//! How a model is written: the typed [`TypedModel`] trait, with its variants ([`Variant`]: a
//! [`Release`] plus a set of named [`Fix`]es) and
//! operations ([`Ops`]) as types whose parsing rejects an unknown name, and the one adapter that
//! turns any typed model into the object-safe [`Model`] the harness explores.
//!
//! The adapter owns what every model used to repeat: parsing the variant, spawning one facade
//! actor per scenario actor (in file order, named as in the file), the request-id formula
//! ([`request_id`]), parsing each operation just before it runs, and joining the actors before
//! the model's own end of run ([`TypedModel::finish`]). A name that does not parse at run time
//! is a bug in the model or the loader, so it panics: the harness reports it as `model-panic`.

use crate::model::{
    ActorSpec, Args, FixInfo, Model, ModelInfo, OpInfo, OpSpec, ScenarioSpec, SpecError,
    VariantInfo,
};
use crate::sync::{spawn, use_flavour, Flavour};
use std::sync::Arc;

/// A named fix: one change a model makes to the upstream code it follows (ours, or a later
/// upstream commit), declared once as a fieldless enum with its self-description.
///
/// `ALL[i]` is described by `INFO[i]`; the name in `INFO` is the only place a fix's name is
/// written (`fixed-without=<name>` reads it from there).
pub trait Fix: Copy + Eq + std::fmt::Debug + Send + Sync + 'static {
    /// Every fix, in the order `poolcheck list` shows them and canonical names spell them.
    const ALL: &'static [Self];
    /// The description of each fix of [`Fix::ALL`], in the same order.
    const INFO: &'static [FixInfo];
}

/// The fixes a named variant applies to its release.
#[derive(Clone, Copy, Debug)]
pub enum FixSpec<F: 'static> {
    /// Every fix of the model.
    All,
    /// Every fix but these (a historical bug that lived in the release: its fix undone).
    AllBut(&'static [F]),
    /// Only these (`Only(&[])`: the release exactly as published; `Only(&[a, b])`: a commit that
    /// already contains the upstream fixes `a` and `b` and none of the later ones).
    Only(&'static [F]),
}

/// The code a model's variants start from: a release or a commit of the upstream project, as a
/// fieldless enum, with the model's named variants built from it and its fixes.
///
/// `NAMED[i]` is described by `INFO[i]`; the first is `fixed` (its release with
/// [`FixSpec::All`]), which `fixed-without=<fix>[,<fix>...]` starts from.
pub trait Release: Copy + Eq + std::fmt::Debug + Send + Sync + 'static {
    /// The model's named fixes.
    type Fix: Fix;
    /// Every named variant: its release and its fixes, `fixed` first.
    const NAMED: &'static [(Self, FixSpec<Self::Fix>)];
    /// The description of each variant of [`Release::NAMED`], in the same order.
    const INFO: &'static [VariantInfo];
}

/// How a variant outside the named ones is written: `fixed-without=goaway-zero,close-in-section`
/// is `fixed` with those fixes undone.
pub const FIXED_WITHOUT: &str = "fixed-without=";

/// One variant of a model: a release plus a set of its named fixes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Variant<R: Release> {
    release: R,
    /// Bit `i` set: `R::Fix::ALL[i]` applied.
    fixes: u64,
}

impl<R: Release> Variant<R> {
    /// The release the variant's code starts from.
    pub fn release(self) -> R {
        self.release
    }

    /// Does the variant apply `fix`?
    pub fn has(self, fix: R::Fix) -> bool {
        self.fixes & bit_of(fix) != 0
    }

    /// `release` with the fixes `spec` names.
    pub fn new(release: R, spec: FixSpec<R::Fix>) -> Self {
        let all = (1u64 << R::Fix::ALL.len()) - 1;
        let of = |fixes: &[R::Fix]| fixes.iter().fold(0, |set, f| set | bit_of(*f));
        let fixes = match spec {
            FixSpec::All => all,
            FixSpec::AllBut(undone) => all & !of(undone),
            FixSpec::Only(applied) => of(applied),
        };
        Variant { release, fixes }
    }

    /// The variant named `name`: a named one, or `fixed-without=<fix>[,<fix>...]`; an error
    /// names the valid variants or fixes.
    pub fn parse(name: &str) -> Result<Self, String> {
        Self::check_catalogue();
        if let Some(i) = R::INFO.iter().position(|v| v.name == name) {
            let (release, spec) = R::NAMED[i];
            return Ok(Variant::new(release, spec));
        }
        let Some(list) = name.strip_prefix(FIXED_WITHOUT) else {
            let named = R::INFO.iter().map(|v| v.name);
            let hint = format!("{FIXED_WITHOUT}<fix>[,<fix>...]");
            return Err(unknown("variant", name, named.chain([hint.as_str()])));
        };
        let undone = parse_fixes::<R::Fix>(list)?;
        let fixed = Variant::new(R::NAMED[0].0, FixSpec::All);
        Ok(Variant {
            fixes: fixed.fixes & !undone,
            ..fixed
        })
    }

    /// The one spelling of the variant `name` parses to: the name itself for a named variant,
    /// else `fixed-without=` with its undone fixes in [`Fix::ALL`] order.
    pub fn canonical(name: &str) -> Result<String, String> {
        let v = Self::parse(name)?;
        if R::INFO.iter().any(|i| i.name == name) {
            return Ok(name.to_owned());
        }
        let undone: Vec<&str> = R::Fix::ALL
            .iter()
            .zip(R::Fix::INFO)
            .filter(|(f, _)| !v.has(**f))
            .map(|(_, i)| i.name)
            .collect();
        Ok(format!("{FIXED_WITHOUT}{}", undone.join(",")))
    }

    /// The declarations agree: one description per fix and per named variant, at most 64 fixes,
    /// `fixed` first with every fix.
    fn check_catalogue() {
        debug_assert_eq!(
            R::Fix::ALL.len(),
            R::Fix::INFO.len(),
            "one description per fix"
        );
        debug_assert!(R::Fix::ALL.len() < 64, "a fix set is a u64");
        debug_assert_eq!(R::NAMED.len(), R::INFO.len(), "one description per variant");
        debug_assert!(matches!(R::NAMED[0].1, FixSpec::All) && R::INFO[0].name == "fixed");
    }
}

/// The bit of `fix` in a fix set: its place in [`Fix::ALL`].
fn bit_of<F: Fix>(fix: F) -> u64 {
    let i = F::ALL.iter().position(|f| *f == fix);
    1 << i.expect("every fix is in Fix::ALL")
}

/// The fixes of a comma-separated list, as a set; an unknown or repeated name is an error.
fn parse_fixes<F: Fix>(list: &str) -> Result<u64, String> {
    let mut set = 0;
    for name in list.split(',') {
        let Some(i) = F::INFO.iter().position(|f| f.name == name) else {
            return Err(unknown("fix", name, F::INFO.iter().map(|f| f.name)));
        };
        if set & (1 << i) != 0 {
            return Err(format!("fix `{name}` is named twice"));
        }
        set |= 1 << i;
    }
    Ok(set)
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
    /// The releases its variants start from, with its named variants and fixes.
    type Release: Release;
    /// Its operations.
    type Op: Ops;
    /// What the actors of one execution share (pool, network, event loop...).
    type World: Send + Sync + 'static;
    /// What one actor keeps between its operations (a held connection, kept responses...).
    type Actor: Default;

    /// Its self-description; `variants`, `fixes` and `ops` are [`Release::INFO`], [`Fix::INFO`]
    /// and [`Ops::INFO`].
    const INFO: &'static ModelInfo;

    /// The lock and semaphore semantics of the runtime it reimplements: the adapter installs
    /// it before [`TypedModel::build`], so every lock and semaphore of the model has it.
    const LOCK_FLAVOUR: Flavour;

    /// Checks beyond names and types (actor counts, argument ranges). Default: none.
    fn check(_spec: &ScenarioSpec) -> Result<(), SpecError> {
        Ok(())
    }

    /// Create the shared objects of one execution, on the main actor.
    fn build(spec: &ScenarioSpec, variant: Variant<Self::Release>) -> Self::World;

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

    fn variant(&self, name: &str) -> Result<String, String> {
        Variant::<M::Release>::canonical(name)
    }

    fn run(&self, spec: &ScenarioSpec, variant: &str) {
        let variant = Variant::<M::Release>::parse(variant).unwrap_or_else(|e| panic!("{e}"));
        use_flavour(M::LOCK_FLAVOUR);
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
    use crate::model::{registry, VariantKind};

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

    /// Each model's variants: one description per variant and per fix, `fixed` first with
    /// every fix, names parse back to their variant, an unknown name is an error; each
    /// operation of its table parses as a name (its arguments may still be missing).
    fn check_typed<M: TypedModel>() {
        type V<M> = Variant<<M as TypedModel>::Release>;
        let (named, info) = (
            <M::Release as Release>::NAMED,
            <M::Release as Release>::INFO,
        );
        assert_eq!(named.len(), info.len(), "{}", M::INFO.name);
        assert_eq!(info[0].kind, VariantKind::Fixed);
        for ((release, spec), v) in named.iter().zip(info) {
            assert_eq!(
                V::<M>::parse(v.name),
                Ok(Variant::new(*release, *spec)),
                "{}",
                v.name
            );
            // A release with none of the named fixes is upstream code; so is one with only
            // some (`Only`), when those fixes are upstream commits it already contains.
            if matches!(spec, FixSpec::Only(&[])) {
                assert_eq!(v.kind, VariantKind::Upstream, "{}", v.name);
            }
            if v.kind == VariantKind::Upstream {
                assert!(matches!(spec, FixSpec::Only(_)), "{}", v.name);
            }
        }
        let fixes = <<M::Release as Release>::Fix as Fix>::INFO;
        for f in fixes {
            let name = format!("{FIXED_WITHOUT}{}", f.name);
            assert_eq!(V::<M>::canonical(&name), Ok(name.clone()));
            assert!(!f.changes.is_empty() && !f.why.is_empty(), "{}", f.name);
        }
        assert!(V::<M>::parse("no-such-variant").is_err());
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

    type HttpcoreVariant = Variant<crate::httpcore::Release>;

    #[test]
    fn fixed_without_undoes_the_named_fixes_and_nothing_else() {
        use crate::httpcore::Fix as F;
        let v = HttpcoreVariant::parse("fixed-without=reset-on-early-close").unwrap();
        assert!(!v.has(F::ResetOnEarlyClose));
        assert!(v.has(F::EventsDeleteInLock) && v.has(F::LowerLimitWithoutWaiting));
        assert_eq!(v, HttpcoreVariant::parse("httpcore-943").unwrap());
        let both = "fixed-without=idle-counts-pending,events-delete-in-lock";
        assert_eq!(
            HttpcoreVariant::parse(both),
            HttpcoreVariant::parse("httpcore-1062")
        );
    }

    #[test]
    fn a_fix_list_has_one_spelling() {
        let both = "fixed-without=idle-counts-pending,events-delete-in-lock";
        assert_eq!(
            HttpcoreVariant::canonical(both).unwrap(),
            "fixed-without=events-delete-in-lock,idle-counts-pending"
        );
        assert_eq!(HttpcoreVariant::canonical("fixed").unwrap(), "fixed");
    }

    #[test]
    fn a_bad_fix_list_is_an_error_naming_the_valid_fixes() {
        let e = HttpcoreVariant::parse("fixed-without=goaway-nine").unwrap_err();
        assert!(e.starts_with("unknown fix `goaway-nine` (valid: "), "{e}");
        assert!(e.contains("reset-on-early-close"), "{e}");
        for bad in ["fixed-without=", "fixed-without=reset-on-early-close,"] {
            assert!(HttpcoreVariant::parse(bad)
                .unwrap_err()
                .contains("unknown fix ``"));
        }
        let twice = "fixed-without=reset-on-early-close,reset-on-early-close";
        assert!(HttpcoreVariant::parse(twice)
            .unwrap_err()
            .contains("named twice"));
        let e = HttpcoreVariant::parse("fixd").unwrap_err();
        assert!(e.contains("fixed-without=<fix>[,<fix>...]"), "{e}");
    }

    #[test]
    fn an_illegal_transition_is_a_model_bug() {
        let e = IllegalTransition::new("httpcore connection", "Closed", "go idle");
        assert_eq!(
            e.to_string(),
            "model bug: httpcore connection in state \"Closed\" cannot go idle"
        );
    }

    /// A catalogue whose fix has no description.
    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    enum Undescribed {
        Fix,
    }

    impl Fix for Undescribed {
        const ALL: &'static [Self] = &[Undescribed::Fix];
        const INFO: &'static [FixInfo] = &[];
    }

    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    struct Only;

    impl Release for Only {
        type Fix = Undescribed;
        const NAMED: &'static [(Self, FixSpec<Undescribed>)] = &[(Only, FixSpec::All)];
        const INFO: &'static [VariantInfo] = &[VariantInfo {
            name: "fixed",
            kind: VariantKind::Fixed,
            upstream: "",
            summary: "",
        }];
    }

    #[test]
    #[should_panic(expected = "one description per fix")]
    fn a_catalogue_that_does_not_describe_every_fix_is_refused_when_parsed() {
        let _ = Variant::<Only>::parse("fixed");
    }

    #[test]
    fn request_ids_count_actors_by_hundreds() {
        assert_eq!(request_id(0, 0), 100);
        assert_eq!(request_id(1, 2), 202);
    }
}
