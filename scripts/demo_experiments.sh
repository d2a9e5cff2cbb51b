# The ten experiments of `make demo`, sourced by scripts/demo.sh (which
# defines the runners c_profile / c_run / py_profile / py_run, figures,
# result, show_output and the report writers of scripts/demo_report.sh).
#
# run_c_side runs our programs, run_py_profiles and run_py_others CPython's
# scripts, one after the other (a CPython run beside ours would slow the
# runs whose times the report gives); then each exp_* writes its section
# from the files they left.
# An experiment whose program is not in this build says so.

run_c_side() {
    local name
    have baseline_list && c_profile baseline_list list
    have baseline_array && c_profile baseline_array array
    have gc_disabled && c_profile gc_disabled gc_disabled
    have cycle_gc_disabled && c_profile cycle_gc_disabled cycle_gc_disabled
    have cycle_gc_enabled && c_profile cycle_gc_enabled cycle_gc_enabled
    if have manual_collect; then
        c_profile manual_collect manual_collect
        c_profile manual_collect manual_collect_array array
    fi
    have refcounts && c_run refcounts refcounts
    have thresholds && c_run thresholds thresholds c_thresholds.series
    have monte_carlo && c_run monte_carlo monte_carlo "$WALKS"
    for name in slots_vs_dict view_vs_copy generator_vs_list; do
        have $name && c_run $name $name
    done
    have cycle_drawn && c_run cycle_drawn cycle_drawn c_objects.png
    return 0
}

# CPython's side.  Every step may fail (no python3, no mprof, a missing
# module): the sections say so.
run_py_profiles() {
    [ $have_py = 1 ] || return 0
    py_profile baseline.py list list || true
    py_profile baseline.py array array || true
    py_profile gc_disabled.py gc_disabled || true
    # Seed 001's puzzle: where did mprof's brackets go?  The same run with
    # gc.enable() before exit, to count the FUNC lines that arrive.
    py_profile gc_disabled.py gc_reenabled reenable || true
    py_profile cycle_gc_disabled.py cycle_gc_disabled || true
    py_profile cycle_gc_enabled.py cycle_gc_enabled || true
    return 0
}

run_py_others() {
    [ $have_py = 1 ] || return 0
    py_run monte_carlo.py monte_carlo "$WALKS" || true
    py_profile manual_collect.py manual_collect || true
    py_profile manual_collect.py manual_collect_array array || true
    py_run refcounts.py refcounts || true
    py_run thresholds.py thresholds "$out/py_thresholds.series" || true
    if "$PY" -c 'import objgraph' 2>/dev/null && command -v dot >/dev/null; then
        py_run cycle_drawn.py cycle_drawn "$out/py_objects.png" || true
    fi
    return 0
}

not_built() { missing "Not available in this build: examples/$1 was not built (its library part has not landed)."; }

# ran NAME TAG: true when examples/NAME ran and left c_TAG.txt; otherwise
# the section says why there is nothing to show.
ran() {
    if ! have "$1"; then not_built "$1"; return 1; fi
    if [ ! -s "$out/c_$2.txt" ]; then
        missing "examples/$1 failed in this run; its error output is in $(basename "$out")/c_$2.err."
        return 1
    fi
}
py_missing() {
    if [ $have_py = 0 ]; then missing "CPython's side: $PY is not available here."
    elif [ "${1:-}" = mprof ] && [ $have_mprof = 0 ]; then missing "CPython's side: python3-mprof is not available here."
    else missing "CPython's side failed: see $(basename "$out")/py_$2.err."; fi
}

# A row per profile of the seed function: the level before the first
# call, then each call's max and the level after it.  Arguments: label, file.
calls_rows() {
    [ -s "$2" ] || return 0
    figures calls-row "$1" "$2"
}

