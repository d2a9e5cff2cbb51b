"""Experiment 5 in CPython: gc.collect() between the second and the third call, timed."""
import gc
import sys
import time
from seed import three_calls


def collect_after_second(call, after):
    if call == 2 and after:
        t0 = time.perf_counter()
        found = gc.collect()
        ms = (time.perf_counter() - t0) * 1e3
        print(f"gc.collect() took {ms:.3f} ms: {found} unreachable objects found")
        print(f"RESULT collect_ms {ms:.3f}\nRESULT collect_found {found}")


three_calls(sys.argv[1] if len(sys.argv) > 1 else "list", self_ref=True, hook=collect_after_second)
