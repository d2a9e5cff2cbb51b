# One row of bench/anchors/types.py, in the same loop shape, run `reps`
# times, for counting what one round costs CPython under callgrind: the
# difference between reps 2 and reps 1 is one round (keys are made once,
# outside it).  docs/types.md, "What moves with the host".
#   valgrind --tool=callgrind --cache-sim=yes python3 types_row.py append 1
#   valgrind --tool=callgrind --cache-sim=yes python3 types_row.py append 2
import sys

row, reps = sys.argv[1], int(sys.argv[2])
n = int(sys.argv[3]) if len(sys.argv) > 3 else 1_000_000
xs = list(range(n))
keys = [i + 0 for i in range(n)]
probes = [i + 0 for i in range(n)]   # equal, not identical: hashed and compared


def append():
    l = []
    app = l.append
    for x in xs:
        app(x)


def dict_int():   # insert, then look up: the two int-keyed rows
    d = {}
    for k in keys:
        d[k] = k
    for k in probes:
        d[k]


for _ in range(reps):
    {"append": append, "dict_int": dict_int}[row]()
