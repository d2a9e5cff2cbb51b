/* Operation-sequence fuzzer: the input bytes are a program of graph edits
 * (create, link, unlink, take and drop external references, collect any
 * generation, weakrefs with callbacks, finalizers that resurrect, freeze,
 * gc.garbage, failing allocations, collections started from finalizers
 * and weakref callbacks) run against a heap and against a model
 * of the same graph (tests/test_gc_model.c's idea, with every feature the
 * collector has).  After every operation:
 *   - rc_heap_check passes;
 *   - every object reachable from the roots (external references,
 *     gc.garbage, frozen objects) is alive with exactly the model's children;
 *   - no weakref hands out an object that was released;
 * after every explicit full collection exactly the objects unreachable from
 * the roots have been released, except what a frozen object that died in
 * the collection reached (check_full_collection says why); at the end every
 * object was released exactly once (the last by rc_heap_free).  Any
 * violation aborts.  Beside code coverage, the harness tells libFuzzer which
 * states of the graph and of its collections an input met (feedback). */
#include <recycle.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../tests/support/mnode.h"

#define KIDS   MNODE_KIDS
#define MAXN   512       /* objects per input */
#define MAXW   32        /* weakrefs held at once */

enum { K_CLEAR, K_NOCLEAR, K_FINAL, K_LEAF, K_REFS, NKINDS };

static struct {
    rc_heap *h;
    uint32_t n;
    mnode   *ptr[MAXN];
    int16_t  kid[MAXN][KIDS];
    uint8_t  kind[MAXN];
    uint32_t ext[MAXN];
    uint8_t  released[MAXN], finalized[MAXN], resurrect[MAXN], frozen[MAXN];
    uint8_t  was_released[MAXN];  /* when the last full collection started */
    uint8_t  mark[MAXN];
    uint32_t reach[MAXN], nreach;
    void    *wr[MAXW];
    int16_t  wr_target[MAXW];
    uint32_t nwr, callbacks, finalizations, resurrections;
    bool     reenter;        /* finalizers and weakref callbacks call rc_gc_collect */
    const uint8_t *in;
    size_t   left;
} M;

