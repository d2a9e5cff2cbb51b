/* dict: the compact ordered table, keys by value, errors, cycles, copies. */
#include "value_check.h"

#include <stdlib.h>

static void set_get_del_contains(void **state)
{
    (void)state;
    rc_heap *h = vc_heap();
    void *d = rc_dict_new(h), *k = rc_str_format(h, "a key"), *v = rc_list_new(h, 0);
    assert_int_equal(rc_dict_set(d, k, v), 0);
    assert_int_equal(rc_refcount(k), 2);
    assert_int_equal(rc_refcount(v), 2);
    void *k2 = rc_str_new(h, "a key");   /* another object, same text */
    assert_ptr_equal(rc_dict_get(d, k2), v);
    assert_int_equal(rc_dict_contains(d, k2), 1);
    assert_ptr_equal(rc_dict_get_str(d, "a key"), v);
    assert_null(rc_dict_get_str(d, "other"));
    assert_int_equal(rc_dict_set(d, k2, rc_none(h)), 0);   /* replaces the value, keeps the key */
    assert_int_equal(rc_refcount(v), 1);
    assert_int_equal(rc_dict_len(d), 1);
    assert_int_equal(rc_dict_del(d, k2), 0);
    assert_int_equal(rc_refcount(k), 1);
    assert_int_equal(rc_dict_del(d, k2), RC_ENOENT);
    assert_error(h, RC_ENOENT, "KeyError: 'a key'");
    assert_int_equal(rc_dict_contains(d, k2), 0);
    rc_dict_set(d, k, v);
    void *popped = rc_dict_pop(d, k2);
    assert_ptr_equal(popped, v);
    assert_int_equal(rc_refcount(v), 2);   /* ours + the one pop handed over */
    rc_decref(popped);
    assert_null(rc_dict_pop(d, k2));
    assert_error(h, RC_ENOENT, "KeyError: 'a key'");
    assert_int_equal(rc_dict_len(d), 0);
    rc_decref(k);
    rc_decref(k2);
    rc_decref(v);
    rc_decref(d);
    rc_heap_free(h);
}

static void numbers_compare_by_value_as_in_python(void **state)
{
    (void)state;
    rc_heap *h = vc_heap();
    void *d = rc_dict_new(h), *f = rc_float_from(h, 1.0), *big = rc_int_from(h, 1000000), *bigf = rc_float_from(h, 1e6);
    rc_dict_set(d, I(h, 1), S(h, "int"));
    rc_dict_set(d, f, S(h, "float"));       /* d[1.0] overwrites d[1] */
    rc_dict_set(d, rc_true(h), S(h, "bool"));
    rc_dict_set(d, big, rc_none(h));
    assert_int_equal(rc_dict_len(d), 2);
    assert_repr(d, "{1: 'bool', 1000000: None}");
    assert_ptr_equal(rc_dict_get(d, bigf), rc_none(h));
    void *objs[] = {d, f, big, bigf, S(h, "int"), S(h, "float"), S(h, "bool")};
    for (size_t i = 0; i < 7; i++) rc_decref(objs[i]);
    for (size_t i = 4; i < 7; i++) rc_decref(objs[i]);
    rc_heap_free(h);
}

/* Probes for k in d with an equal, distinct int; true when found with
 * value v, false when absent. */
static bool found_int(rc_heap *h, void *d, int64_t k, void *v)
{
    void *probe = I(h, k);
    void *got = rc_dict_get(d, probe);
    void *ref = NULL;
    assert_int_equal(rc_dict_get_ref(d, probe, &ref), got != NULL);
    assert_int_equal(rc_dict_contains(d, probe), got != NULL);
    rc_xdecref(ref);
    rc_decref(probe);
    assert_true(!got || got == v);
    return got != NULL;
}

/* A dict of ints that hash to their own value answers int lookups by the
 * hash alone; every other key -- -1 (hash -2), an int past 2^61 - 1 (its
 * hash is that of a small one), a float -- turns that off, through growth,
 * until the dict is cleared. */
