//! A seeded, bounded fuzz-style property test (issue 15): mutate the shipped scenario files and
//! the committed replay reports, and check that poolcheck never panics, aborts, hangs or grows
//! without bound, and that every outcome is either a located input error (exit 2) or a normal
//! verdict (exit 0 or 1, never `model-panic` or `harness-panic`).
//!
//! Three parts, all from one seed, so a failure names a case that reproduces exactly:
//! - [`LOAD_CASES`] mutated scenario files loaded in process (the loader is the front door);
//! - [`RUN_CASES`] of them run by the binary under `--max-seconds 1` and a 4 GiB memory limit;
//! - [`REPLAY_CASES`] mutated reports replayed by the binary under the same limits.
//!
//! The binary's cases have a watchdog (a hang is a failure, reported after 120 s); it is a
//! safety net, not a timing assertion: no case is expected anywhere near it.

use poolcheck_harness::scenario::load_file;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// The seed of every run; change it locally to explore other cases.
const SEED: u64 = 0x15_15_15;
/// Mutated scenario files loaded in process per run.
const LOAD_CASES: usize = 1_500;
/// Mutated scenario files run by the binary per run.
const RUN_CASES: usize = 6;
/// Mutated reports replayed by the binary per run.
const REPLAY_CASES: usize = 24;

/// xorshift64*: small, seeded, the same on every platform.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

const NUMBERS: &[&str] = &[
    "0",
    "-1",
    "1",
    "255",
    "256",
    "65536",
    "4294967296",
    "9223372036854775807",
    "-9223372036854775808",
    "100000000000",
    "1e9",
    "\"1\"",
];

const STRINGS: &[&str] = &[
    "",
    " ",
    "..",
    "--help",
    "a\\nb",
    "\\u001b[31m",
    "pc1:",
    "pc2:t0",
    "pc1:zz,,*",
    "pc1:t9",
    "pc1:t0*0",
    "pc1:t0*18446744073709551615",
    "pc1:t0*4294967296",
    "c@pc1:t0*100000000",
    "fixed",
    "pass",
    "loom",
    "go-h2",
    "upstream",
];

const LINES: &[&str] = &[
    "step_bound = 9223372036854775807",
    "step_bound = 0",
    "actors = []",
    "[schedulers.loom]\npreemption_bound = 300",
    "[schedulers.pct]\ndepth = 0\niterations = 0\nseed = 1",
    "[[pinned]]\nvariant = \"fixed\"\nschedule = \"pc1:t9\"\nexpect = \"pass\"",
    "[[pinned]]\nvariant = \"fixed\"\nschedule = \"pc1:t0*99999999\"\nexpect = \"pass\"",
    "[[actors]]\nname = \"\"\nops = [\"await\"]",
    "[config]\nmax_size = -1",
    "body = 9223372036854775807",
    "host = \" \"",
    "[schedulers]",
];

/// One to three mutations of `text`.
fn mutate(rng: &mut Rng, text: &[u8]) -> Vec<u8> {
    let mut out = text.to_vec();
    for _ in 0..=rng.below(3) {
        out = mutate_once(rng, &out);
    }
    out.truncate(1 << 20);
    out
}

fn mutate_once(rng: &mut Rng, t: &[u8]) -> Vec<u8> {
    let mut t = t.to_vec();
    let at = rng.below(t.len() + 1);
    match rng.below(8) {
        0 if !t.is_empty() => {
            let i = at.min(t.len() - 1);
            t[i] = rng.next() as u8;
        }
        1 => {
            let end = (at + 1 + rng.below(40)).min(t.len());
            t.drain(at..end);
        }
        2 => {
            let end = (at + 1 + rng.below(200)).min(t.len());
            let copy = t[at..end].to_vec();
            t.splice(at..at, copy);
        }
        3 => replace_token(rng, &mut t, |b| b.is_ascii_digit() || b == b'-', NUMBERS),
        4 => replace_string(rng, &mut t),
        5 => {
            let line = format!("\n{}\n", rng.pick(LINES));
            let at = t[..at]
                .iter()
                .rposition(|b| *b == b'\n')
                .map_or(0, |i| i + 1);
            t.splice(at..at, line.into_bytes());
        }
        6 => t.truncate(at),
        _ => replace_token(
            rng,
            &mut t,
            |b| b.is_ascii_alphanumeric() || b == b'-',
            STRINGS,
        ),
    }
    t
}

