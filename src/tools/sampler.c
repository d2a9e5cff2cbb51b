/* The sampler of `recycle run` / `recycle attach`: mprof's memory_usage
 * loop, plus exact peaks.
 *
 * Every tick reads /proc/PID/status: VmRSS now, and VmHWM, the highest RSS
 * since the mark was last reset (through /proc/PID/clear_refs).  When the
 * mark exceeds every sample taken since that reset, a peak happened that
 * the samples missed — and since the previous tick, or that tick would
 * have seen it — so a PEAK line records it for (previous tick, this tick]
 * and the mark is reset.  A quiet process is never reset: the reset is the
 * one moment a spike could slip through (between reading the mark and
 * resetting it), so it happens only right after a peak.  Without the
 * right to reset, the mark still reports every new all-time maximum.
 * The stretch between the last tick and the exit is covered by wait4's
 * ru_maxrss, which the kernel takes from the same mark at exit.
 *
 * Each tick's lines leave in one write(2) to a file opened O_APPEND, so
 * they never interleave with the FUNC records the profiled program appends
 * to the same file (src/profile/profile.c).  A file whose sampler is killed holds
 * every tick completed so far. */
#include "recycle-tools.h"
#include "../prim/proc_mem.h"
#include "sampler_launch.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <poll.h>
#include <stdarg.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MIB(bytes) ((double)(bytes) / (1024.0 * 1024.0))

typedef struct series {       /* one process's samples */
    rc__procmem pm;
    long   pid;
    double rss;               /* MiB, this tick */
    double peak;              /* MiB of a peak missed by the samples, this tick; 0: none */
    double seen;              /* MiB: highest sample (or mark, if not reset) since the reset */
    bool   alive;             /* read this tick */
    bool   no_reset;          /* clear_refs refused: only new maxima are seen */
} series;

typedef struct node {         /* a process of /proc, for finding descendants */
    long    pid, ppid;
    int     desc;             /* 1 descendant, 0 not, -1 not decided yet */
    series *s;                /* descendants only */
} node;

typedef struct sampler {
    const rc_sampler_opts *o;
    rc_sampler_result *res;
    int     out;               /* the .dat file, O_APPEND */
    series  root;
    node   *tree;   size_t ntree;
    bool    children;          /* -C or -M: descendants are sampled */
    double  t_prev;            /* time of the previous tick */
    double  prev_total;        /* MEM value of the previous tick */
    char   *buf;   size_t len, cap;
    int     err;
} sampler;

/* ---- output ------------------------------------------------------------- */

static void emit(sampler *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void emit(sampler *s, const char *fmt, ...)
{
    for (;;) {
        va_list ap;
        va_start(ap, fmt);
        int n = vsnprintf(s->buf + s->len, s->cap - s->len, fmt, ap);
        va_end(ap);
        if (n < 0)
            return;
        if (s->len + (size_t)n < s->cap) {
            s->len += (size_t)n;
            return;
        }
        size_t cap = s->cap ? 2 * s->cap : 4096;
        while (cap <= s->len + (size_t)n)
            cap *= 2;
        char *nb = realloc(s->buf, cap);
        if (!nb) {
            s->err = rc_set_error(NULL, RC_ENOMEM, "%s: out of memory buffering samples", s->o->output);
            return;
        }
        s->buf = nb;
        s->cap = cap;
    }
}

static void flush(sampler *s)
{
    for (size_t off = 0; off < s->len;) {
        ssize_t n = write(s->out, s->buf + off, s->len - off);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            s->err = rc_set_error(NULL, RC_EIO, "%s: cannot write: %s", s->o->output, n < 0 ? strerror(errno) : "no space");
            break;
        }
        off += (size_t)n;
    }
    s->len = 0;
}

static void note_peak(sampler *s, double mib)
{
    if (mib > s->res->peak_mib)
        s->res->peak_mib = mib;
}

/* ---- one process -------------------------------------------------------- */

static bool read_series(series *p)
{
    uint64_t rss, hwm;
    p->alive = rc__procmem_read(&p->pm, &rss, &hwm) == 0;
    if (!p->alive)
        return false;
    p->rss = MIB(rss);
    p->peak = 0;
    double mark = MIB(hwm);
    if (mark > fmax(p->seen, p->rss)) {
        p->peak = mark;
        /* Reset failed (no permission): keep the mark as seen, so only a
         * new all-time maximum is reported next. */
        p->no_reset = rc__procmem_reset_peak(&p->pm) != 0;
        p->seen = p->no_reset ? mark : p->rss;
    } else {
        p->seen = fmax(p->seen, p->rss);
    }
    return true;
}

