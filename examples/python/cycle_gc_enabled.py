"""Experiment 4 in CPython: the same cycle with gc enabled: still stairs."""
import gc
from seed import three_calls


def show_count(call, after):
    if after:
        print(f"after call {call}: gc.get_count() = {gc.get_count()}")
        print(f"RESULT count0_after_call{call} {gc.get_count()[0]}")


print("gc.isenabled():", gc.isenabled(), "thresholds", gc.get_threshold())
three_calls("list", self_ref=True, hook=show_count)
