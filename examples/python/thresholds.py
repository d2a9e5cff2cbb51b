"""Experiment 7 in CPython: thresholds, counts, and collections per
generation over the same allocation-heavy loop as examples/thresholds.c."""
import gc
import os
import sys
import time

print("gc.get_threshold():", gc.get_threshold())
print("gc.get_count():    ", gc.get_count())
print("gc.collect():      ", gc.collect())
gc.set_threshold(100, 5, 5)
print("after gc.set_threshold(100, 5, 5):", gc.get_threshold())

STEPS = int(os.environ.get("DEMO_GC_STEPS", "200000"))
ROWS = 100


def run(t0, t1, t2, series):
    runs = [0, 0, 0]

    def count(phase, info):
        if phase == "stop":
            runs[info["generation"]] += 1

    gc.collect()
    gc.set_threshold(t0, t1, t2)
    gc.callbacks.append(count)
    kept = []
    start = time.perf_counter()
    for i in range(1, STEPS + 1):
        a, b = [], []
        a.append(b)
        b.append(a)
        if i % 8 == 0:
            kept.append(a)
        if i % (STEPS // ROWS) == 0:
            series.append(list(runs))
    secs = time.perf_counter() - start
    gc.callbacks.remove(count)
    print(f"thresholds ({t0}, {t1}, {t2}): {runs[0]}, {runs[1]}, {runs[2]} collections "
          f"of generations 0, 1, 2 (loop {secs * 1e3:.1f} ms)")
    print(f"RESULT runs_{t0} {runs[0]} {runs[1]} {runs[2]}")


dflt, low = [], []
run(700, 10, 10, dflt)
run(100, 5, 5, low)
if len(sys.argv) > 1:       # the same table as examples/thresholds.c writes
    with open(sys.argv[1], "w") as f:
        f.write("steps gen0_(700,10,10) gen1_(700,10,10) gen2_(700,10,10) "
                "gen0_(100,5,5) gen1_(100,5,5) gen2_(100,5,5)\n")
        for r, (a, b) in enumerate(zip(dflt, low)):
            f.write(f"{(r + 1) * (STEPS // ROWS)} {a[0]} {a[1]} {a[2]} {b[0]} {b[1]} {b[2]}\n")
