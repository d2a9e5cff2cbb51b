/* Object-graph queries (src/graph/graph.c) on graphs whose answers are known:
 * chains, cycles, diamonds, objects held only from outside. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "graph_fixture.h"

static bool is_tag(const rc_objinfo *o, void *ctx)
{
    return o->obj && ((gf_node *)o->obj)->tag == *(int *)ctx;
}

/* ext → a → b → c → d, only a held by the test. */
static void test_chain(void **state)
{
    (void)state;
    rc_heap *h = gf_heap();
    void *n[4];
    for (int i = 0; i < 4; i++)
        n[i] = gf_node_new(h, i);
    for (int i = 0; i < 3; i++)
        gf_link(n[i], 0, n[i + 1]);
    for (int i = 1; i < 4; i++)
        rc_decref(n[i]);

    void **chain;
    size_t len;
    assert_int_equal(rc_graph_why_alive(n[3], &chain, &len), 0);
    assert_int_equal(len, 4);
    for (int i = 0; i < 4; i++)
        assert_ptr_equal(chain[i], n[i]);
    free(chain);

    int want = 0;
    assert_int_equal(rc_graph_find_backref_chain(n[3], is_tag, &want, 20, &chain, &len), 0);
    assert_int_equal(len, 4);
    assert_ptr_equal(chain[0], n[0]);
    assert_ptr_equal(chain[3], n[3]);
    free(chain);

    /* Too shallow: objgraph's answer, the object alone. */
    assert_int_equal(rc_graph_find_backref_chain(n[3], is_tag, &want, 2, &chain, &len), RC_ENOENT);
    assert_int_equal(len, 1);
    assert_ptr_equal(chain[0], n[3]);
    free(chain);

    want = 3;
    assert_int_equal(rc_graph_find_ref_chain(n[0], is_tag, &want, 20, &chain, &len), 0);
    assert_int_equal(len, 4);
    for (int i = 0; i < 4; i++)
        assert_ptr_equal(chain[i], n[i]);
    free(chain);
    assert_int_equal(rc_graph_find_ref_chain(n[0], is_tag, &want, 3, &chain, &len), 0);
    free(chain);
    assert_int_equal(rc_graph_find_ref_chain(n[0], is_tag, &want, 2, &chain, &len), RC_ENOENT);
    free(chain);

    rc_decref(n[0]);
    rc_heap_free(h);
}

typedef struct addr_list {
    uint64_t *v;
    size_t *n;
} addr_list;

static int add_addr(const rc_objinfo *o, void *arg)
{
    addr_list *l = arg;
    l->v[(*l->n)++] = o->addr;
    return 0;
}

/* a → b → d, a → c → d: the chain is one of the two shortest. */
static void test_diamond(void **state)
{
    (void)state;
    rc_heap *h = gf_heap();
    void *a = gf_node_new(h, 0), *b = gf_node_new(h, 1), *c = gf_node_new(h, 2), *d = gf_node_new(h, 3);
    gf_link(a, 0, b);
    gf_link(a, 1, c);
    gf_link(b, 0, d);
    gf_link(c, 0, d);
    rc_decref(b);
    rc_decref(c);
    rc_decref(d);

    rc_objgraph *g = rc_objgraph_new(h);
    assert_non_null(g);
    rc_objinfo info;
    assert_true(rc_objgraph_lookup(g, (uintptr_t)d, &info));
    assert_int_equal(info.refcount, 2);
    assert_int_equal(info.internal, 2);
    assert_int_equal(info.external, 0);
    assert_true(rc_objgraph_lookup(g, (uintptr_t)a, &info));
    assert_int_equal(info.external, 1);
    assert_int_equal(rc_objgraph_count(g), 4);
    assert_int_equal(rc_objgraph_edge_count(g), 4);
    uint64_t seen[4];
    size_t nseen = 0;
    assert_int_equal(rc_objgraph_referrers(g, (uintptr_t)d, add_addr, &(addr_list){seen, &nseen}), 0);
    assert_int_equal(nseen, 2);
    assert_true((seen[0] == (uintptr_t)b && seen[1] == (uintptr_t)c)
                || (seen[0] == (uintptr_t)c && seen[1] == (uintptr_t)b));
    nseen = 0;
    assert_int_equal(rc_objgraph_referents(g, (uintptr_t)a, add_addr, &(addr_list){seen, &nseen}), 0);
    assert_int_equal(nseen, 2);
    assert_int_equal(seen[0], (uintptr_t)b);    /* traverse order: kid[0], kid[1] */
    assert_int_equal(seen[1], (uintptr_t)c);
    nseen = 0;
    assert_int_equal(rc_objgraph_referrers(g, (uintptr_t)a, add_addr, &(addr_list){seen, &nseen}), 0);
    assert_int_equal(nseen, 0);
    assert_int_equal(rc_objgraph_referrers(g, 8, add_addr, &(addr_list){seen, &nseen}), RC_ENOENT);
    rc_objgraph_free(g);

    void **chain;
    size_t len;
    assert_int_equal(rc_graph_why_alive(d, &chain, &len), 0);
    assert_int_equal(len, 3);
    assert_ptr_equal(chain[0], a);
    assert_true(chain[1] == b || chain[1] == c);
    assert_ptr_equal(chain[2], d);
    free(chain);

    rc_decref(a);
    rc_heap_free(h);
}

