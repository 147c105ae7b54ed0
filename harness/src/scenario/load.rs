//! Loading and validating scenario files.

// A located error is a cold-path value a person reads; boxing it would only add noise.
#![allow(clippy::result_large_err)]

use super::defaults::{DEFAULT_DPOR_EXECUTIONS, DEFAULT_LOOM_BRANCHES, DEFAULT_LOOM_EXECUTIONS};
use super::error::{hint_for, ScenarioError};
use super::header::Header;
use super::limits::{self, in_range};
use super::raw::{RawActor, RawDpor, RawExpect, RawProofBound, RawScenario, RawSchedulers};
use super::read::{read_source, MAX_SCENARIO_BYTES};
use super::{AnyScenario, Expectation, Family, Pinned, ProofBound, Scenario, DEFAULT_STEP_BOUND};
use crate::backend::{decode_schedule, SchedulerSpec};
use crate::monitor;
use crate::trial::ANY_OF;
use poolcheck_models::model::{
    self, ActorSpec, Args, Model, OpSpec, ParamInfo, ParamKind, ScenarioSpec, Value,
};
use poolcheck_models::typed::FIXED_WITHOUT;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use toml::Spanned;

/// The `[expect]` key that stands for every variant the file does not name. A model that gains
/// a variant then runs it in every such file, so a variant the file wrongly assumes passes fails
/// its trial instead of going unchecked. A file without it may leave variants out: their trials
/// are unjudged (run and listed, never failed for their verdict) until `poolcheck bless`.
pub const OTHER_VARIANTS: &str = "*";

/// The key of an expectation table that stands for every scheduler it does not name:
/// `variant = { default = "max-streams", random = "pass" }`.
pub const SCHEDULER_DEFAULT: &str = "default";

/// The schedulers a scenario file may list (`[schedulers.<name>]`), in the order they run.
pub const FILE_SCHEDULERS: &[&str] = &["loom", "dpor", "pct", "random", "dfs", "std"];

/// The scenario format version this loader reads.
pub const SCENARIO_VERSION: i64 = 1;

/// Every `*.toml` file of `dir`, sorted by file name, each loaded (see [`load_file`]) or with
/// its error.
pub fn load_dir(
    dir: &Path,
    families: &[&dyn Family],
) -> Result<Vec<Result<AnyScenario, ScenarioError>>, ScenarioError> {
    let entries = std::fs::read_dir(dir).map_err(|e| {
        ScenarioError::whole_file(dir, format!("cannot read the scenario folder: {e}"))
    })?;
    let mut paths: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .collect();
    paths.sort();
    Ok(paths.iter().map(|p| load_file(p, families)).collect())
}

/// Load and validate one scenario file: a model scenario, or one of the family that claims its
/// `model` (the families the caller links, in the order given).
pub fn load_file(path: &Path, families: &[&dyn Family]) -> Result<AnyScenario, ScenarioError> {
    let source = read_source(path, MAX_SCENARIO_BYTES)?;
    let cx = Cx {
        path,
        source: &source,
        families,
    };
    // A family's files have tables of their own (the real crates' `[outcomes]`, `[[cases]]`...):
    // hand them over before the strict parse, which would reject those tables; and a `model`
    // that is neither a family's nor a model is named as such, not as those tables.
    if let Some(model) = model_of(&source) {
        let claimant = families
            .iter()
            .find(|f| f.models().contains(&model.get_ref().as_str()));
        if let Some(family) = claimant {
            return family.parse(path, &source).map(AnyScenario::Family);
        }
        cx.model(&model)?;
    }
    let raw: RawScenario = toml::from_str(&source).map_err(|e| syntax_error(path, &source, &e))?;
    cx.check_header(&raw)?;
    cx.build(raw).map(|s| AnyScenario::Model(Arc::new(s)))
}

/// The file's `model`, where the text is TOML with a string `model`.
fn model_of(source: &str) -> Option<Spanned<String>> {
    #[derive(serde::Deserialize)]
    struct ModelKey {
        model: Spanned<String>,
    }
    toml::from_str::<ModelKey>(source).ok().map(|k| k.model)
}

