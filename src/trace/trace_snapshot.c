/* rc_snapshot: building (trace.c and loading go through the same interning
 * functions), dump, load, filter_traces. */
#include "../core/internal.h"
#include "trace_snap.h"

#include <errno.h>
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

bool rc__grow(void *arrp, size_t *cap, size_t need, size_t elem)
{
    if (need <= *cap)
        return true;
    size_t ncap = *cap ? *cap : 64;
    while (ncap < need)
        ncap *= 2;
    void *p = realloc(*(void **)arrp, ncap * elem);
    if (!p)
        return false;
    *(void **)arrp = p;
    *cap = ncap;
    return true;
}

rc_snapshot *rc__snap_new(uint32_t traceback_limit)
{
    rc_snapshot *s = calloc(1, sizeof *s);
    if (s)
        s->d.traceback_limit = traceback_limit;
    return s;
}

void rc_snapshot_free(rc_snapshot *s)
{
    if (!s)
        return;
    free(s->d.strs);
    free(s->d.frames);
    free(s->d.tbframes);
    free(s->d.tbs);
    free(s->d.traces);
    free(s->d.mods);
    free(s->d.allocfns);
    free(s->d.sites);
    free(s->str_index);
    free(s->frame_index);
    free(s);
}

/* An open-addressing index of numbers + 1, rebuilt at double size when
 * half full; hash_of(s, number) gives an entry's hash. */
typedef uint64_t (*hash_fn)(const rc_snapshot *s, uint32_t num);

static bool index_grow(const rc_snapshot *s, uint32_t **idx, size_t *mask, size_t n, hash_fn hash)
{
    if ((n + 1) * 2 <= (*idx ? *mask + 1 : 0))
        return true;
    size_t cap = *idx ? (*mask + 1) * 2 : 256;
    uint32_t *ni = calloc(cap, sizeof *ni);
    if (!ni)
        return false;
    for (size_t i = 0; *idx && i <= *mask; i++) {
        if (!(*idx)[i])
            continue;
        size_t j = hash(s, (*idx)[i] - 1) & (cap - 1);
        while (ni[j])
            j = (j + 1) & (cap - 1);
        ni[j] = (*idx)[i];
    }
    free(*idx);
    *idx = ni;
    *mask = cap - 1;
    return true;
}

static uint64_t str_hash(const char *str) { return rc__fnv1a(RC_FNV_OFFSET, str, strlen(str)); }
static uint64_t str_hash_at(const rc_snapshot *s, uint32_t off) { return str_hash(s->d.strs + off); }

uint32_t rc__snap_str(rc_snapshot *s, const char *str)
{
    if (!str)
        return RC__NOSTR;
    if (!index_grow(s, &s->str_index, &s->str_mask, s->d.strs_len, str_hash_at))
        return RC__NOSTR;
    size_t j = str_hash(str) & s->str_mask;
    for (; s->str_index[j]; j = (j + 1) & s->str_mask)
        if (strcmp(s->d.strs + s->str_index[j] - 1, str) == 0)
            return s->str_index[j] - 1;
    size_t n = strlen(str) + 1;
    if (s->d.strs_len + n >= RC__NOSTR || !rc__grow(&s->d.strs, &s->strs_cap, s->d.strs_len + n, 1))
        return RC__NOSTR;
    uint32_t off = (uint32_t)s->d.strs_len;
    memcpy(s->d.strs + off, str, n);
    s->d.strs_len += n;
    s->str_index[j] = off + 1;
    return off;
}

static uint64_t frame_hash(const rc__sframe *f) { return rc__fnv1a(RC_FNV_OFFSET, f, sizeof *f); }
static uint64_t frame_hash_at(const rc_snapshot *s, uint32_t i) { return frame_hash(&s->d.frames[i]); }

uint32_t rc__snap_frame(rc_snapshot *s, const rc__sframe *f)
{
    if (!index_grow(s, &s->frame_index, &s->frame_mask, s->d.nframes, frame_hash_at))
        return UINT32_MAX;
    size_t j = frame_hash(f) & s->frame_mask;
    for (; s->frame_index[j]; j = (j + 1) & s->frame_mask)
        if (memcmp(&s->d.frames[s->frame_index[j] - 1], f, sizeof *f) == 0)
            return s->frame_index[j] - 1;
    if (!rc__grow(&s->d.frames, &s->frames_cap, s->d.nframes + 1, sizeof *f))
        return UINT32_MAX;
    s->d.frames[s->d.nframes] = *f;
    s->frame_index[j] = (uint32_t)s->d.nframes + 1;
    return (uint32_t)s->d.nframes++;
}

