/* The node the model-based tests drive (tests/test_gc_model.c and the
 * fuzz/fuzz_ops.c harness): MNODE_KIDS child references and an id.  Its
 * traverse and clear are here once; each user brings its own release (and
 * finalize), which record what died against its model. */
#ifndef RC_TEST_MNODE_H
#define RC_TEST_MNODE_H

#include <recycle.h>

#include <stddef.h>
#include <stdint.h>

#define MNODE_KIDS 3

typedef struct mnode {
    struct mnode *kid[MNODE_KIDS];
    uint32_t id;
} mnode;

static inline int mnode_traverse(void *self, rc_visit visit, void *arg)
{
    mnode *m = self;
    for (int i = 0; i < MNODE_KIDS; i++)
        if (m->kid[i]) {
            int rv = visit(m->kid[i], arg);
            if (rv)
                return rv;
        }
    return 0;
}

/* Its kids as rc_type.ref_words declares them. */
#define MNODE_REF_WORDS (RC_REF_WORD(mnode, kid[0]) | RC_REF_WORD(mnode, kid[1]) | RC_REF_WORD(mnode, kid[2]))
_Static_assert(MNODE_KIDS == 3, "MNODE_REF_WORDS names every kid");

/* The model keeps its edges: clearing an object that is still reachable
 * shows up as a mismatch on the next check. */
static inline void mnode_clear(void *self)
{
    mnode *m = self;
    for (int i = 0; i < MNODE_KIDS; i++) {
        mnode *k = m->kid[i];
        m->kid[i] = NULL;
        if (k)
            rc_decref(k);
    }
}

#endif
