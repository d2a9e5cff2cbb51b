/* Allocation-failure sweeps (SQLite's and Lua's ltests.c method): each
 * representative workload runs once per allocation it makes, with that
 * allocation failing -- alone, and with every one after it failing too.
 * Each run checks: no crash; every failure reaches the caller as
 * RC_ENOMEM (or NULL with RC_ENOMEM in rc_last_error); rc_heap_check
 * passes; once allocations succeed again the same workload runs cleanly on
 * the same heap; and after everything is dropped no more is alive than
 * after clean runs (ASan/LeakSanitizer watch malloc'd memory in .ci/run).
 *
 * Two kinds of failure are injected: the heap's own allocations
 * (rc_heap_set_fail_alloc: objects and raw buffers) and the C library's
 * malloc/calloc/realloc as called from librecycle (this test is linked
 * with -Wl,--wrap; cmake/reliability.cmake) -- the collector's scratch
 * memory, the weakref table, the tracer's tables, heap dumps.
 *
 * RC_FAULTS_SUMMARY=1 prints the number of runs and failures injected. */
#include "neighbor.h"
#include "node.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* ---- malloc failure injection (-Wl,--wrap) --------------------------------- */

void *__real_malloc(size_t n);
void *__real_calloc(size_t n, size_t size);
void *__real_realloc(void *p, size_t n);

typedef struct sys_faults {
    bool     armed;
    uint64_t calls, fail_at;
    bool     after;
    uint64_t failed;
} sys_faults;
static sys_faults sysfail;

static bool sys_should_fail(void)
{
    if (!sysfail.armed)
        return false;
    /* Atomic: a full collection's worker threads allocate too. */
    uint64_t c = __atomic_add_fetch(&sysfail.calls, 1, __ATOMIC_RELAXED);
    if (c == sysfail.fail_at || (sysfail.after && c > sysfail.fail_at)) {
        __atomic_add_fetch(&sysfail.failed, 1, __ATOMIC_RELAXED);
        return true;
    }
    return false;
}

void *__wrap_malloc(size_t n) { return sys_should_fail() ? NULL : __real_malloc(n); }
void *__wrap_calloc(size_t n, size_t size) { return sys_should_fail() ? NULL : __real_calloc(n, size); }
void *__wrap_realloc(void *p, size_t n) { return sys_should_fail() ? NULL : __real_realloc(p, n); }

/* ---- outcome bookkeeping ------------------------------------------------------ */

static rc_heap *H;
static size_t enomem_seen;
static uint64_t failing;       /* the allocation failing in this run */
static uint64_t runs, heap_failures, sys_failures;

/* A call that may fail: it must fail with RC_ENOMEM. */
static bool ok_rc(int rc)
{
    if (rc == 0)
        return true;
    if (rc != RC_ENOMEM)
        fail_msg("allocation %llu failing: expected 0 or RC_ENOMEM, got %d (%s)", (unsigned long long)failing,
                 rc, rc_last_error(H));
    enomem_seen++;
    return false;
}

static void *ok_obj(void *o)
{
    if (!o) {
        if (rc_last_error_code(H) != RC_ENOMEM)
            fail_msg("allocation %llu failing: NULL with error %d (%s), expected RC_ENOMEM",
                     (unsigned long long)failing, rc_last_error_code(H), rc_last_error(H));
        enomem_seen++;
    }
    return o;
}

#define DROP(p) do { if (p) rc_decref(p); } while (0)

/* ---- workloads: each builds, uses and drops everything it made ---------------- */