uint32_t rc__snap_tb(rc_snapshot *s, const uint32_t *frames, size_t n)
{
    if (!rc__grow(&s->d.tbframes, &s->tbframes_cap, s->d.ntbframes + n, sizeof *frames) ||
        !rc__grow(&s->d.tbs, &s->tbs_cap, s->d.ntbs + 1, sizeof *s->d.tbs))
        return UINT32_MAX;
    memcpy(s->d.tbframes + s->d.ntbframes, frames, n * sizeof *frames);
    s->d.tbs[s->d.ntbs] = (rc__stb){(uint32_t)s->d.ntbframes, (uint32_t)n};
    s->d.ntbframes += n;
    return (uint32_t)s->d.ntbs++;
}

int rc__snap_trace(rc_snapshot *s, uint64_t size, uint32_t tb, uint32_t domain)
{
    if (!rc__grow(&s->d.traces, &s->traces_cap, s->d.ntraces + 1, sizeof *s->d.traces))
        return RC_ENOMEM;
    s->d.traces[s->d.ntraces++] = (rc__strace){size, tb, domain};
    return 0;
}

int rc__snap_site(rc_snapshot *s, const rc__ssite *site)
{
    if (!rc__grow(&s->d.sites, &s->sites_cap, s->d.nsites + 1, sizeof *site))
        return RC_ENOMEM;
    s->d.sites[s->d.nsites++] = *site;
    return 0;
}

const char *rc__snap_strat(const rc_snapshot *s, uint32_t off)
{
    return off == RC__NOSTR ? "<unknown>" : s->d.strs + off;
}

const char *rc__snap_filename(const rc_snapshot *s, const rc__sframe *f)
{
    return rc__snap_strat(s, f->file != RC__NOSTR ? f->file : f->module);
}

int rc_snapshot_traceback_limit(const rc_snapshot *s)
{
    return (int)(s->d.shown_limit ? s->d.shown_limit : s->d.traceback_limit);
}

const char *rc_snapshot_symbol_warning(const rc_snapshot *s)
{
    return s->symbol_warning[0] ? s->symbol_warning : NULL;
}
size_t rc_snapshot_count(const rc_snapshot *s) { return s->d.ntraces; }

size_t rc_snapshot_size(const rc_snapshot *s)
{
    uint64_t total = 0;
    for (size_t i = 0; i < s->d.ntraces; i++)
        total += s->d.traces[i].size;
    return (size_t)total;
}

void rc_snapshot_traced_memory(const rc_snapshot *s, size_t *current, size_t *peak)
{
    if (current)
        *current = (size_t)s->d.traced_current;
    if (peak)
        *peak = (size_t)s->d.traced_peak;
}

/* ---- dump and load ----------------------------------------------------- */

/* Snapshots have no heap: their calls leave errors as the thread's. */
int rc_snapshot_dump(rc_snapshot *s, const char *path)
{
    /* symbolized in this process, while the modules are surely the same */
    int r = rc__snap_symbolize(s);
    if (!r)
        r = rc__snap_write_path(path, &s->d);
    if (r)
        rc__error(NULL, r, "%s: cannot write snapshot: %s", path, r == RC_EIO ? strerror(errno) : rc_strerror(r));
    return r;
}

/* The whole file, read to its end: a pipe (`<(...)`) has no size to ask. */
static int read_all(const char *path, unsigned char **buf, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return errno == ENOENT ? RC_ENOENT : RC_EIO;
    size_t cap = 0;
    int r = 0;
    *buf = NULL;
    *len = 0;
    for (;;) {
        if (*len == cap && !rc__grow(buf, &cap, cap ? cap * 2 : 1 << 16, 1)) {
            r = RC_ENOMEM;
            break;
        }
        size_t got = fread(*buf + *len, 1, cap - *len, f);
        *len += got;
        if (got == 0) {
            r = ferror(f) ? RC_EIO : 0;
            break;
        }
    }
    fclose(f);
    if (r) {
        free(*buf);
        *buf = NULL;
    }
    return r;
}

/* The string at offset off of d, interned in s (RC__NOSTR stays). */
static bool import_str(rc_snapshot *s, const rc__snapdata *d, uint32_t *off)
{
    return *off == RC__NOSTR || (*off = rc__snap_str(s, d->strs + *off)) != RC__NOSTR;
}

