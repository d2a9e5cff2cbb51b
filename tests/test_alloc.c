/* Tests of the small-object allocator (src/alloc/alloc.c, src/alloc/alloc_stats.c). */
#define RC_BUILDING_CORE 1
#include "../src/core/internal.h"
#include "../src/alloc/alloc_impl.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "node.h"

static rc_heap *heap_with(size_t spare, size_t max_bytes, uint64_t fail_at, bool after)
{
    rc_config cfg;
    rc_config_default(&cfg);
    cfg.arena_spare = spare;
    cfg.max_bytes = max_bytes;
    cfg.fail_alloc_at = fail_at;
    cfg.fail_alloc_after = after;
    rc_heap *h = rc_heap_new(&cfg);
    assert_non_null(h);
    return h;
}

static rc_heap *heap_new(void) { return heap_with(1, 0, 0, false); }
static void heap_free(rc_heap *h) { rc_heap_free(h); }
static int last_code(const rc_heap *h) { return rc_last_error_code(h); }

static uint64_t rng_state = 0x9E3779B97F4A7C15ull;
static uint64_t rnd(void)
{
    uint64_t x = rng_state;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return rng_state = x;
}

/* The documented size classes: 16-byte steps to 512, 64-byte steps to 1024,
 * then malloc'd blocks rounded to 16. */
static size_t class_bytes(size_t n)
{
    if (n == 0)
        n = 1;
    if (n <= 512)
        return (n + 15) & ~(size_t)15;
    if (n <= RC_ALLOC_SMALL_MAX)
        return (n + 63) & ~(size_t)63;
    return (n + 15) & ~(size_t)15;
}

static void test_alignment_and_zero_fill(void **state)
{
    (void)state;
    rc_heap *h = heap_new();
    void *raw[3000];
    rc_head *obj[3000];
    for (size_t i = 0; i < 3000; i++) {
        size_t n = i + 1;
        raw[i] = rc_alloc(h, n);
        assert_non_null(raw[i]);
        assert_int_equal((uintptr_t)raw[i] % 16, 0);
        memset(raw[i], 0xAB, n);
        obj[i] = rc__alloc_object(h, i, NULL);
        assert_non_null(obj[i]);
        assert_int_equal((uintptr_t)obj[i] % 16, 0);
        unsigned char *b = rc__body(obj[i]);
        for (size_t k = 0; k < i; k++)
            assert_int_equal(b[k], 0);
        assert_int_equal(obj[i]->refcnt, 0);
        assert_int_equal(obj[i]->gc, 0);
        assert_int_equal(obj[i]->tw & ~(uintptr_t)RC_HF_LARGE, 0);
        assert_int_equal(!!(obj[i]->tw & RC_HF_LARGE), sizeof(rc_head) + i > RC_ALLOC_SMALL_MAX);
        assert_true(rc__object_block_size(obj[i]) >= sizeof(rc_head) + i);
        assert_ptr_equal(rc__object_heap(obj[i]), h);
        obj[i]->tw |= 0x10;              /* what object.c does: a type pointer */
        memset(b, 0xCD, i);
    }
    /* Freed blocks come back zero-filled to the next object. */
    for (size_t i = 0; i < 3000; i += 2) {
        rc__free_object(h, obj[i]);
        rc_free(h, raw[i]);
    }
    for (size_t i = 0; i < 3000; i += 2) {
        obj[i] = rc__alloc_object(h, i, NULL);
        unsigned char *b = rc__body(obj[i]);
        for (size_t k = 0; k < i; k++)
            assert_int_equal(b[k], 0);
        obj[i]->tw |= 0x10;
    }
    for (size_t i = 0; i < 3000; i++) {
        rc__free_object(h, obj[i]);
        if (i % 2)
            rc_free(h, raw[i]);
    }
    rc_memory_info mi;
    rc_heap_memory(h, &mi);
    assert_int_equal(mi.requested, 0);
    assert_int_equal(mi.live_objects, 0);
    assert_int_equal(mi.live_blocks, 0);
    heap_free(h);
}

static void fill(unsigned char *p, size_t n, unsigned seed)
{
    for (size_t i = 0; i < n; i++)
        p[i] = (unsigned char)(i * 31 + seed);
}

static void check(const unsigned char *p, size_t n, unsigned seed)
{
    for (size_t i = 0; i < n; i++)
        assert_int_equal(p[i], (unsigned char)(i * 31 + seed));
}

/* rc_new's own fast path (rc__new_object): every body size of every pooled
 * class and past it, in blocks that held dirty objects before, comes back
 * with the header set and the body zero, and the accounting counts it. */
static void test_new_object_header_and_zero_fill(void **state)
{
    (void)state;
    static const rc_type var = {.name = "var", .size = 1};
    enum { MAXB = 1100, ROUNDS = 3 };
    rc_heap *h = heap_new();
    static unsigned char *obj[MAXB + 1];
    for (int round = 0; round < ROUNDS; round++) {
        size_t bytes = 0;
        for (size_t n = 1; n <= MAXB; n++) {
            obj[n] = rc_new_var(h, &var, n);
            assert_non_null(obj[n]);
            assert_int_equal((uintptr_t)obj[n] % 16, 0);
            assert_ptr_equal(rc_typeof(obj[n]), &var);
            assert_int_equal(rc_refcount(obj[n]), 1);
            assert_false(rc_gc_is_tracked(obj[n]));
            for (size_t k = 0; k < n; k++)
                assert_int_equal(obj[n][k], 0);
            memset(obj[n], 0xCD, n);
            bytes += class_bytes(sizeof(rc_head) + n);
        }
        rc_memory_info mi;
        rc_heap_memory(h, &mi);
        assert_int_equal(mi.requested, bytes);
        assert_int_equal(mi.live_objects, MAXB);
        assert_int_equal(rc_heap_check(h), 0);
        for (size_t n = 1; n <= MAXB; n += 2 + (size_t)round)   /* freed in a different order each round */
            RC_CLEAR(obj[n]);
        for (size_t n = MAXB; n >= 1; n--)
            rc_xdecref(obj[n]);
        rc_heap_memory(h, &mi);
        assert_int_equal(mi.requested, 0);
        assert_int_equal(mi.live_objects, 0);
    }
    heap_free(h);
}

