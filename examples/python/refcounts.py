"""Experiment 6 in CPython: the seeds' sys.getrefcount examples."""
import sys

custom_test_var = []
a = sys.getrefcount(custom_test_var)
custom_list = [custom_test_var]
b = sys.getrefcount(custom_list)
c = sys.getrefcount(custom_test_var)
print(f"RESULT a {a}\nRESULT b {b}\nRESULT c {c}")

x = []
r1 = sys.getrefcount(x)
y = x
r2 = sys.getrefcount(x)
del y
r3 = sys.getrefcount(x)
print(f"RESULT alias_before {r1}\nRESULT alias_after_b {r2}\nRESULT alias_after_del {r3}")
