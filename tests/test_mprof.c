/* src/profile/mprof.c, mprof_files.c, mprof_report.c: the .dat format both ways,
 * including round trips through Debian's python3-mprof. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <recycle-tools.h>
#include "prof_support.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char *dir;

static const char *write_file(const char *name, const char *text)
{
    const char *path = prof_path(dir, name);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
    return path;
}

/* ---- reading ------------------------------------------------------------ */

static const char sample_dat[] =
    "CMDLINE python3 work.py --size 'a b'\n"
    "BEFORE 150.000000 1700000000.0000\n"
    "MEM 10.500000 1700000000.0000\n"
    "MEM 20.250000 1700000000.1000\n"
    "CHLD 4242 5.000000 1700000000.1000\n"
    "FUNC __main__.load 10.5000 1700000000.0100 20.0000 1700000000.0900 1\n"
    "FUNC inner 12.0000 1700000000.0200 13.0000 1700000000.0300\n"
    "PEAK 99.000000 1700000000.0000 1700000000.1000\n"
    "CHLDPEAK 4242 7.500000 1700000000.0000 1700000000.1000\n"
    "EXIT signal 9 1700000000.2000\n"
    "FUTURE something we do not know yet\n"
    "# a comment\n";

static void test_load_all_records(void **state)
{
    (void)state;
    rc_mprof *p;
    assert_int_equal(rc_mprof_load(write_file("all.dat", sample_dat), &p), 0);
    assert_string_equal(p->cmdline, "python3 work.py --size 'a b'");
    assert_int_equal(p->nmem, 2);
    assert_true(p->mem[1].mib == 20.25 && p->mem[1].t == 1700000000.1);
    assert_int_equal(p->nfuncs, 2);
    assert_string_equal(p->funcs[0].name, "__main__.load");
    assert_int_equal(p->funcs[0].level, 1);
    assert_int_equal(p->funcs[1].level, 0);   /* old files have no level: 0 */
    assert_int_equal(p->npeaks, 1);
    assert_int_equal(p->nchildren, 1);
    assert_int_equal(p->children[0].pid, 4242);
    assert_true(rc_mprof_child_peak(&p->children[0]) == 7.5);
    assert_true(p->has_exit && p->exit_signaled && p->exit_code == 9);
    assert_int_equal(p->bad_lines, 0);
    assert_true(p->before_mib == 150.0 && p->before_t == 1700000000.0);
    double t;
    assert_true(rc_mprof_peak(p, &t) == 99.0);   /* the peak before attaching is not the peak seen */
    assert_true(fabs(t - 1700000000.05) < 1e-6);
    /* "max inside" of load uses the overlapping PEAK interval */
    assert_true(rc_mprof_func_peak(p, "__main__.load") == 99.0);
    assert_true(isnan(rc_mprof_func_peak(p, "nothere")));
    rc_mprof_free(p);
}

static void test_malformed_lines_reported_and_skipped(void **state)
{
    (void)state;
    const char *path = write_file("bad.dat",
                                  "CMDLINE x\n"
                                  "MEM 1.0 100.0\n"
                                  "MEM abc 101.0\n"          /* line 3 */
                                  "garbage\n"                /* line 4 */
                                  "FUNC f 1 2 3\n"           /* line 5 */
                                  "\n"                       /* line 6 */
                                  "MEM 2.0 102.0\n"
                                  "CHLD x 1 2\n");           /* line 8 */
    rc_mprof *p;
    assert_int_equal(rc_mprof_load(path, &p), 0);
    assert_int_equal(p->nmem, 2);
    assert_int_equal(p->bad_lines, 5);
    const char *msgs = p->skipped;
    char where[600];
    for (int line = 3; line <= 8; line++) {
        if (line == 7)
            continue;
        snprintf(where, sizeof where, "%s:%d: malformed line skipped", path, line);
        assert_non_null(strstr(msgs, where));
    }
    rc_mprof_free(p);
}