/* Modules, wrapper patterns and sites (version 2). */
static int import_extras(rc_snapshot *s, const rc__snapdata *d)
{
    if (!rc__grow(&s->d.mods, &s->mods_cap, d->nmods, sizeof *d->mods) ||
        !rc__grow(&s->d.allocfns, &s->allocfns_cap, d->nallocfns, sizeof *d->allocfns))
        return RC_ENOMEM;
    for (size_t i = 0; i < d->nmods; i++) {
        rc__smod m = d->mods[i];
        if (!import_str(s, d, &m.path) || !import_str(s, d, &m.build_id))
            return RC_ENOMEM;
        s->d.mods[s->d.nmods++] = m;
    }
    for (size_t i = 0; i < d->nallocfns; i++) {
        uint32_t a = d->allocfns[i];
        if (!import_str(s, d, &a))
            return RC_ENOMEM;
        s->d.allocfns[s->d.nallocfns++] = a;
    }
    for (size_t i = 0; i < d->nsites; i++)
        if (rc__snap_site(s, &d->sites[i]))
            return RC_ENOMEM;
    return 0;
}

/* Copies parsed data into s through the interning functions, so strings and
 * frames repeated in the file become one. */
static int import(rc_snapshot *s, const rc__snapdata *d)
{
    uint32_t *fmap = malloc((d->nframes + 1) * sizeof *fmap);
    uint32_t *tmp = malloc((d->traceback_limit + 1) * sizeof *tmp);
    int r = fmap && tmp ? 0 : RC_ENOMEM;
    for (size_t i = 0; !r && i < d->nframes; i++) {
        rc__sframe f = d->frames[i];
        uint32_t *refs[3] = {&f.file, &f.func, &f.module};
        for (int k = 0; k < 3 && !r; k++)
            if (*refs[k] != RC__NOSTR && (*refs[k] = rc__snap_str(s, d->strs + *refs[k])) == RC__NOSTR)
                r = RC_ENOMEM;
        if (!r && (fmap[i] = rc__snap_frame(s, &f)) == UINT32_MAX)
            r = RC_ENOMEM;
    }
    for (size_t i = 0; !r && i < d->ntbs; i++) {
        for (uint32_t k = 0; k < d->tbs[i].nframe; k++)
            tmp[k] = fmap[d->tbframes[d->tbs[i].first + k]];
        if (rc__snap_tb(s, tmp, d->tbs[i].nframe) == UINT32_MAX)
            r = RC_ENOMEM;
    }
    for (size_t i = 0; !r && i < d->ntraces; i++)
        r = rc__snap_trace(s, d->traces[i].size, d->traces[i].tb, d->traces[i].domain);
    if (!r)
        r = import_extras(s, d);
    s->d.shown_limit = d->shown_limit;
    s->d.traced_current = d->traced_current;
    s->d.traced_peak = d->traced_peak;
    free(fmap);
    free(tmp);
    return r;
}

int rc_snapshot_load(const char *path, rc_snapshot **out)
{
    unsigned char *buf = NULL;
    size_t len = 0;
    *out = NULL;
    int r = read_all(path, &buf, &len);
    if (r) {
        return rc__error(NULL, r, "%s: %s", path, r == RC_ENOMEM ? rc_strerror(r) : strerror(errno));
    }
    rc__snapdata d;
    char why[200];
    r = rc__snap_parse(buf, len, &d, why, sizeof why);
    if (r) {
        rc__error(NULL, r, "%s: %s", path, why);
    } else {
        rc_snapshot *s = rc__snap_new(d.traceback_limit);
        r = s ? import(s, &d) : RC_ENOMEM;
        if (r) {
            rc_snapshot_free(s);
            rc__error(NULL, r, "%s: %s", path, rc_strerror(r));
        } else {
            *out = s;
        }
    }
    free(buf);
    return r;
}

/* ---- filters (tracemalloc.Filter / DomainFilter) ------------------------ */

static bool match_frame(const rc_snapshot *s, const rc_trace_filter *f, uint32_t frame)
{
    const rc__sframe *fr = &s->d.frames[frame];
    if (fnmatch(f->filename_pattern, rc__snap_filename(s, fr), 0) != 0)
        return false;
    return f->lineno == 0 || fr->line == f->lineno;
}

