# CPython anchor for bench/types: the same operations as bench/types.c,
# timed inside Python with time.perf_counter; prints "name ns_per_op".
import sys, time

n = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
rounds = int(sys.argv[2]) if len(sys.argv) > 2 else 3
intern = sys.intern
best = {}


def record(name, seconds):
    best[name] = min(best.get(name, 1e30), seconds * 1e9 / n)


def lists():
    xs = list(range(n))
    l = []
    app = l.append
    t0 = time.perf_counter()
    for x in xs:
        app(x)
    t1 = time.perf_counter()
    l = []
    app = l.append
    t2 = time.perf_counter()
    for i in range(n):
        app(i)
    t3 = time.perf_counter()
    record("list_append", t1 - t0)
    record("list_append_new_int", t3 - t2)


def dicts(make):
    keys = [make(i) for i in range(n)]
    probes = [make(i) for i in range(n)]   # equal, not identical: hashed and compared
    d = {}
    t0 = time.perf_counter()
    for k in keys:
        d[k] = k
    t1 = time.perf_counter()
    for k in probes:
        d[k]
    t2 = time.perf_counter()
    kind = "str" if make is str else "int"
    record("dict_set_" + kind, t1 - t0)
    record("dict_get_" + kind, t2 - t1)


def interning():
    strs = ["s%d" % i for i in range(n)]
    t0 = time.perf_counter()
    for s in strs:
        intern(s)
    record("str_intern", time.perf_counter() - t0)


for _ in range(rounds):
    lists()
    dicts(lambda i: i + 0)
    dicts(str)
    interning()
for name, ns in best.items():
    print(name, ns)
