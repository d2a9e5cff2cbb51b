/* Whole-process tracing (src/trace/preload/, `recycle trace`) of an unmodified C
 * program with threads (tests/progs/trace_prog.c): its allocation sites by
 * file:line with the right sizes and counts, freed blocks absent, a fork's
 * own snapshot, snapshots on SIGUSR2 and after SIGTERM. */
#include <recycle-tools.h>
#include "../src/trace/trace_env.h"
#include "files.h"

#include <math.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "png_read.h"

static char dir[] = "/tmp/test_trace_preload_XXXXXX";
static const char *every = "0";      /* RECYCLE_TRACE_EVERY for start() */
static char prog_src[1024];

/* The line of tests/progs/trace_prog.c marked SITE:<name>. */
static int site_line(const char *name)
{
    FILE *f = fopen(prog_src, "r");
    assert_non_null(f);
    char line[512], mark[64];
    snprintf(mark, sizeof mark, "SITE:%s ", name);
    int n = 0, found = 0;
    while (fgets(line, sizeof line, f)) {
        n++;
        if (strstr(line, mark)) {
            found = n;
            break;
        }
    }
    fclose(f);
    assert_true(found > 0);
    return found;
}

/* Starts trace_prog mode under the preload writing to out; returns its pid.
 * With pipe_fd, the child's stdout goes to the pipe. */
static pid_t start(const char *mode, const char *out, int frames, int *pipe_fd)
{
    int fds[2];
    if (pipe_fd)
        assert_int_equal(pipe(fds), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        char num[16];
        if (pipe_fd) {
            dup2(fds[1], 1);
            close(fds[0]);
        }
        snprintf(num, sizeof num, "%d", frames);
        setenv(rc__option(RC_TRACE_ENV_FRAMES)->name, num, 1);
        setenv(rc__option(RC_TRACE_ENV_OUT)->name, out, 1);
        setenv(rc__option(RC_TRACE_ENV_EVERY)->name, every, 1);
        snprintf(num, sizeof num, "%ld", (long)getppid());
        setenv(rc__option(RC_TRACE_ENV_PARENT)->name, num, 1);
        setenv("LD_PRELOAD", RC_PRELOAD_LIB, 1);
        execl(RC_TRACE_PROG, RC_TRACE_PROG, mode, (char *)NULL);
        _exit(127);
    }
    if (pipe_fd) {
        close(fds[1]);
        *pipe_fd = fds[0];
    }
    return pid;
}

static int finish(pid_t pid)
{
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    return status;
}

static rc_snapshot *load(const char *path)
{
    rc_snapshot *s = NULL;
    int r = rc_snapshot_load(path, &s);
    if (r)
        fprintf(stderr, "%s\n", rc_last_error(NULL));
    assert_int_equal(r, 0);
    return s;
}

static const rc_trace_stat *stat_at(const rc_trace_stats *st, int line)
{
    for (size_t i = 0; i < st->len; i++) {
        const rc_frame *f = &st->items[i].traceback->frames[0];
        if (f->lineno == line && strstr(f->filename, "trace_prog.c"))
            return &st->items[i];
    }
    return NULL;
}

static void expect(const rc_trace_stats *st, const char *site, size_t size, size_t count)
{
    const rc_trace_stat *s = stat_at(st, site_line(site));
    if (!s)
        fail_msg("no statistic for SITE:%s (line %d)", site, site_line(site));
    if (s->size != size || s->count != count)
        fail_msg("SITE:%s: size %zu count %zu, expected %zu and %zu", site, s->size, s->count, size, count);
}