static void test_realloc_keeps_contents(void **state)
{
    (void)state;
    rc_heap *h = heap_new();
    /* From 3000000 on: a malloc'd block grown past RC_HUGE_BLOCK stays
     * malloc'd (test_huge_blocks resizes mapped ones). */
    static const size_t sizes[] = {1, 16, 17, 100, 512, 513, 1024, 1025, 5000, 100000, 3000000, 5000000,
                                   2200000, 9000000, 1500000, 70000, 2000, 900, 600, 40, 8, 1, 200000, 33};
    size_t cur = 0;
    unsigned char *p = NULL;
    for (size_t i = 0; i < sizeof sizes / sizeof *sizes; i++) {
        size_t n = sizes[i];
        unsigned char *q = rc_realloc(h, p, n);
        assert_non_null(q);
        assert_int_equal((uintptr_t)q % 16, 0);
        check(q, cur < n ? cur : n, 7);
        fill(q, n, 7);
        cur = n;
        p = q;
        rc_memory_info mi;
        rc_heap_memory(h, &mi);
        assert_int_equal(mi.requested, class_bytes(n));
    }
    rc_free(h, p);
    /* Same class: the block stays where it is. */
    p = rc_alloc(h, 20);
    assert_ptr_equal(rc_realloc(h, p, 30), p);
    rc_free(h, p);
    rc_memory_info mi;
    rc_heap_memory(h, &mi);
    assert_int_equal(mi.requested, 0);
    heap_free(h);
}

/* Objects and buffers from RC_HUGE_BLOCK bytes on are mappings of their
 * own: zero-filled objects, walked as large objects, and freeing them
 * gives every byte back. */
static void test_huge_blocks(void **state)
{
    (void)state;
    rc_heap *h = heap_new();
    const size_t body = 3u << 20;
    rc_head *o = rc__alloc_object(h, body, NULL);
    assert_non_null(o);
    assert_true(o->tw & RC_HF_LARGE);
    const unsigned char *b = rc__body(o);
    for (size_t k = 0; k < body; k += 4093)
        assert_int_equal(b[k], 0);
    o->tw |= 0x10;
    unsigned char *raw = rc_alloc(h, 5u << 20);
    assert_non_null(raw);
    fill(raw, 5u << 20, 3);
    raw = rc_realloc(h, raw, 7u << 20);   /* pages move, nothing is copied */
    assert_non_null(raw);
    check(raw, 5u << 20, 3);
    fill(raw, 7u << 20, 4);
    unsigned char *small = rc_realloc(h, raw, 1u << 20);   /* stays a mapping */
    assert_non_null(small);
    check(small, 1u << 20, 4);
    small = rc_realloc(h, small, 100);   /* to a pool */
    assert_non_null(small);
    check(small, 100, 4);
    rc_free(h, small);
    raw = rc_alloc(h, 7u << 20);
    assert_non_null(raw);
    size_t found = 0;
    rc_span_iter it;
    rc_span sp;
    rc__span_iter_init(h, &it);
    while (rc__span_next(&it, &sp))
        found += sp.start == (char *)o && sp.count == 1 && sp.stride >= sizeof(rc_head) + body;
    assert_int_equal(found, 1);
    rc_memory_info mi;
    rc_heap_memory(h, &mi);
    assert_int_equal(mi.requested, class_bytes(sizeof(rc_head) + body) + class_bytes(7u << 20));
    rc__free_object(h, o);
    rc_free(h, raw);
    rc_heap_memory(h, &mi);
    assert_int_equal(mi.requested, 0);
    heap_free(h);
}

static size_t kept_bytes(rc_heap *h) { return rc__os_kept_blocks(rc__alloc_state(h)->unmapper); }

/* True once nothing decays, polled for up to 5 s: the unmapper's thread
 * gives the decaying arenas and kept blocks back RC_DECAY_NS after their
 * last use, when a loaded machine lets it run. */
static bool decayed(struct rc_alloc_state *st)
{
    struct timespec pause = {0, RC_DECAY_NS};
    nanosleep(&pause, NULL);
    for (int ms = 0; ms < 5000 && (rc__arenas_decaying(st) || rc__os_kept_blocks(st->unmapper)); ms += 10) {
        struct timespec tick = {0, 10 * 1000 * 1000};
        nanosleep(&tick, NULL);
    }
    return rc__arenas_decaying(st) == 0 && rc__os_kept_blocks(st->unmapper) == 0;
}

/* A freed huge block's whole 2 MiB pages stay with the heap for the next
 * huge block -- which takes them from the front, grows into the rest in
 * place, and finds the bytes it kept -- and count as held from the OS
 * until rc_heap_trim gives them back, or the unmapper RC_DECAY_NS after
 * their last use, with no call. */
static void test_freed_huge_pages_are_kept(void **state)
{
    (void)state;
    rc_heap *h = heap_new();
    unsigned char *big = rc_alloc(h, 10u << 20);
    assert_non_null(big);
    fill(big, 10u << 20, 5);
    rc_free(h, big);
    assert_int_equal(kept_bytes(h), (size_t)10 << 20);   /* the tail past the last whole page is gone */
    rc_memory_info mi;
    rc_heap_memory(h, &mi);
    assert_int_equal(mi.os_bytes, mi.arenas * ((size_t)1 << 20) + kept_bytes(h));
    unsigned char *p = rc_alloc(h, 3u << 20);
    assert_ptr_equal(p, big);                         /* the front of the kept range */
    assert_int_equal(kept_bytes(h), (size_t)6 << 20);
    fill(p, 3u << 20, 6);
    unsigned char *q = rc_realloc(h, p, 7u << 20);    /* grows into the range after it */
    assert_ptr_equal(q, p);
    check(q, 3u << 20, 6);
    assert_int_equal(kept_bytes(h), (size_t)2 << 20);
    assert_int_equal(rc__alloc_check(h), 0);
    rc_free(h, q);
    assert_int_equal(kept_bytes(h), (size_t)10 << 20);   /* joined again */
    assert_int_equal(rc__alloc_check(h), 0);
    assert_int_equal(rc_heap_trim(h), (size_t)10 << 20);
    assert_int_equal(kept_bytes(h), 0);
    rc_free(h, rc_alloc(h, 3u << 20));
    assert_int_equal(kept_bytes(h), (size_t)2 << 20);
    assert_true(decayed(rc__alloc_state(h)));         /* the program idle */
    rc_heap_memory(h, &mi);
    assert_int_equal(mi.os_bytes, mi.arenas * ((size_t)1 << 20));
    assert_int_equal(rc__alloc_check(h), 0);
    heap_free(h);
}

/* What keeps nothing: a heap without spare arenas, a collection's delete
 * step (what a collection frees goes back with its arenas), and a full
 * collection gives back what was kept before it. */
