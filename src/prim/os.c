/* The operating system, as the rest of librecycle sees it (Linux/POSIX).
 * Nothing else in src/ calls mmap, clocks or /proc directly, so a port
 * touches this folder only. */
#include "../core/internal.h"

#include <fcntl.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

static size_t page_size(void)
{
    long p = sysconf(_SC_PAGESIZE);
    return p > 0 ? (size_t)p : 4096;
}

/* Over-maps by `align` and trims both ends, so the result is aligned
 * without relying on where the kernel happens to place mappings. */
void *rc__os_map(size_t size, size_t align)
{
    size_t page = page_size();
    if (align < page)
        align = page;
    size = (size + page - 1) & ~(page - 1);
    size_t span = size + align - page;
    if (span < size)
        return NULL;
    char *raw = mmap(NULL, span, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (raw == MAP_FAILED)
        return NULL;
    uintptr_t start = ((uintptr_t)raw + align - 1) & ~(uintptr_t)(align - 1);
    size_t head = start - (uintptr_t)raw;
    size_t tail = span - head - size;
    if (head)
        munmap(raw, head);
    if (tail)
        munmap((char *)start + size, tail);
    return (void *)start;
}

/* Transparent huge pages, where the kernel offers them (THP "madvise" or
 * "always" mode): a fault in a wholly mapped, aligned 2 MiB range then
 * maps one 2 MiB page instead of 512 small ones -- on the development VM a
 * tenth of the cost per byte of first touch (docs/design-alloc.md).  A
 * refusal is not an error: the memory works with small pages. */
void *rc__os_map_huge(size_t size)
{
    void *p = rc__os_map(size, RC_OS_HUGE_PAGE);
#ifdef MADV_HUGEPAGE
    if (p)
        madvise(p, size, MADV_HUGEPAGE);
#endif
    return p;
}

/* Resizes a mapping from rc__os_map_huge without copying: in place when
 * the address space after it is free, else its pages move to a new range
 * aligned as the old one (huge pages move whole only between aligned
 * addresses).  NULL, the old mapping untouched, on failure. */
void *rc__os_remap_huge(void *p, size_t old_size, size_t size)
{
    if (mremap(p, old_size, size, 0) != MAP_FAILED)
        return p;
    void *q = rc__os_map(size, RC_OS_HUGE_PAGE);
    if (!q)
        return NULL;
    if (mremap(p, old_size, size, MREMAP_MAYMOVE | MREMAP_FIXED, q) == MAP_FAILED) {
        munmap(q, size);
        return NULL;
    }
    return q;
}

void rc__os_unmap(void *p, size_t size)
{
    if (!p)
        return;
    RC_ASAN_UNPOISON(p, size);   /* the next mapping here must not inherit poison */
    munmap(p, size);
}

/* Copies n bytes from addr without faulting: false when they are not
 * readable (debug checks on pointers that may not be objects). */
uint64_t rc__os_thread_id(void)
{
    static _Thread_local uint64_t tid;   /* one system call per thread */
    if (!tid)
        tid = (uint64_t)syscall(SYS_gettid);
    return tid;
}

bool rc__os_read_safe(const void *addr, void *out, size_t n)
{
    struct iovec local = {out, n}, remote = {(void *)(uintptr_t)addr, n};
    return process_vm_readv(getpid(), &local, 1, &remote, 1, 0) == (ssize_t)n;
}

uint64_t rc__os_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* A small file of /proc or /sys into buf as a string, without stdio (so
 * nothing is allocated: it can run inside allocation hooks).  False when
 * it cannot be read or is empty. */
static bool read_small_file(const char *path, char *buf, size_t size)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return false;
    ssize_t n = read(fd, buf, size - 1);
    close(fd);
    if (n <= 0)
        return false;
    buf[n] = '\0';
    return true;
}

/* Second field of /proc/self/statm (resident pages). */
size_t rc__os_rss_bytes(void)
{
    char buf[128];
    if (!read_small_file("/proc/self/statm", buf, sizeof buf))
        return 0;
    char *p = buf;
    strtoull(p, &p, 10);              /* total program size */
    unsigned long long resident = strtoull(p, NULL, 10);
    return (size_t)resident * page_size();
}

/* A small sysfs file's first number, with a K/M suffix applied; 0 if none. */
static size_t read_sysfs_size(const char *path)
{
    char buf[32];
    if (!read_small_file(path, buf, sizeof buf))
        return 0;
    char *end;
    unsigned long long v = strtoull(buf, &end, 10);
    return (size_t)v << (*end == 'K' ? 10 : *end == 'M' ? 20 : 0);
}

/* CPU 0's highest-level cache, from sysfs: what this core shares with its
 * neighbours (glibc's sysconf can report every socket's L3 added up in a
 * virtual machine: 384 MB for one 32 MB cache here).  0 when unknown;
 * read once. */
size_t rc__os_llc_bytes(void)
{
    static _Atomic long long cached = -1;
    long long v = atomic_load_explicit(&cached, memory_order_relaxed);
    if (v >= 0)
        return (size_t)v;
    size_t best_level = 0, size = 0;
    for (int i = 0; i < 8; i++) {
        char path[64];
        snprintf(path, sizeof path, "/sys/devices/system/cpu/cpu0/cache/index%d/level", i);
        size_t level = read_sysfs_size(path);
        snprintf(path, sizeof path, "/sys/devices/system/cpu/cpu0/cache/index%d/size", i);
        size_t bytes = read_sysfs_size(path);
        if (level > best_level && bytes > 0) {
            best_level = level;
            size = bytes;
        }
    }
    atomic_store_explicit(&cached, (long long)size, memory_order_relaxed);
    return size;
}

const char *rc__os_getenv(const char *name)
{
    return getenv(name);
}
