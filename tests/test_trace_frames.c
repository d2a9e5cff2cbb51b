/* Frames a person can read, and the run's record, in snapshots of
 * `recycle trace` (src/trace/trace_symbol.c, src/trace/preload/):
 *   - a stripped program: nameless static functions stay apart as
 *     module+0xOFFSET; without debug information, names from .symtab;
 *   - allocation wrappers skipped, by default (xmalloc) and --alloc-fn;
 *   - C++: inlined standard-library code charged to the program's lines,
 *     and inlined frames with their file:line;
 *   - a module rebuilt since the trace is not named, with a warning;
 *   - the live set at the peak, calls and temporary allocations per site. */
#include "files.h"
#include <recycle.h>
#include <recycle-tools.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

static char dir[] = "/tmp/test_trace_frames_XXXXXX";

/* The line of tests/progs/FILE marked SITE:<name>. */
static int site_line(const char *file, const char *name)
{
    char path[1024], line[512], mark[64];
    snprintf(path, sizeof path, "%s/tests/progs/%s", RC_SOURCE_DIR, file);
    snprintf(mark, sizeof mark, "SITE:%s", name);
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    int n = 0, found = 0;
    while (!found && fgets(line, sizeof line, f)) {
        n++;
        char *at = strstr(line, mark);
        if (at && (at[strlen(mark)] == ' ' || at[strlen(mark)] == '\n'))
            found = n;
    }
    fclose(f);
    assert_true(found > 0);
    return found;
}

/* Runs `recycle trace -n FRAMES [extra] -o dir/NAME.snap -- prog [arg]`
 * quietly and loads the snapshot. */
static rc_snapshot *trace(const char *name, int frames, const char *extra, const char *prog, const char *arg)
{
    char cmd[2048], out[512];
    snprintf(out, sizeof out, "%s/%s.snap", dir, name);
    snprintf(cmd, sizeof cmd, "RECYCLE_TRACE_LIB=%s %s trace -n %d %s -o %s -- %s %s >/dev/null 2>&1",
             RC_PRELOAD_LIB, RC_RECYCLE, frames, extra, out, prog, arg);
    assert_int_equal(system(cmd), 0);
    rc_snapshot *s = NULL;
    if (rc_snapshot_load(out, &s) != 0)
        fail_msg("%s", rc_last_error(NULL));
    return s;
}

static const rc_trace_stat *at_line(const rc_trace_stats *st, const char *file, int line)
{
    for (size_t i = 0; i < st->len; i++) {
        const rc_frame *f = &st->items[i].traceback->frames[0];
        if (f->lineno == line && strstr(f->filename, file))
            return &st->items[i];
    }
    return NULL;
}

static const rc_trace_stat *expect_at(const rc_trace_stats *st, const char *file, const char *site, size_t size)
{
    const rc_trace_stat *s = at_line(st, file, site_line(file, site));
    if (!s)
        fail_msg("no statistic at SITE:%s (%s:%d)", site, file, site_line(file, site));
    if (s->size != size)
        fail_msg("SITE:%s: %zu B, expected %zu", site, s->size, size);
    return s;
}

/* The statistic of exactly `size` bytes; fails unless there is one. */
static const rc_trace_stat *of_size(const rc_trace_stats *st, size_t size)
{
    const rc_trace_stat *found = NULL;
    for (size_t i = 0; i < st->len; i++)
        if (st->items[i].size == size) {
            assert_null(found);
            found = &st->items[i];
        }
    if (!found)
        fail_msg("no statistic of %zu B", size);
    return found;
}

static void test_stripped_static_functions_stay_apart(void **state)
{
    (void)state;
    rc_snapshot *s = trace("stripped", 1, "", RC_FRAMES_PROG_STRIPPED, "");
    rc_trace_stats *st = rc_snapshot_statistics(s, RC_TRACE_BY_LINENO, false);
    const rc_trace_stat *big = of_size(st, 4000000), *small = of_size(st, 100000);
    const char *fb = big->traceback->frames[0].filename, *fs = small->traceback->frames[0].filename;
    assert_non_null(strstr(fb, "frames_prog_stripped+0x"));
    assert_non_null(strstr(fs, "frames_prog_stripped+0x"));
    assert_string_not_equal(fb, fs);
    assert_int_equal(big->count, 1000);
    assert_int_equal(small->count, 100);
    rc_trace_stats_free(st);
    rc_snapshot_free(s);
}

