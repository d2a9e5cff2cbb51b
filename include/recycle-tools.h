/* recycle tools — what needs PLplot, Graphviz or libdw, in librecycle-tools:
 * mprof .dat files and the sampler behind `recycle run`, charts, graph
 * rendering (show_refs and friends) and symbolization with line numbers.
 * The core (recycle.h, librecycle) never calls into this library.
 * Same conventions as recycle.h: every exported name starts rc_ or RC_,
 * every declaration carries RC_API. */
#ifndef RECYCLE_TOOLS_H
#define RECYCLE_TOOLS_H

#include "recycle.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------------
 * Symbolization (src/trace/trace_symbol.c)
 * ---------------------------------------------------------------------- */

/* An rc_symbolizer reading DWARF line tables with libdw: file, line and
 * function of each frame, for any module on disk (also for snapshots
 * written by another process).  Install it before making reports:
 *     rc_trace_set_symbolizer(rc_symbolize_dwarf);                      */
RC_API int rc_symbolize_dwarf(const char *module, const uint64_t *offsets, size_t n,
                              rc_symbol_put put, void *ctx);

/* ------------------------------------------------------------------------
 * The memory profiler's files, sampler and charts (docs/profiler.md)
 * ---------------------------------------------------------------------- */

/* A .dat file in memory (src/profile/mprof.c).  Times are epoch seconds, memory MiB.
 * PEAK, CHLDPEAK, BEFORE and EXIT records are recycle's; mprof skips them. */
typedef struct rc_mprof_sample { double t, mib; } rc_mprof_sample;
typedef struct rc_mprof_func {
    char  *name;
    double mem0, t0, mem1, t1;
    int    level;               /* nesting depth, 0 = outermost (as memory_profiler) */
} rc_mprof_func;
typedef struct rc_mprof_interval {  /* true maximum between two samples */
    double mib, t0, t1;
} rc_mprof_interval;
typedef struct rc_mprof_child { /* CHLD series of one child process */
    long             pid;
    rc_mprof_sample *samples;
    size_t           nsamples;
    rc_mprof_interval *peaks;
    size_t           npeaks;
} rc_mprof_child;
typedef struct rc_mprof {
    char            *path;      /* as loaded; NULL for a profile built in memory */
    char            *cmdline;   /* NULL when the file has no CMDLINE */
    rc_mprof_sample *mem;    size_t nmem;
    rc_mprof_func   *funcs;  size_t nfuncs;
    rc_mprof_interval *peaks;  size_t npeaks;
    rc_mprof_child  *children; size_t nchildren;
    double           before_mib; /* BEFORE record (attach): the peak before sampling began; 0: none */
    double           before_t;  /* when sampling began */
    bool             has_exit;  /* an EXIT record: how the program ended */
    bool             exit_signaled; /* killed by signal exit_code, else exit(exit_code) */
    int              exit_code;
    double           exit_t;
    size_t           bad_lines; /* malformed lines skipped while loading */
    /* "file:line: malformed line skipped: why\n" for each of the first five,
     * then "file: N more malformed lines skipped\n"; NULL when none. */
    char            *skipped;
} rc_mprof;

/* Loads a .dat file written by mprof or recycle (a pipe will do).
 * Malformed lines are skipped and noted in rc_mprof.skipped.  RC_ENOENT:
 * missing or unreadable; RC_EFORMAT: no MEM sample, which
 * rc_last_error(NULL) says in one line naming the file as not a .dat file. */
RC_API int  rc_mprof_load(const char *path, rc_mprof **out);
/* Writes p in the .dat format (mprof-compatible); RC_EIO on failure. */
RC_API int  rc_mprof_save(const rc_mprof *p, const char *path);
RC_API int  rc_mprof_write(const rc_mprof *p, FILE *out);
RC_API void rc_mprof_free(rc_mprof *p);
/* Appenders for building a profile in memory; 0 or RC_ENOMEM. */
RC_API int  rc_mprof_add_mem(rc_mprof *p, double t, double mib);
RC_API int  rc_mprof_add_func(rc_mprof *p, const char *name, double mem0, double t0,
                              double mem1, double t1, int level);
RC_API int  rc_mprof_add_peak(rc_mprof *p, double mib, double t0, double t1);
RC_API int  rc_mprof_add_child(rc_mprof *p, long pid, double t, double mib);
RC_API rc_mprof *rc_mprof_new(void);
/* The exact peak of the main series: the largest of MEM, FUNC and PEAK
 * values; *t (if not NULL) is when (the middle of a PEAK interval). */