/// Replace the token (a run of `is_token` bytes) at a random place with one of `with`.
fn replace_token(rng: &mut Rng, t: &mut Vec<u8>, is_token: fn(u8) -> bool, with: &[&str]) {
    let starts: Vec<usize> = (0..t.len())
        .filter(|&i| is_token(t[i]) && (i == 0 || !is_token(t[i - 1])))
        .collect();
    if starts.is_empty() {
        return;
    }
    let start = *rng.pick(&starts);
    let end = start + t[start..].iter().take_while(|b| is_token(**b)).count();
    t.splice(start..end, rng.pick(with).bytes());
}

/// Replace the contents of a random `"..."` with an interesting string (sometimes a huge one).
fn replace_string(rng: &mut Rng, t: &mut Vec<u8>) {
    let quotes: Vec<usize> = (0..t.len()).filter(|&i| t[i] == b'"').collect();
    if quotes.len() < 2 {
        return;
    }
    let q = rng.below(quotes.len() / 2) * 2;
    let (open, close) = (quotes[q] + 1, quotes[q + 1]);
    let with = if rng.below(10) == 0 {
        "a".repeat(65_536 + rng.below(1000))
    } else {
        (*rng.pick(STRINGS)).to_owned()
    };
    t.splice(open..close, with.into_bytes());
}

fn repo(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(path)
}

