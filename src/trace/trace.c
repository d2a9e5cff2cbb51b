/* The in-process allocation tracer: Python's tracemalloc for a recycle heap.
 *
 * While tracing, the heap's allocation observers point here: every block
 * alloc.c hands out is recorded in a table keyed by address with its size
 * and an interned traceback (trace_int.h); every block it takes back is
 * removed.  The traceback is the rc_site of the rc_new/rc_alloc call and,
 * for nframe > 1, the return addresses above it (trace_stack.c).  Nothing is
 * symbolized here: rc_trace_take_snapshot records (module, offset) for each
 * address and trace_symbol.c names them when a report is made.
 *
 * Invariant: the table holds exactly the blocks allocated since tracing
 * started (or the last clear) and not freed since; current and peak count
 * their sizes. */
#include "../core/internal.h"
#include "trace_snap.h"
#include "trace_stack.h"

#include <stdlib.h>
#include <string.h>


struct rc_trace_state {
    rc__tmem   mem;
    rc__table  table;
    rc__tbs    tbs;
    int        nframe;
    bool       tracing;
    const rc_site *last_site;    /* one-entry cache for nframe == 1 */
    uint32_t   last_tb;
    size_t     last_n;           /* one-entry cache for nframe > 1: a loop */
    uint32_t   last_deep_tb;     /* allocating from one place skips the */
    uintptr_t  last_frames[RC__MAXFRAMES];   /* hash and the lookup */
    rc__stack_memo memo;         /* the last frame walk (trace_stack.c) */
#if RC_DEBUG >= 1
    /* Traces of freed blocks, so the debug checks can say where a freed
     * object was allocated (AddressSanitizer's report does); bounded like
     * ASan's quarantine: forgotten in one go past RC_FREED_MAX blocks. */
    rc__table  freed;
    rc__table  freed_by;         /* the same addresses: where rc_decref was called */
#endif
};

void *rc__tmem_mmap(size_t size) { return rc__os_map(size, 0); }

void rc__tmem_munmap(void *p, size_t size) { rc__os_unmap(p, size); }

#define RC_FREED_MAX 65536

#if RC_DEBUG >= 1
static rc_traceback *freed_traceback(rc_heap *h, const void *body, bool freed);
#else
#define freed_traceback NULL   /* release builds keep no freed blocks */
#endif

/* The heap and its allocator stop asking the tracer. */
static void unhook(rc_heap *h)
{
    rc__alloc_observe(h, (rc_alloc_observers){NULL, NULL});
    h->traceback_of = NULL;
    h->freed_traceback_of = NULL;
}

static void trace_destroy(rc_heap *h)
{
    struct rc_trace_state *t = h->trace;
    if (!t)
        return;
    unhook(h);
    rc__table_destroy(&t->table);
#if RC_DEBUG >= 1
    rc__table_destroy(&t->freed);
    rc__table_destroy(&t->freed_by);
#endif
    rc__tbs_destroy(&t->tbs);
    free(t);
    h->trace = NULL;
}

static void forget_all(struct rc_trace_state *t)
{
    rc__table_clear(&t->table);
#if RC_DEBUG >= 1
    rc__table_clear(&t->freed);
    rc__table_clear(&t->freed_by);
#endif
    rc__tbs_destroy(&t->tbs);
    t->last_site = NULL;
    t->last_n = 0;
}

/* ---- the hooks ------------------------------------------------------------ */

static RC_NOINLINE void on_alloc(rc_heap *h, const void *ptr, size_t size, const rc_site *site)
{
    struct rc_trace_state *t = h->trace;
    uint32_t tb;
    if (t->nframe == 1) {
        if (site != t->last_site || !site) {
            uintptr_t w = (uintptr_t)site;
            t->last_tb = rc__tbs_intern(&t->tbs, true, &w, 1);
            t->last_site = site;
        }
        tb = t->last_tb;
    } else {
        uintptr_t f[RC__MAXFRAMES];
        f[0] = (uintptr_t)site;
        size_t n = 1 + rc__stack_capture(&t->memo, __builtin_frame_address(0), f + 1,
                                         (size_t)t->nframe - 1);
        if (n == t->last_n && memcmp(f, t->last_frames, n * sizeof *f) == 0) {
            tb = t->last_deep_tb;
        } else {
            tb = rc__tbs_intern(&t->tbs, true, f, n);
            memcpy(t->last_frames, f, n * sizeof *f);
            t->last_n = n;
            t->last_deep_tb = tb;
        }
    }
    rc__table_add_fast(&t->table, (uintptr_t)ptr, size, tb);   /* no room: the block goes untraced */
}