/* Containers growing: lists, dicts, tuples, sets, arrays, strings. */
static void w_containers(void)
{
    void *list = ok_obj(rc_list_new(H, 0)), *dict = ok_obj(rc_dict_new(H)), *set = ok_obj(rc_set_new(H));
    void *arr = ok_obj(rc_array_new(H, RC_I64, 0));
    for (int i = 0; i < 40; i++) {
        void *v = ok_obj(rc_int_from(H, 1000 + i));
        void *k = ok_obj(rc_str_format(H, "key%d", i));
        if (list && v)
            ok_rc(rc_list_append(list, v));
        if (dict && k && v)
            ok_rc(rc_dict_set(dict, k, v));
        if (set && k)
            ok_rc(rc_set_add(set, k));
        if (arr)
            ok_rc(rc_array_append_int(arr, i));
        DROP(v);
        DROP(k);
    }
    void *big = ok_obj(rc_str_new(H, "a string long enough to need more than one small block of the pool, "
                                     "and then some more text to pass a hundred bytes"));
    void *tup = list && dict ? ok_obj(rc_tuple_pack(H, 2, list, dict)) : NULL;
    if (list && tup)
        ok_rc(rc_list_append(list, tup));   /* a cycle: list -> tuple -> list */
    if (dict && list)
        ok_rc(rc_dict_set_str(dict, "self", dict));
    void *copy = list ? ok_obj(rc_deepcopy(list)) : NULL;
    DROP(copy); DROP(tup); DROP(big); DROP(arr); DROP(set); DROP(dict); DROP(list);
    rc_gc_collect(H, 2);
}

static void weak_cb(void *wr, void *ctx)
{
    (void)ctx;
    assert_null(rc_weakref_get(wr));
}

/* Collections with finalizers, weakrefs, resurrection and gc.garbage. */
static void w_collect(void)
{
    void *keep = NULL, *wrs[8] = {0};
    node *prev = NULL, *first = NULL;
    for (int i = 0; i < 24; i++) {
        const rc_type *t = i % 3 == 0 ? &node_final_type : &node_type;
        node *n = ok_obj(rc_new(H, t));
        if (!n)
            continue;
        n->id = i;
        if (prev)
            node_set(prev, 0, n);
        else
            first = rc_newref(n);
        if (i % 3 == 1)
            wrs[i / 3] = ok_obj(rc_weakref_new(n, weak_cb, NULL));
        if (prev)
            rc_decref(prev);
        prev = n;
    }
    if (prev && first)
        node_set(prev, 0, first);          /* close the ring */
    DROP(prev);
    node *u = ok_obj(rc_new(H, &node_noclear_type));   /* uncollectable self-cycle */
    if (u) {
        node_set(u, 0, u);
        rc_decref(u);
    }
    node_resurrect_slot = &keep;          /* the next finalizer resurrects its object */
    DROP(first);
    rc_gc_collect(H, 0);
    rc_gc_collect(H, 2);
    node_resurrect_slot = NULL;
    DROP(keep);
    for (int i = 0; i < 8; i++)
        DROP(wrs[i]);
    rc_gc_garbage_clear(H);
    rc_gc_collect(H, 2);
    rc_gc_garbage_clear(H);
}

/* Full collections of RC_TYPE_REFS cycles, freed in place (gc_free.c):
 * references leaving the set (to untracked leaves) are dropped before any
 * member is freed; without memory for the list of the spans holding the
 * set, it must stay whole until the next collection. */
typedef struct refs2 { void *ref[2]; } refs2;
static const rc_type refs2_type = {.name = "refs2", .size = sizeof(refs2), .flags = RC_TYPE_REFS};

/* Dead rings of 12 objects of type t (two slots, laid out as refs2), every
 * fourth holding an untracked leaf; then two full collections. */
static void collect_dead_rings(const rc_type *t, int rings)
{
    for (int ring = 0; ring < rings; ring++) {
        refs2 *first = ok_obj(rc_new(H, t)), *prev = first;
        if (!first)
            continue;
        for (int i = 1; i < 12 && prev; i++) {
            refs2 *x = ok_obj(rc_new(H, t));
            if (!x)
                break;
            prev->ref[0] = x;             /* the new reference moves in */
            if (i % 4 == 0)
                x->ref[1] = ok_obj(rc_new(H, &node_leaf_type));
            prev = x;
        }
        prev->ref[0] = rc_newref(first);
        rc_decref(first);
    }
    rc_gc_collect(H, 2);
    rc_gc_collect(H, 2);
}

static void w_collect_refs(void)
{
    collect_dead_rings(&refs2_type, 40);
}

/* A scattered graph big enough for the collector to prefetch and, in cache,
 * to mark without branches (gc.c): its mark stack grows by several slots
 * at once, and without memory the marked objects are found by rescanning. */
