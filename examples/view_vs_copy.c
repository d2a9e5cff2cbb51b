/* memoryview versus a copy: taking the second half of a 10^6-element int32
 * array as a view costs one small object; as a copy it costs the data.
 * Bytes measured with rc_heap_memory, beside CPython doing
 * memoryview(arr)[n//2:] and arr[n//2:] under tracemalloc. */
#include <recycle.h>

#include <stdint.h>
#include <stdio.h>

#include "python_anchor.h"

#define N 1000000

static size_t requested(rc_heap *h)
{
    rc_memory_info mi;
    rc_heap_memory(h, &mi);
    return mi.requested;
}

static const char *const py_names[] = {"view", "copy"};
static const char py_script[] =
    "import array, tracemalloc\n"
    "arr = array.array('i', range(1000000))\n"
    "tracemalloc.start()\n"
    "b = tracemalloc.get_traced_memory()[0]; v = memoryview(arr)[500000:]\n"
    "print('view', tracemalloc.get_traced_memory()[0] - b)\n"
    "b = tracemalloc.get_traced_memory()[0]; c = arr[500000:]\n"
    "print('copy', tracemalloc.get_traced_memory()[0] - b)\n";

int main(void)
{
    rc_heap *h = rc_heap_new(NULL);
    void *arr = rc_array_new(h, RC_I32, N);
    int32_t *data = rc_array_data(arr);
    for (int i = 0; i < N; i++) data[i] = i;

    size_t before = requested(h);
    void *view = rc_view_new(arr, N / 2, N);        /* memoryview(arr)[n//2:] */
    size_t view_bytes = requested(h) - before;

    before = requested(h);
    void *copy = rc_view_tobytes(view);              /* the same elements, copied */
    size_t copy_bytes = requested(h) - before;

    data[N / 2] = -1;   /* the view sees the write; the copy does not */
    int64_t seen;
    void *first = rc_view_get(view, 0);
    rc_int_value(first, &seen);

    double py[2] = {0, 0};
    int got = python_anchor(py_script, py_names, py, 2);
    printf("view vs copy: the second half of a %d-element int32 array (%zu bytes of data)\n", N,
           (size_t)N / 2 * sizeof(int32_t));
    printf("%-12s %14s %14s\n", "", "recycle B", "CPython B");
    if (got == 2) {
        printf("%-12s %14zu %14.0f\n", "view", view_bytes, py[0]);
        printf("%-12s %14zu %14.0f\n", "copy", copy_bytes, py[1]);
        printf("CPython: /usr/bin/python3 measured with tracemalloc in this run.\n");
    } else {
        printf("%-12s %14zu %14s\n", "view", view_bytes, "-");
        printf("%-12s %14zu %14s\n", "copy", copy_bytes, "-");
        printf("CPython: /usr/bin/python3 not available; not measured.\n");
    }
    printf("a write through the array shows in the view: view[0] = %lld\n", (long long)seen);
    printf("while the view lives the array cannot grow: append -> %s\n", rc_strerror(rc_array_append_int(arr, 1)));
    rc_view_release(view);
    printf("after rc_view_release: append -> %s\n", rc_strerror(rc_array_append_int(arr, 1)));
    rc_decref(first);
    rc_decref(copy);
    rc_decref(view);
    rc_decref(arr);
    rc_heap_free(h);
    return 0;
}
