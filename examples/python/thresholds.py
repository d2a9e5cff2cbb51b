"""Experiment 7 in CPython: thresholds, counts, and collections per
generation over the same allocation-heavy loop as examples/thresholds.c."""
import gc
import os
import time

print("gc.get_threshold():", gc.get_threshold())
print("gc.get_count():    ", gc.get_count())
print("gc.collect():      ", gc.collect())
gc.set_threshold(100, 5, 5)
print("after gc.set_threshold(100, 5, 5):", gc.get_threshold())

STEPS = int(os.environ.get("DEMO_GC_STEPS", "200000"))


def run(t0, t1, t2):
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
    secs = time.perf_counter() - start
    gc.callbacks.remove(count)
    print(f"thresholds ({t0}, {t1}, {t2}): {runs[0]}, {runs[1]}, {runs[2]} collections "
          f"of generations 0, 1, 2 (loop {secs * 1e3:.1f} ms)")
    print(f"RESULT runs_{t0} {runs[0]} {runs[1]} {runs[2]}")


run(700, 10, 10)
run(100, 5, 5)
