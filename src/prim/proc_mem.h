/* Other processes, for the memory profiler (sampler.c, profile.c): their
 * memory from /proc (proc_mem.c), and waiting for their end (proc_wait.c). */
#ifndef RC_PRIM_PROC_MEM_H
#define RC_PRIM_PROC_MEM_H

#include "prim.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Open files of one process, kept so a sample costs two syscalls. */
typedef struct rc__procmem {
    long pid;
    int  status_fd;   /* /proc/PID/status: VmRSS, VmHWM */
    int  clear_fd;    /* /proc/PID/clear_refs, -1 when not writable */
} rc__procmem;

RC_PRIVATE int  rc__procmem_open(rc__procmem *pm, long pid);   /* 0 or RC_ENOENT */
RC_PRIVATE void rc__procmem_close(rc__procmem *pm);
/* Resident size now and its high-water mark since the last reset, in bytes.
 * RC_ENOENT once the process has exited (a zombie has no memory). */
RC_PRIVATE int  rc__procmem_read(rc__procmem *pm, uint64_t *rss, uint64_t *hwm);
/* Resets the high-water mark to the current resident size ("5" to
 * clear_refs, Linux >= 4.0).  RC_ENOTSUP when not permitted. */
RC_PRIVATE int  rc__procmem_reset_peak(rc__procmem *pm);

/* pid is a process this one may see (kill(pid, 0)). */
RC_PRIVATE bool rc__proc_exists(long pid);
/* This process's pid. */
RC_PRIVATE long rc__proc_self(void);
/* Parent pid of pid, -1 when it is gone. */
RC_PRIVATE long rc__proc_ppid(long pid);
/* The pids in /proc, sorted; *pids is malloc'd.  0 or RC_ENOMEM/RC_EIO. */
RC_PRIVATE int  rc__proc_pids(long **pids, size_t *n);
/* Minor faults of the children pid has waited for (cminflt of
 * /proc/PID/stat, readable until a zombie is reaped): 0 means it never
 * reaped a child that ran.  -1 when unreadable. */
RC_PRIVATE long rc__proc_waited_children_faults(long pid);
/* /proc/PID/cmdline with NULs turned to spaces; 0 or RC_ENOENT. */
RC_PRIVATE int  rc__proc_cmdline(long pid, char *buf, size_t size);
/* Wall-clock time in epoch seconds, as mprof's time.time(). */
RC_PRIVATE double rc__proc_epoch(void);

/* The monotonic clock in seconds, for the sampler's schedule. */
RC_PRIVATE double rc__proc_mono_now(void);
/* A handle that becomes ready when pid ends (a pidfd), or -1 where the
 * kernel has none: waits then poll the pid instead. */
RC_PRIVATE int  rc__proc_watch(long pid);
RC_PRIVATE void rc__proc_unwatch(int watch);
/* Sleeps until the monotonic time `until` (seconds); true when pid ended
 * first.  coarse: sleep through, without watching (short intervals, where
 * the next tick soon sees the end). */
RC_PRIVATE bool rc__proc_sleep_until(long pid, int watch, double until, bool coarse);

/* How a reaped child ended. */
typedef struct rc__proc_exit {
    int      status;         /* as wait(2) reports it */
    int      signal;         /* the signal that killed it, else 0 */
    int      code;           /* its exit code when it exited */
    uint64_t maxrss_bytes;   /* its peak resident size (and its reaped children's) */
} rc__proc_exit;
/* Reaps the child pid, waiting for it when block; false when it has not
 * ended (or is not our child). */
RC_PRIVATE bool rc__proc_reap(long pid, bool block, rc__proc_exit *e);

#endif
