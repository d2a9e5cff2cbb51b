/* /proc access for the memory profiler (sampler.c, profile.c). */
#ifndef RC_PRIM_PROC_MEM_H
#define RC_PRIM_PROC_MEM_H

#include <stddef.h>
#include <stdint.h>

/* Open files of one process, kept so a sample costs two syscalls. */
typedef struct rc__procmem {
    long pid;
    int  status_fd;   /* /proc/PID/status: VmRSS, VmHWM */
    int  clear_fd;    /* /proc/PID/clear_refs, -1 when not writable */
} rc__procmem;

int  rc__procmem_open(rc__procmem *pm, long pid);   /* 0 or RC_ENOENT */
void rc__procmem_close(rc__procmem *pm);
/* Resident size now and its high-water mark since the last reset, in bytes.
 * RC_ENOENT once the process has exited (a zombie has no memory). */
int  rc__procmem_read(rc__procmem *pm, uint64_t *rss, uint64_t *hwm);
/* Resets the high-water mark to the current resident size ("5" to
 * clear_refs, Linux >= 4.0).  RC_ENOTSUP when not permitted. */
int  rc__procmem_reset_peak(rc__procmem *pm);

/* Resident size of the calling process in bytes (statm); 0 on failure. */
uint64_t rc__proc_self_rss(void);
/* Parent pid of pid, -1 when it is gone. */
long rc__proc_ppid(long pid);
/* The pids in /proc, sorted; *pids is malloc'd.  0 or RC_ENOMEM/RC_EIO. */
int  rc__proc_pids(long **pids, size_t *n);
/* Minor faults of the children pid has waited for (cminflt of
 * /proc/PID/stat, readable until a zombie is reaped): 0 means it never
 * reaped a child that ran.  -1 when unreadable. */
long rc__proc_waited_children_faults(long pid);
/* /proc/PID/cmdline with NULs turned to spaces; 0 or RC_ENOENT. */
int  rc__proc_cmdline(long pid, char *buf, size_t size);
/* Wall-clock time in epoch seconds, as mprof's time.time(). */
double rc__proc_epoch(void);

#endif
