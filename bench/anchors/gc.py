"""CPython anchor for bench/gc: the same shapes, timed inside CPython.

Prints one line per measurement:  <shape> <n> <live|garbage|gen0> <ns_per_object>
(live-cpu and garbage-cpu: the same collections in the thread's CPU time)
and, given seed=N, seed 001's experiment 5 (two dead self-referencing lists
of N ints, one gc.collect()), three times:  seed <N> collect <ns>, the
thread's CPU time  seed <N> cpu <ns>  and the resident MiB above the start
right after the collection  seed <N> rss <MiB>.  With seed=N and no sizes,
only the seed experiment runs.
"""
import gc
import os
import random
import sys
import time


class Node:
    __slots__ = ("a", "b", "c")


def rings(n):
    heads = []
    for _ in range(n // 10):
        first = prev = Node()
        for _ in range(9):
            x = Node()
            prev.a = x
            prev = x
        prev.a = first
        heads.append(first)
    return heads


def random_graph(n, rng):
    nodes = [Node() for _ in range(n)]
    for x in nodes:
        x.a = nodes[rng.randrange(n)]
        x.b = nodes[rng.randrange(n)]
        x.c = nodes[rng.randrange(n)]
    return nodes[::10]


def timed_collect(gen=2):
    t0 = time.perf_counter_ns()
    gc.collect(gen)
    return time.perf_counter_ns() - t0


def timed_full_collect():
    """Wall-clock and this thread's CPU time of a full collection, ns."""
    t0, c0 = time.perf_counter_ns(), time.thread_time_ns()
    gc.collect()
    return time.perf_counter_ns() - t0, time.thread_time_ns() - c0


def seed_holder(n):
    ints = random.choices(range(1_000_000), k=n)   # as seed 001 draws them
    holder = [ints]
    holder.append(holder)
    return holder


def rss_mib():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 1048576


def seed(n):
    for _ in range(3):                                 # SEED_REPEATS in bench/gc.c
        gc.collect()
        rss0 = rss_mib()
        for _ in range(2):
            seed_holder(n)
        c0 = time.thread_time_ns()
        wall = timed_collect()
        cpu = time.thread_time_ns() - c0
        print(f"seed {n} collect {wall}", flush=True)
        print(f"seed {n} cpu {cpu}", flush=True)
        print(f"seed {n} rss {rss_mib() - rss0:.1f}", flush=True)


def main():
    args = [a for a in sys.argv[1:] if not a.startswith("seed=")]
    seed_n = [int(a[5:]) for a in sys.argv[1:] if a.startswith("seed=")]
    sizes = [int(s) for s in args] or ([] if seed_n else [100000, 1000000])
    rng = random.Random(42)
    gc.disable()
    for n in sizes:
        for shape in ("rings", "random"):
            roots = rings(n) if shape == "rings" else random_graph(n, rng)
            gc.collect()
            live = [timed_full_collect() for _ in range(5)]   # LIVE_REPEATS in bench/gc.c
            print(f"{shape} {n} live {min(t[0] for t in live) / n:.2f}", flush=True)
            print(f"{shape} {n} live-cpu {min(t[1] for t in live) / n:.2f}", flush=True)
            del roots
            dead = timed_full_collect()
            print(f"{shape} {n} garbage {dead[0] / n:.2f}", flush=True)
            print(f"{shape} {n} garbage-cpu {dead[1] / n:.2f}", flush=True)
    # gen-0 collection with a large old generation
    for n in sizes:
        old = rings(n)
        gc.collect()
        times = []
        for _ in range(5):
            young = [Node() for _ in range(699)]
            times.append(timed_collect(0))
        print(f"gen0 {n} gen0 {min(times):.0f}", flush=True)
        del old, young
        gc.collect()
    for n in seed_n:
        seed(n)


main()
