//! Bad input never crashes, never exhausts memory or time, and is never blamed on the model:
//! one regression test per item of issue 15, each feeding the exact input the issue names to the
//! binary and checking for a located error with exit code 2 (or, for time, a `bound-hit`).

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// A small checkout-pool scenario; `EXTRA` lines go before `[schedulers.pct]`, `SCHED` after it.
const BASE: &str = r#"version = 1
name = "NAME"
model = "checkout-pool"
description = "a scenario"
invariants = ["no-leak", "request-answered"]
EXTRA
[[actors]]
name = "A"
ops = ["checkout", "checkin"]

[[actors]]
name = "B"
ops = ["checkout", "checkin"]

[schedulers.pct]
depth = 3
iterations = 20
seed = 1
SCHED
[expect]
"*" = "pass"
PINNED
"#;

fn scenario(name: &str, extra: &str, sched: &str, pinned: &str) -> String {
    BASE.replace("NAME", name)
        .replace("EXTRA", extra)
        .replace("SCHED", sched)
        .replace("PINNED", pinned)
}

fn pinned(schedule: &str) -> String {
    format!("\n[[pinned]]\nvariant = \"fixed\"\nschedule = \"{schedule}\"\nexpect = \"pass\"\n")
}

/// A fresh folder with `scenarios/` in it; removed when the test passes.
struct Work(PathBuf);