#define CHECK(cond, ...)                                                  \
    do {                                                                  \
        if (!(cond)) {                                                    \
            fprintf(stderr, "fuzz_ops: %s: ", #cond);                     \
            fprintf(stderr, __VA_ARGS__);                                 \
            fputc('\n', stderr);                                          \
            abort();                                                      \
        }                                                                 \
    } while (0)

static uint8_t byte(void)
{
    if (!M.left)
        return 0;
    M.left--;
    return *M.in++;
}

/* ---- the node types ---------------------------------------------------- */

static void mnode_release(void *self)
{
    uint32_t id = ((mnode *)self)->id;
    CHECK(id < M.n && !M.released[id], "object %u released twice", id);
    M.released[id] = 1;
}

static void mnode_finalize(void *self)
{
    uint32_t id = ((mnode *)self)->id;
    CHECK(!M.finalized[id], "object %u finalized twice (PEP 442: at most once)", id);
    M.finalized[id] = 1;
    M.finalizations++;
    if (M.reenter)
        rc_gc_collect(M.h, 2);      /* 0 during a collection; a full one during a plain death */
    if (M.resurrect[id]) {          /* store a new reference: resurrection */
        rc_incref(self);
        M.ext[id]++;
        M.resurrections++;
    }
}

static const rc_type types[NKINDS] = {
    {"clear", sizeof(mnode), mnode_traverse, mnode_clear, NULL, mnode_release, 0, NULL, 0},
    {"noclear", sizeof(mnode), mnode_traverse, NULL, NULL, mnode_release, 0, NULL, 0},
    {"final", sizeof(mnode), mnode_traverse, mnode_clear, mnode_finalize, mnode_release, 0, NULL, 0},
    {"leaf", sizeof(mnode), NULL, NULL, NULL, mnode_release, 0, NULL, 0},
    /* the runtime traverses and clears the references (the body's first KIDS words) */
    {"refs", KIDS * sizeof(void *), NULL, NULL, NULL, mnode_release, RC_TYPE_REFS, NULL, 0},
};

/* ---- the model ----------------------------------------------------------- */

static void reach_add(uint32_t id)
{
    if (!M.mark[id]) {
        M.mark[id] = 1;
        M.reach[M.nreach++] = id;
    }
}

static int visit_garbage_root(void *obj, void *arg)
{
    (void)arg;
    reach_add(((mnode *)obj)->id);
    return 0;
}

/* Marks what the marked objects reach; again after adding roots. */
static void reach_close(void)
{
    for (uint32_t i = 0; i < M.nreach; i++)
        for (int k = 0; k < KIDS; k++)
            if (M.kid[M.reach[i]][k] >= 0)
                reach_add((uint32_t)M.kid[M.reach[i]][k]);
}

/* Roots: external references, gc.garbage, frozen objects. */
static void compute_reachable(void)
{
    memset(M.mark, 0, M.n);
    M.nreach = 0;
    for (uint32_t id = 0; id < M.n; id++)
        if (!M.released[id] && (M.ext[id] || M.frozen[id]))
            reach_add(id);
    rc_gc_garbage(M.h, visit_garbage_root, NULL);
    reach_close();
}

static bool trace;

static void dump_model(void)
{
    for (uint32_t id = 0; id < M.n; id++)
        fprintf(stderr, "  #%u %s ext=%u%s%s%s kids=%d,%d,%d\n", id, types[M.kind[id]].name, M.ext[id],
                M.released[id] ? " released" : "", M.finalized[id] ? " finalized" : "",
                M.frozen[id] ? " frozen" : "", M.kid[id][0], M.kid[id][1], M.kid[id][2]);
}

/* ---- feedback: the states the run met ------------------------------------- */

/* libFuzzer keeps an input that shows a new feature: code not covered
 * before, or a new value of an extra counter (this section, read after
 * every run like the coverage).  States of the graph and of a collection
 * that run no code of their own -- garbage holding the last reference to
 * a frozen object, a collection in which it dies -- get a counter per
 * combination, so that an input that reaches one is kept and built on,
 * where otherwise the whole sequence had to be hit at once by chance. */
enum {  /* the graph, after every operation and as a full collection starts */
    S_FROZEN = 1, S_FROZEN_HOLDS = 2, S_HOLDS_FROZEN = 4, S_FROZEN_DOOMED = 8, S_DOOMED_HOLDS = 16,
    S_GARBAGE = 32, S_REENTER = 64, NSTATES = 128
};
enum {  /* what a full collection did; C_LEFT: it left garbage for the next one */
    C_FROZEN_DIED = 1, C_LEFT = 2, C_FINALIZED = 4, C_RESURRECTED = 8, C_UNCOLLECTABLE = 16,
    C_CALLBACK = 32, NDID = 64
};
#define EXTRA_COUNTERS __attribute__((used, section("__libfuzzer_extra_counters")))
EXTRA_COUNTERS static uint8_t states_met[NSTATES];
EXTRA_COUNTERS static uint8_t collections_met[NSTATES * NDID];

/* Who holds whom, from M.mark as compute_reachable left it: held[id] says
 * what holds id, 1 a live object the roots reach, 2 garbage. */
static unsigned note_holders(uint8_t *held)
{
    unsigned state = 0;
    memset(held, 0, M.n);
    for (uint32_t id = 0; id < M.n; id++) {
        if (M.released[id])
            continue;
        state |= M.frozen[id] ? S_FROZEN : M.mark[id] ? 0 : S_GARBAGE;
        for (int k = 0; k < KIDS; k++) {
            int to = M.kid[id][k];
            if (to < 0)
                continue;
            held[to] |= M.mark[id] ? 1 : 2;
            if (M.frozen[id] != M.frozen[to])
                state |= M.frozen[id] ? S_FROZEN_HOLDS : S_HOLDS_FROZEN;
        }
    }
    return state;
}

/* The steps towards garbage killing a frozen object that holds a younger
 * one: "doomed", only garbage holds it. */
static unsigned graph_state(void)
{
    static uint8_t held[MAXN];
    unsigned state = note_holders(held) | (M.reenter ? S_REENTER : 0);
    for (uint32_t id = 0; id < M.n; id++) {
        if (!M.frozen[id] || M.released[id] || M.ext[id] || held[id] != 2)
            continue;
        state |= S_FROZEN_DOOMED;
        for (int k = 0; k < KIDS; k++)
            if (M.kid[id][k] >= 0 && !M.frozen[M.kid[id][k]])
                state |= S_DOOMED_HOLDS;
    }
    return state;
}

static void check_step(void)
{
    if (trace)
        dump_model();
    int rc = rc_heap_check(M.h);
    CHECK(rc == 0, "%s", rc_last_error(M.h));
    compute_reachable();
    states_met[graph_state()]++;
    for (uint32_t i = 0; i < M.nreach; i++) {
        uint32_t id = M.reach[i];
        CHECK(!M.released[id], "reachable object %u was released", id);
        for (int k = 0; k < KIDS; k++) {
            mnode *want = M.kid[id][k] >= 0 ? M.ptr[M.kid[id][k]] : NULL;
            CHECK(M.ptr[id]->kid[k] == want, "object %u child %d changed", id, k);
        }
    }
    for (uint32_t w = 0; w < M.nwr; w++)
        if (M.released[M.wr_target[w]])
            CHECK(rc_weakref_get(M.wr[w]) == NULL, "weakref to released object %u", M.wr_target[w]);
}

static bool died_in_collection(uint32_t id)
{
    return M.released[id] && !M.was_released[id];
}

/* A full collection frees what the roots do not reach, but for one case:
 * a frozen object is a root and no candidate, so what it reaches when the
 * collection starts survives it -- also when garbage held the frozen
 * object's last reference and clearing the garbage killed it (CPython
 * decides what is unreachable before it clears anything).  What it alone
 * reached, if a cycle, is garbage for the next full collection. */
static void check_full_collection(void)
{
    compute_reachable();
    for (uint32_t id = 0; id < M.n; id++)
        CHECK(!M.mark[id] || !M.released[id], "reachable object %u was released", id);
    for (uint32_t id = 0; id < M.n; id++)
        if (M.frozen[id] && died_in_collection(id))
            reach_add(id);
    reach_close();
    for (uint32_t id = 0; id < M.n; id++)
        CHECK(M.released[id] || M.mark[id], "object %u: released 0, reachable 0, no frozen object that died "
              "in the collection reached it", id);
}

typedef struct events {
    uint32_t finalizations, resurrections, callbacks;
    size_t   garbage;
} events;

static int count_one(void *obj, void *arg)
{
    (void)obj;
    ++*(size_t *)arg;
    return 0;
}

static events events_now(void)
{
    events e = {M.finalizations, M.resurrections, M.callbacks, 0};
    rc_gc_garbage(M.h, count_one, &e.garbage);
    return e;
}

static unsigned collection_did(events was)
{
    events now = events_now();
    unsigned did = (now.finalizations != was.finalizations ? C_FINALIZED : 0) |
                   (now.resurrections != was.resurrections ? C_RESURRECTED : 0) |
                   (now.garbage > was.garbage ? C_UNCOLLECTABLE : 0) |
                   (now.callbacks != was.callbacks ? C_CALLBACK : 0);
    compute_reachable();
    for (uint32_t id = 0; id < M.n; id++) {
        if (M.frozen[id] && died_in_collection(id))
            did |= C_FROZEN_DIED;
        if (!M.released[id] && !M.mark[id])
            did |= C_LEFT;
    }
    return did;
}

static void full_collection(void)
{
    compute_reachable();
    unsigned state = graph_state();
    events was = events_now();
    memcpy(M.was_released, M.released, M.n);
    rc_gc_collect(M.h, 2);
    collections_met[state * NDID + collection_did(was)]++;
    check_full_collection();
}

/* ---- operations ---------------------------------------------------------- */

static mnode *pick(bool container)
{
    if (!M.nreach)
        return NULL;
    uint32_t start = byte() % M.nreach;
    for (uint32_t i = 0; i < M.nreach; i++) {
        uint32_t id = M.reach[(start + i) % M.nreach];
        if (!container || M.kind[id] != K_LEAF)
            return M.ptr[id];
    }
    return NULL;
}

static void op_create(void)
{
    if (M.n == MAXN)
        return;
    int kind = byte() % NKINDS;
    mnode *m = rc_new_var(M.h, &types[kind], sizeof(mnode));
    if (!m) {
        CHECK(rc_last_error_code(M.h) == RC_ENOMEM, "rc_new failed with %d", rc_last_error_code(M.h));
        return;
    }
    uint32_t id = M.n++;
    m->id = id;
    M.ptr[id] = m;
    M.kind[id] = (uint8_t)kind;
    M.ext[id] = 1;
    for (int k = 0; k < KIDS; k++)
        M.kid[id][k] = -1;
}

static void op_link(bool to_null)
{
    mnode *a = pick(true), *b = to_null ? NULL : pick(false);
    if (!a)
        return;
    int k = byte() % KIDS;
    mnode *old = a->kid[k];
    if (b)
        rc_incref(b);
    a->kid[k] = b;
    M.kid[a->id][k] = b ? (int16_t)b->id : -1;
    if (old)
        rc_decref(old);
}

static void op_hold(void)
{
    mnode *a = pick(false);
    if (a) {
        rc_incref(a);
        M.ext[a->id]++;
    }
}

static void op_drop(void)
{
    uint32_t start = byte() % (M.n ? M.n : 1);
    for (uint32_t i = 0; i < M.n; i++) {
        uint32_t id = (start + i) % M.n;
        if (M.ext[id] && !M.released[id]) {
            M.ext[id]--;
            rc_decref(M.ptr[id]);
            return;
        }
    }
}

static void weak_callback(void *wr, void *ctx)
{
    (void)ctx;
    CHECK(rc_weakref_get(wr) == NULL, "weakref callback ran before the weakref was cleared");
    M.callbacks++;
    if (M.reenter)
        rc_gc_collect(M.h, 1);
}

/* Allocating the weakref may start a collection, and its garbage may hold
 * the last reference to a frozen target: like any caller, the harness
 * holds one of its own meanwhile.  Dropping it may then kill the target
 * (its new weakref cleared, the callback run). */
static void op_weakref(void)
{
    mnode *a = pick(false);
    if (!a)
        return;
    rc_incref(a);
    if (M.nwr == MAXW) {
        rc_decref(M.wr[0]);
        M.wr[0] = M.wr[--M.nwr];
        M.wr_target[0] = M.wr_target[M.nwr];
    }
    void *w = rc_weakref_new(a, (byte() & 1) ? weak_callback : NULL, NULL);
    if (w) {
        CHECK(rc_weakref_get(w) == a, "new weakref does not point at its target");
        M.wr[M.nwr] = w;
        M.wr_target[M.nwr++] = (int16_t)a->id;
    } else {
        CHECK(rc_last_error_code(M.h) == RC_ENOMEM, "rc_weakref_new failed with %d", rc_last_error_code(M.h));
    }
    rc_decref(a);
}

static void op_drop_weakref(void)
{
    if (!M.nwr)
        return;
    uint32_t i = byte() % M.nwr;
    rc_decref(M.wr[i]);
    M.wr[i] = M.wr[--M.nwr];
    M.wr_target[i] = M.wr_target[M.nwr];
}

static void op_collect(void)
{
    int gen = byte() % 3;
    if (gen == 2)
        full_collection();
    else
        rc_gc_collect(M.h, gen);
}

static void op_gc_state(void)
{
    switch (byte() % 6) {
    case 5:          /* a switch shrinks the young vector: a peak may have been dropped */
        if (rc_gc_isenabled(M.h))
            rc_gc_disable(M.h);
        else
            rc_gc_enable(M.h);
        break;
    case 4:
        M.reenter = !M.reenter;
        break;
    case 0:
        rc_gc_freeze(M.h);
        for (uint32_t id = 0; id < M.n; id++)
            M.frozen[id] |= !M.released[id] && M.kind[id] != K_LEAF;
        break;
    case 1:
        rc_gc_unfreeze(M.h);
        memset(M.frozen, 0, sizeof M.frozen);
        break;
    case 2:
        rc_gc_garbage_clear(M.h);
        break;
    default:
        rc_gc_set_threshold(M.h, byte() % 20, 1 + byte() % 4, 1 + byte() % 4);
        break;
    }
}

static void op_fail_alloc(void)
{
    uint8_t b = byte();
    rc_heap_set_fail_alloc(M.h, b & 0x40 ? 0 : rc_heap_alloc_count(M.h) + 1 + (b & 7), b & 0x80);
}

static void op_resurrect(void)
{
    mnode *a = pick(true);
    if (a && M.kind[a->id] == K_FINAL)
        M.resurrect[a->id] = 1;
}

static void run(void)
{
    static const char *const names[16] = {"create", "create", "create", "link", "link", "link",
        "unlink", "hold", "drop", "drop", "collect", "weakref", "drop-weakref", "fail-alloc",
        "gc-state", "resurrect"};
    trace = getenv("FUZZ_OPS_TRACE") != NULL;   /* to read a crash's story */
    while (M.left) {
        uint8_t op = byte() % 16;
        if (trace)
            fprintf(stderr, "op %s (next byte %u)\n", names[op], M.left ? *M.in : 0);
        switch (op) {
        case 0: case 1: case 2: op_create(); break;
        case 3: case 4: case 5: op_link(false); break;
        case 6: op_link(true); break;
        case 7: op_hold(); break;
        case 8: case 9: op_drop(); break;
        case 10: op_collect(); break;
        case 11: op_weakref(); break;
        case 12: op_drop_weakref(); break;
        case 13: op_fail_alloc(); break;
        case 14: op_gc_state(); break;
        default: op_resurrect(); break;
        }
        check_step();
    }
}

/* Drops every reference the harness holds; what is left is what the
 * collector keeps (uncollectable cycles), freed by rc_heap_free.  The
 * first full collection runs with the freeze still in place: with every
 * external reference gone, garbage holds the last reference to many a
 * frozen object, which an explicit collection rarely meets mid-program. */
static void finish(void)
{
    rc_heap_set_fail_alloc(M.h, 0, false);
    while (M.nwr)
        rc_decref(M.wr[--M.nwr]);
    for (uint32_t id = 0; id < M.n; id++) {
        M.resurrect[id] = 0;
        while (M.ext[id] && !M.released[id]) {
            M.ext[id]--;
            rc_decref(M.ptr[id]);
        }
    }
    full_collection();
    check_step();
    rc_gc_unfreeze(M.h);
    memset(M.frozen, 0, sizeof M.frozen);
    rc_gc_garbage_clear(M.h);
    full_collection();
    check_step();
    rc_heap_free(M.h);
    for (uint32_t id = 0; id < M.n; id++)
        CHECK(M.released[id], "object %u was never released", id);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    memset(&M, 0, sizeof M);
    rc_config cfg;
    rc_config_default(&cfg);
    cfg.gc_threshold[0] = 10;
    cfg.gc_threshold[1] = cfg.gc_threshold[2] = 3;
    M.h = rc_heap_new(&cfg);
    CHECK(M.h != NULL, "rc_heap_new");
    M.in = data;
    M.left = size;
    run();
    finish();
    return 0;
}