static void test_empty_and_missing_files(void **state)
{
    (void)state;
    rc_mprof *p = (rc_mprof *)1;
    assert_int_equal(rc_mprof_load(write_file("empty.dat", ""), &p), RC_EFORMAT);
    assert_null(p);
    assert_non_null(strstr(rc_last_error(NULL), "empty.dat: not an mprof .dat file: it is empty"));
    assert_int_equal(rc_mprof_load(write_file("cmd.dat", "CMDLINE only\n"), &p), RC_EFORMAT);
    assert_non_null(strstr(rc_last_error(NULL), "cmd.dat: not an mprof .dat file: no MEM sample in 1 line"));
    assert_int_equal(rc_mprof_load(prof_path(dir, "missing.dat"), &p), RC_ENOENT);
    assert_non_null(strstr(rc_last_error(NULL), "missing.dat: cannot open"));

    /* and the tool says so with exit status 1: the input, not the command
     * line, is wrong (2 is for that) */
    char *out;
    assert_int_equal(prof_sh(&out, "cd %s && %s peak empty.dat", dir, prof_recycle()), 1);
    assert_non_null(strstr(out, "empty.dat"));
    free(out);
    assert_int_equal(prof_sh(&out, "cd %s && %s plot missing.dat", dir, prof_recycle()), 1);
    assert_non_null(strstr(out, "missing.dat"));
    free(out);
    assert_int_equal(prof_sh(&out, "cd %s && %s peak --no-such-option empty.dat", dir, prof_recycle()), 2);
    free(out);
}

static size_t count_lines(const char *s)
{
    size_t n = 0;
    for (; *s; s++)
        n += *s == '\n';
    return n;
}

/* A file of another kind (here, 3000 lines of C-like text) is refused in
 * one line that says so, not one line per line of it. */
static void test_wrong_kind_of_file_one_line(void **state)
{
    (void)state;
    char *out;
    assert_int_equal(prof_sh(NULL, "cd %s && seq 3000 | sed 's/^/int x/' > notdat.txt", dir), 0);
    assert_int_equal(prof_sh(&out, "cd %s && %s peak notdat.txt", dir, prof_recycle()), 1);
    assert_int_equal(count_lines(out), 1);
    assert_non_null(strstr(out, "notdat.txt: not an mprof .dat file"));
    free(out);
    /* a .dat file with a few bad lines still loads, and names at most five */
    assert_int_equal(prof_sh(NULL, "cd %s && { echo 'MEM 1.0 100'; seq 20; echo 'MEM 2.0 101'; } > some.dat", dir), 0);
    assert_int_equal(prof_sh(&out, "cd %s && %s peak some.dat", dir, prof_recycle()), 0);
    assert_non_null(strstr(out, "some.dat:2: malformed line skipped"));
    assert_non_null(strstr(out, "15 more malformed lines skipped"));
    assert_null(strstr(out, "some.dat:7:"));
    free(out);
}

/* peak --func of a function the profile does not have: one line, exit 1,
 * no NaN; of one it has: its peak. */
static void test_peak_func_unknown(void **state)
{
    (void)state;
    char *out;
    write_file("funcs.dat", "MEM 10 100\nMEM 20 101\nFUNC load 10 100.1 20 100.9\nMEM 12 102\n");
    assert_int_equal(prof_sh(&out, "cd %s && %s peak --func nosuch funcs.dat", dir, prof_recycle()), 1);
    assert_int_equal(count_lines(out), 1);
    assert_non_null(strstr(out, "no function 'nosuch'"));
    assert_null(strstr(out, "NaN"));
    free(out);
    assert_int_equal(prof_sh(&out, "cd %s && %s peak --func load funcs.dat", dir, prof_recycle()), 0);
    assert_non_null(strstr(out, "funcs.dat\t20.000 MiB"));
    free(out);
}

