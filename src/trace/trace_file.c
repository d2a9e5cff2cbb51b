/* The snapshot file (docs/file-formats.md, "Tracer snapshot").
 *
 * Little-endian, 8-byte aligned sections in a fixed order, a whole-file
 * size in the header (truncation is found before anything else) and an
 * FNV-1a checksum in the trailer (corruption is found even where every
 * field is in range).  The writer uses a bare descriptor (src/prim/fd.c)
 * and a stack buffer only: the preload library calls it from signal
 * handlers and under malloc.
 * The reader validates every index before anything uses it. */
#include "recycle.h"
#include "trace_int.h"
#include "../prim/prim.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

_Static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "the snapshot reader maps records in place");
_Static_assert(sizeof(rc__sframe) == 24 && sizeof(rc__stb) == 8 && sizeof(rc__strace) == 16 &&
                   sizeof(rc__smod) == 8 && sizeof(rc__ssite) == 48,
               "records must match the file layout");

#define MAGIC       "RCSNAPSH"
#define HEADER_SIZE 48
#define SECT_SIZE   16
#define TAG(a, b, c, d) ((uint32_t)(a) | (uint32_t)(b) << 8 | (uint32_t)(c) << 16 | (uint32_t)(d) << 24)

/* Version 1 files end after the traces; version 2 adds the last three. */
enum { SECT_STRS, SECT_FRMS, SECT_TBFR, SECT_TBKS, SECT_TRCS, NSECT_V1, SECT_MODS = NSECT_V1, SECT_AFNS, SECT_SITE,
       NSECT };
static const uint32_t sect_tag[NSECT] = {
    TAG('S', 'T', 'R', 'S'), TAG('F', 'R', 'M', 'S'), TAG('T', 'B', 'F', 'R'),
    TAG('T', 'B', 'K', 'S'), TAG('T', 'R', 'C', 'S'), TAG('M', 'O', 'D', 'S'),
    TAG('A', 'F', 'N', 'S'), TAG('S', 'I', 'T', 'E'),
};
static const char *const sect_name[NSECT] = {"strings", "frames", "traceback frames", "tracebacks", "traces",
                                             "modules", "allocation wrappers", "sites"};
static const size_t sect_elem[NSECT] = {1, sizeof(rc__sframe), sizeof(uint32_t), sizeof(rc__stb), sizeof(rc__strace),
                                        sizeof(rc__smod), sizeof(uint32_t), sizeof(rc__ssite)};
#define TAG_END TAG('E', 'N', 'D', '!')


static size_t pad8(size_t n) { return (n + 7) & ~(size_t)7; }

/* ---- writing ----------------------------------------------------------- */

typedef struct writer {
    int fd;
    int err;
    uint64_t sum;
    size_t used;
    unsigned char buf[8192];
} writer;

static void flush(writer *w)
{
    if (!w->err && w->used && !rc__os_fd_write(w->fd, w->buf, w->used))
        w->err = RC_EIO;
    w->used = 0;
}

static void put(writer *w, const void *p, size_t n)
{
    const unsigned char *b = p;
    w->sum = rc__fnv1a(w->sum, p, n);
    while (n) {
        size_t k = sizeof w->buf - w->used < n ? sizeof w->buf - w->used : n;
        memcpy(w->buf + w->used, b, k);
        w->used += k;
        b += k;
        n -= k;
        if (w->used == sizeof w->buf)
            flush(w);
    }
}

static void put32(writer *w, uint32_t v) { put(w, &v, 4); }
static void put64(writer *w, uint64_t v) { put(w, &v, 8); }

static void put_section(writer *w, int s, const void *data, size_t count)
{
    static const unsigned char zeros[8];
    size_t bytes = count * sect_elem[s];
    put32(w, sect_tag[s]);
    put32(w, 0);
    put64(w, count);
    put(w, data, bytes);
    put(w, zeros, pad8(bytes) - bytes);
}

static const size_t *counts_of(const rc__snapdata *d, size_t c[NSECT])
{
    c[SECT_STRS] = d->strs_len;
    c[SECT_FRMS] = d->nframes;
    c[SECT_TBFR] = d->ntbframes;
    c[SECT_TBKS] = d->ntbs;
    c[SECT_TRCS] = d->ntraces;
    c[SECT_MODS] = d->nmods;
    c[SECT_AFNS] = d->nallocfns;
    c[SECT_SITE] = d->nsites;
    return c;
}

