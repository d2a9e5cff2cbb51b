/* Helpers for the built-in types' tests (tests/test_<type>.c). */
#ifndef RC_TEST_VALUE_CHECK_H
#define RC_TEST_VALUE_CHECK_H

#include <recycle.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

static inline rc_heap *vc_heap(void)
{
    rc_heap *h = rc_heap_new(NULL);
    assert_non_null(h);
    rc_gc_disable(h);   /* collections only where a test asks for one */
    assert_non_null(rc_none(h));   /* singletons exist before baselines are taken */
    return h;
}

static inline size_t vc_live(rc_heap *h)
{
    rc_memory_info mi;
    rc_heap_memory(h, &mi);
    return mi.live_objects;
}

static inline size_t vc_requested(rc_heap *h)
{
    rc_memory_info mi;
    rc_heap_memory(h, &mi);
    return mi.requested;
}

/* repr(o) must be exactly text. */
#define assert_repr(o, text) do { \
    char vc_buf_[1024]; \
    assert_true(rc_repr_buf((o), vc_buf_, sizeof vc_buf_) >= 0); \
    assert_string_equal(vc_buf_, (text)); \
} while (0)

/* repr(o) must start with prefix (reprs that show an address). */
#define assert_repr_starts(o, prefix) do { \
    char vc_buf_[1024]; \
    assert_true(rc_repr_buf((o), vc_buf_, sizeof vc_buf_) >= 0); \
    assert_memory_equal(vc_buf_, (prefix), strlen(prefix)); \
} while (0)

/* The last error of h has this code and its message contains part. */
#define assert_error(h, code, part) do { \
    assert_int_equal(rc_last_error_code(h), (code)); \
    assert_non_null(strstr(rc_last_error(h), (part))); \
} while (0)

/* Makes int/str values in one line; the test owns the reference. */
#define I(h, v) rc_int_from((h), (v))
#define S(h, s) rc_str_new((h), (s))

#endif