static series *series_new(long pid)
{
    series *p = calloc(1, sizeof *p);
    if (p && rc__procmem_open(&p->pm, pid) != 0) {
        free(p);
        return NULL;
    }
    if (p)
        p->pid = pid;
    return p;
}

static void series_free(series *p)
{
    if (p) {
        rc__procmem_close(&p->pm);
        free(p);
    }
}

/* ---- the process tree (no /proc/PID/task/TID/children here) ------------- */

static node *find_node(node *tree, size_t n, long pid)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (tree[mid].pid == pid)
            return &tree[mid];
        if (tree[mid].pid < pid)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

/* Decides new nodes: a descendant's parent is the root or a descendant.
 * Decided nodes keep their answer, so a child orphaned when its parent
 * dies stays counted while it lives. */
static void decide(sampler *s, node *t, size_t n)
{
    for (bool changed = true; changed;) {
        changed = false;
        for (size_t i = 0; i < n; i++) {
            if (t[i].desc >= 0)
                continue;
            node *parent = find_node(t, n, t[i].ppid);
            int d = t[i].ppid == s->root.pid ? 1 : parent ? parent->desc : 0;
            if (d >= 0) {
                t[i].desc = d;
                changed = true;
            }
        }
    }
    for (size_t i = 0; i < n; i++)
        if (t[i].desc < 0)
            t[i].desc = 0;     /* a cycle of undecided parents: impossible, be safe */
}

static void rescan_tree(sampler *s)
{
    long *pids;
    size_t n;
    if (rc__proc_pids(&pids, &n))
        return;
    node *t = calloc(n ? n : 1, sizeof *t);
    if (!t) {
        free(pids);
        return;
    }
    for (size_t i = 0; i < n; i++) {
        node *old = find_node(s->tree, s->ntree, pids[i]);
        if (old) {
            t[i] = *old;
            old->s = NULL;     /* moved */
        } else {
            t[i] = (node){pids[i], rc__proc_ppid(pids[i]), pids[i] == s->root.pid ? 0 : -1, NULL};
        }
    }
    decide(s, t, n);
    for (size_t i = 0; i < n; i++)
        if (t[i].desc == 1 && !t[i].s)
            t[i].s = series_new(t[i].pid);
    for (size_t i = 0; i < s->ntree; i++)
        series_free(s->tree[i].s);   /* processes that are gone */
    free(s->tree);
    free(pids);
    s->tree = t;
    s->ntree = n;
}

/* ---- one tick ----------------------------------------------------------- */

/* The highest value a series can have had since the previous tick. */
static double top(const series *p)
{
    return p->peak > 0 ? p->peak : p->rss;
}

/* With -C the PEAK of the sum adds each process's own top: an upper
 * bound when they peaked at different moments. */
static void sample_children(sampler *s, double now, double *total, double *total_top, bool *missed)
{
    rescan_tree(s);
    for (size_t i = 0; i < s->ntree; i++) {
        series *c = s->tree[i].s;
        if (!c || !read_series(c))
            continue;
        if (s->o->include_children) {
            *total += c->rss;
            *total_top += top(c);
            *missed |= c->peak > 0;
        }
        if (s->o->multiprocess) {
            emit(s, "CHLD %ld %.6f %.4f\n", c->pid, c->rss, now);
            if (c->peak > 0)
                emit(s, "CHLDPEAK %ld %.6f %.4f %.4f\n", c->pid, c->peak, s->t_prev, now);
        }
    }
}

/* Samples once; false when the root process is gone. */
static bool tick(sampler *s)
{
    double now = rc__proc_epoch();
    if (!read_series(&s->root))
        return false;
    if (s->root.no_reset)
        s->res->peaks_unreset = true;
    double total = s->root.rss, total_top = top(&s->root);
    bool missed = s->root.peak > 0;
    if (s->children)
        sample_children(s, now, &total, &total_top, &missed);
    emit(s, "MEM %.6f %.4f\n", total, now);
    if (missed && total_top > fmax(s->prev_total, total)) {
        emit(s, "PEAK %.6f %.4f %.4f\n", total_top, s->t_prev, now);
        note_peak(s, total_top);
    }
    note_peak(s, total);
    flush(s);
    s->res->samples++;
    s->prev_total = total;
    s->t_prev = now;
    return true;
}

