/* Threaded heaps (rc_config.threads; docs/threads.md): attach and detach,
 * refcounting from many threads, deaths on a thread other than the maker,
 * built-in containers shared, collections from any thread stopping the
 * world, and a stress run checked against a model: after every full
 * collection exactly the unreachable objects are gone, each released,
 * finalized and called back exactly once.
 *
 * The stress run is the test `make test-tsan` runs under ThreadSanitizer.
 * RC_THREADS_ROUNDS (default 300) sets its length.
 */
#include <recycle.h>

#include <pthread.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <string.h>
#include <cmocka.h>

static rc_heap *threaded_heap(void)
{
    rc_config cfg;
    rc_config_default(&cfg);
    cfg.threads = true;
    rc_heap *h = rc_heap_new(&cfg);
    assert_non_null(h);
    return h;
}

/* Runs fn(i) on n threads at once, each attached for its run. */
typedef struct crew {
    rc_heap *h;
    void (*fn)(rc_heap *h, int i, void *arg);
    void *arg;
    int i;
} crew;

static void *crew_main(void *p)
{
    crew *c = p;
    assert_int_equal(rc_thread_attach(c->h), 0);
    c->fn(c->h, c->i, c->arg);
    rc_thread_detach(c->h);
    return NULL;
}

static void run_crew(rc_heap *h, int n, void (*fn)(rc_heap *h, int i, void *arg), void *arg)
{
    pthread_t t[8];
    crew c[8];
    assert_true(n <= 8);
    rc_thread_detach(h);        /* the creator waits in join: not at a safe point */
    for (int i = 0; i < n; i++) {
        c[i] = (crew){h, fn, arg, i};
        assert_int_equal(pthread_create(&t[i], NULL, crew_main, &c[i]), 0);
    }
    for (int i = 0; i < n; i++)
        pthread_join(t[i], NULL);
    assert_int_equal(rc_thread_attach(h), 0);
}

/* ---- a node type whose deaths are counted ------------------------------------- */

#define MAX_NODES (1u << 17)
#define KIDS 2

typedef struct node {
    struct node *kid[KIDS];
    uint32_t id;
} node;

static _Atomic uint32_t next_id;
static uint8_t released[MAX_NODES], finalized[MAX_NODES], called_back[MAX_NODES];

static int node_traverse(void *self, rc_visit visit, void *arg)
{
    node *n = self;
    for (int i = 0; i < KIDS; i++)
        if (n->kid[i] && visit(n->kid[i], arg))
            return 1;
    return 0;
}

static void node_clear(void *self)
{
    node *n = self;
    for (int i = 0; i < KIDS; i++) {
        node *k = n->kid[i];
        n->kid[i] = NULL;
        rc_xdecref(k);
    }
}

static void node_finalize(void *self) { finalized[((node *)self)->id]++; }
static void node_release(void *self) { released[((node *)self)->id]++; }

static const rc_type node_type = {"node", sizeof(node), node_traverse, node_clear, node_finalize,
                                  node_release, 0, NULL, 0};

static void reset_counts(void)
{
    atomic_store(&next_id, 0);
    memset(released, 0, sizeof released);
    memset(finalized, 0, sizeof finalized);
    memset(called_back, 0, sizeof called_back);
}

/* Ids are handed out in runs (a cycle's are consecutive, however the
 * threads interleave). */
static uint32_t take_ids(uint32_t n)
{
    uint32_t id = atomic_fetch_add(&next_id, n);
    assert_true(id + n <= MAX_NODES);
    return id;
}

static node *node_new(rc_heap *h, uint32_t id)
{
    node *n = rc_new(h, &node_type);
    assert_non_null(n);
    n->id = id;
    return n;
}

/* ---- the API on both kinds of heap ----------------------------------------------- */

static void plain_heaps_ignore_the_thread_calls(void **s)
{
    (void)s;
    rc_config cfg;
    rc_config_default(&cfg);
    cfg.threads = false;
    rc_heap *h = rc_heap_new(&cfg);
    assert_int_equal(rc_thread_attach(h), 0);
    rc_safepoint(h);
    rc_thread_detach(h);
    assert_int_equal(rc_thread_attach(NULL), RC_EINVAL);
    rc_heap_free(h);
}

static void attach_nests(void **s)
{
    (void)s;
    rc_heap *h = threaded_heap();
    assert_int_equal(rc_thread_attach(h), 0);    /* the creator is attached: this nests */
    rc_thread_detach(h);
    void *l = rc_list_new(h, 0);                  /* still attached */
    assert_non_null(l);
    rc_decref(l);
    rc_heap_free(h);
}

/* ---- refcounting ------------------------------------------------------------------- */

#define HAMMER 100000

static void hammer(rc_heap *h, int i, void *arg)
{
    (void)i;
    for (int k = 0; k < HAMMER; k++) {
        rc_incref(arg);
        if (k % 1024 == 0)
            rc_safepoint(h);
    }
    for (int k = 0; k < HAMMER; k++)
        rc_decref(arg);
}

static void shared_refcounts_stay_exact(void **s)
{
    (void)s;
    rc_heap *h = threaded_heap();
    void *o = rc_list_new(h, 0);
    run_crew(h, 4, hammer, o);
    assert_int_equal(rc_refcount(o), 1);
    rc_decref(o);
    rc_heap_free(h);
}

/* Thread i makes nodes into a shared list; thread i + 1 takes them out and
 * drops them: every death happens on a thread other than the maker. */
#define HANDED 2000

typedef struct handover {
    void *lists[8];
    int n;
} handover;

static void make_then_drop(rc_heap *h, int i, void *arg)
{
    handover *ho = arg;
    for (int k = 0; k < HANDED; k++) {
        node *n = node_new(h, take_ids(1));
        assert_int_equal(rc_list_append(ho->lists[i], n), 0);
        rc_decref(n);
    }
    void *theirs = ho->lists[(i + 1) % ho->n];
    for (int got = 0; got < HANDED;) {
        if (rc_list_len(theirs) == 0) {   /* this thread is the list's only taker */
            rc_safepoint(h);
            continue;
        }
        rc_decref(rc_list_pop(theirs, -1));
        got++;
    }
}

static void objects_die_on_other_threads(void **s)
{
    (void)s;
    reset_counts();
    rc_heap *h = threaded_heap();
    handover ho = {.n = 4};
    for (int i = 0; i < ho.n; i++)
        ho.lists[i] = rc_list_new(h, 0);
    run_crew(h, ho.n, make_then_drop, &ho);
    uint32_t made = atomic_load(&next_id);
    assert_int_equal(made, HANDED * ho.n);
    for (uint32_t id = 0; id < made; id++) {
        assert_int_equal(released[id], 1);
        assert_int_equal(finalized[id], 1);
    }
    for (int i = 0; i < ho.n; i++) {
        assert_int_equal(rc_list_len(ho.lists[i]), 0);
        rc_decref(ho.lists[i]);
    }
    rc_heap_free(h);
}

/* ---- per-thread pools ---------------------------------------------------------------- */

/* Blocks of several size classes; nothing to run at death. */
static const rc_type blob_type = {"blob", 0, NULL, NULL, NULL, NULL, 0, NULL, 0};

static void *blob_new(rc_heap *h, size_t k)
{
    void *b = rc_new_var(h, &blob_type, 8 + (k % 7) * 40);
    assert_non_null(b);
    return b;
}

/* Waits for n threads here, passing safe points (a thread that blocks
 * without detaching would keep another's stop of the world waiting). */
static void meet_passing_safe_points(rc_heap *h, atomic_int *at, int n)
{
    atomic_fetch_add(at, 1);
    while (atomic_load(at) < n)
        rc_safepoint(h);
}

#define PER_THREAD 20000

typedef struct volume {
    void **made[4];
    size_t bytes[4];
    atomic_int all_made, counted;
    rc_memory_info base, mid;
} volume;

static void make_then_free_theirs(rc_heap *h, int i, void *arg)
{
    volume *v = arg;
    for (size_t k = 0; k < PER_THREAD; k++) {
        v->made[i][k] = blob_new(h, k);
        v->bytes[i] += rc_sizeof(v->made[i][k]);
    }
    meet_passing_safe_points(h, &v->all_made, 4);
    if (i == 0)
        rc_heap_memory(h, &v->mid);   /* stops the world: every thread's pools counted */
    meet_passing_safe_points(h, &v->counted, 4);
    void **theirs = v->made[(i + 1) % 4];
    for (size_t k = 0; k < PER_THREAD; k++)
        rc_decref(theirs[k]);         /* handed back to their maker's pools */
    for (size_t k = 0; k < PER_THREAD; k++)
        rc_decref(blob_new(h, k));    /* its own, reusing what came back */
}

