/* The environment through which `recycle trace` (tools/recycle/trace.c)
 * tells librecycle-trace.so (src/trace/preload/) what to do: both sides
 * spell the variables through these names only. */
#ifndef RC_TRACE_ENV_H
#define RC_TRACE_ENV_H

/* Snapshot path of the traced program; other processes of the run write
 * PATH.PID.  Default RC_TRACE_DEFAULT_OUT in the current directory. */
#define RC_TRACE_ENV_OUT    "RECYCLE_TRACE_OUT"
/* Native frames per traceback, 1..128 (default 1). */
#define RC_TRACE_ENV_FRAMES "RECYCLE_TRACE_FRAMES"
/* Seconds between periodic snapshots; 0 or absent: none. */
#define RC_TRACE_ENV_EVERY  "RECYCLE_TRACE_EVERY"
/* Pid of the process that started the traced program: the one process
 * whose parent it is (the traced program, also after an exec) writes the
 * snapshot under its plain name. */
#define RC_TRACE_ENV_PARENT "RECYCLE_TRACE_PARENT"
/* Read by `recycle trace` only: where librecycle-trace.so is. */
#define RC_TRACE_ENV_LIB    "RECYCLE_TRACE_LIB"

#define RC_TRACE_DEFAULT_OUT "recycle-trace.snap"

#endif
