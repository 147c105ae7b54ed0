"""Processes of the schemata driver (scripts/mutants_schemata.py): checked runs, timed runs
under a memory limit, and the log."""

import os
import resource
import signal
import subprocess
import sys
import time

# Address space per test process: unmutated, a judge process maps under 100 MB; a mutant that
# makes a monitor keep every record grows by gigabytes before its timeout. An allocation past
# the limit aborts the test, which fails it: the mutant is caught.
MEMORY_LIMIT = 4 << 30


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
