# bench/mem's CPython anchor: the same program as bench/mem.c's children.
# usage: python3 mem.py SHAPE N   (SHAPE: list or rings)
# Prints the resident size in bytes before the objects are made, at the
# peak, after they are dropped and gc.collect() has run, settled (60 ms
# after it is back within 16 MiB of before) and later (then 10^4 objects
# made and dropped), from /proc/self/statm; then the milliseconds until it
# was back (polled every millisecond for at most 1 s; -1 when not back).
import gc
import os
import sys
import time


class Node:
    __slots__ = ("a", "b")


def rss():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def ms_until_back(before):
    for ms in range(1001):
        if rss() <= before + 16 * 1048576:
            return ms
        time.sleep(0.001)
    return -1


def make(shape, n):
    nodes = []
    first = prev = None
    for i in range(n):
        x = Node()
        if shape == "rings":
            if i % 10 == 0:
                first = x
            else:
                prev.a = x
            if i % 10 == 9 or i == n - 1:
                x.a = first
            prev = x
        nodes.append(x)
    return nodes


def main():
    shape, n = sys.argv[1], int(sys.argv[2])
    gc.disable()
    before = rss()
    nodes = make(shape, n)
    peak = rss()
    del nodes
    gc.collect()
    after = rss()
    back = ms_until_back(before)
    time.sleep(0.06)
    settled = rss()
    tmp = make("list", 10000)
    del tmp
    later = rss()
    print(before, peak, after, settled, later, back)


main()