static void test_huge_pages_given_back(void **state)
{
    (void)state;
    rc_heap *h = heap_with(0, 0, 0, false);
    rc_free(h, rc_alloc(h, 3u << 20));
    assert_int_equal(kept_bytes(h), 0);
    heap_free(h);
    h = heap_new();
    void *l = rc_list_new(h, 400000), *holder = rc_list_new(h, 2);   /* a 3.2 MB table in a cycle */
    assert_int_equal(rc_list_append(holder, l), 0);
    assert_int_equal(rc_list_append(l, holder), 0);
    rc_decref(l);
    rc_decref(holder);
    assert_int_equal(rc_gc_collect(h, 2), 2);
    assert_int_equal(kept_bytes(h), 0);
    rc_free(h, rc_alloc(h, 3u << 20));
    assert_int_equal(kept_bytes(h), (size_t)2 << 20);
    rc_gc_collect(h, 2);
    assert_int_equal(kept_bytes(h), 0);
    assert_int_equal(rc_heap_check(h), 0);
    heap_free(h);
}

/* Counts live objects by walking spans, checking each appears once. */
static size_t walk_objects(rc_heap *h, void **expect, size_t nexpect)
{
    rc_span_iter it;
    rc_span s;
    size_t n = 0;
    char *prev_end = NULL;
    rc__span_iter_init(h, &it);
    while (rc__span_next(&it, &s)) {
        assert_true(s.stride >= 16 && s.stride % 16 == 0);
        if (s.count > 1) {                /* pools come in address order */
            assert_true(s.start >= prev_end);
            prev_end = s.start + s.count * s.stride;
        }
        for (size_t i = 0; i < s.count; i++) {
            rc_head *o = (rc_head *)(void *)(s.start + i * s.stride);
            if (o->tw == 0)
                continue;
            n++;
            bool found = false;
            for (size_t k = 0; k < nexpect && !found; k++)
                found = expect[k] == (void *)o;
            if (nexpect)
                assert_true(found);
        }
    }
    return n;
}

typedef struct live_block {
    void  *p;
    size_t n;
    bool   object;
} live_block;

static void expect_stats(rc_heap *h, const live_block *live, size_t nlive)
{
    size_t req = 0, objects = 0, small = 0;
    for (size_t i = 0; i < nlive; i++) {
        size_t n = live[i].object ? sizeof(rc_head) + live[i].n : live[i].n;
        req += class_bytes(n);
        objects += live[i].object;
        small += class_bytes(n) <= RC_ALLOC_SMALL_MAX;
    }
    assert_int_equal(rc__alloc_check(h), 0);
    rc_memory_info mi;
    rc_heap_memory(h, &mi);
    assert_int_equal(mi.requested, req);
    assert_int_equal(mi.live_objects, objects);
    assert_int_equal(mi.live_blocks, small);
    assert_true(mi.peak >= mi.requested);

    rc_alloc_stats st;
    rc_heap_alloc_stats(h, &st);
    size_t used = 0, bytes = 0;
    for (int c = 0; c < RC_ALLOC_NCLASSES; c++) {
        used += st.objects[c].blocks_used + st.buffers[c].blocks_used;
        bytes += st.objects[c].blocks_used * st.objects[c].block_size +
                 st.buffers[c].blocks_used * st.buffers[c].block_size;
    }
    assert_int_equal(used, mi.live_blocks);
    assert_int_equal(bytes, st.bytes_used);
    assert_int_equal(st.arenas, mi.arenas);
    assert_int_equal(st.pools_used + st.pools_free, st.arenas * 64);
    assert_int_equal(mi.os_bytes, st.arenas * ((size_t)1 << 20) + st.large_bytes + kept_bytes(h) +
                                      rc__arenas_decaying(rc__alloc_state(h)));
    assert_int_equal(walk_objects(h, NULL, 0), objects);
}

static void test_random_sequences_keep_stats_exact(void **state)
{
    (void)state;
    rc_heap *h = heap_new();
    enum { MAXLIVE = 4000 };
    live_block *live = calloc(MAXLIVE, sizeof *live);
    size_t nlive = 0, peak = 0, cur = 0;
    for (int step = 0; step < 200000; step++) {
        uint64_t r = rnd();
        bool grow = nlive == 0 || (nlive < MAXLIVE && (r & 3) != 0 && ((step / 20000) % 2 == 0));
        if (!grow && (step / 20000) % 2 == 1 && nlive < MAXLIVE / 8)
            grow = (r & 1);
        if (grow) {
            size_t n = (r >> 8) % 64 == 0 ? (r >> 16) % 6000 : (r >> 16) % 600;
            bool object = (r >> 4) & 1;
            void *p;
            if (object) {
                rc_head *o = rc__alloc_object(h, n, NULL);
                assert_non_null(o);
                o->tw |= 0x20;
                p = o;
            } else {
                p = rc_alloc(h, n);
                assert_non_null(p);
                memset(p, 0x5A, n);
            }
            live[nlive++] = (live_block){p, n, object};
            cur += class_bytes(object ? n + sizeof(rc_head) : n);
        } else if ((r >> 40) % 8 == 0 && !live[(r >> 20) % nlive].object) {
            live_block *b = &live[(r >> 20) % nlive];
            size_t n = (r >> 30) % 2000;
            void *q = rc_realloc(h, b->p, n);
            assert_non_null(q);
            cur -= class_bytes(b->n);
            cur += class_bytes(n);
            b->p = q;
            b->n = n;
        } else {
            size_t i = (r >> 20) % nlive;
            cur -= class_bytes(live[i].object ? live[i].n + sizeof(rc_head) : live[i].n);
            if (live[i].object)
                rc__free_object(h, live[i].p);
            else
                rc_free(h, live[i].p);
            live[i] = live[--nlive];
        }
        if (cur > peak)
            peak = cur;
        if (step % 2000 == 0) {
            expect_stats(h, live, nlive);
            rc_memory_info mi;
            rc_heap_memory(h, &mi);
            assert_int_equal(mi.peak, peak);
        }
    }
    expect_stats(h, live, nlive);
    rc_heap_reset_peak(h);
    rc_memory_info mi;
    rc_heap_memory(h, &mi);
    assert_int_equal(mi.peak, mi.requested);
    while (nlive) {
        live_block *b = &live[--nlive];
        if (b->object)
            rc__free_object(h, b->p);
        else
            rc_free(h, b->p);
    }
    expect_stats(h, live, 0);
    rc_heap_memory(h, &mi);
    assert_true(mi.arenas <= 1);         /* arena_spare = 1; the others decay outside the tables */
    assert_true(mi.os_bytes <= (1 + RC_DECAY_MIN) * RC_ARENA_SIZE);
    rc_heap_trim(h);
    rc_heap_memory(h, &mi);
    assert_true(mi.os_bytes <= RC_ARENA_SIZE);
    free(live);
    heap_free(h);
}

