#!/usr/bin/env bash
# Builds the libFuzzer harnesses (fuzz/fuzz_*.c) with clang and
# -fsanitize=fuzzer,address,undefined and runs each in turn for
# FUZZ_SECONDS (default 600), twice side by side (one run per core): on
# its corpus, tests/corpus/<harness>/, and from nothing.  New inputs
# that add coverage are merged into the corpus; crashes are written there
# too (crash-*, leak-*, timeout-*), so `make test` replays them once
# fixed.  FUZZ_TARGETS="fuzz_ops fuzz_dat" picks harnesses.
# Usage: make fuzz [FUZZ_SECONDS=600] [FUZZ_TARGETS=...]
set -euo pipefail
cd "$(dirname "$0")/.."

seconds=${FUZZ_SECONDS:-600}
build=${FUZZ_BUILD:-build-fuzz}
CC=clang cmake -S . -B "$build" -DCMAKE_C_FLAGS=-fsanitize=fuzzer-no-link -DRC_FUZZ=ON -DRC_SANITIZE=ON -DRC_DEBUG=1 -DRECYCLE_BENCH=OFF >/dev/null

targets=${FUZZ_TARGETS:-$(cd fuzz && ls fuzz_*.c | sed 's/\.c$//')}
cmake --build "$build" -j 2 --target $targets

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:allocator_may_return_null=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

# fuzz TARGET LOG WORK [SEEDS]: fuzzes into the scratch corpus WORK,
# seeded from SEEDS when given; a failure stops this run only.
fuzz() {
    local t=$1 log=$2 dict=()
    shift 2
    [ -f "fuzz/$t.dict" ] && dict=(-dict="fuzz/$t.dict")
    if ! "$build/$t" "$@" "${dict[@]}" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
            -artifact_prefix="tests/corpus/$t/" -print_final_stats=1 >"$log" 2>&1; then
        echo "fuzz.sh: $t FOUND A FAILURE; see $log and tests/corpus/$t/crash-*" >&2
        return 1
    fi
}

status=0
for t in $targets; do
    corpus=tests/corpus/$t
    work=$(mktemp -d) fresh=$(mktemp -d)
    mkdir -p "$corpus"
    echo "fuzz.sh: $t for ${seconds}s, from its corpus ($corpus: $(ls "$corpus" | wc -l) inputs) and from nothing"
    # The corpus run mutates what earlier campaigns kept: long inputs, few
    # executions (fuzz_ops checks the whole heap after every operation).
    # The fresh run's inputs start short and grow slowly, so it runs many
    # times more programs and builds rare states step by step, instead of
    # finding each as a mutation of some long input.
    fuzz "$t" "$build/$t.log" "$work" "$corpus" & corpus_run=$!
    fuzz "$t" "$build/$t.fresh.log" "$fresh" & fresh_run=$!
    wait $corpus_run || status=1
    wait $fresh_run || status=1
    for log in "$build/$t.log" "$build/$t.fresh.log"; do
        echo "$log:"
        grep -E '^stat::|^#[0-9]+.*DONE' "$log" | tail -8 || true
    done
    "$build/$t" -merge=1 "$corpus" "$work" "$fresh" >/dev/null 2>&1 || true
    rm -rf "$work" "$fresh"
done
exit $status
