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
    /// Each value is a verdict or an array of invariants (any of them).
    pub expect: Spanned<BTreeMap<Spanned<String>, Spanned<toml::Value>>>,
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

/// `[schedulers.loom] max_executions` when the file leaves it out.
pub(super) const DEFAULT_LOOM_EXECUTIONS: u64 = 200_000;

/// `[schedulers.loom] max_branches` when the file leaves it out.
pub(super) const DEFAULT_LOOM_BRANCHES: usize = 10_000;

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
}

/// `[schedulers.dpor] max_executions` when the file leaves it out.
pub(super) const DEFAULT_DPOR_EXECUTIONS: u64 = 100_000;

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