/* Rounds that fill several arenas and empty the heap: every round ends
 * with at most arena_spare empty arenas kept (plus up to RC_DECAY_MIN
 * decaying, with nothing left in use, which rc_heap_trim returns), the
 * books check out, and with arena_spare = 0 no arena survives a round. */
static void test_spare_arenas(void **state)
{
    (void)state;
    for (size_t spare = 0; spare <= 2; spare++) {
        rc_heap *h = heap_with(spare, 0, 0, false);
        enum { N = 20000 };
        void **v = malloc(N * sizeof *v);
        for (int round = 0; round < 6; round++) {
            for (int i = 0; i < N; i++) {
                size_t n = 16 + rnd() % 500;
                v[i] = round % 2 ? rc_alloc(h, n) : (void *)rc__alloc_object(h, n, NULL);
                assert_non_null(v[i]);
                if (round % 2 == 0)
                    ((rc_head *)v[i])->tw |= 0x60;
            }
            assert_int_equal(rc__alloc_check(h), 0);
            for (int i = N - 1; i >= 0; i--) {
                if (round % 2)
                    rc_free(h, v[i]);
                else
                    rc__free_object(h, v[i]);
            }
            assert_int_equal(rc__alloc_check(h), 0);
            rc_memory_info mi;
            rc_heap_memory(h, &mi);
            assert_int_equal(mi.requested, 0);
            assert_true(mi.arenas <= spare);
            assert_true(mi.os_bytes <= (spare + (spare ? RC_DECAY_MIN : 0)) * RC_ARENA_SIZE);
            rc_heap_trim(h);
            rc_heap_memory(h, &mi);
            assert_true(mi.os_bytes <= spare * RC_ARENA_SIZE);
        }
        free(v);
        heap_free(h);
    }
}

/* Seed 001's garbage: a list that holds itself and a list of n fresh ints
 * (about n * 32 bytes of arenas), which only a collection frees. */
static void *ints_cycle(rc_heap *h, size_t n)
{
    void *l = rc_list_new(h, n), *holder = rc_list_new(h, 2);
    assert_non_null(l);
    assert_non_null(holder);
    for (size_t i = 0; i < n; i++) {
        void *x = rc_int_from(h, 1000 + (int64_t)i);
        assert_non_null(x);
        assert_int_equal(rc_list_append(l, x), 0);
        rc_decref(x);
    }
    rc_list_append(holder, l);
    rc_list_append(holder, holder);
    rc_decref(l);
    return holder;
}

/* A collection that frees many arenas (2.5 million ints) takes them out of
 * the allocator's tables at once, and out of the process as soon as the
 * unmapper's thread has run; rc_heap_trim waits for it. */
static void test_bulk_release_goes_back_through_the_unmapper(void **state)
{
    (void)state;
    rc_heap *h = heap_with(1, 0, 0, false);
    size_t before = rc__os_rss_bytes();
    void *l = ints_cycle(h, 2500000);
    size_t full = rc__os_rss_bytes();
    rc_decref(l);
    assert_int_equal(rc_gc_collect(h, 2), 2);
    rc_memory_info mi;
    rc_heap_memory(h, &mi);
    assert_true(mi.arenas <= 1);
    assert_int_equal(rc__alloc_state(h)->ndoomed, 0);
    assert_non_null(rc__alloc_state(h)->unmapper);           /* 80 MB were worth a thread */
    rc_heap_trim(h);
    size_t after = rc__os_rss_bytes();
    print_message("rss: before %zu MiB, with the list %zu MiB, after %zu MiB\n", before >> 20, full >> 20,
                  after >> 20);
#ifndef RC_ASAN
    assert_true(full - before >= (size_t)24 << 20);
    assert_true(after < full - ((size_t)20 << 20));
#endif
    rc_decref(ints_cycle(h, 1000));                 /* a small one goes back without it */
    assert_int_equal(rc_gc_collect(h, 2), 2);
    assert_int_equal(rc_heap_check(h), 0);
    heap_free(h);
}

static const rc_type blob_type = {.name = "blob", .size = 496};

/* Fills about `arenas` arenas with untracked objects of 512-byte blocks
 * and frees them by reference count. */
static void fill_and_drop(rc_heap *h, size_t arenas)
{
    size_t n = arenas * (RC_ARENA_SIZE / 512);
    void **v = malloc(n * sizeof *v);
    assert_non_null(v);
    for (size_t i = 0; i < n; i++)
        assert_non_null(v[i] = rc_new(h, &blob_type));
    for (size_t i = 0; i < n; i++)
        rc_decref(v[i]);
    free(v);
}

static size_t arenas_of(rc_heap *h)
{
    rc_memory_info mi;
    rc_heap_memory(h, &mi);
    return mi.arenas;
}

/* A pool taken again long after its arena last had one given back (more
 * than RC_RECARVE_AFTER pools since) is laid out again and hands out its
 * blocks in address order, not in the reverse of the order in which its
 * last objects died; pools given back recently keep their free lists. */
static const rc_type cell_type = {.name = "cell", .size = 16};

static void test_pools_taken_late_hand_out_in_address_order(void **state)
{
    (void)state;
    rc_heap *h = rc_heap_new(NULL);
    assert_non_null(h);
    enum { PER_POOL = RC_POOL_SIZE / 32, N = 4 * RC_RECARVE_AFTER * PER_POOL };   /* 32-byte blocks */
    void **v = malloc(N * sizeof *v);
    assert_non_null(v);
    for (size_t i = 0; i < N; i++)
        assert_non_null(v[i] = rc_new(h, &cell_type));
    for (size_t i = 0; i < N; i++)         /* oldest first: each pool's list ends up descending */
        rc_decref(v[i]);
    size_t ascending = 0;
    for (size_t i = 0; i < N; i++) {
        assert_non_null(v[i] = rc_new(h, &cell_type));
        ascending += i > 0 && (char *)v[i] > (char *)v[i - 1];
    }
    assert_true(ascending > N / 2);
    for (size_t i = 0; i < N; i++)
        rc_decref(v[i]);
    free(v);
    assert_int_equal(rc_heap_check(h), 0);
    rc_heap_free(h);
}

/* A heap that falls from a peak of RC_PEAK_MIN arenas or more to an eighth
 * of it gives its spare (and decaying) arenas back at the next full
 * collection, whether the peak died by reference count or in the
 * collection, and shrinks the peak's arena table and doomed list; a heap
 * that never grew that far keeps its spare across full collections, and
 * so does one whose peak fell before: it starts again. */