/* peak <(...) and plot <(...): a pipe is a file to read like any other. */
static void test_profiles_from_pipes(void **state)
{
    (void)state;
    char *out;
    assert_int_equal(prof_sh(&out, "cd %s && bash -c '%s peak <(printf \"MEM 1 100\\nMEM 7.5 101\\n\")'", dir,
                             prof_recycle()), 0);
    assert_non_null(strstr(out, "7.500 MiB"));
    free(out);
    assert_int_equal(prof_sh(&out, "cd %s && bash -c '%s plot -o pipe.png <(printf \"MEM 1 100\\nMEM 7.5 101\\n\")'",
                             dir, prof_recycle()), 0);
    free(out);
    assert_int_equal(prof_sh(NULL, "test -s %s", prof_path(dir, "pipe.png")), 0);
}

/* ---- writing ------------------------------------------------------------ */

static void test_write_load_round_trip(void **state)
{
    (void)state;
    rc_mprof *a = rc_mprof_new();
    a->cmdline = strdup("./prog --flag");
    for (int i = 0; i < 50; i++)
        assert_int_equal(rc_mprof_add_mem(a, 1700000000.0 + i * 0.1, 10 + i * 0.5), 0);
    assert_int_equal(rc_mprof_add_func(a, "with space", 11, 1700000000.2, 12, 1700000000.4, 2), 0);
    assert_int_equal(rc_mprof_add_peak(a, 250.125, 1700000000.1, 1700000000.2), 0);
    a->before_mib = 300.5;
    a->before_t = 1699999999.5;
    assert_int_equal(rc_mprof_add_child(a, 77, 1700000000.3, 3.25), 0);
    const char *path = prof_path(dir, "rt.dat");
    assert_int_equal(rc_mprof_save(a, path), 0);
    rc_mprof *b;
    assert_int_equal(rc_mprof_load(path, &b), 0);
    assert_int_equal(b->nmem, 50);
    for (size_t i = 0; i < 50; i++) {
        assert_true(fabs(b->mem[i].mib - a->mem[i].mib) < 1e-6);
        assert_true(fabs(b->mem[i].t - a->mem[i].t) < 1e-4);
    }
    assert_string_equal(b->cmdline, "./prog --flag");
    assert_true(fabs(b->before_mib - 300.5) < 1e-6 && fabs(b->before_t - 1699999999.5) < 1e-4);
    assert_string_equal(b->funcs[0].name, "with_space");   /* a FUNC name is one field */
    assert_int_equal(b->funcs[0].level, 2);
    assert_true(rc_mprof_peak(b, NULL) == 250.125);
    assert_int_equal(b->children[0].pid, 77);
    rc_mprof_free(a);
    rc_mprof_free(b);
}

static void test_report_table(void **state)
{
    (void)state;
    rc_mprof *p = rc_mprof_new();
    rc_mprof_add_mem(p, 100.0, 10);
    rc_mprof_add_mem(p, 100.5, 30);
    rc_mprof_add_mem(p, 101.0, 14);
    rc_mprof_add_func(p, "grow", 10, 100.1, 12, 100.9, 1);
    rc_mprof_add_func(p, "grow", 12, 101.0, 14, 101.2, 1);
    char *text = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&text, &len);
    assert_int_equal(rc_mprof_report(p, false, out), 0);
    fclose(out);
    /* 2 calls, entry 10, exit 14, max inside 30 (the sample at 100.5), +4 */
    assert_non_null(strstr(text, "grow"));
    char *row = strstr(text, "grow");
    int calls;
    double secs, entry, exit_, max, inc;
    assert_int_equal(sscanf(row, "grow %d %lf %lf %lf %lf %lf", &calls, &secs, &entry, &exit_, &max, &inc), 6);
    assert_int_equal(calls, 2);
    assert_true(fabs(entry - 10) < 1e-3 && fabs(exit_ - 14) < 1e-3);
    assert_true(fabs(max - 30) < 1e-3 && fabs(inc - 4) < 1e-3);
    free(text);
    rc_mprof_free(p);
}

