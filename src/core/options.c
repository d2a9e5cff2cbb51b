/* The RECYCLE_* environment variables: the table and its one parser
 * (options.h).  The heap's share is applied by rc_config_default. */
#include "options.h"
#include "recycle.h"
#include "../prim/prim.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define STR_(x) #x
#define STR(x)  STR_(x)

static const rc_option table[RC_OPT_COUNT] = {
    [RC_OPT_GC_THRESHOLD] = {"RECYCLE_GC_THRESHOLD", RC_OPTK_COUNTS, "700,10,10", 0,
                             "collection thresholds of generations 0, 1 and 2 (gc.set_threshold)"},
    [RC_OPT_GC] = {"RECYCLE_GC", RC_OPTK_BOOL, "1", 0, "0: heaps start with the collector disabled"},
    [RC_OPT_GC_DEBUG] = {"RECYCLE_GC_DEBUG", RC_OPTK_GC_DEBUG, "0", 0,
                         "gc.set_debug flags: a number or stats,collectable,uncollectable,saveall,leak"},
    [RC_OPT_GC_WORKERS] = {"RECYCLE_GC_WORKERS", RC_OPTK_UINT, "0", RC_GC_WORKERS_MAX,
                           "threads a full collection marks with (0: one per core, at most 8)"},
    [RC_OPT_GC_PARALLEL_MIN] = {"RECYCLE_GC_PARALLEL_MIN", RC_OPTK_UINT, "4194304", SIZE_MAX,
                                "bytes of pools below which a full collection keeps to one thread"},
    [RC_OPT_ARENA_SPARE] = {"RECYCLE_ARENA_SPARE", RC_OPTK_UINT, "1", SIZE_MAX,
                            "wholly free arenas a heap keeps mapped"},
    [RC_OPT_ARENA_HUGE] = {"RECYCLE_ARENA_HUGE", RC_OPTK_BOOL, "0", 0,
                           "1: a big heap's arenas on transparent huge pages"},
    [RC_OPT_MAX_BYTES] = {"RECYCLE_MAX_BYTES", RC_OPTK_UINT, "0", SIZE_MAX,
                          "cap on the bytes a heap hands out (0: none)"},
    [RC_OPT_FAIL_ALLOC_AT] = {"RECYCLE_FAIL_ALLOC_AT", RC_OPTK_UINT, "0", UINT64_MAX,
                              "the Nth allocation of a heap fails (0: none)"},
    [RC_OPT_FAIL_ALLOC_AFTER] = {"RECYCLE_FAIL_ALLOC_AFTER", RC_OPTK_BOOL, "0", 0,
                                 "1: and every allocation after it"},
    [RC_OPT_LEAK_REPORT] = {"RECYCLE_LEAK_REPORT", RC_OPTK_BOOL, "0", 0,
                            "1: rc_heap_free reports the objects still alive"},
    [RC_OPT_FAST_FREE] = {"RECYCLE_FAST_FREE", RC_OPTK_BOOL, "0", 0,
                          "1: rc_heap_free skips the final collection, finalizers and callbacks"},
    [RC_OPT_THREADS] = {"RECYCLE_THREADS", RC_OPTK_BOOL, "0", 0,
                        "1: heaps are threaded: several attached threads may use one at once"},
    [RC_OPT_PROFILE_FILE] = {"RECYCLE_PROFILE_FILE", RC_OPTK_TEXT, "", 0,
                             "the .dat file function brackets append to (set by recycle run)"},
    [RC_OPT_PROFILE_DEPTH] = {"RECYCLE_PROFILE_DEPTH", RC_OPTK_UINT, STR(RC_PROFILE_DEFAULT_DEPTH),
                              RC_PROFILE_MAX_DEPTH,
                              "nesting depth to which instrumented functions are recorded"},
    [RC_OPT_PYTHON] = {"RECYCLE_PYTHON", RC_OPTK_TEXT, "", 0,
                       "the interpreter recycle run uses for Python programs (default: python3-mprof's, else python3)"},
    [RC_OPT_TRACE_LIB] = {"RECYCLE_TRACE_LIB", RC_OPTK_TEXT, "", 0,
                          "the preload library recycle trace uses (default: beside it, else installed)"},
    [RC_OPT_TRACE_OUT] = {"RECYCLE_TRACE_OUT", RC_OPTK_TEXT, "recycle-trace.snap", 0,
                          "the preload tracer's snapshot file (set by recycle trace)"},
    [RC_OPT_TRACE_FRAMES] = {"RECYCLE_TRACE_FRAMES", RC_OPTK_UINT, "1", INT32_MAX,
                             "frames per traceback of the preload tracer (set by recycle trace)"},
    [RC_OPT_TRACE_EVERY] = {"RECYCLE_TRACE_EVERY", RC_OPTK_SECONDS, "0", 0,
                            "seconds between the preload tracer's snapshots (0: at exit only)"},
    [RC_OPT_TRACE_PARENT] = {"RECYCLE_TRACE_PARENT", RC_OPTK_UINT, "0", INT32_MAX,
                             "pid of the traced program's parent; other processes write OUT.PID (set by recycle trace)"},
    [RC_OPT_TRACE_ALLOC_FN] = {"RECYCLE_TRACE_ALLOC_FN", RC_OPTK_TEXT, "", 0,
                               "allocation wrappers to skip, one per line (set by recycle trace --alloc-fn)"},
};

