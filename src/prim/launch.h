/* Starting other programs: the one launcher of `recycle run` (through the
 * sampler), `recycle trace` and the sampler's interpreter probe. */
#ifndef RC_PRIM_LAUNCH_H
#define RC_PRIM_LAUNCH_H

#include "prim.h"

#include <stdbool.h>
#include <stddef.h>

/* Our environment with the n "NAME=VALUE" strings of set added, each
 * replacing a variable of the same name.  One allocation: free() it.
 * NULL on OOM. */
RC_PRIVATE char **rc__env_with(const char *const set[], size_t n);
/* Forks and execs argv (searched in PATH) with env (NULL: ours); with
 * quiet its stdout and stderr go to /dev/null.  The child's pid, or -1
 * with *exec_errno saying why it could not start (fork or exec). */
RC_PRIVATE long rc__launch(char *const argv[], char *const env[], bool quiet, int *exec_errno);
/* Waits for pid, through signals; its wait status, or -1. */
RC_PRIVATE int  rc__wait(long pid);

#endif
