/* recycle: the command-line program.  One table of subcommands; each
 * lives in tools/recycle/<name>.c as cmd_<name>(argc, argv), where argv[0]
 * is the subcommand's name. */
#include "commands.h"

#include <recycle.h>
#include <string.h>
#include <sys/wait.h>

typedef struct command {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *summary;
} command;

static const command commands[] = {
    {"run",    cmd_run,    "run a program and record its memory use (mprof run)"},
    {"attach", cmd_attach, "record the memory use of a running process (mprof attach)"},
    {"plot",   cmd_plot,   "draw .dat profiles to PNG/SVG/PDF (mprof plot)"},
    {"peak",   cmd_peak,   "print the exact peak memory of profiles (mprof peak)"},
    {"report", cmd_report, "per-function table: calls, entry, exit, max inside, increment"},
    {"list",   cmd_list,   "list the mprofile_*.dat files here (mprof list)"},
    {"rm",     cmd_rm,     "remove profiles by index or name (mprof rm)"},
    {"clean",  cmd_clean,  "remove every mprofile_*.dat file here (mprof clean)"},
    {"trace",  cmd_trace,  "run a program with its allocations traced (tracemalloc for any program)"},
    {"trace-stats", cmd_trace_stats, "top allocation sites of a trace snapshot (Snapshot.statistics)"},
    {"trace-diff",  cmd_trace_diff,  "differences between two trace snapshots (Snapshot.compare_to)"},
    {"trace-flame", cmd_trace_flame, "a trace snapshot as folded stacks, for flame-graph tools"},
    {"trace-report", cmd_trace_report, "one HTML page of a trace: summary, top sites, peak, charts"},
    {"graph",  cmd_graph,  "objgraph on a heap dump: types, growth, leaking, show_refs, why-alive"},
};

static int usage(FILE *out, int status)
{
    fprintf(out, "usage: recycle <command> [options] [arguments]\n\ncommands:\n");
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        fprintf(out, "  %-12s %s\n", commands[i].name, commands[i].summary);
    fprintf(out, "\n'recycle <command> -h' describes a command.\n"
                 "\nexit status:\n"
                 "  0    success\n"
                 "  1    the command could not do its work: input missing, unreadable or of the\n"
                 "       wrong kind, output not writable\n"
                 "  2    the command line is wrong: unknown option, bad value, missing argument\n"
                 "  127  the program to run or trace could not be started\n"
                 "  N    run -E and trace: the program's own exit status; 128+S when signal S\n"
                 "       killed it\n");
    return status;
}

int cli_exit_status(int wait_status)
{
    if (WIFSIGNALED(wait_status))
        return CLI_EXIT_SIGNAL + WTERMSIG(wait_status);
    return WEXITSTATUS(wait_status);
}

int main(int argc, char **argv)
{
    rc_trace_set_symbolizer(rc_symbolize_dwarf);   /* reports show file:line */
    if (argc < 2)
        return usage(stderr, CLI_EXIT_USAGE);
    if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help"))
        return usage(stdout, 0);
    if (!strcmp(argv[1], "--version")) {
        printf("recycle %d.%d.%d\n", RC_VERSION_MAJOR, RC_VERSION_MINOR, RC_VERSION_PATCH);
        return 0;
    }
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        if (!strcmp(argv[1], commands[i].name))
            return commands[i].run(argc - 1, argv + 1);
    fprintf(stderr, "recycle: unknown command '%s'\n", argv[1]);
    return usage(stderr, CLI_EXIT_USAGE);
}