static void test_profile_files_listed_and_resolved(void **state)
{
    (void)state;
    const char *d = prof_tmpdir();
    const char *names[] = {"mprofile_20240102030405.dat", "mprofile_20230102030405.dat",
                           "mprofile_x.dat", "other.dat"};
    for (int i = 0; i < 4; i++)
        fclose(fopen(prof_path(d, names[i]), "w"));
    char **list;
    size_t n;
    assert_int_equal(rc_mprof_list(d, &list, &n), 0);
    assert_int_equal(n, 2);
    assert_string_equal(list[0], "mprofile_20230102030405.dat");
    rc_mprof_names_free(list, n);
    char *newest = rc_mprof_resolve(d, "-1"), *oldest = rc_mprof_resolve(d, "0");
    assert_non_null(strstr(newest, "20240102030405"));
    assert_non_null(strstr(oldest, "20230102030405"));
    assert_null(rc_mprof_resolve(d, "5"));
    char *byname = rc_mprof_resolve(d, "other.dat");
    assert_non_null(byname);
    free(newest);
    free(oldest);
    free(byname);
    char name[RC_MPROF_NAME_LEN];
    rc_mprof_default_name(name);
    assert_int_equal(strlen(name), strlen("mprofile_20240102030405.dat"));
    assert_memory_equal(name, "mprofile_", 9);

    char *out;   /* the tool: list, rm by index, clean */
    assert_int_equal(prof_sh(&out, "cd %s && %s list", d, prof_recycle()), 0);
    assert_non_null(strstr(out, "0 mprofile_20230102030405.dat 03:04:05 02/01/2023"));
    free(out);
    assert_int_equal(prof_sh(NULL, "cd %s && %s rm -1", d, prof_recycle()), 0);
    assert_int_equal(access(prof_path(d, names[0]), F_OK), -1);
    assert_int_equal(prof_sh(NULL, "cd %s && %s clean", d, prof_recycle()), 0);
    assert_int_equal(access(prof_path(d, names[1]), F_OK), -1);
    assert_int_equal(access(prof_path(d, names[3]), F_OK), 0);
    prof_sh(NULL, "rm -rf '%s'", d);
    free((char *)d);
}

/* ---- with Debian's python3-mprof ---------------------------------------- */

#define NEED_MPROF()                                                                   \
    do {                                                                               \
        if (!prof_have_mprof()) {                                                      \
            fprintf(stderr, "skipped: /usr/bin/python3-mprof (python3-memory-profiler) " \
                            "is not installed; scripts/deps.sh installs it\n");        \
            skip();                                                                    \
        }                                                                              \
    } while (0)

static const char py_script[] =
    "import time\n"
    "@profile\n"
    "def inner():\n"
    "    b = [0] * (3 * 1024 * 1024)\n"
    "    time.sleep(0.15)\n"
    "    return len(b)\n"
    "@profile\n"
    "def outer():\n"
    "    a = [1] * (2 * 1024 * 1024)\n"
    "    time.sleep(0.1)\n"
    "    inner()\n"
    "    time.sleep(0.1)\n"
    "    return len(a)\n"
    "outer()\n";

