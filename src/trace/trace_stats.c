/* Statistics and differences over snapshots, grouped, sorted and printed
 * exactly as Python's tracemalloc does (Lib/tracemalloc.py: _group_by,
 * Statistic, StatisticDiff, _format_size).  Groups are keyed by content
 * (file name, line), so two snapshots from different processes compare. */
#include "../core/internal.h"
#include "trace_snap.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct kframe { const char *file; int line; const char *func; } kframe;

/* What a group sums: the live set (size, count) and the run's record. */
typedef struct vals { uint64_t size, count, calls, temporary, allocated, peak_size, peak_count; } vals;

typedef struct group {
    uint64_t hash;
    uint32_t first, n;            /* key frames in grouping.keys */
    vals v;
    bool matched;                 /* compare_to: found in the other side */
} group;

typedef struct grouping {
    kframe  *keys;   size_t nkeys, keycap;
    group   *groups; size_t ngroups, groupcap;
    uint32_t *index; size_t mask;      /* group number + 1 */
} grouping;

static void grouping_free(grouping *g)
{
    free(g->keys);
    free(g->groups);
    free(g->index);
}

static uint64_t key_hash(const kframe *k, size_t n)
{
    uint64_t h = RC_FNV_OFFSET;
    for (size_t i = 0; i < n; i++) {
        h = rc__fnv1a(h, k[i].file, strlen(k[i].file) + 1);
        h = rc__fnv1a(h, &k[i].line, sizeof k[i].line);
    }
    return h;
}

static bool key_equal(const kframe *a, const kframe *b, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (a[i].line != b[i].line || strcmp(a[i].file, b[i].file) != 0)
            return false;
    return true;
}

static group *find(const grouping *g, const kframe *k, size_t n, uint64_t h, size_t *slot)
{
    size_t j = h & g->mask;
    for (; g->index[j]; j = (j + 1) & g->mask) {
        group *gr = &g->groups[g->index[j] - 1];
        if (gr->hash == h && gr->n == n && key_equal(g->keys + gr->first, k, n))
            return gr;
    }
    if (slot)
        *slot = j;
    return NULL;
}

static bool rehash(grouping *g)
{
    size_t cap = g->index ? (g->mask + 1) * 2 : 256;
    uint32_t *idx = calloc(cap, sizeof *idx);
    if (!idx)
        return false;
    for (size_t i = 0; i < g->ngroups; i++) {
        size_t j = g->groups[i].hash & (cap - 1);
        while (idx[j])
            j = (j + 1) & (cap - 1);
        idx[j] = (uint32_t)i + 1;
    }
    free(g->index);
    g->index = idx;
    g->mask = cap - 1;
    return true;
}

static void vals_add(vals *a, const vals *b)
{
    a->size += b->size;
    a->count += b->count;
    a->calls += b->calls;
    a->temporary += b->temporary;
    a->allocated += b->allocated;
    a->peak_size += b->peak_size;
    a->peak_count += b->peak_count;
}

static int add(grouping *g, const kframe *k, size_t n, const vals *v)
{
    if ((!g->index || (g->ngroups + 1) * 2 > g->mask + 1) && !rehash(g))
        return RC_ENOMEM;
    uint64_t h = key_hash(k, n);
    size_t slot;
    group *gr = find(g, k, n, h, &slot);
    if (!gr) {
        if (!rc__grow(&g->groups, &g->groupcap, g->ngroups + 1, sizeof *g->groups) ||
            !rc__grow(&g->keys, &g->keycap, g->nkeys + n, sizeof *g->keys))
            return RC_ENOMEM;
        memcpy(g->keys + g->nkeys, k, n * sizeof *k);
        gr = &g->groups[g->ngroups];
        *gr = (group){h, (uint32_t)g->nkeys, (uint32_t)n, {0}, false};
        g->nkeys += n;
        g->index[slot] = (uint32_t)++g->ngroups;
    }
    vals_add(&gr->v, v);
    return 0;
}

