/* Internals of the allocation tracer, shared by the in-process tracer
 * (trace.c) and the whole-process LD_PRELOAD library (preload/).
 *
 * Layers (docs/tracer.md):
 *   trace_table.c   live blocks: address → {traceback index, size}
 *   trace_tb.c      interned tracebacks (arrays of frame words)
 *   trace_maps.c    return address → (module path, file offset), from /proc/self/maps
 *   trace_file.c    the snapshot file: writer (no malloc: usable in a signal
 *                   handler) and validating reader
 *   trace_snapshot.c, trace_symbol.c, trace_stats.c   rc_snapshot and reports
 *
 * Nothing in table/tb/maps/file allocates with malloc: memory comes from the
 * rc__tmem callbacks, so the preload library can run them under malloc.
 */
#ifndef RC_TRACE_INT_H
#define RC_TRACE_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../core/hash.h"

/* Memory for the tracer's own tables: page-granular, zero-filled. */
typedef struct rc__tmem {
    void *(*map)(size_t size);
    void  (*unmap)(void *p, size_t size);
    size_t bytes;                 /* held now, for get_tracemalloc_memory */
} rc__tmem;

void *rc__tmem_get(rc__tmem *m, size_t size);
void  rc__tmem_put(rc__tmem *m, void *p, size_t size);
/* Grows *arr (capacity *cap elements of elem bytes) to hold need elements,
 * keeping its contents. */
bool  rc__tmem_reserve(rc__tmem *m, void **arr, size_t *cap, size_t need, size_t elem);
/* Callbacks over the OS's pages, for the in-process tracer (trace.c);
 * the preload library maps through the real mmap it resolved itself. */
void *rc__tmem_mmap(size_t size);
void  rc__tmem_munmap(void *p, size_t size);

/* ---- live blocks ------------------------------------------------------
 * Open addressing, linear probing, backward-shift deletion (no tombstones;
 * the latest removal may wait, see pending).
 * A slot is 12 bytes: the key word holds addr >> 4 (blocks are 16-byte
 * aligned, user addresses < 2^48) in its low 44 bits and the traceback
 * number in its high 20 bits; the size is 32 bits, and blocks of 4 GiB or
 * more keep their size in a side list.  The table doubles at load 0.8 and
 * so holds between 0.4 and 0.8 slots per live block: at most 30 bytes. */
#define RC__TB_MAX   ((1u << 20) - 1)   /* traceback indices fit 20 bits */
#define RC__BIGSIZE  UINT32_MAX

typedef struct __attribute__((packed, aligned(4))) rc__slot {
    uint64_t key;       /* 0 = empty; else (tb << 44) | (addr >> 4) */
    uint32_t size;      /* RC__BIGSIZE: look in the big list */
} rc__slot;

typedef struct rc__big { uintptr_t addr; uint64_t size; } rc__big;

typedef struct rc__table {
    rc__slot *slots;
    size_t    mask;       /* capacity - 1 (power of two), 0 when unallocated */
    unsigned  shift;      /* 64 - log2(capacity), for the multiplicative hash */
    size_t    len;
    /* A removal not carried out yet, slot index + 1 (0: none): its slot
     * still holds the key but counts as empty (len, current exclude it).
     * A free followed by an allocation at the same address -- a free list
     * hands the block straight back -- then reuses the slot: no shift, no
     * probe.  Any other operation completes the removal first. */
    size_t    pending;
    rc__big  *big;        /* blocks ≥ 4 GiB: few */
    size_t    nbig, bigcap;
    uint64_t  current, peak;   /* traced bytes */
    rc__tmem *mem;
} rc__table;

void rc__table_init(rc__table *t, rc__tmem *mem);
void rc__table_destroy(rc__table *t);
void rc__table_clear(rc__table *t);
/* Records a block; false when out of memory or the address is not
 * 16-byte aligned (the block then goes untraced). */
bool rc__table_add(rc__table *t, uintptr_t addr, uint64_t size, uint32_t tb);