fn by_scheduler_hint(schedulers: &[SchedulerSpec]) -> String {
    let names: Vec<&str> = schedulers.iter().map(SchedulerSpec::name).collect();
    format!(
        "write `{{ default = \"<verdict>\", <scheduler> = \"<verdict>\" }}`; this file's \
         schedulers: {}",
        names.join(", ")
    )
}

fn syntax_error(path: &Path, source: &str, e: &toml::de::Error) -> ScenarioError {
    let span = e.span().unwrap_or(0..0);
    let message = e.message().trim().to_owned();
    let field = field_of(source, span.start);
    ScenarioError::at(path, source, span, field, message)
        .with_hint("see the README's \"Scenario format\" section for every key")
}

/// The key at the start of the line containing `offset`, as a best-effort field name.
fn field_of(source: &str, offset: usize) -> String {
    let start = source[..offset.min(source.len())]
        .rfind('\n')
        .map_or(0, |i| i + 1);
    let line = source[start..].lines().next().unwrap_or("");
    line.split('=')
        .next()
        .unwrap_or("")
        .trim()
        .trim_matches(['[', ']'])
        .to_owned()
}

struct Cx<'a> {
    path: &'a Path,
    source: &'a str,
    /// The families linked: their models are named in the hint for an unknown model.
    families: &'a [&'a dyn Family],
}

