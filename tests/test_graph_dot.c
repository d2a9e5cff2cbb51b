/* show_refs / show_backrefs / show_chain (src/graph/graph_dot.c): the DOT text
 * follows objgraph's options, and PNG/SVG/PDF come out of Graphviz's
 * library; the PNG is decoded (libpng) and has the size of the layout. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>
#include "png_read.h"

#include "graph_fixture.h"
#include <recycle-tools.h>

static char path_dot[64], path_png[64], path_svg[64], path_pdf[64];

static char *read_text(const char *path)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    rewind(f);
    char *b = malloc((size_t)n + 1);
    assert_int_equal(fread(b, 1, (size_t)n, f), (size_t)n);
    b[n] = '\0';
    fclose(f);
    return b;
}

static size_t count(const char *hay, const char *needle)
{
    size_t n = 0;
    for (const char *p = hay; (p = strstr(p, needle)); p++)
        n++;
    return n;
}

static char *node_id(const void *o, char *buf)
{
    sprintf(buf, "o%llx", (unsigned long long)(uintptr_t)o);
    return buf;
}

static bool has_edge(const char *dot, const void *from, const void *to)
{
    char want[96], a[40], b[40];
    snprintf(want, sizeof want, "  %s -> %s;\n", node_id(from, a), node_id(to, b));
    return strstr(dot, want) != NULL;
}

static bool has_node(const char *dot, const void *o)
{
    char want[64], a[40];
    snprintf(want, sizeof want, "  %s[label=", node_id(o, a));
    return strstr(dot, want) != NULL;
}

static char *refs_dot(void *root, const rc_graph_opts *o, bool back)
{
    void *objs[1] = {root};
    int rc = back ? rc_graph_show_backrefs(objs, 1, o, path_dot) : rc_graph_show_refs(objs, 1, o, path_dot);
    assert_int_equal(rc, 0);
    return read_text(path_dot);
}

/* root → four kids; kid0 → a chain of three more. */
typedef struct tree {
    rc_heap *h;
    void *root, *kid[4], *deep[3];
} tree;

static void tree_make(tree *t)
{
    t->h = gf_heap();
    t->root = gf_node_new(t->h, 0);
    for (int i = 0; i < 4; i++) {
        t->kid[i] = i == 3 ? gf_leaf_new(t->h) : gf_node_new(t->h, 10 + i);
        gf_link(t->root, i, t->kid[i]);
        rc_decref(t->kid[i]);
    }
    void *prev = t->kid[0];
    for (int i = 0; i < 3; i++) {
        t->deep[i] = gf_node_new(t->h, 20 + i);
        gf_link(prev, 0, t->deep[i]);
        rc_decref(t->deep[i]);
        prev = t->deep[i];
    }
}

static void test_refs_depth_and_too_many(void **state)
{
    (void)state;
    tree t;
    tree_make(&t);
    rc_graph_opts o;
    rc_graph_opts_default(&o);
    char *dot = refs_dot(t.root, &o, false);
    assert_non_null(strstr(dot, "digraph ObjectGraph {"));
    for (int i = 0; i < 4; i++)
        assert_true(has_edge(dot, t.root, t.kid[i]));
    /* Default max_depth 3: deep[0..1] reached, deep[2] (depth 4) not. */
    assert_true(has_node(dot, t.deep[1]));
    assert_true(has_edge(dot, t.deep[0], t.deep[1]));
    assert_false(has_node(dot, t.deep[2]));
    free(dot);

    o.max_depth = 1;
    o.too_many = 2;
    dot = refs_dot(t.root, &o, false);
    assert_int_equal(count(dot, " -> o"), 2);
    assert_true(has_edge(dot, t.root, t.kid[0]));
    assert_true(has_edge(dot, t.root, t.kid[1]));
    assert_false(has_node(dot, t.kid[2]));
    assert_non_null(strstr(dot, "[label=\"2 more references\""));
    assert_false(has_node(dot, t.deep[0]));
    free(dot);

    o.max_depth = 0;
    dot = refs_dot(t.root, &o, false);
    assert_int_equal(count(dot, "[label="), 1);
    free(dot);

    /* Several roots: each in red, each drawn once. */
    void *two[2] = {t.kid[1], t.deep[1]};
    rc_graph_opts_default(&o);
    assert_int_equal(rc_graph_show_refs(two, 2, &o, path_dot), 0);
    dot = read_text(path_dot);
    assert_int_equal(count(dot, "[fontcolor=red];"), 2);
    assert_true(has_node(dot, t.deep[2]));
    assert_int_equal(count(dot, "[label="), 3);
    free(dot);
    rc_decref(t.root);
    rc_heap_free(t.h);
}