static void check_parent_sites(rc_snapshot *s)
{
    rc_trace_stats *st = rc_snapshot_statistics(s, RC_TRACE_BY_LINENO, false);
    assert_non_null(st);
    expect(st, "main_malloc", 10 * 1000, 10);
    expect(st, "strdup", 5 * 18, 5);
    expect(st, "realloc", 50000, 1);
    expect(st, "posix_memalign", 8192, 1);
    expect(st, "aligned_alloc", 640, 1);
    expect(st, "memalign", 300, 1);
    expect(st, "valloc", 100, 1);
    expect(st, "strndup", 6, 1);
    expect(st, "reallocarray", 240, 1);
    expect(st, "mmap", 1 << 20, 1);
    expect(st, "thread_calloc", 400 * 256, 400);
    assert_null(stat_at(st, site_line("thread_churn")));   /* freed: not live */
    assert_null(stat_at(st, site_line("realloc_zero")));   /* freed by realloc(p, 0) */
    rc_trace_stats_free(st);
    /* the mapping is in domain 1 and nothing else is */
    rc_trace_filter only_mmap = {.inclusive = true, .domain = RC_TRACE_DOMAIN_MMAP};
    rc_snapshot *m = rc_snapshot_filter_traces(s, &only_mmap, 1);
    assert_int_equal(rc_snapshot_count(m), 1);
    assert_int_equal(rc_snapshot_size(m), 1 << 20);
    rc_snapshot_free(m);
}

static void test_threads_sites_sizes_counts(void **state)
{
    (void)state;
    char out[256];
    snprintf(out, sizeof out, "%s/plain.snap", dir);
    int st = finish(start("", out, 1, NULL));
    assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    rc_snapshot *s = load(out);
    check_parent_sites(s);
    size_t cur, peak;
    rc_snapshot_traced_memory(s, &cur, &peak);
    assert_true(peak >= cur);
    assert_true(peak >= (1u << 20) + 50000 + 102400);
    rc_snapshot_free(s);
}

static void test_deeper_tracebacks(void **state)
{
    (void)state;
    char out[256];
    snprintf(out, sizeof out, "%s/deep.snap", dir);
    finish(start("", out, 6, NULL));
    rc_snapshot *s = load(out);
    assert_int_equal(rc_snapshot_traceback_limit(s), 6);
    check_parent_sites(s);
    /* the realloc's caller is grow_buffer, called from main */
    rc_trace_stats *st = rc_snapshot_statistics(s, RC_TRACE_BY_TRACEBACK, false);
    bool found = false;
    for (size_t i = 0; i < st->len; i++) {
        const rc_traceback *tb = st->items[i].traceback;
        if (tb->nframe >= 2 && tb->frames[0].lineno == site_line("realloc")) {
            assert_string_equal(tb->frames[0].func, "grow_buffer");
            assert_string_equal(tb->frames[1].func, "main");
            found = true;
        }
    }
    assert_true(found);
    rc_trace_stats_free(st);
    rc_snapshot_free(s);
}

static void test_fork_child_writes_its_own(void **state)
{
    (void)state;
    char out[256], child_out[300];
    snprintf(out, sizeof out, "%s/fork.snap", dir);
    finish(start("fork", out, 1, NULL));
    rc_snapshot *s = load(out);
    check_parent_sites(s);
    rc_trace_stats *st = rc_snapshot_statistics(s, RC_TRACE_BY_LINENO, false);
    assert_null(stat_at(st, site_line("child_malloc")));
    rc_trace_stats_free(st);
    rc_snapshot_free(s);
    /* exactly one other file: OUT.PID of the child */
    char cmd[600];
    snprintf(cmd, sizeof cmd, "ls %s/fork.snap.* 2>/dev/null", dir);
    FILE *p = popen(cmd, "r");
    assert_non_null(fgets(child_out, sizeof child_out, p));
    pclose(p);
    child_out[strcspn(child_out, "\n")] = 0;
    s = load(child_out);
    st = rc_snapshot_statistics(s, RC_TRACE_BY_LINENO, false);
    expect(st, "child_malloc", 3 * 777, 3);
    expect(st, "main_malloc", 10 * 1000, 10);      /* inherited, still live in the child */
    rc_trace_stats_free(st);
    rc_snapshot_free(s);
}

