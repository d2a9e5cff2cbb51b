/* A two-reference object type and a plain leaf, with the public header
 * alone: the workloads of bench/threads and bench/plain_ops. */
#ifndef RC_BENCH_PAIR_H
#define RC_BENCH_PAIR_H

#include <recycle.h>

typedef struct pair { void *a, *b; } pair;

static int pair_traverse(void *self, rc_visit visit, void *arg)
{
    pair *p = self;
    return (p->a && visit(p->a, arg)) || (p->b && visit(p->b, arg));
}

static void pair_clear(void *self)
{
    pair *p = self;
    void *a = p->a, *b = p->b;
    p->a = p->b = NULL;
    rc_xdecref(a);
    rc_xdecref(b);
}

static const rc_type leaf_type = {"leaf", 16, NULL, NULL, NULL, NULL, 0, NULL, 0};
static const rc_type pair_type = {"pair", sizeof(pair), pair_traverse, pair_clear, NULL, NULL, 0, NULL, 0};

#endif
