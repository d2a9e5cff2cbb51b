/* The heap-dump loader (src/graph/heapdump.c): any bytes load or are refused
 * with RC_EFORMAT and a message naming the offset, never a crash; a dump
 * that loads answers every query and saves to a file that loads back the
 * same graph. */
#include <recycle.h>

#include <stdlib.h>
#include <string.h>

#include "fuzz_file.h"

static fuzz_file in, out;

static int first_addr(const rc_objinfo *o, void *arg)
{
    *(uint64_t *)arg = o->addr;
    return 1;
}

static int count(const rc_objinfo *o, void *arg)
{
    (void)o;
    ++*(size_t *)arg;
    return 0;
}

static bool any(const rc_objinfo *o, void *ctx)
{
    (void)ctx;
    return o->external > 0;
}

static void queries(const rc_objgraph *g)
{
    rc_type_count tc[8];
    size_t ntypes = rc_objgraph_typestats(g, tc, 8);
    if (ntypes)
        (void)rc_objgraph_type_count(g, tc[0].name);
    size_t leaking = 0, n = 0;
    rc_objgraph_leaking(g, count, &leaking);
    rc_objgraph_each(g, count, &n);
    FUZZ_CHECK(n == rc_objgraph_count(g), "each visited %zu of %zu objects", n, rc_objgraph_count(g));
    rc_type_growth gr[4];
    (void)rc_objgraph_growth(g, g, gr, 4);
    uint64_t addr = 0;
    if (rc_objgraph_each(g, first_addr, &addr) == 0)
        return;
    rc_objinfo info;
    FUZZ_CHECK(rc_objgraph_lookup(g, addr, &info), "the first object cannot be looked up");
    uint64_t *chain = NULL;
    size_t len = 0;
    if (rc_objgraph_why_alive(g, addr, &chain, &len) == 0)
        FUZZ_CHECK(len > 0 && chain[len - 1] == addr, "why_alive chain does not end at the object");
    free(chain);
    chain = NULL;
    rc_objgraph_find_backref_chain(g, addr, any, NULL, 5, &chain, &len);
    free(chain);
    chain = NULL;
    rc_objgraph_find_ref_chain(g, addr, any, NULL, 5, &chain, &len);
    free(chain);
}

static void round_trip(const rc_objgraph *g)
{
    const char *path = fuzz_file_path(&out, "dump-out");
    if (rc_objgraph_save(g, path) != 0)
        return;
    rc_objgraph *h = NULL;
    int rc = rc_objgraph_load(path, &h);
    FUZZ_CHECK(rc == 0, "a saved dump does not load: %s", rc_last_error(NULL));
    FUZZ_CHECK(rc_objgraph_count(h) == rc_objgraph_count(g) && rc_objgraph_edge_count(h) == rc_objgraph_edge_count(g),
               "round trip changed the graph");
    rc_objgraph_free(h);
}

static int load(const uint8_t *data, size_t size)
{
    rc_objgraph *g = NULL;
    rc_clear_error(NULL);
    int rc = rc_objgraph_load(fuzz_file_with(&in, "dump-in", data, size), &g);
    if (rc != 0) {
        FUZZ_CHECK(g == NULL && rc_last_error_code(NULL) == rc && (rc == RC_EFORMAT || rc == RC_ENOMEM || rc == RC_EIO),
                   "refused with %d and message '%s'", rc, rc_last_error(NULL));
        return rc;
    }
    queries(g);
    round_trip(g);
    rc_objgraph_free(g);
    return 0;
}

/* Recomputes the four section checksums where the header's counts put
 * them, as far as the input reaches (docs/file-formats.md, heap dumps). */
static void fix_up(uint8_t *b, size_t n)
{
    fuzz_put64(b + 56, fuzz_fnv1a(b, 56));
    uint64_t objects = fuzz_get64(b + 16), refs = fuzz_get64(b + 24), names = fuzz_get64(b + 40);
    uint64_t len[3] = {names, objects * 40, refs * 4};
    if (objects > n || refs > n || names > n)
        return;
    size_t at = 64;
    for (int s = 0; s < 3; s++) {
        if (len[s] + 8 > n - at)
            return;
        fuzz_put64(b + at + len[s], fuzz_fnv1a(b + at, len[s]));
        at += len[s] + 8;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    FUZZ_LOAD_AS_IS_AND_FIXED(data, size, "RCHEAPDM", load, fix_up);
    return 0;
}