#if RC_DEBUG >= 1
static void remember_freed(rc_heap *h, struct rc_trace_state *t, uintptr_t p)
{
    uint64_t size;
    uint32_t tb;
    if (!rc__table_get(&t->table, p, &size, &tb))
        return;
    if (t->freed.len >= RC_FREED_MAX) {
        rc__table_clear(&t->freed);
        rc__table_clear(&t->freed_by);
    }
    rc__table_remove(&t->freed, p);
    rc__table_add(&t->freed, p, size, tb);
    rc__table_remove(&t->freed_by, p);
    uintptr_t caller = (uintptr_t)h->free_caller;
    if (caller)
        rc__table_add(&t->freed_by, p, size, rc__tbs_intern(&t->tbs, false, &caller, 1));
}
#else
#define remember_freed(h, t, p) ((void)0)
#endif

static void on_free(rc_heap *h, const void *ptr)
{
    remember_freed(h, h->trace, (uintptr_t)ptr);
    rc__table_remove(&h->trace->table, (uintptr_t)ptr);
}

/* ---- control -------------------------------------------------------------- */

int rc_trace_start(rc_heap *h, int nframe)
{
    if (nframe < 1 || nframe > RC__MAXFRAMES)
        return rc__error(h, RC_EINVAL, "rc_trace_start: nframe must be in 1..%d, not %d", RC__MAXFRAMES, nframe);
    struct rc_trace_state *t = h->trace;
    if (!t) {
        if (!(t = calloc(1, sizeof *t)))
            return rc__error(h, RC_ENOMEM, "rc_trace_start: out of memory");
        int r = rc__heap_on_free(h, trace_destroy);
        if (r) {
            free(t);
            return r;
        }
        t->mem = (rc__tmem){rc__tmem_mmap, rc__tmem_munmap, 0};
        rc__table_init(&t->table, &t->mem);
#if RC_DEBUG >= 1
        rc__table_init(&t->freed, &t->mem);
        rc__table_init(&t->freed_by, &t->mem);
#endif
        rc__tbs_init(&t->tbs, &t->mem);
        h->trace = t;
    }
    if (nframe > 1)
        rc__stack_calibrate(h);
    t->nframe = nframe;
    t->last_site = NULL;
    t->last_n = 0;
    t->tracing = true;
    rc__alloc_observe(h, (rc_alloc_observers){on_alloc, on_free});
    h->traceback_of = rc_trace_get_object_traceback;
    h->freed_traceback_of = freed_traceback;
    return 0;
}

void rc_trace_stop(rc_heap *h)
{
    struct rc_trace_state *t = h->trace;
    if (!t || !t->tracing)
        return;
    unhook(h);
    t->tracing = false;
    forget_all(t);
}

bool rc_trace_is_tracing(const rc_heap *h) { return h->trace && h->trace->tracing; }

void rc_trace_clear_traces(rc_heap *h)
{
    if (h->trace)
        forget_all(h->trace);
}

int rc_trace_get_traceback_limit(const rc_heap *h) { return h->trace ? h->trace->nframe : 1; }

void rc_trace_get_traced_memory(const rc_heap *h, size_t *current, size_t *peak)
{
    const struct rc_trace_state *t = h->trace;
    if (current)
        *current = t ? (size_t)t->table.current : 0;
    if (peak)
        *peak = t ? (size_t)t->table.peak : 0;
}

void rc_trace_reset_peak(rc_heap *h)
{
    if (h->trace)
        h->trace->table.peak = h->trace->table.current;
}

size_t rc_trace_get_tracemalloc_memory(const rc_heap *h)
{
    return h->trace ? sizeof *h->trace + h->trace->mem.bytes : 0;
}

size_t rc_trace_count(const rc_heap *h) { return h->trace ? h->trace->table.len : 0; }

/* ---- snapshots ------------------------------------------------------------ */

typedef struct builder {
    struct rc_trace_state *t;
    rc_snapshot *s;
    rc__maps maps;
    bool have_maps;
    uint32_t *tbmap;          /* tracer traceback → snapshot traceback + 1 */
    int err;
} builder;

static uint32_t site_frame(builder *b, const rc_site *site)
{
    rc__sframe f = {RC__NOSTR, RC__NOSTR, 0, RC__NOSTR, 0};
    if (site) {
        f.file = rc__snap_str(b->s, site->file);
        f.func = rc__snap_str(b->s, site->func);
        f.line = site->line;
        if (f.file == RC__NOSTR || (site->func && f.func == RC__NOSTR))
            return UINT32_MAX;
    }
    return rc__snap_frame(b->s, &f);
}