/* Four threads each make blocks, then free another's: the counts seen
 * with all made and after all are freed are exact. */
static void frees_go_back_to_the_making_thread(void **s)
{
    (void)s;
    rc_heap *h = threaded_heap();
    volume v = {0};
    for (int i = 0; i < 4; i++)
        v.made[i] = calloc(PER_THREAD, sizeof(void *));
    rc_heap_memory(h, &v.base);
    uint64_t attempts = rc_heap_alloc_count(h);
    run_crew(h, 4, make_then_free_theirs, &v);
    size_t bytes = v.bytes[0] + v.bytes[1] + v.bytes[2] + v.bytes[3];
    assert_int_equal(v.mid.live_objects, v.base.live_objects + 4 * PER_THREAD);
    assert_int_equal(v.mid.requested, v.base.requested + bytes);
    rc_memory_info end;
    rc_heap_memory(h, &end);
    assert_int_equal(end.live_objects, v.base.live_objects);
    assert_int_equal(end.requested, v.base.requested);
    assert_true(end.peak >= v.mid.requested);
    assert_int_equal(rc_heap_alloc_count(h) - attempts, 8 * PER_THREAD);
    assert_int_equal(rc_heap_check(h), 0);
    for (int i = 0; i < 4; i++)
        free(v.made[i]);
    rc_heap_free(h);
}

/* Two arrays, one per thread of a crew of two. */
typedef struct leftover {
    void **objs[2];
} leftover;

static void make_and_keep(rc_heap *h, int i, void *arg)
{
    leftover *l = arg;
    for (size_t k = 0; k < PER_THREAD; k++)
        l->objs[i][k] = blob_new(h, k);
}

/* Thread i replaces the objects at indices i, i + 2, ... of both arrays:
 * whichever pools it adopted, some of what it frees is another's. */
static void replace_half_of_each(rc_heap *h, int i, void *arg)
{
    leftover *l = arg;
    for (int a = 0; a < 2; a++)
        for (size_t k = (size_t)i; k < PER_THREAD; k += 2) {
            rc_decref(l->objs[a][k]);
            l->objs[a][k] = blob_new(h, k);
        }
}

/* Threads detach with their pools holding live objects: the objects stay
 * valid, the next threads to attach adopt the pools, and frees from any
 * thread reach them, also into pools no thread has adopted; the heap
 * stays consistent and its counts exact at each step. */
static void detached_pools_keep_their_objects(void **s)
{
    (void)s;
    rc_heap *h = threaded_heap();
    rc_memory_info base, now;
    rc_heap_memory(h, &base);
    leftover l = {{calloc(PER_THREAD, sizeof(void *)), calloc(PER_THREAD, sizeof(void *))}};
    run_crew(h, 2, make_and_keep, &l);
    assert_int_equal(rc_heap_check(h), 0);
    rc_heap_memory(h, &now);
    assert_int_equal(now.live_objects, base.live_objects + 2 * PER_THREAD);
    run_crew(h, 2, replace_half_of_each, &l);
    assert_int_equal(rc_heap_check(h), 0);
    rc_heap_memory(h, &now);
    assert_int_equal(now.live_objects, base.live_objects + 2 * PER_THREAD);
    for (int a = 0; a < 2; a++)
        for (size_t k = 0; k < PER_THREAD; k++)
            rc_decref(l.objs[a][k]);   /* the creating thread holds one of the two pools */
    assert_int_equal(rc_heap_check(h), 0);
    rc_heap_memory(h, &now);
    assert_int_equal(now.live_objects, base.live_objects);
    assert_int_equal(now.requested, base.requested);
    free(l.objs[0]);
    free(l.objs[1]);
    rc_heap_free(h);
}

/* Tracing starts while threads' pools hold untraced objects; then threads
 * replace every object, freeing into pools another thread made or
 * adopted: each traced block is untraced by its free, whichever thread
 * frees it, and untraced ones are freed without harm. */
static void traced_frees_from_any_thread(void **s)
{
    (void)s;
    rc_heap *h = threaded_heap();
    leftover l = {{calloc(PER_THREAD, sizeof(void *)), calloc(PER_THREAD, sizeof(void *))}};
    run_crew(h, 2, make_and_keep, &l);
    assert_int_equal(rc_trace_start(h, 1), 0);
    run_crew(h, 2, replace_half_of_each, &l);
    assert_int_equal(rc_trace_count(h), 2 * PER_THREAD);
    run_crew(h, 2, replace_half_of_each, &l);
    assert_int_equal(rc_trace_count(h), 2 * PER_THREAD);
    for (int a = 0; a < 2; a++)
        for (size_t k = 0; k < PER_THREAD; k++)
            rc_decref(l.objs[a][k]);
    assert_int_equal(rc_trace_count(h), 0);
    assert_int_equal(rc_heap_check(h), 0);
    rc_trace_stop(h);
    free(l.objs[0]);
    free(l.objs[1]);
    rc_heap_free(h);
}

/* ---- containers --------------------------------------------------------------------- */

#define APPENDS 5000

static void fill_shared(rc_heap *h, int i, void *arg)
{
    void **shared = arg;   /* a list, a dict, a set */
    for (int k = 0; k < APPENDS; k++) {
        void *v = rc_int_from(h, (int64_t)i * APPENDS + k);
        assert_non_null(v);
        assert_int_equal(rc_list_append(shared[0], v), 0);
        assert_int_equal(rc_dict_set(shared[1], v, v), 0);
        assert_int_equal(rc_set_add(shared[2], v), 0);
        rc_decref(v);
    }
}

static void containers_are_atomic_per_operation(void **s)
{
    (void)s;
    rc_heap *h = threaded_heap();
    void *shared[3] = {rc_list_new(h, 0), rc_dict_new(h), rc_set_new(h)};
    run_crew(h, 4, fill_shared, shared);
    assert_int_equal(rc_list_len(shared[0]), 4 * APPENDS);
    assert_int_equal(rc_dict_len(shared[1]), 4 * APPENDS);
    assert_int_equal(rc_set_len(shared[2]), 4 * APPENDS);
    for (int i = 0; i < 3; i++)
        rc_decref(shared[i]);
    rc_heap_free(h);
}

/* Two threads replace a list's items (each replaced item dies at once)
 * while two read them through rc_list_get_ref: a reader's reference keeps
 * its item alive however soon a writer drops the list's. */
#define SWAPS 20000

static void swap_or_read(rc_heap *h, int i, void *list)
{
    for (int k = 0; k < SWAPS; k++) {
        size_t at = (size_t)(k * 7 + i) % 8;
        if (i % 2 == 0) {
            void *v = rc_int_from(h, 1000 + k);
            assert_int_equal(rc_list_set(list, at, v), 0);
            rc_decref(v);
            continue;
        }
        void *v;
        assert_int_equal(rc_list_get_ref(list, at, &v), 1);
        int64_t x;
        assert_int_equal(rc_int_value(v, &x), 0);
        assert_true(x >= 1000 || x == 0);
        rc_decref(v);
    }
}

static void readers_keep_items_writers_drop(void **s)
{
    (void)s;
    rc_heap *h = threaded_heap();
    void *list = rc_list_new(h, 8);
    for (int i = 0; i < 8; i++)
        assert_int_equal(rc_list_append(list, rc_int_from(h, 0)), 0);
    run_crew(h, 4, swap_or_read, list);
    void *v;
    assert_int_equal(rc_list_get_ref(list, 8, &v), RC_ERANGE);
    assert_null(v);
    rc_decref(list);
    rc_heap_free(h);
}

/* Names made on four threads at once: each text is interned once (the
 * table is the heap's), so the shared set holds one str per text. */
#define NAMES 1000

static void add_names(rc_heap *h, int i, void *set)
{
    (void)i;
    char name[32];
    for (int k = 0; k < NAMES; k++) {
        snprintf(name, sizeof name, "name_%d", k);
        void *str = rc_str_new(h, name);
        assert_non_null(str);
        assert_true(rc_str_is_interned(str));
        assert_int_equal(rc_set_add(set, str), 0);
        rc_decref(str);
    }
}

