/* Tests of the in-process allocation tracer (src/trace/): sites, sizes
 * and counts; freed blocks gone; compare_to; filters; dump/load; corrupt
 * files; tracemalloc's formatting. */
#include <recycle-tools.h>

#include <setjmp.h>
#include <stdarg.h>
#include <math.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "files.h"

static const rc_type node_type = {.name = "node", .size = 48};

/* The stat whose frame is file:line (line 0: any), or NULL. */
static const rc_trace_stat *find_stat(const rc_trace_stats *st, int line)
{
    for (size_t i = 0; i < st->len; i++) {
        const rc_frame *f = &st->items[i].traceback->frames[0];
        if (strcmp(f->filename, __FILE__) == 0 && (line == 0 || f->lineno == line))
            return &st->items[i];
    }
    return NULL;
}

static rc_heap *heap_tracing(int nframe)
{
    rc_heap *h = rc_heap_new(NULL);
    assert_non_null(h);
    assert_int_equal(rc_trace_start(h, nframe), 0);
    return h;
}

static void test_sites_sizes_counts(void **state)
{
    (void)state;
    rc_heap *h = heap_tracing(1);
    void *bufs[10], *objs[3];
    int line_buf = __LINE__ + 2;
    for (int i = 0; i < 10; i++)
        bufs[i] = rc_alloc(h, 100);
    int line_obj = __LINE__ + 2;
    for (int i = 0; i < 3; i++)
        objs[i] = rc_new(h, &node_type);
    rc_snapshot *s = rc_trace_take_snapshot(h);
    assert_non_null(s);
    rc_trace_stats *st = rc_snapshot_statistics(s, RC_TRACE_BY_LINENO, false);
    assert_non_null(st);
    const rc_trace_stat *a = find_stat(st, line_buf), *o = find_stat(st, line_obj);
    assert_non_null(a);
    assert_non_null(o);
    assert_int_equal(a->size, 1000);
    assert_int_equal(a->count, 10);
    assert_int_equal(o->count, 3);
    assert_int_equal(o->size, 3 * (48 + 16));      /* header included */
    assert_string_equal(a->traceback->frames[0].func, "test_sites_sizes_counts");
    /* sorted by size: the buffers first */
    assert_ptr_equal(a, &st->items[0]);
    char line[512], want[512];
    rc_trace_stat_format(st, 0, line, sizeof line);
    snprintf(want, sizeof want, "%s:%d: size=1000 B, count=10, average=100 B", __FILE__, line_buf);
    assert_string_equal(line, want);
    rc_trace_stats_free(st);
    rc_snapshot_free(s);

    size_t cur, peak;
    rc_trace_get_traced_memory(h, &cur, &peak);
    assert_int_equal(cur, 1000 + 3 * 64);
    assert_int_equal(rc_trace_count(h), 13);
    for (int i = 0; i < 3; i++)
        rc_decref(objs[i]);
    for (int i = 0; i < 10; i++)
        rc_free(h, bufs[i]);
    rc_heap_free(h);
}

static void test_freed_memory_does_not_show(void **state)
{
    (void)state;
    rc_heap *h = heap_tracing(1);
    void *keep[4], *drop[6];
    int line_keep = __LINE__ + 1;
    for (int i = 0; i < 4; i++) keep[i] = rc_alloc(h, 64);
    for (int i = 0; i < 6; i++) drop[i] = rc_alloc(h, 64);
    for (int i = 0; i < 6; i++) rc_free(h, drop[i]);
    void *big = rc_alloc(h, 100000);
    rc_free(h, big);
    void *o = rc_new(h, &node_type);
    rc_decref(o);
    rc_snapshot *s = rc_trace_take_snapshot(h);
    rc_trace_stats *st = rc_snapshot_statistics(s, RC_TRACE_BY_LINENO, false);
    assert_int_equal(st->len, 1);
    assert_int_equal(st->items[0].traceback->frames[0].lineno, line_keep);
    assert_int_equal(st->items[0].count, 4);
    assert_int_equal(rc_snapshot_count(s), 4);
    assert_int_equal(rc_snapshot_size(s), 256);
    size_t cur, peak;
    rc_trace_get_traced_memory(h, &cur, &peak);
    assert_int_equal(cur, 256);
    assert_true(peak >= 256 + 100000);
    rc_trace_reset_peak(h);
    rc_trace_get_traced_memory(h, &cur, &peak);
    assert_int_equal(peak, 256);
    rc_trace_stats_free(st);
    rc_snapshot_free(s);
    for (int i = 0; i < 4; i++) rc_free(h, keep[i]);
    rc_heap_free(h);
}

