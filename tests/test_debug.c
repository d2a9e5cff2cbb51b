/* Death tests of the debug build (RC_DEBUG >= 1; docs/reliability.md): each
 * misuse runs in a forked child, which must die of SIGABRT after printing
 * exactly one line on stderr -- the check, the type, the address and, when
 * the heap traces the object, where it was allocated.  The child sends the
 * line it expects (it knows the addresses) through a pipe first.  Skipped
 * when librecycle was built without RC_DEBUG. */
#include "node.h"

#include <recycle-tools.h>

#include <fnmatch.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#if defined(__SANITIZE_ADDRESS__)   /* gcc */
#define TEST_ASAN 1
#elif defined(__has_feature)         /* clang */
#if __has_feature(address_sanitizer)
#define TEST_ASAN 1
#endif
#endif
#ifndef TEST_ASAN
#define TEST_ASAN 0
#endif

static int expect_fd;   /* in the child: where the expected line goes */

static void expect(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void expect(const char *fmt, ...)
{
    char line[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    if (write(expect_fd, line, (size_t)n) != n)
        _exit(3);
    close(expect_fd);
}

static size_t read_all(int fd, char *buf, size_t cap)
{
    size_t n = 0;
    ssize_t got;
    while (n + 1 < cap && (got = read(fd, buf + n, cap - 1 - n)) > 0)
        n += (size_t)got;
    buf[n] = '\0';
    close(fd);
    return n;
}

/* Runs misuse in a child; it must abort with exactly the line it expects. */
static void assert_dies(void (*misuse)(void))
{
    if (rc_debug_level() < 1)
        skip();
    int want[2], err[2];
    assert_int_equal(pipe(want), 0);
    assert_int_equal(pipe(err), 0);
    fflush(NULL);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        close(want[0]);
        close(err[0]);
        dup2(err[1], 2);
        expect_fd = want[1];
        misuse();
        _exit(0);                        /* not caught: the parent fails */
    }
    close(want[1]);
    close(err[1]);
    char expected[512], got[4096];
    read_all(want[0], expected, sizeof expected);
    read_all(err[0], got, sizeof got);
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    if (!WIFSIGNALED(status) || WTERMSIG(status) != SIGABRT)
        fail_msg("the child did not abort (status %#x); stderr: %s", status, got);
    if (!strchr(expected, '*'))
        assert_string_equal(got, expected);
    else if (fnmatch(expected, got, 0) != 0)   /* '*': a part the child cannot know, such as a symbolized frame */
        fail_msg("stderr:\n%s\ndoes not match:\n%s", got, expected);
}

/* ---- the misuses ---------------------------------------------------------- */

static void incref_after_free(void)
{
    rc_heap *h = rc_heap_new(NULL);
    node *n = node_new(h, &node_type, 1);
    rc_decref(n);
    expect("recycle: use of a freed object: node object at %p: the block was freed\n", (void *)n);
    rc_incref(n);
}

static void double_decref(void)
{
    rc_heap *h = rc_heap_new(NULL);
    node *n = node_new(h, &node_leaf_type, 1);
    rc_decref(n);
    expect("recycle: double or excess decref: leaf object at %p: the block was freed\n", (void *)n);
    rc_decref(n);
}

/* release runs with the count at 0: one more decref is an underflow. */
static void decref_self(void *self) { rc_decref(self); }
static const rc_type underflow_type = {"underflow", 16, NULL, NULL, NULL, decref_self, 0, NULL, 0};

static void refcount_underflow(void)
{
    rc_heap *h = rc_heap_new(NULL);
    void *o = rc_new(h, &underflow_type);
    expect("recycle: refcount underflow: underflow object at %p: its refcount is already 0 "
           "(it is being destroyed)\n", o);
    rc_decref(o);
}

/* Two containers hold c but two decrefs too many leave its count at 1: the
 * next collection finds more references than the count. */
static void excess_decref_while_referenced(void)
{
    rc_heap *h = rc_heap_new(NULL);
    node *a = node_new(h, &node_type, 1), *b = node_new(h, &node_type, 2), *c = node_new(h, &node_type, 3);
    node_set(a, 0, c);
    node_set(b, 0, c);
    rc_decref(c);
    rc_decref(c);                        /* the misuse: count 1, two references */
    expect("recycle: refcount lower than references found in the heap: node object at %p: refcount 1\n",
           (void *)c);
    rc_gc_collect(h, 2);
}

/* The built-in containers refuse such an object (test_api.c); a user type
 * cannot, so the collector names the cause before it follows the reference. */
static void user_type_holds_an_object_of_another_heap(void)
{
    rc_heap *h = rc_heap_new(NULL), *other = rc_heap_new(NULL);
    node *holder = node_new(h, &node_type, 1), *foreign = node_new(other, &node_leaf_type, 2);
    node_set(holder, 0, foreign);
    expect("recycle: object of another heap: node object at %p: holds %p, a leaf object of heap %p; "
           "the holder is of heap %p\n", (void *)holder, (void *)foreign, (void *)other, (void *)h);
    rc_gc_collect(h, 0);
}

static void decref_null(void)
{
    expect("recycle: NULL object: ? object at %p: a NULL pointer where an object is required "
           "(rc_xdecref accepts NULL)\n", (void *)NULL);
    rc_decref(NULL);
}

/* The gc module's per-object calls check their argument too. */
static void untrack_after_free(void)
{
    rc_heap *h = rc_heap_new(NULL);
    node *n = node_new(h, &node_type, 1);
    rc_decref(n);
    expect("recycle: use of a freed object: node object at %p: the block was freed\n", (void *)n);
    rc_gc_untrack(n);
}

/* With tracing on, a freed block keeps its allocation site for the report. */
static void incref_after_free_traced(void)
{
    rc_heap *h = rc_heap_new(NULL);
    rc_trace_start(h, 1);
    rc_trace_set_symbolizer(rc_symbolize_dwarf);   /* "freed at" is a native frame: file:line */
    int line = __LINE__ + 1;
    node *n = rc_new(h, &node_type);
    rc_decref(n);
    expect("recycle: use of a freed object: node object at %p: the block was freed (allocated at %s:%d "
           "(incref_after_free_traced), freed at *incref_after_free_traced*)\n", (void *)n, __FILE__, line);
    rc_incref(n);
}

/* A list still holds an object freed by an excess decref: the collector
 * names the list and where the list and the freed object were allocated
 * (the list by rc_list_new: the tracer records the rc_new inside it). */
static void freed_object_in_a_live_list(void)
{
    rc_heap *h = rc_heap_new(NULL);
    rc_trace_start(h, 1);
    rc_trace_set_symbolizer(rc_symbolize_dwarf);
    void *list = rc_list_new(h, 1);
    int line = __LINE__ + 1;
    void *n = rc_new(h, &node_type);
    rc_list_append(list, n);
    rc_decref(n);
    rc_decref(n);                        /* the misuse: the list's reference */
    rc_traceback *tb = rc_trace_get_object_traceback(h, list);
    expect("recycle: reference to a freed object: list object at %p: holds %p, a freed node object "
           "(allocated at %s:%d (freed_object_in_a_live_list), freed at *freed_object_in_a_live_list*), "
           "allocated at %s:%d (%s)\n",
           list, n, __FILE__, line, tb->frames[0].filename, tb->frames[0].lineno, tb->frames[0].func);
    rc_gc_collect(h, 0);
}

/* A block of malloc, not an object, given to a container (RC_DEBUG=2). */
static void malloc_block_appended(void)
{
    rc_heap *h = rc_heap_new(NULL);
    void *list = rc_list_new(h, 0);
    void *p = aligned_alloc(16, 64);
    memset(p, 0x5A, 64);
    expect("recycle: not an object: ? object at %p: not the body of a live object of any heap\n", p);
    rc_list_append(list, p);
}

static void malloc_block_as_dict_key(void)
{
    rc_heap *h = rc_heap_new(NULL);
    void *d = rc_dict_new(h), *v = rc_str_new(h, "v");
    void *p = aligned_alloc(16, 64);
    memset(p, 0x5A, 64);
    expect("recycle: not an object: ? object at %p: not the body of a live object of any heap\n", p);
    rc_dict_set(d, p, v);
}

/* Two threads in one heap without a lock: thread B enters while thread A
 * is inside (held there by a release that waits), deterministically. */
static rc_heap *shared_heap;
static volatile long inside_tid;
static void wait_inside(void *self)
{
    (void)self;
    inside_tid = (long)syscall(SYS_gettid);
    for (int i = 0; i < 1000; i++)        /* B aborts the process long before */
        usleep(10000);
}
static const rc_type waiting_type = {"waiting", 16, NULL, NULL, NULL, wait_inside, 0, NULL, 0};

static void *thread_a(void *o)
{
    rc_decref(o);
    return NULL;
}

static void two_threads_in_one_heap(void)
{
    shared_heap = rc_heap_new(NULL);
    void *w = rc_new(shared_heap, &waiting_type), *other = rc_new(shared_heap, &node_type);
    pthread_t a;
    pthread_create(&a, NULL, thread_a, w);
    while (!inside_tid)
        usleep(1000);
    expect("recycle: heap used by two threads: thread %ld called rc_incref on heap %p while thread %ld is "
           "inside it (a heap is used by one thread at a time; docs/threads.md)\n",
           (long)syscall(SYS_gettid), (void *)shared_heap, inside_tid);
    rc_incref(other);
}

/* A thread that never attached increfs an object of a threaded heap. */
static void *unattached_incref(void *o)
{
    expect("recycle: threaded heap %p: thread %ld called rc_incref without rc_thread_attach (docs/threads.md)\n",
           (void *)rc_heap_of(o), (long)syscall(SYS_gettid));
    rc_incref(o);
    return NULL;
}

static void unattached_thread_uses_a_threaded_heap(void)
{
    rc_config cfg;
    rc_config_default(&cfg);
    cfg.threads = true;
    rc_heap *h = rc_heap_new(&cfg);
    void *o = rc_new(h, &node_type);
    pthread_t t;
    pthread_create(&t, NULL, unattached_incref, o);
    pthread_join(t, NULL);
}

/* release makes a weakref to the object being freed: it would dangle. */
static void *late_weakref;
static void weakref_in_release(void *self) { late_weakref = rc_weakref_new(self, NULL, NULL); }
static const rc_type late_weakref_type = {"late_weakref", 16, NULL, NULL, NULL, weakref_in_release, 0, NULL, 0};

static void dangling_weakref(void)
{
    rc_heap *h = rc_heap_new(NULL);
    void *o = rc_new(h, &late_weakref_type);
    expect("recycle: dangling weakref: late_weakref object at %p: freed while a weakref made during its "
           "death still points at it\n", o);
    rc_decref(o);
}

static void not_an_object(void)
{
    static _Alignas(16) char fake[64];
    memset(fake, 0x5A, sizeof fake);     /* looks like a header with a type */
    expect("recycle: not an object: ? object at %p: not the body of a live object of any heap\n",
           (void *)(fake + 16));
    rc_incref(fake + 16);
}

static void interior_pointer(void)
{
    rc_heap *h = rc_heap_new(NULL);
    node *n = node_new(h, &node_type, 1);
    char *inside = (char *)n + 16;
    expect("recycle: not an object: ? object at %p: not the body of a live object of any heap\n",
           (void *)inside);
    rc_decref(inside);
}

/* A finalizer that makes a weakref to its object without resurrecting it:
 * the runtime must clear that weakref when the object dies (no abort, no
 * dangling pointer), in a plain death and in a collected cycle. */
static void *final_weakref;
static void finalize_with_weakref(void *self) { final_weakref = rc_weakref_new(self, NULL, NULL); }
static const rc_type final_weakref_type = {"final_weakref", sizeof(node), NULL, NULL, finalize_with_weakref,
                                           NULL, 0, NULL, 0};

static int pair_traverse(void *self, rc_visit visit, void *arg)
{
    void *other = *(void **)self;
    return other ? visit(other, arg) : 0;
}

static void pair_clear(void *self)
{
    void **slot = self;
    RC_CLEAR(*slot);
}

static const rc_type final_weakref_cycle_type = {"final_weakref_cycle", sizeof(void *), pair_traverse, pair_clear,
                                                 finalize_with_weakref, NULL, 0, NULL, 0};

/* ---- the tests -------------------------------------------------------------- */

static void weakref_made_by_a_finalizer_is_cleared(void **s)
{
    (void)s;
    rc_heap *h = rc_heap_new(NULL);
    void *o = rc_new(h, &final_weakref_type);
    rc_decref(o);                        /* finalizer runs, makes a weakref, no resurrection */
    assert_non_null(final_weakref);
    assert_null(rc_weakref_get(final_weakref));
    RC_CLEAR(final_weakref);
    void **a = rc_new(h, &final_weakref_cycle_type), **b = rc_new(h, &final_weakref_cycle_type);
    *a = rc_newref(b);
    *b = rc_newref(a);
    rc_decref(a);
    rc_decref(b);
    assert_int_equal(rc_gc_collect(h, 2), 2);
    assert_non_null(final_weakref);
    assert_null(rc_weakref_get(final_weakref));
    RC_CLEAR(final_weakref);
    assert_int_equal(rc_heap_check(h), 0);
    rc_heap_free(h);
}

static void use_after_free_is_caught(void **s) { (void)s; assert_dies(incref_after_free); }
static void gc_calls_check_their_argument(void **s) { (void)s; assert_dies(untrack_after_free); }
static void double_decref_is_caught(void **s) { (void)s; assert_dies(double_decref); }
static void refcount_underflow_is_caught(void **s) { (void)s; assert_dies(refcount_underflow); }
static void excess_decref_is_caught_by_the_collector(void **s) { (void)s; assert_dies(excess_decref_while_referenced); }
static void object_of_another_heap_in_a_user_type_is_named(void **s) { (void)s; assert_dies(user_type_holds_an_object_of_another_heap); }
static void decref_null_is_caught(void **s) { (void)s; assert_dies(decref_null); }
static void use_after_free_names_the_allocation_site(void **s) { (void)s; assert_dies(incref_after_free_traced); }
static void freed_object_in_a_live_list_is_named_by_the_collector(void **s) { (void)s; assert_dies(freed_object_in_a_live_list); }
static void second_thread_in_a_heap_is_caught(void **s) { (void)s; assert_dies(two_threads_in_one_heap); }
static void dangling_weakref_is_caught(void **s) { (void)s; assert_dies(dangling_weakref); }
static void unattached_thread_is_caught(void **s) { (void)s; assert_dies(unattached_thread_uses_a_threaded_heap); }

static void non_objects_are_caught_at_level_2(void **s)
{
    (void)s;
    if (rc_debug_level() < 2)
        skip();
    assert_dies(not_an_object);
    assert_dies(interior_pointer);
    assert_dies(malloc_block_appended);
    assert_dies(malloc_block_as_dict_key);
}

/* Freed objects are filled, so a stale read does not see the old values. */
static void freed_objects_are_filled(void **s)
{
    (void)s;
    if (rc_debug_level() < 1)
        skip();
#if TEST_ASAN
    skip();                              /* the fill is poisoned: ASan would (rightly) report the read */
#else
    rc_heap *h = rc_heap_new(NULL);
    node *n = node_new(h, &node_type, 1);
    n->id = 42;
    rc_decref(n);
    assert_int_not_equal(n->id, 42);     /* deliberately reading freed memory */
    rc_heap_free(h);
#endif
}

/* rc_heap_free names what is still alive, by type and allocation site. */
static void leak_report_names_types_and_sites(void **s)
{
    (void)s;
    char *text = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&text, &len);
    rc_config cfg;
    rc_config_default(&cfg);
    cfg.leak_report = true;
    cfg.leak_out = out;
    rc_heap *h = rc_heap_new(&cfg);
    rc_trace_start(h, 1);
    int line = __LINE__ + 1;
    void *a = rc_new(h, &node_type), *b = rc_new(h, &node_type);
    (void)a, (void)b;
    rc_heap_free(h);
    fclose(out);
    char want[512];
    snprintf(want, sizeof want, "Direct leak of 128 byte(s) in 2 object(s) of type node allocated from:\n"
             "    #0 %s:%d in leak_report_names_types_and_sites\n", __FILE__, line);
    if (!strstr(text, want) || !strstr(text, "SUMMARY: recycle: 128 byte(s) leaked in 2 object(s)."))
        fail_msg("leak report:\n%s\nexpected:\n%s", text, want);
    free(text);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(use_after_free_is_caught),
        cmocka_unit_test(double_decref_is_caught),
        cmocka_unit_test(refcount_underflow_is_caught),
        cmocka_unit_test(excess_decref_is_caught_by_the_collector),
        cmocka_unit_test(object_of_another_heap_in_a_user_type_is_named),
        cmocka_unit_test(decref_null_is_caught),
        cmocka_unit_test(gc_calls_check_their_argument),
        cmocka_unit_test(use_after_free_names_the_allocation_site),
        cmocka_unit_test(freed_object_in_a_live_list_is_named_by_the_collector),
        cmocka_unit_test(second_thread_in_a_heap_is_caught),
        cmocka_unit_test(unattached_thread_is_caught),
        cmocka_unit_test(dangling_weakref_is_caught),
        cmocka_unit_test(weakref_made_by_a_finalizer_is_cleared),
        cmocka_unit_test(non_objects_are_caught_at_level_2),
        cmocka_unit_test(freed_objects_are_filled),
        cmocka_unit_test(leak_report_names_types_and_sites),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
