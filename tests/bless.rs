//! `poolcheck bless` on copies of the shipped scenarios (issue 14, item 3: a scenario language
//! that grows). Variants are compiled into the models, so a test cannot add one; it does the
//! next closest thing: it takes each model's newest variant out of every copied file that names
//! it, as the files would be the day that variant was added, and checks that they all still
//! load with it unjudged, that `bless` shows the diff without writing, that `bless --write`
//! writes back what the shipped files say (and nothing else), and that the gate then judges
//! and passes it.

use poolcheck_harness::scenario::{load_dir, AnyScenario, Scenario};
use poolcheck_models::model;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// A fresh folder for one test; removed when the test passes (kept for a look when it fails).
struct Work(PathBuf);

impl Work {
    fn new(test: &str) -> Self {
        let dir =
            std::env::temp_dir().join(format!("poolcheck-bless-{}-{test}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("scenarios")).unwrap();
        Work(dir)
    }

    fn scenarios(&self) -> PathBuf {
        self.0.join("scenarios")
    }

    fn poolcheck(&self, args: &[&str]) -> Output {
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

fn shipped() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios")
}

fn models(dir: &Path) -> Vec<Scenario> {
    load_dir(dir, &[&poolcheck_realstack::RealCrates])
        .expect("the folder reads")
        .into_iter()
        .filter_map(|l| match l {
            Ok(AnyScenario::Model(s)) => Some((*s).clone()),
            Ok(AnyScenario::Family(_)) => None,
            Err(e) => panic!("every copy must load:\n{e}"),
        })
        .collect()
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// The newest (last registered) variant of `model`: the one a model gains next looks like.
fn newest(model_name: &str) -> &'static str {
    let info = model::find(model_name).unwrap().info();
    info.variants.last().unwrap().name
}

/// Copy every shipped file; in each that names its model's newest variant in `[expect]` and
/// has no `"*"`, drop that line. Returns `(file name, variant, the dropped line)` of each file edited.
fn copy_without_newest(to: &Path) -> Vec<(String, &'static str, String)> {
    let mut edited = Vec::new();
    let shipped_models = models(&shipped());
    for entry in std::fs::read_dir(shipped()).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_none_or(|x| x != "toml") {
            continue;
        }
        let name = path.file_name().unwrap().to_str().unwrap().to_owned();
        let mut text = std::fs::read_to_string(&path).unwrap();
        if let Some(s) = shipped_models.iter().find(|s| s.path == path) {
            let v = newest(s.model.info().name);
            let prefix = format!("{v} = ");
            let star = text.lines().any(|l| l.starts_with("\"*\" = "));
            let named = text
                .lines()
                .find(|l| l.starts_with(&prefix))
                .map(str::to_owned);
            // A file with `"*"` judges a new variant by it: only the others leave it unjudged.
            if let Some(line) = named.filter(|_| !star) {
                text = text.replacen(&format!("{line}\n"), "", 1);
                edited.push((name.clone(), v, line));
            }
        }
        std::fs::write(to.join(&name), text).unwrap();
    }
    edited.sort();
    edited
}

#[test]
fn a_variant_missing_from_every_file_loads_unjudged_and_bless_writes_it_back() {
    let work = Work::new("newest");
    let edited = copy_without_newest(&work.scenarios());
    assert!(
        edited.len() >= 10,
        "most files name their variants: {edited:?}"
    );
    let before = models(&work.scenarios());
    for (file, variant, _) in &edited {
        let s = before.iter().find(|s| s.path.ends_with(file)).unwrap();
        for spec in &s.schedulers {
            assert_eq!(s.expected(variant, spec.name()), None, "{file}: {variant}");
        }
    }

    let copy_text = |file: &str| std::fs::read_to_string(work.scenarios().join(file)).unwrap();
    let copies: Vec<String> = edited.iter().map(|(f, _, _)| copy_text(f)).collect();
    let dry = work.poolcheck(&["bless"]);
    assert_eq!(dry.status.code(), Some(1), "{}", text(&dry));
    let out = text(&dry);
    assert!(out.contains("pass --write to write them"), "{out}");
    for ((file, variant, _), copy) in edited.iter().zip(&copies) {
        assert!(
            out.contains(&format!("+++ b/scenarios/{file}")),
            "{file}\n{out}"
        );
        assert!(out.contains(&format!("\n+{variant} = ")), "{file}\n{out}");
        assert_eq!(&copy_text(file), copy, "a dry run writes nothing");
    }

    let wet = work.poolcheck(&["bless", "--write"]);
    assert_eq!(wet.status.code(), Some(0), "{}", text(&wet));
    assert!(
        text(&wet).contains(&format!("wrote {} scenario file(s)", edited.len())),
        "{}",
        text(&wet)
    );
    let originals = models(&shipped());
    let after = models(&work.scenarios());
    for ((file, variant, dropped), copy) in edited.iter().zip(&copies) {
        // Exactly one line was added to the file, and it judges what the shipped file judges.
        let blessed = copy_text(file);
        let added: Vec<&str> = blessed
            .lines()
            .filter(|l| !copy.lines().any(|c| c == *l))
            .collect();
        assert_eq!(added.len(), 1, "{file}: {added:?}");
        assert_eq!(
            blessed.replacen(&format!("{}\n", added[0]), "", 1),
            *copy,
            "{file}: bless keeps every other line, comments and layout"
        );
        let (old, new) = (
            originals.iter().find(|s| s.path.ends_with(file)).unwrap(),
            after.iter().find(|s| s.path.ends_with(file)).unwrap(),
        );
        for spec in &new.schedulers {
            let shipped = old.expected(variant, spec.name()).unwrap();
            let now = new
                .expected(variant, spec.name())
                .unwrap_or_else(|| panic!("{file}: {variant} under {} is judged", spec.name()));
            assert!(
                now.split('|').all(|i| shipped.split('|').any(|s| s == i)),
                "{file}: {variant}/{}: blessed {now}, shipped {dropped}",
                spec.name()
            );
        }
    }

    let again = work.poolcheck(&["bless"]);
    assert_eq!(again.status.code(), Some(0), "{}", text(&again));
    assert!(
        text(&again).contains("nothing to bless"),
        "{}",
        text(&again)
    );
    let variants: Vec<&str> = edited.iter().map(|(_, v, _)| *v).collect();
    let gate_on = variants
        .iter()
        .find(|v| **v == newest("checkout-pool"))
        .unwrap();
    let gate = work.poolcheck(&["gate", gate_on]);
    assert_eq!(gate.status.code(), Some(0), "{}", text(&gate));
    assert!(
        text(&gate).contains(" as expected, 0 not\n"),
        "{}",
        text(&gate)
    );
}

#[test]
fn bless_changed_rewrites_a_scheduler_in_place_and_keeps_its_comment() {
    let work = Work::new("changed");
    let file = "reaper-vs-checkout.toml";
    let shipped_text = std::fs::read_to_string(shipped().join(file)).unwrap();
    let line = shipped_text
        .lines()
        .find(|l| l.starts_with("reaper-races-checkout = "))
        .expect("the scenario names its bug")
        .to_owned();
    let wrong = "reaper-races-checkout = { default = \"closed-while-active\", pct = \"pass\" } # pct: see the report";
    std::fs::write(
        work.scenarios().join(file),
        shipped_text.replace(&line, wrong),
    )
    .unwrap();
    let filter = "reaper-vs-checkout/reaper-races-checkout/pct";
    let gate = work.poolcheck(&["gate", filter]);
    assert_eq!(gate.status.code(), Some(1), "{}", text(&gate));

    let plain = work.poolcheck(&["bless", filter]);
    assert!(
        text(&plain).contains("nothing to bless"),
        "{}",
        text(&plain)
    );
    let changed = work.poolcheck(&["bless", filter, "--changed", "--write"]);
    assert_eq!(changed.status.code(), Some(0), "{}", text(&changed));
    let out = text(&changed);
    assert!(out.contains(&format!("-{wrong}")), "{out}");
    let fixed = "reaper-races-checkout = { default = \"closed-while-active\", pct = \"closed-while-active\" } # pct: see the report";
    assert!(out.contains(&format!("+{fixed}")), "{out}");
    let blessed = std::fs::read_to_string(work.scenarios().join(file)).unwrap();
    assert_eq!(blessed, shipped_text.replace(&line, fixed));
    let gate = work.poolcheck(&["gate", filter]);
    assert_eq!(gate.status.code(), Some(0), "{}", text(&gate));
}
