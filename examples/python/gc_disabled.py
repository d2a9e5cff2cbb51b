"""Experiment 2 in CPython: gc.disable() changes nothing, refcounting frees.

With the argument "reenable" the script calls gc.enable() before it ends:
memory_profiler's brackets (FUNC lines) then reach its .dat file, which
they do not when the collector is still disabled at exit (seed 001's
"the gc package is messing with the brackets")."""
import gc
import sys
from seed import three_calls

gc.disable()
print("gc.isenabled():", gc.isenabled())
three_calls("list")
if sys.argv[1:] == ["reenable"]:
    gc.enable()