static void int_keys_hashing_to_themselves_are_found_by_hash(void **state)
{
    (void)state;
    rc_heap *h = vc_heap();
    const int64_t past = ((int64_t)1 << 61) - 1 + 5;   /* hashes to 5 */
    int64_t others[] = {-1, past};
    for (size_t o = 0; o < 2; o++) {
        void *d = rc_dict_new(h), *v = S(h, "v"), *other = I(h, others[o]);
        assert_int_equal(rc_dict_set(d, other, v), 0);
        for (int64_t k = 0; k < 1000; k++) {
            void *key = I(h, k == 5 || k == 2 ? 1000 + k : k);   /* neither 5 nor -2 */
            assert_int_equal(rc_dict_set(d, key, v), 0);          /* the table grows past the other key */
            rc_decref(key);
        }
        assert_true(found_int(h, d, others[o], v));
        assert_false(found_int(h, d, o ? 5 : -2, v));            /* same hash, another int */
        assert_true(found_int(h, d, 999, v));
        assert_false(found_int(h, d, 5000, v));
        assert_int_equal(rc_dict_clear(d), 0);
        void *two = I(h, -2);
        assert_int_equal(rc_dict_set(d, two, v), 0);              /* exact ints alone again */
        assert_false(found_int(h, d, -1, v));
        assert_true(found_int(h, d, -2, v));
        rc_decref(two);
        rc_decref(other);
        rc_decref(v);
        rc_decref(d);
    }
    /* The edges: +-(2^61 - 2) hash to themselves, +-(2^61 - 1) to 0. */
    const int64_t top = ((int64_t)1 << 61) - 2;
    int64_t edges[] = {0, top, -top};
    for (size_t o = 0; o < 2; o++) {
        void *d = rc_dict_new(h), *v = S(h, "v");
        for (size_t i = 0; i < 3; i++) {
            void *key = I(h, edges[i]);
            assert_int_equal(rc_dict_set(d, key, v), 0);
            rc_decref(key);
        }
        assert_true(found_int(h, d, top, v));
        assert_true(found_int(h, d, -top, v));
        assert_false(found_int(h, d, o ? -top - 1 : top + 1, v));   /* hash 0, as the key 0 */
        void *past_top = I(h, o ? -top - 1 : top + 1);
        assert_int_equal(rc_dict_set(d, past_top, v), 0);           /* a new key, not the key 0 */
        assert_int_equal(rc_dict_len(d), 4);
        rc_decref(past_top);
        rc_decref(v);
        rc_decref(d);
    }
    void *d = rc_dict_new(h), *f = rc_float_from(h, 7.0), *v = S(h, "v");
    assert_int_equal(rc_dict_set(d, f, v), 0);
    assert_true(found_int(h, d, 7, v));
    rc_decref(f);
    rc_decref(v);
    rc_decref(d);
    rc_heap_free(h);
}

static void unhashable_keys_are_etype(void **state)
{
    (void)state;
    rc_heap *h = vc_heap();
    void *d = rc_dict_new(h), *l = rc_list_new(h, 0), *s = rc_set_new(h);
    assert_int_equal(rc_dict_set(d, l, l), RC_ETYPE);
    assert_error(h, RC_ETYPE, "unhashable type: 'list'");
    assert_int_equal(rc_dict_set(d, d, l), RC_ETYPE);
    assert_error(h, RC_ETYPE, "unhashable type: 'dict'");
    assert_int_equal(rc_dict_set(d, s, l), RC_ETYPE);
    assert_null(rc_dict_get(d, l));
    assert_int_equal(rc_last_error_code(h), RC_ETYPE);
    assert_int_equal(rc_dict_contains(d, l), RC_ETYPE);
    assert_int_equal(rc_dict_len(d), 0);
    assert_int_equal(rc_refcount(l), 1);
    assert_int_equal(rc_dict_set(l, l, l), RC_ETYPE);
    assert_error(h, RC_ETYPE, "expected dict, got list");
    rc_decref(d);
    rc_decref(l);
    rc_decref(s);
    rc_heap_free(h);
}

