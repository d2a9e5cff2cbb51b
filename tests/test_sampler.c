/* src/profile/sampler.c: recycle run / attach — exact peaks, children, exit
 * statuses, programs that cannot start or die by a signal. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <recycle-tools.h>
#include "prof_support.h"

#include <errno.h>
#include <stdbool.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static const char *dir;

static rc_mprof *run(const char *name, rc_sampler_opts o, char **argv, rc_sampler_result *r)
{
    o.output = prof_path(dir, name);
    unlink(o.output);
    assert_int_equal(rc_sampler_run(&o, argv, r), 0);
    assert_true(r->started);
    rc_mprof *p;
    assert_int_equal(rc_mprof_load(o.output, &p), 0);
    return p;
}

static double sampled_max(const rc_mprof *p)
{
    double m = 0;
    for (size_t i = 0; i < p->nmem; i++)
        m = fmax(m, p->mem[i].mib);
    return m;
}

/* A run of argv in which no sample reached `below` MiB, i.e. landed on the
 * first spike (at most three tries: on a loaded machine the program's
 * timing drifts, and a sample can land on the spike the test means to fall
 * between two). */
static rc_mprof *run_unsampled(const char *name, rc_sampler_opts o, char **argv, double below)
{
    rc_sampler_result r;
    rc_mprof *p = run(name, o, argv, &r);
    for (int attempt = 1; attempt < 3 && sampled_max(p) >= below; attempt++) {
        rc_mprof_free(p);
        p = run(name, o, argv, &r);
    }
    return p;
}

/* A 200 MiB spike held 20 ms between 100 ms samples: every run records it
 * in the file (PEAK), in the result and in rc_mprof_peak / recycle peak. */
static void test_spike_between_samples_is_caught_every_run(void **state)
{
    (void)state;
    char *argv[] = {(char *)prof_example("profile_spike"), "200", "20", "150", "250", NULL};
    int missed_by_samples = 0;
    for (int run_no = 0; run_no < 4; run_no++) {
        rc_sampler_result r;
        rc_mprof *p = run("spike.dat", (rc_sampler_opts){.interval = 0.1}, argv, &r);
        double peak = rc_mprof_peak(p, NULL);
        assert_true(peak >= 200);
        assert_true(r.peak_mib >= 200);
        assert_true(r.exited && WIFEXITED(r.status) && WEXITSTATUS(r.status) == 0);
        missed_by_samples += sampled_max(p) < 200;
        if (sampled_max(p) < 200)
            assert_true(p->npeaks >= 1);
        rc_mprof_free(p);
    }
    char *out;
    assert_int_equal(prof_sh(&out, "%s peak %s", prof_recycle(), prof_path(dir, "spike.dat")), 0);
    double shown = strtod(strchr(out, '\t') + 1, NULL);
    assert_true(shown >= 200);
    free(out);
    print_message("samples alone missed the spike in %d of 4 runs\n", missed_by_samples);

    /* Here a 200 MiB spike takes ~50 ms to fault in (on a loaded machine
     * under ASan, up to a second), so at 100 ms samples sometimes land on
     * it.  With 1 s samples (at 0 and 1 s) and a 100 MiB spike at 0.1 s,
     * the samples do not see it, and the PEAK record (VmHWM, read at the
     * 1 s sample) still does. */
    char *late[] = {(char *)prof_example("profile_spike"), "100", "20", "100", "1400", NULL};
    rc_mprof *p = run_unsampled("spike1s.dat", (rc_sampler_opts){.interval = 1.0}, late, 50);
    assert_true(sampled_max(p) < 50);
    assert_true(rc_mprof_peak(p, NULL) >= 100);
    rc_mprof_free(p);
}

/* A spike after the last sample, just before exit: wait4's ru_maxrss
 * covers that stretch — but not when the program reaped a child, whose
 * peak it would include. */
