/* The sampler of `recycle run` / `recycle attach`: mprof's memory_usage
 * loop, plus exact peaks, observed without changing the program.
 *
 * Every tick reads /proc/PID/status: VmRSS now, and VmHWM, the highest RSS
 * the process has had.  When the mark exceeds every sample and every mark
 * seen before, a new maximum happened that the samples missed — and since
 * the previous tick, or that tick would have seen it — so a PEAK line
 * records it for (previous tick, this tick].  The mark is the program's
 * own (getrusage's ru_maxrss, time -v), so it is never reset by default:
 * the peak of the run is exact, and a lower peak between two samples after
 * it goes unseen.  Linux keeps no other per-process peak; with
 * rc_sampler_opts.reset_peaks the mark is reset through
 * /proc/PID/clear_refs right after each peak, which records those lower
 * peaks too but leaves the program reading a peak since the last reset.
 * The stretch between the last tick and the exit is covered by wait4's
 * ru_maxrss, which the kernel takes from the same mark at exit.  Attached
 * to a running process, the first mark read is the peak before sampling
 * began: a BEFORE line, apart from what was seen.
 *
 * Each tick's lines leave in one write(2) to a file opened O_APPEND, so
 * they never interleave with the FUNC records the profiled program appends
 * to the same file (src/profile/profile.c).  A file whose sampler is killed holds
 * every tick completed so far. */
#include "recycle-tools.h"
#include "../prim/prim.h"
#include "../prim/proc_mem.h"
#include "sampler_launch.h"
#include "../prim/launch.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MIB(bytes) ((double)(bytes) / (1024.0 * 1024.0))

typedef struct series {       /* one process's samples */
    rc__procmem pm;
    long   pid;
    double rss;               /* MiB, this tick */
    double peak;              /* MiB of a peak missed by the samples, this tick; 0: none */
    double seen;              /* MiB: highest sample or unreset mark so far */
    bool   alive;             /* read this tick */
    bool   reset;             /* resetting the mark after a peak (reset_peaks, and allowed) */
    bool   baseline;          /* the next mark is history from before sampling began */
} series;

typedef struct node {         /* a process of /proc, for finding descendants */
    long    pid, ppid;
    int     desc;             /* 1 descendant, 0 not, -1 not decided yet */
    series *s;                /* descendants only */
} node;

typedef struct sampler {
    const rc_sampler_opts *o;
    rc_sampler_result *res;
    rc__os_log *out;           /* the .dat file */
    series  root;
    node   *tree;   size_t ntree;
    bool    children;          /* -C or -M: descendants are sampled */
    bool    attached;          /* attach: the process has a history before us */
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
    if (s->len && !rc__os_log_write(s->out, s->buf, s->len))
        s->err = rc_set_error(NULL, RC_EIO, "%s: cannot write: %s", s->o->output, errno ? strerror(errno) : "no space");
    s->len = 0;
}

static void note_peak(sampler *s, double mib)
{
    if (mib > s->res->peak_mib)
        s->res->peak_mib = mib;
}

/* ---- one process -------------------------------------------------------- */

/* Reads one tick; *before gets a baseline mark (0: none). */
static bool read_series(series *p, double *before)
{
    uint64_t rss, hwm;
    p->alive = rc__procmem_read(&p->pm, &rss, &hwm) == 0;
    *before = 0;
    if (!p->alive)
        return false;
    p->rss = MIB(rss);
    p->peak = 0;
    double mark = MIB(hwm);
    if (p->baseline) {
        p->baseline = false;
        *before = mark;
        p->seen = mark;
    } else if (mark > fmax(p->seen, p->rss)) {
        p->peak = mark;
        /* Reset refused (no permission): keep the mark as seen, so only a
         * new all-time maximum is reported next. */
        p->reset = p->reset && rc__procmem_reset_peak(&p->pm) == 0;
        p->seen = p->reset ? p->rss : mark;
    } else {
        p->seen = fmax(p->seen, p->rss);
    }
    return true;
}