static void test_a_fall_from_a_peak_gives_the_spares_back(void **state)
{
    (void)state;
    rc_heap *h = heap_with(1, 0, 0, false);
    fill_and_drop(h, 4);
    rc_gc_collect(h, 2);
    assert_true(arenas_of(h) >= 1);                  /* small: the spare stays */
    fill_and_drop(h, 2 * RC_PEAK_MIN);
    assert_true(arenas_of(h) >= 1);
    rc_gc_collect(h, 2);
    assert_int_equal(arenas_of(h), 0);               /* fallen: nothing stays */
    assert_int_equal(rc__arenas_decaying(rc__alloc_state(h)), 0);
    assert_true(rc__alloc_state(h)->arenas_cap <= 16);   /* nor the peak's table */
    fill_and_drop(h, 4);
    rc_gc_collect(h, 2);
    assert_true(arenas_of(h) >= 1);                  /* the peak started again */
    rc_decref(ints_cycle(h, 40 * RC_ARENA_SIZE / 32));
    assert_int_equal(rc_gc_collect(h, 2), 2);
    assert_int_equal(arenas_of(h), 0);
    assert_null(rc__alloc_state(h)->doomed);
    assert_int_equal(rc__alloc_check(h), 0);
    assert_int_equal(rc_heap_check(h), 0);
    heap_free(h);
}

/* How many of h's arenas start where the one before them ends. */
static size_t adjacent_arenas(rc_heap *h)
{
    struct rc_alloc_state *st = rc__alloc_state(h);
    size_t n = 0;
    for (size_t i = 1; i < st->narenas; i++)
        n += st->arenas[i]->base == st->arenas[i - 1]->base + RC_ARENA_SIZE;
    return n;
}

/* With arena_huge, a big heap's arenas beyond the first RC_REGION_FROM are
 * cut one after the other from huge-page regions, and a collection gives
 * them back as a small-page heap's; without it no region is mapped. */
static void test_huge_arenas_come_from_regions(void **state)
{
    (void)state;
    rc_config cfg;
    rc_config_default(&cfg);
    cfg.arena_huge = true;
    rc_heap *h = rc_heap_new(&cfg);
    assert_non_null(h);
    void *l = ints_cycle(h, 2500000);
    size_t full = rc__os_rss_bytes();
    struct rc_alloc_state *st = rc__alloc_state(h);
    assert_non_null(st->region);
    assert_true(st->narenas > RC_REGION_FROM + 8);
    /* the first arena of each region may follow no other */
    size_t regions = st->narenas * RC_ARENA_SIZE / RC_REGION_SIZE + 1;
    assert_true(adjacent_arenas(h) >= st->narenas - RC_REGION_FROM - regions);
    assert_int_equal(rc_heap_check(h), 0);
    rc_decref(l);
    assert_int_equal(rc_gc_collect(h, 2), 2);
    rc_heap_trim(h);
    rc_memory_info mi;
    rc_heap_memory(h, &mi);
    assert_true(mi.arenas <= 1);
    size_t after = rc__os_rss_bytes();
    print_message("rss: with the list %zu MiB, after %zu MiB\n", full >> 20, after >> 20);
#ifndef RC_ASAN
    assert_true(after < full - ((size_t)64 << 20));   /* the 80 MB of ints went back */
#endif
    rc_decref(ints_cycle(h, 2500000));             /* the region's rest is cut first */
    assert_int_equal(rc_gc_collect(h, 2), 2);
    assert_int_equal(rc_heap_check(h), 0);
    heap_free(h);

    h = heap_new();
    rc_decref(ints_cycle(h, 2500000));
    assert_null(rc__alloc_state(h)->region);
    assert_int_equal(rc_gc_collect(h, 2), 2);
    heap_free(h);
}

/* A forked child has no unmapper thread: it unmaps what it gives back
 * itself, and its heap frees without waiting for a thread that is not
 * there. */
static void test_bulk_release_in_a_forked_child(void **state)
{
    (void)state;
    rc_heap *h = heap_with(1, 0, 0, false);
    rc_decref(ints_cycle(h, 2500000));
    rc_gc_collect(h, 2);                            /* the parent's unmapper starts */
    assert_non_null(rc__alloc_state(h)->unmapper);
    void *l = ints_cycle(h, 2500000);
    fflush(NULL);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        rc_decref(l);
        bool ok = rc_gc_collect(h, 2) == 2;
        rc_memory_info mi;
        rc_heap_memory(h, &mi);
        ok = ok && mi.arenas <= 1 && rc__arenas_decaying(rc__alloc_state(h)) == 0 && rc_heap_check(h) == 0;
        rc_heap_free(h);
        _exit(ok ? 0 : 1);
    }
    int status = 0;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
    rc_decref(l);
    assert_int_equal(rc_gc_collect(h, 2), 2);
    heap_free(h);
}

/* A heap that fell from a peak asks its unmapper to trim malloc after the
 * arenas it was handed: the request wakes the thread even with nothing
 * queued, and rc__os_unmapper_wait waits for the trim as for the ranges
 * (without the wake-up the first wait never returns).  A forked child has
 * no thread: it is refused, and the caller trims itself. */
static void test_the_unmapper_trims_when_asked(void **state)
{
    (void)state;
    rc__os_unmapper *u = rc__os_unmapper_new();
    assert_non_null(u);
    assert_true(rc__os_unmap_later_trim(u));
    rc__os_unmapper_wait(u);
    char *p = rc__os_map(RC_ARENA_SIZE, RC_ARENA_SIZE);
    assert_non_null(p);
    memset(p, 1, RC_ARENA_SIZE);
    assert_true(rc__os_unmap_later(u, p, RC_ARENA_SIZE));
    assert_true(rc__os_unmap_later_trim(u));
    rc__os_unmapper_wait(u);
    fflush(NULL);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0)
        _exit(rc__os_unmap_later_trim(u) ? 1 : 0);
    int status = 0;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
    rc__os_unmapper_free(u);
}

static long minor_faults(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_minflt;
}

/* `arenas` arenas' worth of untracked objects, held. */
static void **hold_arenas(rc_heap *h, size_t arenas)
{
    void **v = malloc(arenas * (RC_ARENA_SIZE / 512) * sizeof *v);
    assert_non_null(v);
    for (size_t i = 0; i < arenas * (RC_ARENA_SIZE / 512); i++)
        assert_non_null(v[i] = rc_new(h, &blob_type));
    return v;
}

static void drop_held(void **v, size_t arenas)
{
    for (size_t i = 0; i < arenas * (RC_ARENA_SIZE / 512); i++)
        rc_decref(v[i]);
    free(v);
}

/* Arenas emptied by reference count decay: the next ones the heap needs
 * are those, resident, with no page to fault in; at most as many as are
 * in use (plus RC_DECAY_MIN) are kept, they count in os_bytes, and they go
 * back to the OS RC_DECAY_NS later with the program idle -- or at once on
 * rc_heap_trim. */
