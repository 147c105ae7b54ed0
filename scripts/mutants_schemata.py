#!/usr/bin/env python3
"""Judge every mutant of models/ and harness/src/monitor/ with one build (issue 17).

    scripts/mutants_schemata.py --tree DIR [--out OUT] [--jobs 2] [--shard K/N] [--re REGEX]

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
import concurrent.futures
import hashlib
import json
import os
import resource
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FEATURES = "poolcheck-models/mutants,poolcheck-harness/mutants"
# The `schemata` profile (Cargo.toml) is optimised but keeps debug assertions and overflow
# checks, so a mutant fails exactly where it fails under `cargo test`; built once, it can
# afford the optimiser, and a survivor's trials run several times faster than under `mutants`.
CARGO_TEST = ["cargo", "test", "--features", FEATURES,
              "-p", "poolcheck-models", "-p", "poolcheck-harness", "--lib", "--test", "mutants"]
MARK = re.compile(rb"/\*(>?)([SM])([0-9,]+)<?\*/")
# How much longer than unmutated a mutant's tests may take before they count as a hang.
TIMEOUT_FACTOR, TIMEOUT_EXTRA = 3.0, 15.0
# Address space per test process: unmutated, a judge process maps under 100 MB; a mutant that
# makes a monitor keep every record grows by gigabytes before its timeout. An allocation past
# the limit aborts the test, which fails it: the mutant is caught.
MEMORY_LIMIT = 4 << 30


def main():
    a = parse_args()
    tree = Path(a.tree).resolve()
    out = Path(a.out).resolve() if a.out else tree / "mutants.out"
    out.mkdir(parents=True, exist_ok=True)
    same_commit(tree, out)
    mutant_list(tree, out)
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
    if a.shard:
        k, n = map(int, a.shard.split("/"))
        if p["id"] % n != k:
            return False
    return not a.re or re.search(a.re, p["name"])


def mutant_list(tree, out):
    path = out / "list.json"
    if not path.exists():
        # The tree may hold an earlier run's schemata: list the mutants of the commit itself.
        run(["git", "checkout", "--", "models", "harness"], tree)
        text = run(["cargo", "mutants", "--workspace", "--list", "--json"], tree).stdout
        path.write_text(text)
    return json.loads(path.read_text())


# --- build ---------------------------------------------------------------------------------

def build(tree, out, profile):
    """Write the schemata and build them, leaving out mutants whose schema fails to compile."""
    tool = tool_binary()
    skip = out / "skip.tsv"
    skip.touch()
    originals = pristine(tree, out)
    for attempt in range(1, 9):
        run([str(tool), "--list", str(out / "list.json"), "--tree", str(tree),
             "--out", str(out / "placed.json"), "--skip", str(skip), "--from", str(originals)],
            tree)
        log(f"build {attempt}: compiling the schemata")
        proc = subprocess.run(CARGO_TEST + ["--profile", profile, "--no-run",
                                            "--message-format", "json"], cwd=tree,
                              capture_output=True, text=True)
        messages = [json.loads(l) for l in proc.stdout.splitlines() if l.startswith("{")]
        errors = [m["message"] for m in messages
                  if m.get("reason") == "compiler-message" and m["message"]["level"] == "error"]
        if proc.returncode == 0:
            return binaries(messages)
        bad = blame(tree, errors)
        if not bad:
            sys.exit(f"the schemata do not build, and no error points at a schema:\n"
                     f"{proc.stderr[-4000:]}\n" + "\n".join(e["rendered"] for e in errors[:5]))
        with skip.open("a") as f:
            for mid, why in sorted(bad.items()):
                f.write(f"{mid}\t{why}\n")
        log(f"build {attempt}: {len(bad)} mutant(s) left out")
    sys.exit("the schemata still do not build after 8 attempts")


def tool_binary():
    manifest = ROOT / "tools/schemata/Cargo.toml"
    run(["cargo", "build", "--release", "--quiet", "--manifest-path", str(manifest)], ROOT)
    return ROOT / "tools/schemata/target/release/poolcheck-schemata"


def pristine(tree, out):
    """The unmutated models/ and harness/ of the tree's commit, extracted once into OUT."""
    path = out / "pristine"
    if not path.exists():
        path.mkdir()
        archive = run(["git", "archive", "--format=tar", "HEAD", "models", "harness"], tree,
                      text=False).stdout
        subprocess.run(["tar", "-x", "-C", str(path)], input=archive, check=True)
    return path