/// The shipped scenario files, sorted: (stem, bytes).
fn corpus() -> Vec<(String, Vec<u8>)> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(repo("scenarios"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .collect();
    files.sort();
    files
        .iter()
        .map(|p| {
            let stem = p.file_stem().unwrap().to_string_lossy().into_owned();
            (stem, std::fs::read(p).unwrap())
        })
        .collect()
}

/// Load `path` the way the CLI does; `Err` names the problem when the outcome is wrong.
fn load_checked(path: &Path) -> Result<bool, String> {
    let outcome = catch_unwind(AssertUnwindSafe(|| {
        match load_file(path, &[&poolcheck_realstack::RealCrates]) {
            Ok(_) => Ok(true),
            Err(e) if e.line > 0 => Ok(false),
            Err(e) => Err(format!("error without a place: {e}")),
        }
    }));
    outcome.unwrap_or_else(|_| Err("the loader panicked".into()))
}

struct Ran {
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

/// Run the binary with a 4 GiB address-space limit and a hang watchdog.
fn run_bounded(dir: &Path, args: &[&str]) -> Ran {
    let mut child = Command::new("sh")
        .arg("-c")
        .arg("ulimit -v 4194304 2>/dev/null; exec \"$0\" \"$@\"")
        .arg(env!("CARGO_BIN_EXE_poolcheck"))
        .args(args)
        .current_dir(dir)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("sh runs");
    let (mut out, mut err) = (child.stdout.take().unwrap(), child.stderr.take().unwrap());
    let reader = std::thread::spawn(move || {
        let mut s = String::new();
        std::io::Read::read_to_string(&mut out, &mut s).ok();
        s
    });
    let err_reader = std::thread::spawn(move || {
        let mut s = String::new();
        std::io::Read::read_to_string(&mut err, &mut s).ok();
        s
    });
    let started = Instant::now();
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break Some(s);
        }
        if started.elapsed() > Duration::from_secs(120) {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    Ran {
        code: status.and_then(|s| s.code()),
        stdout: reader.join().unwrap_or_default(),
        stderr: err_reader.join().unwrap_or_default(),
    }
}

/// A normal verdict (0 or 1, no panic) or a located input error (2).
fn judge(r: &Ran) -> Result<(), String> {
    let panicked = ["panicked", "model-panic", "harness-panic", "subject-panic"]
        .iter()
        .find(|p| r.stdout.contains(*p) || r.stderr.contains(*p));
    match r.code {
        None => Err("killed: a signal (abort, out of memory) or the hang watchdog".into()),
        Some(_) if panicked.is_some() => Err(format!("a panic verdict: {}", panicked.unwrap())),
        Some(0 | 1) => Ok(()),
        Some(2) if located(&r.stderr) || whole_file(&r.stderr) => Ok(()),
        Some(2) => Err("exit 2 without a place".into()),
        Some(c) => Err(format!("exit code {c}")),
    }
}

/// `x.toml:12:3` or `x.json:1:9` somewhere in `text`.
fn located(text: &str) -> bool {
    [".toml:", ".json:"].iter().any(|ext| {
        text.match_indices(ext).any(|(i, m)| {
            let rest = &text[i + m.len()..];
            let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
            digits > 0 && rest[digits..].starts_with(':')
        })
    })
}

/// Input errors that concern a report or the file as a whole, not a place in it.
fn whole_file(text: &str) -> bool {
    [
        "does not replay",
        "does not parse",
        "the report's",
        "not a poolcheck report",
        "report format version",
        "a shuttle schedule",
        "a loom checkpoint",
        "a preemption bound",
        "preemption_bound",
        "has neither a schedule",
        "is not in the scenario",
        "unknown scenario",
        "no scenario file",
        "does not fit",
        "has no schedule",
        "report says model",
    ]
    .iter()
    .any(|s| text.contains(s))
}

#[test]
fn mutated_scenarios_and_reports_never_crash_and_are_never_blamed_on_the_model() {
    let mut rng = Rng(SEED);
    let corpus = corpus();
    let dir = std::env::temp_dir().join(format!("poolcheck-fuzz-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("scenarios")).unwrap();
    let mut failures = Vec::new();
    let mut runnable = Vec::new();
    let mut loaded = 0;
    let mut codes = Vec::new();
    for case in 0..LOAD_CASES {
        let (stem, text) = rng.pick(&corpus);
        let mutated = mutate(&mut rng, text);
        let path = dir.join("scenarios").join(format!("{stem}.toml"));
        std::fs::write(&path, &mutated).unwrap();
        match load_checked(&path) {
            Ok(true) if runnable.len() < RUN_CASES && rng.below(4) == 0 => {
                loaded += 1;
                runnable.push((case, stem.clone(), mutated));
            }
            Ok(true) => loaded += 1,
            Ok(false) => {}
            Err(e) => failures.push(format!("load case {case} ({stem}): {e}")),
        }
        std::fs::remove_file(&path).unwrap();
    }
    for (case, stem, text) in &runnable {
        let path = dir.join("scenarios").join(format!("{stem}.toml"));
        std::fs::write(&path, text).unwrap();
        let r = run_bounded(&dir, &["run", stem, "--max-seconds", "1", "--jobs", "1"]);
        codes.push(r.code.unwrap_or(-1));
        if let Err(e) = judge(&r) {
            failures.push(format!("run case {case} ({stem}): {e}\n{}", r.stderr));
        }
        std::fs::remove_file(&path).unwrap();
    }
    let reports = [
        "reports/examples/last-stream-close-vs-new-stream-open/httpcore-1062.pct.json",
        "reports/examples/real-goaway-vs-request/upstream.pct.json",
    ];
    let scenarios = repo("scenarios");
    for case in 0..REPLAY_CASES {
        let report: &&str = rng.pick(&reports);
        let text = std::fs::read(repo(report)).unwrap();
        std::fs::write(dir.join("r.json"), mutate(&mut rng, &text)).unwrap();
        let args = [
            "--scenarios",
            scenarios.to_str().unwrap(),
            "replay",
            "r.json",
        ];
        let r = run_bounded(&dir, &args);
        codes.push(r.code.unwrap_or(-1));
        if let Err(e) = judge(&r) {
            failures.push(format!("replay case {case}: {e}\n{}", r.stderr));
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
    eprintln!(
        "{LOAD_CASES} mutated scenarios ({loaded} loaded, the rest located errors), {} run, \
         {REPLAY_CASES} mutated reports replayed (codes {codes:?})",
        runnable.len()
    );
    assert!(
        failures.is_empty(),
        "{} failing case(s):\n{}",
        failures.len(),
        failures.join("\n")
    );
}