/* ---- waiting between ticks --------------------------------------------- */

static int pidfd_for(long pid)
{
#ifdef SYS_pidfd_open
    return (int)syscall(SYS_pidfd_open, (pid_t)pid, 0);
#else
    (void)pid;
    return -1;
#endif
}

static double mono_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* Sleeps until the monotonic time `until`; true if the process ended.
 * Short intervals sleep with clock_nanosleep: a tick notices the exit
 * soon enough, and waking from ppoll on the pidfd costs more CPU. */
static bool wait_tick(long pid, int pidfd, double until, double interval)
{
    if (interval < 0.01) {
        struct timespec ts = {(time_t)until, (long)((until - (double)(time_t)until) * 1e9)};
        while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR)
            ;
        return false;
    }
    for (;;) {
        double left = until - mono_now();
        if (left <= 0)
            return false;
        struct timespec ts = {(time_t)left, (long)((left - (double)(time_t)left) * 1e9)};
        if (pidfd >= 0) {
            struct pollfd pfd = {pidfd, POLLIN, 0};
            int r = ppoll(&pfd, 1, &ts, NULL);
            if (r > 0)
                return true;
            if (r == 0)
                return false;
            if (errno != EINTR)
                return false;
        } else {
            if (nanosleep(&ts, NULL) == 0)
                return kill((pid_t)pid, 0) != 0 && errno == ESRCH;
        }
    }
}

/* Samples until the process ends (true) or the timeout or an output
 * error stops it (false). */
static bool sample_until_exit(sampler *s, double timeout)
{
    double interval = s->o->interval > 0 ? s->o->interval : 0.1;
    double start = mono_now(), next = start;
    int pidfd = pidfd_for(s->root.pid);
    bool ended = false;
    while (!s->err && !ended) {
        if (!tick(s)) {
            ended = true;
            break;
        }
        next += interval;
        double now = mono_now();
        if (next < now)
            next = now + interval;   /* fell behind: skip, never burst */
        if (timeout > 0 && next - start > timeout)
            break;
        ended = wait_tick(s->root.pid, pidfd, next, interval);
    }
    if (pidfd >= 0)
        close(pidfd);
    return ended;
}

static void sampler_free(sampler *s)
{
    for (size_t i = 0; i < s->ntree; i++)
        series_free(s->tree[i].s);
    free(s->tree);
    free(s->buf);
    rc__procmem_close(&s->root.pm);
}

static int open_output(const char *path)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (fd < 0)
        rc_set_error(NULL, RC_EIO, "%s: cannot open for appending: %s", path, strerror(errno));
    return fd;
}

static void sampler_init(sampler *s, const rc_sampler_opts *o, rc_sampler_result *res, int out)
{
    *s = (sampler){.o = o, .res = res, .out = out};
    s->children = o->include_children || o->multiprocess;
    s->t_prev = rc__proc_epoch();
    res->peak_mib = 0;
    res->samples = 0;
}

/* ---- run ---------------------------------------------------------------- */

/* After the exit: the last stretch's peak, and how the program ended.
 * ru_maxrss is the mark at exit, but it also covers the forked copy of the
 * sampling process before exec (a value above that copy's size, at most
 * our RSS at fork, is the program's) and every child the program reaped
 * (so it is used only when the program reaped none: own_only). */
static void finish_run(sampler *s, int status, const struct rusage *ru, double fork_rss,
                       bool own_only)
{
    double now = rc__proc_epoch();
    double last = s->root.rss;
    double maxrss = MIB((uint64_t)ru->ru_maxrss * 1024);
    if (own_only && maxrss > fmax(s->root.seen, last) && maxrss > fork_rss && s->res->samples > 0) {
        double total = s->prev_total - last + maxrss;   /* children as last seen */
        emit(s, "PEAK %.6f %.4f %.4f\n", total, s->t_prev, now);
        note_peak(s, total);
    }
    if (WIFSIGNALED(status))
        emit(s, "EXIT signal %d %.4f\n", WTERMSIG(status), now);
    else
        emit(s, "EXIT code %d %.4f\n", WEXITSTATUS(status), now);
    flush(s);
}