static void insertion_order_survives_deletes_and_growth(void **state)
{
    (void)state;
    rc_heap *h = vc_heap();
    void *d = rc_dict_new(h);
    const int n = 100000;   /* index widths 1, 2 and 4 bytes */
    for (int i = 0; i < n; i++) {
        void *k = rc_int_from(h, (int64_t)i * 7919 % n);
        assert_int_equal(rc_dict_set(d, k, k), 0);
        rc_decref(k);
    }
    assert_int_equal(rc_dict_len(d), n);
    for (int i = 0; i < n; i += 2) {
        void *k = rc_int_from(h, (int64_t)i * 7919 % n);
        assert_int_equal(rc_dict_del(d, k), 0);
        rc_decref(k);
    }
    size_t pos = 0, seen = 0;
    void *k, *v;
    while (rc_dict_next(d, &pos, &k, &v)) {
        int64_t x;
        rc_int_value(k, &x);
        assert_true(x == (int64_t)(2 * seen + 1) * 7919 % n);   /* still in insertion order */
        assert_ptr_equal(k, v);
        seen++;
    }
    assert_int_equal(seen, n / 2);
    void *again = rc_int_from(h, 0);
    rc_dict_set(d, again, again);   /* re-inserted: goes last */
    void *keys = rc_dict_keys(d);
    assert_int_equal(rc_equal(rc_list_get(keys, rc_list_len(keys) - 1), again), 1);
    for (int i = 0; i < n; i++) {
        void *q = rc_int_from(h, i);
        void *got = rc_dict_get(d, q);
        if (got) assert_int_equal(rc_equal(got, q), 1);
        rc_decref(q);
    }
    rc_decref(again);
    rc_decref(keys);
    rc_decref(d);
    rc_heap_free(h);
}

static void string_and_tuple_keys(void **state)
{
    (void)state;
    rc_heap *h = vc_heap();
    void *d = rc_dict_new(h);
    char buf[32];
    for (int i = 0; i < 5000; i++) {
        void *k = rc_str_format(h, "key-%d", i), *t = rc_tuple_pack(h, 2, k, rc_int_from(h, i % 200));
        rc_dict_set(d, k, t);
        rc_dict_set(d, t, k);
        rc_decref(k);
        rc_decref(t);
    }
    assert_int_equal(rc_dict_len(d), 10000);
    for (int i = 0; i < 5000; i += 97) {
        snprintf(buf, sizeof buf, "key-%d", i);
        void *t = rc_dict_get_str(d, buf);
        assert_non_null(t);
        void *probe = rc_tuple_pack(h, 2, rc_tuple_get(t, 0), rc_int_from(h, i % 200));
        void *back = rc_dict_get(d, probe);
        assert_non_null(back);
        assert_string_equal(rc_str_data(back), buf);
        rc_decref(probe);
    }
    rc_decref(d);
    rc_heap_free(h);
}

/* Colliding str keys at every index width: a slot's hash tag must never
 * hide a key, nor a deleted slot or another tag match one. */
static void str_keys_found_through_collisions_at_every_width(void **state)
{
    (void)state;
    rc_heap *h = vc_heap();
    void *d = rc_dict_new(h);
    const int n = 60000;   /* index widths 1, 2 and 4 bytes */
    for (int i = 0; i < n; i++) {
        void *k = rc_str_format(h, "k%d", i);
        assert_int_equal(rc_dict_set(d, k, k), 0);
        rc_decref(k);
        if (i % 1000 == 999 || i < 200)   /* lookups at each size on the way */
            for (int j = 0; j <= i; j += 1 + i / 50) {
                void *q = rc_str_format(h, "k%d", j), *miss = rc_str_format(h, "x%d", j);
                assert_int_equal(rc_equal(rc_dict_get(d, q), q), 1);
                assert_null(rc_dict_get(d, miss));
                rc_decref(q);
                rc_decref(miss);
            }
    }
    for (int i = 0; i < n; i += 3) {
        void *k = rc_str_format(h, "k%d", i);
        assert_int_equal(rc_dict_del(d, k), 0);
        rc_decref(k);
    }
    for (int i = 0; i < n; i++) {
        void *q = rc_str_format(h, "k%d", i);
        void *got = rc_dict_get(d, q);
        if (i % 3) assert_int_equal(rc_equal(got, q), 1);
        else assert_null(got);
        rc_decref(q);
    }
    assert_int_equal(rc_dict_len(d), n - (n + 2) / 3);
    rc_decref(d);
    rc_heap_free(h);
}

static void a_dict_whose_entry_refers_to_itself_is_collected(void **state)
{
    (void)state;
    rc_heap *h = vc_heap();
    size_t live = vc_live(h);
    void *d = rc_dict_new(h);
    rc_dict_set_str(d, "self", d);
    assert_repr(d, "{'self': {...}}");
    rc_decref(d);
    assert_int_equal(vc_live(h), live + 2);   /* the dict and its key */
    assert_int_equal(rc_gc_collect(h, 2), 1);
    assert_int_equal(vc_live(h), live);
    rc_heap_free(h);
}

