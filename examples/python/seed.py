"""The function seed 001's mprof experiments call three times, in CPython.

The same sizes as examples/seed_arrays.h (DEMO_N, DEMO_SLEEP_MS); "list"
builds a list of int objects, "array" a numpy array when numpy is there.
Run under `python3-mprof run`, @profile gives each call its bracket.
"""
import os
import random
import sys
import time

try:
    profile  # injected by memory_profiler under `mprof run`
except NameError:
    def profile(f):
        return f

N = int(os.environ.get("DEMO_N", "5000000"))
SLEEP = int(os.environ.get("DEMO_SLEEP_MS", "1000")) / 1000.0


def random_ints(kind):
    if kind == "array":
        import numpy as np
        return np.random.randint(0, 1_000_000, size=N)
    return random.choices(range(1_000_000), k=N)


@profile
def average_ints(kind, self_ref):
    ints = random_ints(kind)
    holder = ints
    if self_ref:                  # seed 001's gc_cr.py: a list that holds itself
        holder = [ints]
        holder.append(holder)
    avg = sum(ints) / len(ints)
    time.sleep(SLEEP)
    return avg


def three_calls(kind="list", self_ref=False, hook=None):
    time.sleep(SLEEP / 2)
    for call in (1, 2, 3):
        if hook:
            hook(call, False)
        print(f"call {call}: average {average_ints(kind, self_ref):.1f}")
        if hook:
            hook(call, True)
        sys.stdout.flush()
        time.sleep(SLEEP / 2)
