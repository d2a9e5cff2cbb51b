/* Heap dumps (src/graph/heapdump.c): a dump loads back into the same graph, every
 * query gives the live answer, and damaged files are refused with
 * RC_EFORMAT and the byte offset. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "files.h"
#include "graph_fixture.h"
#include <recycle-tools.h>

typedef struct fixture {
    rc_heap *h;
    void *root, *mid, *target, *cyc1, *cyc2, *leaf;
    char path[64];
} fixture;

/* root → mid → target, root → target (diamond-ish), a held cycle and a
 * dead cycle, an untracked leaf, an immortal node. */
static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    f->h = gf_heap();
    f->root = gf_node_new(f->h, 1);
    f->mid = gf_node_new(f->h, 2);
    f->target = gf_other_new(f->h, 3);
    f->cyc1 = gf_node_new(f->h, 4);
    f->cyc2 = gf_node_new(f->h, 5);
    f->leaf = gf_leaf_new(f->h);
    gf_link(f->root, 0, f->mid);
    gf_link(f->mid, 0, f->target);
    gf_link(f->root, 1, f->target);
    gf_link(f->target, 0, f->leaf);
    gf_link(f->cyc1, 0, f->cyc2);
    gf_link(f->cyc2, 0, f->cyc1);
    gf_link(f->cyc2, 1, f->target);
    rc_decref(f->cyc2);
    rc_decref(f->mid);      /* root keeps these; the fixture's pointers are borrowed */
    rc_decref(f->target);
    rc_decref(f->leaf);
    void *imm = gf_node_new(f->h, 6);
    rc_immortalize(imm);
    gf_link(imm, 0, f->mid);
    void *dead1 = gf_node_new(f->h, 7), *dead2 = gf_node_new(f->h, 8);
    gf_link(dead1, 0, dead2);
    gf_link(dead2, 0, dead1);
    rc_decref(dead1);
    rc_decref(dead2);
    snprintf(f->path, sizeof f->path, "/tmp/rc-heapdump-%d.rcd", (int)getpid());
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    unlink(f->path);
    rc_heap_free(f->h);
    free(f);
    return 0;
}

static rc_objgraph *dump_and_load(fixture *f)
{
    assert_int_equal(rc_heap_dump(f->h, f->path), 0);
    rc_objgraph *g = NULL;
    assert_int_equal(rc_objgraph_load(f->path, &g), 0);
    assert_non_null(g);
    return g;
}

typedef struct infos {
    rc_objinfo v[1024];
    size_t n;
} infos;

static int collect(const rc_objinfo *o, void *arg)
{
    infos *s = arg;
    s->v[s->n++] = *o;
    return 0;
}

static void assert_same_objects(const rc_objgraph *a, const rc_objgraph *b)
{
    static infos x, y;
    x.n = y.n = 0;
    assert_true(rc_objgraph_count(a) <= 1024);
    rc_objgraph_each(a, collect, &x);
    rc_objgraph_each(b, collect, &y);
    assert_int_equal(x.n, y.n);
    for (size_t i = 0; i < x.n; i++) {
        assert_int_equal(x.v[i].addr, y.v[i].addr);
        assert_string_equal(x.v[i].type, y.v[i].type);
        assert_int_equal(x.v[i].size, y.v[i].size);
        assert_int_equal(x.v[i].refcount, y.v[i].refcount);
        assert_int_equal(x.v[i].internal, y.v[i].internal);
        assert_int_equal(x.v[i].external, y.v[i].external);
        assert_int_equal(x.v[i].tracked, y.v[i].tracked);
        assert_int_equal(x.v[i].immortal, y.v[i].immortal);
        assert_int_equal(x.v[i].in_garbage, y.v[i].in_garbage);
        assert_int_equal(x.v[i].finalizer, y.v[i].finalizer);
        assert_null(y.v[i].obj);
    }
}