static uint32_t native_frame(builder *b, uintptr_t addr)
{
    rc__sframe f = {RC__NOSTR, RC__NOSTR, 0, RC__NOSTR, 0};
    if (!b->have_maps && rc__maps_read(&b->maps, &b->t->mem) == 0)
        b->have_maps = true;
    const rc__map *m = b->have_maps ? rc__maps_find(&b->maps, addr) : NULL;
    if (m) {
        f.module = rc__snap_str(b->s, b->maps.paths + m->path);
        f.offset = addr - m->start + m->file_off;
        if (f.module == RC__NOSTR)
            return UINT32_MAX;
    }
    return rc__snap_frame(b->s, &f);
}

static uint32_t snap_tb(builder *b, uint32_t tb)
{
    if (b->tbmap[tb])
        return b->tbmap[tb] - 1;
    size_t n;
    bool site;
    const uintptr_t *w = rc__tbs_get(&b->t->tbs, tb, &n, &site);
    uint32_t fr[RC__MAXFRAMES];
    for (size_t i = 0; i < n; i++) {
        fr[i] = i == 0 && site ? site_frame(b, (const rc_site *)w[0]) : native_frame(b, w[i]);
        if (fr[i] == UINT32_MAX)
            return UINT32_MAX;
    }
    uint32_t st = rc__snap_tb(b->s, fr, n);
    if (st != UINT32_MAX)
        b->tbmap[tb] = st + 1;
    return st;
}

static int add_trace(uintptr_t addr, uint64_t size, uint32_t tb, void *arg)
{
    (void)addr;
    builder *b = arg;
    uint32_t st = tb < b->t->tbs.n ? snap_tb(b, tb) : UINT32_MAX;
    if (st == UINT32_MAX)
        return b->err = RC_ENOMEM;
    return b->err = rc__snap_trace(b->s, size, st, RC_TRACE_DOMAIN_HEAP);
}

/* A snapshot of all traces of table, or of the one at `only` (non-zero). */
static rc_snapshot *build_from(rc_heap *h, const rc__table *table, uintptr_t only)
{
    struct rc_trace_state *t = h->trace;
    builder b = {.t = t, .s = rc__snap_new((uint32_t)t->nframe)};
    b.tbmap = calloc(t->tbs.n + 1, sizeof *b.tbmap);
    if (b.s && b.tbmap) {
        uint64_t size;
        uint32_t tb;
        if (!only)
            rc__table_each(table, add_trace, &b);
        else if (rc__table_get(table, only, &size, &tb))
            add_trace(only, size, tb, &b);
        b.s->d.traced_current = t->table.current;
        b.s->d.traced_peak = t->table.peak;
    } else {
        b.err = RC_ENOMEM;
    }
    if (b.have_maps)
        rc__maps_free(&b.maps, &t->mem);
    free(b.tbmap);
    if (b.err) {
        rc_snapshot_free(b.s);
        rc__error(h, b.err, "rc_trace_take_snapshot: out of memory");
        return NULL;
    }
    return b.s;
}

static rc_snapshot *build(rc_heap *h, uintptr_t only)
{
    return build_from(h, &h->trace->table, only);
}

rc_snapshot *rc_trace_take_snapshot(rc_heap *h)
{
    if (!rc_trace_is_tracing(h)) {
        rc__error(h, RC_ESTATE, "rc_trace_take_snapshot: the tracer must be tracing to take a snapshot");
        return NULL;
    }
    return build(h, 0);
}

/* The traceback of the one trace of table at addr, or NULL. */
static rc_traceback *traceback_at(rc_heap *h, const rc__table *table, uintptr_t addr)
{
    if (!rc_trace_is_tracing(h) || !addr || !rc__table_get(table, addr, NULL, NULL))
        return NULL;
    rc_snapshot *s = build_from(h, table, addr);
    rc_trace_stats *st = s ? rc_snapshot_statistics(s, RC_TRACE_BY_TRACEBACK, false) : NULL;
    rc_traceback *tb = NULL;
    if (st && st->len == 1) {
        tb = (rc_traceback *)st->items[0].traceback;
        st->items[0].traceback = NULL;
    }
    rc_trace_stats_free(st);
    rc_snapshot_free(s);
    return tb;
}

rc_traceback *rc_trace_get_object_traceback(rc_heap *h, const void *obj)
{
    return rc_trace_is_tracing(h) ? traceback_at(h, &h->trace->table, (uintptr_t)obj) : NULL;
}

#if RC_DEBUG >= 1
static rc_traceback *freed_traceback(rc_heap *h, const void *body, bool freed)
{
    if (!rc_trace_is_tracing(h))
        return NULL;
    return traceback_at(h, freed ? &h->trace->freed_by : &h->trace->freed, (uintptr_t)body);
}
#endif
