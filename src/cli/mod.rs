//! Command-line arguments (clap derive) and dispatch. Arguments are parsed into these low-level
//! structs, then each command validates them against the scenario files (unknown names are
//! errors that list the close matches) before anything runs.

mod bless;
mod diagnostic;
mod exec;
mod gate;
mod generate;
mod index;
mod list;
mod matrix;
mod merge;
mod output;
mod replay;
mod run;
mod scenarios;
mod shard;

use clap::{Parser, Subcommand, ValueEnum};
use poolcheck_harness::scenario::Family;
use std::path::PathBuf;
use std::process::ExitCode;

/// The scenario families this binary links besides the models, handed to every load: files
/// whose `model` is `h2`, `hyper` or `hyper-util` are the real crates'.
const FAMILIES: &[&dyn Family] = &[&poolcheck_realstack::RealCrates];

/// Deterministic concurrency model checker for connection pools and the HTTP/2 connection
/// lifecycle.
#[derive(Parser, Debug)]
#[command(name = "poolcheck", version, about, long_about = None)]
pub struct Cli {
    /// Folder of scenario files (`*.toml`) [default: scenarios]
    #[arg(long, global = true, value_name = "DIR")]
    scenarios: Option<PathBuf>,
    /// Folder reports are written to.
    #[arg(long, global = true, value_name = "DIR", default_value = "reports")]
    reports: PathBuf,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Scenarios (with model and description), models, variants (with upstream links),
    /// invariants (with their definitions) and schedulers.
    List,
    /// Explore one scenario: every variant x scheduler of its file, or the ones you name.
    Run(RunArgs),
    /// Rerun the exact failing execution of a JSON report and print its interleaving.
    Replay(ReplayArgs),
    /// Every scenario x variant x scheduler (and pinned schedule): a verdict matrix (or one row
    /// per trial), reports and their index, and exit code 0 only when every trial is as expected.
    Gate(GateArgs),
    /// Combine the `--format json` outputs of sharded runs into one judgement per trial: a bug
    /// is caught when any shard caught it, a pass needs every shard to pass.
    Merge(MergeArgs),
    /// Run the trials that have no expectation (with --changed, every selected trial) and
    /// write the verdicts they gave into their scenario files' `[expect]`, showing the diff
    /// first; nothing is written without --write.
    Bless(BlessArgs),
    /// Search random operation scripts for one that catches a buggy variant while `fixed`
    /// passes; shrink it and write it as a scenario file with every variant's verdict.
    Generate(GenerateArgs),
}

/// `poolcheck run`.
#[derive(clap::Args, Debug)]
struct RunArgs {
    /// The scenario's name (its file stem) or the path of its file.
    scenario: String,
    /// Only this variant (default: every variant of the model).
    #[arg(long)]
    variant: Option<String>,
    /// Only this scheduler: loom, random, pct, dfs or std (default: every scheduler of the file).
    #[arg(long)]
    scheduler: Option<String>,
    /// Seed for random and pct.
    #[arg(long)]
    seed: Option<u64>,
    /// Executions for random, pct, std; the execution limit for dfs.
    #[arg(long)]
    iterations: Option<u64>,
    /// Preemption bound for loom.
    #[arg(long)]
    preemption_bound: Option<usize>,
    /// Run shard K of N (0 <= K < N): random/pct shard K explores seed+K with its share of the
    /// iterations, std its share of the iterations, loom/dfs/pinned run on shard 0 only.
    #[arg(long, value_name = "K/N")]
    shard: Option<shard::Shard>,
    /// Worker threads.
    #[arg(long, default_value_t = 2)]
    jobs: usize,
    /// Print one row per trial (scenario, variant, scheduler, expected, verdict, ...) instead of
    /// the verdict matrix.
    #[arg(long)]
    rows: bool,
    /// After each dpor trial, print where its races were: per object (lock, condition
    /// variable, `Plain` cell, ghost object), the races found and the backtrack points they
    /// added, most first (why a scenario needs many executions).
    #[arg(long)]
    races: bool,
    /// Stop after this many seconds overall (1 to 604800): trials still running stop with
    /// `bound-hit`, trials not started are reported as `bound-hit`, and the exit code is 1.
    #[arg(long, value_name = "N", value_parser = max_seconds)]
    max_seconds: Option<u64>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    format: Format,
}

/// `--max-seconds`: 1 second to a week.
fn max_seconds(s: &str) -> Result<u64, String> {
    match s.parse::<u64>() {
        Ok(n) if (1..=604_800).contains(&n) => Ok(n),
        _ => Err(format!(
            "`{s}` is not a number of seconds between 1 and 604800"
        )),
    }
}