/* Files written by python3-mprof load and plot in recycle. */
static void test_mprof_files_load_in_recycle(void **state)
{
    (void)state;
    NEED_MPROF();
    write_file("work.py", py_script);
    const char *dat = prof_path(dir, "py.dat");
    char *out;
    int rc = prof_sh(&out, "cd %s && /usr/bin/python3-mprof run -T 0.05 -o py.dat work.py", dir);
    assert_int_equal(rc, 0);
    free(out);
    rc_mprof *p;
    assert_int_equal(rc_mprof_load(dat, &p), 0);
    assert_int_equal(p->bad_lines, 0);
    assert_true(p->nmem >= 4);
    assert_int_equal(p->nfuncs, 2);
    const rc_mprof_func *in = strstr(p->funcs[0].name, "inner") ? &p->funcs[0] : &p->funcs[1];
    const rc_mprof_func *out_f = in == &p->funcs[0] ? &p->funcs[1] : &p->funcs[0];
    assert_non_null(strstr(out_f->name, "outer"));
    assert_int_equal(out_f->level, 0);
    assert_int_equal(in->level, 1);
    assert_true(in->t0 >= out_f->t0 && in->t1 <= out_f->t1);
    /* 3 Mi list items (24 MiB) live inside inner() */
    assert_true(rc_mprof_max_between(p, in->t0, in->t1) - in->mem0 > 10);

    rc_plot_opts o;
    rc_plot_opts_default(&o);
    o.output = prof_path(dir, "py.png");
    assert_int_equal(rc_plot((const rc_mprof *const *)&p, 1, &o, NULL), 0);
    struct stat st;
    assert_int_equal(stat(o.output, &st), 0);
    assert_true(st.st_size > 1000);
    rc_mprof_free(p);

    /* multiprocess CHLD lines from mprof, on a C program */
    rc = prof_sh(&out, "cd %s && /usr/bin/python3-mprof run -M -C -T 0.05 -o kids.dat %s 2 20 400",
                 dir, prof_example("profile_children"));
    assert_int_equal(rc, 0);
    free(out);
    assert_int_equal(rc_mprof_load(prof_path(dir, "kids.dat"), &p), 0);
    /* the two 20 MiB workers (under the sanitizers LeakSanitizer's tracer
     * may show up as a small third child) */
    int workers = 0;
    for (size_t i = 0; i < p->nchildren; i++)
        workers += rc_mprof_child_peak(&p->children[i]) > 19;
    assert_int_equal(workers, 2);
    assert_true(rc_mprof_peak(p, NULL) > 40);   /* -C sums them into MEM */
    rc_mprof_free(p);
}

/* recycle run script.py: mprof's Python mode, @profile brackets included. */
static void test_recycle_runs_python_scripts_like_mprof(void **state)
{
    (void)state;
    NEED_MPROF();
    write_file("work2.py", py_script);
    /* first on PATH, a python3 without memory_profiler: recycle takes
     * python3-mprof's own interpreter instead, as mprof would */
    assert_int_equal(prof_sh(NULL, "cd %s && mkdir -p nomp && printf '#!/bin/sh\\nexit 1\\n' > nomp/python3 && "
                                   "chmod +x nomp/python3", dir), 0);
    char *out;
    assert_int_equal(prof_sh(&out, "cd %s && env -u RECYCLE_PYTHON PATH=%s/nomp:$PATH %s run -T 0.05 -o rpy.dat "
                                   "work2.py", dir, dir, prof_recycle()), 0);
    free(out);
    rc_mprof *p;
    assert_int_equal(rc_mprof_load(prof_path(dir, "rpy.dat"), &p), 0);
    assert_string_equal(p->cmdline, "/usr/bin/python3 work2.py");
    assert_int_equal(p->nfuncs, 2);
    assert_true(p->has_exit && !p->exit_signaled && p->exit_code == 0);
    rc_mprof_free(p);

    /* a python that cannot import it, named: one line saying what is
     * missing, the not-started status, and no file */
    assert_int_equal(prof_sh(&out, "cd %s && RECYCLE_PYTHON=%s/nomp/python3 %s run -o none.dat work2.py", dir, dir,
                             prof_recycle()), 127);
    assert_non_null(strstr(out, "can import memory_profiler"));
    assert_non_null(strstr(out, "nomp/python3"));
    free(out);
    assert_int_not_equal(prof_sh(NULL, "test -e %s", prof_path(dir, "none.dat")), 0);
}

