/* Every RECYCLE_* environment variable of librecycle, its preload library
 * and the recycle program: one table (options.c) with each variable's
 * default and meaning, parsed here and nowhere else.  The README's
 * environment table is checked against it (tests/test_options.c).
 *
 * A variable that is unset or empty means its default.  A malformed value
 * is reported once per read on stderr, naming the variable, and the
 * default is used: a typo never stops a program. */
#ifndef RC_OPTIONS_H
#define RC_OPTIONS_H

#include "../prim/prim.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Brackets nested deeper than this are counted, not recorded: the largest
 * RECYCLE_PROFILE_DEPTH (profile.c). */
#define RC_PROFILE_MAX_DEPTH 128

typedef enum rc_option_id {
    RC_OPT_GC_THRESHOLD,
    RC_OPT_GC,
    RC_OPT_GC_DEBUG,
    RC_OPT_GC_WORKERS,
    RC_OPT_GC_PARALLEL_MIN,
    RC_OPT_ARENA_SPARE,
    RC_OPT_ARENA_HUGE,
    RC_OPT_MAX_BYTES,
    RC_OPT_FAIL_ALLOC_AT,
    RC_OPT_FAIL_ALLOC_AFTER,
    RC_OPT_LEAK_REPORT,
    RC_OPT_FAST_FREE,
    RC_OPT_THREADS,
    RC_OPT_PROFILE_FILE,
    RC_OPT_PROFILE_DEPTH,
    RC_OPT_PYTHON,
    RC_OPT_TRACE_LIB,
    RC_OPT_TRACE_OUT,
    RC_OPT_TRACE_FRAMES,
    RC_OPT_TRACE_EVERY,
    RC_OPT_TRACE_PARENT,
    RC_OPT_TRACE_ALLOC_FN,
    RC_OPT_COUNT
} rc_option_id;

typedef enum rc_option_kind {
    RC_OPTK_BOOL,      /* 0 or 1 */
    RC_OPTK_UINT,      /* a decimal count up to max */
    RC_OPTK_SECONDS,   /* a non-negative decimal number */
    RC_OPTK_TEXT,      /* taken as it is */
    RC_OPTK_COUNTS,    /* three counts: "700,10,10" */
    RC_OPTK_GC_DEBUG,  /* RC_GC_DEBUG_* flags: a number, or names "stats,saveall" */
} rc_option_kind;

typedef struct rc_option {
    const char    *name;
    rc_option_kind kind;
    const char    *def;       /* written as the variable would be */
    uint64_t       max;       /* RC_OPTK_UINT: the largest value accepted */
    const char    *meaning;   /* one line, as the README's table has it */
} rc_option;

RC_PRIVATE const rc_option *rc__option(rc_option_id id);

/* The value of a variable of each kind (its default when unset, empty or
 * malformed). */
bool        rc__option_bool(rc_option_id id);
uint64_t    rc__option_uint(rc_option_id id);
double      rc__option_seconds(rc_option_id id);
RC_PRIVATE const char *rc__option_text(rc_option_id id);
void        rc__option_counts(rc_option_id id, size_t out[3]);
unsigned    rc__option_gc_debug(rc_option_id id);

#endif /* RC_OPTIONS_H */