static void iteration_views_and_mutation_check(void **state)
{
    (void)state;
    rc_heap *h = vc_heap();
    void *d = rc_dict_new(h);
    rc_dict_set_str(d, "a", I(h, 1));
    rc_dict_set_str(d, "b", I(h, 2));
    void *values = rc_dict_values(d), *items = rc_dict_items(d);
    assert_repr(values, "[1, 2]");
    assert_repr(items, "[('a', 1), ('b', 2)]");
    void *it = rc_iter(d), *k;
    assert_int_equal(rc_iter_next(it, &k), 1);
    assert_repr(k, "'a'");
    rc_decref(k);
    rc_dict_set_str(d, "c", I(h, 3));
    assert_int_equal(rc_iter_next(it, &k), RC_ESTATE);
    assert_error(h, RC_ESTATE, "dictionary changed size during iteration");
    rc_decref(it);
    it = rc_dict_iter_items(d);
    int n = 0;
    while (rc_iter_next(it, &k) == 1) {
        n++;
        rc_decref(k);
    }
    assert_int_equal(n, 3);
    rc_decref(it);
    rc_decref(values);
    rc_decref(items);
    assert_int_equal(rc_dict_clear(d), 0);
    assert_int_equal(rc_dict_len(d), 0);
    assert_repr(d, "{}");
    rc_decref(d);
    rc_heap_free(h);
}

static void equality_copy_deepcopy_sizeof(void **state)
{
    (void)state;
    rc_heap *h = vc_heap();
    void *a = rc_dict_new(h), *b = rc_dict_new(h), *l = rc_list_new(h, 0);
    size_t empty = rc_sizeof(a);
    rc_dict_set_str(a, "x", I(h, 1));
    rc_dict_set_str(a, "l", l);
    rc_dict_set_str(b, "l", l);
    rc_dict_set_str(b, "x", rc_float_from(h, 1.0));
    rc_decref(rc_dict_get_str(b, "x"));
    assert_int_equal(rc_equal(a, b), 1);   /* order does not matter */
    assert_true(rc_sizeof(a) > empty);
    void *c = rc_copy(a), *dc = rc_deepcopy(a);
    assert_ptr_equal(rc_dict_get_str(c, "l"), l);
    assert_ptr_not_equal(rc_dict_get_str(dc, "l"), l);
    assert_int_equal(rc_equal(dc, a), 1);
    rc_dict_set_str(a, "me", a);
    void *dself = rc_deepcopy(a);
    assert_ptr_equal(rc_dict_get_str(dself, "me"), dself);
    void *objs[] = {a, b, l, c, dc, dself};
    for (size_t i = 0; i < 6; i++) rc_decref(objs[i]);
    assert_int_equal(rc_gc_collect(h, 2), 4);   /* two self-referencing dicts and their lists */
    rc_heap_free(h);
}

static void tracked_only_once_it_can_be_in_a_cycle(void **state)
{
    (void)state;
    rc_heap *h = vc_heap();
    void *d = rc_dict_new(h);
    assert_false(rc_gc_is_tracked(d));                 /* gc.is_tracked({}) is False */
    void *atoms = rc_tuple_pack(h, 2, I(h, 1), S(h, "a"));
    rc_dict_set_str(d, "n", I(h, 5));
    rc_dict_set(d, atoms, rc_float_from(h, 2.5));
    rc_decref(rc_dict_get(d, atoms));
    assert_false(rc_gc_is_tracked(d));                 /* only atoms so far */
    void *c = rc_copy(d), *dc = rc_deepcopy(d);
    assert_false(rc_gc_is_tracked(c));
    assert_false(rc_gc_is_tracked(dc));
    void *l = rc_list_new(h, 0);
    rc_dict_set_str(d, "l", l);
    assert_true(rc_gc_is_tracked(d));                  /* a list could close a cycle */
    void *e = rc_dict_new(h);
    rc_dict_set_str(e, "e", e);                        /* an untracked dict is still a container */
    assert_true(rc_gc_is_tracked(e));
    rc_decref(e);
    assert_int_equal(rc_gc_collect(h, 2), 1);
    void *objs[] = {d, atoms, c, dc, l};
    for (size_t i = 0; i < 5; i++) rc_decref(objs[i]);
    rc_heap_free(h);
}

