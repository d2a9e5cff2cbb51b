/* bench/faults: what the first touch of fresh memory costs on this host.
 * Every bench/types row that grows a list or a table pays it, and it is the
 * part of those rows that moves with the host (docs/types.md, "What moves
 * with the host").  Maps 64 MiB, writes one byte per 4 KiB page, unmaps;
 * three ways, three rounds each:
 *
 *   2 MiB pages, again at once     round 1 is the process's first use of
 *                                  this memory; later rounds get back the
 *                                  pages the last one freed
 *   4 KiB pages                    what growth in malloc's heap faults
 *   2 MiB pages, after 3 s         time for a host that takes free guest
 *                                  memory back (virtio-balloon free page
 *                                  reporting) to take it
 *
 * and prints the CPU time (user + system) per 4 KiB page and the faults of
 * each round.  Where a 2 MiB page comes from memory the host took back,
 * its first touch costs the host's faults too: several times a warm one.
 * Then what giving the memory back costs per 4 KiB page: munmap, and for
 * small pages also madvise(MADV_DONTNEED) and madvise(MADV_FREE) before
 * the munmap (which then finds nothing, or only lazily freed pages, to
 * free: the madvise's time is the one printed).  A collection that frees
 * a big dead set pays this on the unmapper's thread (src/prim/unmap.c).
 *
 *   bench/faults [MiB]     default 64
 */
#include "args.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#define HUGE ((size_t)2 << 20)
#define PAGE ((size_t)4096)

static double cpu_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static long faults(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_minflt + ru.ru_majflt;
}

enum release { BY_MUNMAP, BY_DONTNEED, BY_FREE };

/* Gives [p, p+n) back as `how` says; CPU ns per 4 KiB page. */
static double release_ns(char *p, size_t n, enum release how)
{
    double t0 = cpu_seconds();
    if (how == BY_MUNMAP)
        munmap(p, n);
    else
        madvise(p, n, how == BY_DONTNEED ? MADV_DONTNEED : MADV_FREE);
    return (cpu_seconds() - t0) * 1e9 / (double)(n / PAGE);
}

/* One round: CPU ns per 4 KiB page of the first touch of n fresh bytes,
 * aligned to 2 MiB, with huge pages asked for or not; *nfaults the faults,
 * *released the CPU ns per 4 KiB page of giving them back. */
static double touch_round(size_t n, bool huge, enum release how, long *nfaults, double *released)
{
    char *raw = mmap(NULL, n + HUGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (raw == MAP_FAILED) {
        perror("bench/faults: mmap");
        exit(1);
    }
    char *p = (char *)(((uintptr_t)raw + HUGE - 1) & ~(uintptr_t)(HUGE - 1));
#ifdef MADV_HUGEPAGE
    if (huge) madvise(p, n, MADV_HUGEPAGE);
#else
    (void)huge;
#endif
    long f0 = faults();
    double t0 = cpu_seconds();
    for (size_t i = 0; i < n; i += PAGE) ((volatile char *)p)[i] = 1;
    double ns = (cpu_seconds() - t0) * 1e9 / (double)(n / PAGE);
    *nfaults = faults() - f0;
    *released = release_ns(p, n, how);
    munmap(raw, n + HUGE);
    return ns;
}

int main(int argc, char **argv)
{
    size_t mib = 64;
    if (argc > 1) mib = bench_count_arg("bench/faults", argv[1], 2, 4096, "bench/faults [MiB] (default 64)");
    size_t n = mib << 20;
    static const struct { const char *what; bool huge; unsigned pause_s; enum release how; } ways[] = {
        {"2 MiB pages, again at once", true, 0, BY_MUNMAP},
        {"4 KiB pages", false, 0, BY_MUNMAP},
        {"4 KiB pages, MADV_DONTNEED", false, 0, BY_DONTNEED},
        {"4 KiB pages, MADV_FREE", false, 0, BY_FREE},
        {"2 MiB pages, after 3 s", true, 3, BY_MUNMAP},
    };
    printf("bench/faults: first touch of %zu MiB, then giving it back: CPU ns per 4 KiB page\n"
           "(3 rounds; touch, its faults / release)\n", mib);
    for (size_t w = 0; w < sizeof ways / sizeof ways[0]; w++) {
        printf("%-30s", ways[w].what);
        for (int r = 0; r < 3; r++) {
            if (ways[w].pause_s) sleep(ways[w].pause_s);
            long nf;
            double rel;
            double ns = touch_round(n, ways[w].huge, ways[w].how, &nf, &rel);
            printf(" %6.0f (%6ld) / %4.0f", ns, nf, rel);
        }
        printf("\n");
    }
    return 0;
}
