/* The environment through which `recycle trace` (tools/recycle/trace.c)
 * tells librecycle-trace.so (src/trace/preload/) what to do.  The
 * variables are options of src/core/options.c's table, which holds their
 * names and defaults and parses them; both sides name them through these
 * ids only (the name is rc__option(id)->name). */
#ifndef RC_TRACE_ENV_H
#define RC_TRACE_ENV_H

#include "../core/options.h"

/* Snapshot path of the traced program; other processes of the run write
 * PATH.PID. */
#define RC_TRACE_ENV_OUT    RC_OPT_TRACE_OUT
/* Native frames per traceback, 1..128. */
#define RC_TRACE_ENV_FRAMES RC_OPT_TRACE_FRAMES
/* Seconds between periodic snapshots; 0: none. */
#define RC_TRACE_ENV_EVERY  RC_OPT_TRACE_EVERY
/* Pid of the process that started the traced program: the one process
 * whose parent it is (the traced program, also after an exec) writes the
 * snapshot under its plain name.  The launcher builds the environment
 * before it forks, so the child's own pid is not known yet. */
#define RC_TRACE_ENV_PARENT RC_OPT_TRACE_PARENT
/* Allocation wrappers whose frames tracebacks skip, one name per line. */
#define RC_TRACE_ENV_ALLOC_FN RC_OPT_TRACE_ALLOC_FN
/* Read by `recycle trace` only: where librecycle-trace.so is. */
#define RC_TRACE_ENV_LIB    RC_OPT_TRACE_LIB

#endif