static int write_cmdline(int out, const char *cmdline)
{
    size_t len = strlen(cmdline);
    char *line = malloc(len + 10);
    if (!line)
        return RC_ENOMEM;
    int n = snprintf(line, len + 10, "CMDLINE %s\n", cmdline);
    int err = write(out, line, (size_t)n) == n ? 0 : RC_EIO;
    free(line);
    return err;
}

static int run_started(const rc_sampler_opts *o, long pid, int out, rc_sampler_result *res,
                       double fork_rss)
{
    sampler s;
    sampler_init(&s, o, res, out);
    if (rc__procmem_open(&s.root.pm, pid) == 0) {
        s.root.pid = pid;
        sample_until_exit(&s, o->timeout);
    }
    int status = 0;
    struct rusage ru = {0};
    bool own_only = rc__proc_waited_children_faults(pid) == 0;   /* read before reaping */
    pid_t w = o->timeout > 0 ? wait4((pid_t)pid, &status, WNOHANG, &ru)
                             : wait4((pid_t)pid, &status, 0, &ru);
    if (w == (pid_t)pid) {
        res->exited = true;
        res->status = status;
        finish_run(&s, status, &ru, fork_rss, own_only);
    }
    int err = s.err;
    sampler_free(&s);
    return err;
}

int rc_sampler_run(const rc_sampler_opts *o, char *const argv[], rc_sampler_result *res)
{
    *res = (rc_sampler_result){0};
    if (!argv || !argv[0] || !o->output)
        return rc_set_error(NULL, RC_EINVAL, "rc_sampler_run: %s", o->output ? "no program to run" : "no output file");
    char **py_argv = NULL, **py_shown = NULL;
    char *abs = realpath(o->output, NULL);
    bool existed = abs != NULL;
    int out = open_output(o->output);
    if (out < 0) {
        free(abs);
        return RC_EIO;
    }
    if (!abs)
        abs = realpath(o->output, NULL);
    if (abs && rc__launch_python_mode(o, argv) && (py_argv = rc__launch_python_argv(o, argv, abs, &py_shown)))
        argv = py_argv;
    char *cmdline = rc_sampler_cmdline(py_shown ? py_shown : argv);
    char **env = abs ? rc__launch_env(abs) : NULL;
    int err = cmdline && env ? write_cmdline(out, cmdline) : RC_ENOMEM;
    long pid = -1;
    double fork_rss = MIB(rc__proc_self_rss());
    if (!err) {
        pid = rc__launch(argv, env, &res->exec_errno);
        res->pid = pid;
        res->started = pid > 0;
        if (!res->started) {
            err = rc_set_error(NULL, RC_ENOENT, "cannot start %s: %s", argv[0], strerror(res->exec_errno));
            if (!existed)
                unlink(o->output);   /* leave no file behind for a program that never ran */
        }
    }
    else
        rc_set_error(NULL, err, "%s: %s", o->output, rc_strerror(err));
    if (!err)
        err = run_started(o, pid, out, res, fork_rss);
    close(out);
    rc__launch_env_free(env);
    free(cmdline);
    free(abs);
    free(py_argv);
    free(py_shown);
    return err;
}

/* ---- attach ------------------------------------------------------------- */

int rc_sampler_attach(const rc_sampler_opts *o, long pid, rc_sampler_result *res)
{
    *res = (rc_sampler_result){.pid = pid};
    sampler s;
    if (!o->output)
        return rc_set_error(NULL, RC_EINVAL, "rc_sampler_attach: no output file");
    int out = open_output(o->output);
    if (out < 0)
        return RC_EIO;
    sampler_init(&s, o, res, out);
    int err = rc_set_error(NULL, RC_ENOENT, "pid %ld: gone or not readable", pid);
    char cmdline[4096];
    if (rc__procmem_open(&s.root.pm, pid) == 0 && rc__proc_cmdline(pid, cmdline, sizeof cmdline) == 0) {
        res->started = true;
        s.root.pid = pid;
        err = write_cmdline(out, cmdline);
        if (!err) {
            res->exited = sample_until_exit(&s, o->timeout > 0 ? o->timeout : 3600);
            err = s.err;
        }
    }
    sampler_free(&s);
    close(out);
    return err;
}
