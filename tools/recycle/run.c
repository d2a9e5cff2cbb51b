/* recycle run [-T S] [-C] [-M] [-o FILE] [-E] [-t S] PROGRAM [ARGS...]
 * mprof run's flags and defaults: 0.1 s, mprofile_YYYYmmddHHMMSS.dat. */
#include "commands.h"

#include <getopt.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

static const char run_usage[] =
    "usage: recycle %s [options] %s\n"
    "  -T, --interval S        seconds between samples (default 0.1, down to 0.001)\n"
    "  -C, --include-children  add the memory of all descendants to MEM\n"
    "  -M, --multiprocess      also record each descendant as its own CHLD series\n"
    "  -o, --output FILE       the .dat file (default mprofile_<YYYYmmddHHMMSS>.dat)\n"
    "  -E, --exit-code         exit with the program's exit status\n"
    "  -t, --timeout S         stop sampling after S seconds%s\n"
    "  --python, --nopython    a .py program runs under memory_profiler for its\n"
    "                          @profile brackets (default for *.py; $RECYCLE_PYTHON)\n";

int rc_tool_sampling_options(const char *cmd, int argc, char **argv, rc_sampler_opts *o,
                             bool *exit_code, char name[RC_MPROF_NAME_LEN])
{
    static const struct option longopts[] = {
        {"interval", required_argument, 0, 'T'}, {"include-children", no_argument, 0, 'C'},
        {"multiprocess", no_argument, 0, 'M'},   {"output", required_argument, 0, 'o'},
        {"exit-code", no_argument, 0, 'E'},      {"timeout", required_argument, 0, 't'},
        {"help", no_argument, 0, 'h'},           {"python", no_argument, 0, 'p'},
        {"nopython", no_argument, 0, 'P'},       {0, 0, 0, 0}};
    bool attach = !strcmp(cmd, "attach");
    *o = (rc_sampler_opts){.interval = 0.1};
    *exit_code = false;
    rc_mprof_default_name(name);
    o->output = name;
    optind = 1;
    for (int c; (c = getopt_long(argc, argv, "+T:CMo:Et:h", longopts, NULL)) != -1;) {
        switch (c) {
        case 'T': if ((o->interval = rc_tool_seconds(cmd, "-T", optarg)) < 0) return -1; break;
        case 't': if ((o->timeout = rc_tool_seconds(cmd, "-t", optarg)) < 0) return -1; break;
        case 'C': o->include_children = true; break;
        case 'M': o->multiprocess = true; break;
        case 'o': o->output = optarg; break;
        case 'E': *exit_code = true; break;
        case 'p': o->python = 1; break;
        case 'P': o->python = -1; break;
        case 'h':
            printf(run_usage, cmd, attach ? "PID|NAME" : "PROGRAM [ARGS...]",
                   attach ? " (default 3600)" : "");
            exit(0);
        default:
            fprintf(stderr, run_usage, cmd, attach ? "PID|NAME" : "PROGRAM [ARGS...]",
                    attach ? " (default 3600)" : "");
            return -1;
        }
    }
    return optind;
}

static void describe_status(const char *prog, int status)
{
    if (WIFSIGNALED(status))
        fprintf(stderr, "recycle run: %s was killed by signal %d (%s)%s\n", prog, WTERMSIG(status),
                strsignal(WTERMSIG(status)), WCOREDUMP(status) ? ", core dumped" : "");
    else if (WEXITSTATUS(status))
        fprintf(stderr, "recycle run: %s exited with status %d\n", prog, WEXITSTATUS(status));
}

int rc_tool_run_outcome(const char *cmd, const rc_sampler_opts *o, const rc_sampler_result *r,
                        bool exit_code, const char *prog)
{
    if (r->exited && strcmp(cmd, "attach"))
        describe_status(prog, r->status);
    else if (!r->exited)
        fprintf(stderr, "recycle %s: timeout: stopped sampling, %s is still running\n", cmd, prog);
    if (r->peaks_unreset)
        fprintf(stderr, "recycle %s: pid %ld: cannot reset its VmHWM (clear_refs): peaks between samples "
                "are recorded only when they set a new maximum\n", cmd, r->pid);
    fprintf(stderr, "recycle %s: %zu samples, peak %.3f MiB, written to %s\n", cmd, r->samples,
            r->peak_mib, o->output);
    if (!exit_code || !r->exited)
        return 0;
    return WIFSIGNALED(r->status) ? 128 + WTERMSIG(r->status) : WEXITSTATUS(r->status);
}

/* recycle keeps sampling when Ctrl-C reaches the whole process group: the
 * program decides whether to die, and the file gets its last samples.  A
 * handler (not SIG_IGN) so the program itself starts with the default. */
static void keep_sampling(int sig)
{
    (void)sig;
}

int cmd_run(int argc, char **argv)
{
    rc_sampler_opts o;
    bool exit_code;
    char name[RC_MPROF_NAME_LEN];
    int first = rc_tool_sampling_options("run", argc, argv, &o, &exit_code, name);
    if (first < 0)
        return RC_EXIT_USAGE;
    if (first >= argc) {
        fprintf(stderr, "recycle run: a program to run must be given (recycle run -h)\n");
        return RC_EXIT_USAGE;
    }
    fprintf(stderr, "recycle run: sampling memory every %gs into %s\n", o.interval, o.output);
    struct sigaction sa = {.sa_handler = keep_sampling};
    sigaction(SIGINT, &sa, NULL);
    rc_sampler_result r;
    int err = rc_sampler_run(&o, argv + first, &r);
    if (err == RC_ENOENT && !r.started) {
        fprintf(stderr, "recycle run: cannot start '%s': %s\n", argv[first], strerror(r.exec_errno));
        return RC_EXIT_NOSTART;
    }
    if (err) {
        fprintf(stderr, "recycle run: %s: %s\n", o.output,
                err == RC_EIO ? "cannot write the profile" : "out of memory");
        return RC_EXIT_USAGE;
    }
    return rc_tool_run_outcome("run", &o, &r, exit_code, argv[first]);
}