static void test_symtab_names_without_debug_info(void **state)
{
    (void)state;
    rc_snapshot *s = trace("nodebug", 1, "", RC_FRAMES_PROG_NODEBUG, "");
    rc_trace_stats *st = rc_snapshot_statistics(s, RC_TRACE_BY_LINENO, false);
    assert_non_null(strstr(of_size(st, 4000000)->traceback->frames[0].filename, "frames_prog_nodebug(leak_big)"));
    assert_non_null(strstr(of_size(st, 100000)->traceback->frames[0].filename, "frames_prog_nodebug(leak_small)"));
    rc_trace_stats_free(st);
    rc_snapshot_free(s);
}

static void test_allocation_wrappers_skipped(void **state)
{
    (void)state;
    rc_snapshot *s = trace("wrappers", 1, "", RC_FRAMES_PROG, "");
    rc_trace_stats *st = rc_snapshot_statistics(s, RC_TRACE_BY_LINENO, false);
    expect_at(st, "frames_prog.c", "call_xmalloc", 3000);      /* xmalloc: a default wrapper */
    expect_at(st, "frames_prog.c", "in_pool_get", 2000);       /* not a wrapper unless told */
    expect_at(st, "frames_prog.c", "leak_big", 4000000);
    rc_trace_stats_free(st);
    rc_snapshot_free(s);

    s = trace("alloc_fn", 1, "--alloc-fn pool_get --alloc-fn 'nothing*'", RC_FRAMES_PROG, "");
    st = rc_snapshot_statistics(s, RC_TRACE_BY_LINENO, false);
    expect_at(st, "frames_prog.c", "call_pool_get", 2000);
    assert_null(at_line(st, "frames_prog.c", site_line("frames_prog.c", "in_pool_get")));
    rc_trace_stats_free(st);
    rc_snapshot_free(s);
}

static void test_cxx_inlined_frames(void **state)
{
    (void)state;
    rc_snapshot *s = trace("cxx1", 1, "", RC_CXX_PROG, "");
    rc_trace_stats *st = rc_snapshot_statistics(s, RC_TRACE_BY_LINENO, false);
    /* 100000 longs: the vector's last buffer, grown inside inlined push_back */
    expect_at(st, "cxx_prog.cc", "push_back", 131072 * sizeof(long));
    const rc_trace_stat *m = at_line(st, "cxx_prog.cc", site_line("cxx_prog.cc", "map_insert"));
    assert_non_null(m);
    assert_int_equal(m->count, 2000);                      /* 1000 nodes, 1000 strings */
    for (size_t i = 0; i < st->len; i++)
        assert_null(strstr(st->items[i].traceback->frames[0].filename, "/usr/include/c++/"));
    rc_trace_stats_free(st);
    rc_snapshot_free(s);

    s = trace("cxx3", 3, "", RC_CXX_PROG, "");
    st = rc_snapshot_statistics(s, RC_TRACE_BY_TRACEBACK, false);
    bool found = false;
    for (size_t i = 0; i < st->len; i++) {
        const rc_traceback *tb = st->items[i].traceback;
        if (tb->nframe < 3 || tb->frames[0].lineno != site_line("cxx_prog.cc", "push_back"))
            continue;
        /* fill() was inlined into build_vector(): a frame of its own */
        assert_string_equal(tb->frames[0].func, "fill");
        assert_int_equal(tb->frames[1].lineno, site_line("cxx_prog.cc", "call_fill"));
        assert_non_null(strstr(tb->frames[1].filename, "cxx_prog.cc"));
        assert_non_null(strstr(tb->frames[1].func, "build_vector"));
        found = true;
    }
    assert_true(found);
    rc_trace_stats_free(st);
    rc_snapshot_free(s);

    /* folded stacks: outermost first, the inlined fill() a frame of its own */
    char cmd[2048];
    snprintf(cmd, sizeof cmd,
             "%s trace-flame %s/cxx3.snap --peak | grep -q '^main [^;]*cxx_prog.cc:[0-9]*;_Z12build_vectorv [^;]*:%d;"
             "fill [^;]*cxx_prog.cc:%d 1572864$'",
             RC_RECYCLE, dir, site_line("cxx_prog.cc", "call_fill"), site_line("cxx_prog.cc", "push_back"));
    assert_int_equal(system(cmd), 0);
    /* and drawn: a box per frame of that stack at least, as SVG */
    snprintf(cmd, sizeof cmd, "%s trace-flame %s/cxx3.snap --peak -o %s/cxx3.svg && test $(grep -c '<polyline' %s/cxx3.svg) -ge 3",
             RC_RECYCLE, dir, dir, dir);
    assert_int_equal(system(cmd), 0);
}

