/* The subcommands of the `recycle` program: one file each, each a thin
 * layer of argument parsing over library calls. */
#ifndef RECYCLE_TOOL_COMMANDS_H
#define RECYCLE_TOOL_COMMANDS_H

#include <recycle-tools.h>
#include <stdbool.h>
#include <stdio.h>

/* Exit statuses shared by the subcommands. */
#define RC_EXIT_USAGE 2        /* bad arguments, missing or unreadable input */
#define RC_EXIT_NOSTART 127    /* the program to run could not be started */

int cmd_run(int argc, char **argv);
int cmd_attach(int argc, char **argv);
int cmd_plot(int argc, char **argv);
int cmd_peak(int argc, char **argv);
int cmd_list(int argc, char **argv);
int cmd_rm(int argc, char **argv);
int cmd_clean(int argc, char **argv);
int cmd_report(int argc, char **argv);
int cmd_trace(int argc, char **argv);
int cmd_trace_stats(int argc, char **argv);
int cmd_trace_diff(int argc, char **argv);
int cmd_trace_flame(int argc, char **argv);
int cmd_trace_report(int argc, char **argv);

int cmd_graph(int argc, char **argv);

/* Helpers for the profile commands (profile_args.c). */
/* mprof lets "-1" mean the newest profile: takes such arguments out of
 * argv (into taken, which has room for argc) before getopt sees them. */
int  rc_tool_take_indices(int *argc, char **argv, char **taken);
/* argv[optind..] followed by the taken indices, in a malloc'd array. */
char **rc_tool_positionals(int argc, char **argv, int optind_, char **taken, int ntaken, int *n);
/* Parses seconds > 0; prints an error naming opt and returns -1 if bad. */
double rc_tool_seconds(const char *cmd, const char *opt, const char *value);
/* Resolves profile arguments (paths or indices; none: the newest) to
 * paths; prints what is wrong and returns NULL on failure. */
char **rc_tool_profiles(const char *cmd, int n, char **args, int *count);
void rc_tool_profiles_free(char **paths, int count);
/* The profiles the positional arguments left after getopt name (the newest
 * when none): rc_tool_positionals then rc_tool_profiles.  NULL on error. */
char **rc_tool_profile_args(const char *cmd, int argc, char **argv, char **taken, int ntaken, int *count);
/* Loads a .dat file, saying on stderr why it failed or which lines were
 * skipped; NULL on failure. */
rc_mprof *rc_tool_load_profile(const char *path);
/* Loads each of the paths and hands the profile to fn, then frees the
 * paths; returns RC_EXIT_USAGE when any failed to load (said on stderr). */
int  rc_tool_each_profile(char **paths, int n, void (*fn)(rc_mprof *p, int i, void *ctx), void *ctx);

/* Options shared by run and attach (run.c): -T -C -M -o -E -t.  Fills o
 * (o->output points into name when -o is absent) and returns the index of
 * the first argument after them, or -1 after printing the problem. */
int rc_tool_sampling_options(const char *cmd, int argc, char **argv, rc_sampler_opts *o,
                             bool *exit_code, char name[RC_MPROF_NAME_LEN]);
/* Removes (or with dry_run lists) paths, as mprof rm/clean (rm.c). */
int rc_tool_remove(char **paths, size_t n, bool dry_run);
/* Prints how the run went; returns the exit status for `recycle run`. */
int rc_tool_run_outcome(const char *cmd, const rc_sampler_opts *o, const rc_sampler_result *r,
                        bool exit_code, const char *prog);

#endif
