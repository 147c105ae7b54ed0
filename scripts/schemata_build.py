"""The schemata build of scripts/mutants_schemata.py: write every mutant behind its switch
(tools/schemata), compile, and leave out the mutants whose schema does not compile."""

import json
import re
import subprocess
import sys
from pathlib import Path

from schemata_proc import log, run

ROOT = Path(__file__).resolve().parent.parent
FEATURES = "poolcheck-models/mutants,poolcheck-harness/mutants"
# The `schemata` profile (Cargo.toml) is optimised but keeps debug assertions and overflow
# checks, so a mutant fails exactly where it fails under `cargo test`; built once, it can
# afford the optimiser, and a survivor's trials run several times faster than under `mutants`.
CARGO_TEST = ["cargo", "test", "--features", FEATURES,
              "-p", "poolcheck-models", "-p", "poolcheck-harness", "--lib", "--test", "mutants"]
MARK = re.compile(rb"/\*(>?)([SM])([0-9,]+)<?\*/")


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