typedef struct refs3 { void *ref[3]; } refs3;
static const rc_type refs3_type = {.name = "refs3", .size = sizeof(refs3), .flags = RC_TYPE_REFS};
#define SCATTERED_NODES 20000

static void w_collect_scattered(void)
{
    static refs3 *all[SCATTERED_NODES];
    uint64_t seed = 7;
    size_t n = 0;
    for (; n < SCATTERED_NODES; n++)
        if (!(all[n] = ok_obj(rc_new(H, &refs3_type))))
            break;
    for (size_t i = 0; i < n; i++)
        for (int k = 0; k < 3; k++) {
            seed = seed * 6364136223846793005u + 1442695040888963407u;
            all[i]->ref[k] = rc_newref(all[(seed >> 33) % n]);
        }
    for (size_t i = 0; i < n; i++)
        if (i % 10)
            rc_decref(all[i]);           /* every tenth node stays held */
    rc_gc_collect(H, 2);                 /* live: everything is reachable */
    for (size_t i = 0; i < n; i += 10)
        rc_decref(all[i]);
    rc_gc_collect(H, 2);                 /* garbage */
}

/* Full collections of cycles of types with their own clear (gc_free.c,
 * gc_dead.c): held where they lie (a full pool of them among them),
 * cleared, freed pool by pool; the clears allocate.  Without memory for
 * the list of spans the set stays whole until the next collection. */
typedef refs2 fn2;

static int fn2_traverse(void *self, rc_visit visit, void *arg)
{
    fn2 *x = self;
    for (int i = 0; i < 2; i++)
        if (x->ref[i] && visit(x->ref[i], arg))
            return 1;
    return 0;
}

static void fn2_clear(void *self)
{
    fn2 *x = self;
    if (x->ref[1]) {                      /* an allocation from inside the collection */
        void *n = ok_obj(rc_new(rc_heap_of(x), &node_type));
        DROP(n);
    }
    RC_CLEAR(x->ref[0]);
    RC_CLEAR(x->ref[1]);
}

static const rc_type fn2_type = {.name = "fn2", .size = sizeof(fn2), .traverse = fn2_traverse, .clear = fn2_clear};

static void w_collect_fn(void)
{
    collect_dead_rings(&fn2_type, 44);          /* 528 nodes: a pool of 512 and more */
}

/* A whole pool of dead objects with finalizers (gc_free.c gathers such
 * a pool without looking at each word): 32 rings of 8 fill one pool of
 * their size class exactly.  Without the dead vector's memory the set
 * stays whole. */
static void w_collect_final_pool(void)
{
    for (int ring = 0; ring < 32; ring++) {
        node *first = ok_obj(rc_new(H, &node_final_type)), *prev = first;
        for (int i = 1; i < 8 && prev; i++) {
            node *x = ok_obj(rc_new(H, &node_final_type));
            if (x) {
                node_set(prev, 0, x);
                rc_decref(x);
            }
            prev = x;
        }
        if (prev)
            node_set(prev, 0, first);
        DROP(first);
    }
    rc_gc_collect(H, 2);
    rc_gc_collect(H, 2);
}

/* Objects each referencing the one allocated before it, the last held:
 * the fused scan of a full collection (gc.c) marks every one dead until it
 * meets the last, then reaches them all late through the mark stack.
 * Without memory for the stack the scan's marks are forgotten, and the
 * separate sweep settles everything. */
static void w_collect_backwards(void)
{
    node *prev = NULL;
    for (int i = 0; i < 64; i++) {
        node *n = ok_obj(rc_new(H, &node_type));
        if (!n)
            break;
        if (prev) {
            node_set(n, 0, prev);
            rc_decref(prev);
        }
        prev = n;
    }
    rc_gc_collect(H, 2);                  /* live: every object reached late */
    DROP(prev);
    rc_gc_collect(H, 2);
}