/* Two holders: a long path from one, a short one from the other; the short
 * one wins whichever holder was made first. */
static void check_shortest(bool long_first)
{
    rc_heap *h = gf_heap();
    void *far = NULL, *near = NULL, *x[3];
    if (long_first)
        far = gf_node_new(h, 100);
    for (int i = 0; i < 3; i++)
        x[i] = gf_node_new(h, i);
    void *t = gf_node_new(h, 50);
    if (!long_first)
        far = gf_node_new(h, 100);
    near = gf_node_new(h, 200);
    gf_link(far, 0, x[0]);
    gf_link(x[0], 0, x[1]);
    gf_link(x[1], 0, x[2]);
    gf_link(x[2], 0, t);
    gf_link(near, 0, t);
    for (int i = 0; i < 3; i++)
        rc_decref(x[i]);
    rc_decref(t);

    void **chain;
    size_t len;
    assert_int_equal(rc_graph_why_alive(t, &chain, &len), 0);
    assert_int_equal(len, 2);
    assert_ptr_equal(chain[0], near);
    assert_ptr_equal(chain[1], t);
    free(chain);

    /* Drop the near holder: now the long chain is the only one. */
    rc_decref(near);
    assert_int_equal(rc_graph_why_alive(t, &chain, &len), 0);
    assert_int_equal(len, 5);
    assert_ptr_equal(chain[0], far);
    free(chain);
    rc_decref(far);
    rc_heap_free(h);
}

static void test_why_alive_shortest(void **state)
{
    (void)state;
    check_shortest(true);
    check_shortest(false);
}

/* ext → a ⇄ b → c: the holder is a (held from outside), not b, although
 * both sit on a cycle and both have referrers. */
static void test_why_alive_cycle_holder(void **state)
{
    (void)state;
    rc_heap *h = gf_heap();
    void *a = gf_node_new(h, 0), *b = gf_node_new(h, 1), *c = gf_node_new(h, 2);
    gf_link(a, 0, b);
    gf_link(b, 0, a);
    gf_link(b, 1, c);
    rc_decref(b);
    rc_decref(c);
    void **chain;
    size_t len;
    assert_int_equal(rc_graph_why_alive(c, &chain, &len), 0);
    assert_int_equal(len, 3);
    assert_ptr_equal(chain[0], a);
    assert_ptr_equal(chain[1], b);
    assert_ptr_equal(chain[2], c);
    free(chain);

    /* An object held only from outside is its own answer. */
    assert_int_equal(rc_graph_why_alive(a, &chain, &len), 0);
    assert_int_equal(len, 1);
    assert_ptr_equal(chain[0], a);
    free(chain);

    /* Without the outside reference nothing holds the cycle: no chain. */
    rc_decref(a);
    assert_int_equal(rc_graph_why_alive(c, &chain, &len), RC_ENOENT);
    assert_int_equal(len, 0);
    assert_null(chain);
    assert_int_equal(rc_gc_collect(h, 2), 3);
    rc_heap_free(h);
}

