#include "graph_fixture.h"

#include <stdlib.h>

static int node_traverse(void *self, rc_visit visit, void *arg)
{
    gf_node *n = self;
    for (int i = 0; i < GF_KIDS; i++)
        if (n->kid[i]) {
            int r = visit(n->kid[i], arg);
            if (r)
                return r;
        }
    return 0;
}

static void node_clear(void *self)
{
    gf_node *n = self;
    for (int i = 0; i < GF_KIDS; i++)
        RC_CLEAR(n->kid[i]);
}

const rc_type gf_node_type = {.name = "node", .size = sizeof(gf_node),
                              .traverse = node_traverse, .clear = node_clear};
const rc_type gf_other_type = {.name = "other", .size = sizeof(gf_node),
                               .traverse = node_traverse, .clear = node_clear};
const rc_type gf_leaf_type = {.name = "leaf", .size = 16};

static void *make(rc_heap *h, const rc_type *t, int tag)
{
    gf_node *n = rc_new(h, t);
    if (!n)
        abort();
    n->tag = tag;
    return n;
}

void *gf_node_new(rc_heap *h, int tag) { return make(h, &gf_node_type, tag); }
void *gf_other_new(rc_heap *h, int tag) { return make(h, &gf_other_type, tag); }

void *gf_leaf_new(rc_heap *h)
{
    void *o = rc_new(h, &gf_leaf_type);
    if (!o)
        abort();
    return o;
}

void gf_link(void *parent, int i, void *child)
{
    gf_node *n = parent;
    void *old = n->kid[i];
    n->kid[i] = rc_newref(child);
    if (old)
        rc_decref(old);
}

rc_heap *gf_heap(void)
{
    rc_config cfg;
    rc_config_default(&cfg);
    cfg.gc_enabled = false;
    rc_heap *h = rc_heap_new(&cfg);
    if (!h)
        abort();
    return h;
}
