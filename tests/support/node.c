#include "node.h"

int node_released, node_finalized, node_cleared;
void **node_resurrect_slot;

void node_reset_counts(void)
{
    node_released = node_finalized = node_cleared = 0;
    node_resurrect_slot = NULL;
}

static int node_traverse(void *self, rc_visit visit, void *arg)
{
    node *n = self;
    for (int i = 0; i < NODE_MAX; i++)
        if (n->child[i]) {
            int rv = visit(n->child[i], arg);
            if (rv)
                return rv;
        }
    return 0;
}

static void node_clear(void *self)
{
    node *n = self;
    node_cleared++;
    for (int i = 0; i < NODE_MAX; i++) {
        void *c = n->child[i];
        n->child[i] = NULL;
        if (c)
            rc_decref(c);
    }
}

static void node_release(void *self)
{
    (void)self;
    node_released++;
}

static void node_finalize(void *self)
{
    node_finalized++;
    if (node_resurrect_slot) {
        rc_incref(self);
        *node_resurrect_slot = self;
        node_resurrect_slot = NULL;
    }
}

const rc_type node_type = {"node", sizeof(node), node_traverse, node_clear, NULL, node_release, 0, NULL, 0};
const rc_type node_noclear_type = {"node_noclear", sizeof(node), node_traverse, NULL, NULL, node_release, 0, NULL, 0};
const rc_type node_leaf_type = {"leaf", sizeof(node), NULL, NULL, NULL, node_release, 0, NULL, 0};
const rc_type node_final_type = {"node_final", sizeof(node), node_traverse, node_clear, node_finalize, node_release, 0, NULL, 0};

node *node_new(rc_heap *h, const rc_type *t, long id)
{
    node *n = rc_new(h, t);
    assert_non_null(n);
    n->id = id;
    return n;
}

void node_set(void *parent, int i, void *child)
{
    node *n = parent;
    void *old = n->child[i];
    if (child)
        rc_incref(child);
    n->child[i] = child;
    if (old)
        rc_decref(old);
}
