/* A memory spike shorter than the sampling interval, the case
 * memory_profiler misses (its issue #277).
 *
 *     profile_spike [MiB [hold_ms [before_ms [after_ms]]]]   (200 20 150 300)
 *
 * Sleeps, maps MiB of memory with MAP_POPULATE (the fastest way to make
 * it resident: faulting it page by page takes longer than the spike),
 * holds it hold_ms, gives it back to the OS, sleeps again.  `recycle run -T 0.1 ./profile_spike` records the
 * spike as a PEAK line; `recycle peak` and `recycle plot` show it. */
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

static long arg(int argc, char **argv, int i, long dflt)
{
    return argc > i ? strtol(argv[i], NULL, 10) : dflt;
}

int main(int argc, char **argv)
{
    size_t bytes = (size_t)arg(argc, argv, 1, 200) << 20;
    usleep((useconds_t)arg(argc, argv, 3, 150) * 1000);
    char *p = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
    if (p == MAP_FAILED)
        return 1;
    for (size_t i = 0; i < bytes; i += 4096)
        ((volatile char *)p)[i] = 7;
    usleep((useconds_t)arg(argc, argv, 2, 20) * 1000);
    munmap(p, bytes);
    usleep((useconds_t)arg(argc, argv, 4, 300) * 1000);
    return 0;
}