static void interned_names_are_shared(void **s)
{
    (void)s;
    rc_heap *h = threaded_heap();
    void *set = rc_set_new(h);
    run_crew(h, 4, add_names, set);
    assert_int_equal(rc_set_len(set), NAMES);
    rc_decref(set);
    rc_heap_free(h);
}

static void threaded_objects_refused_by_plain_containers(void **s)
{
    (void)s;
    rc_heap *t = threaded_heap();
    rc_heap *p = rc_heap_new(NULL);
    void *o = rc_list_new(t, 0), *l = rc_list_new(p, 0);
    assert_int_equal(rc_list_append(l, o), RC_EINVAL);
    assert_non_null(strstr(rc_last_error(p), "of threaded heap"));
    rc_decref(o);
    rc_decref(l);
    rc_heap_free(p);
    rc_heap_free(t);
}

/* ---- the world restarts for finalizers ------------------------------------------ *
 * A collection's finalizers and weakref callbacks run with the other
 * threads running: here each waits until a neighbor thread, which only
 * counts references and passes safe points, has made progress.  Were the
 * world still stopped, the neighbor would be parked and the wait would
 * end in the failure below instead. */

static atomic_long progress;
static atomic_bool neighbor_stop;

static void count_along(rc_heap *h, int i, void *o)
{
    (void)i;
    while (!atomic_load(&neighbor_stop)) {
        rc_incref(o);
        rc_decref(o);
        atomic_fetch_add(&progress, 1);
        rc_safepoint(h);
    }
}

static void wait_for_the_neighbor(void)
{
    long seen = atomic_load(&progress);
    for (long spins = 0; atomic_load(&progress) < seen + 100; spins++)
        if (spins > 4000000000L)
            fail_msg("the other thread made no progress while user code of a collection ran");
}

static void waiting_finalize(void *self) { (void)self; wait_for_the_neighbor(); }
static void waiting_callback(void *wr, void *ctx) { (void)wr, (void)ctx; wait_for_the_neighbor(); }

static const rc_type waiting_type = {"waiting", sizeof(node), node_traverse, node_clear, waiting_finalize,
                                     NULL, 0, NULL, 0};

typedef struct restart_run {
    rc_heap *h;
    void *counted;
} restart_run;

static void *neighbor_main(void *arg)
{
    restart_run *r = arg;
    rc_thread_attach(r->h);
    count_along(r->h, 0, r->counted);
    rc_thread_detach(r->h);
    return NULL;
}

static void collections_restart_the_world_for_user_code(void **s)
{
    (void)s;
    rc_heap *h = threaded_heap();
    restart_run r = {h, rc_list_new(h, 0)};
    atomic_store(&neighbor_stop, false);
    atomic_store(&progress, 0);
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, neighbor_main, &r), 0);
    /* The neighbor's attach waits until this thread, which counted alone,
     * passes a safe point; the finalizer below passes none. */
    while (atomic_load(&progress) == 0)
        rc_safepoint(h);
    node *a = rc_new(h, &waiting_type), *b = rc_new(h, &waiting_type);
    a->kid[0] = rc_newref(b);
    b->kid[0] = rc_newref(a);
    void *wr = rc_weakref_new(a, waiting_callback, NULL);
    rc_decref(a);
    rc_decref(b);
    assert_int_equal(rc_gc_collect(h, 2), 2);
    assert_null(rc_weakref_get(wr));
    atomic_store(&neighbor_stop, true);
    rc_thread_detach(h);
    pthread_join(t, NULL);
    rc_thread_attach(h);
    rc_decref(wr);
    rc_decref(r.counted);
    rc_heap_free(h);
}

/* ---- operations on two containers ----------------------------------------------- *
 * Two threads reverse a list while two others copy it with rc_list_extend
 * and compare it with its twin (rc_equal takes both lists, in either
 * order): each copy is the list at one instant, ascending or descending,
 * never a mix, and no pair of locks deadlocks. */
#define TWIN_LEN 64
#define TWIN_ROUNDS 3000

static int monotone(void *list)
{
    int up = 1, down = 1;
    size_t n = rc_list_len(list);
    for (size_t i = 1; i < n; i++) {
        int64_t a, b;
        assert_int_equal(rc_int_value(rc_list_get(list, i - 1), &a), 0);
        assert_int_equal(rc_int_value(rc_list_get(list, i), &b), 0);
        up &= a < b;
        down &= a > b;
    }
    return up || down;
}

static void reverse_or_copy(rc_heap *h, int i, void *arg)
{
    void **twins = arg;
    void *mine = twins[i % 2], *other = twins[1 - i % 2];
    for (int k = 0; k < TWIN_ROUNDS; k++) {
        if (i < 2) {
            assert_int_equal(rc_list_reverse(mine), 0);
            int eq = rc_equal(mine, other);
            assert_true(eq == 0 || eq == 1);
            continue;
        }
        void *copy = rc_list_new(h, 0);
        assert_int_equal(rc_list_extend(copy, mine), 0);
        assert_int_equal(rc_list_len(copy), TWIN_LEN);
        assert_true(monotone(copy));
        int eq = rc_equal(other, mine);
        assert_true(eq == 0 || eq == 1);
        rc_decref(copy);
    }
}

static void two_container_operations_are_atomic(void **s)
{
    (void)s;
    rc_heap *h = threaded_heap();
    void *twins[2] = {rc_list_new(h, 0), rc_list_new(h, 0)};
    for (int i = 0; i < TWIN_LEN; i++)
        for (int t = 0; t < 2; t++) {
            void *v = rc_int_from(h, i);
            assert_int_equal(rc_list_append(twins[t], v), 0);
            rc_decref(v);
        }
    run_crew(h, 4, reverse_or_copy, twins);
    for (int t = 0; t < 2; t++) {
        assert_true(monotone(twins[t]));
        rc_decref(twins[t]);
    }
    rc_heap_free(h);
}

/* ---- lookups beside writers ------------------------------------------------------ *
 * Lookups, gets and sets take only their container's stripe; inserts,
 * deletes and growth take the heap lock too.  One thread inserts and
 * deletes str and int keys in a shared dict (which grows, shrinks and
 * rehashes) and appends to and pops from a shared list, while three
 * others look up the keys it never touches, by equal but distinct str
 * and int objects, and overwrite the list's first slots: every lookup
 * finds its value, and the list ends with its first slots as written. */
#define KEEP 16
#define LOOK_ROUNDS 3000

static void *str_key(rc_heap *h, const char *prefix, int i)
{
    char text[32];
    snprintf(text, sizeof text, "%s%d", prefix, i);
    void *k = rc_str_new(h, text);
    assert_non_null(k);
    return k;
}

static void write_or_look(rc_heap *h, int i, void *arg)
{
    void **shared = arg;   /* a dict, a list */
    for (int k = 0; k < LOOK_ROUNDS; k++) {
        int j = k % KEEP;
        void *sk = str_key(h, i == 0 ? "churn" : "keep", i == 0 ? k : j), *ik = rc_int_from(h, i == 0 ? -k - 1 : j);
        if (i == 0) {
            assert_int_equal(rc_dict_set(shared[0], sk, ik), 0);
            assert_int_equal(rc_dict_set(shared[0], ik, sk), 0);
            assert_int_equal(rc_list_append(shared[1], ik), 0);
            if (k % 2) {
                assert_int_equal(rc_dict_del(shared[0], sk), 0);
                rc_decref(rc_list_pop(shared[1], -1));
            }
        } else {
            void *v;
            assert_int_equal(rc_dict_get_ref(shared[0], sk, &v), 1);
            assert_int_equal(rc_equal(v, ik), 1);
            rc_decref(v);
            assert_int_equal(rc_dict_contains(shared[0], ik), 1);
            assert_int_equal(rc_list_set(shared[1], (size_t)j, ik), 0);
            assert_int_equal(rc_list_get_ref(shared[1], (size_t)j, &v), 1);
            rc_decref(v);
        }
        rc_decref(sk);
        rc_decref(ik);
    }
}

