#!/usr/bin/env python3
"""Judge and summarise cargo-mutants results (issue 17; docs/mutation-testing.md).

    mutants_report.py check DIR...           exit 1 on a survivor in neither list below, or
                                             on a known gap that was caught
    mutants_report.py report [--all LIST] DIR... OUTDIR
                                             write OUTDIR/<crate>.md, one report per crate

DIR is a cargo-mutants output directory (mutants.out): its outcomes.json, and the command.txt
and commit.txt that scripts/mutants.sh writes beside it. Given several, a mutant's last outcome
wins (a re-run of survivors after a fix overrides the first sample).

A mutant is named without its line and column (`models/src/x.rs: replace f -> bool with true`),
so an exclusion survives edits elsewhere in the file. Exclusions file: one mutant per line, then
` # ` and the reason it is not a test gap; `#` starts a comment line.

Known-gaps file: the survivors of the last full run that are test gaps nobody has killed yet,
one per line in the same naming (an optional ` # ` note). They do not fail the check, so the
CI shard can run before every gap is closed, but the file may only shrink: a listed gap that
a run judges caught, with no same-named mutant missed, fails the check until it is removed.

LIST is `cargo mutants --workspace --list` (every mutant the configuration generates): with it
a report says how many of its crate's mutants the runs judged, so a sample reads as one, and
leaves out the mutants of earlier runs that LIST no longer has (code removed since). Each
report also lists the mutants whose outcome changed between the runs (a survivor a later
commit killed) and what a mutant costs (build and test seconds by outcome).
"""

import json
import math
import re
import sys
from collections import OrderedDict
from pathlib import Path

EXCLUSIONS = Path(".cargo/mutants-exclusions.txt")
GAPS = Path(".cargo/mutants-gaps.txt")
LINE_COL = re.compile(r"^([^:]+):\d+:\d+: ")
VIABLE = ("CaughtMutant", "MissedMutant", "Timeout")


def key(name):
    """A mutant's name without line and column."""
    return LINE_COL.sub(r"\1: ", name)


def load(dirs):
    """Outcomes by mutant key (last directory wins), and the runs they came from."""
    outcomes = OrderedDict()
    runs = []
    for d in map(Path, dirs):
        data = json.loads((d / "outcomes.json").read_text())
        runs.append(
            {
                "command": read_or(d / "command.txt", "(not recorded)"),
                "commit": read_or(d / "commit.txt", "(not recorded)"),
                "version": data.get("cargo_mutants_version", "?"),
                "start": data.get("start_time", "?"),
            }
        )
        seen = {}
        for o in data["outcomes"]:
            m = o["scenario"].get("Mutant") if isinstance(o["scenario"], dict) else None
            if m is None:
                continue  # the baseline
            # Mutants that differ only in line and column (two `+=` of one function) are told
            # apart by their order in the run, which edits elsewhere do not change.
            k = key(m["name"])
            seen[k] = seen.get(k, 0) + 1
            k = (k, seen[k])
            first = outcomes[k]["first"] if k in outcomes else (o["summary"], len(runs))
            outcomes[k] = {
                "name": m["name"],
                "package": m["package"],
                "file": m["file"],
                "summary": o["summary"],
                "first": first,
                "run": len(runs),
                "phases": {p["phase"]: p["duration"] for p in o.get("phase_results", [])},
            }
    return outcomes, runs


def read_or(path, default):
    return path.read_text().strip() if path.exists() else default


def exclusions():
    """Excluded mutant key -> reason."""
    return named_list(EXCLUSIONS, reason_needed=True)


def gaps():
    """Known test gap key -> note (possibly empty)."""
    return named_list(GAPS, reason_needed=False)


def named_list(path, reason_needed):
    out = {}
    if not path.exists():
        return out
    for n, line in enumerate(path.read_text().splitlines(), 1):
        if not line.strip() or line.startswith("#"):
            continue
        name, sep, reason = line.partition(" # ")
        if reason_needed and (not sep or not reason.strip()):
            sys.exit(f"{path}:{n}: an exclusion needs ` # ` and a reason: {line}")
        out[key(name.strip())] = reason.strip()
    return out