#define RC__KEY_ADDR_BITS 44   /* a slot's key: traceback << 44 | address >> 4 */

/* The pending removal's slot taken back by a block at the same address
 * (see rc__table.pending); false, nothing done, for any other block. */
static inline bool rc__table_reuse_pending(rc__table *t, uintptr_t addr, uint64_t size, uint32_t tb)
{
    if (!t->pending || (addr & 15) || size >= RC__BIGSIZE || tb > RC__TB_MAX)
        return false;
    rc__slot *s = &t->slots[t->pending - 1];
    if ((s->key & ((UINT64_C(1) << RC__KEY_ADDR_BITS) - 1)) != (uint64_t)addr >> 4)
        return false;
    s->key = ((uint64_t)tb << RC__KEY_ADDR_BITS) | (uint64_t)addr >> 4;
    s->size = (uint32_t)size;
    t->pending = 0;
    t->len++;
    t->current += size;
    if (t->current > t->peak)
        t->peak = t->current;
    return true;
}

/* rc__table_add with its commonest case inline. */
static inline bool rc__table_add_fast(rc__table *t, uintptr_t addr, uint64_t size, uint32_t tb)
{
    return rc__table_reuse_pending(t, addr, size, tb) || rc__table_add(t, addr, size, tb);
}
/* Forgets a block; false when it was not traced. */
bool rc__table_remove(rc__table *t, uintptr_t addr);
bool rc__table_get(const rc__table *t, uintptr_t addr, uint64_t *size, uint32_t *tb);
/* Visits every live block; fn returns non-zero to stop. */
int  rc__table_each(const rc__table *t, int (*fn)(uintptr_t addr, uint64_t size, uint32_t tb, void *arg), void *arg);
size_t rc__table_bytes(const rc__table *t);

/* ---- interned tracebacks ----------------------------------------------
 * A traceback is up to RC__MAXFRAMES frame words, most recent first.  In a
 * site traceback (made in-process) word 0 is a const rc_site * and the rest
 * are return addresses; otherwise every word is a return address. */
#define RC__MAXFRAMES 128

typedef struct rc__tbs {
    uint32_t *index;        /* hash → traceback number + 1 (0 empty) */
    size_t    imask;
    uint32_t *off;          /* traceback number → word offset in words[] */
    size_t    n, offcap;
    uintptr_t *words;       /* per traceback: header word, then frames */
    size_t    nwords, wordcap;
    rc__tmem *mem;
} rc__tbs;

void     rc__tbs_init(rc__tbs *s, rc__tmem *mem);
void     rc__tbs_destroy(rc__tbs *s);
/* The number of the traceback (site?, frames[0..n)); RC__TB_MAX + 1 when
 * out of memory or when more than RC__TB_MAX tracebacks exist. */
uint32_t rc__tbs_intern(rc__tbs *s, bool site, const uintptr_t *frames, size_t n);
/* Frames of traceback i; *site tells whether word 0 is an rc_site. */
const uintptr_t *rc__tbs_get(const rc__tbs *s, uint32_t i, size_t *n, bool *site);
size_t   rc__tbs_bytes(const rc__tbs *s);

/* ---- native frames ----------------------------------------------------- */
/* Walks the frame-pointer chain from the caller of this function; fills
 * up to max return addresses.  Stops at a broken chain. */
size_t rc__fp_backtrace(uintptr_t *out, size_t max);

/* /proc/self/maps: the executable mappings, parsed without malloc into a
 * caller-sized buffer (an mmap'd page run). */
typedef struct rc__map {
    uintptr_t start, end, file_off;
    uint32_t  path;           /* offset of the path in rc__maps.paths */
} rc__map;

typedef struct rc__maps {
    rc__map *maps;  size_t n, cap;
    char    *paths; size_t plen, pcap;
} rc__maps;

