//! The real crates as a harness scenario family: [`RealCrates`] claims the files whose `model` is
//! `h2`, `hyper` or `hyper-util`, and each becomes a [`RealSubject`], whose trials the harness
//! enumerates, runs, judges, reports and replays like a model's. Its trials are one per
//! scheduler budget of the file, plus the `differential` check where the file mirrors a model
//! scenario; each budget is explored once per subject and shared by its trial and the check.

use crate::differential::{differential, run_model_side};
use crate::{
    replay, run, wire_trace, Error, OutcomeClass, RealRun, RealScenario, CRATE_VERSIONS,
    PROPERTIES, SCHEDULERS, VARIANT, WATCHDOG,
};
use poolcheck_harness::backend::{stderr, Bounds, SchedulerSpec, INPUT_ERROR};
use poolcheck_harness::report::Counterexample;
use poolcheck_harness::scenario::{
    hint_for, About, Expectation, Family, FamilyScenario, Replayed, ScenarioError, UsageError,
};
use poolcheck_harness::trial::{Method, Trial, TrialResult};
use std::collections::BTreeMap;
use std::path::Path;
use std::sync::{Arc, Mutex, OnceLock};

/// The name of the check that compares the real crates with the model scenario they mirror.
pub const DIFFERENTIAL: &str = "differential";

/// The family of real-crate scenario files (`scenarios/real-*.toml`).
pub struct RealCrates;

impl Family for RealCrates {
    fn models(&self) -> &'static [&'static str] {
        crate::scenario::SUBJECTS
    }

    fn parse(&self, path: &Path, source: &str) -> Result<Arc<dyn FamilyScenario>, ScenarioError> {
        Ok(Arc::new(RealSubject::new(crate::parse(path, source)?)))
    }

    fn describe(&self) -> String {
        let mut out = String::from(
            "\nREAL CRATES (model = \"h2\" | \"hyper\" | \"hyper-util\"; schedulers random, pct)\n",
        );
        out.push_str(&format!(
            "  variant `{VARIANT}`: the versions in Cargo.lock ({CRATE_VERSIONS})\n  properties:\n"
        ));
        let width = PROPERTIES.iter().map(|(n, _)| n.len()).max().unwrap_or(0);
        for (name, words) in PROPERTIES {
            out.push_str(&format!("    {name:<width$}  holds when {words}\n"));
        }
        out.push_str(
            "  outcome classes (each case declares them acceptable, interesting or forbidden):\n",
        );
        let width = OutcomeClass::ALL
            .iter()
            .map(|c| c.name().len())
            .max()
            .unwrap_or(0);
        for c in OutcomeClass::ALL {
            out.push_str(&format!("    {:<width$}  {}\n", c.name(), c.meaning()));
        }
        out.push_str(&format!(
            "  `{DIFFERENTIAL}`: the model scenario a file mirrors, run and compared with the \
             crates' outcome classes both ways\n"
        ));
        out
    }
}

/// Explorations by budget, each run once.
type Explorations = Mutex<BTreeMap<String, Arc<OnceLock<Result<RealRun, String>>>>>;

/// A real-crate scenario as a harness subject.
pub struct RealSubject {
    scenario: RealScenario,
    expect: Vec<Expectation>,
    explored: Explorations,
}

impl RealSubject {
    /// `scenario`, not explored yet.
    pub fn new(scenario: RealScenario) -> Self {
        RealSubject {
            expect: vec![Expectation::all(VARIANT, &scenario.expect)],
            scenario,
            explored: Mutex::default(),
        }
    }

    /// The scenario.
    pub fn scenario(&self) -> &RealScenario {
        &self.scenario
    }

    /// The exploration with `spec` (random or pct): run the first time it is asked for, by
    /// whichever trial asks first, and shared with every later one.
    pub fn explore(&self, spec: &SchedulerSpec) -> Result<RealRun, String> {
        let cell = self
            .explored
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .entry(format!("{spec:?}"))
            .or_default()
            .clone();
        cell.get_or_init(|| {
            let _quiet = stderr::silence();
            run(&self.scenario, spec, WATCHDOG).map_err(|e| e.to_string())
        })
        .clone()
    }

    fn run_scheduler(&self, t: &Trial, spec: &SchedulerSpec) -> TrialResult {
        match self.explore(spec) {
            Ok(run) => {
                let mut r = crate::judge(&self.scenario, spec, &run);
                r.outcomes = Some(run.render_outcomes());
                r
            }
            Err(e) => TrialResult::of(t, INPUT_ERROR, e),
        }
    }

