/* However a traced program ends, it ends with a complete snapshot of every
 * process and never hangs.  tests/progs/trace_prog.c, churning malloc/free
 * in three threads so the end finds them inside the tracer, is killed by
 * each terminating signal (to the process, and to the process group of
 * `recycle trace`), ends through a SIGTERM handler of its own, faults,
 * aborts, calls _exit, exit and exec, and forks:
 * RUNS runs of each, every one under a timeout. */
#include <recycle.h>
#include "../src/trace/trace_env.h"
#include "files.h"

#include <glob.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

enum { RUNS = 50, TIMEOUT_MS = 10000 };

static char dir[] = "/tmp/test_trace_signals_XXXXXX";

/* What trace_prog allocates before it churns (the mapping and the
 * threads' callocs): every snapshot of it holds at least this much. */
static const size_t SETUP_BYTES = (1u << 20) + 400 * 256;

/* Starts trace_prog MODE in a process group of its own, traced directly or
 * through `recycle trace`; its stdout is *fd. */
static pid_t start(const char *mode, const char *out, bool via_recycle, int *fd)
{
    int fds[2];
    assert_int_equal(pipe(fds), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        char num[32];
        setpgid(0, 0);
        dup2(fds[1], 1);
        close(fds[0]);
        if (via_recycle) {
            setenv(rc__option(RC_TRACE_ENV_LIB)->name, RC_PRELOAD_LIB, 1);
            execl(RC_RECYCLE, RC_RECYCLE, "trace", "-o", out, "--", RC_TRACE_PROG, mode, (char *)NULL);
            _exit(127);
        }
        setenv(rc__option(RC_TRACE_ENV_OUT)->name, out, 1);
        snprintf(num, sizeof num, "%ld", (long)getppid());
        setenv(rc__option(RC_TRACE_ENV_PARENT)->name, num, 1);
        setenv("LD_PRELOAD", RC_PRELOAD_LIB, 1);
        execl(RC_TRACE_PROG, RC_TRACE_PROG, mode, (char *)NULL);
        _exit(127);
    }
    setpgid(pid, pid);             /* either side may get there first */
    close(fds[1]);
    *fd = fds[0];
    return pid;
}

static void wait_ready(int fd)
{
    char buf[6];
    assert_int_equal(read(fd, buf, sizeof buf), sizeof buf);   /* "ready\n" */
}

static void sleep_ms(long ms)
{
    struct timespec t = {ms / 1000, ms % 1000 * 1000000};
    nanosleep(&t, NULL);
}

/* The wait status of pid; a run that does not end in time is a hang: its
 * group is killed and the test fails. */
static int finish(pid_t pid, const char *what, int run)
{
    int status;
    for (int ms = 0; ms < TIMEOUT_MS; ms++) {
        pid_t r = waitpid(pid, &status, WNOHANG);
        assert_true(r >= 0);
        if (r == pid)
            return status;
        sleep_ms(1);
    }
    kill(-pid, SIGKILL);
    waitpid(pid, &status, 0);
    fail_msg("%s, run %d: hung (no exit in %d ms)", what, run, TIMEOUT_MS);
    return -1;
}

/* The snapshot at path must be complete and hold the setup's blocks;
 * another process may still be writing it, so it is waited for. */
static void check_snapshot(const char *path, const char *what, int run)
{
    for (int ms = 0; ms < TIMEOUT_MS && access(path, F_OK) != 0; ms++)
        sleep_ms(1);
    rc_snapshot *s = NULL;
    if (rc_snapshot_load(path, &s) != 0)
        fail_msg("%s, run %d: no complete snapshot: %s", what, run, rc_last_error(NULL));
    if (rc_snapshot_size(s) < SETUP_BYTES)
        fail_msg("%s, run %d: %s holds %zu B, less than the %zu B set up", what, run, path, rc_snapshot_size(s),
                 SETUP_BYTES);
    rc_snapshot_free(s);
}

/* The snapshots of other processes, OUT.PID (not OUT.PID.tmp): how many,
 * and the first one's path. */
static size_t count_others(const char *out, char *first, size_t n)
{
    char pattern[512];
    glob_t g;
    size_t count = 0;
    snprintf(pattern, sizeof pattern, "%s.[0-9]*", out);
    if (glob(pattern, 0, NULL, &g) != 0)
        return 0;
    for (size_t i = 0; i < g.gl_pathc; i++) {
        const char *suffix = g.gl_pathv[i] + strlen(out) + 1;
        if (strspn(suffix, "0123456789") == strlen(suffix) && count++ == 0)
            snprintf(first, n, "%s", g.gl_pathv[i]);
    }
    globfree(&g);
    return count;
}

/* Exactly one other process (the fork) must leave a complete snapshot; it
 * may still be writing it when the traced program is gone. */
static void check_fork(const char *out, const char *what, int run)
{
    char path[512];
    size_t n = 0;
    for (int ms = 0; ms < TIMEOUT_MS && (n = count_others(out, path, sizeof path)) == 0; ms++)
        sleep_ms(1);
    if (n != 1)
        fail_msg("%s, run %d: %zu snapshots of other processes, expected 1", what, run, n);
    check_snapshot(path, what, run);
}

static void remove_all(const char *out)
{
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -f %s %s.*", out, out);
    assert_int_equal(system(cmd), 0);
}

static bool killed_by(int status, int sig) { return WIFSIGNALED(status) && WTERMSIG(status) == sig; }

/* ---- signals sent to the process ------------------------------------------ */

static const int signals[] = {SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGSEGV, SIGABRT, SIGBUS};

