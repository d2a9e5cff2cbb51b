/* The platform as the rest of librecycle sees it: the compiler's hints,
 * the sanitizer's poisoning, and every call into the operating system
 * (os.c; other processes' /proc files: proc_mem.h).  Nothing in this
 * folder includes a header from above it, so a port to another OS or
 * compiler touches this folder only. */
#ifndef RC_PRIM_H
#define RC_PRIM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define RC_LIKELY(x)   __builtin_expect(!!(x), 1)
#define RC_UNLIKELY(x) __builtin_expect(!!(x), 0)
#define RC_INLINE      static inline __attribute__((always_inline))
#define RC_NOINLINE    __attribute__((noinline))
#define RC_COLD        __attribute__((cold, noinline))
/* Code the -finstrument-functions hooks reach must not call them again. */
#define RC_NOINSTR     __attribute__((no_instrument_function))

/* AddressSanitizer's manual poisoning, for the allocator's free blocks. */
#if defined(__SANITIZE_ADDRESS__)
#define RC_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define RC_ASAN 1
#endif
#endif
#ifdef RC_ASAN
#include <sanitizer/asan_interface.h>
#define RC_ASAN_POISON(p, n)   ASAN_POISON_MEMORY_REGION((p), (n))
#define RC_ASAN_UNPOISON(p, n) ASAN_UNPOISON_MEMORY_REGION((p), (n))
#else
#define RC_ASAN_POISON(p, n)   ((void)(p), (void)(n))
#define RC_ASAN_UNPOISON(p, n) ((void)(p), (void)(n))
#endif

/* Memory */
void    *rc__os_map(size_t size, size_t align);      /* zeroed, aligned; NULL on failure */
void     rc__os_unmap(void *p, size_t size);
#define  RC_OS_HUGE_PAGE ((size_t)2 << 20)
void    *rc__os_map_huge(size_t size);                /* rc__os_map aligned to RC_OS_HUGE_PAGE, huge pages asked for */
void    *rc__os_remap_huge(void *p, size_t old_size, size_t size);  /* moves pages; NULL: p untouched */
bool     rc__os_read_safe(const void *addr, void *out, size_t n);  /* false: unreadable */

/* Clocks and the machine */
uint64_t rc__os_now_ns(void);                         /* CLOCK_MONOTONIC */
size_t   rc__os_rss_bytes(void);                      /* resident set size now */
size_t   rc__os_llc_bytes(void);                      /* last-level cache size; 0: unknown */

/* The name of the function containing addr, from its module's symbol
 * table ("0xoffset" when no symbol covers it; "?" when unknown).  The
 * string lives until the process ends (symbols.c). */
const char *rc__symbol_name(void *addr) RC_NOINSTR;

/* The environment */
const char *rc__os_getenv(const char *name);

#endif /* RC_PRIM_H */
