/* Heap dumps: a snapshot (graph.h) written to a file and read back, so every
 * objgraph query runs offline on the same code.  The format is in
 * docs/file-formats.md ("Heap dump"); in short, little-endian:
 *
 *   header   64 B   magic "RCHEAPDM", version, header size, counts, time,
 *                   FNV-1a checksum of the header's first 56 bytes
 *   names           per type: u16 length, UTF-8 bytes; then u64 checksum
 *   nodes    40 B   per object: addr, size, type, refcount, external,
 *                   flags, out-degree, reserved; then u64 checksum
 *   edges    4 B    per reference: target node index; then u64 checksum
 *   trailer  8 B    "RCHEAPND"
 *
 * The loader trusts nothing: every count, index, flag and checksum is
 * checked before use, and the first failure is reported with the byte
 * offset where it was found.  Files are written to a temporary name and
 * renamed, so a failed dump never leaves a half-written file behind.
 */
#include "graph.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#define DUMP_MAGIC      "RCHEAPDM"
#define DUMP_END        "RCHEAPND"
#define DUMP_VERSION    1u
#define HEADER_SIZE     64u
#define NODE_SIZE       40u
#define NAME_MAX_LEN    4096u
#define TYPES_MAX       (1u << 20)

/* ------------------------------------------------------------------------
 * Writing
 * ---------------------------------------------------------------------- */

typedef struct writer {
    FILE    *f;
    uint64_t sum;
    bool     failed;
} writer;

static void put(writer *w, const void *p, size_t n)
{
    w->sum = rc__fnv1a(w->sum, p, n);
    if (fwrite(p, 1, n, w->f) != n)
        w->failed = true;
}

static void put_le(writer *w, uint64_t v, size_t n)
{
    unsigned char b[8];
    for (size_t i = 0; i < n; i++)
        b[i] = (unsigned char)(v >> (8 * i));
    put(w, b, n);
}

/* Ends a section: its checksum, then a fresh one for the next. */
static void put_sum(writer *w)
{
    uint64_t s = w->sum;
    put_le(w, s, 8);
    w->sum = RC_FNV_OFFSET;
}

static size_t names_bytes(const rc_objgraph *g)
{
    size_t n = 0;
    for (size_t i = 0; i < g->ntypes; i++)
        n += 2 + strlen(g->names[i]);
    return n;
}

static void write_header(writer *w, const rc_objgraph *g)
{
    put(w, DUMP_MAGIC, 8);
    put_le(w, DUMP_VERSION, 4);
    put_le(w, HEADER_SIZE, 4);
    put_le(w, g->n, 8);
    put_le(w, g->m, 8);
    put_le(w, g->ntypes, 8);
    put_le(w, names_bytes(g), 8);
    put_le(w, (uint64_t)time(NULL), 8);
    put_sum(w);
}

static void write_body(writer *w, const rc_objgraph *g)
{
    for (size_t i = 0; i < g->ntypes; i++) {
        size_t len = strlen(g->names[i]);
        put_le(w, len, 2);
        put(w, g->names[i], len);
    }
    put_sum(w);
    for (size_t i = 0; i < g->n; i++) {
        const rc_gnode *n = &g->nodes[i];
        put_le(w, n->addr, 8);
        put_le(w, n->size, 8);
        put_le(w, n->type, 4);
        put_le(w, n->refcnt, 4);
        put_le(w, rc__graph_external(n), 4);
        put_le(w, n->flags, 4);
        put_le(w, g->out_start[i + 1] - g->out_start[i], 4);
        put_le(w, 0, 4);
    }
    put_sum(w);
    for (size_t e = 0; e < g->m; e++)
        put_le(w, g->out[e], 4);
    put_sum(w);
    put(w, DUMP_END, 8);
}