static void kill_runs(int sig)
{
    char out[256], what[64];
    snprintf(out, sizeof out, "%s/kill.snap", dir);
    snprintf(what, sizeof what, "kill -%s", sigabbrev_np(sig));
    for (int run = 0; run < RUNS; run++) {
        int fd;
        pid_t pid = start("churn", out, false, &fd);
        wait_ready(fd);
        sleep_ms(rand() % 20);
        kill(pid, sig);
        int status = finish(pid, what, run);
        close(fd);
        if (!killed_by(status, sig))
            fail_msg("%s, run %d: wait status %#x", what, run, status);
        check_snapshot(out, what, run);
        remove_all(out);
    }
}

static void test_killed_by_each_signal(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof signals / sizeof signals[0]; i++)
        kill_runs(signals[i]);
}

/* A program with its own SIGTERM handler that exits: the handler runs
 * (exit status 7) and the snapshot is complete, whatever the signal
 * interrupted. */
static void own_handler_runs(const char *mode)
{
    char out[256];
    snprintf(out, sizeof out, "%s/own.snap", dir);
    for (int run = 0; run < RUNS; run++) {
        int fd;
        pid_t pid = start(mode, out, false, &fd);
        wait_ready(fd);
        sleep_ms(rand() % 20);
        kill(pid, SIGTERM);
        int status = finish(pid, mode, run);
        close(fd);
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 7)
            fail_msg("%s, run %d: wait status %#x, expected exit 7 from its handler", mode, run, status);
        check_snapshot(out, mode, run);
        remove_all(out);
    }
}

static void test_programs_own_handlers(void **state)
{
    (void)state;
    own_handler_runs("churn-handler");     /* sigaction, _exit */
    own_handler_runs("churn-signal");      /* signal, exit */
}

/* ---- signals sent to the group of `recycle trace`, with a fork ------------- */

static void group_runs(int sig)
{
    char out[256], what[64];
    snprintf(out, sizeof out, "%s/group.snap", dir);
    snprintf(what, sizeof what, "kill -%s to the group", sigabbrev_np(sig));
    for (int run = 0; run < RUNS; run++) {
        int fd;
        pid_t pid = start("churn-fork", out, true, &fd);
        wait_ready(fd);
        sleep_ms(rand() % 20);
        kill(-pid, sig);
        int status = finish(pid, what, run);
        close(fd);
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 128 + sig)
            fail_msg("%s, run %d: recycle trace's wait status %#x, expected exit %d", what, run, status, 128 + sig);
        check_snapshot(out, what, run);
        check_fork(out, what, run);
        remove_all(out);
    }
}

static void test_group_signals_through_recycle_trace(void **state)
{
    (void)state;
    static const int group[] = {SIGTERM, SIGINT, SIGHUP};
    for (size_t i = 0; i < sizeof group / sizeof group[0]; i++)
        group_runs(group[i]);
}

/* ---- ends of the program's own making ---------------------------------------- */

static void own_end_runs(const char *mode, int sig, int code)
{
    char out[256];
    snprintf(out, sizeof out, "%s/end.snap", dir);
    for (int run = 0; run < RUNS; run++) {
        int fd;
        pid_t pid = start(mode, out, false, &fd);
        int status = finish(pid, mode, run);
        close(fd);
        if (sig ? !killed_by(status, sig) : !WIFEXITED(status) || WEXITSTATUS(status) != code)
            fail_msg("%s, run %d: wait status %#x", mode, run, status);
        check_snapshot(out, mode, run);
        remove_all(out);
    }
}

static void test_fault_abort_exit_while_churning(void **state)
{
    (void)state;
    own_end_runs("churn-segv", SIGSEGV, 0);
    own_end_runs("churn-abort", SIGABRT, 0);
    own_end_runs("churn-_exit", 0, 3);
    own_end_runs("churn-exit", 0, 3);
}

/* Blocks of exactly `size` bytes in the snapshot at path. */
static size_t blocks_of(const char *path, size_t size)
{
    rc_snapshot *s = NULL;
    assert_int_equal(rc_snapshot_load(path, &s), 0);
    size_t n = 0;
    for (size_t i = 0; i < rc_snapshot_count(s); i++) {
        size_t sz;
        unsigned domain;
        free(rc_snapshot_get_trace(s, i, &sz, &domain));
        n += sz == size;
    }
    rc_snapshot_free(s);
    return n;
}

/* exec: the image leaving writes OUT.exec1, the new one OUT. */
static void test_exec_while_churning(void **state)
{
    (void)state;
    char out[256], first[300];
    snprintf(out, sizeof out, "%s/exec.snap", dir);
    snprintf(first, sizeof first, "%s.exec1", out);
    for (int run = 0; run < RUNS; run++) {
        int fd;
        pid_t pid = start("churn-exec", out, false, &fd);
        int status = finish(pid, "exec", run);
        close(fd);
        assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
        check_snapshot(first, "exec", run);
        check_snapshot(out, "exec", run);
        if (blocks_of(first, 4321) != 0 || blocks_of(out, 4321) != 4)   /* SITE:exec_child's */
            fail_msg("exec, run %d: the snapshots before and after exec are mixed up", run);
        remove_all(out);
    }
}

static int setup(void **state)
{
    (void)state;
    srand(17);
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
        cmocka_unit_test(test_killed_by_each_signal),
        cmocka_unit_test(test_programs_own_handlers),
        cmocka_unit_test(test_group_signals_through_recycle_trace),
        cmocka_unit_test(test_fault_abort_exit_while_churning),
        cmocka_unit_test(test_exec_while_churning),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