impl Work {
    fn new(test: &str) -> Self {
        let dir = std::env::temp_dir().join(format!("poolcheck-bad-{}-{test}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("scenarios")).unwrap();
        Work(dir)
    }

    fn write(&self, name: &str, text: impl AsRef<[u8]>) -> PathBuf {
        let path = self.0.join("scenarios").join(format!("{name}.toml"));
        std::fs::write(&path, text).unwrap();
        path
    }

    fn run(&self, args: &[&str]) -> Output {
        Command::new(env!("CARGO_BIN_EXE_poolcheck"))
            .args(args)
            .current_dir(&self.0)
            .output()
            .expect("the poolcheck binary runs")
    }
}

impl Drop for Work {
    fn drop(&mut self) {
        if !std::thread::panicking() {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }
}

fn repo(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(path)
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// Does `text` name a place `<file>.toml:<line>:<col>` or `<file>.json:<line>:<col>`?
fn located(text: &str) -> bool {
    [".toml:", ".json:"].iter().any(|ext| {
        text.match_indices(ext).any(|(i, m)| {
            let rest = &text[i + m.len()..];
            let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
            digits > 0 && rest[digits..].starts_with(':')
        })
    })
}

/// Exit code 2 (so not a model verdict, which exits 1), no panic, and (when `at` is true) a
/// place in the file.
#[track_caller]
fn input_error(o: &Output, at: bool, says: &str) {
    let err = stderr(o);
    assert_eq!(
        o.status.code(),
        Some(2),
        "stdout:\n{}\nstderr:\n{err}",
        stdout(o)
    );
    assert!(!err.contains("panicked"), "{err}");
    assert!(!at || located(&err), "not located:\n{err}");
    assert!(err.contains(says), "expected `{says}` in:\n{err}");
}

/// Load (and for `run`, explore) `text` as scenario `name`: a located input error expected.
#[track_caller]
fn refused(test: &str, name: &str, text: &str, says: &str) {
    let w = Work::new(test);
    w.write(name, text);
    input_error(&w.run(&["run", name]), true, says);
}

// Issue 15, item 1: repeat counts were expanded before anything was checked.
#[test]
fn item_1_huge_repeat_counts_in_a_pinned_schedule() {
    for (i, s) in [
        "pc1:t0*18446744073709551615",
        "pc1:t0*4294967296",
        "pc1:t0*100000000",
    ]
    .iter()
    .enumerate()
    {
        let text = scenario("x", "", "", &pinned(s));
        refused(&format!("1-{i}"), "x", &text, "repeat count");
    }
}

// Issue 15, item 1: replaying `t0*1000000000` reached 9.4 GB.
#[test]
fn item_1_huge_repeat_counts_in_a_replayed_report() {
    let w = Work::new("1-replay");
    let report = example_report().replace(&example_schedule(), "pc1:t0*1000000000");
    let path = w.0.join("r.json");
    std::fs::write(&path, report).unwrap();
    let scenarios = repo("scenarios");
    let o = w.run(&[
        "--scenarios",
        scenarios.to_str().unwrap(),
        "replay",
        "r.json",
    ]);
    input_error(&o, false, "repeat count");
}

// Issue 15, item 2: an actor name of 65,536 characters panicked in trace.rs.
#[test]
fn item_2_a_huge_actor_name_is_a_located_error() {
    let text = scenario("x", "", "", "").replacen(
        "name = \"A\"",
        &format!("name = \"{}\"", "a".repeat(65_536)),
        1,
    );
    refused("2", "x", &text, "1 to 32 characters");
}

/// The shipped real-crate scenario with `edit` applied, as `real-goaway-vs-request.toml`.
fn real(edit: impl Fn(&str) -> String) -> String {
    let text = std::fs::read_to_string(repo("scenarios/real-goaway-vs-request.toml")).unwrap();
    let edited = edit(&text);
    assert_ne!(edited, text, "the edit must apply");
    edited
}

// Issue 15, item 3: a real-crate request body was not bounded (2^63-1 aborted).
#[test]
fn item_3_a_real_request_body_is_bounded() {
    for (i, body) in ["9223372036854775807", "100000000000", "4294967296"]
        .iter()
        .enumerate()
    {
        let text = real(|t| t.replacen("name = \"A\"", &format!("name = \"A\"\nbody = {body}"), 1));
        refused(
            &format!("3-{i}"),
            "real-goaway-vs-request",
            &text,
            "`body` is",
        );
    }
}

// Issue 15, item 4: `depth = 0` made shuttle assert `max_depth > 0`.
#[test]
fn item_4_pct_depth_0_is_refused() {
    let text = scenario("x", "", "", "").replace("depth = 3", "depth = 0");
    refused("4-model", "x", &text, "`depth` is 0");
    let text = real(|t| t.replacen("depth = 3", "depth = 0", 1));
    refused("4-real", "real-goaway-vs-request", &text, "`depth` is 0");
}

// Issue 15, item 5, the exact input: `step_bound = 9223372036854775807` and 150,000
// checkout/checkin pairs in one actor are refused before anything runs (the step bound's range,
// the file's size limit).
#[test]
fn item_5_the_runaway_scenario_is_refused_at_load_time() {
    let text = scenario("x", "step_bound = 9223372036854775807", "", "");
    refused("5-bound", "x", &text, "`step_bound` is 9223372036854775807");
    let pairs = vec!["\"checkout\", \"checkin\""; 150_000].join(", ");
    let text = scenario("x", "", "", "").replacen(
        "ops = [\"checkout\", \"checkin\"]",
        &format!("ops = [{pairs}]"),
        1,
    );
    let w = Work::new("5-size");
    w.write("x", text);
    input_error(&w.run(&["run", "x"]), false, "at most 1048576 are read");
    let pairs = vec!["\"checkout\", \"checkin\""; 501].join(", ");
    let text = scenario("x", "", "", "").replacen(
        "ops = [\"checkout\", \"checkin\"]",
        &format!("ops = [{pairs}]"),
        1,
    );
    refused("5-ops", "x", &text, "at most 1000");
}

// Issue 15, item 5: the wall bound was checked only between executions, and nothing capped a
// whole run: one execution of a huge script ran past 400 s.
#[test]
fn item_5_max_seconds_stops_inside_an_execution() {
    let w = Work::new("5");
    let ops = vec!["\"checkout\", \"checkin\""; 500].join(", ");
    let actors: String = (0..16)
        .map(|i| format!("[[actors]]\nname = \"w{i}\"\nops = [{ops}]\n\n"))
        .collect();
    let text = format!(
        "version = 1\nname = \"big\"\nmodel = \"checkout-pool\"\ndescription = \"x\"\n\
         invariants = [\"no-leak\"]\nstep_bound = 1000000\n{actors}\
         [schedulers.pct]\ndepth = 3\niterations = 10000000\nseed = 1\n[expect]\n\"*\" = \"pass\"\n"
    );
    w.write("big", text);
    let o = w.run(&["run", "big", "--variant", "fixed", "--max-seconds", "1"]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(stdout(&o).contains("bound-hit"), "{}", stdout(&o));
    let o = w.run(&["gate", "--max-seconds", "1", "--rows"]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(
        stdout(&o).contains("budget ran out before this trial started"),
        "{}",
        stdout(&o)
    );
}

// Issue 15, item 6: `preemption_bound` 256 became `model-panic: TryFromIntError`.
#[test]
fn item_6_preemption_bound_256_is_refused_in_files_and_flags() {
    let loom = "[schedulers.loom]\npreemption_bound = 256\n";
    let text = scenario("x", "", loom, "");
    refused("6-file", "x", &text, "`preemption_bound` is 256");
    let w = Work::new("6-flag");
    w.write("x", scenario("x", "", "", ""));
    let o = w.run(&[
        "run",
        "x",
        "--scheduler",
        "loom",
        "--preemption-bound",
        "256",
    ]);
    input_error(&o, false, "--preemption-bound");
}

// Issue 15, item 7: malformed pinned schedules were `model-panic` with exit 1.
#[test]
fn item_7_malformed_pinned_schedules_are_located_errors() {
    for (i, (s, says)) in [
        ("pc1:", "empty"),
        ("pc2:t0", "unsupported schedule version"),
        ("pc1:zz,,*", "zz"),
        ("pc1:t0*0", "between 1 and"),
        ("pc1:t9", "schedule diverged"),
    ]
    .iter()
    .enumerate()
    {
        let text = scenario("x", "", "", &pinned(s));
        refused(&format!("7-{i}"), "x", &text, says);
    }
}

// Issue 15, item 7: the same schedules, replayed from a report.
#[test]
fn item_7_malformed_replayed_schedules_exit_2() {
    let w = Work::new("7-replay");
    let scenarios = repo("scenarios");
    for s in ["pc1:", "pc2:t0", "pc1:zz,,*", "pc1:t9", "pc1:t0*0"] {
        let report = example_report().replace(&example_schedule(), s);
        std::fs::write(w.0.join("r.json"), report).unwrap();
        let o = w.run(&[
            "--scenarios",
            scenarios.to_str().unwrap(),
            "replay",
            "r.json",
        ]);
        input_error(&o, false, "");
    }
}

// Issue 15, item 8: go-h2 took `actors = []`, checkout-pool 200 actors under loom.
#[test]
fn item_8_actor_counts_are_checked_alike_for_every_model() {
    for model in ["httpcore", "go-h2", "asyncio-lifecycle", "checkout-pool"] {
        let text = format!(
            "version = 1\nname = \"x\"\nmodel = \"{model}\"\ndescription = \"x\"\n\
             invariants = [\"no-leak\"]\nactors = []\n[schedulers.pct]\ndepth = 3\n\
             iterations = 5\nseed = 1\n[expect]\n\"*\" = \"pass\"\n"
        );
        refused(&format!("8-none-{model}"), "x", &text, "0 actors");
        let five = (0..5)
            .map(|i| format!("{{ name = \"a{i}\", ops = [\"await\"] }}"))
            .collect::<Vec<_>>()
            .join(", ");
        let text = text
            .replace("actors = []", &format!("actors = [{five}]"))
            .replace(
                "[expect]",
                "[schedulers.loom]\npreemption_bound = 2\n[expect]",
            );
        refused(
            &format!("8-loom-{model}"),
            "x",
            &text,
            "loom runs at most 4",
        );
    }
    let many: String = (0..200)
        .map(|i| format!("[[actors]]\nname = \"a{i}\"\nops = [\"checkout\"]\n"))
        .collect();
    let text = scenario("x", "", "", "").replacen("[[actors]]", &format!("{many}[[actors]]"), 1);
    refused("8-200", "x", &text, "202 actors");
}

// Issue 15, item 9: `host = " "` was blamed on the real crates as subject-panic.
#[test]
fn item_9_a_blank_real_host_is_a_located_error() {
    let text = real(|t| t.replacen("host = \"a\"", "host = \" \"", 1));
    refused("9", "real-goaway-vs-request", &text, "not a host name");
}

// Issue 15, item 10: a FIFO hung `list` and `gate`; a link to /dev/urandom was read without
// bound; `replay` of /dev/zero grew to 8.5 GB and of a FIFO hung.
#[cfg(unix)]
#[test]
fn item_10_only_regular_files_are_read() {
    let w = Work::new("10");
    let fifo = w.0.join("scenarios/x.toml");
    let made = Command::new("mkfifo").arg(&fifo).status();
    if made.is_ok_and(|s| s.success()) {
        input_error(&w.run(&["list"]), false, "FIFO");
        input_error(&w.run(&["gate"]), false, "FIFO");
        input_error(&w.run(&["replay", "scenarios/x.toml"]), false, "FIFO");
        std::fs::remove_file(&fifo).unwrap();
    }
    std::os::unix::fs::symlink("/dev/urandom", &fifo).unwrap();
    input_error(&w.run(&["list"]), false, "device");
    input_error(&w.run(&["replay", "/dev/zero"]), false, "device");
    std::fs::remove_file(&fifo).unwrap();
    w.write("x", vec![b'#'; 2 << 20]);
    input_error(&w.run(&["list"]), false, "at most");
}

// Issue 15, item 11: meaningless values were accepted (a vacuous pass, nothing to run).
#[test]
fn item_11_meaningless_values_are_refused() {
    for (i, v) in ["0", "-1", "-9223372036854775808"].iter().enumerate() {
        let text = scenario("x", &format!("[config]\nmax_size = {v}\n"), "", "");
        refused(&format!("11-size-{i}"), "x", &text, "between 1 and");
    }
    let text = scenario("x", "", "", "").replace("iterations = 20", "iterations = 0");
    refused("11-iterations", "x", &text, "`iterations` is 0");
    let text = real(|t| {
        let (head, tail) = t.split_once("[schedulers.random]").unwrap();
        let rest = tail.split_once("[expect]").unwrap().1;
        format!("{head}[schedulers]\n\n[expect]{rest}")
    });
    refused(
        "11-real-schedulers",
        "real-goaway-vs-request",
        &text,
        "no scheduler listed",
    );
    for (i, name) in ["..", "--help", "a\\nb", "a\\u001bb"].iter().enumerate() {
        let text =
            scenario("x", "", "", "").replacen("name = \"x\"", &format!("name = \"{name}\""), 1);
        refused(&format!("11-name-{i}"), "x", &text, "kebab-case");
    }
    for (i, name) in ["", "\\u0007", "a b"].iter().enumerate() {
        let text =
            scenario("x", "", "", "").replacen("name = \"A\"", &format!("name = \"{name}\""), 1);
        refused(&format!("11-actor-{i}"), "x", &text, "actor name");
    }
}

// Issue 15, item 12: invalid UTF-8 and model range checks named no line or column.
#[test]
fn item_12_every_error_has_a_location() {
    let w = Work::new("12-utf8");
    let mut bytes = scenario("x", "", "", "").into_bytes();
    bytes.splice(5..5, [0xff, 0xfe]);
    w.write("x", bytes);
    input_error(&w.run(&["run", "x"]), true, "not valid UTF-8");
    let text = std::fs::read_to_string(repo("scenarios/pool-connect-failure.toml")).unwrap();
    let with_config = text.replacen("max_connections = 1", "max_connections = 0", 1);
    assert_ne!(with_config, text);
    refused(
        "12-range",
        "pool-connect-failure",
        &with_config,
        "`max_connections` is 0",
    );
}

fn example_report() -> String {
    let path = "reports/examples/last-stream-close-vs-new-stream-open/httpcore-1062.pct.json";
    std::fs::read_to_string(repo(path)).unwrap()
}

/// The example report's schedule (`pc1:...`), read from the report so that re-recording the
/// example does not break the tests that edit it.
fn example_schedule() -> String {
    let report = example_report();
    let at = report.find("\"schedule\": \"").expect("a schedule") + "\"schedule\": \"".len();
    let len = report[at..].find('"').expect("a closing quote");
    report[at..at + len].to_owned()
}

// Issue 15, item 13: an edited model, scheduler or preemption bound still "reproduced", and a
// string version got the misleading "no `version` field".
#[test]
fn item_13_replay_checks_what_the_report_says() {
    let w = Work::new("13");
    let scenarios = repo("scenarios");
    let replay = |report: String| {
        std::fs::write(w.0.join("r.json"), report).unwrap();
        w.run(&[
            "--scenarios",
            scenarios.to_str().unwrap(),
            "replay",
            "r.json",
        ])
    };
    let good = example_report();
    assert_eq!(
        replay(good.clone()).status.code(),
        Some(0),
        "the example replays"
    );
    let edits = [
        ("\"model\": \"httpcore\"", "\"model\": \"go-h2\"", "model"),
        (
            "\"scheduler\": \"pct\"",
            "\"scheduler\": \"loom\"",
            "scheduler",
        ),
        (
            "\"preemption_bound\": null",
            "\"preemption_bound\": 3",
            "preemption bound",
        ),
        ("\"version\": 1", "\"version\": \"1\"", "must be an integer"),
    ];
    for (from, to, says) in edits {
        assert!(good.contains(from), "{from}");
        let o = replay(good.replacen(from, to, 1));
        input_error(&o, says == "must be an integer", says);
    }
    let o = replay(good.replacen("\"version\": 1", "\"version\": 1,,", 1));
    input_error(&o, true, "not JSON");
}

// Issue 15, items 11 and 12, for `generate`: a file it writes must load, so it refuses what the
// loader would (a non-kebab-case name, an out-of-range configuration value or budget).
#[test]
fn generate_refuses_what_the_loader_would() {
    let w = Work::new("generate");
    for args in [
        &[
            "generate",
            "checkout-pool",
            "--variant",
            "cancel-leaks-slot",
            "--config",
            "max_size=0",
        ][..],
        &[
            "generate",
            "checkout-pool",
            "--variant",
            "cancel-leaks-slot",
            "--out",
            "Bad.toml",
        ],
        &[
            "generate",
            "checkout-pool",
            "--variant",
            "cancel-leaks-slot",
            "--actors",
            "17",
        ],
        &[
            "generate",
            "checkout-pool",
            "--variant",
            "cancel-leaks-slot",
            "--iterations",
            "0",
        ],
    ] {
        input_error(&w.run(args), false, "");
    }
}