static void lookups_run_beside_writers(void **s)
{
    (void)s;
    rc_heap *h = threaded_heap();
    void *shared[2] = {rc_dict_new(h), rc_list_new(h, 0)};
    for (int j = 0; j < KEEP; j++) {
        void *sk = str_key(h, "keep", j), *ik = rc_int_from(h, j);
        assert_int_equal(rc_dict_set(shared[0], sk, ik), 0);
        assert_int_equal(rc_dict_set(shared[0], ik, sk), 0);
        assert_int_equal(rc_list_append(shared[1], ik), 0);
        rc_decref(sk);
        rc_decref(ik);
    }
    run_crew(h, 4, write_or_look, shared);
    assert_int_equal(rc_dict_len(shared[0]), 2 * KEEP + LOOK_ROUNDS + LOOK_ROUNDS / 2);
    assert_int_equal(rc_list_len(shared[1]), KEEP + LOOK_ROUNDS / 2);
    for (int j = 0; j < KEEP; j++) {
        int64_t v;
        assert_int_equal(rc_int_value(rc_list_get(shared[1], (size_t)j), &v), 0);
        assert_int_equal(v, j);
    }
    rc_decref(shared[0]);
    rc_decref(shared[1]);
    rc_heap_free(h);
}

/* ---- finalizers inside container operations ------------------------------------ *
 * A hook's finalizer appends to the list its hook names.  Threads replace
 * hooks in two lists: each replaced hook dies inside rc_list_set, holding
 * that list, and its finalizer appends to the same list (the lock taken
 * again) or to the other one, which another thread may hold while it
 * waits to free a hook of its own. */
#define HOOK_SLOTS 16
#define HOOK_ROUNDS 4000

typedef struct hook {
    void *target;    /* borrowed: the list the finalizer appends to */
} hook;

static atomic_long hooks_finalized;

static void hook_finalize(void *self)
{
    hook *k = self;
    void *v = rc_int_from(rc_heap_of(self), -1);
    assert_int_equal(rc_list_append(k->target, v), 0);
    rc_decref(v);
    atomic_fetch_add(&hooks_finalized, 1);
}

static const rc_type hook_type = {"hook", sizeof(hook), NULL, NULL, hook_finalize, NULL, 0, NULL, 0};

static void *hook_new(rc_heap *h, void *target)
{
    hook *k = rc_new(h, &hook_type);
    assert_non_null(k);
    k->target = target;
    return k;
}

static void replace_hooks(rc_heap *h, int i, void *arg)
{
    void **lists = arg;
    for (int k = 0; k < HOOK_ROUNDS; k++) {
        void *list = lists[(k + i) % 2];
        void *fresh = hook_new(h, lists[(k / 3 + i) % 2]);
        assert_int_equal(rc_list_set(list, (size_t)(k * 5 + i) % HOOK_SLOTS, fresh), 0);
        rc_decref(fresh);
    }
}

/* The -1s the finalizers appended. */
static size_t count_appended(void *list)
{
    size_t n = 0;
    for (size_t i = 0; i < rc_list_len(list); i++) {
        int64_t v;
        n += rc_typeof(rc_list_get(list, i)) != &hook_type && rc_int_value(rc_list_get(list, i), &v) == 0 &&
             v == -1;
    }
    return n;
}

static void finalizers_touch_the_containers_they_die_in(void **s)
{
    (void)s;
    rc_heap *h = threaded_heap();
    void *lists[2] = {rc_list_new(h, 0), rc_list_new(h, 0)};
    for (int t = 0; t < 2; t++)
        for (int i = 0; i < HOOK_SLOTS; i++) {
            void *k = hook_new(h, lists[t]);
            assert_int_equal(rc_list_append(lists[t], k), 0);
            rc_decref(k);
        }
    atomic_store(&hooks_finalized, 0);
    run_crew(h, 4, replace_hooks, lists);
    assert_int_equal(atomic_load(&hooks_finalized), 4 * HOOK_ROUNDS);
    for (int t = 0; t < 2; t++)
        assert_int_equal(rc_list_len(lists[t]), HOOK_SLOTS + count_appended(lists[t]));
    void *zero = rc_int_from(h, 0);
    for (int t = 0; t < 2; t++)
        for (size_t i = 0; i < HOOK_SLOTS; i++)
            assert_int_equal(rc_list_set(lists[t], i, zero), 0);
    assert_int_equal(atomic_load(&hooks_finalized), 4 * HOOK_ROUNDS + 2 * HOOK_SLOTS);
    assert_int_equal(count_appended(lists[0]) + count_appended(lists[1]), 4 * HOOK_ROUNDS + 2 * HOOK_SLOTS);
    rc_decref(zero);
    rc_decref(lists[0]);
    rc_decref(lists[1]);
    rc_heap_free(h);
}

/* ---- collections while threads contend for one list ----------------------------- *
 * Four threads push cycles onto one list and pop them (growth allocates
 * inside the list's lock, so threads park holding it), and every few
 * rounds one of them collects: nothing deadlocks, no cycle still in the
 * list is lost, and every popped one is collected. */
#define PUSH_ROUNDS 3000

static void push_pop_collect(rc_heap *h, int i, void *list)
{
    for (int k = 0; k < PUSH_ROUNDS; k++) {
        node *a = node_new(h, take_ids(2)), *b = node_new(h, a->id + 1);
        a->kid[0] = rc_newref(b);
        b->kid[0] = rc_newref(a);
        rc_decref(b);
        assert_int_equal(rc_list_append(list, a), 0);
        rc_decref(a);
        if (k % 3 == 2)
            rc_decref(rc_list_pop(list, -1));
        if (k % 64 == i)
            rc_gc_collect(h, k % 3);
    }
}

static void collections_during_contended_operations(void **s)
{
    (void)s;
    reset_counts();
    rc_heap *h = threaded_heap();
    void *list = rc_list_new(h, 0);
    run_crew(h, 4, push_pop_collect, list);
    size_t kept = rc_list_len(list);
    assert_int_equal(kept, 4 * (PUSH_ROUNDS - PUSH_ROUNDS / 3));
    rc_gc_collect(h, 2);
    uint32_t n = atomic_load(&next_id), dead = 0;
    for (uint32_t id = 0; id < n; id++) {
        assert_true(released[id] <= 1);
        dead += released[id];
    }
    assert_int_equal(dead, n - 2 * kept);
    rc_decref(list);
    rc_gc_collect(h, 2);
    for (uint32_t id = 0; id < n; id++)
        assert_int_equal(released[id], 1);
    rc_heap_free(h);
}

/* ---- the heap lock's holder waits for a stripe ------------------------------------ *
 * Thread 0 drops the last reference to a gate, whose finalizer runs
 * holding the heap lock and appends to a list; meanwhile thread 1, inside
 * rc_list_set on that list, drops the last reference to the item it
 * replaces, and so needs the heap lock.  The finalizer waits a moment
 * after thread 1 starts its set, so that most rounds meet that way: the
 * setter lets go of the list's stripe while it waits for the heap lock,
 * and both finish. */
#define GATE_ROUNDS 20

static struct {
    void *list;
    atomic_int ready, finalizing, setting;
} gate_meet;

static void gate_finalize(void *self)
{
    (void)self;
    atomic_store(&gate_meet.finalizing, 1);
    while (!atomic_load(&gate_meet.setting))
        sched_yield();
    nanosleep(&(struct timespec){0, 2000000}, NULL);
    assert_int_equal(rc_list_append(gate_meet.list, gate_meet.list), 0);
}

static const rc_type gate_type = {"gate", 8, NULL, NULL, gate_finalize, NULL, 0, NULL, 0};

static void finalize_or_set(rc_heap *h, int i, void *arg)
{
    (void)arg;
    atomic_fetch_add(&gate_meet.ready, 1);
    while (atomic_load(&gate_meet.ready) < 2)
        rc_safepoint(h);     /* the other's attach waits for one */
    if (i == 0) {
        rc_decref(rc_new(h, &gate_type));
        return;
    }
    while (!atomic_load(&gate_meet.finalizing))
        sched_yield();
    atomic_store(&gate_meet.setting, 1);
    void *v = rc_int_from(h, 7);
    assert_int_equal(rc_list_set(gate_meet.list, 0, v), 0);
    rc_decref(v);
}

