/* A small container type for tests: up to NODE_MAX child references, an
 * id, and counters of how often its hooks ran. */
#ifndef RC_TEST_NODE_H
#define RC_TEST_NODE_H

#include <recycle.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#define NODE_MAX 4

typedef struct node {
    void *child[NODE_MAX];
    long  id;
} node;

/* Counters, reset by node_reset_counts. */
extern int node_released, node_finalized, node_cleared;

extern const rc_type node_type;            /* traverse + clear */
extern const rc_type node_noclear_type;    /* traverse, no clear: uncollectable in cycles */
extern const rc_type node_leaf_type;       /* no traverse: never tracked */
/* finalize stores the object into *node_resurrect_slot when non-NULL. */
extern const rc_type node_final_type;
extern void **node_resurrect_slot;

void  node_reset_counts(void);
node *node_new(rc_heap *h, const rc_type *t, long id);
/* Stores a new reference to child in slot i (dropping the old one). */
void  node_set(void *parent, int i, void *child);

#endif