/* Immortal objects and untracked leaves count as roots / objects. */
static void test_immortal_and_untracked(void **state)
{
    (void)state;
    rc_heap *h = gf_heap();
    void *leaf = gf_leaf_new(h), *imm = gf_node_new(h, 7), *n = gf_node_new(h, 8);
    rc_immortalize(imm);
    gf_link(imm, 0, n);
    gf_link(n, 0, leaf);
    rc_decref(n);
    rc_decref(leaf);

    void **chain;
    size_t len;
    assert_int_equal(rc_graph_why_alive(leaf, &chain, &len), 0);
    assert_int_equal(len, 3);
    assert_ptr_equal(chain[0], imm);
    free(chain);

    rc_objgraph *g = rc_objgraph_new(h);
    rc_objinfo info;
    assert_true(rc_objgraph_lookup(g, (uintptr_t)leaf, &info));
    assert_false(info.tracked);
    assert_string_equal(info.type, "leaf");
    assert_true(rc_objgraph_lookup(g, (uintptr_t)imm, &info));
    assert_true(info.immortal);
    assert_int_equal(info.refcount, RC_IMMORTAL_REFCNT);
    assert_false(rc_objgraph_lookup(g, (uintptr_t)leaf + 16, NULL));
    rc_objgraph_free(g);
    rc_heap_free(h);
}

static void test_typestats(void **state)
{
    (void)state;
    rc_heap *h = gf_heap();
    void *keep[10];
    for (int i = 0; i < 5; i++)
        keep[i] = gf_node_new(h, i);
    for (int i = 5; i < 8; i++)
        keep[i] = gf_leaf_new(h);
    for (int i = 8; i < 10; i++)
        keep[i] = gf_other_new(h, i);

    rc_type_count t[8];
    assert_int_equal(rc_graph_typestats(h, t, 8), 3);
    assert_string_equal(t[0].name, "node");
    assert_int_equal(t[0].count, 5);
    assert_int_equal(t[0].bytes, 5 * rc_sizeof(keep[0]));
    assert_string_equal(t[1].name, "leaf");
    assert_int_equal(t[1].count, 3);
    assert_string_equal(t[2].name, "other");
    assert_int_equal(t[2].count, 2);
    assert_int_equal(rc_graph_typestats(h, t, 1), 3);    /* most_common_types(1) */
    assert_int_equal(rc_graph_count(h, "leaf"), 3);
    assert_int_equal(rc_graph_count(h, "nothing"), 0);

    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    assert_int_equal(rc_graph_show_most_common_types(h, 2, f), 0);
    fclose(f);
    assert_string_equal(text, "node 5\nleaf 3\n");
    free(text);
    f = open_memstream(&text, &len);
    assert_int_equal(rc_graph_show_most_common_types(h, 0, f), 0);
    fclose(f);
    assert_string_equal(text, "node  5\nleaf  3\nother 2\n");
    free(text);

    for (int i = 0; i < 10; i++)
        rc_decref(keep[i]);
    rc_heap_free(h);
}

static void test_growth(void **state)
{
    (void)state;
    rc_heap *h = gf_heap();
    void *keep[6];
    for (int i = 0; i < 2; i++)
        keep[i] = gf_node_new(h, i);
    rc_type_growth gr[4];
    assert_int_equal(rc_graph_growth(h, gr, 4), 1);
    assert_string_equal(gr[0].name, "node");
    assert_int_equal(gr[0].count, 2);
    assert_int_equal(gr[0].delta, 2);
    assert_int_equal(rc_graph_growth(h, gr, 4), 0);

    /* Falling below the peak and coming back is not growth. */
    rc_decref(keep[1]);
    keep[1] = gf_node_new(h, 1);
    assert_int_equal(rc_graph_growth(h, gr, 4), 0);

    for (int i = 2; i < 5; i++)
        keep[i] = gf_node_new(h, i);
    keep[5] = gf_leaf_new(h);
    /* A dead cycle: growth collects first, as objgraph.growth does. */
    void *a = gf_other_new(h, 0), *b = gf_other_new(h, 1);
    gf_link(a, 0, b);
    gf_link(b, 0, a);
    rc_decref(a);
    rc_decref(b);

    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    assert_int_equal(rc_graph_show_growth(h, 10, f), 0);
    fclose(f);
    assert_string_equal(text, "node        5        +3\n"
                              "leaf        1        +1\n");
    free(text);
    /* Peaks are per heap: a second heap starts from nothing. */
    rc_heap *h2 = gf_heap();
    void *x = gf_node_new(h2, 0);
    assert_int_equal(rc_graph_growth(h2, gr, 4), 1);
    assert_int_equal(gr[0].delta, 1);
    assert_int_equal(rc_graph_growth(h, gr, 4), 0);
    rc_decref(x);
    rc_heap_free(h2);
    for (int i = 0; i < 6; i++)
        rc_decref(keep[i]);
    rc_heap_free(h);
}