static void test_emptied_arenas_decay(void **state)
{
    (void)state;
    rc_heap *h = heap_new();
    struct rc_alloc_state *st = rc__alloc_state(h);
    void **keep = hold_arenas(h, 8);
    long faults = minor_faults();
    fill_and_drop(h, 6);
    long fresh = minor_faults() - faults;
    size_t decaying = rc__arenas_decaying(st);
    assert_true(decaying >= 4 * RC_ARENA_SIZE);
    rc_memory_info mi;
    rc_heap_memory(h, &mi);
    assert_int_equal(mi.os_bytes, mi.arenas * RC_ARENA_SIZE + decaying);
    faults = minor_faults();
    fill_and_drop(h, 6);
    long again = minor_faults() - faults;
    print_message("page faults filling 6 arenas: %ld fresh, %ld from decaying ones\n", fresh, again);
    assert_true(again * 3 < fresh);
    assert_int_equal(rc__alloc_check(h), 0);

    assert_true(decayed(st));                         /* gone, with no call giving them back */

    drop_held(keep, 8);
    fill_and_drop(h, 20);                             /* nothing in use after */
    assert_true(rc__arenas_decaying(st) <= RC_DECAY_MIN * RC_ARENA_SIZE);
    decaying = rc__arenas_decaying(st);
    assert_int_equal(rc_heap_trim(h), decaying);
    assert_int_equal(rc__arenas_decaying(st), 0);
    heap_free(h);
}

/* A forked child has no unmapper thread to give decaying arenas back on
 * time: its first use of the unmapper unmaps those its parent had, and
 * what it empties itself goes back at once. */
static void test_a_forked_child_gives_decaying_arenas_back(void **state)
{
    (void)state;
    rc_heap *h = heap_new();
    struct rc_alloc_state *st = rc__alloc_state(h);
    void **keep = hold_arenas(h, 8);
    fill_and_drop(h, 6);
    size_t decaying = rc__arenas_decaying(st);
    assert_true(decaying >= 4 * RC_ARENA_SIZE);
    fflush(NULL);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        size_t before = rc__os_rss_bytes();
        bool ok = rc__arenas_decaying(st) == 0;
        size_t after = rc__os_rss_bytes();
        fill_and_drop(h, 6);
        ok = ok && rc__arenas_decaying(st) == 0 && after + decaying / 2 <= before && rc_heap_check(h) == 0;
        _exit(ok ? 0 : 1);
    }
    int status = 0;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
    drop_held(keep, 8);
    heap_free(h);
}

static void test_os_gets_memory_back(void **state)
{
    (void)state;
    enum { N = 4000000 };
    rc_heap *h = heap_with(1, 0, 0, false);
    rc_head **objs = malloc(N * sizeof *objs);
    assert_non_null(objs);
    memset(objs, 0, N * sizeof *objs);   /* resident before the baseline */
    size_t before = rc__os_rss_bytes();
    for (size_t i = 0; i < N; i++) {
        objs[i] = rc__alloc_object(h, 32, NULL);
        assert_non_null(objs[i]);
        objs[i]->tw = 0x30;
    }
    size_t full = rc__os_rss_bytes();
    assert_true(full > before);
    /* Free in a scattered order so pools empty late, as real programs do. */
    for (size_t s = 0; s < 7; s++)
        for (size_t i = s; i < N; i += 7)
            rc__free_object(h, objs[i]);
    size_t after = rc__os_rss_bytes();
    size_t took = full - before;
    size_t back = full > after ? full - after : 0;
    print_message("rss: before %zu MiB, with 4M objects %zu MiB, after free %zu MiB (%.1f%% back)\n",
                  before >> 20, full >> 20, after >> 20, 100.0 * (double)back / (double)took);
#ifdef RC_ASAN
    /* Debug builds poison freed blocks for AddressSanitizer, whose shadow
     * pages (an eighth of what was poisoned) stay resident: RSS measures
     * the sanitizer there, not the allocator. */
    print_message("AddressSanitizer build: the 90%% figure is checked in plain builds\n");
#else
    assert_true(back * 10 >= took * 9);
#endif
    rc_memory_info mi;
    rc_heap_memory(h, &mi);
    assert_int_equal(mi.arenas, 1);
    assert_true(mi.os_bytes <= (1 + RC_DECAY_MIN) * RC_ARENA_SIZE);
    assert_true(decayed(rc__alloc_state(h)));   /* the program idle */
    rc_heap_memory(h, &mi);
    assert_int_equal(mi.os_bytes, RC_ARENA_SIZE);
    assert_int_equal(rc_heap_trim(h), 0);
    free(objs);
    heap_free(h);
}

static void test_fault_injection(void **state)
{
    (void)state;
    /* From the configuration: the 5th attempt fails, the rest work. */
    rc_heap *h = heap_with(1, 0, 5, false);
    void *p[10];
    for (int i = 0; i < 10; i++) {
        p[i] = i % 2 ? rc_alloc(h, 40) : (void *)rc__alloc_object(h, 24, NULL);
        assert_int_equal(rc_heap_alloc_count(h), (uint64_t)i + 1);
        if (i == 4) {
            assert_null(p[i]);
            assert_int_equal(last_code(h), RC_ENOMEM);
        } else {
            assert_non_null(p[i]);
        }
    }
    /* At run time, with every attempt after the Nth failing too; realloc
     * leaves the block as it was. */
    uint64_t n0 = rc_heap_alloc_count(h);
    rc_heap_set_fail_alloc(h, n0 + 2, true);
    void *q = rc_alloc(h, 3000);
    assert_non_null(q);
    memset(q, 0x77, 3000);
    assert_null(rc_realloc(h, q, 9000));
    assert_null(rc_realloc(h, p[1], 400));
    assert_null(rc_alloc(h, 16));
    assert_null(rc__alloc_object(h, 5000, NULL));
    assert_int_equal(rc_heap_alloc_count(h), n0 + 5);
    for (int i = 0; i < 3000; i++)
        assert_int_equal(((unsigned char *)q)[i], 0x77);
    rc_heap_set_fail_alloc(h, 0, false);
    q = rc_realloc(h, q, 9000);
    assert_non_null(q);
    assert_int_equal(((unsigned char *)q)[2999], 0x77);
    rc_free(h, q);
    for (int i = 0; i < 10; i++) {
        if (i == 4)
            continue;
        if (i % 2)
            rc_free(h, p[i]);
        else
            rc__free_object(h, p[i]);
    }
    rc_memory_info mi;
    rc_heap_memory(h, &mi);
    assert_int_equal(mi.requested, 0);
    heap_free(h);
}