static bool match_traceback(const rc_snapshot *s, const rc_trace_filter *f, const rc__stb *tb)
{
    const uint32_t *fr = s->d.tbframes + tb->first;
    if (!f->all_frames)
        return match_frame(s, f, fr[0]) ^ !f->inclusive;
    for (uint32_t i = 0; i < tb->nframe; i++)
        if (match_frame(s, f, fr[i]))
            return f->inclusive;
    return !f->inclusive;
}

static bool filter_match(const rc_snapshot *s, const rc_trace_filter *f, const rc__strace *t)
{
    bool domain_ok = t->domain == f->domain;
    if (!f->filename_pattern)
        return domain_ok ^ !f->inclusive;
    bool res = match_traceback(s, f, &s->d.tbs[t->tb]);
    if (!f->has_domain)
        return res;
    return f->inclusive ? res && domain_ok : res || !domain_ok;
}

static bool keep_trace(const rc_snapshot *s, const rc_trace_filter *fs, size_t n, const rc__strace *t)
{
    bool any_include = false, included = false;
    for (size_t i = 0; i < n; i++) {
        if (!fs[i].inclusive) {
            if (!filter_match(s, &fs[i], t))
                return false;
        } else {
            any_include = true;
            included = included || filter_match(s, &fs[i], t);
        }
    }
    return !any_include || included;
}

/* *dst = a malloc'd copy of n elements of src (NULL when n is 0). */
static bool copy_array(void *dst, size_t *cap, const void *src, size_t n, size_t elem)
{
    *(void **)dst = NULL;
    *cap = 0;
    if (!n)
        return true;
    void *p = malloc(n * elem);
    if (!p)
        return false;
    *(void **)dst = memcpy(p, src, n * elem);
    *cap = n;
    return true;
}

/* c gets s's strings, frames and tracebacks (and their indexes), not its traces. */
static bool copy_tables(rc_snapshot *c, const rc_snapshot *s)
{
    size_t scap, fcap;
    c->d = s->d;               /* the counts; every pointer is replaced below */
    c->d.strs = NULL;
    c->d.frames = NULL;
    c->d.tbframes = NULL;
    c->d.tbs = NULL;
    c->d.traces = NULL;
    c->d.ntraces = 0;
    c->d.mods = NULL;
    c->d.allocfns = NULL;
    c->d.sites = NULL;
    c->d.nsites = 0;
    memcpy(c->symbol_warning, s->symbol_warning, sizeof c->symbol_warning);
    c->symbolized = s->symbolized;
    c->str_mask = s->str_mask;
    c->frame_mask = s->frame_mask;
    return copy_array(&c->d.strs, &c->strs_cap, s->d.strs, s->d.strs_len, 1) &&
           copy_array(&c->d.frames, &c->frames_cap, s->d.frames, s->d.nframes, sizeof(rc__sframe)) &&
           copy_array(&c->d.tbframes, &c->tbframes_cap, s->d.tbframes, s->d.ntbframes, sizeof(uint32_t)) &&
           copy_array(&c->d.tbs, &c->tbs_cap, s->d.tbs, s->d.ntbs, sizeof(rc__stb)) &&
           copy_array(&c->d.mods, &c->mods_cap, s->d.mods, s->d.nmods, sizeof(rc__smod)) &&
           copy_array(&c->d.allocfns, &c->allocfns_cap, s->d.allocfns, s->d.nallocfns, sizeof(uint32_t)) &&
           copy_array(&c->str_index, &scap, s->str_index, s->str_index ? s->str_mask + 1 : 0, 4) &&
           copy_array(&c->frame_index, &fcap, s->frame_index, s->frame_index ? s->frame_mask + 1 : 0, 4);
}

rc_snapshot *rc_snapshot_filter_traces(rc_snapshot *s, const rc_trace_filter *filters, size_t n)
{
    if (n && rc__snap_symbolize(s) != 0)
        return NULL;
    rc_snapshot *c = calloc(1, sizeof *c);
    bool ok = c && copy_tables(c, s);
    for (size_t i = 0; ok && i < s->d.ntraces; i++)
        if (keep_trace(s, filters, n, &s->d.traces[i]))
            ok = rc__snap_trace(c, s->d.traces[i].size, s->d.traces[i].tb, s->d.traces[i].domain) == 0;
    for (size_t i = 0; ok && i < s->d.nsites; i++) {
        const rc__ssite *st = &s->d.sites[i];
        if (keep_trace(s, filters, n, &(rc__strace){0, st->tb, st->domain}))
            ok = rc__snap_site(c, st) == 0;
    }
    if (!ok) {
        rc_snapshot_free(c);
        return NULL;
    }
    return c;
}

