/* rc_snapshot internals shared by trace.c (taking), trace_snapshot.c
 * (building, loading, dumping, filtering), trace_symbol.c and
 * trace_stats.c.  Strings and frames are interned, so two frames with the
 * same content have the same number once symbolized strings are merged. */
#ifndef RC_TRACE_SNAP_H
#define RC_TRACE_SNAP_H

#include "recycle.h"
#include "trace_int.h"

struct rc_snapshot {
    rc__snapdata d;                        /* arrays owned (malloc) */
    size_t strs_cap, frames_cap, tbframes_cap, tbs_cap, traces_cap, mods_cap, allocfns_cap, sites_cap;
    uint32_t *str_index;  size_t str_mask;     /* string offset + 1 */
    uint32_t *frame_index; size_t frame_mask;  /* frame number + 1 */
    bool symbolized;
    /* Why some frames were left unnamed (a module rebuilt since the trace),
     * or empty. */
    char symbol_warning[512];
};

/* Grows the malloc'd array *arrp to hold need elements; false on OOM
 * (the array is untouched). */
bool rc__grow(void *arrp, size_t *cap, size_t need, size_t elem);

rc_snapshot *rc__snap_new(uint32_t traceback_limit);
/* Interned string offset; RC__NOSTR on OOM (or for NULL). */
uint32_t rc__snap_str(rc_snapshot *s, const char *str);
/* Interned frame number; UINT32_MAX on OOM. */
uint32_t rc__snap_frame(rc_snapshot *s, const rc__sframe *f);
/* A new traceback of n frame numbers; UINT32_MAX on OOM. */
uint32_t rc__snap_tb(rc_snapshot *s, const uint32_t *frames, size_t n);
int      rc__snap_trace(rc_snapshot *s, uint64_t size, uint32_t tb, uint32_t domain);
int      rc__snap_site(rc_snapshot *s, const rc__ssite *site);
/* Fills in file:line:function of native frames (trace_symbol.c). */
int      rc__snap_symbolize(rc_snapshot *s);
/* The string at offset off, with "<unknown>" for RC__NOSTR. */
const char *rc__snap_strat(const rc_snapshot *s, uint32_t off);
/* The file name a frame shows: its source file, else its module, else
 * "<unknown>". */
const char *rc__snap_filename(const rc_snapshot *s, const rc__sframe *f);

#endif