static kframe key_frame(const rc_snapshot *s, uint32_t fi, rc_trace_key key)
{
    const rc__sframe *f = &s->d.frames[fi];
    const char *func = f->func == RC__NOSTR ? NULL : s->d.strs + f->func;
    return (kframe){rc__snap_filename(s, f), key == RC_TRACE_BY_FILENAME ? 0 : f->line, func};
}

/* Per traceback: the live traces, and the run's record from the sites.
 * The peak view counts what was live at the peak as size and count. */
static vals *per_traceback(const rc_snapshot *s, rc_trace_view view)
{
    vals *acc = calloc(s->d.ntbs + 1, sizeof *acc);
    for (size_t i = 0; acc && i < s->d.ntraces; i++) {
        acc[s->d.traces[i].tb].size += s->d.traces[i].size;
        acc[s->d.traces[i].tb].count += 1;
    }
    for (size_t i = 0; acc && i < s->d.nsites; i++) {
        const rc__ssite *st = &s->d.sites[i];
        vals *v = &acc[st->tb];
        v->calls += st->calls;
        v->temporary += st->temporary;
        v->allocated += st->allocated;
        v->peak_size += st->peak_size;
        v->peak_count += st->peak_count;
    }
    for (size_t t = 0; acc && view == RC_TRACE_VIEW_PEAK && t < s->d.ntbs; t++) {
        acc[t].size = acc[t].peak_size;
        acc[t].count = acc[t].peak_count;
    }
    return acc;
}

static bool in_view(const vals *v, rc_trace_view view) { return v->count || (view == RC_TRACE_VIEW_SITES && v->calls); }

/* Snapshot._group_by: per traceback first (traces sharing one add once). */
static int group_by(rc_snapshot *s, rc_trace_view view, rc_trace_key key, bool cumulative, grouping *g)
{
    memset(g, 0, sizeof *g);
    int r = rc__snap_symbolize(s);
    vals *acc = r ? NULL : per_traceback(s, view);
    kframe *k = r ? NULL : malloc((s->d.traceback_limit + 1) * sizeof *k);
    if (!r && (!acc || !k))
        r = RC_ENOMEM;
    for (size_t t = 0; !r && t < s->d.ntbs; t++) {
        if (!in_view(&acc[t], view))
            continue;
        const uint32_t *fr = s->d.tbframes + s->d.tbs[t].first;
        size_t n = s->d.tbs[t].nframe;
        if (cumulative) {
            for (size_t i = 0; i < n && !r; i++) {
                k[0] = key_frame(s, fr[i], key);
                r = add(g, k, 1, &acc[t]);
            }
            continue;
        }
        if (key != RC_TRACE_BY_TRACEBACK)
            n = 1;
        for (size_t i = 0; i < n; i++)
            k[i] = key_frame(s, fr[i], key);
        r = add(g, k, n, &acc[t]);
    }
    free(acc);
    free(k);
    if (r)
        grouping_free(g);
    return r;
}

/* ---- results ------------------------------------------------------------- */

static rc_traceback *make_traceback(const kframe *k, size_t n)
{
    size_t bytes = sizeof(rc_traceback) + n * sizeof(rc_frame);
    for (size_t i = 0; i < n; i++)
        bytes += strlen(k[i].file) + 1 + (k[i].func ? strlen(k[i].func) + 1 : 0);
    rc_traceback *tb = malloc(bytes);
    if (!tb)
        return NULL;
    tb->nframe = n;
    char *p = (char *)&tb->frames[n];
    for (size_t i = 0; i < n; i++) {
        size_t fl = strlen(k[i].file) + 1;
        tb->frames[i] = (rc_frame){memcpy(p, k[i].file, fl), k[i].line, NULL};
        p += fl;
        if (k[i].func) {
            size_t l = strlen(k[i].func) + 1;
            tb->frames[i].func = memcpy(p, k[i].func, l);
            p += l;
        }
    }
    return tb;
}