/* ---- randomized: the dict against a model ----------------------------------- */

#define MODEL_KEYS 3000

static uint64_t rng_state = 0x9E3779B97F4A7C15ull;
static uint64_t rng(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

/* Key k as an int, a str or a tuple; `alt` gives an equal key of another
 * kind where Python has one (the float k.0 for an int key). */
static void *model_key(rc_heap *h, int k, bool alt)
{
    switch (k % 3) {
    case 0: return alt ? rc_float_from(h, k) : rc_int_from(h, k);
    case 1: return rc_str_format(h, "s%d", k);
    default: {
        void *n = rc_int_from(h, k), *t = rc_tuple_pack(h, 2, n, rc_none(h));
        rc_decref(n);
        return t;
    }
    }
}

/* The k a stored key was made from (the first key object stored stays). */
static int model_key_id(const void *key)
{
    double f;
    const char *name = rc_type_name(key);
    if (strcmp(name, "str") == 0) return atoi(rc_str_data(key) + 1);
    if (strcmp(name, "tuple") == 0) key = rc_tuple_get(key, 0);
    assert_int_equal(rc_float_value(key, &f), 0);   /* int or float */
    return (int)f;
}

static void dict_matches_a_model_under_random_edits(void **state)
{
    (void)state;
    rc_heap *h = vc_heap();
    void *d = rc_dict_new(h);
    long value[MODEL_KEYS], stamp[MODEL_KEYS], now = 0;
    size_t used = 0;
    for (int i = 0; i < MODEL_KEYS; i++) value[i] = -1;
    for (int op = 1; op <= 300000; op++) {
        int k = (int)(rng() % MODEL_KEYS), what = (int)(rng() % 10);
        void *key = model_key(h, k, rng() & 1);
        if (what < 5) {                       /* d[k] = v: a new key goes last */
            long v = (long)(rng() % 1000);
            void *val = rc_int_from(h, v);
            assert_int_equal(rc_dict_set(d, key, val), 0);
            rc_decref(val);
            if (value[k] < 0) used++, stamp[k] = ++now;
            value[k] = v;
        } else if (what < 8) {                /* del d[k] */
            int rc = rc_dict_del(d, key);
            assert_int_equal(rc, value[k] < 0 ? RC_ENOENT : 0);
            if (value[k] >= 0) used--;
            value[k] = -1;
        } else {                              /* d.get(k) */
            void *got = rc_dict_get(d, key);
            if (value[k] < 0) assert_null(got);
            else {
                int64_t v;
                assert_int_equal(rc_int_value(got, &v), 0);
                assert_true(v == value[k]);
            }
        }
        rc_decref(key);
        if (op % 5000 == 0) {                 /* len and the whole order */
            assert_int_equal(rc_dict_len(d), used);
            size_t pos = 0, seen = 0;
            long last = 0;
            void *kk, *vv;
            while (rc_dict_next(d, &pos, &kk, &vv)) {
                int key_id = model_key_id(kk);
                assert_true(value[key_id] >= 0);
                assert_true(stamp[key_id] > last);   /* insertion order */
                last = stamp[key_id];
                seen++;
            }
            assert_int_equal(seen, used);
        }
    }
    rc_decref(d);
    rc_heap_free(h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(set_get_del_contains),
        cmocka_unit_test(numbers_compare_by_value_as_in_python),
        cmocka_unit_test(int_keys_hashing_to_themselves_are_found_by_hash),
        cmocka_unit_test(unhashable_keys_are_etype),
        cmocka_unit_test(insertion_order_survives_deletes_and_growth),
        cmocka_unit_test(string_and_tuple_keys),
        cmocka_unit_test(str_keys_found_through_collisions_at_every_width),
        cmocka_unit_test(a_dict_whose_entry_refers_to_itself_is_collected),
        cmocka_unit_test(iteration_views_and_mutation_check),
        cmocka_unit_test(equality_copy_deepcopy_sizeof),
        cmocka_unit_test(tracked_only_once_it_can_be_in_a_cycle),
        cmocka_unit_test(dict_matches_a_model_under_random_edits),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
