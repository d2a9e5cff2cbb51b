/* Test-only object types for the object-graph tests: a node with a few
 * child slots (tracked, traversable, clearable) and an untracked leaf, so
 * graph tests do not depend on the built-in types. */
#ifndef GRAPH_FIXTURE_H
#define GRAPH_FIXTURE_H

#include <recycle.h>

#define GF_KIDS 4

typedef struct gf_node {
    void *kid[GF_KIDS];
    int   tag;
} gf_node;

extern const rc_type gf_node_type;   /* "node" */
extern const rc_type gf_other_type;  /* "other": a second tracked type */
extern const rc_type gf_leaf_type;   /* "leaf": never tracked */

/* A new node (refcount 1) with tag. */
void *gf_node_new(rc_heap *h, int tag);
void *gf_other_new(rc_heap *h, int tag);
void *gf_leaf_new(rc_heap *h);
/* Stores a new reference to child in parent's slot i (dropping the old). */
void  gf_link(void *parent, int i, void *child);
/* A heap with the collector disabled, so nothing moves under a test. */
rc_heap *gf_heap(void);

#endif