calls_table() {
    local rows=() r
    while [ $# -gt 0 ]; do
        r=$(calls_rows "$1" "$2"); [ -n "$r" ] && rows+=("$r")
        shift 2
    done
    table "MiB|before|call 1: max → after|call 2: max → after|call 3: max → after" "${rows[@]}"
}

# call_levels FILE: "base max1 after1 max2 after2 max3 after3" on one line.
call_levels() { figures call-levels "$1"; }

# Figures of one profile experiment, ours then CPython's.
profile_figures() {
    local tag=$1 what=$2
    figure "$out/c_$tag.png" "recycle (C): $what"
    [ -s "$out/py_$tag.png" ] && figure "$out/py_$tag.png" "CPython: $what"
    return 0
}

exp_baseline() {
    section_begin "1. Baseline: three calls, three bumps"
    if ! ran baseline_list list; then section_end; return; fi
    read -r base m1 x1 _ < <(call_levels "$out/c_list.dat")
    para "\`examples/baseline_list.c\` calls \`average_ints\` three times: it builds a recycle list of $DEMO_N random int objects, averages it, sleeps ${DEMO_SLEEP_MS} ms and returns. \`examples/baseline_array.c\` does the same with one int64 array (as numpy's \`randint\`). The function opens a bracket with \`RC_PROFILE_FUNC()\`, which \`recycle run\` records as a FUNC line, so each call is bracketed on the plot."
    para "**What you see:** three separate bumps, one per call, each inside its bracket. Memory rises from $base MiB to $m1 MiB while the list exists and is back at $x1 MiB after the first call: when the function drops its last reference, reference counting frees the list and its ints at once — still inside the bracket — and the allocator returns the emptied arenas to the OS, keeping a few as spares for the next call ($(figures difference "$x1" "$base") MiB more than before the call). The array variant makes the same picture with a smaller bump (one buffer of 8 bytes per number instead of an object per number)."
    calls_table "recycle list" "$out/c_list.dat" "recycle array" "$out/c_array.dat" \
                "CPython list" "$out/py_list.dat" "CPython numpy array" "$out/py_array.dat"
    [ -s "$out/py_list.dat" ] || py_missing mprof list
    show_output "$out/c_list.txt"
    profile_figures list "baseline, list of $DEMO_N ints"
    profile_figures array "baseline, array of $DEMO_N int64"
    section_end
}

exp_gc_disabled() {
    section_begin "2. Collector disabled: the same picture"
    if ! ran gc_disabled gc_disabled; then section_end; return; fi
    read -r base m1 x1 _ < <(call_levels "$out/c_gc_disabled.dat")
    para "\`examples/gc_disabled.c\` calls \`rc_gc_disable(h)\` before the arrays are made (seed 001's gc.py)."
    para "**What you see:** the same three bumps ($base → $m1 → $x1 MiB for the first call). The lists hold no cycle, so their refcount reaches 0 when the function returns and they die at once. \`rc_gc_disable\` stops only the cycle collector — reference counting cannot be disabled — and the collector ran $(result "$out/c_gc_disabled.txt" collections) times."
    calls_table "recycle, gc disabled" "$out/c_gc_disabled.dat" "CPython, gc.disable()" "$out/py_gc_disabled.dat"
    if [ -s "$out/py_gc_disabled.dat" ]; then
        local off on
        off=$(grep -c '^FUNC' "$out/py_gc_disabled.dat" || true)
        on=$(grep -c '^FUNC' "$out/py_gc_reenabled.dat" 2>/dev/null || true)
        para "CPython's plot shows the bumps but no brackets — what seed 001 saw (\"the gc package is messing with the brackets … No idea what is going on here\"). memory_profiler writes its FUNC lines when the script ends, through an output file it never closes, so they reach the disk only when that file object is finalized; with the collector still disabled at exit they never do. This run checks it: the .dat file got ${off} FUNC lines with gc disabled at exit, and ${on:-no} when the same script calls \`gc.enable()\` before it ends. recycle's brackets are each written with one \`write(2)\` as they close, so nothing the program does to its collector can lose them."
    else
        py_missing mprof gc_disabled
    fi
    profile_figures gc_disabled "collector disabled, list of $DEMO_N ints"
    [ -s "$out/py_gc_reenabled.png" ] &&
        figure "$out/py_gc_reenabled.png" "CPython: the same script ending with gc.enable(): the brackets are back"
    section_end
}

exp_cycle_disabled() {
    section_begin "3. A list that holds itself, collector disabled: stairs"
    if ! ran cycle_gc_disabled cycle_gc_disabled; then section_end; return; fi
    read -r base _ _ _ _ _ final < <(call_levels "$out/c_cycle_gc_disabled.dat")
    para "\`examples/cycle_gc_disabled.c\`: inside the function a list holds the ints and also a reference to itself (seed 001's gc_cr.py), and the collector is disabled."
    para "**What you see:** stairs. When the function drops its reference the list's refcount only falls from 2 to 1 — its own reference remains — so reference counting never frees it, nor the ints it holds. Each call adds a step: $base MiB before the first call, $final MiB after the third, with $(result "$out/c_cycle_gc_disabled.txt" live_objects) objects still alive."
    calls_table "recycle" "$out/c_cycle_gc_disabled.dat" "CPython" "$out/py_cycle_gc_disabled.dat"
    if [ ! -s "$out/py_cycle_gc_disabled.dat" ]; then py_missing mprof cycle_gc_disabled
    elif ! grep -q '^FUNC' "$out/py_cycle_gc_disabled.dat"; then
        para "CPython's plot has no brackets, for the reason experiment 2 shows: the collector is still disabled when the script ends."
    fi
    profile_figures cycle_gc_disabled "self-referencing list, collector disabled"
    section_end
}

exp_cycle_enabled() {
    section_begin "4. The same cycle, collector enabled: still stairs"
    if ! ran cycle_gc_enabled cycle_gc_enabled; then section_end; return; fi
    local f=$out/c_cycle_gc_enabled.txt p=$out/py_cycle_gc_enabled.txt
    para "\`examples/cycle_gc_enabled.c\`: the self-referencing list of experiment 3 with the collector left on (seed 001's cr_only.py)."
    para "**What you see:** the same stairs. An automatic collection starts only when count0 — tracked allocations minus deallocations — passes threshold 0 ($(result "$f" threshold0)). The ints hold no references, so they are not tracked and do not count; each call adds just its two lists. After three calls count0 is $(result "$f" count0_after_call3), far below the threshold, so no collection has run ($(result "$f" collections) so far) and the cycles stay. CPython's own count0 moves the same way: $( [ -s "$p" ] && echo "$(result "$p" count0_after_call1), $(result "$p" count0_after_call2), $(result "$p" count0_after_call3) after the three calls, below its threshold too" || echo "not measured here")."
    table "rc_gc_get_count()[0] / gc.get_count()[0]|after call 1|after call 2|after call 3" \
        "recycle|$(result "$f" count0_after_call1)|$(result "$f" count0_after_call2)|$(result "$f" count0_after_call3)" \
        "CPython|$( [ -s "$p" ] && result "$p" count0_after_call1)|$( [ -s "$p" ] && result "$p" count0_after_call2)|$( [ -s "$p" ] && result "$p" count0_after_call3)"
    show_output "$f"
    calls_table "recycle" "$out/c_cycle_gc_enabled.dat" "CPython" "$out/py_cycle_gc_enabled.dat"
    [ -s "$out/py_cycle_gc_enabled.dat" ] || py_missing mprof cycle_gc_enabled
    profile_figures cycle_gc_enabled "self-referencing list, collector enabled"
    section_end
}

exp_manual_collect() {
    section_begin "5. A manual collection before the third call: memory falls back"
    if ! ran manual_collect manual_collect; then section_end; return; fi
    local f=$out/c_manual_collect.txt fa=$out/c_manual_collect_array.txt
    local p=$out/py_manual_collect.txt pa=$out/py_manual_collect_array.txt
    read -r base _ x1 m2 x2 _ final < <(call_levels "$out/c_manual_collect.dat")
    para "\`examples/manual_collect.c\`: the self-referencing list, and \`rc_gc_collect(h, 2)\` after the second call returns, before the third (seed 001's manual_gc_cr.py)."
    para "**What you see:** memory climbs for two calls ($x1 MiB after the first, $m2 MiB in the second), then the collection finds the dead self-referencing lists, clears them, and their ints die with them: before the third call memory is back at $x2 MiB (the run started at $base MiB), and the third call leaves $final MiB: one list, held by its own cycle. The collection took $(result "$f" collect_ms) ms and freed $(result "$f" collect_freed) objects ($(result "$f" collect_found) of them found unreachable by the collector; the ints, which are not tracked, died when the lists were cleared). Most of that time is freeing the ints that die with the lists; when the lists hold int64 arrays instead (the seed used numpy arrays, and measured ~5 ms in CPython) the same collection took $(result "$fa" collect_ms) ms. CPython's times for the same two cases, measured in this run, are in the table."
    table "collection before call 3|time (ms)|found unreachable|objects freed" \
        "recycle, lists of ints|$(result "$f" collect_ms)|$(result "$f" collect_found)|$(result "$f" collect_freed)" \
        "recycle, int64 arrays|$(result "$fa" collect_ms)|$(result "$fa" collect_found)|$(result "$fa" collect_freed)" \
        "CPython gc.collect(), lists of ints|$( [ -s "$p" ] && result "$p" collect_ms)|$( [ -s "$p" ] && result "$p" collect_found)|" \
        "CPython gc.collect(), numpy arrays|$( [ -s "$pa" ] && result "$pa" collect_ms)|$( [ -s "$pa" ] && result "$pa" collect_found)|"
    show_output "$f"
    calls_table "recycle" "$out/c_manual_collect.dat" "CPython" "$out/py_manual_collect.dat"
    [ -s "$out/py_manual_collect.dat" ] || py_missing mprof manual_collect
    profile_figures manual_collect "a manual collection between the second and the third call"
    profile_figures manual_collect_array "the same with int64 arrays (the seed's numpy arrays)"
    section_end
}

exp_refcounts() {
    section_begin "6. Reference counts"
    if ! ran refcounts refcounts; then section_end; return; fi
    local f=$out/c_refcounts.txt p=$out/py_refcounts.txt rows=() k
    para "\`examples/refcounts.c\` repeats the seeds' \`sys.getrefcount\` examples with \`rc_refcount\`, which returns the true count. CPython's \`sys.getrefcount(x)\` shows one more: passing x to the function makes its argument a temporary reference of its own. So the seed's 2, 2, 3 are recycle's 1, 1, 2 — the same objects, counted without the call's own reference."
    for k in "a:custom_test_var = []" "b:custom_list = [custom_test_var]" "c:custom_test_var (also in custom_list)" \
             "alias_before:a = []" "alias_after_b:b = a" "alias_after_del:del b"; do
        local key=${k%%:*} what=${k#*:} c py=""
        c=$(result "$f" "$key")
        [ -s "$p" ] && py=$(result "$p" "$key")
        rows+=("\`$what\`|$c|$((c + 1))|$py")
    done
    table "after|rc_refcount|rc_refcount + 1|CPython sys.getrefcount" "${rows[@]}"
    [ -s "$p" ] || py_missing py refcounts
    show_output "$f"
    section_end
}

exp_thresholds() {
    section_begin "7. Thresholds and generations"
    if ! ran thresholds thresholds; then section_end; return; fi
    local f=$out/c_thresholds.txt p=$out/py_thresholds.txt
    if have demo_chart && [ -s "$out/c_thresholds.series" ]; then
        "$ex/demo_chart" "$out/c_thresholds.series" "$out/c_thresholds.png" \
            "recycle (C): collections per generation, thresholds (700,10,10) vs (100,5,5)" \
            "loop steps (each makes a dead two-list cycle)" "collections so far (log scale)" 3
    fi
    if have demo_chart && [ -s "$out/py_thresholds.series" ]; then
        "$ex/demo_chart" "$out/py_thresholds.series" "$out/py_thresholds.png" \
            "CPython: collections per generation, thresholds (700,10,10) vs (100,5,5)" \
            "loop steps (each makes a dead two-list cycle)" "collections so far (log scale)" 3
    fi
    para "\`examples/thresholds.c\` shows the defaults (700, 10, 10), \`rc_gc_get_count\`, what \`rc_gc_collect\` returns with nothing to free, and \`rc_gc_set_threshold(h, 100, 5, 5)\`. Then it runs one allocation-heavy loop — $DEMO_GC_STEPS steps, each making a dead two-list cycle and keeping one list in eight — under both settings, counting collections per generation with a gc callback."
    para "**What you see:** a generation-0 collection each time count0 passes threshold 0, a generation-1 collection every threshold-1 of those, a full collection every threshold-2 generation-1 collections when the long-lived rule allows. With (100, 5, 5) the collector runs far more often, each time over fewer objects. The chart shows the running totals (solid: (700, 10, 10); dashed: (100, 5, 5))."
    local rows=("recycle (700, 10, 10)|$(result "$f" runs_700 3)|$(result "$f" runs_700 4)|$(result "$f" runs_700 5)"
                "recycle (100, 5, 5)|$(result "$f" runs_100 3)|$(result "$f" runs_100 4)|$(result "$f" runs_100 5)")
    if [ -s "$p" ]; then
        rows+=("CPython (700, 10, 10)|$(result "$p" runs_700 3)|$(result "$p" runs_700 4)|$(result "$p" runs_700 5)"
               "CPython (100, 5, 5)|$(result "$p" runs_100 3)|$(result "$p" runs_100 4)|$(result "$p" runs_100 5)")
    fi
    table "collections|generation 0|generation 1|generation 2" "${rows[@]}"
    if [ -s "$p" ]; then
        para "CPython runs fewer collections for the same loop because a list taken from its free list of 80 recycled lists is not counted as an allocation in count0 (and returning one to it is not counted as a deallocation); recycle counts every tracked allocation, as the rule is written."
    else
        py_missing py thresholds
    fi
    show_output "$f"
    figure "$out/c_thresholds.png" "recycle (C): collections per generation under two threshold settings"
    [ -s "$out/py_thresholds.png" ] && figure "$out/py_thresholds.png" "CPython: the same loop under the same two settings"
    section_end
}

exp_monte_carlo() {
    section_begin "8. Monte-Carlo walks traced: saving every walk versus keeping distances"
    if ! ran monte_carlo monte_carlo; then section_end; return; fi
    local f=$out/c_monte_carlo.txt p=$out/py_monte_carlo.txt
    para "\`examples/monte_carlo.c\` is seed 000's BaseLibrary experiment: \`monte_carlo_walk_analysis(20, $WALKS)\` saves every random walk (a list of (x, y) tuples) in a dict before measuring them; \`monte_carlo_walk(20, $WALKS)\` measures each walk as soon as it is made and keeps only the distances. Both run under recycle's tracer (\`rc_trace_start\`, \`rc_trace_take_snapshot\`, \`rc_trace_get_traced_memory\`, \`rc_trace_reset_peak\`), in the seed's order; \`examples/python/monte_carlo.py\` is the same code under tracemalloc. The seed does not show its BaseLibrary, so the walk code is ours: the figures are comparable between the two columns, not with the seed's 46,826,457 B and 12,909,956 B."
    para "**What you see:** the traced peak with walk saving is $(result "$f" walk_peak) B, without it $(result "$f" dist_peak) B: freeing each walk right after processing keeps the peak near the size of the results. The compare_to('lineno') lines show where the difference lies. They group by the allocation site, which for recycle's built-in types is a line inside the library — the tuple constructor (the positions), the list object and its item buffer — where tracemalloc names the script's line. So the tracer also keeps 8 native frames, and \`rc_snapshot_statistics(walk_snapshot, RC_TRACE_BY_LINENO, cumulative=true)\`, limited to \`monte_carlo.c\`, names this program's lines: the \`random_walk\` call, the tuple of each position, the append that grows each walk."
    table "traced peak (bytes)|with walk saving|without walk saving" \
        "recycle (rc_trace)|$(result "$f" walk_peak)|$(result "$f" dist_peak)" \
        "CPython (tracemalloc)|$( [ -s "$p" ] && result "$p" walk_peak)|$( [ -s "$p" ] && result "$p" dist_peak)" \
        "seed 000 (CPython, its own BaseLibrary)|46826457|12909956"
    para "recycle, \`examples/monte_carlo.c\`:"
    show_output "$f"
    if [ -s "$p" ]; then
        para "CPython, \`examples/python/monte_carlo.py\` (tracemalloc):"
        show_output "$p"
    else
        py_missing py monte_carlo
    fi
    section_end
}

# The three type examples (examples/slots_vs_dict.c, view_vs_copy.c,
# generator_vs_list.c) measure both sides themselves and run CPython's
# version through /usr/bin/python3; each prints a table whose rows start
# with the side's name.  pair NAME prints "small_rc small_py big_rc big_py"
# from it ("-" where CPython was not measured).
pair() { figures pair "$1" "$out/c_$1.txt"; }

exp_types() {
    section_begin "9. Slots versus dict, view versus copy, generator versus list"
    local name rows=() s sp b bp
    para "Three ways the seeds save memory (seeds 002 and 004), each measured on both sides by one program that uses recycle's built-in types and runs the same thing in CPython (/usr/bin/python3, under tracemalloc) in the same run."
    for name in slots_vs_dict view_vs_copy generator_vs_list; do
        ran $name $name || continue
        read -r s sp b bp < <(pair $name) || { missing "examples/$name printed no figures; see $(basename "$out")/c_$name.err."; continue; }
        case $name in
        slots_vs_dict)
            para "**\`__slots__\` versus \`__dict__\`** (\`examples/slots_vs_dict.c\`): a record type whose two fields live in fixed slots inside each instance (\`RC_RECORD_SLOTS\`) takes $s bytes per instance; the same record with a per-instance attribute dict (\`RC_RECORD_DICT\`) takes $b — the dict object and its table come with every instance."
            rows+=("record with two fields (bytes per instance)|slots: $s|$sp|dict: $b|$bp") ;;
        view_vs_copy)
            para "**A view versus a copy** (\`examples/view_vs_copy.c\`): taking half of a million-element int32 array as \`rc_view_new\` (memoryview) costs $s bytes — one small object that points into the array's buffer and holds a reference to it; copying the same half costs $b bytes, the data itself."
            rows+=("half of a 10⁶-element int32 array (bytes)|view: $s|$sp|copy: $b|$bp") ;;
        generator_vs_list)
            para "**A generator versus a list** (\`examples/generator_vs_list.c\`): summing i*i for a million i through a lazy \`rc_gen_map\` pipeline peaks at $s bytes — one item alive at a time; building the list first peaks at $b bytes, every item at once."
            rows+=("sum of i*i, i < 10⁶ (peak bytes)|generator: $s|$sp|list: $b|$bp") ;;
        esac
        show_output "$out/c_$name.txt"
    done
    [ ${#rows[@]} -gt 0 ] && table "measure|smaller side, recycle|CPython|larger side, recycle|CPython" "${rows[@]}"
    section_end
}

exp_cycle_drawn() {
    section_begin "10. A cycle drawn, and why an object is alive"
    if ! ran cycle_drawn cycle_drawn; then section_end; return; fi
    para "\`examples/cycle_drawn.c\` builds seed 003's cycle — \`Object1 = {}; Object2 = {}; Object1[\"second\"] = Object2; Object1[\"first\"] = Object1\` — and draws it with \`rc_graph_show_refs\`, as seed 004 draws with \`objgraph.show_refs([a, b], filename='objects.png')\`; Graphviz renders it inside the process, no \`dot\` program needed."
    para "**What you see:** Object1 (top) refers to itself (the loop arrow) and to Object2 and to its two key strings. Each label shows the type, the refcount and how many of those references come from outside the heap (\`ext\`): both dicts are held once by the C variables, which is what keeps them alive right now. Then \`rc_graph_why_alive\` answers what objgraph can only guess — the chain from the object C holds down to the one asked about — and, once C lets go of the dicts, reports that only their cycle holds them, which \`rc_gc_collect\` then frees."
    show_output "$out/c_cycle_drawn.txt"
    figure "$out/c_objects.png" "recycle (C): rc_graph_show_refs of seed 003's dict cycle"
    if [ -s "$out/py_objects.png" ]; then
        figure "$out/py_objects.png" "CPython: objgraph.show_refs of the same cycle"
        show_output "$out/py_cycle_drawn.txt"
    else
        missing "CPython's side: objgraph or Graphviz's dot is not available here, or it failed."
    fi
    section_end
}

run_experiments() {
    exp_baseline
    exp_gc_disabled
    exp_cycle_disabled
    exp_cycle_enabled
    exp_manual_collect
    exp_refcounts
    exp_thresholds
    exp_monte_carlo
    exp_types
    exp_cycle_drawn
}
