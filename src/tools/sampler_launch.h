/* Starting the program `recycle run` samples (sampler_launch.c). */
#ifndef RC_SAMPLER_LAUNCH_H
#define RC_SAMPLER_LAUNCH_H

#include "recycle-tools.h"

/* Our environment plus RECYCLE_PROFILE_FILE=path; NULL on OOM. */
char **rc__launch_env(const char *path);
void   rc__launch_env_free(char **env);
/* Forks and execs argv (PATH search) with env; the child's pid, or -1
 * with *exec_errno saying why it could not start. */
long   rc__launch(char *const argv[], char **env, int *exec_errno);
/* mprof's Python mode (rc_sampler_opts.python). */
bool   rc__launch_python_mode(const rc_sampler_opts *o, char *const argv[]);
char **rc__launch_python_argv(const rc_sampler_opts *o, char *const argv[], const char *out,
                              char ***shown);

#endif