static void test_spike_just_before_exit(void **state)
{
    (void)state;
    /* Through the small recycle program: ru_maxrss also covers the forked
     * copy of the sampling process, so its value counts only above the
     * sampler's own RSS — and this test process is big under ASan.  And
     * no LeakSanitizer at the program's exit: its tracer is a child the
     * program reaps, which rightly turns the ru_maxrss reading off. */
    assert_int_equal(prof_sh(NULL, "cd %s && ASAN_OPTIONS=detect_leaks=0 %s run -T 0.5 -o last.dat %s "
                                   "100 20 150 0", dir,
                             prof_recycle(), prof_example("profile_spike")), 0);
    rc_mprof *p;
    assert_int_equal(rc_mprof_load(prof_path(dir, "last.dat"), &p), 0);
    assert_true(rc_mprof_peak(p, NULL) >= 100);
    rc_mprof_free(p);
    rc_sampler_result r;

    char cmd[600];
    snprintf(cmd, sizeof cmd, "%s 100 20 10 0; sleep 0.1", prof_example("profile_spike"));
    char *sh[] = {"sh", "-c", cmd, NULL};
    p = run("reaped.dat", (rc_sampler_opts){.interval = 0.5}, sh, &r);
    assert_true(rc_mprof_peak(p, NULL) < 50);   /* the child's spike is not the shell's */
    rc_mprof_free(p);
}

static void test_one_millisecond_interval(void **state)
{
    (void)state;
    char *argv[] = {(char *)prof_example("profile_spike"), "16", "20", "200", "200", NULL};
    rc_sampler_result r;
    rc_mprof *p = run("fast.dat", (rc_sampler_opts){.interval = 0.001}, argv, &r);
    /* ~420 ms of run: about 400 samples on an idle machine, fewer when
     * the sampler waits for a core; but samples 1 ms apart show it kept
     * the interval rather than a coarser floor of its own. */
    assert_true(p->nmem >= 20);
    double closest = 1.0;
    for (size_t i = 1; i < p->nmem; i++) {
        assert_true(p->mem[i].t >= p->mem[i - 1].t);
        closest = fmin(closest, p->mem[i].t - p->mem[i - 1].t);
    }
    assert_true(closest < 0.003);
    assert_true(rc_mprof_peak(p, NULL) >= 16);
    rc_mprof_free(p);
}

/* CHLD series of the two 40 MiB workers.  Under the sanitizers the parent
 * also has LeakSanitizer's short-lived tracer process at exit, a child
 * like any other, hence "at least" 40 MiB rather than a count of all. */
static int big_children(const rc_mprof *p)
{
    int n = 0;
    for (size_t i = 0; i < p->nchildren; i++)
        n += rc_mprof_child_peak(&p->children[i]) >= 40;
    return n;
}

/* -C sums the descendants into MEM; -M gives each its CHLD series. */
static void test_children_summed_and_separate(void **state)
{
    (void)state;
    char *argv[] = {(char *)prof_example("profile_children"), "2", "40", "800", NULL};
    rc_sampler_result r;
    rc_mprof *p = run("kids_c.dat", (rc_sampler_opts){.interval = 0.05, .include_children = true}, argv, &r);
    assert_true(sampled_max(p) >= 80);
    assert_int_equal(p->nchildren, 0);
    rc_mprof_free(p);

    p = run("kids_m.dat", (rc_sampler_opts){.interval = 0.05, .multiprocess = true}, argv, &r);
    assert_true(sampled_max(p) < 40);          /* MEM: the parent alone */
    assert_int_equal(big_children(p), 2);
    rc_mprof_free(p);

    p = run("kids_cm.dat", (rc_sampler_opts){.interval = 0.05, .include_children = true,
                                             .multiprocess = true}, argv, &r);
    assert_true(sampled_max(p) >= 80);
    assert_int_equal(big_children(p), 2);
    rc_mprof_free(p);
}

