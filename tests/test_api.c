/* The API's conventions (docs/errors.md): one way to report an error and
 * to clear it, answers that are not errors (_ref lookups), NULL handling,
 * CPython's weak reference rules, and objects of another heap refused. */
#include "node.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int setup(void **state)
{
    *state = rc_heap_new(NULL);
    return *state ? 0 : -1;
}

static int teardown(void **state)
{
    rc_heap_free(*state);
    return 0;
}

/* get(d, []) then get(d, 'missing'): once cleared, the miss carries no
 * stale "unhashable" message. */
static void clear_error_tells_a_miss_from_an_error(void **state)
{
    rc_heap *h = *state;
    void *d = rc_dict_new(h), *list = rc_list_new(h, 0), *missing = rc_str_new(h, "missing");
    assert_null(rc_dict_get(d, list));
    assert_int_equal(rc_last_error_code(h), RC_ETYPE);
    assert_non_null(strstr(rc_last_error(h), "unhashable type: 'list'"));
    rc_clear_error(h);
    assert_int_equal(rc_last_error_code(h), RC_OK);
    assert_string_equal(rc_last_error(h), "");
    assert_null(rc_dict_get(d, missing));
    assert_int_equal(rc_last_error_code(h), RC_OK);
    rc_decref(d);
    rc_decref(list);
    rc_decref(missing);
}

static void dict_get_ref_answers_found_absent_or_error(void **state)
{
    rc_heap *h = *state;
    void *d = rc_dict_new(h), *k = rc_str_new(h, "k"), *v = rc_list_new(h, 0), *list = rc_list_new(h, 0);
    assert_int_equal(rc_dict_set(d, k, v), 0);
    void *out = (void *)1;
    assert_int_equal(rc_dict_get_ref(d, k, &out), 1);
    assert_ptr_equal(out, v);
    assert_int_equal(rc_refcount(v), 3);          /* ours, the dict's, the new one */
    rc_decref(out);
    void *other = rc_str_new(h, "other");
    assert_int_equal(rc_dict_get_ref(d, other, &out), 0);
    assert_null(out);
    assert_int_equal(rc_dict_get_ref(d, list, &out), RC_ETYPE);
    assert_null(out);
    assert_int_equal(rc_dict_get_ref(list, k, &out), RC_ETYPE);   /* not a dict */
    assert_non_null(strstr(rc_last_error(h), "expected dict, got list"));
    for (void **o = (void *[]){d, k, v, list, other, NULL}; *o; o++)
        rc_decref(*o);
}

static void weakref_get_ref_answers_alive_or_dead(void **state)
{
    rc_heap *h = *state;
    node *n = node_new(h, &node_type, 1);
    void *w = rc_weakref_new(n, NULL, NULL), *out = NULL;
    assert_int_equal(rc_weakref_get_ref(w, &out), 1);
    assert_ptr_equal(out, n);
    assert_int_equal(rc_refcount(n), 2);
    rc_decref(out);
    rc_decref(n);
    out = (void *)1;
    assert_int_equal(rc_weakref_get_ref(w, &out), 0);
    assert_null(out);
    void *notref = rc_list_new(h, 0);
    assert_int_equal(rc_weakref_get_ref(notref, &out), RC_ETYPE);
    rc_decref(notref);
    rc_decref(w);
}

static void xdecref_accepts_null(void **state)
{
    rc_heap *h = *state;
    rc_xdecref(NULL);
    node_reset_counts();
    rc_xdecref(node_new(h, &node_type, 1));
    assert_int_equal(node_released, 1);
}

/* The built-in types CPython refuses weak references to refuse them here,
 * with CPython's message; the others, records and user types accept. */
static void weakrefs_follow_cpython(void **state)
{
    rc_heap *h = *state;
    const char *names[] = {"int", "str", "tuple", "list", "dict", "range", "iterator"};
    void *list = rc_list_new(h, 0);
    void *refused[] = {rc_int_from(h, 1000), rc_str_new(h, "s"), rc_tuple_new(h, 0), list, rc_dict_new(h),
                       rc_range_new(h, 0, 3, 1), rc_iter(list)};
    char msg[96];
    for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++) {
        rc_clear_error(h);
        assert_null(rc_weakref_new(refused[i], NULL, NULL));
        assert_int_equal(rc_last_error_code(h), RC_ETYPE);
        snprintf(msg, sizeof msg, "cannot create weak reference to '%s' object", names[i]);
        assert_string_equal(rc_last_error(h), msg);
    }
    for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++)
        rc_decref(refused[i]);
    const char *field = "x";
    const rc_record_type *rt = rc_record_type_new(h, "Point", RC_RECORD_SLOTS, 1, &field);
    void *accepted[] = {rc_set_new(h), rc_array_new(h, RC_I32, 2), rc_record_new(rt), node_new(h, &node_type, 1)};
    for (size_t i = 0; i < sizeof accepted / sizeof accepted[0]; i++) {
        void *w = rc_weakref_new(accepted[i], NULL, NULL);
        assert_non_null(w);
        assert_ptr_equal(rc_weakref_get(w), accepted[i]);
        rc_decref(accepted[i]);
        assert_null(rc_weakref_get(w));
        rc_decref(w);
    }
}

/* In every build, a container refuses an object of another heap: it would
 * be released by the wrong heap. */