static void test_sigusr2_and_sigterm(void **state)
{
    (void)state;
    char out[256], buf[16];
    snprintf(out, sizeof out, "%s/signal.snap", dir);
    int fd;
    pid_t pid = start("wait", out, 1, &fd);
    assert_true(read(fd, buf, 6) == 6);            /* "ready\n": allocations done */
    assert_int_equal(access(out, F_OK), -1);
    kill(pid, SIGUSR2);
    for (int i = 0; i < 500 && access(out, F_OK) != 0; i++)
        usleep(10000);
    rc_snapshot *s = load(out);
    check_parent_sites(s);
    rc_snapshot_free(s);
    unlink(out);
    kill(pid, SIGTERM);
    int st = finish(pid);
    close(fd);
    assert_true(WIFSIGNALED(st) && WTERMSIG(st) == SIGTERM);
    s = load(out);                                  /* written before dying */
    check_parent_sites(s);
    rc_snapshot_free(s);
}

static char *slurp_text(const char *path);

static void test_periodic_snapshots(void **state)
{
    (void)state;
    char out[256], buf[16];
    snprintf(out, sizeof out, "%s/every.snap", dir);
    int fd;
    every = "0.1";
    pid_t pid = start("wait", out, 1, &fd);
    every = "0";
    assert_true(read(fd, buf, 6) == 6);
    char first[300], second[300];
    snprintf(first, sizeof first, "%s.00001", out);
    snprintf(second, sizeof second, "%s.00002", out);
    for (int i = 0; i < 500 && access(second, F_OK) != 0; i++)   /* no signal: the timer writes them */
        usleep(10000);
    rc_snapshot *s = load(second);
    check_parent_sites(s);
    rc_snapshot_free(s);
    kill(pid, SIGKILL);                 /* uncatchable: the numbered files stay */
    finish(pid);
    close(fd);
    rc_snapshot_free(load(first));
    assert_int_equal(access(out, F_OK), -1);
    /* the top lines along the numbered snapshots, the mapping first */
    char cmd[1024], log[300], want[1100];
    snprintf(log, sizeof log, "%s/over.log", dir);
    snprintf(cmd, sizeof cmd, "%s trace-stats %s --over-time --limit 2 > %s", RC_RECYCLE, out, log);
    assert_int_equal(system(cmd), 0);
    const char *text = slurp_text(log);
    snprintf(want, sizeof want, "[1] %s:%d\n", prog_src, site_line("mmap"));
    assert_non_null(strstr(text, want));
    assert_non_null(strstr(text, "every.snap.00001 "));
    assert_non_null(strstr(text, "every.snap.00002 "));
    assert_non_null(strstr(text, "1024 KiB      100 KiB\n"));
    /* and drawn, as recycle plot draws profiles */
    char png[300];
    png_uint_32 w, h;
    snprintf(png, sizeof png, "%s/over.png", dir);
    snprintf(cmd, sizeof cmd, "%s trace-stats %s --over-time --limit 2 -o %s > %s", RC_RECYCLE, out, png, log);
    assert_int_equal(system(cmd), 0);
    free(png_read(png, PNG_FORMAT_RGB, &w, &h));
    assert_int_equal(w, 1260);
    assert_int_equal(h, 540);
}

/* ---- agreement with heaptrack ---------------------------------------------- */

typedef struct ht_leak { int line; double bytes, slack; } ht_leak;

/* heaptrack_print's MEMORY LEAKS entries at lines of trace_prog.c:
 * "102.40K leaked over 400 calls from" ... "  at FILE:LINE". */
static size_t heaptrack_leaks(const char *path, ht_leak *out, size_t max)
{
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    char line[1024];
    size_t n = 0;
    double bytes = -1, slack = 0;
    while (fgets(line, sizeof line, f) && n < max) {
        double v;
        char unit = 0;
        if (sscanf(line, "%lf%c leaked over", &v, &unit) == 2 && strstr(line, " leaked over ")) {
            int k = unit == 'K' ? 1 : unit == 'M' ? 2 : unit == 'G' ? 3 : 0;
            slack = k ? 0.006 : 0.5;            /* printed with two decimals */
            for (; k > 0; k--) {
                v *= 1000;
                slack *= 1000;
            }
            bytes = v;
            continue;
        }
        char *at = strstr(line, "  at ");
        char *colon = at ? strrchr(at, ':') : NULL;
        if (bytes >= 0 && colon && strstr(at, "trace_prog.c:")) {
            out[n++] = (ht_leak){atoi(colon + 1), bytes, slack};
            bytes = -1;
        } else if (at) {
            bytes = -1;                          /* first frame elsewhere */
        }
    }
    fclose(f);
    return n;
}

