/* The subcommands of the `recycle` program: one file each, each a thin
 * layer of argument parsing over library calls. */
#ifndef RECYCLE_TOOL_COMMANDS_H
#define RECYCLE_TOOL_COMMANDS_H

#include <recycle-tools.h>
#include <stdbool.h>
#include <stdio.h>

/* The exit statuses of every command; `recycle --help` prints the same
 * list (main.c), so a script can tell a mistyped command line from a
 * command that could not do its work. */
enum {
    CLI_EXIT_OK = 0,
    CLI_EXIT_FAILURE = 1,   /* input missing, unreadable or of the wrong kind; output not writable */
    CLI_EXIT_USAGE = 2,     /* the command line is wrong: unknown option, bad value, missing argument */
    CLI_EXIT_NOSTART = 127, /* the program to run or trace could not be started */
    CLI_EXIT_SIGNAL = 128,  /* + N: that program was killed by signal N (run -E, trace) */
};
/* The exit status that passes on a wait status: its exit code, or
 * CLI_EXIT_SIGNAL + the signal that killed it. */
int cli_exit_status(int wait_status);

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
int  cli_take_indices(int *argc, char **argv, char **taken);
/* argv[optind..] followed by the taken indices, in a malloc'd array. */
char **cli_positionals(int argc, char **argv, int optind_, char **taken, int ntaken, int *n);
/* Parses seconds > 0; prints an error naming opt and returns -1 if bad. */
double cli_seconds(const char *cmd, const char *opt, const char *value);
/* Resolves profile arguments (paths or indices; none: the newest) to
 * paths; prints what is wrong and returns NULL on failure. */
char **cli_profiles(const char *cmd, int n, char **args, int *count);
void cli_profiles_free(char **paths, int count);
/* The profiles the positional arguments left after getopt name (the newest
 * when none): cli_positionals then cli_profiles.  NULL on error. */
char **cli_profile_args(const char *cmd, int argc, char **argv, char **taken, int ntaken, int *count);
/* Loads a .dat file, saying on stderr why it failed or which lines were
 * skipped; NULL on failure. */
rc_mprof *cli_load_profile(const char *path);
/* Loads each of the paths and hands the profile to fn, then frees the
 * paths; returns CLI_EXIT_FAILURE when any failed to load (said on
 * stderr), else the first non-zero status fn returned. */
int  cli_each_profile(char **paths, int n, int (*fn)(rc_mprof *p, int i, void *ctx), void *ctx);

/* Options shared by run and attach (run.c): -T -C -M -o -E -t ...  Fills
 * s (s->o.output points into s->name when -o is absent) and returns the
 * index of the first argument after them — a program for run, one PID or
 * name for attach — or -1 after printing the problem. */
typedef struct cli_sampling {
    rc_sampler_opts o;
    bool exit_code;                    /* -E */
    char name[RC_MPROF_NAME_LEN];      /* the default output */
} cli_sampling;
int cli_sampling_options(const char *cmd, int argc, char **argv, cli_sampling *s);
/* Removes (or with dry_run lists) paths, as mprof rm/clean (rm.c). */
int cli_remove(char **paths, size_t n, bool dry_run);
/* Prints how the run went; returns the exit status for `recycle run`. */
int cli_run_outcome(const char *cmd, const cli_sampling *s, const rc_sampler_result *r, const char *prog);

#endif
