//! The file format as serde sees it, before validation. Every table denies unknown keys, and
//! spans are kept for everything a later check may point at.

use serde::Deserialize;
use std::collections::BTreeMap;
use toml::Spanned;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawScenario {
    pub version: Spanned<i64>,
    pub name: Spanned<String>,
    pub model: Spanned<String>,
    pub description: String,
    #[serde(default)]
    pub origin: Option<String>,
    pub invariants: Vec<Spanned<String>>,
    #[serde(default)]
    pub step_bound: Option<Spanned<i64>>,
    #[serde(default)]
    pub config: BTreeMap<Spanned<String>, Spanned<toml::Value>>,
    #[serde(default)]
    pub actors: Option<Spanned<Vec<RawActor>>>,
    // Not `Spanned`: toml 0.8 cannot deserialize a spanned struct with named fields.
    pub schedulers: RawSchedulers,
    /// Each value is a verdict, an array of invariants (any of them), or a table of them by
    /// scheduler (`default` for the others). Absent: every variant is unjudged.
    #[serde(default)]
    pub expect: Option<Spanned<BTreeMap<Spanned<String>, Spanned<RawExpect>>>>,
    #[serde(default)]
    pub pinned: Vec<RawPinned>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawActor {
    pub name: Spanned<String>,
    pub ops: Vec<Spanned<toml::Value>>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub(super) struct RawSchedulers {
    pub loom: Option<RawLoom>,
    pub dpor: Option<RawDpor>,
    pub pct: Option<RawPct>,
    pub random: Option<RawRandom>,
    pub dfs: Option<RawDfs>,
    pub std: Option<RawStd>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawLoom {
    pub preemption_bound: Spanned<usize>,
    #[serde(default)]
    pub max_executions: Option<Spanned<u64>>,
    #[serde(default)]
    pub max_branches: Option<Spanned<usize>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawPct {
    pub depth: Spanned<usize>,
    pub iterations: Spanned<u64>,
    pub seed: u64,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawRandom {
    pub iterations: Spanned<u64>,
    pub seed: u64,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawDpor {
    /// Absent: unbounded (exhaustive).
    #[serde(default)]
    pub preemption_bound: Option<Spanned<usize>>,
    #[serde(default)]
    pub max_executions: Option<Spanned<u64>>,
    /// The benchmark's proof of `fixed`: a bound or `"unbounded"`.
    #[serde(default)]
    pub proof_bound: Option<Spanned<RawProofBound>>,
}

/// `[schedulers.dpor] proof_bound`: a number or a word (`"unbounded"`), checked by the loader.
#[derive(Deserialize)]
#[serde(untagged)]
pub(super) enum RawProofBound {
    Bound(usize),
    Word(String),
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawDfs {
    pub max_iterations: Spanned<u64>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawStd {
    pub iterations: Spanned<u64>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawPinned {
    pub variant: Spanned<String>,
    pub schedule: Spanned<String>,
    pub expect: Spanned<String>,
}

/// One `[expect]` value: a verdict (a string, an array, or a wrongly typed value the loader
/// reports), or a table `{ default = ..., <scheduler> = ... }` whose keys and values keep their
/// spans.
pub(super) enum RawExpect {
    Verdict(toml::Value),
    Table(Vec<(Spanned<String>, Spanned<toml::Value>)>),
}

impl<'de> Deserialize<'de> for RawExpect {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(RawExpectVisitor)
    }
}

struct RawExpectVisitor;

impl<'de> serde::de::Visitor<'de> for RawExpectVisitor {
    type Value = RawExpect;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a verdict, an array of invariants, or a table of verdicts by scheduler")
    }

    fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<RawExpect, E> {
        Ok(RawExpect::Verdict(toml::Value::String(v.to_owned())))
    }

    fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<RawExpect, E> {
        Ok(RawExpect::Verdict(toml::Value::Integer(v)))
    }

    fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<RawExpect, E> {
        Ok(RawExpect::Verdict(toml::Value::Integer(
            i64::try_from(v).unwrap_or(i64::MAX),
        )))
    }

    fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<RawExpect, E> {
        Ok(RawExpect::Verdict(toml::Value::Float(v)))
    }

    fn visit_bool<E: serde::de::Error>(self, v: bool) -> Result<RawExpect, E> {
        Ok(RawExpect::Verdict(toml::Value::Boolean(v)))
    }

    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<RawExpect, A::Error> {
        let mut items = Vec::new();
        while let Some(v) = seq.next_element::<toml::Value>()? {
            items.push(v);
        }
        Ok(RawExpect::Verdict(toml::Value::Array(items)))
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<RawExpect, A::Error> {
        let mut entries = Vec::new();
        while let Some(k) = map.next_key::<Spanned<String>>()? {
            entries.push((k, map.next_value::<Spanned<toml::Value>>()?));
        }
        Ok(RawExpect::Table(entries))
    }
}