rc_traceback *rc_snapshot_get_trace(rc_snapshot *s, size_t i, size_t *size, unsigned *domain)
{
    if (i >= s->d.ntraces || rc__snap_symbolize(s) != 0)
        return NULL;
    const rc__strace *t = &s->d.traces[i];
    const rc__stb *tb = &s->d.tbs[t->tb];
    kframe k[RC__MAXFRAMES];
    for (uint32_t j = 0; j < tb->nframe; j++)
        k[j] = key_frame(s, s->d.tbframes[tb->first + j], RC_TRACE_BY_LINENO);
    if (size)
        *size = (size_t)t->size;
    if (domain)
        *domain = t->domain;
    return make_traceback(k, tb->nframe);
}

void rc_trace_stats_free(rc_trace_stats *st)
{
    if (!st)
        return;
    for (size_t i = 0; i < st->len; i++)
        free((void *)st->items[i].traceback);
    free(st->items);
    free(st);
}

static rc_trace_stats *stats_new(size_t cap, rc_trace_key key, bool diff)
{
    rc_trace_stats *st = calloc(1, sizeof *st);
    if (st && !(st->items = calloc(cap + 1, sizeof *st->items))) {
        free(st);
        return NULL;
    }
    if (st) {
        st->key = key;
        st->is_diff = diff;
    }
    return st;
}

static bool push(rc_trace_stats *st, const grouping *g, const group *gr, rc_trace_stat v)
{
    v.traceback = make_traceback(g->keys + gr->first, gr->n);
    if (!v.traceback)
        return false;
    st->items[st->len++] = v;
    return true;
}

/* Traceback.__lt__ compares frames oldest first as (filename, lineno). */
static int tb_cmp(const rc_traceback *a, const rc_traceback *b)
{
    size_t i = a->nframe, j = b->nframe;
    while (i && j) {
        const rc_frame *x = &a->frames[--i], *y = &b->frames[--j];
        int c = strcmp(x->filename, y->filename);
        if (c)
            return c;
        if (x->lineno != y->lineno)
            return x->lineno < y->lineno ? -1 : 1;
    }
    return i ? 1 : j ? -1 : 0;
}

#define CMP(a, b) if ((a) != (b)) return (a) < (b) ? 1 : -1   /* descending */

static int stat_cmp(const void *pa, const void *pb)      /* Statistic._sort_key, reversed */
{
    const rc_trace_stat *a = pa, *b = pb;
    CMP(a->size, b->size);
    CMP(a->count, b->count);
    return -tb_cmp(a->traceback, b->traceback);
}

static uint64_t mag(int64_t v) { return v < 0 ? -(uint64_t)v : (uint64_t)v; }

static int diff_cmp(const void *pa, const void *pb)      /* StatisticDiff._sort_key, reversed */
{
    const rc_trace_stat *a = pa, *b = pb;
    CMP(mag(a->size_diff), mag(b->size_diff));
    CMP(a->size, b->size);
    CMP(mag(a->count_diff), mag(b->count_diff));
    CMP(a->count, b->count);
    return -tb_cmp(a->traceback, b->traceback);
}

/* heaptrack's orders: the chosen figure first, then the live size. */
static rc_trace_order sort_order;

static uint64_t figure(const rc_trace_stat *a)
{
    switch (sort_order) {
    case RC_TRACE_ORDER_CALLS: return a->calls;
    case RC_TRACE_ORDER_TEMPORARY: return a->temporary;
    case RC_TRACE_ORDER_ALLOCATED: return a->allocated;
    case RC_TRACE_ORDER_PEAK: return a->peak_size;
    default: return a->size;
    }
}

static int order_cmp(const void *pa, const void *pb)
{
    const rc_trace_stat *a = pa, *b = pb;
    CMP(figure(a), figure(b));
    return stat_cmp(pa, pb);
}

void rc_trace_stats_sort(rc_trace_stats *st, rc_trace_order order)
{
    sort_order = order;
    qsort(st->items, st->len, sizeof *st->items, order_cmp);
}

static int check_key(rc_trace_key key, bool cumulative)
{
    if (key > RC_TRACE_BY_TRACEBACK || (cumulative && key == RC_TRACE_BY_TRACEBACK))
        return RC_EINVAL;       /* "cumulative mode cannot by used with key type 'traceback'" */
    return 0;
}