static void heap_lock_holder_waits_for_a_stripe(void **s)
{
    (void)s;
    rc_heap *h = threaded_heap();
    gate_meet.list = rc_list_new(h, 0);
    assert_int_equal(rc_list_append(gate_meet.list, gate_meet.list), 0);
    for (int r = 0; r < GATE_ROUNDS; r++) {
        void *dying = rc_list_new(h, 0);   /* the list holds its only reference */
        assert_int_equal(rc_list_set(gate_meet.list, 0, dying), 0);
        rc_decref(dying);
        atomic_store(&gate_meet.ready, 0);
        atomic_store(&gate_meet.finalizing, 0);
        atomic_store(&gate_meet.setting, 0);
        run_crew(h, 2, finalize_or_set, NULL);
        assert_int_equal(rc_list_len(gate_meet.list), 2 + (size_t)r);
    }
    rc_list_clear(gate_meet.list);
    rc_decref(gate_meet.list);
    rc_heap_free(h);
}

/* ---- the stress run against a model ---------------------------------------------- *
 * Each thread, each round: builds a cycle of three nodes, keeps a weakref
 * (with a callback) to its head, and stores the head into a random slot of
 * a shared list, dropping what was there (another thread's cycle, now
 * unreachable).  Some rounds collect a random generation.  Every
 * `phase` rounds all threads meet, one full collection runs and the model
 * is checked: a node is alive exactly when its cycle's head is in a slot. */

#define SLOTS 64
#define CYCLE 3
#define MAX_WEAK 4096

typedef struct stress {
    void *slots;                  /* the shared list */
    pthread_barrier_t meet;
    int nthreads, rounds, phase;
    void *weak[8][MAX_WEAK];      /* each thread's weakrefs to its heads */
    uint32_t weak_id[8][MAX_WEAK];
    int nweak[8];
} stress;

static void weak_called(void *wr, void *ctx)
{
    (void)wr;
    called_back[(uint32_t)(uintptr_t)ctx]++;
}

static uint64_t next_rand(uint64_t *r)
{
    *r ^= *r << 13;
    *r ^= *r >> 7;
    *r ^= *r << 17;
    return *r;
}

static node *make_cycle(rc_heap *h)
{
    node *n[CYCLE];
    uint32_t id = take_ids(CYCLE);
    for (int k = 0; k < CYCLE; k++)
        n[k] = node_new(h, id + (uint32_t)k);
    for (int k = 0; k < CYCLE; k++)
        n[k]->kid[0] = rc_newref(n[(k + 1) % CYCLE]);
    for (int k = 1; k < CYCLE; k++)
        rc_decref(n[k]);
    return n[0];
}

static void one_round(rc_heap *h, stress *st, int me, uint64_t *r)
{
    node *head = make_cycle(h);
    if (st->nweak[me] < MAX_WEAK) {
        void *wr = rc_weakref_new(head, weak_called, (void *)(uintptr_t)head->id);
        assert_non_null(wr);
        st->weak[me][st->nweak[me]] = wr;
        st->weak_id[me][st->nweak[me]++] = head->id;
    }
    assert_int_equal(rc_list_set(st->slots, next_rand(r) % SLOTS, head), 0);
    rc_decref(head);
    if (next_rand(r) % 16 == 0)
        rc_gc_collect(h, (int)(next_rand(r) % 3));
}

/* Every thread meets the others with the heap detached (a thread waiting
 * in the barrier is not at a safe point). */
static void meet(rc_heap *h, stress *st)
{
    rc_thread_detach(h);
    pthread_barrier_wait(&st->meet);
    rc_thread_attach(h);
}

static bool in_slots(stress *st, uint32_t head_id)
{
    for (size_t i = 0; i < SLOTS; i++) {
        node *n = rc_list_get(st->slots, i);
        if (rc_typeof(n) == &node_type && n->id == head_id)
            return true;
    }
    return false;
}

/* After a full collection with every thread quiet: exactly the nodes whose
 * head left the slots are gone, each finalized and released once, and the
 * weakrefs to exactly those heads were called back once. */
static void check_model(stress *st)
{
    uint32_t made = atomic_load(&next_id);
    for (uint32_t id = 0; id < made; id++) {
        uint32_t head = id - id % CYCLE;
        int dead = !in_slots(st, head);
        if (released[id] != dead || finalized[id] != dead)
            fail_msg("node %u (head %u): released %d finalized %d, model says %s", id, head, released[id],
                     finalized[id], dead ? "dead" : "alive");
    }
    for (int t = 0; t < st->nthreads; t++)
        for (int w = 0; w < st->nweak[t]; w++) {
            uint32_t id = st->weak_id[t][w];
            int dead = released[id] != 0;
            assert_int_equal(called_back[id], dead);
            assert_true((rc_weakref_get(st->weak[t][w]) == NULL) == dead);
        }
}

static void stress_thread(rc_heap *h, int me, void *arg)
{
    stress *st = arg;
    uint64_t r = 0x9E3779B97F4A7C15ULL * (uint64_t)(me + 1);
    for (int round = 1; round <= st->rounds; round++) {
        one_round(h, st, me, &r);
        if (round % st->phase)
            continue;
        meet(h, st);
        if (me == round / st->phase % st->nthreads) {   /* a different collector each phase */
            rc_gc_collect(h, 2);
            check_model(st);
        }
        meet(h, st);
    }
}

static void run_stress(int nthreads)
{
    reset_counts();
    rc_heap *h = threaded_heap();
    rc_gc_set_threshold(h, 100, 5, 5);   /* automatic collections from any thread too */
    static stress st;
    memset(&st, 0, sizeof st);
    const char *e = getenv("RC_THREADS_ROUNDS");
    st.rounds = e ? atoi(e) : 300;
    st.phase = 50;
    st.nthreads = nthreads;
    assert_true((uint64_t)st.rounds * CYCLE * (uint64_t)nthreads < MAX_NODES);
    st.slots = rc_list_new(h, SLOTS);
    for (int i = 0; i < SLOTS; i++)
        assert_int_equal(rc_list_append(st.slots, rc_none(h)), 0);
    pthread_barrier_init(&st.meet, NULL, (unsigned)nthreads);
    run_crew(h, nthreads, stress_thread, &st);
    pthread_barrier_destroy(&st.meet);
    rc_gc_collect(h, 2);
    check_model(&st);
    for (int t = 0; t < nthreads; t++)
        for (int w = 0; w < st.nweak[t]; w++)
            rc_decref(st.weak[t][w]);
    rc_decref(st.slots);
    rc_gc_collect(h, 2);
    uint32_t made = atomic_load(&next_id);
    for (uint32_t id = 0; id < made; id++)
        assert_int_equal(released[id], 1);
    rc_heap_free(h);
}

/* ---- a lone thread's counts, and sharing them ----------------------------------- *
 * The only thread attached to a heap counts with plain stores; a second
 * thread's attach makes both count atomically once the lone one has
 * acknowledged (at its next refcount, allocation or safe point), and the
 * last thread left counts alone again from its next allocation or safe
 * point (docs/threads.md).  A script of steps runs on two threads in
 * turn, each checking the exact count after its step. */

extern _Thread_local unsigned rc__mt_sharing;   /* thread_ref.c: 0 while the thread counts alone */

typedef enum { INC, DEC, ATTACH, DETACH, SETTLE } step_op;

typedef struct step {
    int who;            /* 0: the heap's maker, 1: the partner */
    step_op op;
    int expect;         /* the count after INC/DEC (0: it died in this step);
                           after SETTLE, 1 when the thread must count alone */
} step;

typedef struct duet {
    rc_heap *h;
    node *obj;
    uint32_t id;
    const step *steps;
    int n;
    atomic_int turn;
    bool attached[2];
} duet;

static void wait_turn(duet *d, int who, int i)
{
    while (atomic_load(&d->turn) != i) {
        if (d->attached[who])
            rc_safepoint(d->h);   /* an attaching partner waits for this */
        sched_yield();
    }
}

