"""Experiment 2 in CPython: gc.disable() changes nothing, refcounting frees."""
import gc
from seed import three_calls

gc.disable()
print("gc.isenabled():", gc.isenabled())
three_calls("list")