static void test_realloc_moves_the_trace(void **state)
{
    (void)state;
    rc_heap *h = heap_tracing(1);
    void *p = rc_alloc(h, 16);
    int line = __LINE__ + 1;
    p = rc_realloc(h, p, 5000);
    rc_snapshot *s = rc_trace_take_snapshot(h);
    rc_trace_stats *st = rc_snapshot_statistics(s, RC_TRACE_BY_LINENO, false);
    assert_int_equal(st->len, 1);
    assert_int_equal(st->items[0].traceback->frames[0].lineno, line);
    assert_int_equal(st->items[0].size, 5000);
    rc_trace_stats_free(st);
    rc_snapshot_free(s);
    rc_free(h, p);
    rc_heap_free(h);
}

static void test_compare_to_signs(void **state)
{
    (void)state;
    rc_heap *h = heap_tracing(1);
    void *a[8], *b[5];
    int line_a = __LINE__ + 1;
    for (int i = 0; i < 8; i++) a[i] = rc_alloc(h, 32);
    rc_snapshot *old = rc_trace_take_snapshot(h);
    for (int i = 0; i < 3; i++) rc_free(h, a[i]);
    int line_b = __LINE__ + 1;
    for (int i = 0; i < 5; i++) b[i] = rc_alloc(h, 1024);
    rc_snapshot *nw = rc_trace_take_snapshot(h);
    rc_trace_stats *d = rc_snapshot_compare_to(nw, old, RC_TRACE_BY_LINENO, false);
    assert_non_null(d);
    assert_true(d->is_diff);
    const rc_trace_stat *sa = find_stat(d, line_a), *sb = find_stat(d, line_b);
    assert_int_equal(sb->size_diff, 5 * 1024);
    assert_int_equal(sb->count_diff, 5);
    assert_int_equal(sa->size_diff, -3 * 32);
    assert_int_equal(sa->count_diff, -3);
    assert_int_equal(sa->count, 5);
    assert_ptr_equal(sb, &d->items[0]);           /* largest |size_diff| first */
    char line[512], want[512];
    rc_trace_stat_format(d, 0, line, sizeof line);
    snprintf(want, sizeof want, "%s:%d: size=5120 B (+5120 B), count=5 (+5), average=1024 B", __FILE__, line_b);
    assert_string_equal(line, want);
    rc_trace_stat_format(d, 1, line, sizeof line);
    snprintf(want, sizeof want, "%s:%d: size=160 B (-96 B), count=5 (-3), average=32 B", __FILE__, line_a);
    assert_string_equal(line, want);
    rc_trace_stats_free(d);

    /* a site that disappeared: size 0 and the whole old size negative */
    for (int i = 3; i < 8; i++) rc_free(h, a[i]);
    rc_snapshot *gone = rc_trace_take_snapshot(h);
    d = rc_snapshot_compare_to(gone, nw, RC_TRACE_BY_LINENO, false);
    sa = find_stat(d, line_a);
    assert_int_equal(sa->size, 0);
    assert_int_equal(sa->count, 0);
    assert_int_equal(sa->size_diff, -160);
    rc_trace_stat_format(d, (size_t)(sa - d->items), line, sizeof line);
    snprintf(want, sizeof want, "%s:%d: size=0 B (-160 B), count=0 (-5)", __FILE__, line_a);
    assert_string_equal(line, want);
    rc_trace_stats_free(d);
    rc_snapshot_free(gone);
    rc_snapshot_free(old);
    rc_snapshot_free(nw);
    for (int i = 0; i < 5; i++) rc_free(h, b[i]);
    rc_heap_free(h);
}