static void test_agrees_with_heaptrack(void **state)
{
    (void)state;
    if (system("command -v heaptrack >/dev/null && command -v heaptrack_print >/dev/null") != 0)
        skip();
    char cmd[2048], ht[256], txt[256], out[256];
    snprintf(ht, sizeof ht, "%s/ht", dir);
    snprintf(txt, sizeof txt, "%s/ht.txt", dir);
    snprintf(out, sizeof out, "%s/ht.snap", dir);
    snprintf(cmd, sizeof cmd,
             "heaptrack -o %s %s >/dev/null 2>&1 && heaptrack_print -f %s.zst --print-leaks 1 -p 0 -a 0 -T 0 "
             "-n 100 -s 0 > %s 2>/dev/null",
             ht, RC_TRACE_PROG, ht, txt);
    if (system(cmd) != 0)
        skip();                                  /* heaptrack cannot run here */
    ht_leak leaks[64];
    size_t n = heaptrack_leaks(txt, leaks, 64);
    assert_true(n >= 6);
    finish(start("", out, 1, NULL));
    rc_snapshot *s = load(out);
    rc_trace_filter heap = {.inclusive = true, .domain = RC_TRACE_DOMAIN_HEAP};
    rc_snapshot *f = rc_snapshot_filter_traces(s, &heap, 1);
    rc_trace_stats *st = rc_snapshot_statistics(f, RC_TRACE_BY_LINENO, false);
    for (size_t i = 0; i < n; i++) {
        if (leaks[i].line == site_line("realloc_zero"))
            continue;        /* heaptrack counts realloc(p, 0) as keeping p; glibc frees it */
        const rc_trace_stat *ours = stat_at(st, leaks[i].line);
        if (!ours)
            fail_msg("heaptrack: %.0f B leaked at trace_prog.c:%d; recycle: none", leaks[i].bytes, leaks[i].line);
        if (fabs((double)ours->size - leaks[i].bytes) > leaks[i].slack)
            fail_msg("trace_prog.c:%d: heaptrack %.0f B, recycle %zu B", leaks[i].line, leaks[i].bytes, ours->size);
    }
    rc_trace_stats_free(st);
    rc_snapshot_free(f);
    rc_snapshot_free(s);
}

/* Runs argv (stdout and stderr to the file out); returns the wait status. */
static int run(char *const argv[], const char *out)
{
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        if (!freopen(out, "w", stdout) || dup2(1, 2) < 0)
            _exit(126);
        execv(argv[0], argv);
        _exit(126);
    }
    return finish(pid);
}

static char *slurp_text(const char *path)
{
    static char buf[1 << 16];
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    buf[n] = 0;
    fclose(f);
    return buf;
}