RC_API double rc_mprof_peak(const rc_mprof *p, double *t);
RC_API double rc_mprof_child_peak(const rc_mprof_child *c);
/* Highest MiB of the main series inside [t0, t1]: samples in it and PEAK
 * records whose interval overlaps it; -INFINITY when there are none. */
RC_API double rc_mprof_max_between(const rc_mprof *p, double t0, double t1);
/* Highest MiB during the calls of one function (mprof peak --func);
 * NAN when the profile has no FUNC record of that name. */
RC_API double rc_mprof_func_peak(const rc_mprof *p, const char *name);
/* The per-function table of `recycle report`: calls, memory at entry and
 * exit, maximum inside, increment.  per_call: one row per call instead. */
RC_API int  rc_mprof_report(const rc_mprof *p, bool per_call, FILE *out);

/* mprofile_YYYYmmddHHMMSS.dat files in a directory (src/profile/mprof_files.c). */
#define RC_MPROF_NAME_LEN 32
RC_API void rc_mprof_default_name(char buf[RC_MPROF_NAME_LEN]);   /* from local time now */
/* Sorted oldest first; free with rc_mprof_names_free.  0 or RC_ENOMEM/RC_EIO. */
RC_API int  rc_mprof_list(const char *dir, char ***names, size_t *n);
RC_API void rc_mprof_names_free(char **names, size_t n);
/* An argument of plot/peak/rm: an existing path, or an index into the
 * sorted list (0 oldest, -1 newest).  Returns a malloc'd path or NULL. */
RC_API char *rc_mprof_resolve(const char *dir, const char *arg);

/* The sampler (src/profile/sampler.c): runs or attaches to a process and writes a
 * .dat file while it lives.  When the samples missed a new maximum between
 * two ticks it records its true height as a PEAK line (from VmHWM, which
 * it leaves as the program sees it unless reset_peaks; docs/profiler.md). */
typedef struct rc_sampler_opts {
    double      interval;          /* seconds between samples; 0: 0.1 */
    bool        include_children;  /* -C: MEM is the sum over the process tree */
    bool        multiprocess;      /* -M: a CHLD series per descendant */
    double      timeout;           /* seconds; 0: none (attach: 3600) */
    const char *output;            /* the .dat file (appended to, as mprof) */
    /* mprof's Python mode (run only): 0 when argv[0] ends in .py, 1 always
     * (--python), -1 never (--nopython).  The script runs under
     * `PYTHON -m memory_profiler --timestamp`, so its @profile functions
     * give FUNC records, as with mprof.  PYTHON: the interpreter named on
     * the command line or in $RECYCLE_PYTHON, else python3-mprof's own,
     * else python3 — the first that can import memory_profiler;
     * rc_sampler_run returns RC_ENOTSUP (said in rc_last_error(NULL)) when
     * none can. */
    int         python;
    /* --reset-peaks: reset the process's VmHWM through clear_refs after
     * each peak, so lower peaks between samples after the highest are
     * recorded too — at the price of changing the peak the program reads
     * of itself (ru_maxrss).  Off: the program is observed unchanged. */
    bool        reset_peaks;
} rc_sampler_opts;
typedef struct rc_sampler_result {
    long   pid;            /* the profiled process */
    bool   started;        /* false: exec failed, see exec_errno */
    int    exec_errno;
    bool   exited;         /* false: still running at the timeout */
    int    status;         /* wait status when exited (run only) */
    size_t samples;
    double peak_mib;       /* exact peak of the main series while sampled */
    double peak_before_mib; /* attach: the process's peak before sampling began; 0: none */
    /* reset_peaks was asked but VmHWM could not be reset (clear_refs
     * refused): peaks between samples were recorded only when they set a
     * new maximum. */
    bool   peaks_unreset;
} rc_sampler_result;
/* Starts argv[0] (searched in PATH) with RECYCLE_PROFILE_FILE set and
 * samples it until it exits.  RC_EIO: output not writable; RC_ENOENT:
 * could not start (res->exec_errno says why).  The sampler has no heap:
 * messages are the calling thread's last error (rc_last_error(NULL)). */
RC_API int rc_sampler_run(const rc_sampler_opts *o, char *const argv[], rc_sampler_result *res);
/* Samples an existing process until it exits or the timeout passes. */
RC_API int rc_sampler_attach(const rc_sampler_opts *o, long pid, rc_sampler_result *res);
/* A pid given as digits, else the first process whose name (comm)
 * contains name_or_pid, as mprof attach; RC_ENOENT when none. */
RC_API long rc_sampler_find_pid(const char *name_or_pid);
/* The shell-like command line mprof writes after CMDLINE; malloc'd. */
RC_API char *rc_sampler_cmdline(char *const argv[]);