static void test_program_that_cannot_start(void **state)
{
    (void)state;
    char *argv[] = {"/nonexistent/prog", NULL};
    rc_sampler_opts o = {.output = prof_path(dir, "never.dat")};
    rc_sampler_result r;
    assert_int_equal(rc_sampler_run(&o, argv, &r), RC_ENOENT);
    assert_false(r.started);
    assert_int_equal(r.exec_errno, ENOENT);
    assert_int_equal(access(o.output, F_OK), -1);   /* no file left behind */

    char *out;
    assert_int_equal(prof_sh(&out, "cd %s && %s run /nonexistent/prog", dir, prof_recycle()), 127);
    assert_non_null(strstr(out, "cannot start '/nonexistent/prog': No such file or directory"));
    free(out);
}

/* Killed inside a bracket: the file is complete up to the death, holds the
 * brackets that ended, and says how the program died. */
static void test_program_killed_by_signal(void **state)
{
    (void)state;
    char *argv[] = {(char *)prof_example("profile_brackets"), "crash", NULL};
    rc_sampler_result r;
    rc_mprof *p = run("crash.dat", (rc_sampler_opts){.interval = 0.02}, argv, &r);
    assert_true(r.exited && WIFSIGNALED(r.status) && WTERMSIG(r.status) == SIGKILL);
    assert_true(p->has_exit && p->exit_signaled && p->exit_code == SIGKILL);
    assert_int_equal(p->bad_lines, 0);
    size_t outer = 0, doomed = 0;
    for (size_t i = 0; i < p->nfuncs; i++) {
        outer += !strcmp(p->funcs[i].name, "outer");
        doomed += !strcmp(p->funcs[i].name, "doomed");
    }
    assert_int_equal(outer, 1);
    assert_int_equal(doomed, 0);
    rc_mprof_free(p);

    char *out;
    int rc = prof_sh(&out, "cd %s && %s run -E -o crash2.dat %s crash", dir, prof_recycle(),
                     prof_example("profile_brackets"));
    assert_int_equal(rc, 128 + SIGKILL);
    assert_non_null(strstr(out, "killed by signal 9"));
    free(out);
}

static void test_exit_code_propagated_with_E(void **state)
{
    (void)state;
    char *out;
    assert_int_equal(prof_sh(&out, "cd %s && %s run -o e.dat sh -c 'exit 3'", dir, prof_recycle()), 0);
    free(out);
    assert_int_equal(prof_sh(&out, "cd %s && %s run -E -o e.dat sh -c 'exit 3'", dir, prof_recycle()), 3);
    assert_non_null(strstr(out, "exited with status 3"));
    free(out);
    /* default name: mprofile_<timestamp>.dat in the current directory */
    const char *d = prof_tmpdir();
    assert_int_equal(prof_sh(&out, "cd %s && %s run true && ls", d, prof_recycle()), 0);
    assert_non_null(strstr(out, "mprofile_"));
    free(out);
    prof_sh(NULL, "rm -rf '%s'", d);
    free((char *)d);
}

static void test_timeout_stops_sampling(void **state)
{
    (void)state;
    char *argv[] = {"sleep", "5", NULL};
    rc_sampler_result r;
    rc_mprof *p = run("timeout.dat", (rc_sampler_opts){.interval = 0.05, .timeout = 0.3}, argv, &r);
    assert_false(r.exited);
    /* 0.3 s at 0.05 s: at most 7 samples (8 with rounding), fewer when
     * the sampler waits for a core; and sampling ends at the timeout,
     * long before `sleep 5` would. */
    assert_true(p->nmem >= 2 && p->nmem <= 8);
    assert_true(p->mem[p->nmem - 1].t - p->mem[0].t < 1.0);
    assert_false(p->has_exit);
    rc_mprof_free(p);
    kill((pid_t)r.pid, SIGKILL);
    waitpid((pid_t)r.pid, NULL, 0);
}

/* Starts profile_spike MIB HOLD BEFORE AFTER, not under the sampler:
 * something to attach to. */