int rc__snap_write_fd(int fd, const rc__snapdata *d)
{
    writer w = {.fd = fd, .sum = RC_FNV_OFFSET};
    size_t c[NSECT];
    counts_of(d, c);
    uint64_t total = HEADER_SIZE + 16;
    for (int s = 0; s < NSECT; s++)
        total += SECT_SIZE + pad8(c[s] * sect_elem[s]);
    put(&w, MAGIC, 8);
    put32(&w, RC_SNAP_VERSION);
    put32(&w, d->traceback_limit);
    put64(&w, total);
    put64(&w, d->traced_current);
    put64(&w, d->traced_peak);
    put32(&w, d->shown_limit ? d->shown_limit : d->traceback_limit);
    put32(&w, 0);
    const void *data[NSECT] = {d->strs, d->frames, d->tbframes, d->tbs, d->traces, d->mods, d->allocfns, d->sites};
    for (int s = 0; s < NSECT; s++)
        put_section(&w, s, data[s], c[s]);
    uint64_t sum = w.sum;
    put32(&w, TAG_END);
    put32(&w, 0);
    put64(&w, sum);
    flush(&w);
    return w.err;
}

int rc__snap_write_path(const char *path, const rc__snapdata *d)
{
    int fd = rc__os_fd_replace_open(path);
    if (fd < 0)
        return errno == ENAMETOOLONG ? RC_EINVAL : RC_EIO;
    int r = rc__snap_write_fd(fd, d);
    if (!rc__os_fd_replace_commit(fd, path, r == 0) && !r)
        r = RC_EIO;
    return r;
}

/* ---- reading ----------------------------------------------------------- */

typedef struct reader {
    const unsigned char *buf;
    size_t len;
    char *msg;
    size_t msglen;
} reader;

__attribute__((format(printf, 3, 4)))
static int fail(reader *r, size_t off, const char *fmt, ...)
{
    if (r->msglen) {
        int k = snprintf(r->msg, r->msglen, "byte offset %zu: ", off);
        va_list ap;
        va_start(ap, fmt);
        if (k >= 0 && (size_t)k < r->msglen)
            vsnprintf(r->msg + k, r->msglen - (size_t)k, fmt, ap);
        va_end(ap);
    }
    return RC_EFORMAT;
}

static uint32_t get32(const reader *r, size_t off) { uint32_t v; memcpy(&v, r->buf + off, 4); return v; }
static uint64_t get64(const reader *r, size_t off) { uint64_t v; memcpy(&v, r->buf + off, 8); return v; }

static int parse_header(reader *r, rc__snapdata *d, int *nsect)
{
    if (r->len < 8 || memcmp(r->buf, MAGIC, 8) != 0)
        return r->len < 8 && memcmp(r->buf, MAGIC, r->len) == 0
                   ? fail(r, r->len, "truncated inside the header")
                   : fail(r, 0, "not a recycle trace snapshot (bad magic)");
    if (r->len < HEADER_SIZE)
        return fail(r, r->len, "truncated inside the header (%d bytes)", HEADER_SIZE);
    uint32_t version = get32(r, 8);
    if (version == 0 || version > RC_SNAP_VERSION)
        return fail(r, 8, "format version %u is not supported (this reader knows %d)", version, RC_SNAP_VERSION);
    uint64_t total = get64(r, 16);
    if (total > r->len)
        return fail(r, r->len, "truncated: the file ends here, its header says %llu bytes", (unsigned long long)total);
    if (total < r->len)
        return fail(r, (size_t)total, "%zu bytes of garbage after the end of the snapshot", r->len - (size_t)total);
    d->traceback_limit = get32(r, 12);
    if (d->traceback_limit == 0 || d->traceback_limit > RC__MAXFRAMES)
        return fail(r, 12, "traceback limit %u out of range 1..%d", d->traceback_limit, RC__MAXFRAMES);
    d->traced_current = get64(r, 24);
    d->traced_peak = get64(r, 32);
    d->shown_limit = version >= 2 ? get32(r, 40) : d->traceback_limit;
    if (d->shown_limit == 0 || d->shown_limit > d->traceback_limit)
        return fail(r, 40, "shown frames %u out of range 1..%u", d->shown_limit, d->traceback_limit);
    *nsect = version >= 2 ? NSECT : NSECT_V1;
    return 0;
}

