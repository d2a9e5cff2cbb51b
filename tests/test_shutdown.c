/* rc_heap_free ends a heap as Py_Finalize ends CPython: the tests are named
 * after the cases of CPython's Lib/test/test_gc.py they follow. */
#include "node.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static rc_heap *heap_with_debug(unsigned debug, FILE *out)
{
    rc_config cfg;
    rc_config_default(&cfg);
    cfg.gc_debug = debug;
    cfg.gc_debug_out = out;
    rc_heap *h = rc_heap_new(&cfg);
    assert_non_null(h);
    return h;
}

/* class C: __del__ prints; l = [C()]; l.append(l) -- a cycle still held
 * by a global at exit: its member's finalizer runs, once. */
static void test_gc_main_module_at_shutdown(void **state)
{
    (void)state;
    node_reset_counts();
    rc_heap *h = rc_heap_new(NULL);
    void *l = rc_list_new(h, 0);
    node *c = node_new(h, &node_final_type, 1);
    assert_int_equal(rc_list_append(l, c), 0);
    rc_decref(c);
    assert_int_equal(rc_list_append(l, l), 0);   /* l is the program's "global" */
    rc_heap_free(h);
    assert_int_equal(node_finalized, 1);
    assert_int_equal(node_released, 1);
}

/* a = ClassWithDel(); a.link = a; raise SystemExit(0): the object is in a
 * cycle and still referenced when the program ends; __del__ runs once. */
static void test_global_del_SystemExit(void **state)
{
    (void)state;
    node_reset_counts();
    rc_heap *h = rc_heap_new(NULL);
    node *a = node_new(h, &node_final_type, 1);
    node_set(a, 0, a);
    rc_heap_free(h);
    assert_int_equal(node_finalized, 1);
}

/* A finalizer that already ran (PEP 442) does not run again at exit. */
static void finalizers_run_once_across_shutdown(void **state)
{
    (void)state;
    node_reset_counts();
    rc_heap *h = rc_heap_new(NULL);
    void *keep = NULL;
    node *a = node_new(h, &node_final_type, 1);
    node_resurrect_slot = &keep;
    rc_decref(a);                        /* finalized and resurrected into keep */
    assert_int_equal(node_finalized, 1);
    assert_ptr_equal(keep, a);
    rc_heap_free(h);
    assert_int_equal(node_finalized, 1);
}

static int callbacks_run;
static void count_callback(void *wr, void *ctx)
{
    (void)wr;
    callbacks_run++;
    assert_null(rc_weakref_get(wr));
    *(int *)ctx += 1;
}

/* Weakref callbacks run at exit for targets still alive, and for targets
 * in cycles that only the final collection frees. */
static void weakref_callbacks_run_at_shutdown(void **state)
{
    (void)state;
    rc_heap *h = rc_heap_new(NULL);
    int held = 0, cyclic = 0;
    callbacks_run = 0;
    node *alive = node_new(h, &node_type, 1);
    void *w1 = rc_weakref_new(alive, count_callback, &held);
    node *a = node_new(h, &node_type, 2), *b = node_new(h, &node_type, 3);
    node_set(a, 0, b);
    node_set(b, 0, a);
    void *w2 = rc_weakref_new(a, count_callback, &cyclic);
    rc_decref(a);
    rc_decref(b);
    assert_non_null(w1);
    assert_non_null(w2);
    rc_heap_free(h);
    assert_int_equal(held, 1);
    assert_int_equal(cyclic, 1);
    assert_int_equal(callbacks_run, 2);
}

/* An uncollectable cycle: members without clear (CPython's legacy
 * tp_del objects in the test). */
static void make_garbage(rc_heap *h)
{
    node *first = node_new(h, &node_noclear_type, 1), *second = node_new(h, &node_noclear_type, 2);
    node_set(first, 0, first);
    node_set(first, 1, second);
    rc_decref(second);
    rc_decref(first);
}

/* What rc_heap_free prints with these debug flags, after a collection
 * left the garbage of make_garbage (both objects, as in CPython's test). */
