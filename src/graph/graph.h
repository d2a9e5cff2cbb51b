/* The object graph behind every objgraph query (docs/graph.md).
 *
 * A snapshot is a compressed adjacency structure: nodes sorted by address,
 * out-edges in CSR form (out[out_start[i] .. out_start[i+1]) are the node
 * indices node i references, duplicates kept so that edge counts match
 * reference counts), and the reverse index built on first use.  A snapshot
 * comes either from a live heap (graph_build.c) or from a heap dump
 * (heapdump.c); queries (graph.c, graph_dot.c) only ever see this struct.
 *
 * Invariants (checked by the dump loader, guaranteed by the builder):
 *   - node addresses strictly increase;
 *   - out_start[0] == 0, out_start is non-decreasing, out_start[n] == m;
 *   - every edge target and every node type is in range;
 *   - internal[i] == number of edges whose target is i.
 */
#ifndef RC_GRAPH_H
#define RC_GRAPH_H

#include "../core/internal.h"

#define RC_GNONE UINT32_MAX

/* rc_gnode.flags (also the on-disk flags of a heap dump). */
#define RC_GN_TRACKED   0x1u
#define RC_GN_IMMORTAL  0x2u
#define RC_GN_GARBAGE   0x4u
#define RC_GN_FINALIZER 0x8u
#define RC_GN_ALL       0xFu

typedef struct rc_gnode {
    uint64_t addr;
    uint64_t size;
    uint32_t type;      /* index into names */
    uint32_t refcnt;    /* RC_REFCNT_IMMORTAL for immortal objects */
    uint32_t internal;  /* in-edges */
    uint32_t flags;     /* RC_GN_* */
} rc_gnode;

struct rc_objgraph {
    rc_heap  *heap;        /* the live heap, or NULL for a loaded dump */
    size_t    n, m;        /* nodes, edges */
    rc_gnode *nodes;
    uint32_t *out_start;   /* n + 1 */
    uint32_t *out;         /* m */
    uint32_t *in_start;    /* reverse CSR, NULL until rc__graph_reverse */
    uint32_t *in;
    size_t    ntypes;
    const char **names;    /* live: the rc_type names; dumps: into name_pool */
    char     *name_pool;
    char      err[256];
};

/* One side of the CSR: adj.to[adj.start[i] .. adj.start[i+1]) are node
 * i's referents, or with backwards its referrers (rc__graph_reverse must
 * have run). */
typedef struct rc_gadj {
    const uint32_t *start, *to;
} rc_gadj;

RC_INLINE rc_gadj rc__graph_adj(const rc_objgraph *g, bool backwards)
{
    return backwards ? (rc_gadj){g->in_start, g->in} : (rc_gadj){g->out_start, g->out};
}

/* graph_build.c */
rc_objgraph *rc__graph_alloc(void);

/* graph_index.c */
RC_PRIVATE int  rc__graph_reverse(rc_objgraph *g);          /* builds in_start / in; RC_ENOMEM */
/* Index of the node at addr, or RC_GNONE. */
RC_PRIVATE uint32_t rc__graph_find(const rc_objgraph *g, uint64_t addr);
RC_PRIVATE void rc__graph_info(const rc_objgraph *g, uint32_t i, rc_objinfo *out);
RC_PRIVATE int  rc__graph_fail(rc_objgraph *g, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
size_t rc__graph_external(const rc_gnode *n);

/* graph.c: breadth-first search from start over referents (backwards =
 * false) or referrers (true), up to max_depth edges, until pred holds for a
 * node (start included).  On success *path is the malloc'd path from the
 * node found back to start (len nodes), so the first match at the smallest
 * depth wins.  RC_ENOENT when nothing matches; RC_ENOMEM. */
typedef bool (*rc_gnode_pred)(const rc_objgraph *g, uint32_t i, void *ctx);
int rc__graph_bfs(rc_objgraph *g, uint32_t start, bool backwards, size_t max_depth,
                  rc_gnode_pred pred, void *ctx, uint32_t **path, size_t *len);

/* heapdump.c: one FNV-1a 64 pass, shared by the writer and the loader. */

#endif /* RC_GRAPH_H */