static void assert_same_chain(const rc_objgraph *live, const rc_objgraph *dump, void *obj)
{
    uint64_t *c1, *c2;
    size_t n1, n2;
    int r1 = rc_objgraph_why_alive(live, (uintptr_t)obj, &c1, &n1);
    int r2 = rc_objgraph_why_alive(dump, (uintptr_t)obj, &c2, &n2);
    assert_int_equal(r1, r2);
    assert_int_equal(n1, n2);
    for (size_t i = 0; i < n1; i++)
        assert_int_equal(c1[i], c2[i]);
    free(c1);
    free(c2);
}

static char *dot_text(const rc_objgraph *g, uint64_t addr, bool back, const char *path)
{
    rc_graph_opts o;
    rc_graph_opts_default(&o);
    o.refcounts = true;
    o.shortnames = false;
    assert_int_equal(back ? rc_objgraph_show_backrefs(g, &addr, 1, &o, path)
                          : rc_objgraph_show_refs(g, &addr, 1, &o, path), 0);
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    static char buf[3][16384];
    static int k;
    char *b = buf[k++ % 3];
    size_t n = fread(b, 1, sizeof buf[0] - 1, f);
    b[n] = '\0';
    fclose(f);
    unlink(path);
    return b;
}

static void test_round_trip(void **state)
{
    fixture *f = *state;
    rc_objgraph *live = rc_objgraph_new(f->h);
    rc_objgraph *dump = dump_and_load(f);
    assert_same_objects(live, dump);
    assert_int_equal(rc_objgraph_edge_count(live), rc_objgraph_edge_count(dump));

    rc_type_count t1[8], t2[8];
    size_t k1 = rc_objgraph_typestats(live, t1, 8), k2 = rc_objgraph_typestats(dump, t2, 8);
    assert_int_equal(k1, k2);
    for (size_t i = 0; i < k1; i++) {
        assert_string_equal(t1[i].name, t2[i].name);
        assert_int_equal(t1[i].count, t2[i].count);
        assert_int_equal(t1[i].bytes, t2[i].bytes);
    }
    static infos l1, l2;
    rc_objgraph_leaking(live, collect, &l1);
    rc_objgraph_leaking(dump, collect, &l2);
    assert_int_equal(l1.n, l2.n);
    for (size_t i = 0; i < l1.n; i++)
        assert_int_equal(l1.v[i].addr, l2.v[i].addr);

    assert_same_chain(live, dump, f->leaf);
    assert_same_chain(live, dump, f->target);
    assert_same_chain(live, dump, f->cyc2);
    uint64_t *c;
    size_t n;
    assert_int_equal(rc_objgraph_why_alive(dump, (uintptr_t)f->leaf, &c, &n), 0);
    assert_int_equal(n, 3);     /* root → target → leaf beats imm → mid → target → leaf */
    assert_int_equal(c[0], (uintptr_t)f->root);
    free(c);

    /* The same drawing from both: labels, edges, colours. */
    char dotpath[80];
    snprintf(dotpath, sizeof dotpath, "%s.dot", f->path);
    assert_string_equal(dot_text(live, (uintptr_t)f->root, false, dotpath),
                        dot_text(dump, (uintptr_t)f->root, false, dotpath));
    assert_string_equal(dot_text(live, (uintptr_t)f->leaf, true, dotpath),
                        dot_text(dump, (uintptr_t)f->leaf, true, dotpath));
    rc_objgraph_free(live);
    rc_objgraph_free(dump);
}

/* The seed's Object1/Object2 cycle with the built-in types: two dicts that
 * hold each other, kept by a list the program holds; ints and strings are
 * in the graph although the collector does not track them. */