static void play_step(duet *d, int who, const step *s)
{
    switch (s->op) {
    case INC:
        rc_incref(d->obj);
        assert_int_equal(rc_refcount(d->obj), s->expect);
        break;
    case DEC:
        if (s->expect == 0) {
            assert_int_equal(released[d->id], 0);
            rc_decref(d->obj);
            assert_int_equal(released[d->id], 1);    /* died in this thread's decref */
        } else {
            rc_decref(d->obj);
            assert_int_equal(rc_refcount(d->obj), s->expect);
        }
        break;
    case ATTACH:
        assert_int_equal(rc_thread_attach(d->h), 0);
        break;
    case DETACH:
        rc_thread_detach(d->h);
        break;
    case SETTLE:
        rc_safepoint(d->h);
        assert_int_equal(rc__mt_sharing == 0, s->expect);
        break;
    }
    d->attached[who] = s->op == ATTACH || (d->attached[who] && s->op != DETACH);
}

static void play(duet *d, int who)
{
    for (int i = 0; i < d->n; i++) {
        if (d->steps[i].who != who)
            continue;
        wait_turn(d, who, i);
        play_step(d, who, &d->steps[i]);
        atomic_store(&d->turn, i + 1);
    }
}

static void *partner_main(void *arg)
{
    play(arg, 1);
    return NULL;
}

static void run_duet(const step *steps, int n)
{
    reset_counts();
    duet d = {.h = threaded_heap(), .steps = steps, .n = n, .attached = {true, false}};
    d.id = take_ids(1);
    d.obj = node_new(d.h, d.id);
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, partner_main, &d), 0);
    play(&d, 0);
    if (d.attached[0])
        rc_thread_detach(d.h);
    pthread_join(t, NULL);
    assert_int_equal(released[d.id], 1);
    assert_int_equal(finalized[d.id], 1);
    assert_int_equal(rc_thread_attach(d.h), 0);
    rc_heap_free(d.h);
}

#define DUET(...) run_duet((const step[]){__VA_ARGS__}, (int)(sizeof((const step[]){__VA_ARGS__}) / sizeof(step)))

static void counts_stay_exact_in_every_order(void **s)
{
    (void)s;
    /* the maker counts alone, then beside the partner, then alone again */
    DUET({0, INC, 2}, {0, SETTLE, 1}, {1, ATTACH, 0}, {1, INC, 3}, {0, DEC, 2}, {1, DEC, 1},
         {0, INC, 2}, {1, INC, 3}, {1, DEC, 2}, {0, DEC, 1}, {0, SETTLE, 0}, {1, DETACH, 0},
         {0, SETTLE, 1}, {0, INC, 2}, {0, DEC, 1}, {0, DEC, 0});
    /* the partner takes the last reference and the object dies on it */
    DUET({1, ATTACH, 0}, {1, INC, 2}, {0, DEC, 1}, {1, DEC, 0}, {1, DETACH, 0}, {0, SETTLE, 1});
    /* the maker drops the last reference while sharing */
    DUET({1, ATTACH, 0}, {1, INC, 2}, {1, DEC, 1}, {0, DEC, 0}, {1, DETACH, 0});
    /* the partner's reference outlives its attachment: the maker, alone
     * again, drops it */
    DUET({1, ATTACH, 0}, {1, INC, 2}, {0, DEC, 1}, {1, DETACH, 0}, {0, SETTLE, 1}, {0, DEC, 0});
    /* the maker detaches: the partner counts alone, until the maker is back */
    DUET({1, ATTACH, 0}, {0, DETACH, 0}, {1, SETTLE, 1}, {1, INC, 2}, {1, DEC, 1}, {1, INC, 2},
         {0, ATTACH, 0}, {1, SETTLE, 0}, {0, DEC, 1}, {1, DETACH, 0}, {0, SETTLE, 1}, {0, DEC, 0});
}

/* The maker counts in a tight loop, passing a safe point now and then,
 * while a second thread attaches, counts on the same object and detaches,
 * twenty times: each change to atomic counting happens while the maker's
 * plain stores are in flight, and the maker takes up counting alone again
 * between them. */
typedef struct joiner {
    rc_heap *h;
    void *obj;
    atomic_bool done;
} joiner;

static void *joiner_main(void *arg)
{
    joiner *j = arg;
    for (int k = 0; k < 20; k++) {
        assert_int_equal(rc_thread_attach(j->h), 0);
        hammer(j->h, 0, j->obj);
        rc_thread_detach(j->h);
    }
    atomic_store(&j->done, true);
    return NULL;
}

static void lone_counts_survive_attach_and_detach(void **s)
{
    (void)s;
    joiner j = {threaded_heap(), NULL, false};
    j.obj = rc_list_new(j.h, 0);
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, joiner_main, &j), 0);
    for (long k = 0; !atomic_load(&j.done); k++) {
        if (k % 64 == 0)
            rc_safepoint(j.h);
        rc_incref(j.obj);
        rc_incref(j.obj);
        rc_decref(j.obj);
        rc_decref(j.obj);
    }
    pthread_join(t, NULL);
    assert_int_equal(rc_refcount(j.obj), 1);
    rc_safepoint(j.h);
    assert_int_equal(rc__mt_sharing, 0);
    rc_decref(j.obj);
    rc_heap_free(j.h);
}

/* A lone thread whose loop only looks up a dict (no count, no allocation,
 * no safe point) still lets a second thread attach: each container
 * operation acknowledges the change to atomic counting.  Without that,
 * the attach would wait for the loop, and the loop for the attach. */
static void *attach_once_main(void *arg)
{
    joiner *j = arg;
    assert_int_equal(rc_thread_attach(j->h), 0);
    rc_thread_detach(j->h);
    atomic_store(&j->done, true);
    return NULL;
}

static void attach_beside_a_lone_lookup_loop(void **s)
{
    (void)s;
    joiner j = {threaded_heap(), NULL, false};
    j.obj = rc_dict_new(j.h);
    void *key = rc_int_from(j.h, 7);
    assert_int_equal(rc_dict_set(j.obj, key, key), 0);
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, attach_once_main, &j), 0);
    while (!atomic_load(&j.done))
        assert_ptr_equal(rc_dict_get(j.obj, key), key);
    pthread_join(t, NULL);
    rc_decref(key);
    rc_decref(j.obj);
    rc_heap_free(j.h);
}

/* Objects made by the lone maker, with weakrefs, handed to a partner that
 * drops them while the maker asks its weakrefs for them: each dies once,
 * on whichever thread let go last, and no weakref revives a dying one. */
#define WEAK_HANDED 2000

typedef struct weak_run {
    rc_heap *h;
    void *list;
    atomic_bool ready;
} weak_run;

static void *dropper_main(void *arg)
{
    weak_run *w = arg;
    assert_int_equal(rc_thread_attach(w->h), 0);
    atomic_store(&w->ready, true);
    for (int got = 0; got < WEAK_HANDED;) {
        void *o = rc_list_pop(w->list, 0);
        if (!o) {
            rc_clear_error(w->h);
            rc_safepoint(w->h);
            continue;
        }
        rc_decref(o);
        got++;
    }
    rc_thread_detach(w->h);
    return NULL;
}

static void weakrefs_to_objects_dying_on_another_thread(void **s)
{
    (void)s;
    reset_counts();
    weak_run w = {threaded_heap(), NULL, false};
    w.list = rc_list_new(w.h, 0);
    void *weak[WEAK_HANDED];
    for (uint32_t i = 0; i < WEAK_HANDED; i++) {
        node *n = node_new(w.h, take_ids(1));
        weak[i] = rc_weakref_new(n, weak_called, (void *)(uintptr_t)n->id);
        assert_int_equal(rc_list_append(w.list, n), 0);
        rc_decref(n);
    }
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, dropper_main, &w), 0);
    while (!atomic_load(&w.ready))
        rc_safepoint(w.h);
    for (int round = 0; round < 4; round++)
        for (int i = 0; i < WEAK_HANDED; i++) {
            void *o;
            if (rc_weakref_get_ref(weak[i], &o) == 1)
                rc_decref(o);    /* may be the last reference: then it dies here */
        }
    rc_thread_detach(w.h);
    pthread_join(t, NULL);
    assert_int_equal(rc_thread_attach(w.h), 0);
    for (int i = 0; i < WEAK_HANDED; i++) {
        void *o = NULL;
        assert_int_equal(rc_weakref_get_ref(weak[i], &o), 0);
        assert_null(o);
        assert_int_equal(released[i], 1);
        assert_int_equal(finalized[i], 1);
        assert_int_equal(called_back[i], 1);
        rc_decref(weak[i]);
    }
    rc_decref(w.list);
    rc_heap_free(w.h);
}