static void test_rebuilt_module_not_named(void **state)
{
    (void)state;
    char copy[300], cmd[1024];
    snprintf(copy, sizeof copy, "%s/prog", dir);
    snprintf(cmd, sizeof cmd, "cp %s %s", RC_FRAMES_PROG, copy);
    assert_int_equal(system(cmd), 0);
    rc_snapshot *s = trace("rebuilt", 1, "", copy, "");
    rc_snapshot_free(s);
    snprintf(cmd, sizeof cmd, "cp %s %s", RC_FRAMES_PROG_NODEBUG, copy);   /* "rebuilt": another build-id */
    assert_int_equal(system(cmd), 0);
    snprintf(cmd, sizeof cmd, "%s/rebuilt.snap", dir);
    assert_int_equal(rc_snapshot_load(cmd, &s), 0);
    rc_trace_stats *st = rc_snapshot_statistics(s, RC_TRACE_BY_LINENO, false);
    const char *w = rc_snapshot_symbol_warning(s);
    assert_non_null(w);
    assert_non_null(strstr(w, "has changed since it was traced"));
    const rc_trace_stat *big = of_size(st, 4000000);
    assert_non_null(strstr(big->traceback->frames[0].filename, "/prog+0x"));   /* not a wrong name */
    rc_trace_stats_free(st);
    rc_snapshot_free(s);

    snprintf(cmd, sizeof cmd, "%s trace-stats %s/rebuilt.snap 2>&1 >/dev/null | grep -q 'has changed since'",
             RC_RECYCLE, dir);
    assert_int_equal(system(cmd), 0);
}

static void test_peak_and_sites(void **state)
{
    (void)state;
    rc_snapshot *s = trace("peak", 1, "", RC_FRAMES_PROG, "peak");
    assert_true(rc_snapshot_has_sites(s));
    rc_trace_stats *st = rc_snapshot_statistics_view(s, RC_TRACE_VIEW_PEAK, RC_TRACE_BY_LINENO, false);
    const rc_trace_stat *p = expect_at(st, "frames_prog.c", "peak_only", 1000000);
    assert_int_equal(p->count, 100);
    expect_at(st, "frames_prog.c", "leak_small", 100000);
    assert_null(at_line(st, "frames_prog.c", site_line("frames_prog.c", "temporary")));   /* none live then */
    rc_trace_stats_free(st);

    st = rc_snapshot_statistics_view(s, RC_TRACE_VIEW_SITES, RC_TRACE_BY_LINENO, false);
    const rc_trace_stat *t = expect_at(st, "frames_prog.c", "temporary", 0);
    assert_int_equal(t->calls, 50);
    assert_int_equal(t->temporary, 50);
    assert_int_equal(t->allocated, 50 * 777);
    p = expect_at(st, "frames_prog.c", "peak_only", 0);    /* nothing leaked */
    assert_int_equal(p->calls, 100);
    assert_int_equal(p->temporary, 1);                      /* the first free: same site and size as the last */
    assert_int_equal(p->peak_size, 1000000);
    const rc_trace_stat *l = expect_at(st, "frames_prog.c", "leak_small", 100000);
    assert_int_equal(l->calls, 100);
    const rc_trace_stat *r = expect_at(st, "frames_prog.c", "record", 0);
    assert_int_equal(r->calls, 51);
    assert_int_equal(r->temporary, 29);      /* same traceback and size as the allocation just before */
    rc_trace_stats_sort(st, RC_TRACE_ORDER_TEMPORARY);
    assert_int_equal(st->items[0].temporary, 50);
    rc_trace_stats_sort(st, RC_TRACE_ORDER_PEAK);
    assert_int_equal(st->items[0].peak_size, 1000000);
    char line[512];
    rc_trace_site_format(st, 0, line, sizeof line);
    assert_non_null(strstr(line, "calls=100, temporary=1, allocated=977 KiB, peak=977 KiB (100 blocks), "
                                 "leaked=0 B (0 blocks)"));
    rc_trace_stats_free(st);
    rc_snapshot_free(s);

    char cmd[1024];
    snprintf(cmd, sizeof cmd, "%s trace-stats %s/peak.snap --peak --limit 1 | grep -q 'frames_prog.c:%d: size=977 KiB, count=100'",
             RC_RECYCLE, dir, site_line("frames_prog.c", "peak_only"));
    assert_int_equal(system(cmd), 0);
    snprintf(cmd, sizeof cmd, "%s trace-stats %s/peak.snap --by calls --limit 1 | grep -q 'calls=100'", RC_RECYCLE,
             dir);
    assert_int_equal(system(cmd), 0);
}