static int line_of_helper_call;

static __attribute__((noinline)) void *alloc_in_helper(rc_heap *h)
{
    void *p = rc_alloc(h, 77);
    __asm__ volatile("" ::: "memory");
    return p;
}

static volatile int exported_calls;   /* no identical-code folding with via_one below */

/* Exported (the test is linked with ENABLE_EXPORTS), so dladdr can name it. */
__attribute__((noinline)) void *trace_test_exported_caller(rc_heap *h);
__attribute__((noinline)) void *trace_test_exported_caller(rc_heap *h)
{
    exported_calls++;
    void *p = alloc_in_helper(h);
    __asm__ volatile("" ::: "memory");
    return p;
}

/* Without a symbolizer installed the core names native frames with dladdr:
 * exported functions only, shown as "module(function)" without a line. */
static void test_native_frames_named_by_dladdr(void **state)
{
    (void)state;
    rc_trace_set_symbolizer(NULL);
    rc_heap *h = heap_tracing(8);
    void *p = trace_test_exported_caller(h);
    rc_traceback *tb = rc_trace_get_object_traceback(h, p);
    rc_trace_set_symbolizer(rc_symbolize_dwarf);
    assert_non_null(tb);
    assert_true(tb->nframe >= 2);
    assert_string_equal(tb->frames[0].filename, __FILE__);   /* the rc_alloc site */
    assert_non_null(tb->frames[1].func);
    assert_string_equal(tb->frames[1].func, "trace_test_exported_caller");
    assert_int_equal(tb->frames[1].lineno, 0);
    assert_non_null(strstr(tb->frames[1].filename, "(trace_test_exported_caller)"));
    free(tb);
    rc_free(h, p);
    rc_heap_free(h);
}

static void test_native_frames_and_object_traceback(void **state)
{
    (void)state;
    rc_heap *h = heap_tracing(8);
    assert_int_equal(rc_trace_get_traceback_limit(h), 8);
    line_of_helper_call = __LINE__ + 1;
    void *p = alloc_in_helper(h);
    rc_traceback *tb = rc_trace_get_object_traceback(h, p);
    assert_non_null(tb);
    assert_true(tb->nframe >= 2);
    assert_string_equal(tb->frames[0].func, "alloc_in_helper");
    assert_string_equal(tb->frames[0].filename, __FILE__);
    assert_int_equal(tb->frames[1].lineno, line_of_helper_call);
    assert_string_equal(tb->frames[1].func, "test_native_frames_and_object_traceback");
    free(tb);
    assert_null(rc_trace_get_object_traceback(h, &tb));   /* not a traced block */

    /* traceback grouping and cumulative statistics */
    rc_snapshot *s = rc_trace_take_snapshot(h);
    rc_trace_stats *st = rc_snapshot_statistics(s, RC_TRACE_BY_TRACEBACK, false);
    assert_int_equal(st->len, 1);
    assert_true(st->items[0].traceback->nframe >= 2);
    rc_trace_stats_free(st);
    st = rc_snapshot_statistics(s, RC_TRACE_BY_LINENO, true);
    assert_non_null(find_stat(st, line_of_helper_call));
    assert_int_equal(find_stat(st, line_of_helper_call)->size, 77);
    rc_trace_stats_free(st);
    st = rc_snapshot_statistics(s, RC_TRACE_BY_FILENAME, true);
    const rc_trace_stat *f = find_stat(st, 0);
    assert_non_null(f);
    assert_int_equal(f->traceback->frames[0].lineno, 0);
    assert_int_equal(f->count, 2);    /* two frames in this file, counted per frame as tracemalloc does */
    rc_trace_stats_free(st);
    assert_null(rc_snapshot_statistics(s, RC_TRACE_BY_TRACEBACK, true));
    assert_int_equal(rc_last_error_code(NULL), RC_EINVAL);
    rc_snapshot_free(s);
    rc_free(h, p);
    rc_heap_free(h);
}

