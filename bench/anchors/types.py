# CPython anchor for bench/types: the same operations as bench/types.c,
# timed inside Python with time.process_time (CPU time, as bench/types);
# prints "name ns_per_op faults_per_1000_ops" for the best round of each.
import resource, sys, time

n = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
rounds = int(sys.argv[2]) if len(sys.argv) > 2 else 3
intern = sys.intern
best = {}


def now():
    return time.process_time(), resource.getrusage(resource.RUSAGE_SELF).ru_minflt


def record(name, start, end):
    ns = (end[0] - start[0]) * 1e9 / n
    if ns < best.get(name, (1e30, 0))[0]:
        best[name] = (ns, (end[1] - start[1]) * 1e3 / n)


def lists():
    xs = list(range(n))
    l = []
    app = l.append
    t0 = now()
    for x in xs:
        app(x)
    record("list_append", t0, now())
    l = []
    app = l.append
    t0 = now()
    for i in range(n):
        app(i)
    record("list_append_new_int", t0, now())


def dicts(make):
    keys = [make(i) for i in range(n)]
    probes = [make(i) for i in range(n)]   # equal, not identical: hashed and compared
    d = {}
    kind = "str" if make is str else "int"
    t0 = now()
    for k in keys:
        d[k] = k
    record("dict_set_" + kind, t0, now())
    t0 = now()
    for k in probes:
        d[k]
    record("dict_get_" + kind, t0, now())


def interning():
    strs = ["s%d" % i for i in range(n)]
    t0 = now()
    for s in strs:
        intern(s)
    record("str_intern", t0, now())


for _ in range(rounds):
    lists()
    dicts(lambda i: i + 0)
    dicts(str)
    interning()
for name, (ns, kfaults) in best.items():
    print(name, ns, kfaults)