/* LeakSanitizer-style suppressions leave traces out of the leak view. */
static void test_suppressions(void **state)
{
    (void)state;
    char supp[300], cmd[2048], log[300];
    snprintf(supp, sizeof supp, "%s/app.supp", dir);
    snprintf(log, sizeof log, "%s/supp.log", dir);
    FILE *f = fopen(supp, "w");
    assert_non_null(f);
    fputs("# known leaks of the program under test\n\nleak:leak_big\n", f);
    fclose(f);
    rc_snapshot *s = trace("supp", 1, "", RC_FRAMES_PROG, "");
    size_t bytes, count;
    const char *const patterns[] = {"leak_sm*"};
    rc_snapshot *c = rc_snapshot_suppress(s, patterns, 1, &bytes, &count);
    assert_non_null(c);
    assert_int_equal(bytes, 100000);
    assert_int_equal(count, 100);
    assert_int_equal(rc_snapshot_size(c), rc_snapshot_size(s) - 100000);
    rc_snapshot_free(c);
    rc_snapshot_free(s);

    snprintf(cmd, sizeof cmd, "%s trace-stats %s/supp.snap --by leaked --suppressions %s --limit 0 > %s", RC_RECYCLE,
             dir, supp, log);
    assert_int_equal(system(cmd), 0);
    snprintf(cmd, sizeof cmd, "grep -q 'Suppressed: 1000 blocks, 3906 KiB' %s && ! grep -q 'frames_prog.c:%d:' %s",
             log, site_line("frames_prog.c", "leak_big"), log);
    assert_int_equal(system(cmd), 0);

    f = fopen(supp, "w");
    fputs("leak:fine\nnot a suppression\n", f);
    fclose(f);
    snprintf(cmd, sizeof cmd, "%s trace-stats %s/supp.snap --suppressions %s 2>&1 | grep -q 'line 2: not a suppression'",
             RC_RECYCLE, dir, supp);
    assert_int_equal(system(cmd), 0);
}

static int setup(void **state)
{
    (void)state;
    rc_trace_set_symbolizer(rc_symbolize_dwarf);   /* file:line and inlined calls */
    return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    return remove_tree(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_stripped_static_functions_stay_apart),
        cmocka_unit_test(test_symtab_names_without_debug_info),
        cmocka_unit_test(test_allocation_wrappers_skipped),
        cmocka_unit_test(test_cxx_inlined_frames),
        cmocka_unit_test(test_rebuilt_module_not_named),
        cmocka_unit_test(test_peak_and_sites),
        cmocka_unit_test(test_suppressions),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