static __attribute__((noinline)) void *via_one(rc_heap *h)
{
    void *p = alloc_in_helper(h);
    __asm__ volatile("" ::: "memory");
    return p;
}

static volatile int two_calls;   /* keeps via_two's code its own (no identical-code folding) */

static __attribute__((noinline)) void *via_two(rc_heap *h)
{
    two_calls++;
    void *p = alloc_in_helper(h);
    __asm__ volatile("" ::: "memory");
    return p;
}

/* Alternating call paths of the same depth: the frame records sit at the
 * same addresses, only their contents differ; each traceback must follow
 * its own path (the walk's memo must notice). */
static void test_frames_of_alternating_paths(void **state)
{
    (void)state;
    rc_heap *h = heap_tracing(6);
    void *p[6];
    for (int i = 0; i < 6; i++)
        p[i] = i % 3 == 2 ? via_two(h) : via_one(h);
    for (int i = 0; i < 6; i++) {
        rc_traceback *tb = rc_trace_get_object_traceback(h, p[i]);
        assert_non_null(tb);
        assert_true(tb->nframe >= 3);
        assert_string_equal(tb->frames[0].func, "alloc_in_helper");
        assert_string_equal(tb->frames[1].func, i % 3 == 2 ? "via_two" : "via_one");
        assert_string_equal(tb->frames[2].func, "test_frames_of_alternating_paths");
        free(tb);
    }
    for (int i = 0; i < 6; i++)
        rc_free(h, p[i]);
    rc_heap_free(h);
}

static void test_filters(void **state)
{
    (void)state;
    rc_heap *h = heap_tracing(1);
    int line1 = __LINE__ + 1;
    void *p1 = rc_alloc(h, 10);
    int line2 = __LINE__ + 1;
    void *p2 = rc_alloc(h, 20);
    rc_snapshot *s = rc_trace_take_snapshot(h);
    rc_trace_filter inc_line = {.inclusive = true, .filename_pattern = "*test_trace.c", .lineno = line1};
    rc_snapshot *f = rc_snapshot_filter_traces(s, &inc_line, 1);
    assert_int_equal(rc_snapshot_count(f), 1);
    assert_int_equal(rc_snapshot_size(f), 10);
    rc_snapshot_free(f);
    rc_trace_filter exc_line = {.inclusive = false, .filename_pattern = "*test_trace.c", .lineno = line1};
    f = rc_snapshot_filter_traces(s, &exc_line, 1);
    assert_int_equal(rc_snapshot_size(f), 20);
    rc_snapshot_free(f);
    rc_trace_filter exc_file = {.inclusive = false, .filename_pattern = "*test_trace.c"};
    f = rc_snapshot_filter_traces(s, &exc_file, 1);
    assert_int_equal(rc_snapshot_count(f), 0);
    rc_snapshot_free(f);
    rc_trace_filter other = {.inclusive = true, .filename_pattern = "*nothing*"};
    f = rc_snapshot_filter_traces(s, &other, 1);
    assert_int_equal(rc_snapshot_count(f), 0);
    rc_snapshot_free(f);
    rc_trace_filter dom[2] = {{.inclusive = true, .domain = RC_TRACE_DOMAIN_HEAP},
                              {.inclusive = false, .domain = RC_TRACE_DOMAIN_MMAP}};
    f = rc_snapshot_filter_traces(s, dom, 2);
    assert_int_equal(rc_snapshot_count(f), 2);
    rc_snapshot_free(f);
    rc_trace_filter dom_mmap = {.inclusive = true, .filename_pattern = "*", .has_domain = true,
                                .domain = RC_TRACE_DOMAIN_MMAP};
    f = rc_snapshot_filter_traces(s, &dom_mmap, 1);
    assert_int_equal(rc_snapshot_count(f), 0);
    rc_snapshot_free(f);
    f = rc_snapshot_filter_traces(s, NULL, 0);
    assert_int_equal(rc_snapshot_count(f), 2);
    rc_snapshot_free(f);
    (void)line2;
    rc_snapshot_free(s);
    rc_free(h, p1);
    rc_free(h, p2);
    rc_heap_free(h);

    /* all_frames: a pattern that only an outer frame (cmocka's runner) matches */
    h = heap_tracing(8);
    p1 = alloc_in_helper(h);
    s = rc_trace_take_snapshot(h);
    rc_trace_filter outer = {.inclusive = true, .filename_pattern = "*cmocka*"};
    f = rc_snapshot_filter_traces(s, &outer, 1);
    assert_int_equal(rc_snapshot_count(f), 0);
    rc_snapshot_free(f);
    outer.all_frames = true;
    f = rc_snapshot_filter_traces(s, &outer, 1);
    assert_int_equal(rc_snapshot_count(f), 1);
    rc_snapshot_free(f);
    outer.inclusive = false;              /* exclusive + all_frames: any frame matching drops it */
    f = rc_snapshot_filter_traces(s, &outer, 1);
    assert_int_equal(rc_snapshot_count(f), 0);
    rc_snapshot_free(f);
    rc_trace_filter dom_exc = {.inclusive = false, .filename_pattern = "*test_trace.c", .has_domain = true,
                               .domain = RC_TRACE_DOMAIN_MMAP};
    f = rc_snapshot_filter_traces(s, &dom_exc, 1);   /* other domain: kept (res or domain != d) */
    assert_int_equal(rc_snapshot_count(f), 1);
    rc_snapshot_free(f);
    rc_snapshot_free(s);
    rc_free(h, p1);
    rc_heap_free(h);
}