/* Sweeps the failing attempt over a small workload: each N fails exactly
 * the Nth allocation, the others succeed, and the books balance. */
static void test_fault_injection_sweep(void **state)
{
    (void)state;
    for (uint64_t nth = 1; nth <= 60; nth++) {
        rc_heap *h = heap_with(0, 0, nth, false);
        void *blocks[60];
        for (int i = 0; i < 60; i++) {
            size_t n = (size_t)(i * 97) % 1500;
            blocks[i] = i % 3 ? rc_alloc(h, n) : (void *)rc__alloc_object(h, n, NULL);
            assert_int_equal(blocks[i] == NULL, (uint64_t)i + 1 == nth);
        }
        for (int i = 0; i < 60; i++) {
            if (!blocks[i])
                continue;
            if (i % 3)
                rc_free(h, blocks[i]);
            else
                rc__free_object(h, blocks[i]);
        }
        rc_memory_info mi;
        rc_heap_memory(h, &mi);
        assert_int_equal(mi.requested, 0);
        assert_int_equal(mi.arenas, 0);
        heap_free(h);
    }
}

/* A small workload of objects, links, dead cycles, buffers and a
 * collection that tolerates failed allocations; returns how many failed. */
static int workload(rc_heap *h)
{
    int failed = 0;
    node *keep[16] = {0};
    void *buf = NULL;
    for (int i = 0; i < 16; i++) {
        node *a = rc_new(h, &node_type), *b = rc_new(h, &node_type);
        failed += !a + !b;
        if (a && b) {                     /* a dead two-node cycle */
            node_set(a, 0, b);
            node_set(b, 0, a);
        }
        RC_CLEAR(a);
        RC_CLEAR(b);
        keep[i] = rc_new_var(h, &node_type, sizeof(node) + (size_t)i * 100);
        failed += !keep[i];
        if (i && keep[i] && keep[i - 1])
            node_set(keep[i], 1, keep[i - 1]);
        void *grown = rc_realloc(h, buf, (size_t)(i + 1) * 300);
        if (grown) {
            memset(grown, i, (size_t)(i + 1) * 300);
            buf = grown;
        } else {
            failed++;
        }
        if (i == 8)
            rc_gc_collect(h, 2);
    }
    rc_free(h, buf);
    for (int i = 15; i >= 0; i--)
        RC_CLEAR(keep[i]);
    rc_gc_collect(h, 2);
    return failed;
}

/* Fails each allocation of the workload in turn: exactly that attempt
 * fails with RC_ENOMEM, nothing leaks, the books stay consistent and the
 * heap works afterwards; with fail_alloc_after every later one fails too. */
static void test_fault_injection_workload_sweep(void **state)
{
    (void)state;
    rc_heap *h = heap_new();
    rc_gc_disable(h);
    assert_int_equal(workload(h), 0);
    uint64_t total = rc_heap_alloc_count(h);
    assert_true(total >= 64);
    heap_free(h);
    for (int after = 0; after < 2; after++)
        for (uint64_t nth = 1; nth <= total; nth++) {
            h = heap_with(1, 0, nth, after);
            rc_gc_disable(h);
            int failed = workload(h);
            assert_int_equal(failed, after ? (int)(total - nth + 1) : 1);
            assert_int_equal(rc_last_error_code(h), RC_ENOMEM);
            assert_int_equal(rc__alloc_check(h), 0);
            rc_memory_info mi;
            rc_heap_memory(h, &mi);
            assert_int_equal(mi.requested, 0);
            assert_int_equal(mi.live_objects, 0);
            rc_heap_set_fail_alloc(h, 0, false);
            assert_int_equal(workload(h), 0);
            assert_int_equal(rc__alloc_check(h), 0);
            heap_free(h);
        }
}

/* The checker is not vacuous: a write into a freed block's link is caught. */
static void test_check_catches_corruption(void **state)
{
    (void)state;
    rc_heap *h = heap_new();
    char *a = rc_alloc(h, 64), *b = rc_alloc(h, 64);
    rc_free(h, a);
    assert_int_equal(rc__alloc_check(h), 0);
    char *saved = *(char **)(void *)(a + 8);
    *(char **)(void *)(a + 8) = (char *)(uintptr_t)0x1230;   /* a use after free */
    assert_int_equal(rc__alloc_check(h), RC_EINVAL);
    assert_non_null(strstr(rc_last_error(h), "free-list entry"));
    *(char **)(void *)(a + 8) = saved;
    assert_int_equal(rc__alloc_check(h), 0);
    rc_free(h, b);
    heap_free(h);
}

/* rc_new over max_bytes: a full collection frees the dead cycles, then
 * the allocation fits; when nothing is left to collect rc_new returns NULL
 * with RC_ENOMEM, live objects are untouched and the heap keeps working. */
static void test_cap_collects_then_fails(void **state)
{
    (void)state;
    enum { CAP = 256 * 1024 };
    rc_heap *h = heap_with(1, CAP, 0, false);
    rc_gc_disable(h);                    /* only the cap may collect */
    size_t collections0 = rc_gc_get_stats(h, 2).collections;
    /* Dead two-node cycles filling about half the cap. */
    for (int i = 0; i < 1000; i++) {
        node *a = node_new(h, &node_type, i), *b = node_new(h, &node_type, -i);
        assert_non_null(a);
        assert_non_null(b);
        node_set(a, 0, b);
        node_set(b, 0, a);
        rc_decref(b);
        rc_decref(a);
    }
    rc_memory_info mi;
    rc_heap_memory(h, &mi);
    assert_true(mi.requested > CAP / 4);
    assert_int_equal(rc_gc_get_stats(h, 2).collections, collections0);
    /* Live nodes until the cap refuses. */
    enum { MAXKEEP = CAP / 32 };
    node **keep = calloc(MAXKEEP, sizeof *keep);
    size_t kept = 0;
    while (kept < MAXKEEP && (keep[kept] = rc_new(h, &node_type)))
        keep[kept]->id = (long)kept, kept++;
    assert_true(kept < MAXKEEP);
    assert_int_equal(last_code(h), RC_ENOMEM);
    assert_non_null(strstr(rc_last_error(h), "max_bytes"));
    /* One collection freed the cycles; the failing attempt collected again. */
    assert_int_equal(rc_gc_get_stats(h, 2).collections, collections0 + 2);
    assert_int_equal(rc_gc_get_stats(h, 2).collected, 2000);
    rc_heap_memory(h, &mi);
    assert_true(mi.requested <= CAP);
    assert_true(mi.requested + 64 > CAP);   /* a node's block is 64 bytes */
    assert_int_equal(mi.live_objects, kept);
    for (size_t i = 0; i < kept; i++) {
        assert_int_equal(keep[i]->id, (long)i);
        assert_int_equal(rc_refcount(keep[i]), 1);
    }
    /* Room again after a free. */
    rc_decref(keep[--kept]);
    keep[kept] = node_new(h, &node_type, (long)kept);
    assert_non_null(keep[kept]);
    kept++;
    while (kept)
        rc_decref(keep[--kept]);
    free(keep);
    rc_heap_memory(h, &mi);
    assert_int_equal(mi.requested, 0);
    heap_free(h);
}

