/* src/profile/profile.c, profile_instrument.c and src/prim/symbols.c: function brackets
 * from C programs, by marker and by -finstrument-functions. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <recycle-tools.h>
#include "prof_support.h"

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

static const char *dir;
static const char *inproc;   /* this process's own RECYCLE_PROFILE_FILE */

static rc_mprof *profile_example(const char *name, const char *out)
{
    char *argv[] = {(char *)prof_example(name), NULL};
    rc_sampler_opts o = {.interval = 0.05, .output = prof_path(dir, out)};
    rc_sampler_result r;
    assert_int_equal(rc_sampler_run(&o, argv, &r), 0);
    rc_mprof *p;
    assert_int_equal(rc_mprof_load(o.output, &p), 0);
    assert_int_equal(p->bad_lines, 0);
    return p;
}

static const rc_mprof_func *nth(const rc_mprof *p, const char *name, int level, int n)
{
    for (size_t i = 0; i < p->nfuncs; i++)
        if (!strcmp(p->funcs[i].name, name) && p->funcs[i].level == level && n-- == 0)
            return &p->funcs[i];
    return NULL;
}

static bool inside(const rc_mprof_func *in, const rc_mprof_func *out)
{
    return in->t0 >= out->t0 && in->t1 <= out->t1;
}

/* RC_PROFILE_FUNC(): outer > leaf, leaf (nested) and recurse x4 (recursive). */
static void test_marker_brackets_nested_and_recursive(void **state)
{
    (void)state;
    rc_mprof *p = profile_example("profile_brackets", "brackets.dat");
    assert_int_equal(p->nfuncs, 7);
    const rc_mprof_func *outer = nth(p, "outer", 0, 0);
    const rc_mprof_func *leaf1 = nth(p, "leaf", 1, 0), *leaf2 = nth(p, "leaf", 1, 1);
    assert_non_null(outer);
    assert_non_null(leaf1);
    assert_non_null(leaf2);
    assert_true(inside(leaf1, outer) && inside(leaf2, outer));
    assert_true(leaf1->t1 <= leaf2->t0);
    /* outer holds 10 MiB while each leaf starts; leaf's 20 MiB shows inside */
    assert_true(leaf1->mem0 - outer->mem0 >= 9);
    assert_true(rc_mprof_func_peak(p, "leaf") - outer->mem0 >= 25);
    const rc_mprof_func *prev = NULL;
    for (int level = 0; level < 4; level++) {
        const rc_mprof_func *r = nth(p, "recurse", level, 0);
        assert_non_null(r);
        if (prev)
            assert_true(inside(r, prev));
        prev = r;
    }
    assert_null(nth(p, "recurse", 4, 0));
    rc_mprof_free(p);
}

/* -finstrument-functions: every call up to the depth limit (default 4). */
static void test_instrumented_program(void **state)
{
    (void)state;
    rc_mprof *p = profile_example("profile_instrumented", "instr.dat");
    const rc_mprof_func *main_f = nth(p, "main", 0, 0), *work = nth(p, "work", 1, 0);
    assert_non_null(main_f);
    assert_non_null(work);
    assert_non_null(nth(p, "step", 2, 0));
    assert_non_null(nth(p, "step", 2, 1));
    assert_true(inside(nth(p, "step", 2, 1), work));
    /* countdown(3) -> (2) -> (1) at levels 1..3; (0) at level 4 is past the limit */
    for (int level = 1; level <= 3; level++)
        assert_non_null(nth(p, "countdown", level, 0));
    assert_null(nth(p, "countdown", 4, 0));
    assert_int_equal(p->nfuncs, 7);
    rc_mprof_free(p);

    setenv("RECYCLE_PROFILE_DEPTH", "2", 1);
    p = profile_example("profile_instrumented", "instr2.dat");
    unsetenv("RECYCLE_PROFILE_DEPTH");
    assert_int_equal(p->nfuncs, 3);   /* main, work, countdown(3) */
    assert_non_null(nth(p, "countdown", 1, 0));
    rc_mprof_free(p);
}