static int check_writable(rc_objgraph *g)
{
    for (size_t i = 0; i < g->ntypes; i++) {
        size_t len = strlen(g->names[i]);
        if (len == 0 || len > NAME_MAX_LEN)
            return rc__graph_fail(g, RC_EINVAL, "type name \"%.40s\" has %zu bytes (1..%u allowed)",
                                  g->names[i], len, NAME_MAX_LEN);
    }
    return 0;
}

int rc_objgraph_save(const rc_objgraph *cg, const char *path)
{
    rc_objgraph *g = (rc_objgraph *)cg;   /* only err is written */
    if (!path)
        return rc__graph_fail(g, RC_EINVAL, "rc_heap_dump: no path");
    int rc = check_writable(g);
    if (rc != 0)
        return rc;
    rc__os_newfile nf;
    writer w = {.f = rc__os_newfile_open(&nf, path), .sum = RC_FNV_OFFSET};
    if (!w.f && errno == ENOMEM)
        return rc__graph_fail(g, RC_ENOMEM, "out of memory");
    if (!w.f)
        return rc__graph_fail(g, RC_EIO, "%s: cannot create: %s", path, strerror(errno));
    write_header(&w, g);
    write_body(&w, g);
    if (rc__os_newfile_commit(&nf, path, !w.failed) != 0)
        rc = rc__graph_fail(g, RC_EIO, "%s: write failed: %s", path, strerror(errno));
    return rc;
}

int rc_heap_dump(rc_heap *h, const char *path)
{
    rc_objgraph *g = rc_objgraph_new(h);
    if (!g)
        return rc_last_error_code(h);
    int rc = rc_objgraph_save(g, path);
    rc_objgraph_free(g);
    return rc;
}

/* ------------------------------------------------------------------------
 * Loading
 * ---------------------------------------------------------------------- */

typedef struct reader {
    const unsigned char *buf;
    size_t   len, off;
    uint64_t sum;
    size_t   section;       /* where the current checksummed section began */
    const char *path;
    bool     failed;
} reader;

