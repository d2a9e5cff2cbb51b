#!/usr/bin/env bash
# Builds the libFuzzer harnesses (fuzz/fuzz_*.c) with clang and
# -fsanitize=fuzzer,address,undefined and runs each in turn for
# FUZZ_SECONDS (default 600) on its corpus, tests/corpus/<harness>/.
# New inputs that add coverage are merged into the corpus; crashes are
# written there too (crash-*, leak-*, timeout-*), so `make test` replays
# them once fixed.  FUZZ_TARGETS="fuzz_ops fuzz_dat" picks harnesses.
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
status=0
for t in $targets; do
    corpus=tests/corpus/$t
    work=$(mktemp -d)
    mkdir -p "$corpus"
    dict=(); [ -f "fuzz/$t.dict" ] && dict=(-dict="fuzz/$t.dict")
    echo "fuzz.sh: $t for ${seconds}s (corpus $corpus: $(ls "$corpus" | wc -l) inputs)"
    # Fuzz into a scratch corpus seeded from ours, then keep only the
    # inputs that add coverage.  A failure stops that harness; the next runs.
    if ! "$build/$t" "$work" "$corpus" "${dict[@]}" -max_total_time="$seconds" -timeout=10 \
            -rss_limit_mb=2048 -artifact_prefix="$corpus/" -print_final_stats=1 \
            >"$build/$t.log" 2>&1; then
        echo "fuzz.sh: $t FOUND A FAILURE; see $build/$t.log and $corpus/crash-*" >&2
        status=1
    fi
    grep -E '^stat::|^#[0-9]+.*DONE' "$build/$t.log" | tail -8 || true
    "$build/$t" -merge=1 "$corpus" "$work" >/dev/null 2>&1 || true
    rm -rf "$work"
done
exit $status