def check(dirs):
    outcomes, _ = load(dirs)
    excluded, known = exclusions(), gaps()
    missed = [k for k, o in outcomes.items() if o["summary"] == "MissedMutant"]
    new = [k for k in missed if k[0] not in excluded and k[0] not in known]
    closed = closed_gaps(outcomes, known)
    timeouts = [k for k, o in outcomes.items() if o["summary"] == "Timeout"]
    counts = summary_counts(outcomes.values())
    n_known = sum(1 for k in missed if k[0] in known and k[0] not in excluded)
    print(
        f"{len(outcomes)} mutant(s): {counts['CaughtMutant']} caught, {len(missed)} missed "
        f"({len(missed) - len(new) - n_known} excluded, {n_known} known gaps), "
        f"{counts['Timeout']} timeouts, {counts['Unviable']} unviable"
    )
    for k in timeouts:
        print(f"timeout (not a survivor; on a loaded machine re-run it alone): {outcomes[k]['name']}")
    for k in new:
        print(f"SURVIVOR in neither {EXCLUSIONS} nor {GAPS}: {outcomes[k]['name']}")
    for name in closed:
        print(f"KILLED known gap, remove it from {GAPS}: {name}")
    if new:
        print(
            "Kill each with a scenario, invariant or unit test, or add it to the exclusions "
            "file with the reason it is equivalent (docs/mutation-testing.md)."
        )
    if new or closed:
        sys.exit(1)


def closed_gaps(outcomes, known):
    """Known gaps the runs caught, where no mutant of the same name survived."""
    caught = {k[0]: o["name"] for k, o in outcomes.items() if o["summary"] == "CaughtMutant"}
    missed = {k[0] for k, o in outcomes.items() if o["summary"] in ("MissedMutant", "Timeout")}
    return [caught[k] for k in known if k in caught and k not in missed]


def summary_counts(items):
    counts = {s: 0 for s in ("CaughtMutant", "MissedMutant", "Timeout", "Unviable")}
    for o in items:
        counts[o["summary"]] = counts.get(o["summary"], 0) + 1
    return counts


def folder(file):
    """The folder a mutant is counted under: a model, the facade, or the monitors."""
    parts = file.split("/")
    if parts[:2] == ["models", "src"] and len(parts) > 3:
        return "/".join(parts[:3]) + "/"
    return "/".join(parts[:-1]) + "/"


def generated(list_file):
    """Mutants the configuration generates, by package (from `cargo mutants --list`)."""
    if list_file is None:
        return {}
    counts = {}
    for line in Path(list_file).read_text().splitlines():
        top = line.split("/", 1)[0]
        package = {"models": "poolcheck-models", "harness": "poolcheck-harness"}.get(top)
        if package:
            counts[package] = counts.get(package, 0) + 1
    return counts


def listed_keys(list_file):
    """The (key, n-th of that key) of every mutant in a `cargo mutants --list` file."""
    seen, keys = {}, set()
    for line in Path(list_file).read_text().splitlines():
        if line.strip():
            k = key(line)
            seen[k] = seen.get(k, 0) + 1
            keys.add((k, seen[k]))
    return keys


def report(dirs, outdir, list_file=None):
    outcomes, runs = load(dirs)
    totals = generated(list_file)
    if list_file is not None:
        # A mutant of code removed since an earlier run is no longer one of the crate's.
        listed = listed_keys(list_file)
        outcomes = OrderedDict((k, o) for k, o in outcomes.items() if k in listed)
    excluded, known = exclusions(), gaps()
    outdir = Path(outdir)
    outdir.mkdir(parents=True, exist_ok=True)
    for package in sorted({o["package"] for o in outcomes.values()}):
        mine = OrderedDict((k, o) for k, o in outcomes.items() if o["package"] == package)
        path = outdir / f"{package}.md"
        path.write_text(render(package, mine, runs, excluded, known, totals.get(package)))
        print(path)