static int collect_obj(void *o, void *arg)
{
    void **v = arg;
    size_t *n = (size_t *)&v[0];
    v[1 + (*n)++] = o;
    return 0;
}

static void test_mark_and_new(void **state)
{
    (void)state;
    rc_heap *h = gf_heap();
    void *old = gf_node_new(h, 0);
    void *seen[8] = {0};
    assert_int_equal(rc_graph_new_since_mark(h, collect_obj, seen), RC_ESTATE);
    assert_int_equal(rc_graph_mark(h), 0);
    void *n1 = gf_node_new(h, 1), *n2 = gf_leaf_new(h);
    assert_int_equal(rc_graph_new_since_mark(h, collect_obj, seen), 0);
    assert_int_equal((size_t)seen[0], 2);
    assert_true((seen[1] == n1 && seen[2] == n2) || (seen[1] == n2 && seen[2] == n1));
    rc_decref(n1);
    rc_decref(n2);
    rc_decref(old);
    rc_heap_free(h);
}

static void test_by_type_and_leaking(void **state)
{
    (void)state;
    rc_heap *h = gf_heap();
    void *a = gf_node_new(h, 0), *b = gf_node_new(h, 1), *c = gf_other_new(h, 2), *l = gf_leaf_new(h);
    gf_link(a, 0, b);
    gf_link(b, 0, c);
    gf_link(b, 1, l);
    rc_decref(b);
    rc_decref(c);
    rc_decref(l);
    void *seen[8] = {0};
    assert_int_equal(rc_graph_by_type(h, "other", collect_obj, seen), 0);
    assert_int_equal((size_t)seen[0], 1);
    assert_ptr_equal(seen[1], c);

    /* Leaking: tracked objects nothing in the heap refers to: only a.  A
     * free-standing untracked leaf is not listed (not tracked). */
    void *lone = gf_leaf_new(h);
    memset(seen, 0, sizeof seen);
    assert_int_equal(rc_graph_leaking(h, collect_obj, seen), 0);
    assert_int_equal((size_t)seen[0], 1);
    assert_ptr_equal(seen[1], a);
    rc_decref(lone);
    rc_decref(a);
    rc_heap_free(h);
}

static void test_at(void **state)
{
    (void)state;
    rc_heap *h = gf_heap();
    void *a = gf_node_new(h, 0);
    assert_ptr_equal(rc_graph_at(h, (uintptr_t)a), a);
    assert_null(rc_graph_at(h, (uintptr_t)a + 8));
    assert_null(rc_graph_at(h, (uintptr_t)&h));
    assert_null(rc_graph_at(h, 0));
    rc_heap *other = gf_heap();
    assert_null(rc_graph_at(other, (uintptr_t)a));
    rc_heap_free(other);
    uintptr_t addr = (uintptr_t)a;
    rc_decref(a);
    assert_null(rc_graph_at(h, addr));
    rc_heap_free(h);
}

/* A node holding the same child twice has two edges, as refcounts do. */
static void test_multi_edges(void **state)
{
    (void)state;
    rc_heap *h = gf_heap();
    void *a = gf_node_new(h, 0), *b = gf_node_new(h, 1);
    gf_link(a, 0, b);
    gf_link(a, 1, b);
    rc_decref(b);
    rc_objgraph *g = rc_objgraph_new(h);
    rc_objinfo info;
    assert_true(rc_objgraph_lookup(g, (uintptr_t)b, &info));
    assert_int_equal(info.refcount, 2);
    assert_int_equal(info.internal, 2);
    assert_int_equal(info.external, 0);
    rc_objgraph_free(g);
    rc_decref(a);
    rc_heap_free(h);
}