static int parse_sections(reader *r, rc__snapdata *d, int nsect, size_t *pos, size_t where[NSECT])
{
    const void *data[NSECT] = {NULL};
    size_t count[NSECT] = {0};
    for (int s = 0; s < nsect; s++) {
        if (r->len - *pos < SECT_SIZE)
            return fail(r, *pos, "truncated before the %s section", sect_name[s]);
        if (get32(r, *pos) != sect_tag[s])
            return fail(r, *pos, "expected the %s section", sect_name[s]);
        uint64_t n = get64(r, *pos + 8);
        *pos += SECT_SIZE;
        if (n > (r->len - *pos) / sect_elem[s])
            return fail(r, *pos - 8, "%s section of %llu entries runs past the end", sect_name[s],
                        (unsigned long long)n);
        where[s] = *pos;
        data[s] = r->buf + *pos;
        count[s] = (size_t)n;
        *pos += pad8(count[s] * sect_elem[s]);
        if (*pos > r->len)
            return fail(r, r->len, "truncated inside the %s section", sect_name[s]);
    }
    d->strs = (char *)data[SECT_STRS];            d->strs_len = count[SECT_STRS];
    d->frames = (rc__sframe *)data[SECT_FRMS];    d->nframes = count[SECT_FRMS];
    d->tbframes = (uint32_t *)data[SECT_TBFR];    d->ntbframes = count[SECT_TBFR];
    d->tbs = (rc__stb *)data[SECT_TBKS];          d->ntbs = count[SECT_TBKS];
    d->traces = (rc__strace *)data[SECT_TRCS];    d->ntraces = count[SECT_TRCS];
    d->mods = (rc__smod *)data[SECT_MODS];        d->nmods = count[SECT_MODS];
    d->allocfns = (uint32_t *)data[SECT_AFNS];    d->nallocfns = count[SECT_AFNS];
    d->sites = (rc__ssite *)data[SECT_SITE];      d->nsites = count[SECT_SITE];
    return 0;
}

static bool bad_str(const rc__snapdata *d, uint32_t off) { return off != RC__NOSTR && off >= d->strs_len; }

static int check_v2_refs(reader *r, const rc__snapdata *d, const size_t where[NSECT])
{
    for (size_t i = 0; i < d->nmods; i++)
        if (d->mods[i].path == RC__NOSTR || bad_str(d, d->mods[i].path) || bad_str(d, d->mods[i].build_id))
            return fail(r, where[SECT_MODS] + i * sizeof(rc__smod), "module %zu refers outside the string table", i);
    for (size_t i = 0; i < d->nallocfns; i++)
        if (d->allocfns[i] == RC__NOSTR || bad_str(d, d->allocfns[i]))
            return fail(r, where[SECT_AFNS] + i * 4, "wrapper pattern %zu refers outside the string table", i);
    for (size_t i = 0; i < d->nsites; i++) {
        const rc__ssite *st = &d->sites[i];
        if (st->tb >= d->ntbs || st->domain > 1)
            return fail(r, where[SECT_SITE] + i * sizeof *st, "site %zu names traceback %u, domain %u", i, st->tb,
                        st->domain);
    }
    return 0;
}

static int check_refs(reader *r, const rc__snapdata *d, const size_t where[NSECT])
{
    if (d->strs_len && d->strs[d->strs_len - 1] != 0)
        return fail(r, where[SECT_STRS] + d->strs_len - 1, "string table does not end with NUL");
    for (size_t i = 0; i < d->nframes; i++) {
        const rc__sframe *f = &d->frames[i];
        if (bad_str(d, f->file) || bad_str(d, f->func) || bad_str(d, f->module) || f->line < 0)
            return fail(r, where[SECT_FRMS] + i * sizeof *f, "frame %zu refers outside the string table", i);
    }
    for (size_t i = 0; i < d->ntbframes; i++)
        if (d->tbframes[i] >= d->nframes)
            return fail(r, where[SECT_TBFR] + i * 4, "frame number %u out of range", d->tbframes[i]);
    for (size_t i = 0; i < d->ntbs; i++) {
        const rc__stb *t = &d->tbs[i];
        if (t->nframe == 0 || t->nframe > d->traceback_limit || t->first > d->ntbframes ||
            t->nframe > d->ntbframes - t->first)
            return fail(r, where[SECT_TBKS] + i * sizeof *t, "traceback %zu has a bad frame range", i);
    }
    for (size_t i = 0; i < d->ntraces; i++)
        if (d->traces[i].tb >= d->ntbs)
            return fail(r, where[SECT_TRCS] + i * sizeof(rc__strace), "trace %zu names traceback %u of %zu", i,
                        d->traces[i].tb, d->ntbs);
    return check_v2_refs(r, d, where);
}

int rc__snap_parse(const unsigned char *buf, size_t len, rc__snapdata *d, char *msg, size_t msglen)
{
    reader r = {buf, len, msg, msglen};
    memset(d, 0, sizeof *d);
    int nsect = 0;
    int e = parse_header(&r, d, &nsect);
    size_t pos = HEADER_SIZE, where[NSECT] = {0};
    if (!e)
        e = parse_sections(&r, d, nsect, &pos, where);
    if (e)
        return e;
    if (len - pos != 16 || get32(&r, pos) != TAG_END || get32(&r, pos + 4) != 0)
        return fail(&r, pos, "expected the end marker");
    if (get64(&r, pos + 8) != rc__fnv1a(RC_FNV_OFFSET, buf, pos))
        return fail(&r, pos + 8, "checksum mismatch: the file is corrupt");
    return check_refs(&r, d, where);
}
