/* Helpers for the profiler's tests (test_mprof, test_sampler, test_profile,
 * test_plot): scratch directories, example programs, shell commands. */
#ifndef RC_PROF_SUPPORT_H
#define RC_PROF_SUPPORT_H

#include <stdbool.h>
#include <stddef.h>

/* A fresh directory under $TMPDIR (or /tmp); the path is malloc'd. */
const char *prof_tmpdir(void);
/* dir/name in a static rotating buffer (8 slots). */
const char *prof_path(const char *dir, const char *name);
/* The build's examples/<name> and the recycle program. */
const char *prof_example(const char *name);
const char *prof_recycle(void);
/* Runs a shell command, captures stdout+stderr (malloc'd, may be NULL) and
 * returns its exit status (-1 if it could not run). */
int prof_sh(char **output, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* True when Debian's /usr/bin/python3-mprof can run. */
bool prof_have_mprof(void);
/* The whole file as a string (malloc'd), NULL if unreadable. */
char *prof_slurp(const char *path);

#endif