static void stats_text(rc_snapshot *s, rc_trace_key key, char *out, size_t n)
{
    FILE *f = fmemopen(out, n, "w");
    rc_trace_stats *st = rc_snapshot_statistics(s, key, false);
    assert_non_null(st);
    rc_trace_stats_print(st, 0, f);
    fclose(f);
    rc_trace_stats_free(st);
}

static char tmpdir[] = "/tmp/test_trace_XXXXXX";

static void test_dump_load_round_trip(void **state)
{
    (void)state;
    rc_heap *h = heap_tracing(4);
    void *p[20];
    for (int i = 0; i < 20; i++)
        p[i] = i % 2 ? rc_alloc(h, (size_t)(i * 10 + 1)) : alloc_in_helper(h);
    rc_snapshot *s = rc_trace_take_snapshot(h);
    char path[256];
    snprintf(path, sizeof path, "%s/round.snap", tmpdir);
    assert_int_equal(rc_snapshot_dump(s, path), 0);
    rc_snapshot *l = NULL;
    assert_int_equal(rc_snapshot_load(path, &l), 0);
    assert_int_equal(rc_snapshot_count(l), rc_snapshot_count(s));
    assert_int_equal(rc_snapshot_size(l), rc_snapshot_size(s));
    assert_int_equal(rc_snapshot_traceback_limit(l), 4);
    static char a[1 << 16], b[1 << 16];
    for (rc_trace_key k = RC_TRACE_BY_FILENAME; k <= RC_TRACE_BY_TRACEBACK; k++) {
        stats_text(s, k, a, sizeof a);
        stats_text(l, k, b, sizeof b);
        assert_string_equal(a, b);
    }
    rc_trace_stats *d = rc_snapshot_compare_to(l, s, RC_TRACE_BY_TRACEBACK, false);
    for (size_t i = 0; i < d->len; i++) {
        assert_int_equal(d->items[i].size_diff, 0);
        assert_int_equal(d->items[i].count_diff, 0);
    }
    rc_trace_stats_free(d);
    size_t cur, peak, lcur, lpeak;
    rc_snapshot_traced_memory(s, &cur, &peak);
    rc_snapshot_traced_memory(l, &lcur, &lpeak);
    assert_int_equal(cur, lcur);
    assert_int_equal(peak, lpeak);
    rc_snapshot_free(l);
    rc_snapshot_free(s);
    for (int i = 0; i < 20; i++)
        rc_free(h, p[i]);
    rc_heap_free(h);
}

