/* What `recycle run` starts and what `recycle attach` finds
 * (sampler_launch.c); the starting itself is src/prim/launch.c. */
#ifndef RC_SAMPLER_LAUNCH_H
#define RC_SAMPLER_LAUNCH_H

#include "recycle-tools.h"

/* Our environment plus RECYCLE_PROFILE_FILE=path: free() it; NULL on OOM. */
char **rc__sampler_env(const char *path);
/* mprof's Python mode (rc_sampler_opts.python). */
bool   rc__launch_python_mode(const rc_sampler_opts *o, char *const argv[]);
/* The argv that runs a Python program under memory_profiler, writing its
 * brackets to out; *shown is the command line mprof records (interpreter,
 * script, args).  Both arrays are malloc'd, their strings borrowed or
 * static.  NULL with *err = RC_ENOMEM, or RC_ENOTSUP when no interpreter
 * can import memory_profiler (said in rc_last_error(NULL)). */
char **rc__launch_python_argv(const rc_sampler_opts *o, char *const argv[], const char *out,
                              char ***shown, int *err);

#endif
