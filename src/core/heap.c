/* rc_heap: options, creation and teardown.
 *
 * Options are one table (mimalloc's style): each has a default and a
 * RECYCLE_* environment override, parsed here and nowhere else.  A
 * malformed value is reported on stderr naming the variable and ignored.
 */
#include "internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

typedef enum { OPT_SIZE, OPT_BOOL, OPT_U64, OPT_DEBUG, OPT_TRIPLE } opt_kind;

typedef struct option {
    const char *env;
    opt_kind    kind;
    size_t      offset;
} option;

#define OPT(env, kind, field) { env, kind, offsetof(rc_config, field) }
static const option options[] = {
    OPT("RECYCLE_GC_THRESHOLD",     OPT_TRIPLE, gc_threshold),
    OPT("RECYCLE_GC",               OPT_BOOL,   gc_enabled),
    OPT("RECYCLE_GC_DEBUG",         OPT_DEBUG,  gc_debug),
    OPT("RECYCLE_ARENA_SPARE",      OPT_SIZE,   arena_spare),
    OPT("RECYCLE_MAX_BYTES",        OPT_SIZE,   max_bytes),
    OPT("RECYCLE_FAIL_ALLOC_AT",    OPT_U64,    fail_alloc_at),
    OPT("RECYCLE_FAIL_ALLOC_AFTER", OPT_BOOL,   fail_alloc_after),
    OPT("RECYCLE_LEAK_REPORT",      OPT_BOOL,   leak_report),
    OPT("RECYCLE_FAST_FREE",        OPT_BOOL,   fast_free),
};

static bool parse_u64(const char *s, uint64_t *out)
{
    if (*s < '0' || *s > '9')
        return false;
    errno = 0;
    char *end;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || *end)
        return false;
    *out = v;
    return true;
}

/* RECYCLE_GC_DEBUG takes a number or names: "stats,collectable,saveall". */
static bool parse_debug(const char *s, unsigned *out)
{
    uint64_t v;
    if (parse_u64(s, &v)) {
        *out = (unsigned)v;
        return v <= 0xFFFF;
    }
    static const struct { const char *name; unsigned flag; } names[] = {
        {"stats", RC_GC_DEBUG_STATS}, {"collectable", RC_GC_DEBUG_COLLECTABLE},
        {"uncollectable", RC_GC_DEBUG_UNCOLLECTABLE}, {"saveall", RC_GC_DEBUG_SAVEALL},
        {"leak", RC_GC_DEBUG_LEAK},
    };
    unsigned flags = 0;
    char buf[128];
    if (strlen(s) >= sizeof buf)
        return false;
    strcpy(buf, s);
    for (char *save = NULL, *tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        size_t i = 0;
        while (i < sizeof names / sizeof names[0] && strcmp(tok, names[i].name) != 0)
            i++;
        if (i == sizeof names / sizeof names[0])
            return false;
        flags |= names[i].flag;
    }
    *out = flags;
    return true;
}

static bool parse_triple(const char *s, size_t out[3])
{
    char buf[96];
    if (strlen(s) >= sizeof buf)
        return false;
    strcpy(buf, s);
    size_t v[3];
    int n = 0;
    for (char *save = NULL, *tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        uint64_t x;
        if (n == 3 || !parse_u64(tok, &x))
            return false;
        v[n++] = (size_t)x;
    }
    if (n != 3)
        return false;
    memcpy(out, v, sizeof v);
    return true;
}

static bool apply_option(rc_config *cfg, const option *o, const char *val)
{
    char *field = (char *)cfg + o->offset;
    uint64_t v;
    switch (o->kind) {
    case OPT_SIZE:
        if (!parse_u64(val, &v))
            return false;
        *(size_t *)field = (size_t)v;
        return true;
    case OPT_U64:
        if (!parse_u64(val, &v))
            return false;
        *(uint64_t *)field = v;
        return true;
    case OPT_BOOL:
        if (strcmp(val, "0") && strcmp(val, "1"))
            return false;
        *(bool *)field = val[0] == '1';
        return true;
    case OPT_DEBUG:
        return parse_debug(val, (unsigned *)field);
    case OPT_TRIPLE:
        return parse_triple(val, (size_t *)field);
    }
    return false;
}

void rc_config_default(rc_config *cfg)
{
    *cfg = (rc_config){
        .gc_threshold = {700, 10, 10},
        .gc_enabled = true,
        .arena_spare = 1,
    };
    for (size_t i = 0; i < sizeof options / sizeof options[0]; i++) {
        const char *val = rc__os_getenv(options[i].env);
        if (val && !apply_option(cfg, &options[i], val))
            fprintf(stderr, "recycle: ignoring malformed %s=\"%s\"\n", options[i].env, val);
    }
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
    if (rc__alloc_init(h, &h->cfg) != 0) {
        free(h);
        return NULL;
    }
    return h;
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
    bool tracing = rc_trace_is_tracing(h);
    RC_FOR_EACH_OBJECT(h, o, {
        if (o->refcnt == RC_REFCNT_IMMORTAL)
            continue;
        const rc_type *t = rc__type(o);
        rc_traceback *tb = tracing ? rc_trace_get_object_traceback(h, rc__body(o)) : NULL;
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
    h->magic = 0;
    free(h);
}