static void test_recycle_trace_command(void **state)
{
    (void)state;
    char snap[256], log[256], want[2048], bad[256];
    snprintf(snap, sizeof snap, "%s/cmd.snap", dir);
    snprintf(log, sizeof log, "%s/cmd.log", dir);
    char *trace[] = {RC_RECYCLE, "trace", "-n", "3", "-o", snap, "--", RC_TRACE_PROG, NULL};
    int st = run(trace, log);
    assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    assert_non_null(strstr(slurp_text(log), "live blocks"));

    char *stats[] = {RC_RECYCLE, "trace-stats", snap, "--limit", "0", NULL};
    st = run(stats, log);
    assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    snprintf(want, sizeof want, "%s:%d: size=100 KiB, count=400, average=256 B\n", prog_src, site_line("thread_calloc"));
    assert_non_null(strstr(slurp_text(log), want));
    snprintf(want, sizeof want, "%s:%d: size=10000 B, count=10, average=1000 B\n", prog_src, site_line("main_malloc"));
    assert_non_null(strstr(slurp_text(log), want));

    char *diff[] = {RC_RECYCLE, "trace-diff", snap, snap, "--by", "filename", NULL};
    st = run(diff, log);
    assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    assert_non_null(strstr(slurp_text(log), "(+0 B), count="));

    /* a truncated snapshot: exit 1 (not the usage code) and the byte offset */
    snprintf(bad, sizeof bad, "%s/cut.snap", dir);
    snprintf(want, sizeof want, "head -c 300 %s > %s", snap, bad);
    assert_int_equal(system(want), 0);
    char *cut[] = {RC_RECYCLE, "trace-stats", bad, NULL};
    st = run(cut, log);
    assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 1);
    assert_non_null(strstr(slurp_text(log), "byte offset 300"));

    /* a program that cannot start: 127; one killed by a signal: 128 + N */
    char *missing[] = {RC_RECYCLE, "trace", "-o", snap, "--", "/nonexistent/prog", NULL};
    st = run(missing, log);
    assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 127);
    static const struct { const char *mode; int sig; } deaths[] = {{"term", SIGTERM}, {"segv", SIGSEGV}};
    for (int i = 0; i < 2; i++) {
        char *killed[] = {RC_RECYCLE, "trace", "-o", snap, "--", RC_TRACE_PROG, (char *)deaths[i].mode, NULL};
        st = run(killed, log);
        assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 128 + deaths[i].sig);
        rc_snapshot *s = load(snap);           /* complete, loadable, with the program's sites */
        check_parent_sites(s);
        rc_snapshot_free(s);
    }
}

/* Refused before the program runs, with one line and exit status 1 (the
 * command could not do its work; 2 is for a wrong command line): a
 * snapshot that cannot be written, a statically linked program.  A pipe
 * is a snapshot like any file. */
static void test_refused_before_running(void **state)
{
    (void)state;
    char log[256], mark[256], script[600], snap[256];
    snprintf(log, sizeof log, "%s/refused.log", dir);
    snprintf(mark, sizeof mark, "%s/ran", dir);
    snprintf(script, sizeof script, "touch %s", mark);
    char *unwritable[] = {RC_RECYCLE, "trace", "-o", "/nonexistent/dir/x.snap", "--", "/bin/sh", "-c", script, NULL};
    int st = run(unwritable, log);
    assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 1);
    assert_non_null(strstr(slurp_text(log), "cannot write the snapshot /nonexistent/dir/x.snap"));
    assert_int_equal(access(mark, F_OK), -1);                /* never started */

    snprintf(snap, sizeof snap, "%s/static.snap", dir);
    char *static_prog[] = {RC_RECYCLE, "trace", "-o", snap, "--", RC_TRACE_PROG_STATIC, NULL};
    st = run(static_prog, log);
    assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 1);
    assert_non_null(strstr(slurp_text(log), "is statically linked: LD_PRELOAD cannot work there"));

    snprintf(snap, sizeof snap, "%s/pipe.snap", dir);
    finish(start("", snap, 1, NULL));
    snprintf(script, sizeof script, "cat %s | %s trace-stats /dev/stdin --limit 1", snap, RC_RECYCLE);
    char *piped[] = {"/bin/sh", "-c", script, NULL};
    st = run(piped, log);
    assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    assert_non_null(strstr(slurp_text(log), "Total: "));
}

int main(void)
{
    rc_trace_set_symbolizer(rc_symbolize_dwarf);   /* file:line for native frames */
    snprintf(prog_src, sizeof prog_src, "%s/tests/progs/trace_prog.c", RC_SOURCE_DIR);
    if (!mkdtemp(dir))
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_threads_sites_sizes_counts),
        cmocka_unit_test(test_deeper_tracebacks),
        cmocka_unit_test(test_fork_child_writes_its_own),
        cmocka_unit_test(test_sigusr2_and_sigterm),
        cmocka_unit_test(test_periodic_snapshots),
        cmocka_unit_test(test_recycle_trace_command),
        cmocka_unit_test(test_refused_before_running),
        cmocka_unit_test(test_agrees_with_heaptrack),
    };
    int r = cmocka_run_group_tests(tests, NULL, NULL);
    return remove_tree(dir) == 0 ? r : 1;
}