def blame(tree, errors):
    """Mutant id -> why it is left out, for the schemata the errors point into."""
    bad = {}
    texts = {}
    for e in errors:
        span = next((s for s in e["spans"] if s["is_primary"]), None)
        if span is None:
            continue
        name = span["file_name"]
        if name not in texts:
            texts[name] = (tree / name).read_text() if (tree / name).exists() else ""
        hit = innermost(texts[name], span["byte_start"])
        if hit is None:
            continue
        kind, ids = hit
        code = (e.get("code") or {}).get("code") or "error"
        # A call of the switch in a const context fails in the schema, not in the mutant.
        if kind == "M" and code != "E0015":
            why = f"unviable: {code} {e['message']}"
        else:
            why = f"fallback: the schema does not compile ({code} {e['message']})"
        for mid in ids:
            bad.setdefault(mid, why.replace("\t", " ").replace("\n", " "))
    return bad


def innermost(text, offset):
    """The innermost marked region around byte `offset` ("M", [id]) or ("S", ids); outside
    every region, one that ends right there (an error in the code an insertion precedes)."""
    stack, closed = [], None
    # Markers are ASCII, so they are found on the bytes, where rustc's offsets count.
    for m in MARK.finditer(text.encode()):
        if m.start() > offset:
            break
        if m.group(1) == b">":
            kind, ids = stack.pop()
            closed = (m.end(), ("S", ids) if kind == "S" else (kind, ids))
        else:
            stack.append((m.group(2).decode(), [int(i) for i in m.group(3).split(b",")]))
    if stack:
        return stack[-1]
    if closed and closed[0] == offset:
        return ("S", closed[1][1])
    return None


def binaries(messages):
    """The test executables: each package's unit tests and the judge."""
    out = {}
    for m in messages:
        if m.get("reason") != "compiler-artifact" or not m.get("executable"):
            continue
        pkg = "poolcheck-harness" if "harness" in m["package_id"] else "poolcheck-models"
        kind = "judge" if m["target"]["name"] == "mutants" else "lib"
        if kind == "judge":
            out.setdefault("judge", m["executable"])
        else:
            out[pkg] = m["executable"]
    for need in ("judge", "poolcheck-models", "poolcheck-harness"):
        if need not in out:
            sys.exit(f"the build made no test binary for {need}")
    return out


# --- coverage ------------------------------------------------------------------------------

def coverage(tree, out, bins, jobs, units_only=False):
    """For every test, its unmutated seconds and the mutant ids it reaches."""
    path = out / "coverage.json"
    if path.exists():
        return json.loads(path.read_text())
    tests = [] if units_only else [
        ("judge", line.split("\t")[0], line.split("\t", 1)[1])
        for line in run([bins["judge"], "--list"], tree).stdout.splitlines()]
    for pkg in ("poolcheck-models", "poolcheck-harness"):
        listing = run([bins[pkg], "--list", "--format", "terse"], tree).stdout
        tests += [(pkg, name, name) for name in
                  (l[: -len(": test")] for l in listing.splitlines() if l.endswith(": test"))]
    covdir = out / "cover"
    covdir.mkdir(exist_ok=True)
    log(f"coverage: running {len(tests)} tests unmutated, one at a time")

    def one(i_test):
        i, (kind, key, name) = i_test
        file = covdir / f"{i}.txt"
        file.unlink(missing_ok=True)
        env = {"POOLCHECK_MUTANT_COVER": str(file)}
        secs, code = timed(test_command(bins, kind, [key]), tree, env, timeout=1800)
        if code != 0:
            sys.exit(f"unmutated {kind} test {name} failed (exit {code}): fix the baseline first")
        reached = sorted({int(x) for x in file.read_text().split()}) if file.exists() else []
        return {"kind": kind, "key": key, "name": name, "seconds": secs, "reaches": reached}

    with concurrent.futures.ThreadPoolExecutor(jobs) as pool:
        result = list(pool.map(one, enumerate(tests)))
    path.write_text(json.dumps(result))
    return result


def test_command(bins, kind, keys):
    if kind == "judge":
        return [bins["judge"]], {"POOLCHECK_MUTANTS_TRIALS": ",".join(keys)}
    return [bins[kind], "--exact", "--test-threads", "1", "-q"] + keys, {}


# --- judging -------------------------------------------------------------------------------

def judge_all(out, bins, cover, chosen, jobs, broken=False):
    results = out / "results.jsonl"
    done = set()
    if results.exists():
        done = {json.loads(l)["id"] for l in results.read_text().splitlines() if l.strip()}
    reach = {}
    for t in cover:
        for mid in t["reaches"]:
            reach.setdefault(mid, []).append(t)
    if broken:
        reach = {mid: cheapest_trial_only(tests) for mid, tests in reach.items()}
    # In a fixed pseudo-random order: a run stopped early has judged a uniform sample of the
    # mutants (every folder alike), not the first files of the list.
    todo = sorted((p for p in chosen if p["left_out"] is None and p["id"] not in done),
                  key=lambda p: hashlib.sha256(p["name"].encode()).hexdigest())
    log(f"judging {len(todo)} mutant(s) ({len(done)} already judged in {out})")
    started = time.monotonic()
    with results.open("a") as f, concurrent.futures.ThreadPoolExecutor(jobs) as pool:
        futures = [pool.submit(judge, out, bins, p, reach.get(p["id"], [])) for p in todo]
        # Written as each finishes, so that a run stopped midway keeps everything it judged.
        for n, future in enumerate(concurrent.futures.as_completed(futures), 1):
            r = future.result()
            f.write(json.dumps(r) + "\n")
            f.flush()
            if n % 25 == 0 or n == len(todo):
                log(f"  {n}/{len(todo)} judged, {time.monotonic() - started:.0f} s")