impl Cx<'_> {
    fn err<T>(
        &self,
        s: &Spanned<T>,
        field: impl Into<String>,
        msg: impl Into<String>,
    ) -> ScenarioError {
        ScenarioError::at(self.path, self.source, s.span(), field, msg)
    }

    fn header(&self) -> Header<'_> {
        Header {
            path: self.path,
            source: self.source,
        }
    }

    fn check_header(&self, raw: &RawScenario) -> Result<(), ScenarioError> {
        self.header().check(&raw.version, &raw.name)
    }

    fn build(&self, raw: RawScenario) -> Result<Scenario, ScenarioError> {
        let model = self.model(&raw.model)?;
        let invariants = self.invariants(&raw.invariants)?;
        let step_bound = self
            .header()
            .step_bound(raw.step_bound.as_ref(), DEFAULT_STEP_BOUND)?;
        let schedulers = self.schedulers(&raw.schedulers)?;
        let proof_bound = match &raw.schedulers.dpor {
            Some(d) => self.proof_bound(d)?,
            None => None,
        };
        let no_actors = Spanned::new(raw.model.span(), Vec::new());
        let raw_actors = raw.actors.as_ref().unwrap_or(&no_actors);
        self.actor_count(raw_actors, &schedulers)?;
        let spec = ScenarioSpec {
            config: self.config(model, &raw.config)?,
            actors: self.actors(model, raw_actors.get_ref())?,
        };
        self.model_check(model, &spec, raw_actors.get_ref(), &raw.config)?;
        let expect = self.expect(model, raw.expect.as_ref(), &invariants, &schedulers)?;
        let pinned = self.pinned(model, &raw, &invariants)?;
        Ok(Scenario {
            path: self.path.to_owned(),
            name: raw.name.into_inner(),
            model,
            description: raw.description,
            origin: raw.origin,
            invariants: Arc::new(invariants),
            step_bound,
            spec: Arc::new(spec),
            schedulers,
            expect,
            pinned,
            proof_bound,
        })
    }

    /// `[schedulers.dpor] proof_bound`: `"unbounded"` or a bound above the suite's.
    fn proof_bound(&self, d: &RawDpor) -> Result<Option<ProofBound>, ScenarioError> {
        const FIELD: &str = "schedulers.dpor.proof_bound";
        let Some(p) = &d.proof_bound else {
            return Ok(None);
        };
        let Some(suite) = &d.preemption_bound else {
            return Err(self
                .err(
                    p,
                    FIELD,
                    "the suite already runs dpor unbounded, the strongest proof",
                )
                .with_hint("remove `proof_bound`"));
        };
        let proof = match p.get_ref() {
            RawProofBound::Word(w) if w == "unbounded" => ProofBound::Unbounded,
            RawProofBound::Word(w) => {
                return Err(self
                    .err(
                        p,
                        FIELD,
                        format!("`{w}` is neither a bound nor `unbounded`"),
                    )
                    .with_hint("write a number above `preemption_bound`, or \"unbounded\""))
            }
            RawProofBound::Bound(b) => {
                let b = self.ranged(
                    &Spanned::new(p.span(), *b),
                    FIELD,
                    &limits::PREEMPTION_BOUND,
                )?;
                if b <= *suite.get_ref() {
                    return Err(self
                        .err(
                            p,
                            FIELD,
                            format!(
                                "proof_bound {b} is not above preemption_bound {}: the suite's \
                                 trial already proves that much",
                                suite.get_ref()
                            ),
                        )
                        .with_hint("raise `proof_bound`, or remove it"));
                }
                ProofBound::Bound(b)
            }
        };
        Ok(Some(proof))
    }

    fn model(&self, name: &Spanned<String>) -> Result<&'static dyn Model, ScenarioError> {
        model::find(name.get_ref()).ok_or_else(|| {
            let mut names: Vec<&str> = model::registry().iter().map(|m| m.info().name).collect();
            names.extend(
                self.families
                    .iter()
                    .flat_map(|f| f.models().iter().copied()),
            );
            self.err(name, "model", format!("unknown model `{}`", name.get_ref()))
                .with_hint(hint_for(name.get_ref(), names))
        })
    }

    fn invariants(&self, list: &[Spanned<String>]) -> Result<Vec<String>, ScenarioError> {
        let known: Vec<&str> = monitor::registry().iter().map(|m| m.name).collect();
        let mut out = Vec::new();
        for inv in list {
            if !known.contains(&inv.get_ref().as_str()) {
                return Err(self
                    .err(
                        inv,
                        "invariants",
                        format!("unknown invariant `{}`", inv.get_ref()),
                    )
                    .with_hint(hint_for(inv.get_ref(), known.iter().copied())));
            }
            out.push(inv.get_ref().clone());
        }
        Ok(out)
    }

    /// Between 1 and 16 actors for every model, and at most 4 when loom is listed (loom runs
    /// 5 threads, main included).
    fn actor_count(
        &self,
        raw: &Spanned<Vec<RawActor>>,
        schedulers: &[SchedulerSpec],
    ) -> Result<(), ScenarioError> {
        let n = raw.get_ref().len();
        let range = limits::ACTORS;
        if !range.contains(&n) {
            return Err(self
                .err(
                    raw,
                    "actors",
                    format!(
                        "{n} actors: a scenario needs between {} and {}",
                        range.start(),
                        range.end()
                    ),
                )
                .with_hint("add [[actors]] tables, each with a `name` and `ops`"));
        }
        let loom = schedulers.iter().any(|s| s.name() == "loom");
        if loom && n > limits::LOOM_MAX_ACTORS {
            return Err(self
                .err(
                    raw,
                    "actors",
                    format!(
                        "{n} actors, but loom runs at most {} besides main",
                        limits::LOOM_MAX_ACTORS
                    ),
                )
                .with_hint("drop [schedulers.loom] from this scenario, or use fewer actors"));
        }
        Ok(())
    }

    fn config(
        &self,
        model: &dyn Model,
        raw: &BTreeMap<Spanned<String>, Spanned<toml::Value>>,
    ) -> Result<Args, ScenarioError> {
        self.args(
            model.info().config,
            raw.iter(),
            "config",
            "configuration key",
        )
    }

    /// Validate named arguments against parameter declarations.
    fn args<'k>(
        &self,
        params: &[ParamInfo],
        raw: impl Iterator<Item = (&'k Spanned<String>, &'k Spanned<toml::Value>)>,
        field: &str,
        what: &str,
    ) -> Result<Args, ScenarioError> {
        let mut out = BTreeMap::new();
        for (key, value) in raw {
            let name = key.get_ref();
            let Some(param) = params.iter().find(|p| p.name == name) else {
                let names = params.iter().map(|p| p.name);
                return Err(self
                    .err(
                        key,
                        format!("{field}.{name}"),
                        format!("unknown {what} `{name}`"),
                    )
                    .with_hint(hint_for(name, names)));
            };
            out.insert(
                name.clone(),
                self.value(param, value, &format!("{field}.{name}"))?,
            );
        }
        Ok(Args(out))
    }

    fn value(
        &self,
        p: &ParamInfo,
        v: &Spanned<toml::Value>,
        field: &str,
    ) -> Result<Value, ScenarioError> {
        match (p.kind, v.get_ref()) {
            (ParamKind::Int, toml::Value::Integer(i)) if (p.min..=p.max).contains(i) => {
                Ok(Value::Int(*i))
            }
            (ParamKind::Int, toml::Value::Integer(i)) => Err(self
                .err(
                    v,
                    field,
                    format!(
                        "`{}` is {i}; it must be between {} and {}",
                        p.name, p.min, p.max
                    ),
                )
                .with_hint(format!("`{}`: {}", p.name, p.doc))),
            (ParamKind::Bool, toml::Value::Boolean(b)) => Ok(Value::Bool(*b)),
            (ParamKind::Str, toml::Value::String(s)) => Ok(Value::Str(s.clone())),
            (kind, other) => Err(self
                .err(
                    v,
                    field,
                    format!("expected {}, found {}", kind.name(), other.type_str()),
                )
                .with_hint(format!("`{}`: {}", p.name, p.doc))),
        }
    }

    fn actors(&self, model: &dyn Model, raw: &[RawActor]) -> Result<Vec<ActorSpec>, ScenarioError> {
        let mut out: Vec<ActorSpec> = Vec::new();
        for (i, a) in raw.iter().enumerate() {
            limits::actor_name(a.name.get_ref())
                .map_err(|m| self.err(&a.name, format!("actors[{i}].name"), m))?;
            if a.ops.len() > limits::MAX_OPS {
                return Err(self.err(
                    &a.name,
                    format!("actors[{i}].ops"),
                    format!(
                        "{} operations; an actor may list at most {}",
                        a.ops.len(),
                        limits::MAX_OPS
                    ),
                ));
            }
            if out.iter().any(|o| &o.name == a.name.get_ref()) {
                return Err(self.err(&a.name, format!("actors[{i}].name"), "duplicate actor name"));
            }
            let ops = a
                .ops
                .iter()
                .enumerate()
                .map(|(j, op)| self.op(model, op, &format!("actors[{i}].ops[{j}]")))
                .collect::<Result<_, _>>()?;
            out.push(ActorSpec {
                name: a.name.get_ref().clone(),
                ops,
            });
        }
        Ok(out)
    }

    fn op(
        &self,
        model: &dyn Model,
        raw: &Spanned<toml::Value>,
        field: &str,
    ) -> Result<OpSpec, ScenarioError> {
        let (name, args) = match raw.get_ref() {
            toml::Value::String(s) => (s.clone(), toml::Table::new()),
            toml::Value::Table(t) => match t.get("op") {
                Some(toml::Value::String(s)) => (s.clone(), t.clone()),
                _ => {
                    return Err(self.err(raw, field, "an operation table needs `op = \"<name>\"`"))
                }
            },
            other => {
                return Err(self
                    .err(
                        raw,
                        field,
                        format!("expected an operation, found {}", other.type_str()),
                    )
                    .with_hint("write \"request\" or { op = \"tick\", by = 5 }"))
            }
        };
        let ops = model.info().ops;
        let Some(info) = ops.iter().find(|o| o.name == name) else {
            return Err(self
                .err(
                    raw,
                    field,
                    format!(
                        "unknown operation `{name}` for model `{}`",
                        model.info().name
                    ),
                )
                .with_hint(hint_for(&name, ops.iter().map(|o| o.name))));
        };
        let spanned: Vec<(Spanned<String>, Spanned<toml::Value>)> = args
            .into_iter()
            .filter(|(k, _)| k != "op")
            .map(|(k, v)| (Spanned::new(raw.span(), k), Spanned::new(raw.span(), v)))
            .collect();
        let args = self.args(
            info.params,
            spanned.iter().map(|(k, v)| (k, v)),
            field,
            "argument",
        )?;
        Ok(OpSpec { name, args })
    }

    fn model_check(
        &self,
        model: &dyn Model,
        spec: &ScenarioSpec,
        raw: &[RawActor],
        config: &BTreeMap<Spanned<String>, Spanned<toml::Value>>,
    ) -> Result<(), ScenarioError> {
        let Err(e) = model.check(spec) else {
            return Ok(());
        };
        let key = e
            .key
            .and_then(|k| config.iter().find(|(name, _)| name.get_ref() == k));
        if let Some((_, value)) = key {
            return Err(self.err(value, format!("config.{}", e.key.unwrap_or("")), e.message));
        }
        let err = match (e.actor, e.op) {
            (Some(a), Some(o)) if a < raw.len() && o < raw[a].ops.len() => {
                self.err(&raw[a].ops[o], format!("actors[{a}].ops[{o}]"), e.message)
            }
            (Some(a), _) if a < raw.len() => {
                self.err(&raw[a].name, format!("actors[{a}]"), e.message)
            }
            _ => {
                let at = self.source.find("[config]").unwrap_or(0);
                ScenarioError::at(self.path, self.source, at..at + 8, "config", e.message)
            }
        };
        Err(err)
    }

    /// Every named variant of the model with its expectations: its own key, else `"*"`, else
    /// none (unjudged); then each variant the model builds from its fixes that the file names
    /// (`fixed-without=<fix>`), in key order. Keys must be variants in their one spelling (or
    /// `"*"`); a table's keys `default` or a scheduler the file lists.
    fn expect(
        &self,
        model: &dyn Model,
        raw: Option<&Spanned<BTreeMap<Spanned<String>, Spanned<RawExpect>>>>,
        invariants: &[String],
        schedulers: &[SchedulerSpec],
    ) -> Result<Vec<Expectation>, ScenarioError> {
        let variants: Vec<&str> = model.info().variants.iter().map(|v| v.name).collect();
        let mut given = BTreeMap::new();
        for (k, v) in raw.map(Spanned::get_ref).into_iter().flatten() {
            let field = format!("expect.{}", k.get_ref());
            if k.get_ref() != OTHER_VARIANTS {
                self.check_variant(model, k, &field)?;
            }
            let e = self.expect_value(k.get_ref(), v, &field, invariants, schedulers)?;
            given.insert(k.get_ref().clone(), e);
        }
        let lookup = |name: &str| given.get(name).or_else(|| given.get(OTHER_VARIANTS));
        let built = given
            .keys()
            .map(String::as_str)
            .filter(|k| *k != OTHER_VARIANTS && !variants.contains(k));
        Ok(variants
            .iter()
            .copied()
            .chain(built)
            .map(|name| match lookup(name) {
                Some(e) => Expectation {
                    variant: name.to_owned(),
                    ..e.clone()
                },
                None => Expectation::none(name),
            })
            .collect())
    }

    /// `name` is a variant of `model`, spelled the one way the model spells it.
    fn check_variant(
        &self,
        model: &dyn Model,
        name: &Spanned<String>,
        field: &str,
    ) -> Result<(), ScenarioError> {
        let wanted = name.get_ref();
        match model.variant(wanted) {
            Ok(canonical) if canonical == *wanted => Ok(()),
            Ok(canonical) => Err(self
                .err(
                    name,
                    field,
                    format!("variant `{wanted}` is spelled `{canonical}`"),
                )
                .with_hint("name the fixes in the order `poolcheck list` shows them")),
            Err(message) if wanted.starts_with(FIXED_WITHOUT) => Err(self
                .err(name, field, message)
                .with_hint("`poolcheck list` shows each model's named fixes")),
            Err(_) => {
                let named = model.info().variants.iter().map(|v| v.name);
                Err(self
                    .err(name, field, format!("unknown variant `{wanted}`"))
                    .with_hint(hint_for(wanted, named)))
            }
        }
    }

    /// One `[expect]` value: a verdict for every scheduler, or a table by scheduler.
    fn expect_value(
        &self,
        variant: &str,
        v: &Spanned<RawExpect>,
        field: &str,
        invariants: &[String],
        schedulers: &[SchedulerSpec],
    ) -> Result<Expectation, ScenarioError> {
        let entries = match v.get_ref() {
            RawExpect::Verdict(value) => {
                let value = Spanned::new(v.span(), value.clone());
                let e = self.expectation(&value, field, invariants)?;
                return Ok(Expectation::all(variant, &e));
            }
            RawExpect::Table(entries) => entries,
        };
        if entries.is_empty() {
            return Err(self
                .err(v, field, "an empty expectation table")
                .with_hint(by_scheduler_hint(schedulers)));
        }
        let mut out = Expectation::none(variant);
        for (key, value) in entries {
            let name = key.get_ref().as_str();
            let field = format!("{field}.{name}");
            let e = self.expectation(value, &field, invariants)?;
            if name == SCHEDULER_DEFAULT {
                out.default = Some(e);
                continue;
            }
            self.expect_scheduler(key, &field, schedulers)?;
            out.schedulers.push((name.to_owned(), e));
        }
        Ok(out)
    }

    /// A scheduler key of an expectation table must name a scheduler the file lists.
    fn expect_scheduler(
        &self,
        key: &Spanned<String>,
        field: &str,
        schedulers: &[SchedulerSpec],
    ) -> Result<(), ScenarioError> {
        let name = key.get_ref().as_str();
        let listed: Vec<&str> = schedulers.iter().map(SchedulerSpec::name).collect();
        if listed.contains(&name) {
            return Ok(());
        }
        let mut valid = vec![SCHEDULER_DEFAULT];
        valid.extend(&listed);
        let message = if name.starts_with("$__toml_private") {
            "expected a verdict or a table of verdicts by scheduler, found a datetime".to_owned()
        } else if FILE_SCHEDULERS.contains(&name) {
            format!("`{name}` is not a scheduler of this scenario")
        } else {
            format!("unknown scheduler `{name}`")
        };
        Err(self
            .err(key, field, message)
            .with_hint(hint_for(name, valid)))
    }

    /// An `[expect]` value: `"pass"`, an invariant, or an array of invariants (caught by any of
    /// them, written `a|b`), each one checked.
    fn expectation(
        &self,
        v: &Spanned<toml::Value>,
        field: &str,
        invariants: &[String],
    ) -> Result<String, ScenarioError> {
        let at = |msg: String| self.err(v, field, msg);
        let names: Vec<String> = match v.get_ref() {
            toml::Value::String(s) => vec![s.clone()],
            toml::Value::Array(items) => items
                .iter()
                .map(|i| i.as_str().map(str::to_owned))
                .collect::<Option<_>>()
                .ok_or_else(|| at("an array of invariant names is expected".into()))?,
            other => {
                return Err(at(format!(
                    "expected a string or an array, found {}",
                    other.type_str()
                )))
            }
        };
        if names.is_empty() || (names.len() > 1 && names.iter().any(|n| n == "pass")) {
            return Err(at(
                "an array lists invariants, any of which may catch the variant; \
                           it cannot be empty or contain `pass`"
                    .into(),
            ));
        }
        for n in &names {
            self.verdict(&Spanned::new(v.span(), n.clone()), field, invariants)?;
        }
        Ok(names.join(&ANY_OF.to_string()))
    }

    fn verdict(
        &self,
        v: &Spanned<String>,
        field: &str,
        invariants: &[String],
    ) -> Result<(), ScenarioError> {
        let value = v.get_ref();
        if value == "pass" || invariants.contains(value) {
            return Ok(());
        }
        let mut valid = vec!["pass"];
        valid.extend(invariants.iter().map(String::as_str));
        Err(self
            .err(
                v,
                field,
                format!("`{value}` is neither `pass` nor an invariant this scenario checks"),
            )
            .with_hint(hint_for(value, valid)))
    }

    fn schedulers(&self, s: &RawSchedulers) -> Result<Vec<SchedulerSpec>, ScenarioError> {
        let mut out = Vec::new();
        if let Some(l) = &s.loom {
            out.push(SchedulerSpec::Loom {
                preemption_bound: self.ranged(
                    &l.preemption_bound,
                    "schedulers.loom.preemption_bound",
                    &limits::PREEMPTION_BOUND,
                )?,
                max_executions: match &l.max_executions {
                    Some(n) => self.ranged(
                        n,
                        "schedulers.loom.max_executions",
                        &limits::LOOM_EXECUTIONS,
                    )?,
                    None => DEFAULT_LOOM_EXECUTIONS,
                },
                max_branches: match &l.max_branches {
                    Some(n) => {
                        self.ranged(n, "schedulers.loom.max_branches", &limits::LOOM_BRANCHES)?
                    }
                    None => DEFAULT_LOOM_BRANCHES,
                },
            });
        }
        if let Some(d) = &s.dpor {
            out.push(SchedulerSpec::Dpor {
                preemption_bound: match &d.preemption_bound {
                    Some(b) => Some(self.ranged(
                        b,
                        "schedulers.dpor.preemption_bound",
                        &limits::PREEMPTION_BOUND,
                    )?),
                    None => None,
                },
                max_executions: match &d.max_executions {
                    Some(n) => self.ranged(
                        n,
                        "schedulers.dpor.max_executions",
                        &limits::LOOM_EXECUTIONS,
                    )?,
                    None => DEFAULT_DPOR_EXECUTIONS,
                },
            });
        }
        if let Some(p) = &s.pct {
            out.push(SchedulerSpec::Pct {
                seed: p.seed,
                depth: self.ranged(&p.depth, "schedulers.pct.depth", &limits::PCT_DEPTH)?,
                iterations: self.iterations(&p.iterations, "pct")?,
            });
        }
        if let Some(r) = &s.random {
            out.push(SchedulerSpec::Random {
                seed: r.seed,
                iterations: self.iterations(&r.iterations, "random")?,
            });
        }
        if let Some(d) = &s.dfs {
            out.push(SchedulerSpec::Dfs {
                max_iterations: self.ranged(
                    &d.max_iterations,
                    "schedulers.dfs.max_iterations",
                    &limits::ITERATIONS,
                )?,
            });
        }
        if let Some(t) = &s.std {
            out.push(SchedulerSpec::Std {
                iterations: self.iterations(&t.iterations, "std")?,
            });
        }
        if out.is_empty() {
            let at = self.source.find("[schedulers").unwrap_or(0);
            return Err(ScenarioError::at(self.path, self.source, at..at + 11, "schedulers", "no scheduler listed")
                .with_hint("add [schedulers.loom], [schedulers.dpor], [schedulers.pct], [schedulers.random], [schedulers.dfs] or [schedulers.std]"));
        }
        Ok(out)
    }

    fn iterations(&self, n: &Spanned<u64>, scheduler: &str) -> Result<u64, ScenarioError> {
        let field = format!("schedulers.{scheduler}.iterations");
        self.ranged(n, &field, &limits::ITERATIONS)
    }

    /// The value of `n`, or a located error when it is outside `range`.
    fn ranged<T>(
        &self,
        n: &Spanned<T>,
        field: &str,
        range: &std::ops::RangeInclusive<T>,
    ) -> Result<T, ScenarioError>
    where
        T: PartialOrd + Copy + std::fmt::Display,
    {
        let key = field.rsplit('.').next().unwrap_or(field);
        in_range(key, *n.get_ref(), range)
            .map(|()| *n.get_ref())
            .map_err(|m| {
                self.err(n, field, m)
                    .with_hint("docs/scenario-format.md lists the range of every key")
            })
    }

    fn pinned(
        &self,
        model: &dyn Model,
        raw: &RawScenario,
        invariants: &[String],
    ) -> Result<Vec<Pinned>, ScenarioError> {
        let mut out = Vec::new();
        for (i, p) in raw.pinned.iter().enumerate() {
            self.check_variant(model, &p.variant, &format!("pinned[{i}].variant"))?;
            decode_schedule(p.schedule.get_ref())
                .map_err(|e| self.err(&p.schedule, format!("pinned[{i}].schedule"), e))?;
            self.verdict(&p.expect, &format!("pinned[{i}].expect"), invariants)?;
            out.push(Pinned {
                variant: p.variant.get_ref().clone(),
                schedule: p.schedule.get_ref().clone(),
                expect: p.expect.get_ref().clone(),
                span: p.schedule.span(),
            });
        }
        Ok(out)
    }
}