static int series_init(series *p, long pid, const sampler *s)
{
    *p = (series){.pid = pid, .reset = s->o->reset_peaks, .baseline = s->attached && s->res->samples == 0};
    return rc__procmem_open(&p->pm, pid);
}

static series *series_new(long pid, const sampler *s)
{
    series *p = malloc(sizeof *p);
    if (p && series_init(p, pid, s) != 0) {
        free(p);
        return NULL;
    }
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
            t[i].s = series_new(t[i].pid, s);
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
        double before;
        if (!c || !read_series(c, &before))
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
    double now = rc__proc_epoch(), before;
    if (!read_series(&s->root, &before))
        return false;
    if (before > 0) {
        emit(s, "BEFORE %.6f %.4f\n", before, now);
        s->res->peak_before_mib = before;
    }
    if (s->o->reset_peaks && !s->root.reset)
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

/* Samples until the process ends (true) or the timeout or an output
 * error stops it (false). */
static bool sample_until_exit(sampler *s, double timeout)
{
    double interval = s->o->interval > 0 ? s->o->interval : 0.1;
    double start = rc__proc_mono_now(), next = start;
    int watch = rc__proc_watch(s->root.pid);
    bool ended = false;
    while (!s->err && !ended) {
        if (!tick(s)) {
            ended = true;
            break;
        }
        next += interval;
        double now = rc__proc_mono_now();
        if (next < now)
            next = now + interval;   /* fell behind: skip, never burst */
        if (timeout > 0 && next - start > timeout)
            break;
        ended = rc__proc_sleep_until(s->root.pid, watch, next, interval < 0.01);
    }
    rc__proc_unwatch(watch);
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

static void sampler_init(sampler *s, const rc_sampler_opts *o, rc_sampler_result *res, rc__os_log *out,
                         bool attached)
{
    *s = (sampler){.o = o, .res = res, .out = out, .attached = attached};
    s->children = o->include_children || o->multiprocess;
    s->t_prev = rc__proc_epoch();
    res->peak_mib = 0;
    res->peak_before_mib = 0;
    res->samples = 0;
}

/* ---- run ---------------------------------------------------------------- */

/* After the exit: the last stretch's peak, and how the program ended.
 * ru_maxrss is the mark at exit, but it also covers the forked copy of the
 * sampling process before exec (a value above that copy's size, at most
 * our RSS at fork, is the program's) and every child the program reaped
 * (so it is used only when the program reaped none: own_only). */
static void finish_run(sampler *s, const rc__proc_exit *e, double fork_rss, bool own_only)
{
    double now = rc__proc_epoch();
    double last = s->root.rss;
    double maxrss = MIB(e->maxrss_bytes);
    if (own_only && maxrss > fmax(s->root.seen, last) && maxrss > fork_rss && s->res->samples > 0) {
        double total = s->prev_total - last + maxrss;   /* children as last seen */
        emit(s, "PEAK %.6f %.4f %.4f\n", total, s->t_prev, now);
        note_peak(s, total);
    }
    if (e->signal)
        emit(s, "EXIT signal %d %.4f\n", e->signal, now);
    else
        emit(s, "EXIT code %d %.4f\n", e->code, now);
    flush(s);
}

static int write_cmdline(rc__os_log *out, const char *cmdline)
{
    size_t len = strlen(cmdline);
    char *line = malloc(len + 10);
    if (!line)
        return RC_ENOMEM;
    int n = snprintf(line, len + 10, "CMDLINE %s\n", cmdline);
    int err = rc__os_log_write(out, line, (size_t)n) ? 0 : RC_EIO;
    free(line);
    return err;
}

static int run_started(const rc_sampler_opts *o, long pid, rc__os_log *out, rc_sampler_result *res,
                       double fork_rss)
{
    sampler s;
    sampler_init(&s, o, res, out, false);
    if (series_init(&s.root, pid, &s) == 0)
        sample_until_exit(&s, o->timeout);
    rc__proc_exit e;
    bool own_only = rc__proc_waited_children_faults(pid) == 0;   /* read before reaping */
    if (rc__proc_reap(pid, !(o->timeout > 0), &e)) {
        res->exited = true;
        res->status = e.status;
        finish_run(&s, &e, fork_rss, own_only);
    }
    int err = s.err;
    sampler_free(&s);
    return err;
}

/* Nothing was started: the file goes again if this run made it.  The
 * reason is already the last error unless it is want of memory. */
static int abandon_run(const char *output, bool existed, rc__os_log *out, char *abs, int err)
{
    if (err == RC_ENOMEM)
        rc_set_error(NULL, err, "%s: %s", output, rc_strerror(err));
    if (!existed)
        remove(output);
    rc__os_log_close(out);
    free(abs);
    return err;
}

int rc_sampler_run(const rc_sampler_opts *o, char *const argv[], rc_sampler_result *res)
{
    *res = (rc_sampler_result){0};
    if (!argv || !argv[0] || !o->output)
        return rc_set_error(NULL, RC_EINVAL, "rc_sampler_run: %s", o->output ? "no program to run" : "no output file");
    char **py_argv = NULL, **py_shown = NULL;
    char *abs = rc__os_abspath(o->output);
    bool existed = abs != NULL;
    rc__os_log out;
    if (rc__os_log_open(&out, o->output, true, false) != 0) {
        free(abs);
        return rc_set_error(NULL, RC_EIO, "%s: cannot open for appending: %s", o->output, strerror(errno));
    }
    if (!abs)
        abs = rc__os_abspath(o->output);
    int err = 0;
    if (abs && rc__launch_python_mode(o, argv) && !(py_argv = rc__launch_python_argv(o, argv, abs, &py_shown, &err)))
        return abandon_run(o->output, existed, &out, abs, err);
    argv = py_argv ? py_argv : argv;
    char *cmdline = rc_sampler_cmdline(py_shown ? py_shown : argv);
    char **env = abs ? rc__sampler_env(abs) : NULL;
    err = cmdline && env ? write_cmdline(&out, cmdline) : RC_ENOMEM;
    long pid = -1;
    double fork_rss = MIB(rc__os_rss_bytes());
    if (!err) {
        pid = rc__launch(argv, env, false, &res->exec_errno);
        res->pid = pid;
        res->started = pid > 0;
        if (!res->started) {
            err = rc_set_error(NULL, RC_ENOENT, "cannot start %s: %s", argv[0], strerror(res->exec_errno));
            if (!existed)
                remove(o->output);   /* leave no file behind for a program that never ran */
        }
    }
    else
        rc_set_error(NULL, err, "%s: %s", o->output, rc_strerror(err));
    if (!err)
        err = run_started(o, pid, &out, res, fork_rss);
    rc__os_log_close(&out);
    free(env);
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
    rc__os_log out;
    if (rc__os_log_open(&out, o->output, true, false) != 0)
        return rc_set_error(NULL, RC_EIO, "%s: cannot open for appending: %s", o->output, strerror(errno));
    sampler_init(&s, o, res, &out, true);
    int err = rc_set_error(NULL, RC_ENOENT, "pid %ld: gone or not readable", pid);
    char cmdline[4096];
    if (series_init(&s.root, pid, &s) == 0 && rc__proc_cmdline(pid, cmdline, sizeof cmdline) == 0) {
        res->started = true;
        err = write_cmdline(&out, cmdline);
        if (!err) {
            res->exited = sample_until_exit(&s, o->timeout > 0 ? o->timeout : 3600);
            err = s.err;
        }
    }
    sampler_free(&s);
    rc__os_log_close(&out);
    return err;
}