/* One parsed value; the kind says which member. */
typedef union value {
    bool        b;
    uint64_t    u;
    double      secs;
    const char *text;
    size_t      counts[3];
    unsigned    flags;
} value;

static bool parse_uint(const char *s, uint64_t max, uint64_t *out)
{
    if (*s < '0' || *s > '9')
        return false;
    errno = 0;
    char *end;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || *end || v > max)
        return false;
    *out = v;
    return true;
}

static bool parse_seconds(const char *s, double *out)
{
    errno = 0;
    char *end;
    double v = strtod(s, &end);
    if (errno || *end || end == s || !(v >= 0))
        return false;
    *out = v;
    return true;
}

/* Calls fn on each comma-separated field of s; false when s is too long
 * or fn refuses a field. */
static bool each_field(const char *s, bool (*fn)(const char *field, value *v, int i), value *v,
                       int *n)
{
    char buf[128];
    if (strlen(s) >= sizeof buf)
        return false;
    strcpy(buf, s);
    *n = 0;
    for (char *save = NULL, *tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save))
        if (!fn(tok, v, (*n)++))
            return false;
    return true;
}

static bool count_field(const char *field, value *v, int i)
{
    uint64_t x;
    if (i >= 3 || !parse_uint(field, SIZE_MAX, &x))
        return false;
    v->counts[i] = (size_t)x;
    return true;
}

static bool debug_field(const char *field, value *v, int i)
{
    (void)i;
    static const struct { const char *name; unsigned flag; } names[] = {
        {"stats", RC_GC_DEBUG_STATS}, {"collectable", RC_GC_DEBUG_COLLECTABLE},
        {"uncollectable", RC_GC_DEBUG_UNCOLLECTABLE}, {"saveall", RC_GC_DEBUG_SAVEALL},
        {"leak", RC_GC_DEBUG_LEAK},
    };
    for (size_t k = 0; k < sizeof names / sizeof names[0]; k++)
        if (!strcmp(field, names[k].name)) {
            v->flags |= names[k].flag;
            return true;
        }
    return false;
}

static bool parse_gc_debug(const char *s, value *v)
{
    uint64_t x;
    int n;
    if (parse_uint(s, 0xFFFF, &x)) {
        v->flags = (unsigned)x;
        return true;
    }
    v->flags = 0;
    return each_field(s, debug_field, v, &n);
}

static bool parse(const rc_option *o, const char *s, value *v)
{
    int n;
    switch (o->kind) {
    case RC_OPTK_BOOL:
        v->b = s[0] == '1';
        return (s[0] == '0' || s[0] == '1') && !s[1];
    case RC_OPTK_UINT:
        return parse_uint(s, o->max, &v->u);
    case RC_OPTK_SECONDS:
        return parse_seconds(s, &v->secs);
    case RC_OPTK_TEXT:
        v->text = s;
        return true;
    case RC_OPTK_COUNTS:
        return each_field(s, count_field, v, &n) && n == 3;
    case RC_OPTK_GC_DEBUG:
        return parse_gc_debug(s, v);
    }
    return false;
}

const rc_option *rc__option(rc_option_id id)
{
    return &table[id];
}

/* The variable's value, else its default (every default parses: the
 * table is tested). */
static value value_of(rc_option_id id)
{
    const rc_option *o = &table[id];
    const char *s = rc__os_getenv(o->name);
    value v;
    if (s && *s && parse(o, s, &v))
        return v;
    if (s && *s)
        fprintf(stderr, "recycle: ignoring malformed %s=\"%s\"; using %s=\"%s\"\n", o->name, s,
                o->name, o->def);
    parse(o, o->def, &v);
    return v;
}

bool rc__option_bool(rc_option_id id) { return value_of(id).b; }

uint64_t rc__option_uint(rc_option_id id) { return value_of(id).u; }

double rc__option_seconds(rc_option_id id) { return value_of(id).secs; }

const char *rc__option_text(rc_option_id id) { return value_of(id).text; }

unsigned rc__option_gc_debug(rc_option_id id) { return value_of(id).flags; }

void rc__option_counts(rc_option_id id, size_t out[3])
{
    value v = value_of(id);
    memcpy(out, v.counts, sizeof v.counts);
}
