/* The tracer's snapshot loader (src/trace/trace_file.c, src/trace/trace_snapshot.c):
 * any bytes load or are refused with RC_EFORMAT and a message, never a
 * crash; a snapshot that loads answers statistics by every key and
 * compare_to, filters, and dumps to a file that loads back the same. */
#include <recycle.h>

#include <stdlib.h>
#include <string.h>

#include "fuzz_file.h"

static fuzz_file in, out;
static FILE *devnull;

static void statistics(rc_snapshot *s)
{
    static const rc_trace_key keys[] = {RC_TRACE_BY_FILENAME, RC_TRACE_BY_LINENO, RC_TRACE_BY_TRACEBACK};
    for (size_t k = 0; k < 3; k++)
        for (int cumulative = 0; cumulative < 2; cumulative++) {
            rc_trace_stats *st = rc_snapshot_statistics(s, keys[k], cumulative);
            if (st) {
                char line[512];
                for (size_t i = 0; i < st->len; i++)
                    rc_trace_stat_format(st, i, line, sizeof line);
                rc_trace_stats_print(st, 10, devnull);
                rc_trace_stats_free(st);
            }
            rc_trace_stats *d = rc_snapshot_compare_to(s, s, keys[k], cumulative);
            for (size_t i = 0; d && i < d->len; i++)
                FUZZ_CHECK(d->items[i].size_diff == 0 && d->items[i].count_diff == 0,
                           "a snapshot differs from itself");
            rc_trace_stats_free(d);
        }
}

/* The peak and the run's record per site, in every order. */
static void views(rc_snapshot *s)
{
    static const rc_trace_view views[] = {RC_TRACE_VIEW_PEAK, RC_TRACE_VIEW_SITES};
    for (size_t v = 0; v < 2; v++) {
        rc_trace_stats *st = rc_snapshot_statistics_view(s, views[v], RC_TRACE_BY_LINENO, false);
        for (int order = RC_TRACE_ORDER_CALLS; st && order <= RC_TRACE_ORDER_LEAKED; order++) {
            char line[512];
            rc_trace_stats_sort(st, (rc_trace_order)order);
            for (size_t i = 0; i < st->len; i++)
                rc_trace_site_format(st, i, line, sizeof line);
        }
        rc_trace_stats_free(st);
    }
}

static void filters(rc_snapshot *s)
{
    rc_trace_filter f[2] = {{.inclusive = true, .filename_pattern = "*.c"},
                            {.inclusive = false, .filename_pattern = "*x*", .all_frames = true}};
    rc_snapshot *t = rc_snapshot_filter_traces(s, f, 2);
    if (t)
        FUZZ_CHECK(rc_snapshot_count(t) <= rc_snapshot_count(s), "filtering added traces");
    rc_snapshot_free(t);
}

static void round_trip(rc_snapshot *s)
{
    const char *path = fuzz_file_path(&out, "snap-out");
    if (rc_snapshot_dump(s, path) != 0)
        return;                          /* RC_ENOMEM / RC_EIO are allowed */
    rc_snapshot *t = NULL;
    int rc = rc_snapshot_load(path, &t);
    FUZZ_CHECK(rc == 0, "a dumped snapshot does not load: %s", rc_last_error(NULL));
    FUZZ_CHECK(rc_snapshot_count(t) == rc_snapshot_count(s) && rc_snapshot_size(t) == rc_snapshot_size(s),
               "round trip changed the traces");
    rc_snapshot_free(t);
}

static int load(const uint8_t *data, size_t size)
{
    rc_clear_error(NULL);
    rc_snapshot *s = NULL;
    int rc = rc_snapshot_load(fuzz_file_with(&in, "snap-in", data, size), &s);
    if (rc != 0) {
        FUZZ_CHECK(s == NULL && rc_last_error_code(NULL) == rc && (rc == RC_EFORMAT || rc == RC_ENOMEM || rc == RC_EIO),
                   "refused with %d and message '%s'", rc, rc_last_error(NULL));
        return rc;
    }
    size_t cur, peak;
    rc_snapshot_traced_memory(s, &cur, &peak);
    (void)rc_snapshot_traceback_limit(s);
    statistics(s);
    views(s);
    filters(s);
    round_trip(s);
    rc_snapshot_free(s);
    return 0;
}

/* The header's total size (bytes 16..24), the end marker "END!" + 0 in
 * the last 16 bytes' first half, and the FNV-1a of everything before the
 * marker in the last 8 bytes (docs/file-formats.md, tracer snapshot). */
static void fix_up(uint8_t *b, size_t n)
{
    fuzz_put64(b + 16, n);
    memcpy(b + n - 16, "END!\0\0\0\0", 8);
    fuzz_put64(b + n - 8, fuzz_fnv1a(b, n - 16));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!devnull)
        devnull = fopen("/dev/null", "w");
    FUZZ_LOAD_AS_IS_AND_FIXED(data, size, "RCSNAPSH", load, fix_up);
    return 0;
}