static void test_is_object_body(void **state)
{
    (void)state;
    rc_heap *h = heap_new(), *other = heap_new();
    rc_head *small = rc__alloc_object(h, 24, NULL), *large = rc__alloc_object(h, 4000, NULL);
    small->tw |= 0x40;
    large->tw |= 0x40;
    void *raw = rc_alloc(h, 32);
    rc_head *foreign = rc__alloc_object(other, 24, NULL);
    foreign->tw |= 0x40;
    assert_true(rc__is_object_body(h, rc__body(small)));
    assert_true(rc__is_object_body(h, rc__body(large)));
    assert_false(rc__is_object_body(h, small));
    assert_false(rc__is_object_body(h, (char *)rc__body(small) + 16));
    assert_false(rc__is_object_body(h, raw));
    assert_false(rc__is_object_body(h, rc__body(foreign)));
    assert_false(rc__is_object_body(h, NULL));
    assert_false(rc__is_object_body(h, &state));
    int on_stack[8];
    assert_false(rc__is_object_body(h, on_stack));
    rc__free_object(h, small);
    rc__free_object(h, large);
    assert_false(rc__is_object_body(h, rc__body(small)));
    rc_free(h, raw);
    rc__free_object(other, foreign);
    heap_free(h);
    heap_free(other);
}

/* Objects freed during a walk stay readable until the walk ends. */
static void test_free_during_walk(void **state)
{
    (void)state;
    rc_heap *h = heap_with(0, 0, 0, false);
    enum { N = 5000 };
    void **objs = malloc(N * sizeof *objs);
    for (int i = 0; i < N; i++) {
        rc_head *o = rc__alloc_object(h, i % 10 == 0 ? 2000 : 40, NULL);
        o->tw |= 0x50;
        objs[i] = o;
    }
    assert_int_equal(walk_objects(h, objs, N), N);
    rc_span_iter it;
    rc_span s;
    size_t seen = 0;
    rc__span_iter_init(h, &it);
    while (rc__span_next(&it, &s))
        for (size_t i = 0; i < s.count; i++) {
            rc_head *o = (rc_head *)(void *)(s.start + i * s.stride);
            if (o->tw) {
                seen++;
                rc__free_object(h, o);   /* and the walk goes on over it */
            }
        }
    assert_int_equal(seen, N);
    rc_memory_info mi;
    rc_heap_memory(h, &mi);
    assert_int_equal(mi.live_objects, 0);
    assert_int_equal(mi.arenas, 0);
    assert_int_equal(mi.os_bytes, 0);
    free(objs);
    heap_free(h);
}

static size_t hook_allocs, hook_frees, hook_bytes;
static void on_alloc(rc_heap *h, const void *p, size_t n, const rc_site *site)
{
    (void)h, (void)p, (void)site;
    hook_allocs++;
    hook_bytes += n;
}
static void on_free(rc_heap *h, const void *p)
{
    (void)h, (void)p;
    hook_frees++;
}

static void test_observer_hooks(void **state)
{
    (void)state;
    rc_heap *h = heap_new();
    rc__alloc_observe(h, (rc_alloc_observers){on_alloc, on_free});
    void *a = rc_alloc(h, 10);
    rc_head *o = rc__alloc_object(h, 30, NULL);
    a = rc_realloc(h, a, 5000);
    assert_int_equal(hook_allocs, 3);
    assert_int_equal(hook_frees, 1);
    assert_int_equal(hook_bytes, 10 + 46 + 5000);
    rc_free(h, a);
    rc__free_object(h, o);
    assert_int_equal(hook_frees, 3);
    heap_free(h);
}

static void test_print_stats(void **state)
{
    (void)state;
    rc_heap *h = heap_new();
    void *b[100];
    for (int i = 0; i < 100; i++)
        b[i] = rc_alloc(h, 48);
    void *big = rc_alloc(h, 10000);
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    rc_heap_print_stats(h, f);
    fclose(f);
    assert_non_null(strstr(text, "Small block threshold = 1024, in 40 size classes."));
    assert_non_null(strstr(text, "    2     48           1             100           156           4800\n"));
    assert_non_null(strstr(text, "# arenas allocated current              =                     1"));
    assert_non_null(strstr(text, "# large raw buffers (malloc)            =                     1"));
    free(text);
    for (int i = 0; i < 100; i++)
        rc_free(h, b[i]);
    rc_free(h, big);
    heap_free(h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_alignment_and_zero_fill),
        cmocka_unit_test(test_new_object_header_and_zero_fill),
        cmocka_unit_test(test_realloc_keeps_contents),
        cmocka_unit_test(test_huge_blocks),
        cmocka_unit_test(test_freed_huge_pages_are_kept),
        cmocka_unit_test(test_huge_pages_given_back),
        cmocka_unit_test(test_random_sequences_keep_stats_exact),
        cmocka_unit_test(test_spare_arenas),
        cmocka_unit_test(test_a_fall_from_a_peak_gives_the_spares_back),
        cmocka_unit_test(test_pools_taken_late_hand_out_in_address_order),
        cmocka_unit_test(test_emptied_arenas_decay),
        cmocka_unit_test(test_a_forked_child_gives_decaying_arenas_back),
        cmocka_unit_test(test_os_gets_memory_back),
        cmocka_unit_test(test_fault_injection),
        cmocka_unit_test(test_fault_injection_sweep),
        cmocka_unit_test(test_fault_injection_workload_sweep),
        cmocka_unit_test(test_check_catches_corruption),
        cmocka_unit_test(test_cap_collects_then_fails),
        cmocka_unit_test(test_is_object_body),
        cmocka_unit_test(test_free_during_walk),
        cmocka_unit_test(test_observer_hooks),
        cmocka_unit_test(test_print_stats),
        cmocka_unit_test(test_bulk_release_goes_back_through_the_unmapper),
        cmocka_unit_test(test_huge_arenas_come_from_regions),
        cmocka_unit_test(test_bulk_release_in_a_forked_child),
        cmocka_unit_test(test_the_unmapper_trims_when_asked),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