/* Objects too big for the pools live in large blocks, several of which can
 * share a page: references to and from them resolve all the same. */
static int big_traverse(void *self, rc_visit visit, void *arg)
{
    return gf_node_type.traverse(self, visit, arg);
}
static void big_clear(void *self) { gf_node_type.clear(self); }
static const rc_type big_type = {.name = "big", .size = 0, .traverse = big_traverse, .clear = big_clear};

static void test_large_objects(void **state)
{
    (void)state;
    rc_heap *h = gf_heap();
    enum { N = 12 };
    void *v[N];
    for (int i = 0; i < N; i++) {
        v[i] = i % 2 ? gf_node_new(h, i) : rc_new_var(h, &big_type, 1040 + 16 * (size_t)i);
        assert_non_null(v[i]);
        if (i)
            gf_link(v[i - 1], 0, v[i]);
    }
    for (int i = 1; i < N; i++)
        rc_decref(v[i]);
    rc_objgraph *g = rc_objgraph_new(h);
    assert_int_equal(rc_objgraph_count(g), N);
    assert_int_equal(rc_objgraph_edge_count(g), N - 1);
    assert_int_equal(rc_objgraph_type_count(g, "big"), N / 2);
    for (int i = 1; i < N; i++) {
        rc_objinfo info;
        assert_true(rc_objgraph_lookup(g, (uintptr_t)v[i], &info));
        assert_int_equal(info.internal, 1);
        assert_int_equal(info.external, 0);
    }
    rc_objgraph_free(g);
    void **chain;
    size_t len;
    assert_int_equal(rc_graph_why_alive(v[N - 1], &chain, &len), 0);
    assert_int_equal(len, N);
    assert_ptr_equal(chain[0], v[0]);
    free(chain);
    rc_decref(v[0]);
    rc_heap_free(h);
}

/* RC_TYPE_REFS bodies are traversed by the runtime, not through the type. */
static const rc_type pair_type = {.name = "pair", .size = 2 * sizeof(void *), .flags = RC_TYPE_REFS};

static void test_refs_flag_type(void **state)
{
    (void)state;
    rc_heap *h = gf_heap();
    void **p = rc_new(h, &pair_type), **q = rc_new(h, &pair_type);
    void *leaf = gf_leaf_new(h);
    p[0] = rc_newref(q);
    p[1] = rc_newref(leaf);
    q[1] = rc_newref(leaf);
    rc_decref(q);
    rc_decref(leaf);
    rc_objgraph *g = rc_objgraph_new(h);
    assert_int_equal(rc_objgraph_edge_count(g), 3);
    rc_objinfo info;
    assert_true(rc_objgraph_lookup(g, (uintptr_t)leaf, &info));
    assert_int_equal(info.internal, 2);
    assert_int_equal(info.external, 0);
    assert_true(rc_objgraph_lookup(g, (uintptr_t)p, &info));
    assert_true(info.tracked);
    rc_objgraph_free(g);
    void **chain;
    size_t len;
    assert_int_equal(rc_graph_why_alive(leaf, &chain, &len), 0);
    assert_int_equal(len, 2);
    assert_ptr_equal(chain[0], p);
    free(chain);
    rc_decref(p);
    rc_heap_free(h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_chain),
        cmocka_unit_test(test_diamond),
        cmocka_unit_test(test_why_alive_shortest),
        cmocka_unit_test(test_why_alive_cycle_holder),
        cmocka_unit_test(test_immortal_and_untracked),
        cmocka_unit_test(test_typestats),
        cmocka_unit_test(test_growth),
        cmocka_unit_test(test_mark_and_new),
        cmocka_unit_test(test_by_type_and_leaking),
        cmocka_unit_test(test_at),
        cmocka_unit_test(test_multi_edges),
        cmocka_unit_test(test_large_objects),
        cmocka_unit_test(test_refs_flag_type),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