/* ---- suppressions (LeakSanitizer's "leak:PATTERN") ------------------------ */

/* A pattern matches anywhere in a frame's function, file or module. */
static bool frame_matches(const rc_snapshot *s, uint32_t fi, const char *pattern)
{
    const rc__sframe *f = &s->d.frames[fi];
    const uint32_t strs[3] = {f->func, f->file, f->module};
    char anywhere[1024];
    snprintf(anywhere, sizeof anywhere, "*%s*", pattern);
    for (int i = 0; i < 3; i++)
        if (strs[i] != RC__NOSTR && fnmatch(anywhere, s->d.strs + strs[i], 0) == 0)
            return true;
    return false;
}

static bool suppressed(const rc_snapshot *s, uint32_t tb, const char *const *patterns, size_t n)
{
    const rc__stb *t = &s->d.tbs[tb];
    for (uint32_t k = 0; k < t->nframe; k++)
        for (size_t i = 0; i < n; i++)
            if (frame_matches(s, s->d.tbframes[t->first + k], patterns[i]))
                return true;
    return false;
}

rc_snapshot *rc_snapshot_suppress(rc_snapshot *s, const char *const *patterns, size_t n, size_t *bytes,
                                  size_t *count)
{
    *bytes = *count = 0;
    if (rc__snap_symbolize(s) != 0)
        return NULL;
    rc_snapshot *c = calloc(1, sizeof *c);
    bool ok = c && copy_tables(c, s);
    for (size_t i = 0; ok && i < s->d.ntraces; i++) {
        const rc__strace *t = &s->d.traces[i];
        if (!suppressed(s, t->tb, patterns, n)) {
            ok = rc__snap_trace(c, t->size, t->tb, t->domain) == 0;
        } else {
            *bytes += (size_t)t->size;
            *count += 1;
        }
    }
    for (size_t i = 0; ok && i < s->d.nsites; i++)
        if (!suppressed(s, s->d.sites[i].tb, patterns, n))
            ok = rc__snap_site(c, &s->d.sites[i]) == 0;
    if (!ok) {
        rc_snapshot_free(c);
        rc__error(NULL, RC_ENOMEM, "suppressing traces: %s", rc_strerror(RC_ENOMEM));
        return NULL;
    }
    return c;
}

/* Leaks that system libraries keep on purpose until the process ends. */
static const char *const default_suppressions[] = {
    "_dl_",              /* the dynamic loader: loaded objects, TLS blocks */
    "_nl_",              /* libc's locale data */
    "__libc_setlocale",
    "g_type_",           /* glib's type system and quarks: never freed */
    "g_quark_",
    "FcConfig",          /* fontconfig's configuration and cache */
    "FcInit",
};

const char *const *rc_trace_default_suppressions(size_t *n)
{
    *n = sizeof default_suppressions / sizeof *default_suppressions;
    return default_suppressions;
}

static int suppression_line(char *line, char ***out, size_t *n, size_t *cap)
{
    line[strcspn(line, "\r\n")] = 0;
    char *p = line + strspn(line, " \t");
    if (!*p || *p == '#')
        return 0;
    if (strncmp(p, "leak:", 5) != 0 || !p[5])
        return RC_EFORMAT;
    char *copy = strdup(p + 5);
    if (!copy || !rc__grow(out, cap, *n + 1, sizeof **out)) {
        free(copy);
        return RC_ENOMEM;
    }
    (*out)[(*n)++] = copy;
    return 0;
}

int rc_trace_read_suppressions(const char *path, char ***patterns, size_t *n)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        int code = errno == ENOENT ? RC_ENOENT : RC_EIO;
        return rc__error(NULL, code, "%s: %s", path, strerror(errno));
    }
    char line[1024];
    size_t cap = *n, lineno = 0;
    int r = 0;
    while (!r && fgets(line, sizeof line, f)) {
        lineno++;
        r = suppression_line(line, patterns, n, &cap);
    }
    fclose(f);
    if (r == RC_EFORMAT)
        return rc__error(NULL, r, "%s: line %zu: not a suppression (leak:PATTERN, # comment)", path, lineno);
    return r ? rc__error(NULL, r, "%s: %s", path, rc_strerror(r)) : 0;
}
