#!/usr/bin/env bash
# Mutation testing of models/ and harness/src/monitor/ (issue 17; docs/mutation-testing.md).
#
#   scripts/mutants.sh run [CARGO-MUTANTS ARGS...]  # e.g. `--shard 3/50`; all mutants without args
#   scripts/mutants.sh by-model [ARGS...]           # `run`, one model folder at a time (cheaper)
#   scripts/mutants.sh schemata [ARGS...]           # every mutant from one build (fastest)
#   scripts/mutants.sh ci                           # the rotating CI shard (MUTANTS_CI=0 skips it)
#   scripts/mutants.sh check [DIR...]               # fail on a survivor not in the exclusions file
#   scripts/mutants.sh report [DIR...]              # rewrite docs/mutants/<crate>.md from DIR(s)
#
# `run` and `ci` write mutants.out/ (DIR's default), then check it. The configuration is
# .cargo/mutants.toml, the exclusions .cargo/mutants-exclusions.txt. Needs cargo-mutants
# (`cargo install cargo-mutants --locked`) and python3. Everything runs under `nice -n 15` with
# one job (cargo-mutants' default): the machine this was written on has two cores shared by
# many builds. `run --in-place` mutates the working tree itself (restoring each file after its
# mutant): faster than the scratch copy, but leave the tree alone while it runs.
set -euo pipefail
cd "$(dirname "$0")/.."

# CI: mutant i is in shard i % CI_SHARDS; the shard is a hash of the code under test modulo
# CI_SHARDS, so successive changes sample different mutants. A shard is ~5 mutants (a few minutes).
CI_SHARDS=${MUTANTS_CI_SHARDS:-300}
OUT=${OUT:-mutants.out}

die() {
    echo "error: $*" >&2
    exit 2
}

need_tools() {
    cargo mutants --version >/dev/null 2>&1 ||
        die "cargo-mutants is not installed (cargo install cargo-mutants --locked)"
    command -v python3 >/dev/null || die "python3 is needed for the check and the report"
}

# Run cargo-mutants over the configured folders, record the command and commit beside the
# results, then check for survivors.
run() {
    need_tools
    local cmd=(cargo mutants --workspace "$@") # one job: the default
    echo "+ ${cmd[*]}" >&2
    local status=0
    nice -n 15 "${cmd[@]}" || status=$?
    # cargo-mutants exits 2 when mutants were missed and 3 on timeouts: the check decides.
    case $status in
        0 | 2 | 3) ;;
        *) die "cargo mutants failed (exit $status; see $OUT/log/baseline.log)" ;;
    esac
    printf '%s\n' "${cmd[*]}" >"$OUT/command.txt"
    git rev-parse HEAD >"$OUT/commit.txt"
    python3 scripts/mutants_report.py check "$OUT"
}

# The model folders and the model each one implements. A folder is reached from no other
# model, so its mutants are judged by its own model's trials (POOLCHECK_MUTANTS_MODELS, read
# by harness/tests/mutants/main.rs) and the models' unit tests; the rest (the facade, shared
# model code, the monitors) by every model's.
MODEL_DIRS=(go_h2:go-h2 httpcore:httpcore lifecycle:asyncio-lifecycle checkout_pool:checkout-pool)

# `run` once per model folder, then once for everything else, each writing
# mutants.parts/<part>/mutants.out/; ARGS (say `--re 'in process_data'`) narrow every part.
# `check` and `report` take those directories. Fails if any part has a survivor not excluded.
by_model() {
    local entry dir status=0 models=() args=()
    for entry in "${MODEL_DIRS[@]}"; do
        models+=("models/src/${entry%%:*}/**")
    done
    for entry in "${MODEL_DIRS[@]}"; do
        dir=${entry%%:*}
        # Everything outside the folder is excluded: exclusions narrow what ARGS select, where
        # a `--re` of ours would widen the ARGS' own `--re` (cargo-mutants ORs them).
        (
            export POOLCHECK_MUTANTS_MODELS=${entry#*:}
            OUT=mutants.parts/$dir/mutants.out
            mapfile -t args < <(excluding "models/src/$dir/**" "${models[@]}" \
                'models/src/*.rs' 'models/src/sync/**' 'harness/src/monitor/**')
            run "${args[@]}" -o "mutants.parts/$dir" "$@"
        ) || status=1
    done
    (
        OUT=mutants.parts/shared/mutants.out
        mapfile -t args < <(excluding - "${models[@]}")
        run "${args[@]}" -o mutants.parts/shared "$@"
    ) || status=1
    return $status
}

# One `--exclude=GLOB` line for each GLOB but the first argument.
excluding() {
    local keep=$1 glob
    shift
    for glob in "$@"; do
        [ "$glob" = "$keep" ] || printf -- '--exclude=%s\n' "$glob"
    done
}

# Rewrite docs/mutants/ from the output directories, counting what the configuration
# generates (`--list` takes seconds: nothing is built).
report() {
    need_tools
    local list
    list=$(mktemp)
    cargo mutants --workspace --list >"$list"
    python3 scripts/mutants_report.py report --all "$list" "${@:-$OUT}" docs/mutants
    rm -f "$list"
}

# Every mutant judged from one build (scripts/mutants_schemata.py; ARGS such as `--shard 3/50`
# or `--re REGEX` pass through), in a scratch worktree of HEAD under target/ whose files the
# schemata rewrite, into mutants.out/ (a second run continues it); then the usual check. The
# few mutants the schemata leave to cargo-mutants are listed in mutants.out/fallback.txt.
schemata() {
    need_tools
    local tree=target/schemata-tree
    if [ -d "$tree" ]; then
        git -C "$tree" checkout --quiet --force --detach "$(git rev-parse HEAD)"
    else
        git worktree add --quiet --detach "$tree" HEAD
    fi
    nice -n 15 python3 scripts/mutants_schemata.py --tree "$tree" --out "$OUT" "$@"
    python3 scripts/mutants_report.py check "$OUT"
}

ci() {
    if [ "${MUTANTS_CI:-1}" = 0 ]; then
        echo "mutation shard skipped (MUTANTS_CI=0)" >&2
        return
    fi
    local code shard
    # The shard follows the code under test (the models/ and harness/ trees), not the commit:
    # it rotates whenever that code changes, and a commit of docs alone re-runs the shard that
    # its parent passed.
    code=$(git rev-parse HEAD:models HEAD:harness | sha256sum)
    shard=$((16#${code:0:8} % CI_SHARDS))
    # The CI runs the whole test suite first, so the baseline is known green. In place: the
    # checkout is CI's own, and a copy of the tree (target/ included) rebuilt from cold here.
    # Without a baseline, or in place, the timeouts must be explicit.
    run --shard "$shard/$CI_SHARDS" --in-place --baseline skip --timeout 300 --build-timeout 900
}

case ${1:-} in
    run) shift; run "$@" ;;
    by-model) shift; by_model "$@" ;;
    schemata) shift; schemata "$@" ;;
    ci) ci ;;
    check) shift; python3 scripts/mutants_report.py check "${@:-$OUT}" ;;
    report) shift; report "$@" ;;
    *) sed -n '2,14p' "$0" >&2; exit 2 ;;
esac