/* Outside recycle run the markers do nothing and write nothing. */
static void test_markers_cost_nothing_outside_run(void **state)
{
    (void)state;
    char *out;
    const char *empty = prof_tmpdir();
    assert_int_equal(prof_sh(&out, "cd %s && env -u RECYCLE_PROFILE_FILE %s && ls -A", empty,
                             prof_example("profile_brackets")), 0);
    assert_string_equal(out, "");
    free(out);
    prof_sh(NULL, "rmdir '%s'", empty);
    free((char *)empty);
}

/* In this process (RECYCLE_PROFILE_FILE set before the first bracket):
 * each thread has its own levels, and records are whole lines. */
static void *thread_body(void *arg)
{
    const char *name = arg;
    for (int i = 0; i < 200; i++) {
        rc_profile_begin(name);
        rc_profile_begin("inner");
        rc_profile_end();
        rc_profile_end();
    }
    return NULL;
}

static void scope_user(void)
{
    RC_PROFILE_FUNC();
    RC_PROFILE_SCOPE("second");
}

static void test_in_process_threads_and_scopes(void **state)
{
    (void)state;
    assert_true(rc_profile_enabled());
    pthread_t a, b;
    pthread_create(&a, NULL, thread_body, "alpha");
    pthread_create(&b, NULL, thread_body, "beta");
    pthread_join(a, NULL);
    pthread_join(b, NULL);
    scope_user();
    rc_profile_end();   /* unmatched: ignored */
    FILE *f = fopen(inproc, "a");
    fprintf(f, "MEM 1.0 1.0\n");   /* a file needs one sample to load */
    fclose(f);
    rc_mprof *p;
    assert_int_equal(rc_mprof_load(inproc, &p), 0);
    assert_int_equal(p->bad_lines, 0);
    size_t alpha = 0, beta = 0, inner = 0, second = 0, user = 0;
    for (size_t i = 0; i < p->nfuncs; i++) {
        const rc_mprof_func *fn = &p->funcs[i];
        alpha += !strcmp(fn->name, "alpha") && fn->level == 0;
        beta += !strcmp(fn->name, "beta") && fn->level == 0;
        inner += !strcmp(fn->name, "inner") && fn->level == 1;
        second += !strcmp(fn->name, "second") && fn->level == 1;
        user += !strcmp(fn->name, "scope_user") && fn->level == 0;
    }
    assert_int_equal(alpha, 200);
    assert_int_equal(beta, 200);
    assert_int_equal(inner, 400);
    assert_int_equal(second, 1);
    assert_int_equal(user, 1);
    rc_mprof_free(p);
}

/* A program that closes the descriptor and reuses its number for another
 * file: brackets must not end up in that file. */
static void test_reused_descriptor_is_left_alone(void **state)
{
    (void)state;
    rc_profile_begin("before");
    rc_profile_end();
    struct stat want, st;
    assert_int_equal(stat(inproc, &want), 0);
    int fd = -1;
    for (int i = 3; i < 4096 && fd < 0; i++)
        if (fstat(i, &st) == 0 && st.st_ino == want.st_ino && st.st_dev == want.st_dev)
            fd = i;
    assert_true(fd >= 3);
    const char *other = prof_path(dir, "other.txt");
    int o = open(other, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    assert_true(o >= 0);
    assert_int_equal(dup2(o, fd), fd);   /* the program "reuses" the number */
    close(o);
    rc_profile_begin("after");
    rc_profile_end();
    assert_int_equal(stat(other, &st), 0);
    assert_int_equal(st.st_size, 0);
}

int main(void)
{
    dir = prof_tmpdir();
    if (!dir)
        return 1;
    inproc = strdup(prof_path(dir, "inproc.dat"));
    fclose(fopen(inproc, "w"));
    setenv("RECYCLE_PROFILE_FILE", inproc, 1);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_marker_brackets_nested_and_recursive),
        cmocka_unit_test(test_instrumented_program),
        cmocka_unit_test(test_markers_cost_nothing_outside_run),
        cmocka_unit_test(test_in_process_threads_and_scopes),
        cmocka_unit_test(test_reused_descriptor_is_left_alone),
    };
    int failed = cmocka_run_group_tests(tests, NULL, NULL);
    if (!failed)
        prof_sh(NULL, "rm -rf '%s'", dir);
    return failed;
}