/* Reads /proc/self/maps into m (arrays from mem); 0 or a negative RC_E*. */
int  rc__maps_read(rc__maps *m, rc__tmem *mem);
void rc__maps_free(rc__maps *m, rc__tmem *mem);
/* The mapping holding addr, or NULL. */
const rc__map *rc__maps_find(const rc__maps *m, uintptr_t addr);
/* The GNU build-id of the ELF file at path as lowercase hex into hex
 * (hexlen ≥ 41 for SHA-1 ids); false when it has none.  open/pread only. */
bool rc__build_id(const char *path, char *hex, size_t hexlen);

/* ---- the snapshot data, as in the file ---------------------------------
 * Strings are one blob of NUL-terminated strings, referred to by byte
 * offset; RC__NOSTR is "none".  Native frames that are not symbolized yet
 * have file == RC__NOSTR and a module path plus file offset. */
#define RC__NOSTR UINT32_MAX
#define RC_SNAP_VERSION 2
/* Native frames kept beyond the traceback limit, so that leading frames in
 * allocation wrappers (--alloc-fn) can be dropped when the snapshot is
 * read and the limit still filled. */
#define RC__WRAPPER_FRAMES 6

typedef struct rc__sframe {
    uint32_t file, func;      /* string offsets or RC__NOSTR */
    int32_t  line;
    uint32_t module;          /* string offset of the module path, or RC__NOSTR */
    uint64_t offset;          /* file offset of the return address in module */
} rc__sframe;

typedef struct rc__stb {
    uint32_t first;           /* index into tbframes */
    uint32_t nframe;          /* frames kept (≤ traceback_limit) */
} rc__stb;

typedef struct rc__strace {
    uint64_t size;
    uint32_t tb;
    uint32_t domain;
} rc__strace;

/* A module the frames name, with the build-id it had when traced. */
typedef struct rc__smod {
    uint32_t path;            /* string offset */
    uint32_t build_id;        /* string offset: lowercase hex, or RC__NOSTR */
} rc__smod;

/* What happened at one traceback in one domain over the whole run. */
typedef struct rc__ssite {
    uint32_t tb, domain;
    uint64_t calls;           /* allocations */
    uint64_t temporary;       /* freed right after an allocation of the same size and traceback by the same thread */
    uint64_t allocated;       /* bytes, all allocations */
    uint64_t peak_size, peak_count;   /* live when the traced total peaked */
} rc__ssite;

typedef struct rc__snapdata {
    uint32_t traceback_limit;     /* native frames a traceback may hold */
    uint32_t shown_limit;         /* frames shown (≤ traceback_limit; the rest
                                     stand in for skipped wrappers) */
    uint64_t traced_current, traced_peak;
    char       *strs;     size_t strs_len;
    rc__sframe *frames;   size_t nframes;
    uint32_t   *tbframes; size_t ntbframes;  /* frame numbers, most recent first */
    rc__stb    *tbs;      size_t ntbs;
    rc__strace *traces;   size_t ntraces;
    rc__smod   *mods;     size_t nmods;
    uint32_t   *allocfns; size_t nallocfns;  /* wrapper name patterns (strings) */
    rc__ssite  *sites;    size_t nsites;
} rc__snapdata;

/* Writes d to fd.  Uses only write(2) and a stack buffer, so it is safe in
 * a signal handler.  0 or RC_EIO. */
int rc__snap_write_fd(int fd, const rc__snapdata *d);
/* Writes to path through path.tmp + rename, so a reader never sees a
 * partial file.  No malloc.  0 or RC_EIO (errno left set). */
int rc__snap_write_path(const char *path, const rc__snapdata *d);
/* Parses and validates a whole file image; on success fills d with arrays
 * pointing INTO buf (caller keeps buf alive).  On failure returns RC_EFORMAT
 * and writes "byte offset N: what" into msg. */
int rc__snap_parse(const unsigned char *buf, size_t len, rc__snapdata *d, char *msg, size_t msglen);


#endif /* RC_TRACE_INT_H */
