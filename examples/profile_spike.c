/* Memory spikes shorter than the sampling interval, the case
 * memory_profiler misses (its issue #277).
 *
 *     profile_spike [MiB[,MiB...] [hold_ms [before_ms [after_ms [maxrss]]]]]
 *                                                     (200 20 150 300)
 *
 * For each MiB in turn: sleeps before_ms, maps MiB of memory with
 * MAP_POPULATE (the fastest way to make it resident: faulting it page by
 * page takes longer than the spike), holds it hold_ms, gives it back to
 * the OS.  Then sleeps after_ms; with "maxrss" it prints the peak it reads
 * of itself, getrusage's ru_maxrss, as `maxrss_kib N`.  `recycle run -T 0.1
 * ./profile_spike` records the spike as a PEAK line; `recycle peak` and
 * `recycle plot` show it. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <unistd.h>

static long arg(int argc, char **argv, int i, long dflt)
{
    return argc > i ? strtol(argv[i], NULL, 10) : dflt;
}

static int spike(size_t bytes, long hold_ms)
{
    char *p = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
    if (p == MAP_FAILED)
        return 1;
    for (size_t i = 0; i < bytes; i += 4096)
        ((volatile char *)p)[i] = 7;
    usleep((useconds_t)hold_ms * 1000);
    munmap(p, bytes);
    return 0;
}

int main(int argc, char **argv)
{
    const char *sizes = argc > 1 ? argv[1] : "200";
    for (char *next; *sizes; sizes = *next ? next + 1 : next) {
        size_t bytes = (size_t)strtol(sizes, &next, 10) << 20;
        usleep((useconds_t)arg(argc, argv, 3, 150) * 1000);
        if (spike(bytes, arg(argc, argv, 2, 20)))
            return 1;
    }
    usleep((useconds_t)arg(argc, argv, 4, 300) * 1000);
    struct rusage ru;
    if (argc > 5 && !strcmp(argv[5], "maxrss") && getrusage(RUSAGE_SELF, &ru) == 0)
        printf("maxrss_kib %ld\n", ru.ru_maxrss);
    return 0;
}
