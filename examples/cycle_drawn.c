/* Experiment 10 (seeds 003 and 004): a cycle drawn, and why an object is
 * alive.
 *
 * Seed 003's dict cycle: Object1 = {}; Object2 = {};
 * Object1["second"] = Object2; Object1["first"] = Object1 — drawn with
 * show_refs as objgraph.show_refs([a, b], filename='objects.png') draws it
 * (seed 004), rendered in-process by Graphviz.  Then rc_graph_why_alive
 * names the chain that keeps an object alive, starting at the holder that
 * C code (not the heap) references — what objgraph can only guess.
 *
 *     cycle_drawn OUT.png */
#include <recycle-tools.h>

#include <stdio.h>
#include <stdlib.h>

static void print_chain(void **chain, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        char repr[48];
        rc_repr_buf(chain[i], repr, sizeof repr);
        printf("  %s%s %p %s  (refcount %zu)\n", i ? "-> " : "", rc_type_name(chain[i]), chain[i], repr,
               rc_refcount(chain[i]));
    }
}

/* Each node's repr under its type, as objgraph labels its nodes. */
static void label_repr(const rc_objinfo *o, void *ctx, char *buf, size_t n)
{
    (void)ctx;
    if (o->obj)
        rc_repr_buf(o->obj, buf, n < 40 ? n : 40);
}

int main(int argc, char **argv)
{
    const char *png = argc > 1 ? argv[1] : "objects.png";
    rc_heap *h = rc_heap_new(NULL);

    void *object1 = rc_dict_new(h), *object2 = rc_dict_new(h);
    rc_dict_set_str(object1, "second", object2);
    rc_dict_set_str(object1, "first", object1);
    void *both[] = {object1, object2};
    rc_graph_opts opts;
    rc_graph_opts_default(&opts);
    opts.refcounts = true;
    opts.extra_info = label_repr;
    int err = rc_graph_show_refs(both, 2, &opts, png);
    printf("show_refs([Object1, Object2]) -> %s: %s\n", png, err ? rc_strerror(err) : "written");
    printf("RESULT show_refs %d\n", err);

    /* Held from C: holder is a C variable; the heap holds config and port. */
    void *holder = rc_list_new(h, 1), *config = rc_dict_new(h), *port = rc_int_from(h, 8080);
    rc_list_append(holder, config);
    rc_dict_set_str(config, "port", port);
    rc_decref(config);
    rc_decref(port);
    void **chain = NULL;
    size_t len = 0;
    err = rc_graph_why_alive(port, &chain, &len);
    printf("why_alive(8080): %s\n", err ? rc_strerror(err) : "held through");
    if (!err)
        print_chain(chain, len);
    printf("RESULT why_alive_len %zu\n", err ? 0 : len);
    free(chain);

    /* Drop C's references to the dict cycle: only the cycle keeps it now. */
    rc_decref(object2);
    rc_decref(object1);
    err = rc_graph_why_alive(object2, &chain, &len);
    printf("after dropping Object1 and Object2 from C, why_alive(Object2): %s\n",
           err == RC_ENOENT ? "nothing outside the heap holds it (only the cycle)" : rc_strerror(err));
    printf("RESULT why_alive_cycle %d\n", err);
    if (!err)
        free(chain);
    printf("rc_gc_collect(h, 2) = %zu (the two dicts of the cycle)\n", rc_gc_collect(h, 2));

    rc_decref(holder);
    rc_heap_free(h);
    return 0;
}