static void test_round_trip_builtins(void **state)
{
    (void)state;
    rc_heap *h = gf_heap();
    void *holder = rc_list_new(h, 0);
    void *o1 = rc_dict_new(h), *o2 = rc_dict_new(h);
    void *n = rc_int_from(h, 1000000), *s = rc_str_new(h, "a string that is not interned, with spaces");
    assert_int_equal(rc_dict_set_str(o1, "ref", o2), 0);
    assert_int_equal(rc_dict_set_str(o2, "ref", o1), 0);
    assert_int_equal(rc_dict_set_str(o2, "payload", n), 0);
    assert_int_equal(rc_list_append(holder, s), 0);
    assert_int_equal(rc_list_append(holder, o1), 0);
    rc_decref(o1);
    rc_decref(o2);
    rc_decref(n);
    rc_decref(s);

    void **chain;
    size_t len;
    assert_int_equal(rc_graph_why_alive(n, &chain, &len), 0);
    assert_int_equal(len, 4);
    assert_ptr_equal(chain[0], holder);
    assert_ptr_equal(chain[1], o1);
    assert_ptr_equal(chain[2], o2);
    assert_ptr_equal(chain[3], n);
    free(chain);

    rc_objgraph *live = rc_objgraph_new(h);
    rc_objinfo info;
    assert_true(rc_objgraph_lookup(live, (uintptr_t)n, &info));
    assert_string_equal(info.type, "int");
    assert_false(info.tracked);
    assert_int_equal(info.external, 0);
    assert_true(rc_objgraph_lookup(live, (uintptr_t)s, &info));
    assert_string_equal(info.type, "str");
    assert_int_equal(info.size, rc_sizeof(s));
    assert_int_equal(rc_objgraph_type_count(live, "dict"), 2);

    char path[64];
    snprintf(path, sizeof path, "/tmp/rc-heapdump-b-%d.rcd", (int)getpid());
    assert_int_equal(rc_objgraph_save(live, path), 0);
    rc_objgraph *dump = NULL;
    assert_int_equal(rc_objgraph_load(path, &dump), 0);
    assert_same_objects(live, dump);
    assert_same_chain(live, dump, n);
    unlink(path);
    rc_objgraph_free(live);
    rc_objgraph_free(dump);

    /* Dropped by the program, the cycle has no holder: no chain. */
    rc_decref(holder);
    assert_int_equal(rc_graph_why_alive(n, &chain, &len), RC_ENOENT);
    assert_true(rc_gc_collect(h, 2) >= 2);
    rc_heap_free(h);
}

/* growth between two dumps equals what show_growth saw live. */
static void test_growth_between_dumps(void **state)
{
    fixture *f = *state;
    rc_objgraph *before = dump_and_load(f);
    void *more[3];
    for (int i = 0; i < 3; i++)
        more[i] = gf_other_new(f->h, 10 + i);
    rc_objgraph *now = dump_and_load(f);
    rc_type_growth g[4];
    assert_int_equal(rc_objgraph_growth(before, now, g, 4), 1);
    assert_string_equal(g[0].name, "other");
    assert_int_equal(g[0].delta, 3);
    assert_int_equal(g[0].count, rc_objgraph_type_count(now, "other"));
    for (int i = 0; i < 3; i++)
        rc_decref(more[i]);
    rc_objgraph_free(before);
    rc_objgraph_free(now);
}

/* Loads path; err gets the message a failure left (the thread's last error). */
static int load_err(const char *path, char *err, size_t n)
{
    rc_objgraph *g = (rc_objgraph *)1;
    rc_clear_error(NULL);
    int rc = rc_objgraph_load(path, &g);
    if (rc == 0)
        rc_objgraph_free(g);
    else
        assert_null(g);
    assert_int_equal(rc_last_error_code(NULL), rc);
    snprintf(err, n, "%s", rc_last_error(NULL));
    return rc;
}

