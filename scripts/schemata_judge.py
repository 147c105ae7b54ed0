"""Coverage and judging of scripts/mutants_schemata.py: which tests reach each mutant, the
verdict of the reaching tests, and the check of that reduction against every test."""

import concurrent.futures
import hashlib
import json
import sys
import time

from schemata_proc import log, run, timed

# How much longer than unmutated a mutant's tests may take before they count as a hang.
TIMEOUT_FACTOR, TIMEOUT_EXTRA = 3.0, 15.0


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