/* The lone thread makes tracked objects without the heap lock; another
 * thread attaches again and again and makes its own beside it, and
 * collections run while one counts alone and while both share: every
 * cycle dropped is collected exactly once and the heap stays consistent. */
#define LONE_CYCLES 20000

typedef struct cycler {
    rc_heap *h;
    atomic_bool done;
} cycler;

static void drop_cycles(rc_heap *h, int n)
{
    for (int k = 0; k < n; k++)
        rc_decref(make_cycle(h));
}

static void *cycler_main(void *arg)
{
    cycler *c = arg;
    for (int k = 0; k < 20; k++) {
        assert_int_equal(rc_thread_attach(c->h), 0);
        drop_cycles(c->h, 50);
        rc_thread_detach(c->h);
    }
    atomic_store(&c->done, true);
    return NULL;
}

static void tracked_objects_made_alone_and_beside_another(void **s)
{
    (void)s;
    reset_counts();
    cycler c = {threaded_heap(), false};
    rc_gc_set_threshold(c.h, 100, 10, 10);
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, cycler_main, &c), 0);
    for (int k = 0; k < LONE_CYCLES && !atomic_load(&c.done); k++)
        drop_cycles(c.h, 1);
    while (!atomic_load(&c.done))
        rc_safepoint(c.h);
    pthread_join(t, NULL);
    rc_gc_collect(c.h, 2);
    uint32_t n = atomic_load(&next_id);
    for (uint32_t i = 0; i < n; i++) {
        assert_int_equal(finalized[i], 1);
        assert_int_equal(released[i], 1);
    }
    assert_int_equal(rc_heap_check(c.h), 0);
    rc_heap_free(c.h);
}

/* ---- gen 0 and deaths without the heap lock ----------------------------------------- */

/* A tracked type without a finalizer: its young objects enter gen 0 in
 * their thread's segment and die without the heap lock. */
static const rc_type pnode_type = {"pnode", sizeof(node), node_traverse, node_clear, NULL, node_release, 0, NULL, 0};

static node *pnode_new(rc_heap *h)
{
    node *n = rc_new(h, &pnode_type);
    assert_non_null(n);
    n->id = take_ids(1);
    return n;
}

static void assert_released_once(void)
{
    uint32_t n = atomic_load(&next_id);
    for (uint32_t i = 0; i < n; i++)
        assert_int_equal(released[i], 1);
}

/* Two threads drop the last two references of each object at once, so
 * that both decrements may take the count from 2 to 0 without either
 * seeing 1, while a third asks the weakrefs for the objects: each object
 * dies once, whether its death needs the heap lock (a finalizer, a
 * weakref) or not, and a weakref never hands out a dead object. */
#define RACED 4000

typedef struct raced {
    node *weakly[RACED], *plainly[RACED];
    void *weak[RACED];
    uint32_t id[RACED];
    atomic_int arrived[RACED];
} raced;

/* Both droppers reach object k before either drops it. */
static void arrive(rc_heap *h, atomic_int *arrived)
{
    atomic_fetch_add(arrived, 1);
    while (atomic_load(arrived) < 2)
        rc_safepoint(h);
}

static void drop_or_ask(rc_heap *h, int i, void *arg)
{
    raced *r = arg;
    if (i == 2) {
        for (int k = 0; k < RACED; k++) {
            void *o;
            if (rc_weakref_get_ref(r->weak[k], &o) == 1)
                rc_decref(o);     /* may be the last: then it dies here */
        }
        return;
    }
    for (int k = 0; k < RACED; k++) {
        arrive(h, &r->arrived[k]);
        rc_decref(r->weakly[k]);
        rc_decref(r->plainly[k]);
    }
}

static void last_two_references_dropped_at_once(void **s)
{
    (void)s;
    reset_counts();
    rc_heap *h = threaded_heap();
    raced *r = calloc(1, sizeof *r);
    assert_non_null(r);
    for (int k = 0; k < RACED; k++) {
        r->id[k] = take_ids(1);
        r->weakly[k] = rc_newref(node_new(h, r->id[k]));
        r->weak[k] = rc_weakref_new(r->weakly[k], weak_called, (void *)(uintptr_t)r->id[k]);
        assert_non_null(r->weak[k]);
        r->plainly[k] = rc_newref(pnode_new(h));
    }
    run_crew(h, 3, drop_or_ask, r);
    assert_released_once();
    for (int k = 0; k < RACED; k++) {
        void *o = NULL;
        assert_int_equal(rc_weakref_get_ref(r->weak[k], &o), 0);
        assert_int_equal(finalized[r->id[k]], 1);
        assert_int_equal(called_back[r->id[k]], 1);
        rc_decref(r->weak[k]);
    }
    assert_int_equal(rc_heap_check(h), 0);
    free(r);
    rc_heap_free(h);
}

static size_t count0(rc_heap *h)
{
    size_t c[3];
    rc_gc_get_count(h, c);
    return c[0];
}

static int count_one(void *o, void *arg)
{
    (void)o;
    (*(size_t *)arg)++;
    return 0;
}

static size_t gen0_objects(rc_heap *h)
{
    size_t n = 0;
    assert_int_equal(rc_gc_get_objects(h, 0, count_one, &n), 0);
    return n;
}

/* The same program on a plain heap and on a threaded one with one
 * thread: makes and drops tracked objects (some kept, some chained, some
 * dying at once) under a small threshold; the collections of each
 * generation, the counts and the tracked objects must be the same. */
static void young_program(rc_heap *h, node **kept, int n)
{
    for (int k = 0; k < n; k++) {
        node *a = pnode_new(h), *b = pnode_new(h);
        a->kid[0] = b;                     /* a holds b; b dies with a */
        if (k % 3 == 0)
            kept[k / 3] = a;
        else
            rc_decref(a);
        if (k % 7 == 0 && k / 3 > 0)
            RC_CLEAR(kept[k / 3 - 1]);
    }
}

static void thresholds_count_as_on_a_plain_heap(void **s)
{
    (void)s;
    enum { ROUNDS = 3000 };
    size_t counts[2][3], collections[2][3], gen0[2];
    for (int threaded = 0; threaded < 2; threaded++) {
        reset_counts();
        rc_config cfg;
        rc_config_default(&cfg);
        cfg.threads = threaded;
        rc_heap *h = rc_heap_new(&cfg);
        rc_gc_set_threshold(h, 50, 3, 3);
        static node *kept[ROUNDS / 3 + 1];
        memset(kept, 0, sizeof kept);
        young_program(h, kept, ROUNDS);
        rc_gc_get_count(h, counts[threaded]);
        for (int g = 0; g < 3; g++)
            collections[threaded][g] = rc_gc_get_stats(h, g).collections;
        gen0[threaded] = gen0_objects(h);
        assert_int_equal(rc_heap_check(h), 0);
        for (size_t k = 0; k < ROUNDS / 3 + 1; k++)
            rc_xdecref(kept[k]);
        rc_heap_free(h);
    }
    for (int g = 0; g < 3; g++) {
        assert_int_equal(counts[0][g], counts[1][g]);
        assert_int_equal(collections[0][g], collections[1][g]);
    }
    assert_true(collections[0][0] > 10);
    assert_int_equal(gen0[0], gen0[1]);
}

/* Two threads fill their segments, meet, and one reads the count: the
 * other's entries are in it, exactly, as soon as the stop adds them up;
 * then each drops half of its objects, and the count follows. */
#define YOUNG_EACH 500

typedef struct young_meet {
    node *made[2][YOUNG_EACH];
    atomic_int arrived, phase;
    size_t seen[2];
} young_meet;

static void wait_for_both(rc_heap *h, young_meet *m, int phase)
{
    atomic_fetch_add(&m->arrived, 1);
    while (atomic_load(&m->arrived) < 2 * phase)
        rc_safepoint(h);        /* the reader's stop waits for us here */
}

static void fill_and_count(rc_heap *h, int i, void *arg)
{
    young_meet *m = arg;
    for (int k = 0; k < YOUNG_EACH; k++)
        m->made[i][k] = pnode_new(h);
    wait_for_both(h, m, 1);
    if (i == 0)
        m->seen[0] = count0(h);
    wait_for_both(h, m, 2);
    for (int k = 0; k < YOUNG_EACH; k += 2)
        rc_decref(m->made[i][k]);
    wait_for_both(h, m, 3);
    if (i == 1)
        m->seen[1] = count0(h);
    wait_for_both(h, m, 4);
    for (int k = 1; k < YOUNG_EACH; k += 2)
        rc_decref(m->made[i][k]);
}