def cheapest_trial_only(tests):
    """A tempting, unsound reduction: of a mutant's reaching trials, only the cheapest."""
    trials = sorted((t for t in tests if t["kind"] == "judge"), key=lambda t: t["seconds"])
    return [t for t in tests if t["kind"] != "judge"] + trials[:1]


def judge(out, bins, p, tests):
    """One mutant: its package's unit tests that reach it, then the judge's trials."""
    env = {"POOLCHECK_MUTANT": str(p["id"])}
    units = [t for t in tests if t["kind"] == p["package"]]
    # Cheapest first: a caught mutant stops at its first failing trial, whatever the order.
    trials = sorted((t for t in tests if t["kind"] == "judge"), key=lambda t: t["seconds"])
    spent = 0.0
    for kind, group in ((p["package"], units), ("judge", trials)):
        if not group:
            continue
        limit = TIMEOUT_FACTOR * sum(t["seconds"] for t in group) + TIMEOUT_EXTRA
        cmd, extra = test_command(bins, kind, [t["key"] for t in group])
        secs, code = timed((cmd, extra), out, env, timeout=limit)
        spent += secs
        if code is None:
            return outcome(p, "Timeout", spent, len(tests))
        if code != 0:
            return outcome(p, "CaughtMutant", spent, len(tests))
    return outcome(p, "MissedMutant", spent, len(tests))


def outcome(p, summary, secs, reached):
    return {"id": p["id"], "summary": summary, "seconds": round(secs, 3), "reached": reached}


# --- verifying the reduction ------------------------------------------------------------

def verify(out, bins, placed, k, jobs):
    """Re-judge up to K judged mutants (half caught, half missed, spread over the ids) by
    every unit test of their package and every trial of the judge, as cargo-mutants would,
    and compare with the verdict from the tests that reach them. Writes verify.json; exits 1
    on a disagreement."""
    results = [json.loads(l) for l in (out / "results.jsonl").read_text().splitlines() if l]
    by_id = {p["id"]: p for p in placed}
    sample = []
    for summary in ("CaughtMutant", "MissedMutant"):
        mine = [r for r in results if r["summary"] == summary]
        step = max(1, len(mine) // max(1, k // 2))
        sample += mine[::step][: k // 2]
    log(f"verify: re-judging {len(sample)} mutant(s) by every test")

    def one(r):
        p = by_id[r["id"]]
        env = {"POOLCHECK_MUTANT": str(p["id"])}
        verdict = "MissedMutant"
        for cmd in ([bins[p["package"]], "--test-threads", "1", "-q"], [bins["judge"]]):
            secs, code = timed((cmd, {}), out, env, timeout=3600)
            if code != 0:
                verdict = "CaughtMutant" if code is not None else "Timeout"
                break
        return {"name": p["name"], "reduced": r["summary"], "unreduced": verdict}

    with concurrent.futures.ThreadPoolExecutor(jobs) as pool:
        checked = list(pool.map(one, sample))
    (out / "verify.json").write_text(json.dumps(checked, indent=1))
    wrong = [c for c in checked if c["reduced"] != c["unreduced"]]
    for c in wrong:
        log(f"verify: DISAGREE {c['name']}: reduced {c['reduced']}, unreduced {c['unreduced']}")
    log(f"verify: {len(checked) - len(wrong)} of {len(checked)} agree")
    if wrong:
        sys.exit(1)


# --- outputs -------------------------------------------------------------------------------

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


# --- processes -----------------------------------------------------------------------------

def run(cmd, cwd, text=True):
    proc = subprocess.run(cmd, cwd=cwd, capture_output=True, text=text)
    if proc.returncode != 0:
        err = proc.stderr if text else proc.stderr.decode(errors="replace")
        sys.exit(f"{' '.join(map(str, cmd))} failed ({proc.returncode}):\n{err[-3000:]}")
    return proc


def timed(cmd_env, cwd, env, timeout):
    """(wall seconds, exit code or None on timeout) of a command, its output discarded."""
    cmd, extra = cmd_env
    full = dict(os.environ, **extra, **env)
    start = time.monotonic()
    proc = subprocess.Popen(cmd, cwd=cwd, env=full, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, start_new_session=True,
                            preexec_fn=limit_memory)
    try:
        code = proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        code = None
    return time.monotonic() - start, code


def limit_memory():
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))


def log(msg):
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


if __name__ == "__main__":
    main()
