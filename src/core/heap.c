/* rc_heap: its options, creation and teardown.
 *
 * The options' defaults and environment overrides are the RECYCLE_* table
 * of options.c; rc_config_default only says which field each one fills.
 */
#include "internal.h"
#include "options.h"

#include <stdio.h>
#include <stdlib.h>

void rc_config_default(rc_config *cfg)
{
    *cfg = (rc_config){0};
    rc__option_counts(RC_OPT_GC_THRESHOLD, cfg->gc_threshold);
    cfg->gc_enabled = rc__option_bool(RC_OPT_GC);
    cfg->gc_debug = rc__option_gc_debug(RC_OPT_GC_DEBUG);
    cfg->gc_workers = (unsigned)rc__option_uint(RC_OPT_GC_WORKERS);
    cfg->gc_parallel_min = (size_t)rc__option_uint(RC_OPT_GC_PARALLEL_MIN);
    cfg->arena_spare = (size_t)rc__option_uint(RC_OPT_ARENA_SPARE);
    cfg->arena_huge = rc__option_bool(RC_OPT_ARENA_HUGE);
    cfg->max_bytes = (size_t)rc__option_uint(RC_OPT_MAX_BYTES);
    cfg->fail_alloc_at = rc__option_uint(RC_OPT_FAIL_ALLOC_AT);
    cfg->fail_alloc_after = rc__option_bool(RC_OPT_FAIL_ALLOC_AFTER);
    cfg->leak_report = rc__option_bool(RC_OPT_LEAK_REPORT);
    cfg->fast_free = rc__option_bool(RC_OPT_FAST_FREE);
    cfg->threads = rc__option_bool(RC_OPT_THREADS);
}

/* The allocator's pressure hook: a full collection, unless one is running
 * (the collector only frees, so nothing more is to be had). */
static void collect_for_room(rc_heap *h)
{
    if (!h->gc.collecting)
        rc_gc_collect(h, 2);
}

rc_heap *rc_heap_new(const rc_config *cfg)
{
    rc_heap *h = calloc(1, sizeof *h);
    if (!h)
        return NULL;
    h->magic = RC_HEAP_MAGIC;
    if (cfg)
        h->cfg = *cfg;
    else
        rc_config_default(&h->cfg);
    rc_gc_state *gc = &h->gc;
    gc->enabled = h->cfg.gc_enabled;
    gc->debug = h->cfg.gc_debug;
    gc->debug_out = h->cfg.gc_debug_out;
    memcpy(gc->threshold, h->cfg.gc_threshold, sizeof gc->threshold);
    rc__gc_start_clean(h);
    if (rc__alloc_init(h, &h->cfg, &h->err) != 0) {
        free(h);
        return NULL;
    }
    rc__alloc_on_pressure(h, collect_for_room);
    rc__fatal_on_site(rc__debug_site);
    if (h->cfg.threads && rc__mt_init(h) < 0) {
        rc__alloc_destroy(h);
        free(h);
        return NULL;
    }
    return h;
}

void rc_heap_set_fail_alloc(rc_heap *h, uint64_t nth, bool after)
{
    rc__alloc_set_fault(h, nth, after);
    h->cfg.fail_alloc_at = nth;
    h->cfg.fail_alloc_after = nth && after;
}

int rc__heap_on_free(rc_heap *h, void (*fn)(rc_heap *h))
{
    int n = (int)(sizeof h->destructors / sizeof h->destructors[0]);
    if (h->ndestructors == n)
        return rc__error(h, RC_ENOMEM, "too many heap destructors");
    h->destructors[h->ndestructors++] = fn;
    return 0;
}

/* One paragraph of the leak report: a type and, when the heap traces, an
 * allocation traceback (LeakSanitizer groups by stack the same way). */
typedef struct leak_row {
    const rc_type *type;
    rc_traceback  *tb;       /* NULL: not traced */
    size_t count, bytes;
} leak_row;

static bool same_traceback(const rc_traceback *a, const rc_traceback *b)
{
    if (!a || !b)
        return a == b;
    if (a->nframe != b->nframe)
        return false;
    for (size_t i = 0; i < a->nframe; i++)
        if (a->frames[i].lineno != b->frames[i].lineno || strcmp(a->frames[i].filename, b->frames[i].filename))
            return false;
    return true;
}

/* Counts live, mortal objects per type and site for the leak report. */
static size_t collect_leaks(rc_heap *h, leak_row *rows, size_t cap)
{
    size_t n = 0;
    RC_FOR_EACH_OBJECT(h, o, {
        if (o->refcnt == RC_REFCNT_IMMORTAL)
            continue;
        const rc_type *t = rc__type(o);
        rc_traceback *tb = rc__traceback_of(h, rc__body(o));
        size_t j = 0;
        while (j < n && (rows[j].type != t || !same_traceback(rows[j].tb, tb)))
            j++;
        if (j < n || n == cap) {
            free(tb);
            if (j == cap)
                continue;
        } else {
            rows[n++] = (leak_row){t, tb, 0, 0};
        }
        rows[j].count++;
        rows[j].bytes += rc__object_block_size(o);
    });
    return n;
}

/* LeakSanitizer's shape: one paragraph per type and site, biggest first. */
static void report_leaks(rc_heap *h)
{
    leak_row rows[64];
    size_t n = collect_leaks(h, rows, 64);
    if (n == 0)
        return;
    FILE *out = h->cfg.leak_out ? h->cfg.leak_out : stderr;
    size_t total = 0, objects = 0;
    for (size_t i = 0; i < n; i++)
        for (size_t j = i + 1; j < n; j++)
            if (rows[j].bytes > rows[i].bytes) {
                leak_row t = rows[i]; rows[i] = rows[j]; rows[j] = t;
            }
    fprintf(out, "==recycle==ERROR: LeakSanitizer-style report: objects alive at rc_heap_free\n\n");
    for (size_t i = 0; i < n; i++) {
        const rc_traceback *tb = rows[i].tb;
        fprintf(out, "Direct leak of %zu byte(s) in %zu object(s) of type %s%s\n", rows[i].bytes,
                rows[i].count, rows[i].type->name, tb ? " allocated from:" : "");
        for (size_t f = 0; tb && f < tb->nframe; f++)
            fprintf(out, "    #%zu %s:%d in %s\n", f, tb->frames[f].filename, tb->frames[f].lineno,
                    tb->frames[f].func ? tb->frames[f].func : "??");
        fputc('\n', out);
        total += rows[i].bytes;
        objects += rows[i].count;
        free(rows[i].tb);
    }
    fprintf(out, "SUMMARY: recycle: %zu byte(s) leaked in %zu object(s).\n", total, objects);
}

/* Runs every live object's release so what it owns outside the heap is
 * returned; references between objects need no dropping, the whole heap
 * goes at once. */
static void release_all(rc_heap *h)
{
    RC_FOR_EACH_OBJECT(h, o, {
        if (rc__type(o)->release)
            rc__type(o)->release(rc__body(o));
    });
}

void rc_heap_free(rc_heap *h)
{
    if (!h)
        return;
    rc__heap_finalize(h);
    if (h->cfg.leak_report)
        report_leaks(h);
    h->gc.collecting = true;   /* no collection from here on */
    release_all(h);
    for (int i = h->ndestructors - 1; i >= 0; i--)
        h->destructors[i](h);
    rc__gc_destroy(h);
    rc__alloc_destroy(h);
    if (h->mt)
        rc__mt_destroy(h);
    h->magic = 0;
    free(h);
}