static rc_trace_stats *fail(int code, rc_trace_stats *st)
{
    rc_trace_stats_free(st);
    if (code == RC_EINVAL)
        rc__error(NULL, code, "cumulative mode cannot be used with key type 'traceback'");
    else
        rc__error(NULL, code, "snapshot statistics: %s", rc_strerror(code));
    return NULL;
}

static rc_trace_stat stat_of(const vals *v)
{
    return (rc_trace_stat){.size = v->size, .count = v->count, .calls = v->calls, .temporary = v->temporary,
                           .allocated = v->allocated, .peak_size = v->peak_size, .peak_count = v->peak_count};
}

rc_trace_stats *rc_snapshot_statistics(rc_snapshot *s, rc_trace_key key, bool cumulative)
{
    return rc_snapshot_statistics_view(s, RC_TRACE_VIEW_LIVE, key, cumulative);
}

bool rc_snapshot_has_sites(const rc_snapshot *s) { return s->d.nsites > 0; }

rc_trace_stats *rc_snapshot_statistics_view(rc_snapshot *s, rc_trace_view view, rc_trace_key key, bool cumulative)
{
    grouping g;
    int r = check_key(key, cumulative);
    if (!r && view > RC_TRACE_VIEW_SITES)
        r = RC_EINVAL;
    if (r || (r = group_by(s, view, key, cumulative, &g)))
        return fail(r, NULL);
    rc_trace_stats *st = stats_new(g.ngroups, key, false);
    for (size_t i = 0; st && i < g.ngroups; i++)
        if (!push(st, &g, &g.groups[i], stat_of(&g.groups[i].v)))
            break;
    grouping_free(&g);
    if (!st || st->len != g.ngroups)
        return fail(RC_ENOMEM, st);
    qsort(st->items, st->len, sizeof *st->items, stat_cmp);
    return st;
}

/* _compare_grouped_stats: new groups with their change, then old-only
 * groups as (0, -size, 0, -count). */
/* now - before, saturated: a loaded snapshot's figures may be anything. */
static int64_t diff_of(uint64_t now, uint64_t before)
{
    if (now >= before)
        return now - before > (uint64_t)INT64_MAX ? INT64_MAX : (int64_t)(now - before);
    return before - now > (uint64_t)INT64_MAX ? INT64_MIN : -(int64_t)(before - now);
}

static bool compare_groups(rc_trace_stats *st, grouping *nw, grouping *old)
{
    for (size_t i = 0; i < nw->ngroups; i++) {
        group *gr = &nw->groups[i];
        group *prev = old->index ? find(old, nw->keys + gr->first, gr->n, gr->hash, NULL) : NULL;
        if (prev)
            prev->matched = true;
        rc_trace_stat v = {.size = gr->v.size, .count = gr->v.count,
                           .size_diff = diff_of(gr->v.size, prev ? prev->v.size : 0),
                           .count_diff = diff_of(gr->v.count, prev ? prev->v.count : 0)};
        if (!push(st, nw, gr, v))
            return false;
    }
    for (size_t i = 0; i < old->ngroups; i++) {
        group *gr = &old->groups[i];
        rc_trace_stat v = {.size_diff = diff_of(0, gr->v.size), .count_diff = diff_of(0, gr->v.count)};
        if (!gr->matched && !push(st, old, gr, v))
            return false;
    }
    return true;
}

rc_trace_stats *rc_snapshot_compare_to(rc_snapshot *s, rc_snapshot *old, rc_trace_key key, bool cumulative)
{
    grouping gn, go;
    int r = check_key(key, cumulative);
    if (r || (r = group_by(s, RC_TRACE_VIEW_LIVE, key, cumulative, &gn)))
        return fail(r, NULL);
    if ((r = group_by(old, RC_TRACE_VIEW_LIVE, key, cumulative, &go))) {
        grouping_free(&gn);
        return fail(r, NULL);
    }
    rc_trace_stats *st = stats_new(gn.ngroups + go.ngroups, key, true);
    bool ok = st && compare_groups(st, &gn, &go);
    grouping_free(&gn);
    grouping_free(&go);
    if (!ok)
        return fail(RC_ENOMEM, st);
    qsort(st->items, st->len, sizeof *st->items, diff_cmp);
    return st;
}