static char *shutdown_output(unsigned debug)
{
    char *text = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&text, &len);
    rc_heap *h = heap_with_debug(0, out);
    make_garbage(h);
    rc_gc_collect(h, 2);
    assert_int_equal(rc_gc_garbage_count(h), 2);
    rc_gc_set_debug(h, debug);
    rc_heap_free(h);
    fclose(out);
    return text;
}

/* gc: N uncollectable objects at shutdown; the hint to list them; the list
 * under DEBUG_UNCOLLECTABLE; silence under DEBUG_SAVEALL. */
static void test_garbage_at_shutdown(void **state)
{
    (void)state;
    char *text = shutdown_output(0);
    assert_string_equal(text, "gc: 2 uncollectable objects at shutdown; use "
                              "rc_gc_set_debug(h, RC_GC_DEBUG_UNCOLLECTABLE) to list them\n");
    free(text);

    text = shutdown_output(RC_GC_DEBUG_UNCOLLECTABLE);
    const char *list = strstr(text, "gc: 2 uncollectable objects at shutdown\n");
    if (!list || !strstr(list, "\n      <node_noclear object at 0x") ||
        strstr(strstr(list, "\n      <node_noclear object at 0x") + 1, "\n      <node_noclear object at 0x") == NULL)
        fail_msg("DEBUG_UNCOLLECTABLE printed: %s", text);
    free(text);

    text = shutdown_output(RC_GC_DEBUG_SAVEALL);
    assert_null(strstr(text, "at shutdown"));
    free(text);
}

/* A program that asked for no gc diagnostics hears nothing (CPython's
 * warning is a ResourceWarning, hidden unless -W default). */
static void garbage_at_shutdown_is_silent_unless_asked(void **state)
{
    (void)state;
    FILE *capture = tmpfile();
    assert_non_null(capture);
    fflush(stderr);
    int saved = dup(2);
    assert_true(saved >= 0 && dup2(fileno(capture), 2) == 2);
    rc_heap *h = heap_with_debug(0, NULL);
    make_garbage(h);
    rc_heap_free(h);
    fflush(stderr);
    dup2(saved, 2);
    close(saved);
    assert_int_equal(ftell(capture), 0);
    fclose(capture);
}

/* Nothing is said when nothing is left. */
static void clean_shutdown_is_silent(void **state)
{
    (void)state;
    char *text = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&text, &len);
    rc_heap *h = heap_with_debug(RC_GC_DEBUG_UNCOLLECTABLE, out);
    node *a = node_new(h, &node_type, 1);
    node_set(a, 0, a);
    rc_decref(a);
    rc_heap_free(h);
    fclose(out);
    assert_string_equal(text, "");
    free(text);
}

/* fast_free keeps the old teardown: release only, no finalizer, no report. */
static void fast_free_skips_the_final_collection(void **state)
{
    (void)state;
    node_reset_counts();
    char *text = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&text, &len);
    rc_config cfg;
    rc_config_default(&cfg);
    cfg.gc_debug_out = out;
    cfg.fast_free = true;
    rc_heap *h = rc_heap_new(&cfg);
    node *a = node_new(h, &node_final_type, 1);
    node_set(a, 0, a);
    make_garbage(h);
    rc_gc_collect(h, 2);
    rc_heap_free(h);
    fclose(out);
    assert_int_equal(node_finalized, 0);
    assert_int_equal(node_released, 3);
    assert_string_equal(text, "");
    free(text);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_gc_main_module_at_shutdown),
        cmocka_unit_test(test_global_del_SystemExit),
        cmocka_unit_test(finalizers_run_once_across_shutdown),
        cmocka_unit_test(weakref_callbacks_run_at_shutdown),
        cmocka_unit_test(test_garbage_at_shutdown),
        cmocka_unit_test(garbage_at_shutdown_is_silent_unless_asked),
        cmocka_unit_test(clean_shutdown_is_silent),
        cmocka_unit_test(fast_free_skips_the_final_collection),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
