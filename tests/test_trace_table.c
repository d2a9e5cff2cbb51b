/* The tracer's building blocks (src/trace/trace_table.c, trace_tb.c, trace_maps.c):
 * the live-block table against a reference model under random adds and
 * removes, big sizes, alignment refusal; traceback interning; maps lookup. */
#include "../src/trace/trace_int.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

static rc__tmem mem = {rc__tmem_mmap, rc__tmem_munmap, 0};

enum { N = 30000 };
static uintptr_t addr[N];
static uint64_t size[N];
static uint32_t tbn[N];
static bool live[N];

static void test_table_matches_model(void **state)
{
    (void)state;
    rc__table t;
    rc__table_init(&t, &mem);
    srand(42);
    uint64_t current = 0, peak = 0;
    size_t n = 0;
    for (long step = 0; step < 1000000; step++) {
        int i = rand() % N;
        if (!live[i]) {
            /* addresses clustered like a heap's, with collisions in the hash */
            addr[i] = (uintptr_t)0x7f0000000000 + (uintptr_t)i * 48 * 16 + (uintptr_t)(rand() % 3) * 16;
            size[i] = rand() % 100 == 0 ? (uint64_t)5 << 32 : (uint64_t)(rand() % 5000);
            tbn[i] = (uint32_t)(rand() % RC__TB_MAX);
            assert_true(rc__table_add(&t, addr[i], size[i], tbn[i]));
            live[i] = true;
            n++;
            current += size[i];
            peak = current > peak ? current : peak;
        } else {
            assert_true(rc__table_remove(&t, addr[i]));
            assert_false(rc__table_remove(&t, addr[i]));
            live[i] = false;
            n--;
            current -= size[i];
            if (rand() % 3 == 0) {
                /* a free list handing the block straight back: the pending
                 * removal's slot is taken again */
                size[i] = (uint64_t)(rand() % 5000);
                tbn[i] = (uint32_t)(rand() % RC__TB_MAX);
                assert_true(rc__table_add_fast(&t, addr[i], size[i], tbn[i]));
                live[i] = true;
                n++;
                current += size[i];
                peak = current > peak ? current : peak;
            }
        }
        if (step % 99991 == 0)
            for (int k = 0; k < N; k++) {
                uint64_t s;
                uint32_t b;
                assert_int_equal(rc__table_get(&t, addr[k], &s, &b), live[k]);
                if (live[k]) {
                    assert_int_equal(s, size[k]);
                    assert_int_equal(b, tbn[k]);
                }
            }
    }
    assert_int_equal(t.len, n);
    assert_int_equal(t.current, current);
    assert_int_equal(t.peak, peak);
    /* at most 30 bytes of slots per live block, big-size list aside */
    assert_true((t.mask + 1) * sizeof(rc__slot) <= 30 * n || t.mask + 1 <= 1024);
    rc__table_destroy(&t);
    memset(live, 0, sizeof live);
}

static void test_table_refuses_unaligned_and_replaces(void **state)
{
    (void)state;
    rc__table t;
    rc__table_init(&t, &mem);
    assert_false(rc__table_add(&t, 0x1008, 10, 1));        /* not 16-aligned */
    assert_false(rc__table_add(&t, 0x1000, 10, RC__TB_MAX + 1));
    assert_true(rc__table_add(&t, 0x1000, 10, 1));
    assert_true(rc__table_add(&t, 0x1000, 30, 2));         /* same address again: replaced */
    assert_int_equal(t.len, 1);
    assert_int_equal(t.current, 30);
    assert_false(rc__table_remove(&t, 0x2000));
    rc__table_clear(&t);
    assert_int_equal(t.len, 0);
    assert_int_equal(t.current, 0);
    rc__table_destroy(&t);
}

static void test_tracebacks_interned(void **state)
{
    (void)state;
    rc__tbs s;
    rc__tbs_init(&s, &mem);
    uintptr_t f[8];
    for (uint32_t k = 0; k < 5000; k++) {
        for (int j = 0; j < 8; j++)
            f[j] = 0x400000 + k * 64 + (uintptr_t)j;
        assert_int_equal(rc__tbs_intern(&s, k % 2, f, 1 + k % 8), k);
    }
    for (uint32_t k = 0; k < 5000; k += 7) {
        for (int j = 0; j < 8; j++)
            f[j] = 0x400000 + k * 64 + (uintptr_t)j;
        assert_int_equal(rc__tbs_intern(&s, k % 2, f, 1 + k % 8), k);     /* found again */
        size_t n;
        bool site;
        const uintptr_t *w = rc__tbs_get(&s, k, &n, &site);
        assert_int_equal(n, 1 + k % 8);
        assert_int_equal(site, k % 2);
        assert_memory_equal(w, f, n * sizeof *w);
    }
    f[0] = 0x400000;
    assert_int_not_equal(rc__tbs_intern(&s, true, f, 1), rc__tbs_intern(&s, false, f, 1));
    assert_true(rc__tbs_bytes(&s) > 0);
    rc__tbs_destroy(&s);
}

static void test_maps_find_this_function(void **state)
{
    (void)state;
    rc__maps m;
    assert_int_equal(rc__maps_read(&m, &mem), 0);
    const rc__map *e = rc__maps_find(&m, (uintptr_t)test_maps_find_this_function);
    assert_non_null(e);
    assert_non_null(strstr(m.paths + e->path, "test_trace_table"));
    assert_null(rc__maps_find(&m, 16));
    rc__maps_free(&m, &mem);
    assert_int_equal(mem.bytes, 0);       /* every page given back */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_table_matches_model),
        cmocka_unit_test(test_table_refuses_unaligned_and_replaces),
        cmocka_unit_test(test_tracebacks_interned),
        cmocka_unit_test(test_maps_find_this_function),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