/// `poolcheck replay`.
#[derive(clap::Args, Debug)]
struct ReplayArgs {
    /// A JSON report written by `run` or `gate` (`reports/<scenario>/<variant>.<scheduler>.json`).
    report: PathBuf,
}

/// `poolcheck gate`.
#[derive(clap::Args, Debug)]
struct GateArgs {
    /// Only trials whose `scenario/variant/scheduler` contains this (underscores match dashes).
    filter: Option<String>,
    /// Worker threads.
    #[arg(long, default_value_t = 2)]
    jobs: usize,
    /// Print one row per trial (scenario, variant, scheduler, expected, verdict, ...) instead of
    /// the verdict matrix.
    #[arg(long)]
    rows: bool,
    /// Stop after this many seconds overall (1 to 604800): trials still running stop with
    /// `bound-hit`, trials not started are reported as `bound-hit`, and the exit code is 1.
    #[arg(long, value_name = "N", value_parser = max_seconds)]
    max_seconds: Option<u64>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    format: Format,
}

/// `poolcheck bless`.
#[derive(clap::Args, Debug)]
struct BlessArgs {
    /// Only trials whose `scenario/variant/scheduler` contains this (underscores match dashes).
    filter: Option<String>,
    /// Also rewrite expectations that a trial did not meet (its verdict changed).
    #[arg(long)]
    changed: bool,
    /// Write the files (without it: print the diff only, and exit 1 if a file would change).
    #[arg(long)]
    write: bool,
    /// Worker threads.
    #[arg(long, default_value_t = 2)]
    jobs: usize,
    /// Stop after this many seconds overall (1 to 604800); what did not finish is not written.
    #[arg(long, value_name = "N", value_parser = max_seconds)]
    max_seconds: Option<u64>,
}

/// `poolcheck merge`.
#[derive(clap::Args, Debug)]
struct MergeArgs {
    /// Outputs of `run --format json` or `gate --format json` (one per shard).
    #[arg(required = true)]
    outputs: Vec<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    format: Format,
}

/// `poolcheck generate`.
#[derive(clap::Args, Debug)]
struct GenerateArgs {
    /// The model (`poolcheck list` names them).
    model: String,
    /// The buggy variant the scenario must catch.
    #[arg(long)]
    variant: String,
    /// Invariants to check, comma-separated [default: every invariant].
    #[arg(long)]
    invariants: Option<String>,
    /// A model configuration key, `key=value` (repeatable).
    #[arg(long, value_name = "KEY=VALUE")]
    config: Vec<String>,
    /// Actors per candidate script.
    #[arg(long, default_value_t = 3)]
    actors: usize,
    /// Operations per actor at most.
    #[arg(long, default_value_t = 4)]
    max_ops: usize,
    /// Candidate scripts to try.
    #[arg(long, default_value_t = 300)]
    tries: u64,
    /// Seed of the generator and of PCT.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// PCT executions per candidate (and the written file's budget).
    #[arg(long, default_value_t = 300)]
    iterations: u64,
    /// Scheduling steps per execution at most.
    #[arg(long, default_value_t = 2_000)]
    step_bound: u64,
    /// Write the scenario here (its name is the file stem) instead of to stdout.
    #[arg(long, value_name = "FILE")]
    out: Option<PathBuf>,
}

/// How results are printed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum Format {
    /// Tables and interleavings for a person.
    Text,
    /// One JSON object on stdout.
    Json,
}

/// What the process exits with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Outcome {
    /// Every trial as expected.
    AsExpected,
    /// Some trial not as expected.
    NotAsExpected,
    /// Some trial could not run as its input is (already reported, located): exit 2.
    InputError,
}

impl Cli {
    /// The scenario folder: `--scenarios`, or `scenarios/`.
    fn scenario_dir(&self) -> PathBuf {
        self.scenarios.clone().unwrap_or_else(|| "scenarios".into())
    }
}

/// Parse, dispatch, map the result to an exit code (clap's own usage errors exit 2 too).
pub fn main() -> ExitCode {
    let cli = Cli::try_parse().unwrap_or_else(|e| e.exit());
    let result = match cli.command {
        Command::List => list::list(&cli.scenario_dir()),
        Command::Run(ref a) => run::run(&cli, a),
        Command::Replay(ref a) => replay::replay(&cli, a),
        Command::Gate(ref a) => gate::gate(&cli, a),
        Command::Merge(ref a) => merge::merge(a),
        Command::Bless(ref a) => bless::bless(&cli, a),
        Command::Generate(ref a) => generate::generate(a),
    };
    match result {
        Ok(Outcome::AsExpected) => ExitCode::SUCCESS,
        Ok(Outcome::NotAsExpected) => ExitCode::from(1),
        Ok(Outcome::InputError) => ExitCode::from(2),
        Err(e) => {
            e.print();
            ExitCode::from(2)
        }
    }
}