static void test_corrupt_files_refused(void **state)
{
    (void)state;
    rc_heap *h = heap_tracing(2);
    void *p = rc_alloc(h, 40), *q = alloc_in_helper(h);
    rc_snapshot *s = rc_trace_take_snapshot(h);
    char path[256], bad[256];
    snprintf(path, sizeof path, "%s/small.snap", tmpdir);
    snprintf(bad, sizeof bad, "%s/bad.snap", tmpdir);
    assert_int_equal(rc_snapshot_dump(s, path), 0);
    size_t len;
    unsigned char *buf = slurp(path, &len);
    rc_snapshot *l;
    for (size_t cut = 0; cut < len; cut++) {     /* truncated at every offset */
        spit(bad, buf, cut);
        l = (rc_snapshot *)1;
        assert_int_equal(rc_snapshot_load(bad, &l), RC_EFORMAT);
        assert_null(l);
        assert_non_null(strstr(rc_last_error(NULL), bad));
        assert_non_null(strstr(rc_last_error(NULL), "byte offset"));
    }
    for (size_t i = 0; i < len; i++) {           /* any flipped byte */
        buf[i] ^= 0x40;
        spit(bad, buf, len);
        buf[i] ^= 0x40;
        assert_int_equal(rc_snapshot_load(bad, &l), RC_EFORMAT);
    }
    buf[8] = 3;                                  /* a future version */
    spit(bad, buf, len);
    assert_int_equal(rc_snapshot_load(bad, &l), RC_EFORMAT);
    assert_non_null(strstr(rc_last_error(NULL), "byte offset 8: format version 3"));
    buf[8] = 2;
    spit(bad, buf, len);
    assert_int_equal(rc_snapshot_load(bad, &l), 0);
    rc_snapshot_free(l);
    snprintf(bad, sizeof bad, "%s/missing.snap", tmpdir);
    assert_int_equal(rc_snapshot_load(bad, &l), RC_ENOENT);
    free(buf);
    rc_snapshot_free(s);
    rc_free(h, p);
    rc_free(h, q);
    rc_heap_free(h);
}

static void test_format_size_like_python(void **state)
{
    (void)state;
    /* expected strings computed with tracemalloc._format_size */
    static const struct { double v; bool sign; const char *s; } cases[] = {
        {0, false, "0 B"}, {126, false, "126 B"}, {10239, false, "10239 B"}, {10240, false, "10.0 KiB"},
        {4855 * 1024.0, false, "4855 KiB"}, {102400, false, "100 KiB"}, {1536, true, "+1536 B"},
        {-96, true, "-96 B"}, {0, true, "+0 B"}, {-2.5 * 1024 * 1024, true, "-2560 KiB"}, {-25.0 * 1024 * 1024, true, "-25.0 MiB"},
        {126.4, false, "126 B"}, {12 * 1024.0 * 1024 * 1024 * 1024 * 1024, false, "12288 TiB"},
        {99.95 * 1024, false, "100.0 KiB"},
    };
    char buf[64];
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        rc_trace_format_size(cases[i].v, cases[i].sign, buf, sizeof buf);
        assert_string_equal(buf, cases[i].s);
    }
}

/* The same numbers through CPython's own tracemalloc._format_size. */
static void test_format_size_against_cpython(void **state)
{
    (void)state;
    if (access("/usr/bin/python3", X_OK) != 0)
        skip();
    double v[300];
    char cmd[16384] = "/usr/bin/python3 -c 'import sys, tracemalloc as t\n"
                      "for a in sys.argv[1:]: print(t._format_size(float(a), a[0] in \"+-\"))'";
    size_t len = strlen(cmd);
    srand(7);
    for (int i = 0; i < 300; i++) {
        double mag = pow(2.0, (double)(rand() % 50)) * (double)rand() / RAND_MAX;
        v[i] = i % 3 == 0 ? -mag : mag;
        len += (size_t)snprintf(cmd + len, sizeof cmd - len, i % 2 ? " %+.17g" : " %.17g", v[i]);
    }
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    char want[64], got[64];
    for (int i = 0; i < 300; i++) {
        assert_non_null(fgets(want, sizeof want, p));
        want[strcspn(want, "\n")] = 0;
        rc_trace_format_size(v[i], i % 2, got, sizeof got);   /* a leading "-" prints the same either way */
        assert_string_equal(got, want);
    }
    pclose(p);
}