/* Every truncation is refused and names the offset where the data ends. */
static void test_truncated(void **state)
{
    fixture *f = *state;
    assert_int_equal(rc_heap_dump(f->h, f->path), 0);
    size_t len;
    unsigned char *b = slurp(f->path, &len);
    char bad[96], err[256], want[64];
    snprintf(bad, sizeof bad, "%s.bad", f->path);
    for (size_t cut = 0; cut < len; cut++) {
        spit(bad, b, cut);
        assert_int_equal(load_err(bad, err, sizeof err), RC_EFORMAT);
        snprintf(want, sizeof want, "byte offset %zu:", cut);
        if (!strstr(err, want))
            fail_msg("cut at %zu: %s", cut, err);
        assert_non_null(strstr(err, bad));
    }
    unlink(bad);
    free(b);
}

/* Every single-byte change anywhere is refused. */
static void test_flipped(void **state)
{
    fixture *f = *state;
    assert_int_equal(rc_heap_dump(f->h, f->path), 0);
    size_t len;
    unsigned char *b = slurp(f->path, &len);
    char bad[96], err[256];
    snprintf(bad, sizeof bad, "%s.bad", f->path);
    static const unsigned char masks[] = {0x01, 0x80, 0xFF};
    for (size_t at = 0; at < len; at++)
        for (size_t k = 0; k < sizeof masks; k++) {
            b[at] ^= masks[k];
            spit(bad, b, len);
            b[at] ^= masks[k];
            int rc = load_err(bad, err, sizeof err);
            if (rc != RC_EFORMAT)
                fail_msg("byte %zu ^ %#x loaded (%d)", at, masks[k], rc);
            assert_non_null(strstr(err, "byte offset"));
        }
    /* Extra bytes after the end are refused too. */
    unsigned char *longer = calloc(1, len + 1);
    memcpy(longer, b, len);
    spit(bad, longer, len + 1);
    assert_int_equal(load_err(bad, err, sizeof err), RC_EFORMAT);
    snprintf(bad, sizeof bad, "byte offset %zu:", len);
    assert_non_null(strstr(err, bad));
    free(longer);
    snprintf(bad, sizeof bad, "%s.bad", f->path);
    unlink(bad);
    free(b);
}

static uint64_t fnv(const unsigned char *p, size_t n)
{
    uint64_t h = 0xcbf29ce484222325ull;
    for (size_t i = 0; i < n; i++)
        h = (h ^ p[i]) * 0x100000001b3ull;
    return h;
}

/* A newer version (with a valid header checksum) is refused by name. */
static void test_future_version(void **state)
{
    fixture *f = *state;
    assert_int_equal(rc_heap_dump(f->h, f->path), 0);
    size_t len;
    unsigned char *b = slurp(f->path, &len);
    b[8] = 2;
    uint64_t s = fnv(b, 56);
    for (int i = 0; i < 8; i++)
        b[56 + i] = (unsigned char)(s >> (8 * i));
    char bad[96], err[256];
    snprintf(bad, sizeof bad, "%s.bad", f->path);
    spit(bad, b, len);
    assert_int_equal(load_err(bad, err, sizeof err), RC_EFORMAT);
    assert_non_null(strstr(err, "byte offset 8: version 2 is newer"));
    unlink(bad);
    free(b);
}

static void put_sum(unsigned char *b, size_t from, size_t to)
{
    uint64_t s = fnv(b + from, to - from);
    for (int i = 0; i < 8; i++)
        b[to + i] = (unsigned char)(s >> (8 * i));
}

/* Structure is checked, not only checksums: a file whose checksums were
 * recomputed after the damage is still refused, at the damaged field. */
