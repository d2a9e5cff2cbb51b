/* The operating system's memory, clocks, machine facts and environment,
 * as the rest of librecycle sees them (Linux/POSIX).  The other files of
 * src/prim/ cover files, threads, symbols and other processes; the few
 * places outside it that still make system calls, and why, are listed in
 * docs/architecture.md. */
#include "prim.h"

#include <fcntl.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif
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

/* Resizes a mapping from rc__os_map(size, 0): shrinking gives the tail's
 * pages back at once; growing extends in place or moves the pages to a new
 * range, never copying them.  NULL, the old mapping untouched, on failure. */
void *rc__os_remap(void *p, size_t old_size, size_t size)
{
    void *q = mremap(p, old_size, size, MREMAP_MAYMOVE);
    return q == MAP_FAILED ? NULL : q;
}

void rc__os_unmap(void *p, size_t size)
{
    if (!p)
        return;
    RC_ASAN_UNPOISON(p, size);   /* the next mapping here must not inherit poison */
    munmap(p, size);
}

void rc__os_malloc_trim(void)
{
#ifdef __GLIBC__
    malloc_trim(0);
#endif
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

/* Without stdio, so nothing is allocated: it can run inside allocation
 * hooks.  One read is the whole of a /proc or /sys file this small. */
long rc__os_read_file(const char *path, char *buf, size_t size)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    ssize_t n = read(fd, buf, size - 1);
    close(fd);
    if (n < 0)
        return -1;
    buf[n] = '\0';
    return (long)n;
}

/* /proc/self/statm, opened once per process: pread keeps the descriptor
 * safe to share between threads.  "self" is resolved at open time, so a
 * forked child must open its own (the pid tells).  Racing first opens leak
 * at most a descriptor.  -1 when it cannot be opened. */
static int self_statm(void)
{
    static int fd = -1;
    static long owner;
    int f = __atomic_load_n(&fd, __ATOMIC_ACQUIRE);
    long me = (long)getpid();
    if (f >= 0 && __atomic_load_n(&owner, __ATOMIC_ACQUIRE) == me)
        return f;
    f = open("/proc/self/statm", O_RDONLY | O_CLOEXEC);
    if (f >= 0) {
        __atomic_store_n(&owner, me, __ATOMIC_RELEASE);
        __atomic_store_n(&fd, f, __ATOMIC_RELEASE);
    }
    return f;
}

/* Second field of statm: resident pages. */
size_t rc__os_rss_bytes(void)
{
    int f = self_statm();
    char buf[128];
    ssize_t n = f < 0 ? -1 : pread(f, buf, sizeof buf - 1, 0);
    if (n <= 0)
        return 0;
    buf[n] = 0;
    unsigned long long size, resident;
    if (sscanf(buf, "%llu %llu", &size, &resident) != 2)
        return 0;
    return (size_t)resident * page_size();
}

/* A small sysfs file's first number, with a K/M suffix applied; 0 if none. */
static size_t read_sysfs_size(const char *path)
{
    char buf[32];
    if (rc__os_read_file(path, buf, sizeof buf) <= 0)
        return 0;
    char *end;
    unsigned long long v = strtoull(buf, &end, 10);
    return (size_t)v << (*end == 'K' ? 10 : *end == 'M' ? 20 : 0);
}

/* CPU 0's highest-level cache, from sysfs: what this core shares with its
 * neighbours (glibc's sysconf can report every socket's L3 added up in a
 * virtual machine: 384 MB for one 32 MB cache there), counted up to
 * RC_LLC_MAX: a bigger one is a server socket's, shared with tens of
 * cores a virtual machine does not see (260 MiB for the 2 vCPUs of a
 * VM on a 5th-generation Xeon here), and a process cannot count on
 * keeping its data in it.  0 when unknown; read once. */
#define RC_LLC_MAX ((size_t)32 << 20)
static _Atomic long long llc_cached = -1;

size_t rc__os_llc_bytes(void)
{
    long long v = atomic_load_explicit(&llc_cached, memory_order_relaxed);
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
    size = size < RC_LLC_MAX ? size : RC_LLC_MAX;
    atomic_store_explicit(&llc_cached, (long long)size, memory_order_relaxed);
    return size;
}

void rc__os_llc_assume(size_t bytes)
{
    atomic_store_explicit(&llc_cached, (long long)bytes, memory_order_relaxed);
}

const char *rc__os_getenv(const char *name)
{
    return getenv(name);
}