/* ---- formatting ------------------------------------------------------------ */

int rc_trace_format_size(double size, bool sign, char *buf, size_t n)
{
    static const char *const units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
    for (int u = 0;; u++) {
        if (fabs(size) < 100 && u != 0)
            return snprintf(buf, n, sign ? "%+.1f %s" : "%.1f %s", size, units[u]);
        if (fabs(size) < 10 * 1024 || u == 4)
            return snprintf(buf, n, sign ? "%+.0f %s" : "%.0f %s", size, units[u]);
        size /= 1024;
    }
}

int rc_trace_stat_format(const rc_trace_stats *st, size_t i, char *buf, size_t n)
{
    const rc_trace_stat *it = &st->items[i];
    /* str(Traceback) is its first frame in Python's order: the oldest */
    const rc_frame *f = &it->traceback->frames[it->traceback->nframe - 1];
    char size[32], diff[32], avg[48] = "";
    rc_trace_format_size((double)it->size, false, size, sizeof size);
    if (it->count) {
        memcpy(avg, ", average=", 11);
        rc_trace_format_size((double)it->size / (double)it->count, false, avg + 10, sizeof avg - 10);
    }
    if (!st->is_diff)
        return snprintf(buf, n, "%s:%d: size=%s, count=%zu%s", f->filename, f->lineno, size, it->count, avg);
    rc_trace_format_size((double)it->size_diff, true, diff, sizeof diff);
    return snprintf(buf, n, "%s:%d: size=%s (%s), count=%zu (%+lld)%s", f->filename, f->lineno, size, diff,
                    it->count, (long long)it->count_diff, avg);
}

int rc_trace_site_format(const rc_trace_stats *st, size_t i, char *buf, size_t n)
{
    const rc_trace_stat *it = &st->items[i];
    const rc_frame *f = &it->traceback->frames[it->traceback->nframe - 1];
    char total[32], peak[32], leaked[32];
    rc_trace_format_size((double)it->allocated, false, total, sizeof total);
    rc_trace_format_size((double)it->peak_size, false, peak, sizeof peak);
    rc_trace_format_size((double)it->size, false, leaked, sizeof leaked);
    return snprintf(buf, n, "%s:%d: calls=%zu, temporary=%zu, allocated=%s, peak=%s (%zu blocks), leaked=%s (%zu blocks)",
                    f->filename, f->lineno, it->calls, it->temporary, total, peak, it->peak_count, leaked, it->count);
}

/* linecache.getline(filename, lineno).strip(), or "" */
static void source_line(const char *file, int lineno, char *out, size_t n)
{
    out[0] = 0;
    FILE *f = lineno > 0 ? fopen(file, "r") : NULL;
    if (!f)
        return;
    char line[512];
    for (int i = 1; fgets(line, sizeof line, f); i += strchr(line, '\n') != NULL)
        if (i == lineno) {
            char *p = line, *e = line + strlen(line);
            while (*p == ' ' || *p == '\t')
                p++;
            while (e > p && (e[-1] == '\n' || e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r'))
                *--e = 0;
            snprintf(out, n, "%s", p);
            break;
        }
    fclose(f);
}

void rc_trace_stats_print(const rc_trace_stats *st, size_t limit, FILE *out)
{
    char line[4096], src[512];
    for (size_t i = 0; i < st->len && (!limit || i < limit); i++) {
        rc_trace_stat_format(st, i, line, sizeof line);
        fprintf(out, "%s\n", line);
        if (st->key != RC_TRACE_BY_TRACEBACK)
            continue;
        const rc_traceback *tb = st->items[i].traceback;
        for (size_t k = tb->nframe; k-- > 0;) {       /* Traceback.format(): oldest first */
            fprintf(out, "  File \"%s\", line %d\n", tb->frames[k].filename, tb->frames[k].lineno);
            source_line(tb->frames[k].filename, tb->frames[k].lineno, src, sizeof src);
            if (src[0])
                fprintf(out, "    %s\n", src);
        }
    }
}