/* Files written by recycle load in python3-mprof's peak and plot. */
static void test_recycle_files_load_in_mprof(void **state)
{
    (void)state;
    NEED_MPROF();
    const char *dat = prof_path(dir, "rc.dat");
    rc_sampler_opts o = {.interval = 0.05, .output = dat, .multiprocess = true};
    rc_sampler_result r;
    char *argv[] = {(char *)prof_example("profile_brackets"), NULL};
    assert_int_equal(rc_sampler_run(&o, argv, &r), 0);
    rc_mprof *p;
    assert_int_equal(rc_mprof_load(dat, &p), 0);
    double sampled = 0;
    for (size_t i = 0; i < p->nmem; i++)
        sampled = fmax(sampled, p->mem[i].mib);

    char *out;
    assert_int_equal(prof_sh(&out, "cd %s && /usr/bin/python3-mprof peak rc.dat", dir), 0);
    char *line = strstr(out, "rc.dat\t");
    assert_non_null(line);
    double peak = strtod(line + strlen("rc.dat\t"), NULL);
    assert_true(fabs(peak - sampled) < 0.001);   /* mprof's peak: its MEM lines */
    free(out);
    assert_int_equal(prof_sh(&out, "cd %s && /usr/bin/python3-mprof peak --func outer rc.dat", dir), 0);
    assert_null(strstr(out, "NaN"));
    free(out);

    const char *png = prof_path(dir, "mprof.png"), *flame = prof_path(dir, "mprof_flame.png");
    assert_int_equal(prof_sh(&out, "cd %s && MPLBACKEND=Agg /usr/bin/python3-mprof plot -o %s rc.dat",
                             dir, png), 0);
    free(out);
    assert_int_equal(prof_sh(&out, "cd %s && MPLBACKEND=Agg /usr/bin/python3-mprof plot --flame -o %s rc.dat",
                             dir, flame), 0);
    free(out);
    struct stat st;
    assert_int_equal(stat(png, &st), 0);
    assert_true(st.st_size > 1000);
    assert_int_equal(stat(flame, &st), 0);

    /* a file saved by rc_mprof_save, with every extra record kind */
    assert_int_equal(rc_mprof_add_peak(p, sampled + 100, p->mem[0].t, p->mem[1].t), 0);
    assert_int_equal(rc_mprof_add_child(p, 12, p->mem[0].t, 1.5), 0);
    assert_int_equal(rc_mprof_save(p, prof_path(dir, "saved.dat")), 0);
    assert_int_equal(prof_sh(&out, "cd %s && /usr/bin/python3-mprof peak saved.dat", dir), 0);
    assert_non_null(strstr(out, "Child 12"));
    free(out);
    assert_int_equal(prof_sh(&out, "cd %s && MPLBACKEND=Agg /usr/bin/python3-mprof plot -o saved.png saved.dat",
                             dir), 0);
    free(out);
    rc_mprof_free(p);
}

int main(void)
{
    dir = prof_tmpdir();
    if (!dir)
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_load_all_records),
        cmocka_unit_test(test_malformed_lines_reported_and_skipped),
        cmocka_unit_test(test_empty_and_missing_files),
        cmocka_unit_test(test_write_load_round_trip),
        cmocka_unit_test(test_report_table),
        cmocka_unit_test(test_profile_files_listed_and_resolved),
        cmocka_unit_test(test_wrong_kind_of_file_one_line),
        cmocka_unit_test(test_peak_func_unknown),
        cmocka_unit_test(test_profiles_from_pipes),
        cmocka_unit_test(test_mprof_files_load_in_recycle),
        cmocka_unit_test(test_recycle_runs_python_scripts_like_mprof),
        cmocka_unit_test(test_recycle_files_load_in_mprof),
    };
    int failed = cmocka_run_group_tests(tests, NULL, NULL);
    if (!failed)
        prof_sh(NULL, "rm -rf '%s'", dir);
    return failed;
}