/* Charts (src/profile/plot.c) through PLplot's cairo driver. */
typedef struct rc_plot_opts {
    const char *output;        /* .png, .svg or .pdf */
    const char *title;         /* NULL: the command line of a single file */
    double window[4];          /* x0,x1 (s), y0,y1 (MiB); NaN: automatic */
    bool   flame;              /* --flame: brackets as a flame graph */
    bool   slope;              /* --slope: a trend line and its slope */
    bool   no_brackets;        /* -n: no function brackets */
    int    width, height;      /* pixels (PNG); 0: 1260 x 540, like mprof */
} rc_plot_opts;
/* Where the plot area ended up, for tests and callers that annotate. */
typedef struct rc_plot_frame {
    double x0, x1, y0, y1;       /* world coordinates of the plot area */
    double px0, px1, py0, py1;   /* its pixel box (py0 is the top row) */
    int    width, height;
} rc_plot_frame;
RC_API void rc_plot_opts_default(rc_plot_opts *o);
/* Draws one or more profiles (several: overlaid with a legend, no
 * brackets, as mprof).  RC_EINVAL: unknown output extension or an empty
 * window; RC_EIO: the output cannot be written or PLplot failed; the
 * reason in rc_last_error(NULL).
 * PLplot keeps global state: one rc_plot at a time per process. */
RC_API int rc_plot(const rc_mprof *const *profiles, size_t n, const rc_plot_opts *o, rc_plot_frame *frame);

/* A flame graph (src/trace/flame.c): one stack per traceback, its frames
 * outermost first, its bytes.  Stacks through the same frames merge into
 * one box as wide as their bytes; labels are cut to fit their box.
 * .svg is drawn by PLplot's svg driver (labels stay <text> elements),
 * .png and .pdf by its cairo driver.  Sorts stacks.  RC_EINVAL: unknown
 * extension or no bytes; RC_EIO: PLplot failed.  One at a time, as rc_plot. */
typedef struct rc_flame_stack {
    const char *const *frames;  /* outermost first */
    size_t nframe;
    size_t bytes;
} rc_flame_stack;
RC_API int rc_flame(rc_flame_stack *stacks, size_t n, const char *output, const char *title);

/* ------------------------------------------------------------------------
 * Object graphs drawn as objgraph draws them (src/graph/graph_dot.c,
 * docs/graph.md); the snapshots and queries are in recycle.h.
 * ---------------------------------------------------------------------- */

/* Options of show_refs / show_backrefs / show_chain, as objgraph's. */
typedef struct rc_graph_opts {
    size_t max_depth;               /* 3 */
    size_t too_many;                /* 10: neighbours drawn per object; the rest become one "N more" node */
    const void *const *extra_ignore;/* objects (addresses, for dumps) never drawn */
    size_t n_ignore;
    rc_objinfo_pred filter;         /* NULL: all; false: the object is not drawn */
    rc_objinfo_pred highlight;      /* true: drawn in blue */
    void  *ctx;                     /* passed to filter, highlight and extra_info */
    bool   refcounts;               /* label shows "[refcount, ext N]" */
    bool   shortnames;              /* true: type name only; false: also the address */
    /* Writes an extra label line for o into buf (size n). */
    void (*extra_info)(const rc_objinfo *o, void *ctx, char *buf, size_t n);
} rc_graph_opts;

RC_API void rc_graph_opts_default(rc_graph_opts *o);

/* Graphs as objgraph draws them, written to path: .dot writes DOT ("-":
 * DOT on stdout); .png, .svg and .pdf are rendered in-process by Graphviz
 * (no dot program needed).  opts NULL: defaults.  RC_EINVAL for an unknown extension or
 * an address not in the snapshot. */
RC_API int rc_objgraph_show_refs(const rc_objgraph *g, const uint64_t *addrs, size_t n,
                                 const rc_graph_opts *opts, const char *path);
RC_API int rc_objgraph_show_backrefs(const rc_objgraph *g, const uint64_t *addrs, size_t n,
                                     const rc_graph_opts *opts, const char *path);
/* The objects of a chain and the references between them (show_chain with
 * backrefs=True). */
RC_API int rc_objgraph_show_chain(const rc_objgraph *g, const uint64_t *chain, size_t len,
                                  const rc_graph_opts *opts, const char *path);

/* The same on live objects. */
RC_API int    rc_graph_show_refs(void *const *objs, size_t n, const rc_graph_opts *opts, const char *path);
RC_API int    rc_graph_show_backrefs(void *const *objs, size_t n, const rc_graph_opts *opts, const char *path);
RC_API int    rc_graph_show_chain(void *const *chain, size_t len, const rc_graph_opts *opts, const char *path);

#ifdef __cplusplus
}
#endif
#endif /* RECYCLE_TOOLS_H */