/* ---- the same snapshots through CPython's tracemalloc ------------------- */

static __attribute__((noinline)) void *alloc_at(rc_heap *h, int where, size_t n)
{
    switch (where) {
    case 0: return rc_alloc(h, n);
    case 1: return rc_alloc(h, n);
    case 2: return rc_alloc(h, n);
    default: return alloc_in_helper(h);
    }
}

static __attribute__((noinline)) void *alloc_deep(rc_heap *h, int depth, int where, size_t n)
{
    void *p = depth ? alloc_deep(h, depth - 1, where, n) : alloc_at(h, where, n);
    __asm__ volatile("" ::: "memory");
    return p;
}

/* Snapshot s as a Python list of trace tuples (domain, size, frames, None). */
static void write_traces(FILE *f, const char *name, rc_snapshot *s)
{
    fprintf(f, "%s = t.Snapshot([\n", name);
    for (size_t i = 0; i < rc_snapshot_count(s); i++) {
        size_t size;
        unsigned domain;
        rc_traceback *tb = rc_snapshot_get_trace(s, i, &size, &domain);
        assert_non_null(tb);
        fprintf(f, " (%u, %zu, (", domain, size);
        for (size_t k = 0; k < tb->nframe; k++)
            fprintf(f, "(\"%s\", %d),", tb->frames[k].filename, tb->frames[k].lineno);
        fprintf(f, "), None),\n");
        free(tb);
    }
    fprintf(f, "], %d)\n", rc_snapshot_traceback_limit(s));
}

static void print_stats(FILE *out, rc_trace_stats *st)
{
    char line[1024];
    assert_non_null(st);
    for (size_t i = 0; i < st->len; i++) {
        rc_trace_stat_format(st, i, line, sizeof line);
        fprintf(out, "%s\n", line);
    }
    rc_trace_stats_free(st);
}

static void test_statistics_match_cpython(void **state)
{
    (void)state;
    if (access("/usr/bin/python3", X_OK) != 0)
        skip();
    rc_heap *h = heap_tracing(4);
    enum { N = 400 };
    void *p[N] = {0};
    srand(3);
    for (int i = 0; i < N; i++)
        p[i] = alloc_deep(h, rand() % 3, rand() % 4, (size_t)(1 + rand() % (i % 7 == 0 ? 20000 : 300)));
    rc_snapshot *old = rc_trace_take_snapshot(h);
    for (int i = 0; i < N; i += 3)
        rc_free(h, p[i]);
    for (int i = 0; i < N; i += 3)
        p[i] = alloc_deep(h, rand() % 3, rand() % 3, 64);
    rc_snapshot *nw = rc_trace_take_snapshot(h);

    char script[256], ours[256], theirs[256], cmd[1200];
    snprintf(script, sizeof script, "%s/cmp.py", tmpdir);
    snprintf(ours, sizeof ours, "%s/ours.txt", tmpdir);
    snprintf(theirs, sizeof theirs, "%s/theirs.txt", tmpdir);
    FILE *f = fopen(script, "w");
    fprintf(f, "import tracemalloc as t\n");
    write_traces(f, "old", old);
    write_traces(f, "new", nw);
    fprintf(f, "for k, c in (('lineno', 0), ('filename', 0), ('traceback', 0), ('lineno', 1), ('filename', 1)):\n"
               "    for st in new.statistics(k, c): print(st)\n"
               "    for st in new.compare_to(old, k, c): print(st)\n");
    fclose(f);
    FILE *o = fopen(ours, "w");
    static const struct { rc_trace_key k; bool c; } modes[] = {
        {RC_TRACE_BY_LINENO, false}, {RC_TRACE_BY_FILENAME, false}, {RC_TRACE_BY_TRACEBACK, false},
        {RC_TRACE_BY_LINENO, true}, {RC_TRACE_BY_FILENAME, true}};
    for (size_t m = 0; m < sizeof modes / sizeof modes[0]; m++) {
        print_stats(o, rc_snapshot_statistics(nw, modes[m].k, modes[m].c));
        print_stats(o, rc_snapshot_compare_to(nw, old, modes[m].k, modes[m].c));
    }
    fclose(o);
    snprintf(cmd, sizeof cmd, "/usr/bin/python3 %s > %s && cmp -s %s %s", script, theirs, ours, theirs);
    if (system(cmd) != 0) {
        snprintf(cmd, sizeof cmd, "diff %s %s | head -20", theirs, ours);
        assert_int_equal(system(cmd), 0);
        fail_msg("statistics differ from CPython's tracemalloc (above: < CPython, > recycle)");
    }
    rc_snapshot_free(old);
    rc_snapshot_free(nw);
    for (int i = 0; i < N; i++)
        rc_free(h, p[i]);
    rc_heap_free(h);
}

