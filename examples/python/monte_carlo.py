"""Experiment 8 in CPython: seed 000's BaseLibrary experiment, traced with
tracemalloc exactly as the seed does.  The walk library is written here
(the seed does not show BaseLibraryNew); examples/monte_carlo.c is the same
code in C."""
import math
import random
import sys
import tracemalloc as tracer

STEPS = ((0, 1), (0, -1), (1, 0), (-1, 0))


def random_walk(n):
    x = y = 0
    path = []
    for _ in range(n):
        dx, dy = random.choice(STEPS)
        x += dx
        y += dy
        path.append((x, y))
    return path


def distance(path):
    x, y = path[-1]
    return math.sqrt(x * x + y * y)


def monte_carlo_walk_analysis(max_len, n_walks):
    walks = {length: [random_walk(length) for _ in range(n_walks)] for length in range(1, max_len + 1)}
    result = {length: [distance(w) for w in all_walks] for length, all_walks in walks.items()}
    result["walks"] = walks
    return result


def monte_carlo_walk(max_len, n_walks):
    return {length: [distance(random_walk(length)) for _ in range(n_walks)]
            for length in range(1, max_len + 1)}


n_walks = int(sys.argv[1]) if len(sys.argv) > 1 else 10_000
tracer.start()

walk_dict = monte_carlo_walk_analysis(20, n_walks)
walk_snapshot = tracer.take_snapshot()
_, walk_peak = tracer.get_traced_memory()
tracer.reset_peak()
tracer.stop()

tracer.start()
dist_dict = monte_carlo_walk(20, n_walks)
dist_snapshot = tracer.take_snapshot()
_, dist_peak = tracer.get_traced_memory()

diff = dist_snapshot.compare_to(walk_snapshot, 'lineno')

print(f"Peak memory used with walk saving: {walk_peak}")
print(f"Peak memory used without walk saving: {dist_peak}")

print("[ Difference in the 10 most allocation heavy lines ]")
for entry in diff[:10]:
    print(entry)
print(f"RESULT walk_peak {walk_peak}\nRESULT dist_peak {dist_peak}")