    /// The differential check: every budget of the file explored (once), the mirrored model
    /// scenario run, and their outcome classes compared both ways.
    fn run_differential(&self, t: &Trial) -> TrialResult {
        let runs: Result<Vec<RealRun>, String> = self
            .scenario
            .schedulers
            .iter()
            .map(|b| self.explore(b))
            .collect();
        let mut r = TrialResult::of(t, "pass", String::new());
        let result = match (runs, run_model_side(&self.scenario)) {
            (Err(e), _) => Err(e),
            (_, Err(e)) => Err(e.to_string()),
            (_, Ok(None)) => Err("the scenario has no [differential] table".to_owned()),
            (Ok(runs), Ok(Some(model))) => {
                // The model side's exploration; the real trials are counted on their own rows.
                r.executions = model.executions;
                r.elapsed = model.elapsed;
                let refs: Vec<&RealRun> = runs.iter().collect();
                differential(&self.scenario, &refs, &model)
            }
        };
        r.ok = result.is_ok();
        if !r.ok {
            r.verdict = DIFFERENTIAL.to_owned();
        }
        let (Ok(words) | Err(words)) = result;
        r.judgement = words;
        r
    }
}

impl FamilyScenario for RealSubject {
    fn about(&self) -> &About {
        &self.scenario.about
    }

    fn expect(&self) -> &[Expectation] {
        &self.expect
    }

    fn variant_links(&self) -> Vec<(String, String)> {
        vec![(VARIANT.to_owned(), CRATE_VERSIONS.to_owned())]
    }

    fn schedulers(&self) -> &[SchedulerSpec] {
        &self.scenario.schedulers
    }

    fn checks(&self) -> Vec<&'static str> {
        match self.scenario.differential {
            Some(_) => vec![DIFFERENTIAL],
            None => Vec::new(),
        }
    }

    fn check_variant(&self, variant: &str) -> Result<(), UsageError> {
        if variant == VARIANT {
            return Ok(());
        }
        Err(UsageError::new(
            format!(
                "unknown variant `{variant}`: a real-crate scenario has one variant, `{VARIANT}`"
            ),
            Some(format!(
                "the crate versions in Cargo.lock; pass --variant {VARIANT} or omit it"
            )),
        ))
    }

    fn check_scheduler(&self, name: &str) -> Result<(), UsageError> {
        if SCHEDULERS.contains(&name) {
            return Ok(());
        }
        Err(UsageError::new(
            format!("unknown scheduler `{name}` for a real-crate scenario"),
            Some(format!(
                "{} (real crates run under shuttle's random and pct only)",
                hint_for(name, SCHEDULERS.iter().copied())
            )),
        ))
    }

    fn is_verdict(&self, verdict: &str) -> bool {
        verdict == "pass"
            || self.scenario.invariants.iter().any(|i| i == verdict)
            || OutcomeClass::from_name(verdict).is_some_and(|c| c != OutcomeClass::Hung)
    }

    /// The real crates' runner has its own watchdog and no deadline: `--max-seconds` stops
    /// them between trials, not within one.
    fn run(&self, t: &Trial, _bounds: Bounds) -> TrialResult {
        match &t.method {
            Method::Scheduler(spec) => self.run_scheduler(t, spec),
            Method::Check(DIFFERENTIAL) => self.run_differential(t),
            Method::Check(other) => TrialResult::of(
                t,
                INPUT_ERROR,
                format!("no check `{other}` for real crates"),
            ),
        }
    }

    fn replay(&self, c: &Counterexample) -> Result<Replayed, UsageError> {
        let sc = &self.scenario;
        if c.model != sc.model.name() || !SCHEDULERS.contains(&c.scheduler.as_str()) {
            return Err(UsageError::new(
                format!(
                    "the report says model `{}` under `{}`, but `{}` runs `{}` under {}",
                    c.model,
                    c.scheduler,
                    sc.about.name,
                    sc.model.name(),
                    SCHEDULERS.join(" or ")
                ),
                Some("replay the report as `run` or `gate` wrote it".to_owned()),
            ));
        }
        let schedule = c.schedule.as_deref().ok_or_else(|| {
            UsageError::new(
                format!("the report of `{}` has no schedule to replay", c.scenario),
                None,
            )
        })?;
        crate::decode_case_schedule(schedule).map_err(|e| {
            UsageError::new(
                format!("its schedule does not parse: {e}"),
                Some("replay the report as `run` or `gate` wrote it".to_owned()),
            )
        })?;
        let run = replay(sc, schedule).map_err(|e: Error| {
            UsageError::new(
                format!(
                    "the report's schedule does not fit `{}`: {}",
                    sc.about.name, e.message
                ),
                Some("rerun the scenario to write a fresh report".to_owned()),
            )
        })?;
        if let Some(d) = run
            .detail
            .as_deref()
            .filter(|d| d.contains("schedule diverged"))
        {
            return Err(UsageError::new(
                format!(
                    "the report's schedule does not fit `{}`: {d}",
                    sc.about.name
                ),
                Some("rerun the scenario to write a fresh report".to_owned()),
            ));
        }
        Ok(Replayed {
            trace: Some(wire_trace(&run)),
            verdict: run.verdict,
            detail: run.detail,
            trace_name: "wire",
        })
    }

    fn describe(&self) -> String {
        let sc = &self.scenario;
        format!(
            "[real crate {}, {} case(s)] {}",
            sc.model.name(),
            sc.cases.len(),
            sc.about.description
        )
    }
}
