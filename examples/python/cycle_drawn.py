"""Experiment 10 in CPython: seed 003's dict cycle drawn by objgraph.show_refs
(seed 004).  objgraph needs Graphviz's `dot` program on PATH."""
import gc
import sys

import objgraph

Object1 = {}
Object2 = {}
Object1["second"] = Object2
Object1["first"] = Object1
objgraph.show_refs([Object1, Object2], filename=sys.argv[1] if len(sys.argv) > 1 else "objects.png",
                   refcounts=True)
del Object1, Object2
print("gc.collect() =", gc.collect(), "(an empty dict is not even tracked in CPython: only Object1 counts)")