/* The tracer: start, traced allocations, snapshot, statistics, dump/load. */
static void w_trace(void)
{
    if (!ok_rc(rc_trace_start(H, 4)))
        return;
    void *a = ok_obj(rc_list_new(H, 8)), *b = rc_alloc(H, 2000), *c = rc_alloc(H, 48);
    if (!b || !c)
        ok_obj(NULL);
    rc_snapshot *s = rc_trace_take_snapshot(H);
    if (!ok_obj(s))
        goto out;
    rc_trace_stats *st = rc_snapshot_statistics(s, RC_TRACE_BY_LINENO, false);
    if (st)
        assert_int_equal(st->len > 0, rc_snapshot_count(s) > 0);
    else
        ok_rc(rc_last_error_code(NULL));
    rc_trace_stats_free(st);
    char path[] = "/tmp/rc_faults_snapXXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    if (ok_rc(rc_snapshot_dump(s, path))) {
        rc_snapshot *t = NULL;
        if (ok_rc(rc_snapshot_load(path, &t)))
            assert_int_equal(rc_snapshot_count(t), rc_snapshot_count(s));
        rc_snapshot_free(t);
    }
    unlink(path);
    rc_snapshot_free(s);
out:
    rc_free(H, b);
    rc_free(H, c);
    DROP(a);
    rc_trace_stop(H);
}

/* Heap dumps and object-graph snapshots. */
static void w_dump(void)
{
    node *a = ok_obj(rc_new(H, &node_type)), *b = ok_obj(rc_new(H, &node_type));
    if (a && b) {
        node_set(a, 0, b);
        node_set(b, 0, a);
    }
    char path[] = "/tmp/rc_faults_dumpXXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    if (ok_rc(rc_heap_dump(H, path))) {
        rc_objgraph *g = NULL;
        if (ok_rc(rc_objgraph_load(path, &g)))
            assert_true(rc_objgraph_count(g) >= (size_t)((a != NULL) + (b != NULL)));
        rc_objgraph_free(g);
    }
    unlink(path);
    if (a) {
        void **chain = NULL;
        size_t len = 0;
        int rc = rc_graph_why_alive(a, &chain, &len);
        if (rc != RC_ENOENT)
            ok_rc(rc);
        free(chain);
    }
    DROP(a);
    DROP(b);
    rc_gc_collect(H, 2);
}

/* ---- the sweep -------------------------------------------------------------------- */

typedef enum { HEAP_ALLOCS, SYSTEM_ALLOCS } fault_kind;

static void check_heap(const char *when, uint64_t n)
{
    int rc = rc_heap_check(H);
    if (rc)
        fail_msg("rc_heap_check %s (failing allocation %llu): %s", when, (unsigned long long)n, rc_last_error(H));
}

static size_t live_objects(void)
{
    rc_memory_info mi;
    rc_heap_memory(H, &mi);
    return mi.live_objects;
}

/* What is alive after two clean runs of w on a fresh heap. */
static size_t clean_baseline(void (*w)(void))
{
    H = rc_heap_new(NULL);
    neighbor_start(H);
    w();
    w();
    size_t live = live_objects();
    neighbor_stop();
    rc_heap_free(H);
    return live;
}

/* One run with allocation n failing (and, with after, every one after it).
 * Returns false once n is past the workload's last allocation. */
static bool run_failing(void (*w)(void), fault_kind kind, uint64_t n, bool after, size_t baseline)
{
    H = rc_heap_new(NULL);
    assert_non_null(H);
    neighbor_start(H);
    node_reset_counts();
    enomem_seen = 0;
    failing = n;
    uint64_t start = rc_heap_alloc_count(H);
    if (kind == HEAP_ALLOCS)
        rc_heap_set_fail_alloc(H, start + n, after);
    else
        sysfail = (sys_faults){.armed = true, .fail_at = n, .after = after};
    w();
    bool reached = kind == HEAP_ALLOCS ? rc_heap_alloc_count(H) >= start + n : sysfail.failed > 0;
    sysfail.armed = false;
    rc_heap_set_fail_alloc(H, 0, false);
    if (reached && kind == HEAP_ALLOCS) {
        heap_failures += after ? rc_heap_alloc_count(H) - (start + n) + 1 : 1;
        if (!enomem_seen)
            fail_msg("allocation %llu failed but no caller saw RC_ENOMEM", (unsigned long long)n);
    }
    sys_failures += sysfail.failed;
    sysfail.failed = 0;
    check_heap("after the failing run", n);
    size_t errors = enomem_seen;
    w();                                   /* allocations succeed again */
    if (enomem_seen != errors)
        fail_msg("after failing allocation %llu the heap still fails: %s", (unsigned long long)n, rc_last_error(H));
    check_heap("after the clean run", n);
    rc_gc_collect(H, 2);
    if (live_objects() > baseline)
        fail_msg("failing allocation %llu left %zu objects alive, clean runs leave %zu",
                 (unsigned long long)n, live_objects(), baseline);
    neighbor_stop();
    rc_heap_free(H);
    H = NULL;
    runs++;
    return reached;
}

