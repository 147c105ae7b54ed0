#!/usr/bin/env python3
"""Judge every mutant of models/ and harness/src/monitor/ with one build (issue 17).

    scripts/mutants_schemata.py --tree DIR [--out OUT] [--jobs 2] [--shard K/N] [--re REGEX]
                                [--names FILE] [--since EARLIER_OUT]... [--units-only]

cargo-mutants builds the tree once per mutant, about 14 s each: over 2,500 mutants, that alone
is ten hours on two cores. Here tools/schemata writes every mutant into one scratch copy of the
tree (DIR: a git worktree of the commit to judge, never the working tree), each behind a switch
that the environment turns on, and the copy is built once. A mutant whose schema does not
compile is left out and the copy rebuilt: it is unviable if the error is in the mutant's own
code, and is listed for an ordinary cargo-mutants run otherwise (`fallback.txt`).

Then each test is run once unmutated, recording the switches it reaches (coverage), and each
mutant is judged by the tests that reach it, exactly the tests cargo-mutants would run for it
(its package's unit tests and harness/tests/mutants/main.rs, the judge, one trial at a time):
a test that never reaches a mutant's code runs as it does without the mutant, because every
test is deterministic. Unit tests run first, then the judge's trials, cheapest first, and the
first failure catches the mutant. A mutant no test reaches is missed without running.

OUT (default DIR/mutants.out) gets what cargo-mutants writes there: outcomes.json (read by
scripts/mutants_report.py), caught.txt, missed.txt, timeout.txt, unviable.txt, plus
command.txt, commit.txt, coverage.json and results.jsonl. A second run with the same OUT
continues where the first stopped. docs/mutation-testing.md explains the method.
"""

import argparse
import json
import re
import sys
import time
from pathlib import Path

from schemata_build import build
from schemata_judge import coverage, judge_all, verify
from schemata_proc import log, run


def main():
    a = parse_args()
    tree = Path(a.tree).resolve()
    out = Path(a.out).resolve() if a.out else tree / "mutants.out"
    out.mkdir(parents=True, exist_ok=True)
    same_commit(tree, out)
    mutant_list(tree, out)
    a.settled = settled_since(tree, a.since)
    if a.outputs_only:
        placed = json.loads((out / "placed.json").read_text())
        write_outputs(out, placed, [p for p in placed if selected(p, a)], tree, sys.argv)
        return
    bins = build(tree, out, a.profile)
    placed = json.loads((out / "placed.json").read_text())
    cover = coverage(tree, out, bins, a.jobs, a.units_only)
    chosen = [p for p in placed if selected(p, a)]
    if not a.verify_only:
        judge_all(out, bins, cover, chosen, a.jobs, a.break_reduction)
        write_outputs(out, placed, chosen, tree, sys.argv)
    if a.verify:
        verify(out, bins, placed, a.verify, a.jobs)


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--tree", required=True, help="scratch git worktree of the commit to judge")
    p.add_argument("--out", help="output directory (default TREE/mutants.out)")
    p.add_argument("--jobs", type=int, default=2)
    p.add_argument("--shard", help="K/N: judge only mutants whose id is K modulo N")
    p.add_argument("--re", help="judge only mutants whose name matches this regex")
    p.add_argument("--names", type=names_file, metavar="FILE",
                   help="judge only the mutants named in FILE (one per line, as missed.txt "
                        "has them; lines and columns may differ, as at a later commit)")
    p.add_argument("--since", action="append", default=[], metavar="DIR",
                   help="judge only what earlier runs left open (DIR: their mutants.out, "
                        "repeatable, later ones win): names they did not judge or did not "
                        "all catch, and every name in a file whose non-test code changed since "
                        "the commit of the run that judged it")
    p.add_argument("--verify", type=int, metavar="K",
                   help="then re-judge K judged mutants by every test (no coverage) and compare")
    p.add_argument("--outputs-only", action="store_true",
                   help="only rewrite OUT's outcome files from what has been judged so far")
    p.add_argument("--profile", default="schemata",
                   help="cargo profile of the build (`mutants` compiles faster, runs slower)")
    p.add_argument("--units-only", action="store_true",
                   help="judge by the unit tests alone (a quick re-judge of survivors after new "
                        "unit tests; a mutant they miss is reported missed, unjudged by trials)")
    p.add_argument("--verify-only", action="store_true",
                   help="with --verify: judge nothing new, only re-judge the sample")
    p.add_argument("--break-reduction", action="store_true",
                   help="run only each mutant's cheapest reaching trial (a deliberately unsound "
                        "reduction, to see --verify catch it)")
    return p.parse_args()


def names_file(path):
    return {without_line(l.strip()) for l in Path(path).read_text().splitlines() if l.strip()}


