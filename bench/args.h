/* bench/args.h: the benchmarks' one command-line argument, an object count. */
#ifndef RC_BENCH_ARGS_H
#define RC_BENCH_ARGS_H

#include <stdio.h>
#include <stdlib.h>

/* arg as a count in [lo, hi]; anything else prints what was wrong and the
 * usage line, and exits with status 2. */
static inline size_t bench_count_arg(const char *prog, const char *arg, size_t lo, size_t hi, const char *usage)
{
    char *end;
    unsigned long long v = strtoull(arg, &end, 10);
    if (arg[0] == '-' || end == arg || *end || v < lo || v > hi) {
        fprintf(stderr, "%s: '%s' is not an object count (%zu to %zu)\nusage: %s\n", prog, arg, lo, hi, usage);
        exit(2);
    }
    return (size_t)v;
}

#endif