static void containers_refuse_objects_of_another_heap(void **state)
{
    rc_heap *h = *state, *other = rc_heap_new(NULL);
    void *list = rc_list_new(h, 0), *d = rc_dict_new(h), *t = rc_tuple_new(h, 1);
    void *key = rc_str_new(h, "k"), *foreign = rc_list_new(other, 0);
    char want[160];
    snprintf(want, sizeof want, "a 'list' object of heap %p cannot be stored in a container of heap %p",
             (void *)other, (void *)h);
    assert_int_equal(rc_list_append(list, foreign), RC_EINVAL);
    assert_string_equal(rc_last_error(h), want);
    assert_int_equal(rc_list_insert(list, 0, foreign), RC_EINVAL);
    assert_int_equal(rc_dict_set(d, key, foreign), RC_EINVAL);
    assert_int_equal(rc_tuple_set(t, 0, foreign), RC_EINVAL);
    assert_null(rc_tuple_pack(h, 1, foreign));
    assert_int_equal(rc_list_len(list), 0);
    assert_int_equal(rc_dict_len(d), 0);
    assert_int_equal(rc_refcount(foreign), 1);        /* nothing kept a reference */
    for (void **o = (void *[]){list, d, t, key, foreign, NULL}; *o; o++)
        rc_decref(*o);
    rc_heap_free(other);
}

/* A call refused because the heap is busy says so instead of doing nothing. */
static void *busy_heap;
static int freeze_rc;
static void freeze_during_collection(const char *phase, const rc_gc_info *info, void *ctx)
{
    (void)info, (void)ctx;
    if (strcmp(phase, "start") == 0)
        freeze_rc = rc_gc_freeze(busy_heap);
}

static void freeze_during_a_collection_is_refused(void **state)
{
    rc_heap *h = *state;
    busy_heap = h;
    assert_int_equal(rc_gc_callback_add(h, freeze_during_collection, NULL), 0);
    rc_gc_collect(h, 2);
    assert_int_equal(freeze_rc, RC_ESTATE);
    assert_non_null(strstr(rc_last_error(h), "rc_gc_freeze: not during a collection"));
    assert_int_equal(rc_gc_callback_remove(h, freeze_during_collection, NULL), 0);
    assert_int_equal(rc_gc_freeze(h), 0);
    assert_int_equal(rc_gc_unfreeze(h), 0);
}

/* Calls without a heap leave their message in the calling thread's last
 * error, read with rc_last_error(NULL). */
static void heapless_calls_use_the_threads_last_error(void **state)
{
    (void)state;
    rc_clear_error(NULL);
    assert_int_equal(rc_last_error_code(NULL), RC_OK);
    rc_snapshot *s = NULL;
    assert_int_equal(rc_snapshot_load("/nonexistent/dir/x.snap", &s), RC_ENOENT);
    assert_null(s);
    assert_int_equal(rc_last_error_code(NULL), RC_ENOENT);
    assert_non_null(strstr(rc_last_error(NULL), "/nonexistent/dir/x.snap"));
    rc_clear_error(NULL);
    assert_string_equal(rc_last_error(NULL), "");
}

/* rc_new refuses a NULL or misaligned type (its low bits are the header's
 * flags) with RC_EINVAL and a line saying which, and reads nothing
 * through it. */
static void new_refuses_a_null_or_misaligned_type(void **state)
{
    rc_heap *h = *state;
    static const rc_type good = {.name = "good", .size = 16};
    assert_null(rc_new(h, NULL));
    assert_int_equal(rc_last_error_code(h), RC_EINVAL);
    assert_non_null(strstr(rc_last_error(h), "NULL type"));
    rc_clear_error(h);
    assert_null(rc_new_at(h, (const rc_type *)((uintptr_t)&good + 8), 0, NULL));
    assert_int_equal(rc_last_error_code(h), RC_EINVAL);
    assert_non_null(strstr(rc_last_error(h), "not 64-byte aligned"));
    void *o = rc_new(h, &good);
    assert_non_null(o);
    rc_decref(o);
}

/* rc_set_error records as the library does, so user types report alike;
 * a message may quote the previous one. */
static void set_error_records_like_the_library(void **state)
{
    rc_heap *h = *state;
    assert_int_equal(rc_set_error(h, RC_ERANGE, "bucket %d of %s", 7, "map"), RC_ERANGE);
    assert_int_equal(rc_last_error_code(h), RC_ERANGE);
    assert_string_equal(rc_last_error(h), "bucket 7 of map");
    assert_int_equal(rc_set_error(h, RC_EINVAL, "while loading: %s", rc_last_error(h)), RC_EINVAL);
    assert_string_equal(rc_last_error(h), "while loading: bucket 7 of map");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(clear_error_tells_a_miss_from_an_error, setup, teardown),
        cmocka_unit_test_setup_teardown(dict_get_ref_answers_found_absent_or_error, setup, teardown),
        cmocka_unit_test_setup_teardown(weakref_get_ref_answers_alive_or_dead, setup, teardown),
        cmocka_unit_test_setup_teardown(xdecref_accepts_null, setup, teardown),
        cmocka_unit_test_setup_teardown(weakrefs_follow_cpython, setup, teardown),
        cmocka_unit_test_setup_teardown(containers_refuse_objects_of_another_heap, setup, teardown),
        cmocka_unit_test_setup_teardown(freeze_during_a_collection_is_refused, setup, teardown),
        cmocka_unit_test(heapless_calls_use_the_threads_last_error),
        cmocka_unit_test_setup_teardown(set_error_records_like_the_library, setup, teardown),
        cmocka_unit_test_setup_teardown(new_refuses_a_null_or_misaligned_type, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
