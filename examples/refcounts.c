/* Experiment 6 (seeds 000, 002, 003): reference counts, in C.
 *
 * rc_refcount reports the true count.  Python's sys.getrefcount shows one
 * more, because passing the object to getrefcount makes the argument a
 * temporary reference of its own.  So Python's 2, 2, 3 are recycle's
 * 1, 1, 2, and a = []; b = a; del b goes 2, 3, 2 in Python, 1, 2, 1 here. */
#include <recycle.h>

#include <stdio.h>

static void show(const char *what, const void *o, const char *key)
{
    printf("%-46s rc_refcount = %zu  (sys.getrefcount would say %zu)\n", what, rc_refcount(o),
           rc_refcount(o) + 1);
    printf("RESULT %s %zu\n", key, rc_refcount(o));
}

int main(void)
{
    rc_heap *h = rc_heap_new(NULL);

    void *custom_test_var = rc_list_new(h, 0);            /* custom_test_var = [] */
    show("custom_test_var = []", custom_test_var, "a");
    void *custom_list = rc_list_new(h, 1);                /* custom_list = [custom_test_var] */
    rc_list_append(custom_list, custom_test_var);
    show("custom_list = [custom_test_var]", custom_list, "b");
    show("custom_test_var, now also held by custom_list", custom_test_var, "c");

    void *a = rc_list_new(h, 0);                          /* a = [] */
    show("a = []", a, "alias_before");
    void *b = rc_newref(a);                               /* b = a */
    show("b = a", a, "alias_after_b");
    RC_CLEAR(b);                                          /* del b */
    show("del b", a, "alias_after_del");

    /* Seed 003: small ints are shared, as CPython caches -5..256. */
    void *x = rc_int_from(h, 19), *y = rc_int_from(h, 19);
    printf("rc_int_from(h, 19) twice: %s object (%p, %p)\n", x == y ? "the same" : "different", x, y);
    printf("RESULT small_int_shared %d\n", x == y);

    rc_decref(x);
    rc_decref(y);
    rc_decref(a);
    rc_decref(custom_list);
    rc_decref(custom_test_var);
    rc_heap_free(h);
    return 0;
}