static int bad(reader *r, size_t off, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int bad(reader *r, size_t off, const char *fmt, ...)
{
    if (!r->failed) {
        char what[200];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(what, sizeof what, fmt, ap);
        va_end(ap);
        rc__error(NULL, RC_EFORMAT, "%s: bad heap dump at byte offset %zu: %s", r->path, off, what);
    }
    r->failed = true;
    return RC_EFORMAT;
}

/* Reads n little-endian bytes; false (and the error) past the end. */
static bool get_le(reader *r, size_t n, uint64_t *v, const char *what)
{
    if (r->failed)
        return false;
    if (r->len - r->off < n) {
        bad(r, r->len, "file ends inside %s (needs %zu more bytes)", what, n - (r->len - r->off));
        return false;
    }
    uint64_t x = 0;
    for (size_t i = 0; i < n; i++)
        x |= (uint64_t)r->buf[r->off + i] << (8 * i);
    r->off += n;
    *v = x;
    return true;
}

static bool check_sum(reader *r, const char *section)
{
    uint64_t want = rc__fnv1a(RC_FNV_OFFSET, r->buf + r->section, r->off - r->section);
    size_t at = r->off;
    uint64_t got;
    if (!get_le(r, 8, &got, "a checksum"))
        return false;
    if (got != want) {
        bad(r, at, "checksum of the %s (bytes %zu..%zu) does not match", section, r->section, at);
        return false;
    }
    r->section = r->off;
    return true;
}

typedef struct dump_header {
    uint64_t n, m, ntypes, names_bytes;
} dump_header;

static int read_header(reader *r, dump_header *hd)
{
    uint64_t v;
    if (r->len < 8)
        return bad(r, r->len, "file ends inside the magic number");
    if (memcmp(r->buf, DUMP_MAGIC, 8) != 0)
        return bad(r, 0, "not a heap dump (magic is not \"" DUMP_MAGIC "\")");
    r->off = 8;
    if (!get_le(r, 4, &v, "the header"))
        return RC_EFORMAT;
    if (v > DUMP_VERSION)
        return bad(r, 8, "version %llu is newer than this reader's %u", (unsigned long long)v, DUMP_VERSION);
    if (v == 0)
        return bad(r, 8, "version 0 is not a valid version");
    if (!get_le(r, 4, &v, "the header"))
        return RC_EFORMAT;
    if (v != HEADER_SIZE)
        return bad(r, 12, "header size %llu, expected %u", (unsigned long long)v, HEADER_SIZE);
    uint64_t created;
    if (!get_le(r, 8, &hd->n, "the header") || !get_le(r, 8, &hd->m, "the header")
        || !get_le(r, 8, &hd->ntypes, "the header") || !get_le(r, 8, &hd->names_bytes, "the header")
        || !get_le(r, 8, &created, "the header") || !check_sum(r, "header"))
        return RC_EFORMAT;
    if (hd->n >= RC_GNONE)
        return bad(r, 16, "%llu objects is more than a dump can hold", (unsigned long long)hd->n);
    if (hd->m > UINT32_MAX)
        return bad(r, 24, "%llu references is more than a dump can hold", (unsigned long long)hd->m);
    if (hd->ntypes > TYPES_MAX || hd->ntypes > hd->n + 1)
        return bad(r, 32, "%llu types for %llu objects", (unsigned long long)hd->ntypes, (unsigned long long)hd->n);
    if (hd->names_bytes > hd->ntypes * (2 + NAME_MAX_LEN) || hd->names_bytes < hd->ntypes * 3)
        return bad(r, 40, "%llu bytes of names for %llu types", (unsigned long long)hd->names_bytes,
                   (unsigned long long)hd->ntypes);
    /* Sizes are checked against the file before anything is allocated. */
    uint64_t need = HEADER_SIZE + hd->names_bytes + 8 + hd->n * NODE_SIZE + 8 + hd->m * 4 + 8 + 8;
    if (need > r->len)
        return bad(r, r->len, "file ends early: the header describes %llu bytes, the file has %zu",
                   (unsigned long long)need, r->len);
    if (need < r->len)
        return bad(r, need, "%zu unexpected bytes after the end of the dump", r->len - (size_t)need);
    return 0;
}

typedef struct name_at {
    const char *name;
    size_t at;          /* where the name starts in the file */
} name_at;

static int cmp_name_at(const void *a, const void *b)
{
    const name_at *x = a, *y = b;
    int c = strcmp(x->name, y->name);
    return c ? c : (x->at > y->at) - (x->at < y->at);
}

/* Type names must be distinct: typestats groups by name. */
static int check_distinct(reader *r, name_at *v, size_t n)
{
    qsort(v, n, sizeof *v, cmp_name_at);
    for (size_t i = 1; i < n; i++)
        if (strcmp(v[i - 1].name, v[i].name) == 0)
            return bad(r, v[i].at, "type name \"%.40s\" appears twice", v[i].name);
    return 0;
}

static int read_name_list(reader *r, rc_objgraph *g, const dump_header *hd, size_t end, name_at *seen);

static int read_names(reader *r, rc_objgraph *g, const dump_header *hd)
{
    size_t end = r->off + hd->names_bytes;
    g->names = malloc((hd->ntypes ? hd->ntypes : 1) * sizeof *g->names);
    g->name_pool = malloc(hd->names_bytes + 1);   /* each name's length word becomes its NUL */
    if (!g->names || !g->name_pool)
        return RC_ENOMEM;
    name_at *seen = malloc((hd->ntypes ? hd->ntypes : 1) * sizeof *seen);
    if (!seen)
        return RC_ENOMEM;
    int rc = read_name_list(r, g, hd, end, seen);
    if (rc == 0)
        rc = check_distinct(r, seen, hd->ntypes);
    free(seen);
    if (rc != 0)
        return rc;
    g->ntypes = hd->ntypes;
    return check_sum(r, "type names") ? 0 : RC_EFORMAT;
}

static int read_name_list(reader *r, rc_objgraph *g, const dump_header *hd, size_t end, name_at *seen)
{
    char *pool = g->name_pool;
    for (size_t i = 0; i < hd->ntypes; i++) {
        uint64_t len;
        size_t at = r->off;
        if (!get_le(r, 2, &len, "a type name"))
            return RC_EFORMAT;
        if (len == 0 || len > NAME_MAX_LEN || len > end - r->off)
            return bad(r, at, "type name %zu has length %llu", i, (unsigned long long)len);
        if (memchr(r->buf + r->off, '\0', len))
            return bad(r, r->off, "type name %zu contains a NUL byte", i);
        memcpy(pool, r->buf + r->off, len);
        pool[len] = '\0';
        g->names[i] = pool;
        seen[i] = (name_at){pool, at};
        pool += len + 1;
        r->off += len;
    }
    if (r->off != end)
        return bad(r, r->off, "type names end at %zu but the header says %zu", r->off, end);
    return 0;
}

/* One node record; external is checked later, against the edges. */
static int read_node(reader *r, rc_objgraph *g, size_t i, uint32_t *external, uint64_t *edges)
{
    size_t at = r->off;
    uint64_t addr = 0, size = 0, type = 0, refcnt = 0, ext = 0, flags = 0, nout = 0, reserved = 0;
    get_le(r, 8, &addr, "an object");
    get_le(r, 8, &size, "an object");
    get_le(r, 4, &type, "an object");
    get_le(r, 4, &refcnt, "an object");
    get_le(r, 4, &ext, "an object");
    get_le(r, 4, &flags, "an object");
    get_le(r, 4, &nout, "an object");
    if (!get_le(r, 4, &reserved, "an object"))
        return RC_EFORMAT;
    if (i > 0 && addr <= g->nodes[i - 1].addr)
        return bad(r, at, "object %zu at %#llx is not after the previous one", i, (unsigned long long)addr);
    if (type >= g->ntypes)
        return bad(r, at + 16, "object %zu has type %llu of %zu", i, (unsigned long long)type, g->ntypes);
    if (flags & ~(uint64_t)RC_GN_ALL)
        return bad(r, at + 28, "object %zu has unknown flags %#llx", i, (unsigned long long)flags);
    if (((flags & RC_GN_IMMORTAL) != 0) != (refcnt == RC_REFCNT_IMMORTAL))
        return bad(r, at + 20, "object %zu: refcount %llu disagrees with its immortal flag", i,
                   (unsigned long long)refcnt);
    if (reserved != 0)
        return bad(r, at + 36, "object %zu: reserved field is not zero", i);
    *edges += nout;
    if (*edges > g->m)
        return bad(r, at + 32, "object %zu: references run past the %zu in the file", i, g->m);
    g->nodes[i] = (rc_gnode){addr, size, (uint32_t)type, (uint32_t)refcnt, 0, (uint32_t)flags};
    g->out_start[i + 1] = (uint32_t)*edges;
    *external = (uint32_t)ext;
    return 0;
}

static int read_nodes(reader *r, rc_objgraph *g, uint32_t *external)
{
    uint64_t edges = 0;
    g->out_start[0] = 0;
    for (size_t i = 0; i < g->n; i++) {
        int rc = read_node(r, g, i, &external[i], &edges);
        if (rc != 0)
            return rc;
    }
    if (edges != g->m)
        return bad(r, r->off, "objects list %llu references, the header %zu", (unsigned long long)edges, g->m);
    return check_sum(r, "objects") ? 0 : RC_EFORMAT;
}

static int read_edges(reader *r, rc_objgraph *g)
{
    for (size_t e = 0; e < g->m; e++) {
        uint64_t t;
        size_t at = r->off;
        if (!get_le(r, 4, &t, "a reference"))
            return RC_EFORMAT;
        if (t >= g->n)
            return bad(r, at, "reference %zu points at object %llu of %zu", e, (unsigned long long)t, g->n);
        g->out[e] = (uint32_t)t;
        g->nodes[t].internal++;
    }
    return check_sum(r, "references") ? 0 : RC_EFORMAT;
}

/* The stored external counts must be what the refcounts and edges imply. */
static int check_external(reader *r, const rc_objgraph *g, const uint32_t *external, size_t nodes_at)
{
    for (size_t i = 0; i < g->n; i++)
        if (external[i] != rc__graph_external(&g->nodes[i]))
            return bad(r, nodes_at + i * NODE_SIZE + 24,
                       "object %zu: external count %u, but refcount %u minus %u references gives %zu",
                       i, external[i], g->nodes[i].refcnt, g->nodes[i].internal,
                       rc__graph_external(&g->nodes[i]));
    return 0;
}

static int parse(reader *r, rc_objgraph *g)
{
    dump_header hd = {0};
    int rc = read_header(r, &hd);
    if (rc == 0)
        rc = read_names(r, g, &hd);
    if (rc != 0)
        return rc;
    g->n = hd.n;
    g->m = hd.m;
    g->nodes = malloc((g->n ? g->n : 1) * sizeof *g->nodes);
    g->out_start = malloc((g->n + 1) * sizeof *g->out_start);
    g->out = malloc((g->m ? g->m : 1) * sizeof *g->out);
    uint32_t *external = malloc((g->n ? g->n : 1) * sizeof *external);
    rc = (g->nodes && g->out_start && g->out && external) ? 0 : RC_ENOMEM;
    size_t nodes_at = r->off;
    if (rc == 0)
        rc = read_nodes(r, g, external);
    if (rc == 0)
        rc = read_edges(r, g);
    if (rc == 0)
        rc = check_external(r, g, external, nodes_at);
    free(external);
    if (rc == 0 && memcmp(r->buf + r->off, DUMP_END, 8) != 0)
        rc = bad(r, r->off, "missing end marker \"" DUMP_END "\"");
    return rc;
}

static int read_file(const char *path, unsigned char **buf, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        int e = errno;
        return rc__error(NULL, e == ENOENT ? RC_ENOENT : RC_EIO, "%s: %s", path, strerror(e));
    }
    size_t cap = 1 << 16, n = 0;
    unsigned char *b = malloc(cap);
    bool oom = !b;
    while (!oom) {
        n += fread(b + n, 1, cap - n, f);
        /* Not a dump (or an endless device): the magic check needs no more. */
        if (n < cap || memcmp(b, DUMP_MAGIC, 8) != 0)
            break;
        unsigned char *nb = realloc(b, cap *= 2);
        oom = !nb;
        if (nb)
            b = nb;
    }
    bool ioerr = ferror(f);
    int e = errno;
    fclose(f);
    if (oom || ioerr) {
        free(b);
        return rc__error(NULL, oom ? RC_ENOMEM : RC_EIO, "%s: %s", path, oom ? "out of memory" : strerror(e));
    }
    *buf = b;
    *len = n;
    return 0;
}

int rc_objgraph_load_buffer(const void *data, size_t len, const char *name, rc_objgraph **out)
{
    *out = NULL;
    rc_objgraph *g = rc__graph_alloc();
    reader r = {.buf = data, .len = len, .path = name};
    int rc = g ? parse(&r, g) : RC_ENOMEM;
    if (rc != 0) {
        if (rc == RC_ENOMEM)
            rc__error(NULL, rc, "%s: out of memory loading the heap dump", name);
        rc_objgraph_free(g);
        return rc;
    }
    *out = g;
    return 0;
}

int rc_objgraph_load(const char *path, rc_objgraph **out)
{
    unsigned char *buf = NULL;
    size_t len = 0;
    *out = NULL;
    int rc = read_file(path, &buf, &len);
    if (rc == 0)
        rc = rc_objgraph_load_buffer(buf, len, path, out);
    free(buf);
    return rc;
}