static void test_consistent_checksums_bad_content(void **state)
{
    fixture *f = *state;
    assert_int_equal(rc_heap_dump(f->h, f->path), 0);
    size_t len;
    unsigned char *b = slurp(f->path, &len);
    size_t names_len = 0;
    for (int i = 0; i < 8; i++)
        names_len |= (size_t)b[40 + i] << (8 * i);
    size_t names_end = 64 + names_len;
    char bad[96], err[256], want[64];
    snprintf(bad, sizeof bad, "%s.bad", f->path);

    /* "leaf" renamed "node": two types of one name. */
    unsigned char *copy = malloc(len);
    memcpy(copy, b, len);
    unsigned char *leaf = memmem(copy + 64, names_len, "leaf", 4);
    assert_non_null(leaf);
    memcpy(leaf, "node", 4);
    put_sum(copy, 64, names_end);
    spit(bad, copy, len);
    assert_int_equal(load_err(bad, err, sizeof err), RC_EFORMAT);
    snprintf(want, sizeof want, "byte offset %zu: type name \"node\" appears twice",
             (size_t)(leaf - copy) - 2);
    if (!strstr(err, want) && !strstr(err, "appears twice"))
        fail_msg("%s", err);

    /* The first object's type index out of range. */
    size_t nodes = names_end + 8;
    memcpy(copy, b, len);
    copy[nodes + 16] = 0xEE;
    size_t nobj = 0;
    for (int i = 0; i < 8; i++)
        nobj |= (size_t)b[16 + i] << (8 * i);
    put_sum(copy, nodes, nodes + nobj * 40);
    spit(bad, copy, len);
    assert_int_equal(load_err(bad, err, sizeof err), RC_EFORMAT);
    snprintf(want, sizeof want, "byte offset %zu: object 0 has type", nodes + 16);
    if (!strstr(err, want))
        fail_msg("%s", err);

    /* An external count that the edges contradict. */
    memcpy(copy, b, len);
    copy[nodes + 24] ^= 1;
    put_sum(copy, nodes, nodes + nobj * 40);
    spit(bad, copy, len);
    assert_int_equal(load_err(bad, err, sizeof err), RC_EFORMAT);
    snprintf(want, sizeof want, "byte offset %zu: object 0: external count", nodes + 24);
    if (!strstr(err, want))
        fail_msg("%s", err);
    free(copy);
    free(b);
    unlink(bad);
}

static void test_empty_heap(void **state)
{
    (void)state;
    rc_heap *h = gf_heap();   /* a new heap holds no objects */
    rc_objgraph *live = rc_objgraph_new(h);
    assert_int_equal(rc_objgraph_count(live), 0);
    rc_objgraph_free(live);
    char path[64];
    snprintf(path, sizeof path, "/tmp/rc-heapdump-e-%d.rcd", (int)getpid());
    assert_int_equal(rc_heap_dump(h, path), 0);
    rc_objgraph *g = NULL;
    assert_int_equal(rc_objgraph_load(path, &g), 0);
    assert_int_equal(rc_objgraph_count(g), 0);
    assert_int_equal(rc_objgraph_edge_count(g), 0);
    assert_int_equal(rc_objgraph_typestats(g, NULL, 0), 0);
    uint64_t *c;
    size_t n;
    assert_int_equal(rc_objgraph_why_alive(g, 0x1000, &c, &n), RC_ENOENT);
    rc_objgraph_free(g);
    unlink(path);
    rc_heap_free(h);
}

static void test_missing_and_unwritable(void **state)
{
    fixture *f = *state;
    char err[256];
    assert_int_equal(load_err("/nonexistent/dir/dump.rcd", err, sizeof err), RC_ENOENT);
    assert_non_null(strstr(err, "/nonexistent/dir/dump.rcd"));
    assert_int_equal(rc_heap_dump(f->h, "/nonexistent/dir/dump.rcd"), RC_EIO);
    assert_non_null(strstr(rc_last_error(f->h), "/nonexistent/dir/dump.rcd"));
}