static void young_buffers_are_counted_when_read(void **s)
{
    (void)s;
    reset_counts();
    rc_heap *h = threaded_heap();
    rc_gc_disable(h);
    size_t before = count0(h);
    young_meet *m = calloc(1, sizeof *m);
    run_crew(h, 2, fill_and_count, m);
    assert_int_equal(m->seen[0], before + 2 * YOUNG_EACH);
    assert_int_equal(m->seen[1], before + YOUNG_EACH);
    assert_int_equal(count0(h), before);
    assert_int_equal(gen0_objects(h), 0);
    assert_int_equal(rc_heap_check(h), 0);
    assert_released_once();
    free(m);
    rc_heap_free(h);
}

/* Thread 0 makes chains of tracked objects and untracked leaves and hands
 * them over through a list; thread 1 drops them, without the heap lock,
 * while thread 0 goes on filling its segment beside the slots it empties,
 * and both collect now and then. */
#define CHAINS 400
#define CHAIN 100

static void chain_or_drop(rc_heap *h, int i, void *list)
{
    for (int k = 0; k < CHAINS; k++) {
        if (i == 0) {
            node *head = pnode_new(h);
            for (int j = 1; j < CHAIN; j++) {
                node *n = pnode_new(h);
                n->kid[0] = head;
                n->kid[1] = rc_int_from(h, j);
                head = n;
            }
            assert_int_equal(rc_list_append(list, head), 0);
            rc_decref(head);
        } else {
            while (rc_list_len(list) == 0)
                rc_safepoint(h);
            void *got = rc_list_pop(list, 0);
            assert_non_null(got);
            rc_decref(got);
        }
        if (k % 50 == i)
            rc_gc_collect(h, k % 3);
    }
}

static void deaths_on_a_thread_that_did_not_make_them(void **s)
{
    (void)s;
    reset_counts();
    rc_heap *h = threaded_heap();
    rc_gc_set_threshold(h, 100, 10, 10);
    void *list = rc_list_new(h, 0);
    run_crew(h, 2, chain_or_drop, list);
    assert_int_equal(rc_list_len(list), 0);
    assert_int_equal(atomic_load(&next_id), CHAINS * CHAIN);
    assert_released_once();
    assert_int_equal(rc_heap_check(h), 0);
    rc_decref(list);
    rc_heap_free(h);
}

/* Chains long enough to queue their deaths (past the nesting limit) die
 * on two threads while both collect: a collection never walks a queued
 * object, and each node is released once. */
static void long_chains_die_beside_collections(rc_heap *h, int i, void *arg)
{
    (void)arg;
    for (int k = 0; k < 20; k++) {
        node *head = pnode_new(h);
        for (int j = 1; j < 2000; j++) {
            node *n = pnode_new(h);
            n->kid[0] = head;
            head = n;
        }
        rc_decref(head);
        rc_gc_collect(h, (k + i) % 3);
    }
}

static void queued_deaths_stay_apart_from_collections(void **s)
{
    (void)s;
    reset_counts();
    rc_heap *h = threaded_heap();
    run_crew(h, 2, long_chains_die_beside_collections, NULL);
    assert_released_once();
    assert_int_equal(count0(h), 0);
    assert_int_equal(rc_heap_check(h), 0);
    rc_heap_free(h);
}

/* Two threads grow and clear a list each (the growth from buffers their
 * thread kept, under the list's stripe alone) and append to a third,
 * shared one, which one of them clears now and then; then the heap's
 * counts of buffers are checked (the kept ones go back at each stop). */
#define GROWN 20000

typedef struct grown {
    void *own[2], *shared;
    size_t appended[2];
} grown;

static void grow_and_clear(rc_heap *h, int i, void *arg)
{
    grown *g = arg;
    void *item = rc_int_from(h, i);
    for (int k = 0; k < GROWN; k++) {
        assert_int_equal(rc_list_append(g->own[i], item), 0);
        if (rc_list_len(g->own[i]) > 64 + (size_t)i)
            assert_int_equal(rc_list_clear(g->own[i]), 0);
        if (k % 8 == 0)
            assert_int_equal(rc_list_append(g->shared, item), 0);
        if (i == 0 && k % 512 == 0)
            assert_int_equal(rc_list_clear(g->shared), 0);
        if (k % 4096 == 0)
            assert_int_equal(rc_heap_check(h), 0);
    }
    g->appended[i] = rc_list_len(g->own[i]);
    rc_decref(item);
}

static void lists_grow_and_clear_on_two_threads(void **s)
{
    (void)s;
    rc_heap *h = threaded_heap();
    rc_memory_info before, after;
    rc_decref(rc_int_from(h, 0));     /* the small ints are made on first use */
    rc_heap_memory(h, &before);
    grown g = {{rc_list_new(h, 0), rc_list_new(h, 0)}, rc_list_new(h, 0), {0, 0}};
    run_crew(h, 2, grow_and_clear, &g);
    assert_int_equal(g.appended[0], GROWN % 65);
    assert_int_equal(g.appended[1], GROWN % 66);
    assert_int_equal(rc_list_len(g.own[0]), g.appended[0]);
    for (size_t k = 0; k < rc_list_len(g.shared); k++) {
        int64_t v = -1;
        assert_int_equal(rc_int_value(rc_list_get(g.shared, k), &v), 0);
        assert_true(v == 0 || v == 1);
    }
    assert_int_equal(rc_heap_check(h), 0);
    void *lists[] = {g.own[0], g.own[1], g.shared};
    for (int k = 0; k < 3; k++)
        rc_decref(lists[k]);
    rc_heap_memory(h, &after);
    assert_int_equal(after.requested, before.requested);
    assert_int_equal(after.live_blocks, before.live_blocks);
    assert_int_equal(rc_heap_check(h), 0);
    rc_heap_free(h);
}

static void stress_two_threads(void **s) { (void)s; run_stress(2); }
static void stress_four_threads(void **s) { (void)s; run_stress(4); }
static void stress_eight_threads(void **s) { (void)s; run_stress(8); }

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(plain_heaps_ignore_the_thread_calls),
        cmocka_unit_test(attach_nests),
        cmocka_unit_test(shared_refcounts_stay_exact),
        cmocka_unit_test(counts_stay_exact_in_every_order),
        cmocka_unit_test(lone_counts_survive_attach_and_detach),
        cmocka_unit_test(attach_beside_a_lone_lookup_loop),
        cmocka_unit_test(weakrefs_to_objects_dying_on_another_thread),
        cmocka_unit_test(last_two_references_dropped_at_once),
        cmocka_unit_test(objects_die_on_other_threads),
        cmocka_unit_test(frees_go_back_to_the_making_thread),
        cmocka_unit_test(detached_pools_keep_their_objects),
        cmocka_unit_test(traced_frees_from_any_thread),
        cmocka_unit_test(tracked_objects_made_alone_and_beside_another),
        cmocka_unit_test(thresholds_count_as_on_a_plain_heap),
        cmocka_unit_test(young_buffers_are_counted_when_read),
        cmocka_unit_test(deaths_on_a_thread_that_did_not_make_them),
        cmocka_unit_test(queued_deaths_stay_apart_from_collections),
        cmocka_unit_test(lists_grow_and_clear_on_two_threads),
        cmocka_unit_test(containers_are_atomic_per_operation),
        cmocka_unit_test(readers_keep_items_writers_drop),
        cmocka_unit_test(interned_names_are_shared),
        cmocka_unit_test(threaded_objects_refused_by_plain_containers),
        cmocka_unit_test(collections_restart_the_world_for_user_code),
        cmocka_unit_test(two_container_operations_are_atomic),
        cmocka_unit_test(lookups_run_beside_writers),
        cmocka_unit_test(finalizers_touch_the_containers_they_die_in),
        cmocka_unit_test(collections_during_contended_operations),
        cmocka_unit_test(heap_lock_holder_waits_for_a_stripe),
        cmocka_unit_test(stress_two_threads),
        cmocka_unit_test(stress_four_threads),
        cmocka_unit_test(stress_eight_threads),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