def render(package, outcomes, runs, excluded, known, total):
    lines = [
        f"# Mutation report: `{package}`",
        "",
        "Generated by `scripts/mutants.sh report` from the cargo-mutants run(s) below; do not "
        "edit by hand. How to read it: [docs/mutation-testing.md](../mutation-testing.md).",
        "",
    ]
    if total:
        share = "every one" if len(outcomes) >= total else "a sample, not a full run"
        lines += [
            f"**Coverage: {len(outcomes)} of the {total} mutants cargo-mutants generates for "
            f"this crate were judged: {share}.** The percentages below describe the mutants "
            "judged, not the crate.",
            "",
        ]
    lines += ["## Runs", ""]
    for n, r in enumerate(runs, 1):
        lines.append(
            f"{n}. `{r['command']}` at commit `{r['commit']}` (cargo-mutants {r['version']}, "
            f"started {r['start']})"
        )
    lines += [
        "",
        "## Outcomes by folder",
        "",
        "Caught % is caught / (caught + missed + timeouts): a timeout is not counted as caught, "
        "because on a loaded machine a slow pass times out as well as a hang does (re-run it "
        "alone). Excluded survivors are counted as missed.",
        "",
        "| folder | mutants | caught | missed | excluded | timeouts | unviable | caught % |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    by_folder = OrderedDict()
    for k, o in sorted(outcomes.items(), key=lambda kv: kv[1]["file"]):
        by_folder.setdefault(folder(o["file"]), []).append((k, o))
    by_folder["total"] = list(outcomes.items())
    for name, items in by_folder.items():
        lines.append(row(name, items, excluded))
    lines += ["", "## Survivors", ""]
    missed = [(k, o) for k, o in outcomes.items() if o["summary"] == "MissedMutant"]
    if not missed:
        lines.append("None.")
    for k, o in missed:
        reason = excluded.get(k[0])
        if reason:
            why = f"excluded: {reason}"
        elif k[0] in known:
            why = "**a known test gap** (`.cargo/mutants-gaps.txt`)"
        else:
            why = "**not excluded: a test gap**"
        lines.append(f"- `{o['name']}`: {why}")
    timeouts = [o for o in outcomes.values() if o["summary"] == "Timeout"]
    if timeouts:
        lines += ["", "## Timeouts", ""]
        lines += [f"- `{o['name']}`" for o in timeouts]
    lines += changed(outcomes)
    lines += cost(outcomes)
    return "\n".join(lines) + "\n"


def changed(outcomes):
    """The mutants a later run judged otherwise than the first that ran them."""
    moved = [o for o in outcomes.values() if o["first"][0] != o["summary"]]
    if not moved:
        return []
    lines = ["", "## Changed between runs", ""]
    for o in moved:
        lines.append(
            f"- `{o['name']}`: {SHORT[o['first'][0]]} in run {o['first'][1]}, "
            f"{SHORT[o['summary']]} in run {o['run']}"
        )
    return lines


SHORT = {
    "CaughtMutant": "caught",
    "MissedMutant": "missed",
    "Timeout": "timeout",
    "Unviable": "unviable",
}


def cost(outcomes):
    """Mean build and test wall seconds of the last judgement, by outcome."""
    lines = [
        "",
        "## Cost per mutant",
        "",
        "Wall seconds of each mutant's last judgement (`nice`, on whatever load the machine "
        "had), mean by outcome. A schemata run (`scripts/mutants.sh schemata`) builds once for "
        "every mutant, so its build seconds are 0.",
        "",
        "| outcome | mutants | build s | test s |",
        "| --- | ---: | ---: | ---: |",
    ]
    for summary, label in SHORT.items():
        mine = [o["phases"] for o in outcomes.values() if o["summary"] == summary]
        if not mine:
            continue
        build = sum(p.get("Build", 0) for p in mine) / len(mine)
        test = sum(p.get("Test", 0) for p in mine) / len(mine)
        lines.append(f"| {label} | {len(mine)} | {build:.0f} | {test:.0f} |")
    return lines


def row(name, items, excluded):
    c = summary_counts(o for _, o in items)
    n_excluded = sum(1 for k, o in items if o["summary"] == "MissedMutant" and k[0] in excluded)
    viable = sum(c[s] for s in VIABLE)
    caught = c["CaughtMutant"]
    # Rounded down to a tenth: 1,990 of 1,995 is 99.7%, never a 100% with survivors left.
    pct = f"{math.floor(1000 * caught / viable) / 10:.1f}%" if viable else "-"
    label = f"`{name}`" if name != "total" else "**total**"
    return (
        f"| {label} | {len(items)} | {c['CaughtMutant']} | {c['MissedMutant']} | {n_excluded} "
        f"| {c['Timeout']} | {c['Unviable']} | {pct} |"
    )


def main(argv):
    if len(argv) >= 2 and argv[0] == "check":
        check(argv[1:])
    elif len(argv) >= 5 and argv[0] == "report" and argv[1] == "--all":
        report(argv[3:-1], argv[-1], argv[2])
    elif len(argv) >= 3 and argv[0] == "report":
        report(argv[1:-1], argv[-1])
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main(sys.argv[1:])