/* `recycle graph` gives the library's answers from the file. */
static int run_tool(const char *args, char *out, size_t n)
{
    char cmd[512];
    snprintf(cmd, sizeof cmd, "%s/recycle graph %s 2>&1", RC_BINARY_DIR, args);
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    size_t k = fread(out, 1, n - 1, p);
    out[k] = '\0';
    int st = pclose(p);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static void test_tool(void **state)
{
    fixture *f = *state;
    char args[256], out[4096], want[256], old[96];
    assert_int_equal(rc_heap_dump(f->h, f->path), 0);
    snprintf(old, sizeof old, "%s.old", f->path);
    assert_int_equal(rename(f->path, old), 0);
    void *more = gf_other_new(f->h, 42);
    assert_int_equal(rc_heap_dump(f->h, f->path), 0);

    snprintf(args, sizeof args, "%s --types", f->path);
    assert_int_equal(run_tool(args, out, sizeof out), 0);
    assert_string_equal(out, "node  7\nother 2\nleaf  1\n");

    snprintf(args, sizeof args, "%s --growth %s", f->path, old);
    assert_int_equal(run_tool(args, out, sizeof out), 0);
    assert_string_equal(out, "other        2        +1\n");

    snprintf(args, sizeof args, "%s --why-alive %p", f->path, f->leaf);
    assert_int_equal(run_tool(args, out, sizeof out), 0);
    snprintf(want, sizeof want, "%#llx node (", (unsigned long long)(uintptr_t)f->root);
    assert_memory_equal(out, want, strlen(want));
    assert_non_null(strstr(out, "<- held from outside the heap\n"));
    snprintf(want, sizeof want, "  -> %#llx leaf (", (unsigned long long)(uintptr_t)f->leaf);
    assert_non_null(strstr(out, want));

    snprintf(args, sizeof args, "%s --leaking", f->path);
    assert_int_equal(run_tool(args, out, sizeof out), 0);
    snprintf(want, sizeof want, "%#llx node", (unsigned long long)(uintptr_t)f->root);
    assert_non_null(strstr(out, want));
    snprintf(want, sizeof want, "%#llx other", (unsigned long long)(uintptr_t)more);
    assert_non_null(strstr(out, want));

    char png[96];
    snprintf(png, sizeof png, "%s.png", f->path);
    snprintf(args, sizeof args, "%s --show-backrefs %p --max-depth 2 -o %s", f->path, f->leaf, png);
    assert_int_equal(run_tool(args, out, sizeof out), 0);
    size_t len;
    unsigned char *b = slurp(png, &len);
    assert_memory_equal(b, "\x89PNG", 4);
    free(b);
    unlink(png);
    snprintf(args, sizeof args, "%s --show-refs %p", f->path, f->root);
    assert_int_equal(run_tool(args, out, sizeof out), 0);
    assert_memory_equal(out, "digraph ObjectGraph {", 21);

    /* Bad input: exit 2 and a message naming the problem. */
    snprintf(args, sizeof args, "%s --why-alive 0x10", f->path);
    assert_int_equal(run_tool(args, out, sizeof out), 2);
    assert_non_null(strstr(out, "no object at 0x10"));
    b = slurp(f->path, &len);
    spit(old, b, len / 2);
    free(b);
    snprintf(args, sizeof args, "%s --types", old);
    assert_int_equal(run_tool(args, out, sizeof out), 2);
    snprintf(want, sizeof want, "bad heap dump at byte offset %zu:", len / 2);
    assert_non_null(strstr(out, want));
    snprintf(args, sizeof args, "%s", f->path);
    assert_int_equal(run_tool(args, out, sizeof out), 2);
    unlink(old);
    rc_decref(more);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_round_trip, setup, teardown),
        cmocka_unit_test_setup_teardown(test_growth_between_dumps, setup, teardown),
        cmocka_unit_test(test_round_trip_builtins),
        cmocka_unit_test_setup_teardown(test_truncated, setup, teardown),
        cmocka_unit_test_setup_teardown(test_flipped, setup, teardown),
        cmocka_unit_test_setup_teardown(test_future_version, setup, teardown),
        cmocka_unit_test_setup_teardown(test_consistent_checksums_bad_content, setup, teardown),
        cmocka_unit_test_setup_teardown(test_missing_and_unwritable, setup, teardown),
        cmocka_unit_test(test_empty_heap),
        cmocka_unit_test_setup_teardown(test_tool, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