static void test_control_and_tracer_memory(void **state)
{
    (void)state;
    rc_heap *h = rc_heap_new(NULL);
    assert_false(rc_trace_is_tracing(h));
    assert_null(rc_trace_take_snapshot(h));
    assert_int_equal(rc_last_error_code(h), RC_ESTATE);
    assert_int_equal(rc_trace_start(h, 0), RC_EINVAL);
    void *before = rc_alloc(h, 10);
    assert_int_equal(rc_trace_start(h, 1), 0);
    assert_true(rc_trace_is_tracing(h));
    rc_free(h, before);                  /* allocated before: never traced */
    enum { N = 100000 };
    void **p = malloc(N * sizeof *p);
    for (int i = 0; i < N; i++)
        p[i] = rc_alloc(h, 24);
    assert_int_equal(rc_trace_count(h), N);
    size_t per = rc_trace_get_tracemalloc_memory(h) / N;
    assert_true(per <= 32);              /* the tracer's memory target */
    rc_trace_clear_traces(h);
    size_t cur, peak;
    rc_trace_get_traced_memory(h, &cur, &peak);
    assert_int_equal(cur, 0);
    assert_int_equal(peak, 0);
    for (int i = 0; i < N; i++)
        rc_free(h, p[i]);
    rc_trace_stop(h);
    assert_false(rc_trace_is_tracing(h));
    assert_int_equal(rc_trace_count(h), 0);
    free(p);
    rc_heap_free(h);
}

int main(void)
{
    if (!mkdtemp(tmpdir))
        return 1;
    rc_trace_set_symbolizer(rc_symbolize_dwarf);   /* file:line for native frames */
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sites_sizes_counts),
        cmocka_unit_test(test_freed_memory_does_not_show),
        cmocka_unit_test(test_realloc_moves_the_trace),
        cmocka_unit_test(test_compare_to_signs),
        cmocka_unit_test(test_native_frames_and_object_traceback),
        cmocka_unit_test(test_native_frames_named_by_dladdr),
        cmocka_unit_test(test_frames_of_alternating_paths),
        cmocka_unit_test(test_filters),
        cmocka_unit_test(test_dump_load_round_trip),
        cmocka_unit_test(test_corrupt_files_refused),
        cmocka_unit_test(test_format_size_like_python),
        cmocka_unit_test(test_format_size_against_cpython),
        cmocka_unit_test(test_statistics_match_cpython),
        cmocka_unit_test(test_control_and_tracer_memory),
    };
    int r = cmocka_run_group_tests(tests, NULL, NULL);
    if (remove_tree(tmpdir) != 0)
        return 1;
    return r;
}