static bool not_leaf(const rc_objinfo *o, void *ctx)
{
    (void)ctx;
    return strcmp(o->type, "leaf") != 0;
}

static bool is_kid1(const rc_objinfo *o, void *ctx)
{
    return o->obj == ((tree *)ctx)->kid[1];
}

static void tag_info(const rc_objinfo *o, void *ctx, char *buf, size_t n)
{
    (void)ctx;
    if (o->tracked)
        snprintf(buf, n, "tag=%d", ((gf_node *)o->obj)->tag);
}

static void test_ignore_filter_highlight_labels(void **state)
{
    (void)state;
    tree t;
    tree_make(&t);
    rc_graph_opts o;
    rc_graph_opts_default(&o);
    const void *ignore[1] = {t.kid[0]};
    o.extra_ignore = ignore;
    o.n_ignore = 1;
    o.filter = not_leaf;
    o.highlight = is_kid1;
    o.ctx = &t;
    o.refcounts = true;
    o.extra_info = tag_info;
    char *dot = refs_dot(t.root, &o, false);
    assert_false(has_node(dot, t.kid[0]));   /* ignored */
    assert_false(has_node(dot, t.deep[0]));  /* only reachable through it */
    assert_false(has_node(dot, t.kid[3]));   /* filtered: a leaf */
    assert_true(has_node(dot, t.kid[1]));
    assert_true(has_node(dot, t.kid[2]));
    char id[40], want[160];
    /* kid1: refcount 1, all of it from root; highlighted in blue; tag. */
    snprintf(want, sizeof want, "  %s[label=\"node [1, ext 0]\\n%#llx\\ntag=11\", fillcolor=\"0.6,0.6,",
             node_id(t.kid[1], id), (unsigned long long)(uintptr_t)t.kid[1]);
    assert_non_null(strstr(dot, want));
    /* root: the test's reference is external: double border. */
    snprintf(want, sizeof want, "  %s[label=\"node [1, ext 1]\\n%#llx\\ntag=0\", fillcolor=\"0,0,1\", peripheries=2];",
             node_id(t.root, id), (unsigned long long)(uintptr_t)t.root);
    assert_non_null(strstr(dot, want));
    free(dot);

    /* shortnames off: size and tracking in the label. */
    rc_graph_opts_default(&o);
    o.shortnames = false;
    dot = refs_dot(t.kid[3], &o, false);
    snprintf(want, sizeof want, "leaf\\n%#llx, %zu B, untracked\"",
             (unsigned long long)(uintptr_t)t.kid[3], rc_sizeof(t.kid[3]));
    assert_non_null(strstr(dot, want));
    free(dot);
    rc_decref(t.root);
    rc_heap_free(t.h);
}

static void test_backrefs_and_chain(void **state)
{
    (void)state;
    tree t;
    tree_make(&t);
    /* A second referrer of deep[2] that the chain does not use. */
    void *side = gf_other_new(t.h, 99);
    gf_link(side, 0, t.deep[1]);
    rc_graph_opts o;
    rc_graph_opts_default(&o);
    o.max_depth = 10;
    char *dot = refs_dot(t.deep[2], &o, true);
    assert_true(has_edge(dot, t.deep[1], t.deep[2]));   /* edges keep their direction */
    assert_true(has_edge(dot, t.deep[0], t.deep[1]));
    assert_true(has_edge(dot, side, t.deep[1]));
    assert_true(has_edge(dot, t.root, t.kid[0]));
    free(dot);

    /* show_chain of why_alive's answer: only the chain's objects. */
    void **chain;
    size_t len;
    assert_int_equal(rc_graph_why_alive(t.deep[2], &chain, &len), 0);
    assert_int_equal(len, 3);   /* side → deep1 → deep2 is shorter than root's path */
    assert_ptr_equal(chain[0], side);
    assert_int_equal(rc_graph_show_chain(chain, len, NULL, path_dot), 0);
    dot = read_text(path_dot);
    assert_int_equal(count(dot, "[label="), 3);
    free(dot);
    free(chain);
    rc_decref(side);
    assert_int_equal(rc_graph_why_alive(t.deep[2], &chain, &len), 0);
    assert_int_equal(len, 5);
    assert_int_equal(rc_graph_show_chain(chain, len, NULL, path_dot), 0);
    dot = read_text(path_dot);
    assert_int_equal(count(dot, "[label="), 5);
    for (size_t i = 0; i + 1 < len; i++)
        assert_true(has_edge(dot, chain[i], chain[i + 1]));
    assert_false(has_node(dot, t.kid[1]));
    free(dot);
    free(chain);
    rc_decref(t.root);
    rc_heap_free(t.h);
}