static pid_t start_spike(const char *mib, const char *hold, const char *before, const char *after)
{
    pid_t pid = fork();
    if (pid == 0) {
        execl(prof_example("profile_spike"), "profile_spike", mib, hold, before, after, (char *)NULL);
        _exit(127);
    }
    return pid;
}

static void test_attach_to_running_process(void **state)
{
    (void)state;
    pid_t pid = start_spike("30", "50", "300", "300");
    rc_sampler_opts o = {.interval = 0.02, .output = prof_path(dir, "attach.dat")};
    rc_sampler_result r;
    usleep(50000);
    assert_int_equal(rc_sampler_attach(&o, pid, &r), 0);
    assert_true(r.exited);
    rc_mprof *p;
    assert_int_equal(rc_mprof_load(o.output, &p), 0);
    assert_true(p->nmem >= 5);
    assert_true(rc_mprof_peak(p, NULL) >= 30);
    assert_non_null(strstr(p->cmdline, "profile_spike"));
    rc_mprof_free(p);
    waitpid(pid, NULL, 0);
    assert_true(rc_sampler_find_pid("no-such-process-name-xyz") < 0);
}

/* The ru_maxrss profile_spike reads of itself after a 200 MiB spike at
 * 0.3 s, run by `recycle run -T 1 OPTION`, in a run where no sample
 * landed on the spike (on a loaded machine the program's timing drifts;
 * a sampled spike leaves --reset-peaks nothing to reset).  *refused: the
 * reset was not allowed. */
static long maxrss_under_recycle(const char *option, bool *refused)
{
    long kib = -1;
    for (int attempt = 0; attempt < 3; attempt++) {
        char *out;
        assert_int_equal(prof_sh(&out, "cd %s && rm -f own.dat && %s run %s -T 1 -o own.dat %s "
                                       "200 20 300 1500 maxrss",
                                 dir, prof_recycle(), option, prof_example("profile_spike")), 0);
        char *line = strstr(out, "maxrss_kib ");
        assert_non_null(line);
        kib = strtol(line + 11, NULL, 10);
        *refused = strstr(out, "cannot reset") != NULL;
        free(out);
        rc_mprof *p;
        assert_int_equal(rc_mprof_load(prof_path(dir, "own.dat"), &p), 0);
        bool sampled = sampled_max(p) >= 150;
        rc_mprof_free(p);
        if (!sampled)
            break;
    }
    return kib;
}

/* The program's own peak (getrusage's ru_maxrss, what time -v prints) is
 * untouched by `recycle run`: the sampler reads VmHWM but never resets
 * it unless asked to (--reset-peaks, which this test also measures).  The
 * spike lies between the samples at 0 and 1 s, so the sampler sees it
 * only through the mark — the case where --reset-peaks resets it. */
static void test_program_reads_its_true_peak(void **state)
{
    (void)state;
    bool refused;
    long untouched = maxrss_under_recycle("", &refused);
    assert_true(untouched >= 200 * 1024);
    long after_reset = maxrss_under_recycle("--reset-peaks", &refused);
    print_message("ru_maxrss the program reads: %ld KiB observed, %ld KiB with --reset-peaks\n", untouched,
                  after_reset);
    if (!refused)
        assert_true(after_reset < 150 * 1024);
}

/* A PEAK record whose height lies in [lo, hi). */
static bool has_peak_in(const rc_mprof *p, double lo, double hi)
{
    for (size_t i = 0; i < p->npeaks; i++)
        if (p->peaks[i].mib >= lo && p->peaks[i].mib < hi)
            return true;
    return false;
}

static bool sampled_in(const rc_mprof *p, double lo, double hi)
{
    for (size_t i = 0; i < p->nmem; i++)
        if (p->mem[i].mib >= lo && p->mem[i].mib < hi)
            return true;
    return false;
}

/* What leaving VmHWM alone costs: a 200 MiB spike at 1.3 s, then a
 * 100 MiB one at 2.6 s, each between two 2 s samples.  Both runs record
 * the 200 MiB peak exactly; only --reset-peaks records the lower one
 * after it (unless a sample saw it anyway). */
