#!/usr/bin/env bash
# `make demo`: reproduces every seed experiment with recycle in C, measured
# in this run, with CPython's figures beside ours where python3 is present.
#
#   scripts/demo.sh [BUILD_DIR]        (QUICK=1: small sizes, short sleeps)
#
# Writes $DEMO_OUT (default demo-out/): REPORT.md, a self-contained
# index.html, and for each experiment its program output (c_*.txt, py_*.txt),
# profiles (*.dat) and plots (*.png).  tests/test_demo.c checks the claims
# against those data files.  Only bash, sed, base64 and the build's own
# programs are needed for our part; python3 only for the CPython column.
# Runs never overlap: every timing in the report was taken with nothing
# else of the demo running beside it.
set -euo pipefail

build=$(cd "${1:-build}" && pwd)
src=$(cd "$(dirname "$0")/.." && pwd)
out=${DEMO_OUT:-demo-out}
mkdir -p "$out"
out=$(cd "$out" && pwd)
ex=$build/examples
pyex=$src/examples/python
recycle=$build/recycle
PY=${DEMO_PYTHON:-/usr/bin/python3}
MPROF=${DEMO_MPROF:-/usr/bin/python3-mprof}
started=$(date +%s)
load=$(cut -d' ' -f1 /proc/loadavg 2>/dev/null || echo unknown)
export PYTHONDONTWRITEBYTECODE=1

if [ "${QUICK:-0}" = 1 ]; then
    export DEMO_N=1000000 DEMO_SLEEP_MS=200 DEMO_GC_STEPS=50000
    T=0.02; WALKS=500; mode="quick mode, QUICK=1: 1 000 000 ints per array, 200 ms sleeps"
else
    export DEMO_N=5000000 DEMO_SLEEP_MS=800 DEMO_GC_STEPS=500000
    T=0.1; WALKS=10000; mode="full size: 5 000 000 ints per array, 800 ms sleeps"
fi

rm -f "$out"/*.dat "$out"/*.png "$out"/*.txt "$out"/*.series "$out"/REPORT.md "$out"/index.html
. "$src/scripts/demo_report.sh"

have_py=0; have_mprof=0
[ -x "$PY" ] && have_py=1
[ $have_py = 1 ] && [ -x "$MPROF" ] && "$PY" -c 'import memory_profiler' 2>/dev/null && have_mprof=1

log() { printf 'demo: %3ds %s\n' "$(( $(date +%s) - started ))" "$*" >&2; }

# ---- running things ---------------------------------------------------------

have() { [ -x "$ex/$1" ]; }

# c_profile NAME [ARGS]: run examples/NAME under `recycle run`, plot it.
c_profile() {
    local name=$1 tag=$2; shift 2
    log "recycle run $name $*"
    "$recycle" run -E -T "$T" -o "$out/c_$tag.dat" "$ex/$name" "$@" >"$out/c_$tag.txt" 2>"$out/c_$tag.err" ||
        { log "examples/$name failed: see $out/c_$tag.err"; rm -f "$out/c_$tag.dat"; return 0; }
    "$recycle" plot -o "$out/c_$tag.png" -t "recycle (C): $name $*" "$out/c_$tag.dat" >/dev/null
}

# c_run NAME TAG [ARGS]: run examples/NAME, output in c_TAG.txt.  A
# failure is logged; the section then says the figures are missing.
c_run() {
    local name=$1 tag=$2; shift 2
    log "$name $*"
    (cd "$out" && "$ex/$name" "$@") >"$out/c_$tag.txt" 2>"$out/c_$tag.err" ||
        { log "examples/$name failed: see $out/c_$tag.err"; mv "$out/c_$tag.txt" "$out/c_$tag.failed"; }
}

# py_profile SCRIPT TAG [ARGS]: run examples/python/SCRIPT under python3-mprof.
py_profile() {
    local script=$1 tag=$2; shift 2
    [ $have_mprof = 1 ] || return 1
    log "python3-mprof run $script $*"
    (cd "$pyex" && "$MPROF" run -T "$T" -o "$out/py_$tag.dat" "$script" "$@") \
        >"$out/py_$tag.txt" 2>"$out/py_$tag.err" || return 1
    # mprof's own chatter ("mprof: Sampling memory every ...") is not the script's output.
    sed -i -e '/^python3-mprof: /d' -e '/^mprof: /d' -e '/^running /d' "$out/py_$tag.txt"
    "$recycle" plot -o "$out/py_$tag.png" -t "CPython: python3-mprof run $script $*" "$out/py_$tag.dat" >/dev/null
}

py_run() {
    local script=$1 tag=$2; shift 2
    [ $have_py = 1 ] || return 1
    log "python3 $script $*"
    (cd "$pyex" && "$PY" "$script" "$@") >"$out/py_$tag.txt" 2>"$out/py_$tag.err"
}

# The figures themselves come from scripts/demo_figures.c (built beside
# the examples), which reads the .dat profiles and the RESULT lines.
figures() { "$build/scripts/demo_figures" "$@"; }
result() { figures result "$@"; }

# show_output FILE: the program's output without its RESULT lines.
show_output() { grep -v '^RESULT ' "$1" | code_block; }

# ---- the report ------------------------------------------------------------

report_begin "recycle demo: the seed experiments in C"
para "Every number below was measured by this run ($mode) on $(uname -m) with $(nproc) cores, $(date -u '+%Y-%m-%d %H:%M UTC'), load average $load when it started (times depend on it; memory does not). Each experiment is a short program under \`examples/\` (recycle, in C) and, beside it, the same experiment as a Python script under \`examples/python/\`, run by CPython."
if [ $have_py = 0 ]; then
    para "**CPython is not available here** ($PY not found): the CPython column is empty in every experiment."
elif [ $have_mprof = 0 ]; then
    para "**python3-mprof (memory_profiler) is not available here**: CPython's memory plots are missing; the other CPython figures are shown."
else
    para "CPython: $("$PY" --version 2>&1) at \`$PY\`, profiled with Debian's \`python3-mprof\` (memory_profiler). Our plots are drawn by \`recycle plot\` from the \`.dat\` files \`recycle run\` wrote; CPython's \`.dat\` files (written by mprof) are drawn by the same \`recycle plot\`."
fi

. "$src/scripts/demo_experiments.sh"
run_c_side
run_py_profiles
run_py_others
run_experiments

para "Demo finished in $(( $(date +%s) - started )) s."
report_end
log "wrote $out/REPORT.md and $out/index.html in $(( $(date +%s) - started )) s"