static void fin(void *self) { (void)self; }
static const rc_type fin_type = {.name = "withfin", .size = 16, .finalize = fin};

static void test_finalizer_marker(void **state)
{
    (void)state;
    rc_heap *h = gf_heap();
    void *o = rc_new(h, &fin_type);
    void *objs[1] = {o};
    assert_int_equal(rc_graph_show_refs(objs, 1, NULL, path_dot), 0);
    char *dot = read_text(path_dot);
    assert_non_null(strstr(dot, "_fin[label=\"finalize\",shape=doublecircle"));
    free(dot);
    rc_decref(o);
    rc_heap_free(h);
}

/* The size Graphviz gives the drawing, in points, from the SVG header. */
static void svg_size(const char *svg, double *w, double *hgt)
{
    const char *p = strstr(svg, "<svg width=\"");
    assert_non_null(p);
    assert_int_equal(sscanf(p, "<svg width=\"%lfpt\" height=\"%lfpt\"", w, hgt), 2);
}

typedef struct png_info_ {
    png_uint_32 w, h;
    size_t dark;   /* pixels that are not near-white: something is drawn */
} png_info_;

static png_info_ decode_png(const char *path)
{
    png_info_ r = {0, 0, 0};
    unsigned char *px = png_read(path, PNG_FORMAT_GRAY, &r.w, &r.h);
    for (size_t i = 0; i < (size_t)r.w * r.h; i++)
        r.dark += px[i] < 128;
    free(px);
    return r;
}

static void test_render_png_svg_pdf(void **state)
{
    (void)state;
    tree t;
    tree_make(&t);
    void *objs[1] = {t.root};
    assert_int_equal(rc_graph_show_refs(objs, 1, NULL, path_png), 0);
    assert_int_equal(rc_graph_show_refs(objs, 1, NULL, path_svg), 0);
    assert_int_equal(rc_graph_show_refs(objs, 1, NULL, path_pdf), 0);

    char *svg = read_text(path_svg);
    double w, hgt;
    svg_size(svg, &w, &hgt);
    free(svg);
    png_info_ p = decode_png(path_png);
    /* Graphviz rasterizes at 96 dpi: points × 4/3, rounded. */
    assert_true(labs((long)p.w - (long)(w * 96 / 72 + 0.5)) <= 1);
    assert_true(labs((long)p.h - (long)(hgt * 96 / 72 + 0.5)) <= 1);
    assert_true(p.h > p.w / 4);     /* four levels deep: not a flat strip */
    assert_true(p.dark > 200);      /* text and edges were drawn */

    char *pdf = read_text(path_pdf);
    assert_memory_equal(pdf, "%PDF-", 5);
    free(pdf);

    /* Deeper drawings are taller. */
    rc_graph_opts o;
    rc_graph_opts_default(&o);
    o.max_depth = 1;
    assert_int_equal(rc_graph_show_refs(objs, 1, &o, path_png), 0);
    png_info_ shallow = decode_png(path_png);
    assert_true(shallow.h < p.h);

    assert_int_equal(rc_graph_show_refs(objs, 1, NULL, "/tmp/x.jpeg-not"), RC_EINVAL);
    assert_non_null(strstr(rc_last_error(t.h), "unknown output format"));
    assert_int_equal(rc_graph_show_refs(objs, 1, NULL, "/nonexistent/dir/x.dot"), RC_EIO);
    rc_decref(t.root);
    rc_heap_free(t.h);
}

static int setup(void **state)
{
    (void)state;
    int pid = (int)getpid();
    snprintf(path_dot, sizeof path_dot, "/tmp/rc-dot-%d.dot", pid);
    snprintf(path_png, sizeof path_png, "/tmp/rc-dot-%d.png", pid);
    snprintf(path_svg, sizeof path_svg, "/tmp/rc-dot-%d.svg", pid);
    snprintf(path_pdf, sizeof path_pdf, "/tmp/rc-dot-%d.pdf", pid);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    unlink(path_dot);
    unlink(path_png);
    unlink(path_svg);
    unlink(path_pdf);
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_refs_depth_and_too_many),
        cmocka_unit_test(test_ignore_filter_highlight_labels),
        cmocka_unit_test(test_backrefs_and_chain),
        cmocka_unit_test(test_finalizer_marker),
        cmocka_unit_test(test_render_png_svg_pdf),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