static void sweep(void (*w)(void), fault_kind kind)
{
    size_t baseline = clean_baseline(w);
    for (int after = 0; after < 2; after++)
        for (uint64_t n = 1; run_failing(w, kind, n, after, baseline); n++)
            assert_true(n < 100000);
}

static void containers_growing_heap_faults(void **s) { (void)s; sweep(w_containers, HEAP_ALLOCS); }
static void containers_growing_malloc_faults(void **s) { (void)s; sweep(w_containers, SYSTEM_ALLOCS); }
static void collections_heap_faults(void **s) { (void)s; sweep(w_collect, HEAP_ALLOCS); }
static void collections_malloc_faults(void **s) { (void)s; sweep(w_collect, SYSTEM_ALLOCS); }
static void refs_collections_heap_faults(void **s) { (void)s; sweep(w_collect_refs, HEAP_ALLOCS); }
static void refs_collections_malloc_faults(void **s) { (void)s; sweep(w_collect_refs, SYSTEM_ALLOCS); }
static void scattered_collections_malloc_faults(void **s) { (void)s; sweep(w_collect_scattered, SYSTEM_ALLOCS); }
static void fn_collections_heap_faults(void **s) { (void)s; sweep(w_collect_fn, HEAP_ALLOCS); }
static void fn_collections_malloc_faults(void **s) { (void)s; sweep(w_collect_fn, SYSTEM_ALLOCS); }
static void final_pool_malloc_faults(void **s) { (void)s; sweep(w_collect_final_pool, SYSTEM_ALLOCS); }
static void backwards_malloc_faults(void **s) { (void)s; sweep(w_collect_backwards, SYSTEM_ALLOCS); }
static void tracer_heap_faults(void **s) { (void)s; sweep(w_trace, HEAP_ALLOCS); }
static void tracer_malloc_faults(void **s) { (void)s; sweep(w_trace, SYSTEM_ALLOCS); }
static void heap_dump_heap_faults(void **s) { (void)s; sweep(w_dump, HEAP_ALLOCS); }
static void heap_dump_malloc_faults(void **s) { (void)s; sweep(w_dump, SYSTEM_ALLOCS); }

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(containers_growing_heap_faults),
        cmocka_unit_test(containers_growing_malloc_faults),
        cmocka_unit_test(collections_heap_faults),
        cmocka_unit_test(collections_malloc_faults),
        cmocka_unit_test(refs_collections_heap_faults),
        cmocka_unit_test(refs_collections_malloc_faults),
        cmocka_unit_test(scattered_collections_malloc_faults),
        cmocka_unit_test(fn_collections_heap_faults),
        cmocka_unit_test(fn_collections_malloc_faults),
        cmocka_unit_test(final_pool_malloc_faults),
        cmocka_unit_test(backwards_malloc_faults),
        cmocka_unit_test(tracer_heap_faults),
        cmocka_unit_test(tracer_malloc_faults),
        cmocka_unit_test(heap_dump_heap_faults),
        cmocka_unit_test(heap_dump_malloc_faults),
    };
    if (getenv("RC_FAULTS_ONLY"))
        cmocka_set_test_filter(getenv("RC_FAULTS_ONLY"));
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    if (getenv("RC_FAULTS_SUMMARY"))
        printf("fault sweeps: %llu runs, %llu heap allocations and %llu malloc calls failed\n",
               (unsigned long long)runs, (unsigned long long)heap_failures, (unsigned long long)sys_failures);
    return rc;
}