static void test_lower_peak_after_the_highest(void **state)
{
    (void)state;
    char *argv[] = {(char *)prof_example("profile_spike"), "200,100", "20", "1300", "1800", NULL};
    rc_mprof *p = run_unsampled("two.dat", (rc_sampler_opts){.interval = 2.0}, argv, 150);
    assert_true(rc_mprof_peak(p, NULL) >= 200);
    assert_false(has_peak_in(p, 90, 150));
    rc_mprof_free(p);
    p = run_unsampled("two_reset.dat", (rc_sampler_opts){.interval = 2.0, .reset_peaks = true}, argv, 150);
    assert_true(rc_mprof_peak(p, NULL) >= 200);
    assert_true(has_peak_in(p, 100, 150) || sampled_in(p, 90, 150));
    rc_mprof_free(p);
}

/* VmHWM of pid in MiB, from /proc (-1 when unreadable). */
static double hwm_mib(pid_t pid)
{
    char path[64], line[256];
    snprintf(path, sizeof path, "/proc/%ld/status", (long)pid);
    FILE *f = fopen(path, "r");
    double kib = -1;
    while (f && fgets(line, sizeof line, f))
        if (sscanf(line, "VmHWM: %lf kB", &kib) == 1)
            break;
    if (f)
        fclose(f);
    return kib < 0 ? -1 : kib / 1024;
}

/* Attached after a 200 MiB spike: that peak is the process's history,
 * recorded apart (BEFORE), not as a peak seen at the start of sampling.
 * The test waits for the spike to be over (however loaded the machine)
 * before attaching. */
static void test_attach_separates_the_peak_before(void **state)
{
    (void)state;
    pid_t pid = start_spike("200", "20", "50", "1500");
    for (int i = 0; i < 500 && hwm_mib(pid) < 200; i++)
        usleep(10000);
    assert_true(hwm_mib(pid) >= 200);
    usleep(300000);                      /* held 20 ms, then given back */
    rc_sampler_opts o = {.interval = 0.05, .output = prof_path(dir, "late.dat")};
    unlink(o.output);
    rc_sampler_result r;
    assert_int_equal(rc_sampler_attach(&o, pid, &r), 0);
    waitpid(pid, NULL, 0);
    assert_true(r.peak_before_mib >= 200);
    assert_true(r.peak_mib < 150);
    rc_mprof *p;
    assert_int_equal(rc_mprof_load(o.output, &p), 0);
    assert_true(p->before_mib >= 200);
    assert_true(rc_mprof_peak(p, NULL) < 150);
    assert_false(has_peak_in(p, 150, 1e9));
    rc_mprof_free(p);
    char *out;
    assert_int_equal(prof_sh(&out, "%s peak %s", prof_recycle(), o.output), 0);
    assert_non_null(strstr(out, "(before attaching: 2"));
    free(out);
}

int main(void)
{
    dir = prof_tmpdir();
    if (!dir)
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_spike_between_samples_is_caught_every_run),
        cmocka_unit_test(test_spike_just_before_exit),
        cmocka_unit_test(test_one_millisecond_interval),
        cmocka_unit_test(test_children_summed_and_separate),
        cmocka_unit_test(test_program_that_cannot_start),
        cmocka_unit_test(test_program_killed_by_signal),
        cmocka_unit_test(test_exit_code_propagated_with_E),
        cmocka_unit_test(test_timeout_stops_sampling),
        cmocka_unit_test(test_attach_to_running_process),
        cmocka_unit_test(test_program_reads_its_true_peak),
        cmocka_unit_test(test_lower_peak_after_the_highest),
        cmocka_unit_test(test_attach_separates_the_peak_before),
    };
    int failed = cmocka_run_group_tests(tests, NULL, NULL);
    if (!failed)
        prof_sh(NULL, "rm -rf '%s'", dir);
    return failed;
}