def same_commit(tree, out):
    """OUT holds one commit's run (its list, coverage and results): refuse another's."""
    head = run(["git", "rev-parse", "HEAD"], tree).stdout.strip()
    mark = out / "run-commit.txt"
    if mark.exists() and mark.read_text().strip() != head:
        sys.exit(f"{out} holds a run of commit {mark.read_text().strip()}, the tree is at {head}: "
                 f"give another --out, or delete it")
    mark.write_text(head + "\n")


LINE_COL = re.compile(r"^([^:]+):\d+:\d+: ")


def without_line(name):
    """A mutant's name without line and column, to find it again at another commit."""
    return LINE_COL.sub(r"\1: ", name)


def selected(p, a):
    if a.names is not None and without_line(p["name"]) not in a.names:
        return False
    if without_line(p["name"]) in a.settled:
        return False
    if a.shard:
        k, n = map(int, a.shard.split("/"))
        if p["id"] % n != k:
            return False
    return not a.re or re.search(a.re, p["name"])


# A verdict that stands while the mutant's code does not change.
SETTLED = ("CaughtMutant", "Unviable")


def settled_since(tree, dirs):
    """Mutant names that the runs in `dirs` settled: the last run that judged a name caught
    every mutant of it (or found it unviable), in files whose non-test code has not changed
    since that run's commit. Judging the rest again gives the outcome of every mutant at the
    tree's commit, as a full run would, if a test never loses a kill it had (tests are only
    added) and a change in one file does not let a mutant of another escape."""
    last = {}
    for d in map(Path, dirs):
        changed = changed_files(tree, (d / "commit.txt").read_text().strip())
        mine = {}
        for o in json.loads((d / "outcomes.json").read_text())["outcomes"]:
            m = o["scenario"].get("Mutant") if isinstance(o["scenario"], dict) else None
            if m is not None:
                mine.setdefault(without_line(m["name"]), []).append((o["summary"], m["file"]))
        for name, judged in mine.items():
            last[name] = all(s in SETTLED and f not in changed for s, f in judged)
    return {name for name, settled in last.items() if settled}


def changed_files(tree, commit):
    """Files of models/ and harness/src/monitor/ whose code changed from `commit` to the tree's
    HEAD (test files left out: they hold no mutants)."""
    diff = run(["git", "diff", "--name-only", commit, "HEAD", "--", "models",
                "harness/src/monitor"], tree).stdout.split()
    return {f for f in diff if not re.search(r"(^|/|_)tests(\.rs$|/)", f)}


def mutant_list(tree, out):
    path = out / "list.json"
    if not path.exists():
        # The tree may hold an earlier run's schemata: list the mutants of the commit itself.
        run(["git", "checkout", "--", "models", "harness"], tree)
        text = run(["cargo", "mutants", "--workspace", "--list", "--json"], tree).stdout
        path.write_text(text)
    return json.loads(path.read_text())


# --- outputs ---------------------------------------------------------------------------------

def write_outputs(out, placed, chosen, tree, argv):
    results = {}
    for line in (out / "results.jsonl").read_text().splitlines():
        if line.strip():
            r = json.loads(line)
            results[r["id"]] = r
    outcomes, names = [], {"CaughtMutant": [], "MissedMutant": [], "Timeout": [], "Unviable": []}
    fallback = []
    for p in chosen:
        if p["left_out"] is not None and not p["left_out"].startswith("unviable"):
            fallback.append(f"{p['name']}\t{p['left_out']}")
            continue
        r = results.get(p["id"])
        summary = "Unviable" if p["left_out"] is not None else (r and r["summary"])
        if summary is None:
            continue
        names[summary].append(p["name"])
        outcomes.append({
            "scenario": {"Mutant": {"name": p["name"], "package": p["package"], "file": p["file"]}},
            "summary": summary,
            "phase_results": [{"phase": "Build", "duration": 0.0},
                              {"phase": "Test", "duration": r["seconds"] if r else 0.0}],
        })
    doc = {"cargo_mutants_version": "schemata (scripts/mutants_schemata.py)",
           "start_time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "outcomes": outcomes}
    (out / "outcomes.json").write_text(json.dumps(doc, indent=1))
    for summary, file in (("CaughtMutant", "caught"), ("MissedMutant", "missed"),
                          ("Timeout", "timeout"), ("Unviable", "unviable")):
        (out / f"{file}.txt").write_text("".join(n + "\n" for n in names[summary]))
    (out / "fallback.txt").write_text("".join(l + "\n" for l in fallback))
    args = [x for x in argv[1:] if x != "--outputs-only"]
    (out / "command.txt").write_text("scripts/mutants_schemata.py " + " ".join(args) + "\n")
    (out / "commit.txt").write_text(run(["git", "rev-parse", "HEAD"], tree).stdout)
    counts = {k: len(v) for k, v in names.items()}
    log(f"{counts}, {len(fallback)} left for cargo-mutants (fallback.txt); results in {out}")


if __name__ == "__main__":
    main()
