/* bench/measure.h: what the benchmarks measure with -- a clock in
 * nanoseconds, the process's resident memory, and mimalloc, loaded at run
 * time so that its malloc does not replace the process's own. */
#ifndef RC_BENCH_MEASURE_H
#define RC_BENCH_MEASURE_H

#include <dlfcn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

/* CLOCK_THREAD_CPUTIME_ID where the machine is shared: wall time would
 * count the time other processes ran. */
static inline uint64_t bench_clock_ns(clockid_t id)
{
    struct timespec ts;
    clock_gettime(id, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Resident bytes of this process (0 when /proc is not there). */
static inline size_t bench_rss_bytes(void)
{
    FILE *f = fopen("/proc/self/statm", "r");
    unsigned long long size = 0, resident = 0;
    if (f) {
        if (fscanf(f, "%llu %llu", &size, &resident) != 2)
            resident = 0;
        fclose(f);
    }
    return (size_t)resident * (size_t)sysconf(_SC_PAGESIZE);
}

/* mi_malloc and mi_free from libmimalloc.so.2; on failure prints what is
 * missing and exits with status 2. */
static inline void bench_load_mimalloc(void *(**mi_malloc)(size_t), void (**mi_free)(void *))
{
    void *lib = dlopen("libmimalloc.so.2", RTLD_NOW | RTLD_LOCAL);
    if (lib) {
        *mi_malloc = (void *(*)(size_t))dlsym(lib, "mi_malloc");
        *mi_free = (void (*)(void *))dlsym(lib, "mi_free");
    }
    if (!lib || !*mi_malloc || !*mi_free) {
        fprintf(stderr, "cannot load mi_malloc/mi_free from libmimalloc.so.2 (apt-get install libmimalloc2.0)\n");
        exit(2);
    }
}

#endif
